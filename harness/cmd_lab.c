// SPDX-License-Identifier: MIT
/* fallacy lab up|down|list|exec: thin over injector/lab. */
#include "cmd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctlsock.h"
#include "json.h"
#include "lab/lab.h"
#include "labfile.h"
#include "log.h"
#include "parse.h"
#include "state/state.h"
#include "supervisor/session.h"

static const char lab_usage[] =
	"usage: fallacy lab up NAME [--nodes N | --node NODE ...] [--ipv6] [--lease D|none]\n"
	"                      [--control-user USER] [--delay-queues N]\n"
	"                      [--delay-pmqos on|off] [-j]\n"
	"       fallacy lab down NAME\n"
	"       fallacy lab list [-j]\n"
	"       fallacy lab exec NAME NODE -- CMD [ARG...]\n"
	"\n"
	"A lab is a set of nodes, each a network namespace fl-NAME.NODE with eth0\n"
	"on a bridge in the wire namespace fl-NAME. Addresses come from\n"
	"198.18.0.0/15 (a /23 per lab) and, with --ipv6, fdfa:11ac::/64. Node names\n"
	"resolve inside the lab (lab exec and `ip netns exec` both see them).\n"
	"\n"
	"  up NAME        create a lab (NAME: at most 16 of [a-z0-9_-])\n"
	"    --nodes N    N nodes named n1..nN (1..256, default 3)\n"
	"    --node NODE  a node with this name (repeat; at most 12 bytes each)\n"
	"    --ipv6       also give every node an IPv6 address\n"
	"    --file F     the lab described in a file: nodes with their address family\n"
	"                 (ipv4, ipv6, dual) and link profile (mtu, and the fault\n"
	"                 parameters marked 'lab link' in fault --help: delay 20ms),\n"
	"                 and profiles of node pairs (docs/labs.md#lab-files);\n"
	"                 profiles are faults marked --profile, the lab's normal state\n"
	"    --control-user USER\n"
	"                 a control socket for USER's test code (and root):\n"
	"                 $FALLACY_RUN_DIR/NAME/control/control.sock, JSON lines\n"
	"                 (docs/control.md); it goes with the lab\n"
	"    --lease D    the lab's faults expire D after their last renewal (the\n"
	"                 supervisor renews every D/3), so a killed supervisor's\n"
	"                 faults stop by themselves (default 10s; 1s to 24h; none:\n"
	"                 they stay until removed, across a supervisor restart)\n"
	"    --delay-queues N\n"
	"                 the delay line reads N netfilter queues, one thread each,\n"
	"                 pinned to a CPU; flows are spread by address pair (1 to 16,\n"
	"                 default 1; helps where CPUs outnumber the line's work:\n"
	"                 docs/delay-and-rate.md)\n"
	"    --delay-pmqos on|off\n"
	"                 while the delay line holds packets (under 20 000/s), ask\n"
	"                 for CPU wake-up latency 0 (/dev/cpu_dma_latency): idle CPUs\n"
	"                 poll, wake-ups are punctual (default on; off saves power)\n"
	"    -j, --json   print the lab as JSON\n"
	"  down NAME      remove the lab and everything recorded for it\n"
	"  list           the labs under $FALLACY_RUN_DIR (default /run/fallacy)\n"
	"  exec NAME NODE -- CMD\n"
	"                 run CMD inside NODE; exits with CMD's status (128+N if\n"
	"                 killed by signal N)\n"
	"\n"
	"EXAMPLES\n"
	"  fallacy lab up demo                      # n1 n2 n3 on 198.18.0.0/23\n"
	"  fallacy lab up db --node etcd1 --node etcd2 --node etcd3 --ipv6\n"
	"  fallacy lab up edge --file scenarios/examples/edge-lab.yaml\n"
	"  fallacy lab up ci --nodes 3 --control-user nobody\n"
	"  fallacy lab up wide --nodes 8 --delay-queues 4   # a delay thread per CPU\n"
	"  fallacy lab list -j\n"
	"  fallacy lab exec demo n1 -- ping -c1 n2\n"
	"  ip netns exec fl-demo.n1 ping -c1 n2     # the same with iproute2\n"
	"  fallacy lab down demo\n"
	"\n"
	"Exit status: 0 ok, 2 bad input (invalid or duplicate name) or kernel error.\n";

