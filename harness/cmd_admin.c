// SPDX-License-Identifier: MIT
/* fallacy admin LAB NODE firewall|hosts|sysctl ... | admin LAB list|del|clear:
 * thin; the injector makes, lists and undoes the changes (admin/admin.h). */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "lab/lab.h"
#include "log.h"
#include "parse.h"

static const char admin_usage_head[] =
	"usage: fallacy admin LAB NODE firewall drop|reject [--proto tcp|udp|icmp] [--port N[-M]]\n"
	"                                [--from X] [--id ID]\n"
	"       fallacy admin LAB NODE hosts NAME ADDR [--id ID]\n"
	"       fallacy admin LAB NODE sysctl KEY VALUE [--id ID]\n"
	"       fallacy admin LAB list [-j]\n"
	"       fallacy admin LAB del ID\n"
	"       fallacy admin LAB clear\n"
	"\n"
	"Another administrator changes one node of the lab, inside the node's own\n"
	"network namespace, where its operator sees the change with the node's tools\n"
	"(fallacy lab exec LAB NODE -- iptables -L | getent hosts NAME | sysctl KEY).\n"
	"Each change is journalled before it is made and stays until admin del/clear,\n"
	"lab down or cleanup, whatever happens to the process that made it. Prints\n"
	"the change's id (a1, a2, ... unless --id).\n"
	"\n"
	"CHANGES\n"
	"  firewall drop|reject   a rule at the top of NODE's INPUT chain (iptables, and\n"
	"                         ip6tables in an IPv6 lab); drop says nothing, reject\n"
	"                         answers with a TCP RST or ICMP port unreachable\n"
	"      --proto P          tcp, udp or icmp (default: all; --port alone: tcp, udp)\n"
	"      --port N[-M]       destination port(s) on NODE\n"
	"      --from X           a node of the lab, or an address/prefix (default: anyone)\n"
	"  hosts NAME ADDR        NODE's hosts file says NAME is at ADDR and nowhere else\n"
	"                         (ADDR: a lab address or loopback; other nodes unchanged)\n"
	"  sysctl KEY VALUE       one sysctl of NODE's namespace; KEY one of:\n";

static const char admin_usage_tail[] =
	"\n"
	"EXAMPLES\n"
	"  fallacy admin demo n2 firewall drop --proto tcp --port 2380\n"
	"  fallacy admin demo n1 firewall reject --from n3\n"
	"  fallacy admin demo n3 hosts n1 198.18.0.99       # a stale address for n1\n"
	"  fallacy admin demo n2 sysctl net.core.somaxconn 16\n"
	"  fallacy admin demo n2 sysctl net.ipv4.ip_local_port_range \"40000 40100\"\n"
	"  fallacy admin demo list -j\n"
	"  fallacy admin demo del a1\n"
	"  fallacy admin demo clear\n"
	"\n"
	"Exit status: 0 done, 2 bad input or kernel error (nothing changed).\n";

static void admin_usage(FILE *f)
{
	const char *key, *form;

	fputs(admin_usage_head, f);
	for (size_t i = 0; (key = fl_admin_sysctl_key(i, &form)); i++)
		fprintf(f, "                           %-30s %s\n", key, form);
	fputs(admin_usage_tail, f);
}

static int change(const char *lab, int argc, char **argv)
{
	struct fl_admin a;
	struct fl_err err;
	char words[1024];

	if (fl_admin_parse(&a, argc, argv, &err)) {
		pr_err("admin %s: %s", lab, err.msg);
		return FL_EXIT_USAGE;
	}
	if (fl_cmd_check)
		return FL_EXIT_OK;
	if (fl_admin_apply(lab, &a, &err)) {
		pr_err("admin %s: %s", lab, err.msg);
		return FL_EXIT_USAGE;
	}
	fl_admin_format(&a, words, sizeof(words));
	printf("%s\n", a.id);
	if (fl_log_level >= FL_LOG_WARN)
		fprintf(stderr, "fallacy: %s %s: %s\n", lab, a.id, words);
	return FL_EXIT_OK;
}

static int list(const char *lab, bool json)
{
	struct fl_out o = { .f = stdout, .json = json };
	struct fl_admin *v;
	struct fl_err err;
	char words[1024];
	size_t n;

	if (fl_admin_list(lab, &v, &n, &err)) {
		pr_err("admin %s list: %s", lab, err.msg);
		return FL_EXIT_USAGE;
	}
	if (json)
		fputc('[', stdout);
	for (size_t i = 0; i < n; i++) {
		if (json) {
			fputs(i ? ", {" : "{", stdout);
			o.n = 0;
			fl_admin_print(&v[i], &o);
			fputc('}', stdout);
			continue;
		}
		fl_admin_format(&v[i], words, sizeof(words));
		printf("%-8s %s\n", v[i].id, words);
	}
	if (json)
		fputs("]\n", stdout);
	free(v);
	return FL_EXIT_OK;
}

/* list [-j] | del ID | clear */
static int manage(const char *lab, int argc, char **argv)
{
	bool json = argc == 2 && (!strcmp(argv[1], "-j") || !strcmp(argv[1], "--json"));
	struct fl_err err;
	int ret;

	if (!strcmp(argv[0], "list") && (argc == 1 || json))
		return fl_cmd_check ? FL_EXIT_OK : list(lab, json);
	if (!strcmp(argv[0], "clear") && argc == 1)
		ret = fl_cmd_check ? 0 : fl_admin_clear(lab, &err);
	else if (!strcmp(argv[0], "del") && argc == 2)
		ret = fl_validate_name("ID", argv[1], FL_ADMIN_ID_MAX, &err) ?:
			      fl_cmd_check				     ? 0 :
					     fl_admin_del(lab, argv[1], &err);
	else {
		pr_err("admin %s %s: unexpected words (see fallacy admin --help)", lab, argv[0]);
		return FL_EXIT_USAGE;
	}
	if (ret) {
		pr_err("admin %s %s: %s", lab, argv[0], err.msg);
		return FL_EXIT_USAGE;
	}
	return FL_EXIT_OK;
}

static bool is_manage(const char *w)
{
	return !strcmp(w, "list") || !strcmp(w, "del") || !strcmp(w, "clear");
}

static bool is_change(const char *w)
{
	for (int k = 0; k < FL_ADMIN__COUNT; k++)
		if (!strcmp(w, fl_admin_kind_name((enum fl_admin_kind)k)))
			return true;
	return false;
}

int do_admin(int argc, char **argv)
{
	struct fl_err err;

	if (fl_wants_help(argc, argv)) {
		admin_usage(stdout);
		return FL_EXIT_OK;
	}
	if (argc < 3) {
		admin_usage(stderr);
		return FL_EXIT_USAGE;
	}
	if (fl_validate_name("lab", argv[1], FL_LAB_NAME_MAX, &err)) {
		pr_err("admin: %s", err.msg);
		return FL_EXIT_USAGE;
	}
	/* a node may be called list: then a change word follows it */
	if (is_manage(argv[2]) && !(argc > 3 && is_change(argv[3])))
		return manage(argv[1], argc - 2, argv + 2);
	return change(argv[1], argc - 2, argv + 2);
}
