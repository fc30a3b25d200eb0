// SPDX-License-Identifier: MIT
/* Netfilter rules through iptables-restore inside a namespace: iptables.h. */
#include "iptables.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"
#include "spawn.h"

static int variant = -1; /* 0 nft, 1 legacy */

static bool have(const char *path)
{
	return access(path, X_OK) == 0;
}

/* The variant the host's own `iptables` is (Debian's alternatives link
 * to xtables-nft-multi or xtables-legacy-multi): -1 when it cannot tell. */
static int host_variant(void)
{
	static const char *const paths[] = { "/usr/sbin/iptables", "/sbin/iptables" };
	char real[4096];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (!realpath(paths[i], real))
			continue;
		if (strstr(real, "legacy"))
			return 1;
		if (strstr(real, "nft"))
			return 0;
	}
	return -1;
}

const char *fl_iptables_variant(void)
{
	const char *env = getenv("FALLACY_IPTABLES");

	if (variant < 0) {
		if (env && !strcmp(env, "legacy"))
			variant = 1;
		else if (env && !strcmp(env, "nft"))
			variant = 0;
		else if ((variant = host_variant()) < 0)
			variant = have("/usr/sbin/iptables-nft-restore") ||
						  have("/sbin/iptables-nft-restore") ?
					  0 :
					  1;
	}
	return variant ? "legacy" : "nft";
}

/* One restore script "*TABLE / OP CHAIN RULE / COMMIT" with variant var;
 * the tool's exit status (FL_SPAWN_NO_NETNS when the namespace is gone). */
static int restore(const char *netns, int family, int var, const char *table, const char *op,
		   const char *chain, const char *rule, char *msg, size_t len)
{
	char script[512], prog[64];
	char *argv[] = { prog, "--noflush", "--wait=10", NULL };
	struct fl_spawn_cmd c = {
		.argv = argv, .netns = netns, .input = script, .out = msg, .out_len = len
	};

	snprintf(script, sizeof(script), "*%s\n%s %s %s\nCOMMIT\n", table, op, chain, rule);
	snprintf(prog, sizeof(prog), "%s-%s-restore", family == 6 ? "ip6tables" : "iptables",
		 var ? "legacy" : "nft");
	return fl_spawn_wait(&c);
}

int fl_iptables_add(const char *netns, int family, const char *table, const char *op,
		    const char *chain, const char *rule, char *msg, size_t len)
{
	int rc;

	fl_iptables_variant();
	rc = restore(netns, family, variant, table, op, chain, rule, msg, len);
	if (rc && rc != FL_SPAWN_NO_NETNS && !getenv("FALLACY_IPTABLES")) {
		pr_info("iptables-%s failed in %s (%s); trying iptables-%s", fl_iptables_variant(),
			netns, msg, variant ? "nft" : "legacy");
		if (!restore(netns, family, !variant, table, op, chain, rule, msg, len)) {
			variant = !variant;
			rc = 0;
		}
	}
	if (rc == FL_SPAWN_NO_NETNS)
		snprintf(msg, len, "cannot enter network namespace %s", netns);
	return rc ? -EIO : 0;
}

/* Is TABLE loaded in iptables-legacy inside netns? Any legacy command,
 * even a failing -D, loads the table it names, which would leave a trace
 * in a namespace that never had it. */
static bool legacy_has_table(const char *netns, int family, const char *table)
{
	char path[64], line[64];
	int saved = -1;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/thread-self/net/ip%s_tables_names",
		 family == 6 ? "6" : "");
	if (fl_netns_enter_spec(netns, &saved))
		return false;
	f = fopen(path, "re");
	while (f && !found && fgets(line, sizeof(line), f))
		found = !strncmp(line, table, strlen(table)) && line[strlen(table)] == '\n';
	if (f)
		fclose(f);
	if (saved >= 0)
		fl_netns_leave(saved);
	return found;
}

int fl_iptables_remove(const char *netns, int family, const char *table, const char *chain,
		       const char *rule)
{
	char msg[512];
	int left = 0, rc;

	/* -D of a rule that is not there fails: delete from each variant
	 * until neither has it (an insert may have been made twice). */
	for (int var = 0; var < 2; var++) {
		if (var == 1 && !legacy_has_table(netns, family, table))
			continue;
		for (int tries = 0; tries < 8; tries++) {
			rc = restore(netns, family, var, table, "-D", chain, rule, msg,
				     sizeof(msg));
			if (rc == FL_SPAWN_NO_NETNS)
				return 0;
			if (rc)
				break;
		}
		if (!rc)
			left = 1;
	}
	pr_debug("iptables rule in %s (%s %s %s) removed: %s", netns, table, chain, rule,
		 left ? "some left" : "from every variant");
	return left ? -EIO : 0;
}

int fl_iptables_save(const char *netns, int family, const char *table, char *out, size_t len)
{
	char prog[64];
	char *argv[] = { prog, "-c", "-t", (char *)table, NULL };
	struct fl_spawn_cmd c = { .argv = argv, .netns = netns, .out = out, .out_len = len };

	snprintf(prog, sizeof(prog), "%s-%s-save", family == 6 ? "ip6tables" : "iptables",
		 fl_iptables_variant());
	return fl_spawn_wait(&c) ? -EIO : 0;
}