/* ---- output: text and JSON from the same calls (json.h) ------------------ */

/* JSON "key": val, or null when val is NULL; text printf(fmt, val or "-")
 * when fmt is not NULL. */
static void str_or_null(struct fl_out *o, const char *key, const char *fmt, const char *val)
{
	if (o->json && !val)
		fl_out_null(o, key);
	else
		fl_out_strf(o, key, fmt, val ? val : "-");
}

/* a node's addresses by its families (an IPv4-only or IPv6-only node has
 * null for the other), and its link MTU */
static void print_node(struct fl_out *o, const struct fl_node *n)
{
	char a4[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET, &n->ip4, a4, sizeof(a4));
	inet_ntop(AF_INET6, &n->ip6, a6, sizeof(a6));
	fl_out_open(o, "", '{');
	fl_out_strf(o, "name", "  %-12s ", n->name);
	fl_out_strf(o, "netns", NULL, n->netns);
	fl_out_strf(o, "port", NULL, n->port);
	str_or_null(o, "ipv4", "%-15s ", n->fam & FL_NODE_V4 ? a4 : NULL);
	str_or_null(o, "ipv6", "%-22s ", n->fam & FL_NODE_V6 ? a6 : NULL);
	fl_out_u64f(o, "mtu", NULL, n->mtu ? n->mtu : 1500);
	if (!o->json)
		fprintf(o->f, "%s\n", n->netns);
	fl_out_close(o, '}');
}

/* lab list (a table) and lab up (the lab and its nodes): in JSON, an array
 * of labs with their nodes either way. */
static const char *control_path(const char *lab, char *buf, size_t len);

static void print_labs(FILE *f, struct fl_lab **labs, size_t n, bool json, bool nodes)
{
	struct fl_out o = { .f = f, .json = json };
	char net[INET_ADDRSTRLEN + 4], ctl[4096];

	fl_out_open(&o, "", '[');
	if (!json && !nodes)
		fprintf(f, "%-16s %-9s %5s  %-16s %s\n", "LAB", "STATE", "NODES", "IPV4", "IPV6");
	for (size_t i = 0; i < n; i++) {
		const struct fl_lab *l = labs[i];

		inet_ntop(AF_INET, &l->net4, net, sizeof(net));
		snprintf(net + strlen(net), sizeof(net) - strlen(net), "/%d", l->prefix4_len);
		fl_out_open(&o, "", '{');
		fl_out_strf(&o, "name", nodes ? "lab %s " : "%-16s ", l->name);
		fl_out_strf(&o, "state", nodes ? "%s: " : "%-9s ", l->state);
		if (!json && nodes)
			fprintf(f, "%zu nodes on ", l->n_nodes);
		else if (!json)
			fprintf(f, "%5zu  ", l->n_nodes);
		fl_out_strf(&o, "wire_netns", NULL, l->wire_netns);
		fl_out_strf(&o, "bridge", NULL, l->bridge);
		fl_out_strf(&o, "ipv4_subnet", nodes ? "%s, " : "%-16s ", net);
		str_or_null(&o, "ipv6_subnet", nodes ? NULL : "%s\n",
			    fl_lab_has6(l) ? FL_LAB_SUBNET6 : NULL);
		if (json)
			str_or_null(&o, "control", NULL, control_path(l->name, ctl, sizeof(ctl)));
		if (!json && nodes)
			fprintf(f, "wire namespace %s\n", l->wire_netns);
		fl_out_open(&o, "nodes", '[');
		for (size_t k = 0; (json || nodes) && k < l->n_nodes; k++)
			print_node(&o, &l->nodes[k]);
		fl_out_close(&o, ']');
		fl_out_close(&o, '}');
	}
	fl_out_close(&o, ']');
	if (json)
		fputc('\n', f);
}

static int has_flag(int argc, char **argv, const char *a, const char *b)
{
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], a) || (b && !strcmp(argv[i], b)))
			return 1;
	return 0;
}

