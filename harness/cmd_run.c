// SPDX-License-Identifier: MIT
/* fallacy run SCENARIO... --target TARGET [--seed N] [--out DIR] [--junit F]
 *             [--tap] [--dry-run] [--lab NAME] */
#include "cmd.h"

#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faults/fault.h"
#include "find.h"
#include "lab/lab.h"
#include "log.h"
#include "parse.h"
#include "run.h"

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: fallacy run SCENARIO... --target TARGET... [--seed N] [--out DIR]\n"
		"                   [--junit FILE] [--tap] [--capture] [--dry-run] [--lab NAME]\n"
		"       fallacy run --list\n\n"
		"Start the target on a fresh lab, drive its probe or workload, apply the\n"
		"scenario's timeline of faults, check its properties and write a results\n"
		"folder (events.jsonl, ops.jsonl, counters.json, logs/, summary.json,\n"
		"junit.xml, report.html). Several scenarios run one after the other and\n"
		"share one --junit file (one testsuite each) and a summary table; with\n"
		"several runs an index.html beside their folders lists them all.\n"
		"SCENARIO and TARGET are files, or names of the installed ones\n"
		"(network-is-reliable, etcd: see --list).\n\n"
		"  --target FILE  the system under test (scenarios/targets/*.yaml, or a name);\n"
		"                 repeat it to run every scenario against each target\n"
		"  --seed N       override the scenarios' seeds\n"
		"  --out DIR      results folder (default results/NAME-YYYYmmdd-HHMMSS;\n"
		"                 with several scenarios DIR/NAME, with several targets\n"
		"                 DIR/NAME-TARGET; DIR/index.html lists them; several\n"
		"                 runs without --out: DIR is results/run-YYYYmmdd-HHMMSS)\n"
		"  --junit FILE   one JUnit XML file for all scenarios\n"
		"  --tap          TAP on stdout (the table goes to stderr)\n"
		"  --capture      write pcap/NODE.pcap of every node's eth0 (tshark reads them)\n"
		"  --dry-run      validate everything and print the resolved plan\n"
		"  --lab NAME     name of the lab to create (default fr<pid>-<n>)\n"
		"  --list         the scenario and target names this fallacy finds, and where\n\n"
		"EXAMPLES\n"
		"  fallacy run network-is-reliable --target etcd\n"
		"  fallacy run scenarios/fallacies/network-is-reliable.yaml \\\n"
		"      --target scenarios/targets/etcd.yaml\n"
		"  fallacy run scenarios/fallacies/*.yaml --target scenarios/targets/http.yaml \\\n"
		"      --junit junit.xml\n"
		"  fallacy run smoke latency-is-zero --target http --target redis --out results/all\n\n"
		"Exit status: 0 every check held, 1 a check failed, 2 bad input or an error.\n");
}

#define MAX_TARGETS 16

struct run_args {
	const char *targets[MAX_TARGETS], *out, *junit, *lab;
	int n_targets;
	struct fl_run_opts o;
	bool tap, dry, list;
	char **files;
	int n_files;
	char (*paths)[PATH_MAX]; /* the files found for files[] */
	char tpaths[MAX_TARGETS][PATH_MAX];
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
					      { "list", no_argument, NULL, 'L' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct fl_err err;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ht:s:o:j:nl:", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (a->n_targets == MAX_TARGETS) {
				pr_err("run: at most %d --target", MAX_TARGETS);
				return FL_EXIT_USAGE;
			}
			a->targets[a->n_targets++] = optarg;
			break;
		case 'L':
			a->list = true;
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
	if (a->list)
		return 0;
	if (!a->n_files || !a->n_targets) {
		pr_err("run: %s (see fallacy run --help)",
		       a->n_files ? "--target FILE is required" : "no scenario file given");
		return FL_EXIT_USAGE;
	}
	return 0;
}

static void list_one(const char *name, const char *path, void *arg)
{
	printf("%-10s %-28s %s\n", (const char *)arg, name, path);
}

/* --list: what names resolve to. */
static int list_named(void)
{
	fl_find_each(FL_FIND_SCENARIO, list_one, "scenario");
	fl_find_each(FL_FIND_TARGET, list_one, "target");
	return FL_EXIT_OK;
}

