// SPDX-License-Identifier: MIT
/* fallacy run SCENARIO... --target TARGET [--seed N] [--out DIR] [--junit F]
 *             [--tap] [--dry-run] [--lab NAME] */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faults/fault.h"
#include "find.h"
#include "invrun.h"
#include "lab/lab.h"
#include "labfile.h"
#include "log.h"
#include "parse.h"
#include "run.h"
#include "supervisor/session.h"

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: fallacy run SCENARIO... --target TARGET... [--seed N] [--nodes N] [--out DIR]\n"
		"                   [--time-scale F] [--junit FILE] [--tap] [--capture] [--dry-run]\n"
		"                   [--lab NAME] [--user NAME]\n"
		"       fallacy run SCENARIO... --target TARGET --inventory FILE [--lease D] ...\n"
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
		"  --nodes N      the lab's size (default: the scenario's nodes, else the\n"
		"                 target's); the same scenario runs on 3 or 5 nodes\n"
		"  --time-scale F every time of the scenarios times F (0.25: a 40 s scenario\n"
		"                 in 10 s, for CI): steps, schedules, a recovery's within and\n"
		"                 window, a command check's at; not latency bounds or timeouts\n"
		"  --out DIR      results folder (default results/NAME-YYYYmmdd-HHMMSS;\n"
		"                 with several scenarios DIR/NAME, with several targets\n"
		"                 DIR/NAME-TARGET; DIR/index.html lists them; several\n"
		"                 runs without --out: DIR is results/run-YYYYmmdd-HHMMSS)\n"
		"  --junit FILE   one JUnit XML file for all scenarios\n"
		"  --tap          TAP on stdout (the table goes to stderr)\n"
		"  --capture      write pcap/NODE.pcap of every node's eth0 (tshark reads them;\n"
		"                 over an inventory its agent captures, the file is fetched)\n"
		"  --dry-run      validate everything and print the resolved plan\n"
		"  --lab NAME     name of the lab to create (default fr<pid>-<n>)\n"
		"  --user NAME    run the target's processes and workload as NAME (root: as\n"
		"                 root); default: the target file's user:, else under sudo\n"
		"                 the invoking user (SUDO_USER), else root\n"
		"  --inventory FILE  no lab: the scenario's nodes are the hosts or pods of\n"
		"                 FILE (docs/agent.md), already running the target; probes and\n"
		"                 checks run here against their address:, fault and partition\n"
		"                 steps go to each node's agent (fallacy agent --stdio)\n"
		"  --lease D      over an inventory: the lease of every agent's faults (default\n"
		"                 10s; renewed every third of it; a lost run's faults end then)\n"
		"  --list         the scenario and target names this fallacy finds, and where\n\n"
		"EXAMPLES\n"
		"  fallacy run network-is-reliable --target etcd\n"
		"  fallacy run scenarios/fallacies/network-is-reliable.yaml \\\n"
		"      --target scenarios/targets/etcd.yaml\n"
		"  fallacy run scenarios/fallacies/*.yaml --target scenarios/targets/http.yaml \\\n"
		"      --junit junit.xml\n"
		"  fallacy run smoke latency-is-zero --target http --target redis --out results/all\n"
		"  fallacy run network-is-reliable --target redis-sentinel --nodes 5 --seed 7\n"
		"  fallacy run network-is-reliable --target etcd-by-ip \\\n"
		"      --inventory deploy/inventories/hosts.yaml\n\n"
		"Exit status: 0 every check held, 1 a check failed, 2 bad input or an error.\n");
}

#define MAX_TARGETS 16