/* ---- lab up ------------------------------------------------------------- */

struct up_args {
	const char *name;
	const char *file;
	const char *nodes[FL_LAB_MAX_NODES + 1];
	size_t n_named;
	long count;
	int ipv6;
	bool json;
	const char *control_user;
};

static int up_lease(const char *text)
{
	struct fl_err e;
	uint64_t ns;

	if (fl_lease_parse(text, &ns, &e)) {
		pr_err("lab up: --lease %s", e.msg);
		return -EINVAL;
	}
	fl_session_set_lease(ns);
	return 0;
}

static int up_queues(const char *text)
{
	struct fl_err e;
	uint64_t n;

	if (fl_parse_u64(text, 1, FL_DELAY_QUEUES_MAX, &n, &e)) {
		pr_err("lab up: --delay-queues: %s", e.msg);
		return -EINVAL;
	}
	fl_session_set_delay_queues((int)n);
	return 0;
}

static int up_pmqos(const char *text)
{
	if (strcmp(text, "on") && strcmp(text, "off")) {
		pr_err("lab up: --delay-pmqos %s: expected on or off", text);
		return -EINVAL;
	}
	fl_session_set_delay_pmqos(!strcmp(text, "on"));
	return 0;
}

static int parse_up(int argc, char **argv, struct up_args *a)
{
	char *end;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "--ipv6")) {
			a->ipv6 = 1;
		} else if (!strcmp(o, "-j") || !strcmp(o, "--json")) {
			a->json = true;
		} else if (!strcmp(o, "--lease") && i + 1 < argc) {
			if (up_lease(argv[++i]))
				return -EINVAL;
		} else if (!strcmp(o, "--delay-queues") && i + 1 < argc) {
			if (up_queues(argv[++i]))
				return -EINVAL;
		} else if (!strcmp(o, "--delay-pmqos") && i + 1 < argc) {
			if (up_pmqos(argv[++i]))
				return -EINVAL;
		} else if (!strcmp(o, "--nodes") && i + 1 < argc) {
			a->count = strtol(argv[++i], &end, 10);
			if (*end || end == argv[i] || a->count < 1 || a->count > FL_LAB_MAX_NODES) {
				pr_err("lab up: --nodes %s: expected a number of nodes from 1 to %d",
				       argv[i], FL_LAB_MAX_NODES);
				return -EINVAL;
			}
		} else if (!strcmp(o, "--file") && i + 1 < argc) {
			a->file = argv[++i];
		} else if (!strcmp(o, "--control-user") && i + 1 < argc) {
			a->control_user = argv[++i];
		} else if (!strcmp(o, "--node") && i + 1 < argc) {
			if (a->n_named >= FL_LAB_MAX_NODES) {
				pr_err("lab up: more than %d nodes", FL_LAB_MAX_NODES);
				return -EINVAL;
			}
			a->nodes[a->n_named++] = argv[++i];
		} else if (o[0] != '-' && !a->name) {
			a->name = o;
		} else {
			pr_err("lab up: unexpected argument '%s' (see fallacy lab --help)", o);
			return -EINVAL;
		}
	}
	if (!a->name) {
		pr_err("lab up: missing the lab NAME (see fallacy lab --help)");
		return -EINVAL;
	}
	if ((a->count != 0) + (a->n_named != 0) + (a->file != NULL) > 1) {
		pr_err("lab up: give one of --nodes N, --node NAME... or --file F");
		return -EINVAL;
	}
	return 0;
}

/* RUN_DIR/LAB/control/control.sock when the lab has one, else NULL. */
static const char *control_path(const char *lab, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/control/control.sock", fl_run_dir(), lab);
	return access(buf, F_OK) ? NULL : buf;
}

/* --control-user: the lab's control socket, or the lab goes again. */
static int lab_control(const struct up_args *a, uid_t *uid)
{
	struct fl_err e;
	gid_t gid;

	/* like a target's tools, users belong to the machine, not the words */
	if (!a->control_user || fl_cmd_check)
		return 0;
	if (fl_ctlsock_user(a->control_user, uid, &gid, &e)) {
		pr_err("lab up: --control-user %s", e.msg);
		return -EINVAL;
	}
	if (fl_control_spawn(a->name, *uid, gid)) {
		fl_lab_down(a->name);
		return -EIO;
	}
	return 0;
}