/* Names to files: network-is-reliable -> .../fallacies/network-is-reliable.yaml */
static int resolve_names(struct run_args *a)
{
	struct fl_err err;

	a->paths = calloc((size_t)a->n_files + 1, sizeof(*a->paths));
	if (!a->paths)
		return -ENOMEM;
	for (int i = 0; i < a->n_files; i++) {
		if (fl_find_file(FL_FIND_SCENARIO, a->files[i], a->paths[i], PATH_MAX, &err)) {
			pr_err("run: %s", err.msg);
			return -ENOENT;
		}
		a->files[i] = a->paths[i];
	}
	for (int k = 0; k < a->n_targets; k++) {
		if (fl_find_file(FL_FIND_TARGET, a->targets[k], a->tpaths[k], PATH_MAX, &err)) {
			pr_err("run: --target %s", err.msg);
			return -ENOENT;
		}
		a->targets[k] = a->tpaths[k];
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

static int load_target(const char *file, struct fl_sut **t)
{
	struct fl_err err;

	if (fl_sut_load(file, NULL, t, &err)) {
		pr_err("%s", err.msg);
		return -EINVAL;
	}
	if (!strcmp((*t)->load_node, "all") || node_ok((*t)->load_node, (*t)->nodes))
		return 0;
	pr_err("%s:%d:%d: node '%s' is not in the lab (use n1..n%zu or all)", file, (*t)->line,
	       (*t)->col, (*t)->load_node, (*t)->nodes);
	return -EINVAL;
}

static int load_all(struct run_args *a, struct fl_sut **t, struct fl_scenario **scs)
{
	struct fl_err err;
	int ret;

	for (int k = 0; k < a->n_targets; k++)
		if ((ret = load_target(a->targets[k], &t[k])))
			return ret;
	for (int i = 0; i < a->n_files; i++) {
		ret = fl_scenario_load(a->files[i], NULL, &scs[i], &err);
		if (ret) {
			pr_err("%s", err.msg);
			return ret;
		}
		/* every fault, by fault add's own parser, against the nodes the
		 * lab will have: bad input fails here, before anything exists */
		for (int k = 0; k < a->n_targets && !ret; k++)
			ret = fl_run_validate(scs[i], scs[i]->nodes ? scs[i]->nodes : t[k]->nodes,
					      &err);
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
	return 0;
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

/* The results folder of scenario sc against target t. */
static const char *out_dir(const struct run_args *a, const struct fl_scenario *sc,
			   const struct fl_sut *t, char *buf, size_t len)
{
	char name[160];

	snprintf(name, sizeof(name), "%s%s%s", sc->name, a->n_targets > 1 ? "-" : "",
		 a->n_targets > 1 ? t->name : "");
	if (a->out && a->n_files * a->n_targets > 1)
		snprintf(buf, len, "%s/%s", a->out, name);
	else if (a->out)
		snprintf(buf, len, "%s", a->out);
	else
		return NULL;
	return buf;
}

static int run_all(struct run_args *a, struct fl_sut **ts, struct fl_scenario **scs,
		   struct fl_suite *suites, int *ran)
{
	char out[600];
	int worst = FL_EXIT_OK;

	for (int i = 0; i < a->n_files * a->n_targets && !fl_run_interrupted; i++) {
		const struct fl_scenario *sc = scs[i / a->n_targets];
		const struct fl_sut *t = ts[i % a->n_targets];
		struct fl_run_opts o = a->o;
		int ret;

		o.out = out_dir(a, sc, t, out, sizeof(out));
		o.lab = a->lab;
		/* chosen here, so that it is printed before anything happens */
		o.seed = fl_run_seed(sc, &a->o);
		o.has_seed = true;
		fprintf(stderr,
			"fallacy: running %s against %s, seed %llu (--seed %llu replays it)\n",
			sc->name, t->name, (unsigned long long)o.seed, (unsigned long long)o.seed);
		ret = fl_run_scenario(sc, t, &o, &suites[i]);
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

/* Several runs: DIR/index.html (DIR: --out, or results/run-TIME) lists them. */
static void write_index(struct run_args *a, struct fl_suite *suites, int n)
{
	char path[700];

	if (n < 2)
		return;
	snprintf(path, sizeof(path), "%s/index.html", a->out);
	if (fl_report_index(path, suites, (size_t)n))
		pr_err("run: cannot write %s: %s", path, strerror(errno));
	else
		fprintf(stderr, "fallacy: %d runs, listed in %s\n", n, path);
}

static void report_all(struct run_args *a, struct fl_suite *suites, int n)
{
	write_index(a, suites, n);
	fl_summary_table(a->tap ? stderr : stdout, suites, (size_t)n);
	if (a->tap)
		fl_tap_write(stdout, suites, (size_t)n);
	if (a->junit && fl_junit_write(a->junit, suites, (size_t)n))
		pr_err("run: cannot write %s: %s", a->junit, strerror(errno));
	fflush(stdout);
}

int do_run(int argc, char **argv)
{
	struct run_args a = { .o = { .progress_tty = isatty(STDERR_FILENO) } };
	struct fl_scenario **scs = NULL;
	struct fl_suite *suites = NULL;
	struct fl_sut *t[MAX_TARGETS] = { NULL };
	struct sigaction sa = { .sa_handler = on_signal };
	int ret = parse_args(argc, argv, &a), n, ran = 0;
	char call_dir[600];
	struct fl_err err;

	if (ret)
		return ret < 0 ? FL_EXIT_OK : ret;
	if (a.list)
		return list_named();
	n = a.n_files;
	scs = calloc((size_t)n, sizeof(*scs));
	suites = calloc((size_t)(n * a.n_targets), sizeof(*suites));
	ret = FL_EXIT_USAGE;
	if (!scs || !suites || resolve_names(&a) || load_all(&a, t, scs))
		goto out;
	if (fl_cmd_check) { /* the tools are this machine's business, not the words' */
		ret = FL_EXIT_OK;
		goto out;
	}
	for (int k = 0; k < a.n_targets; k++) {
		if (fl_sut_check_tools(t[k], &err)) {
			pr_err("%s", err.msg);
			goto out;
		}
	}
	if (a.dry) {
		for (int i = 0; i < n * a.n_targets; i++)
			fl_run_plan(scs[i / a.n_targets], t[i % a.n_targets], &a.o, stdout);
		ret = FL_EXIT_OK;
		goto out;
	}
	if (geteuid()) {
		pr_err("run: needs root (network namespaces); try sudo");
		goto out;
	}
	if (!a.out && n * a.n_targets > 1) { /* one folder per call: its index stays */
		fl_results_default_dir("run", call_dir, sizeof(call_dir));
		a.out = call_dir;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ret = run_all(&a, t, scs, suites, &ran);
	report_all(&a, suites, ran);
out:
	for (int i = 0; scs && i < n; i++)
		fl_scenario_free(scs[i]);
	for (int i = 0; suites && i < n * a.n_targets; i++)
		fl_suite_free_cases(&suites[i]);
	for (int k = 0; k < a.n_targets; k++)
		fl_sut_free(t[k]);
	free(scs);
	free(suites);
	free(a.paths);
	return ret;
}
