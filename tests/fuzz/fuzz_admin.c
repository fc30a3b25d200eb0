// SPDX-License-Identifier: MIT
/* The words of `fallacy admin LAB ...` (the CLI, the admin step of scenario
 * files and the changes' files read back by admin list/del), against a
 * planned 3-node IPv6 lab: never crashes; a change that parses prints back
 * to words that parse to the same change; its firewall rules or hosts text
 * can be made. */
#include "fuzz.h"

#include "admin/admin.h"
#include "admin/admin_int.h"
#include "lab/lab.h"

static struct fl_lab *lab;

static const char base[] = "127.0.0.1\tlocalhost\n198.18.0.1\tn1\n198.18.0.2\tn2 db\n"
			   "# a comment\nfdfa:11ac::1\tn1\n";

static void print(const struct fl_admin *a, char *buf, size_t len, int json)
{
	FILE *m = fmemopen(buf, len, "w");
	struct fl_out o = { .f = m, .json = json };

	fl_admin_print(a, &o);
	fclose(m);
}

static void made(struct fl_admin *a)
{
	struct fl_fw_rule rules[FL_FW_MAX_RULES];
	struct fl_err e;
	char *t;

	if (fl_admin_check(a, lab, &e))
		return;
	snprintf(a->id, sizeof(a->id), "a1");
	if (a->kind == FL_ADMIN_FIREWALL) {
		FUZZ_ASSERT(fl_admin_fw_rules(a, lab, rules) <= FL_FW_MAX_RULES, "too many rules");
	} else if (a->kind == FL_ADMIN_HOSTS) {
		t = fl_admin_hosts_text(base, a, 1, a->node, lab);
		FUZZ_ASSERT(t && strstr(t, a->name), "hosts text without %s", a->name);
		free(t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fl_admin a, b;
	char *s, *copy, *argv[FUZZ_MAX_WORDS], *av[FUZZ_MAX_WORDS], t1[2048], t2[2048], j[2048];
	struct fl_err e;
	int n, m;

	if (!lab) {
		struct fl_lab_spec spec = { .name = "fz", .n_nodes = 3, .ipv6 = true };

		if (fl_lab_plan(&spec, &lab, &e))
			abort();
	}
	s = fuzz_string(data, size);
	n = fuzz_words(s, argv, FUZZ_MAX_WORDS);
	if (!fl_admin_parse(&a, n, argv, &e)) {
		print(&a, t1, sizeof(t1), 0);
		print(&a, j, sizeof(j), 1);
		copy = strdup(t1);
		m = fuzz_words(copy, av, FUZZ_MAX_WORDS);
		FUZZ_ASSERT(!fl_admin_parse(&b, m, av, &e),
			    "'%s' printed as '%s', which does not parse: %s", s, t1, e.msg);
		print(&b, t2, sizeof(t2), 0);
		FUZZ_ASSERT(!strcmp(t1, t2), "'%s' -> '%s' -> '%s'", s, t1, t2);
		free(copy);
		made(&a);
	}
	free(s);
	return 0;
}