static void on_interrupt(int sig)
{
	(void)sig;
	fl_lab_interrupted = 1;
}

/* --file: read and check everything before the lab exists; after lab up,
 * the profiles (a failure takes the lab down again: nothing half-made). */
static int lab_file(const struct up_args *a, struct fl_labfile **lf, struct fl_lab_spec *spec)
{
	struct fl_err err;

	if (fl_labfile_load(a->file, lf, &err) || fl_labfile_validate(*lf, a->file, &err)) {
		pr_err("%s", err.msg);
		return -EINVAL;
	}
	fl_labfile_spec(*lf, a->name, spec);
	if (a->ipv6)
		spec->ipv6 = true;
	return 0;
}

static int lab_up(int argc, char **argv)
{
	struct up_args a = { 0 };
	struct fl_lab_spec spec = { 0 };
	struct sigaction sa = { .sa_handler = on_interrupt };
	struct fl_labfile *lf = NULL;
	struct fl_lab *lab = NULL;
	struct fl_err e;
	char ctl[4096];
	uid_t uid = 0;
	int err;

	if (parse_up(argc, argv, &a))
		return FL_EXIT_USAGE;
	spec.name = a.name;
	spec.ipv6 = a.ipv6;
	spec.n_nodes = a.n_named ? a.n_named : a.count ? (size_t)a.count : 3;
	spec.node_names = a.n_named ? a.nodes : NULL;
	if (a.file && lab_file(&a, &lf, &spec))
		return FL_EXIT_USAGE;
	if (fl_cmd_check) {
		struct fl_err ve;

		free(lf);
		if (lab_control(&a, &uid))
			return FL_EXIT_USAGE;
		if (!fl_lab_validate(&spec, &ve))
			return FL_EXIT_OK;
		pr_err("%s", ve.msg); /* as fl_lab_up says it */
		return FL_EXIT_USAGE;
	}
	/* Ctrl-C or SIGTERM: stop after the current node and roll back. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	err = fl_lab_up(&spec, &lab);
	if (!err && lf && fl_labfile_apply(lf, a.name, 0, &e)) {
		pr_err("lab %s: applying the profiles of %s: %s; removing the lab", a.name, a.file,
		       e.msg);
		fl_lab_down(a.name);
		err = -EINVAL;
	}
	free(lf);
	if (!err)
		err = lab_control(&a, &uid);
	if (err) {
		fl_lab_free(lab);
		return FL_EXIT_USAGE;
	}
	if (a.file) { /* the MTUs the profiles set */
		fl_lab_free(lab);
		fl_lab_load(a.name, &lab);
	}
	print_labs(stdout, &lab, lab ? 1 : 0, a.json, true);
	if (!a.json && lab && control_path(lab->name, ctl, sizeof(ctl)))
		printf("control socket for uid %u: %s\n", (unsigned)uid, ctl);
	fl_lab_free(lab);
	return FL_EXIT_OK;
}

/* ---- lab down, list ------------------------------------------------------ */

/* --check: a lab NAME and, for exec, a NODE name, checked for form only. */
static int check_names(const char *what, const char *lab, const char *node)
{
	struct fl_err e;

	if (fl_validate_name("lab", lab, FL_LAB_NAME_MAX, &e) ||
	    (node && fl_validate_name("node", node, FL_NODE_NAME_MAX, &e))) {
		pr_err("lab %s: %s", what, e.msg);
		return FL_EXIT_USAGE;
	}
	return FL_EXIT_OK;
}

static int lab_down(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		pr_err("lab down: expected exactly one lab NAME (see fallacy lab --help)");
		return FL_EXIT_USAGE;
	}
	if (fl_cmd_check)
		return check_names("down", argv[1], NULL);
	return fl_lab_down(argv[1]) ? FL_EXIT_USAGE : FL_EXIT_OK;
}