struct run_args {
	const char *targets[MAX_TARGETS], *out, *junit, *lab, *user;
	int n_targets;
	struct fl_run_opts o;
	bool tap, dry, list;
	char **files;
	int n_files;
	uint64_t *seeds; /* per scenario, chosen before anything is printed */
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
					      { "nodes", required_argument, NULL, 'N' },
					      { "time-scale", required_argument, NULL, 'S' },
					      { "user", required_argument, NULL, 'u' },
					      { "inventory", required_argument, NULL, 'I' },
					      { "lease", required_argument, NULL, 'E' },
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
		case 'S': {
			char *end;

			a->o.time_scale = strtod(optarg, &end);
			if (*end || end == optarg || !(a->o.time_scale > 0.001) ||
			    a->o.time_scale > 100) {
				pr_err("run: --time-scale %s: give a factor from 0.001 to 100",
				       optarg);
				return FL_EXIT_USAGE;
			}
			break;
		}
		case 'N': {
			uint64_t n;

			if (fl_parse_u64(optarg, 1, FL_RUN_MAX_NODES, &n, &err)) {
				pr_err("run: --nodes %s", err.msg);
				return FL_EXIT_USAGE;
			}
			a->o.nodes = (size_t)n;
			break;
		}
		case 'u':
			a->user = optarg;
			break;
		case 'I':
			a->o.inventory = optarg;
			break;
		case 'E':
			if (fl_lease_parse(optarg, &a->o.lease_ns, &err) || !a->o.lease_ns) {
				pr_err("run: --lease %s: %s", optarg,
				       a->o.lease_ns ? err.msg : "give 1s to 24h");
				return FL_EXIT_USAGE;
			}
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
	if (a->o.lease_ns && !a->o.inventory) {
		pr_err("run: --lease is for --inventory (a lab's faults need none)");
		return FL_EXIT_USAGE;
	}
	if (a->o.inventory && a->lab) {
		pr_err("run: --inventory makes no lab: --lab");
		return FL_EXIT_USAGE;
	}
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

/* Every file read and checked, every step resolved and checked against
 * the nodes and roles the lab will have: bad input fails here, before
 * anything exists. */
/* --inventory: the file read, every scenario and target able to run
 * over it (invrun.h); nothing is reached yet. */
static int check_inventory(const struct run_args *a, struct fl_sut **t, struct fl_scenario **scs)
{
	struct fl_inventory *inv = NULL;
	struct fl_err err;

	if (!a->o.inventory)
		return 0;
	if (fl_inventory_load(a->o.inventory, NULL, &inv, &err)) {
		pr_err("%s", err.msg);
		return -EINVAL;
	}
	fl_inventory_free(inv);
	for (int k = 0; k < a->n_targets; k++)
		if (t[k]->tls) {
			pr_err("%s: tls: true makes certificates for a lab's nodes; over an "
			       "inventory the target has its own",
			       t[k]->file);
			return -EINVAL;
		}
	for (int i = 0; i < a->n_files; i++)
		if (fl_invrun_check(scs[i], &err) ||
		    (fl_scenario_needs_capture(scs[i]) &&
		     (fl_err_set(&err, "%s: its checks read captures: not over an inventory",
				 scs[i]->file),
		      1))) {
			pr_err("%s", err.msg);
			return -EINVAL;
		}
	return 0;
}

static int load_all(struct run_args *a, struct fl_sut **t, struct fl_scenario **scs)
{
	struct fl_err err;
	int ret;

	for (int k = 0; k < a->n_targets; k++)
		if (fl_sut_load(a->targets[k], NULL, &t[k], &err)) {
			pr_err("%s", err.msg);
			return -EINVAL;
		}
	for (int i = 0; i < a->n_files; i++) {
		ret = fl_scenario_load(a->files[i], NULL, &scs[i], &err);
		if (ret) {
			pr_err("%s", err.msg);
			return ret;
		}
		a->seeds[i] = fl_run_seed(scs[i], &a->o);
		if (a->o.time_scale && a->o.time_scale != 1)
			fl_scenario_scale(scs[i], a->o.time_scale);
		ret = fl_scenario_expand(scs[i], a->seeds[i], &err);
		for (int k = 0; k < a->n_targets && !ret; k++)
			ret = fl_run_validate(scs[i], t[k], fl_run_nodes(scs[i], t[k], &a->o),
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
	return check_inventory(a, t, scs);
}

/* History checks on a target that records no values: skipped, said so. */
static void plan_history(FILE *f, const struct fl_scenario *sc, const struct fl_sut *t)
{
	for (size_t i = 0; i < sc->n_checks; i++) {
		enum fl_check_kind k = sc->checks[i].kind;

		if (k != FL_CHECK_LINEARIZABLE && k != FL_CHECK_LOST_WRITES &&
		    k != FL_CHECK_STALE_READS)
			continue;
		if (!fl_sut_has_history(t))
			fprintf(f,
				"  history: none (target %s records no values: no op has f), so "
				"its history checks are skipped\n",
				t->name);
		return;
	}
}

static void plan_cmd(FILE *f, const char *what, const char *node, const char *tmpl,
		     const struct fl_tvars *v)
{
	struct fl_err err;
	char *cmd;

	if (!fl_template_expand(tmpl, v, &cmd, &err)) {
		fprintf(f, "  %s on %s: %s\n", what, node, cmd);
		free(cmd);
	}
}

void fl_run_plan(const struct fl_scenario *sc, const struct fl_sut *t, const struct fl_run_opts *o,
		 FILE *f)
{
	size_t n = fl_run_nodes(sc, t, o);
	struct fl_tnode nodes[FL_RUN_MAX_NODES];
	char ips[FL_RUN_MAX_NODES][32], ip6s[FL_RUN_MAX_NODES][32];
	struct fl_tvars v = {
		.t = t, .scenario = sc->name, .lab = "<lab>", .dir = "<scratch-dir>", .nodes = nodes
	};
	struct fl_tplan p;
	struct fl_err err;
	uint64_t seed = fl_run_seed(sc, o);

	if (fl_run_plan_nodes(sc, t, n, &p, &err))
		return;
	for (size_t i = 0; i < n; i++) {
		snprintf(ips[i], sizeof(ips[i]), "<ip-of-%s>", p.names[i]);
		snprintf(ip6s[i], sizeof(ip6s[i]), "<ip6-of-%s>", p.names[i]);
		nodes[i] = (struct fl_tnode){ p.names[i], ips[i], ip6s[i], p.roles[i] };
	}
	v.n_nodes = n;
	fprintf(f, "# plan: scenario %s against target %s on %zu nodes, seed %llu%s\n", sc->file,
		t->file, n, (unsigned long long)seed,
		o->seed_random ? " (random: --seed replays a run)" : "");
	fl_scenario_print(sc, seed, f);
	fprintf(f, "target:\n");
	for (size_t i = 0; i < n; i++)
		if (p.roles[i])
			fprintf(f, "  node %s: role %s\n", p.names[i], p.roles[i]);
	for (size_t k = 0; k < t->n_starts; k++) {
		const struct fl_tstart *it = &t->starts[k];
		bool first = true;

		for (size_t i = 0; i < n; i++) {
			if (!fl_tstart_on(it, &p, i))
				continue;
			v.self = i;
			plan_cmd(f, t->n_starts > 1 ? it->name : "start", p.names[i], it->run, &v);
			if (first && it->ready_run)
				plan_cmd(f, "ready", p.names[i], it->ready_run, &v);
			first = false;
		}
	}
	v.self = 0;
	for (size_t k = 0; k < t->n_ops; k++) {
		char what[80];

		snprintf(what, sizeof(what), "%s%s%s", t->is_workload ? "workload" : "probe",
			 t->n_ops > 1 ? " " : "", t->n_ops > 1 ? t->ops[k].name : "");
		plan_cmd(f, what, t->load_node, t->ops[k].run, &v);
	}
	if (sc->herd.on && t->herd.on)
		fprintf(f,
			"  herd: %u clients on %s, to %s port %u (%s%s%s), phase %s: \"%s\" once, "
			"then \"%s\"\n",
			sc->herd.clients, sc->herd.from, sc->herd.to, t->herd.port,
			fl_herd_proto_name(t->herd.proto), t->herd.user[0] ? " as " : "",
			t->herd.user, sc->herd.random_phase ? "random" : "tick",
			t->herd.hello[0] ? t->herd.hello : "-", t->herd.request);
	else if (sc->herd.on)
		fprintf(f, "  herd: none (the target has no herd:, so its backoff checks are "
			   "skipped)\n");
	plan_history(f, sc, t);
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
		/* chosen at load (schedules are expanded with it), printed now,
		 * before anything happens */
		o.seed = a->seeds[i / a->n_targets];
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

/* Who the target's processes run as: --user (root: root) for every start
 * item, else each item's user:, else the sudo user, else root. The
 * probe and workload run as the first item's user (t->user). */
static int run_user(const struct run_args *a, struct fl_sut *t)
{
	const char *su = getenv("SUDO_USER"), *uid = getenv("SUDO_UID");
	const char *want = a->user;
	bool told = false;

	if (!want && su && *su && uid && strcmp(uid, "0"))
		want = su;
	if (!want)
		return 0;
	if (!fl_cmd_check && strcmp(want, "root") && !getpwnam(want)) {
		pr_err("run: --user %s: no such user on this system", want);
		return -ENOENT;
	}
	for (size_t k = 0; k < t->n_starts; k++) {
		struct fl_tstart *it = &t->starts[k];

		if (!a->user && it->user)
			continue; /* the target's user: wins over the sudo user */
		free(it->user);
		it->user = strcmp(want, "root") ? strdup(want) : NULL;
		if (strcmp(want, "root") && !it->user)
			return -ENOMEM;
		told = true;
	}
	t->user = t->starts[0].user;
	if (!a->user && told)
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
	a.seeds = calloc((size_t)n, sizeof(*a.seeds));
	ret = FL_EXIT_USAGE;
	if (!scs || !suites || !a.seeds || resolve_names(&a) || load_all(&a, t, scs))
		goto out;
	for (int k = 0; k < a.n_targets; k++)
		if (run_user(&a, t[k]))
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
		for (int i = 0; i < n * a.n_targets; i++) {
			const struct fl_scenario *sc = scs[i / a.n_targets];
			struct fl_run_opts o = a.o;

			o.seed = a.seeds[i / a.n_targets];
			o.seed_random = !a.o.has_seed && !sc->has_seed;
			o.has_seed = true;
			fl_run_plan(sc, t[i % a.n_targets], &o, stdout);
		}
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
	free(a.seeds);
	free(a.paths);
	return ret;
}
