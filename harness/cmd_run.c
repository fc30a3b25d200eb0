// SPDX-License-Identifier: MIT
/* fallacy run SCENARIO... --target TARGET [--seed N] [--out DIR] [--junit F]
 *             [--tap] [--dry-run] [--lab NAME] */
#include "cmd.h"

#include <errno.h>
#include <pwd.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faults/fault.h"
#include "lab/lab.h"
#include "log.h"
#include "parse.h"
#include "run.h"

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: fallacy run SCENARIO... --target TARGET [--seed N] [--out DIR]\n"
		"                   [--junit FILE] [--tap] [--capture] [--dry-run] [--lab NAME]\n\n"
		"Start the target on a fresh lab, drive its probe or workload, apply the\n"
		"scenario's timeline of faults, check its properties and write a results\n"
		"folder (events.jsonl, ops.jsonl, counters.json, logs/, summary.json,\n"
		"junit.xml, report.html). Several scenarios run one after the other and\n"
		"share one --junit file (one testsuite each) and a summary table.\n\n"
		"  --target FILE  the system under test (scenarios/targets/*.yaml)\n"
		"  --seed N       override the scenarios' seeds\n"
		"  --out DIR      results folder (default results/NAME-YYYYmmdd-HHMMSS;\n"
		"                 with several scenarios DIR/NAME)\n"
		"  --junit FILE   one JUnit XML file for all scenarios\n"
		"  --tap          TAP on stdout (the table goes to stderr)\n"
		"  --capture      write pcap/NODE.pcap of every node's eth0 (tshark reads them)\n"
		"  --dry-run      validate everything and print the resolved plan\n"
		"  --lab NAME     name of the lab to create (default fr<pid>-<n>)\n"
		"  --user NAME    run the target's processes and workload as NAME (root: as\n"
		"                 root); default: the target file's user:, else under sudo\n"
		"                 the invoking user (SUDO_USER), else root\n\n"
		"examples:\n"
		"  fallacy run scenarios/fallacies/network-is-reliable.yaml \\\n"
		"      --target scenarios/targets/etcd.yaml\n"
		"  fallacy run scenarios/fallacies/*.yaml --target scenarios/targets/http.yaml \\\n"
		"      --junit junit.xml\n\n"
		"Exit status: 0 every check held, 1 a check failed, 2 bad input or an error.\n");
}

struct run_args {
	const char *target, *out, *junit, *lab, *user;
	struct fl_run_opts o;
	bool tap, dry;
	char **files;
	int n_files;
};

static void on_signal(int sig)
{
	(void)sig;
	fl_run_interrupted = 1;
	fl_lab_interrupted = 1;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
	static const struct option opts[] = { { "target", required_argument, NULL, 't' },
					      { "seed", required_argument, NULL, 's' },
					      { "out", required_argument, NULL, 'o' },
					      { "junit", required_argument, NULL, 'j' },
					      { "tap", no_argument, NULL, 'T' },
					      { "dry-run", no_argument, NULL, 'n' },
					      { "lab", required_argument, NULL, 'l' },
					      { "capture", no_argument, NULL, 'c' },
					      { "user", required_argument, NULL, 'u' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct fl_err err;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ht:s:o:j:nl:", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			a->target = optarg;
			break;
		case 's':
			if (fl_parse_u64(optarg, 0, FL_SEED_MAX, &a->o.seed, &err)) {
				pr_err("run: --seed %s", err.msg);
				return FL_EXIT_USAGE;
			}
			a->o.has_seed = true;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'j':
			a->junit = optarg;
			break;
		case 'T':
			a->tap = true;
			break;
		case 'n':
			a->dry = true;
			break;
		case 'l':
			if (fl_validate_name("--lab", optarg, FL_LAB_NAME_MAX, &err)) {
				pr_err("run: %s", err.msg);
				return FL_EXIT_USAGE;
			}
			a->lab = optarg;
			break;
		case 'c':
			a->o.capture = true;
			break;
		case 'u':
			a->user = optarg;
			break;
		case 'h':
			run_usage(stdout);
			return -1;
		default:
			run_usage(stderr);
			return FL_EXIT_USAGE;
		}
	}
	a->files = argv + optind;
	a->n_files = argc - optind;
	if (!a->n_files || !a->target) {
		pr_err("run: %s (see fallacy run --help)",
		       a->n_files ? "--target FILE is required" : "no scenario file given");
		return FL_EXIT_USAGE;
	}
	return 0;
}