static int lab_list(int argc, char **argv)
{
	struct fl_lab **labs = NULL;
	char **names = NULL;
	size_t n = 0, k = 0;
	bool json = has_flag(argc, argv, "-j", "--json");
	int err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-j") && strcmp(argv[i], "--json")) {
			pr_err("lab list: unexpected argument '%s' (see fallacy lab --help)",
			       argv[i]);
			return FL_EXIT_USAGE;
		}
	}
	if (fl_cmd_check)
		return FL_EXIT_OK;
	err = fl_state_list(&names, &n);
	if (err) {
		pr_err("lab list: reading %s: %s", fl_run_dir(), strerror(-err));
		return FL_EXIT_USAGE;
	}
	labs = calloc(n + 1, sizeof(*labs));
	for (size_t i = 0; labs && i < n; i++) {
		if (names[i][0] == '@') /* not a lab: wrap or attach sessions */
			continue;
		if (fl_lab_load(names[i], &labs[k]) == 0)
			k++;
		else
			pr_warn("session %s has no readable lab file (interrupted lab up?);"
				" remove it with 'fallacy cleanup %s'",
				names[i], names[i]);
	}
	if (labs)
		print_labs(stdout, labs, k, json, false);
	for (size_t i = 0; i < k; i++)
		fl_lab_free(labs[i]);
	free(labs);
	fl_strv_free(names, n);
	return labs ? FL_EXIT_OK : FL_EXIT_USAGE;
}

/* ---- lab exec -------------------------------------------------------------- */

static pid_t exec_child;

static void forward_signal(int sig)
{
	if (exec_child > 0)
		kill(exec_child, sig);
}

static int wait_child(pid_t pid)
{
	struct sigaction fwd = { .sa_handler = forward_signal }, ign = { .sa_handler = SIG_IGN };
	int status;

	exec_child = pid;
	/* the terminal sends SIGINT/SIGQUIT to the child too */
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGQUIT, &ign, NULL);
	sigaction(SIGTERM, &fwd, NULL);
	sigaction(SIGHUP, &fwd, NULL);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			pr_err("lab exec: waiting for the command: %s", strerror(errno));
			return FL_EXIT_USAGE;
		}
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int lab_exec(int argc, char **argv)
{
	const struct fl_node *node;
	struct fl_lab *lab = NULL;
	int cmd = 3, err;
	pid_t pid;

	if (argc > 3 && !strcmp(argv[3], "--"))
		cmd = 4;
	if (argc <= cmd) {
		pr_err("lab exec: expected NAME NODE -- CMD [ARG...] (see fallacy lab --help)");
		return FL_EXIT_USAGE;
	}
	if (fl_cmd_check)
		return check_names("exec", argv[1], argv[2]);
	err = fl_lab_load(argv[1], &lab);
	if (err) {
		pr_err("lab exec: no lab named '%s' in %s (see 'fallacy lab list')", argv[1],
		       fl_run_dir());
		return FL_EXIT_USAGE;
	}
	node = fl_lab_node(lab, argv[2]);
	if (!node) {
		pr_err("lab exec: lab %s has no node '%s' (nodes: %s ... %s)", lab->name, argv[2],
		       lab->nodes[0].name, lab->nodes[lab->n_nodes - 1].name);
		fl_lab_free(lab);
		return FL_EXIT_USAGE;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		err = fl_lab_exec(node->netns, argv + cmd);
		_exit(err == -ENOENT ? 127 : 126);
	}
	fl_lab_free(lab);
	if (pid < 0) {
		pr_err("lab exec: fork: %s", strerror(errno));
		return FL_EXIT_USAGE;
	}
	return wait_child(pid);
}

int do_lab(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subs[] = { { "up", lab_up },
		     { "down", lab_down },
		     { "list", lab_list },
		     { "ls", lab_list },
		     { "exec", lab_exec } };

	int help = argc < 2 || (fl_wants_help(argc, argv) &&
				(strcmp(argv[1], "exec") || argc < 3 || argv[2][0] == '-'));

	if (help) {
		fputs(lab_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? FL_EXIT_USAGE : FL_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(argc - 1, argv + 1);
	pr_err("lab: unknown subcommand '%s' (use up, down, list or exec)", argv[1]);
	return FL_EXIT_USAGE;
}