static bool node_ok(const char *name, size_t n)
{
	char *end;
	unsigned long k;

	if (strchr(name, '.') || strchr(name, ':') || strchr(name, '/'))
		return true; /* an address or prefix, checked by the data plane */
	if (name[0] != 'n')
		return false;
	k = strtoul(name + 1, &end, 10);
	return !*end && end != name + 1 && k >= 1 && k <= n;
}

/* Every fault kind must be one this build's data plane has, and every node
 * a step or a check names must be in the lab. */

static int load_all(struct run_args *a, struct fl_sut **t, struct fl_scenario **scs)
{
	struct fl_err err;
	int ret;

	if (fl_sut_load(a->target, NULL, t, &err)) {
		pr_err("%s", err.msg);
		return -EINVAL;
	}
	for (int i = 0; i < a->n_files; i++) {
		ret = fl_scenario_load(a->files[i], NULL, &scs[i], &err);
		if (ret) {
			pr_err("%s", err.msg);
			return ret;
		}
		/* every fault, by fault add's own parser, against the nodes the
		 * lab will have: bad input fails here, before anything exists */
		ret = fl_run_validate(scs[i], scs[i]->nodes ? scs[i]->nodes : (*t)->nodes, &err);
		if (ret) {
			pr_err("%s", err.msg);
			return ret;
		}
		for (int k = 0; k < i; k++)
			if (!strcmp(scs[k]->name, scs[i]->name) && (a->out || a->n_files > 1)) {
				pr_err("%s: scenario name '%s' is used twice in this run",
				       scs[i]->file, scs[i]->name);
				return -EINVAL;
			}
	}
	if (!strcmp((*t)->load_node, "all") || node_ok((*t)->load_node, (*t)->nodes))
		return 0;
	pr_err("%s:%d:%d: node '%s' is not in the lab (use n1..n%zu or all)", a->target, (*t)->line,
	       (*t)->col, (*t)->load_node, (*t)->nodes);
	return -EINVAL;
}

void fl_run_plan(const struct fl_scenario *sc, const struct fl_sut *t, const struct fl_run_opts *o,
		 FILE *f)
{
	size_t n = sc->nodes ? sc->nodes : t->nodes;
	struct fl_tnode nodes[FL_RUN_MAX_NODES];
	char names[FL_RUN_MAX_NODES][16], ips[FL_RUN_MAX_NODES][32], ip6s[FL_RUN_MAX_NODES][32];
	struct fl_tvars v = { .t = t,
			      .scenario = sc->name,
			      .lab = "<lab>",
			      .dir = "<scratch-dir>",
			      .nodes = nodes,
			      .n_nodes = n };
	struct fl_err err;
	char *cmd;

	for (size_t i = 0; i < n && i < FL_RUN_MAX_NODES; i++) {
		snprintf(names[i], sizeof(names[i]), "n%zu", i + 1);
		snprintf(ips[i], sizeof(ips[i]), "<ip-of-n%zu>", i + 1);
		snprintf(ip6s[i], sizeof(ip6s[i]), "<ip6-of-n%zu>", i + 1);
		nodes[i] = (struct fl_tnode){ names[i], ips[i], ip6s[i] };
	}
	uint64_t seed = fl_run_seed(sc, o);

	fprintf(f, "# plan: scenario %s against target %s on %zu nodes, seed %llu%s\n", sc->file,
		t->file, n, (unsigned long long)seed,
		o->has_seed || sc->has_seed ? "" : " (random: --seed replays a run)");
	fl_scenario_print(sc, seed, f);
	fprintf(f, "target:\n");
	for (size_t i = 0; i < n; i++) {
		v.self = i;
		if (!fl_template_expand(t->start_run, &v, &cmd, &err)) {
			fprintf(f, "  start on %s: %s\n", names[i], cmd);
			free(cmd);
		}
	}
	v.self = 0;
	if (t->ready_run && !fl_template_expand(t->ready_run, &v, &cmd, &err)) {
		fprintf(f, "  ready on n1: %s\n", cmd);
		free(cmd);
	}
	if (!fl_template_expand(t->load_run, &v, &cmd, &err)) {
		fprintf(f, "  %s on %s: %s\n", t->is_workload ? "workload" : "probe", t->load_node,
			cmd);
		free(cmd);
	}
}

static int run_all(struct run_args *a, struct fl_sut *t, struct fl_scenario **scs,
		   struct fl_suite *suites, int *ran)
{
	char out[600];
	int worst = FL_EXIT_OK;

	for (int i = 0; i < a->n_files && !fl_run_interrupted; i++) {
		struct fl_run_opts o = a->o;
		int ret;

		if (a->out && a->n_files > 1)
			snprintf(out, sizeof(out), "%s/%s", a->out, scs[i]->name);
		else if (a->out)
			snprintf(out, sizeof(out), "%s", a->out);
		o.out = a->out ? out : NULL;
		o.lab = a->lab;
		/* chosen here, so that it is printed before anything happens */
		o.seed = fl_run_seed(scs[i], &a->o);
		o.has_seed = true;
		fprintf(stderr,
			"fallacy: running %s against %s, seed %llu (--seed %llu replays it)\n",
			scs[i]->name, t->name, (unsigned long long)o.seed,
			(unsigned long long)o.seed);
		ret = fl_run_scenario(scs[i], t, &o, &suites[i]);
		*ran = i + 1;
		if (ret)
			worst = FL_EXIT_USAGE;
		else if (!fl_suite_pass(&suites[i]) && worst == FL_EXIT_OK)
			worst = FL_EXIT_FAIL;
	}
	if (fl_run_interrupted)
		worst = FL_EXIT_USAGE;
	return worst;
}

static void report_all(struct run_args *a, struct fl_suite *suites, int n)
{
	fl_summary_table(a->tap ? stderr : stdout, suites, (size_t)n);
	if (a->tap)
		fl_tap_write(stdout, suites, (size_t)n);
	if (a->junit && fl_junit_write(a->junit, suites, (size_t)n))
		pr_err("run: cannot write %s: %s", a->junit, strerror(errno));
	fflush(stdout);
}

/* Who the target's processes run as: --user (root: root), else the
 * target's user:, else the sudo user, else root. */
static int run_user(const struct run_args *a, struct fl_sut *t)
{
	const char *su = getenv("SUDO_USER"), *uid = getenv("SUDO_UID");
	const char *want = a->user;

	if (!want && t->user)
		return 0;
	if (!want && su && *su && uid && strcmp(uid, "0"))
		want = su;
	if (!want)
		return 0;
	if (!fl_cmd_check && strcmp(want, "root") && !getpwnam(want)) {
		pr_err("run: --user %s: no such user on this system", want);
		return -ENOENT;
	}
	free(t->user);
	t->user = strcmp(want, "root") ? strdup(want) : NULL;
	if (!a->user)
		fprintf(stderr,
			"fallacy: the target runs as %s (the sudo user; --user root keeps root)\n",
			want);
	return 0;
}

int do_run(int argc, char **argv)
{
	struct run_args a = { .o = { .progress_tty = isatty(STDERR_FILENO) } };
	struct fl_scenario **scs = NULL;
	struct fl_suite *suites = NULL;
	struct fl_sut *t = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	int ret = parse_args(argc, argv, &a), n, ran = 0;
	struct fl_err err;

	if (ret)
		return ret < 0 ? FL_EXIT_OK : ret;
	n = a.n_files;
	scs = calloc((size_t)n, sizeof(*scs));
	suites = calloc((size_t)n, sizeof(*suites));
	ret = FL_EXIT_USAGE;
	if (!scs || !suites || load_all(&a, &t, scs) || run_user(&a, t))
		goto out;
	if (fl_cmd_check) { /* the tools are this machine's business, not the words' */
		ret = FL_EXIT_OK;
		goto out;
	}
	if (fl_sut_check_tools(t, &err)) {
		pr_err("%s", err.msg);
		goto out;
	}
	if (a.dry) {
		for (int i = 0; i < n; i++)
			fl_run_plan(scs[i], t, &a.o, stdout);
		ret = FL_EXIT_OK;
		goto out;
	}
	if (geteuid()) {
		pr_err("run: needs root (network namespaces); try sudo");
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ret = run_all(&a, t, scs, suites, &ran);
	report_all(&a, suites, ran);
out:
	for (int i = 0; scs && i < n; i++) {
		fl_scenario_free(scs[i]);
		fl_suite_free_cases(&suites[i]);
	}
	free(scs);
	free(suites);
	fl_sut_free(t);
	return ret;
}
