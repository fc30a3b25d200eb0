// SPDX-License-Identifier: MIT
/* fallacy agent --stdio: the agent of one host (docs/agent.md), one JSON
 * request per line on stdin, one answer line each on stdout, logs on
 * stderr. Whatever carries stdin and stdout (a pipe, ssh) authenticates
 * the controller: the agent opens no port. */
#include "cmd.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "carrier.h"
#include "log.h"
#include "parse.h"
#include "yaml.h"
#include "state/state.h"

static const char agent_usage[] =
	"usage: fallacy agent --stdio\n"
	"       fallacy agent call CARRIER VERB [JSON]\n"
	"       fallacy agent call CARRIER --hold put JSON\n"
	"       fallacy agent call CARRIER --stdin\n"
	"       fallacy agent inventory FILE [--nodes N] [--target T] [--check] [-j]\n"
	"       fallacy agent inventory FILE [--nodes N] [--target T] --put NODE FAULT...\n"
	"                               [--lease D] [--hold]\n"
	"  CARRIER: --local | --ssh HOST [-o OPT]... [--remote CMD]\n"
	"         | --kubectl POD [--namespace NS] [--context CTX] [--remote CMD]\n"
	"\n"
	"`agent --stdio` serves the agent protocol on stdin and stdout: one JSON\n"
	"request per line, one JSON answer line each, logs on stderr. A controller\n"
	"runs it over a pipe or `ssh HOST sudo fallacy agent --stdio`; the agent\n"
	"opens no network port. Verbs: version, targets (the namespaces it can\n"
	"see), put (a target's whole fault set, idempotent), renew (its lease),\n"
	"reset, list (with counters), del, counters and capture (a pcap left on\n"
	"the host). A target is {\"netns\": NAME} (or /run/netns/NAME,\n"
	"/proc/PID/ns/net), {\"pid\": PID} or {\"pod\": UID} (a Kubernetes pod\n"
	"on this host, found by its cgroup); fault words are those of `fallacy\n"
	"fault add`. Every put carries a lease (default 10s):\n"
	"when the controller stops renewing it, the target's faults are removed,\n"
	"and they end with it even if the agent is killed. At the end of stdin the\n"
	"agent waits for the last lease to run out, removes those faults and exits;\n"
	"SIGTERM removes them at once.\n"
	"\n"
	"`agent call` is a controller: it starts an agent through a carrier, this\n"
	"host's own (--local), a host's over OpenSSH (--ssh) or an agent pod's over\n"
	"`kubectl exec` (--kubectl: docs/kubernetes.md), sends VERB with the\n"
	"members of JSON and prints the answer line, or with --stdin sends each\n"
	"line of stdin and prints each answer. It then closes the agent's input and\n"
	"waits for the agent to end, so a put lasts its lease; with --hold it renews\n"
	"the put's lease every third of it until SIGTERM or ^C, then resets the\n"
	"target (killed, it lets the faults end with the lease). The protocol:\n"
	"docs/agent.md.\n"
	"\n"
	"`agent inventory` reads an inventory (hosts: a list of hosts reached over\n"
	"ssh, each with its target; or kubernetes: a namespace and a selector whose\n"
	"pods are reached through the agent pod of their node) and prints where\n"
	"each scenario node n1..nN is and how its agent is reached; with --check\n"
	"it asks each agent for its targets and says whether it sees the node's\n"
	"(exit 1 when one does not). With --put NODE FAULT (repeated: a node's\n"
	"faults are one put) it puts faults through each node's agent with a\n"
	"lease, as `agent call` does; NODE is n1.., a host's name or a pod's. The\n"
	"format: docs/kubernetes.md.\n"
	"\n"
	"  --stdio         serve on stdin/stdout\n"
	"  --local         call this host's agent (this binary, on pipes)\n"
	"  --ssh HOST      call HOST's: ssh -T -o BatchMode=yes [-o OPT]... HOST CMD\n"
	"  -o OPT          an ssh option (IdentityFile=..., Port=..., UserKnownHostsFile=...)\n"
	"  --kubectl POD   call agent pod POD's: kubectl exec -i -n NS POD -- CMD\n"
	"  --namespace NS  the agent pod's namespace (default: fallacy)\n"
	"  --context CTX   the kubectl context (default: kubectl's current one)\n"
	"  --remote CMD    the agent's command on HOST (default: sudo fallacy agent --stdio)\n"
	"                  or in POD (default: fallacy agent --stdio, split on blanks)\n"
	"  --stdin         requests from stdin, one per line\n"
	"  --hold          (put, inventory --put) keep the faults: renew until a\n"
	"                  signal, then reset\n"
	"  --nodes N       (inventory) the scenario's nodes (default: every host or pod)\n"
	"  --target T      (inventory) the target file whose node names and roles the\n"
	"                  nodes take (a host's role: picks a node of that role)\n"
	"  --check         (inventory) ask each node's agent whether it sees its target\n"
	"  -j              (inventory) JSON\n"
	"  --put NODE FAULT  (inventory) put FAULT (the words of fault add) on NODE\n"
	"  --lease D       (inventory --put) the puts' lease (default 10s)\n"
	"\n"
	"EXAMPLES\n"
	"  echo '{\"verb\":\"targets\"}' | sudo fallacy agent --stdio\n"
	"  sudo fallacy agent call --local targets\n"
	"  fallacy agent call --ssh root@h1 version\n"
	"  fallacy agent call --ssh root@h1 put '{\"target\":{\"netns\":\"db\"},\"faults\":[\"delay 50ms\"],\"lease\":\"30s\"}'\n"
	"  fallacy agent call --ssh root@h1 --hold put '{\"target\":{\"pid\":4242},\"faults\":[\"loss 10%\"],\"lease\":\"6s\"}'\n"
	"  fallacy agent call --ssh h1 -o Port=2222 --remote 'fallacy agent --stdio' --stdin < requests.jsonl\n"
	"  fallacy agent inventory deploy/inventories/hosts.yaml --nodes 3 --check\n"
	"  fallacy agent inventory deploy/inventories/hosts.yaml --target redis\n"
	"  fallacy agent inventory deploy/inventories/etcd-pods.yaml --put etcd-0 'delay 50ms' --put n2 'loss 5%' --hold\n"
	"  fallacy agent call --kubectl fallacy-agent-x7k2p put '{\"target\":{\"pod\":\"0b2c4e6a-1111-4a2b-8c3d-00000000000a\"},\"faults\":[\"delay 50ms\"],\"lease\":\"30s\"}'\n"
	"\n"
	"Exit status: 0 done (or the input ended), 1 a request was refused, 2 bad\n"
	"usage, or the agent could not be reached.\n";

static struct fl_agent *running;

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		running->stop = 1;
}

static int serve_stdio(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct fl_agent *a = NULL;
	sigset_t block, old;
	int ret, err;

	if (fl_agent_new(&a)) {
		pr_err("agent: out of memory");
		return FL_EXIT_USAGE;
	}
	running = a;
	a->records = true;
	err = fl_agent_recover();
	if (err < 0 && err != -EACCES && err != -EPERM && err != -EROFS) /* not root: none */
		pr_warn("agent: the sessions of earlier agents in %s/agent-sessions: %s",
			fl_run_dir(), strerror(-err));
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	a->wait_mask = &old; /* taken while waiting for input only */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = fl_agent_serve(a, STDIN_FILENO, stdout);
	if (ret)
		pr_err("agent: reading stdin: %s", strerror(-ret));
	running = NULL;
	sigprocmask(SIG_SETMASK, &old, NULL);
	fl_agent_free(a);
	return ret ? FL_EXIT_USAGE : FL_EXIT_OK;
}

/* ---- agent call -------------------------------------------------------------- */

struct call {
	const char *ssh, *remote, *verb, *json;
	struct fl_kubectl k;
	bool local, from_stdin, hold;
	char *opts[FL_CARRIER_MAX_ARGS / 2 + 1];
	int n_opts;
};

static int call_flag(struct call *q, int argc, char **argv, int *i)
{
	const char *a = argv[*i];

	if (!strcmp(a, "--local")) {
		q->local = true;
	} else if (!strcmp(a, "--stdin")) {
		q->from_stdin = true;
	} else if (!strcmp(a, "--hold")) {
		q->hold = true;
	} else if ((!strcmp(a, "--ssh") || !strcmp(a, "--remote") || !strcmp(a, "-o") ||
		    !strcmp(a, "--kubectl") || !strcmp(a, "--namespace") ||
		    !strcmp(a, "--context")) &&
		   *i + 1 < argc) {
		const char *v = argv[++*i];

		if (a[2] == 's')
			q->ssh = v;
		else if (a[2] == 'r')
			q->remote = v;
		else if (a[2] == 'k')
			q->k.pod = v;
		else if (a[2] == 'n')
			q->k.ns = v;
		else if (a[2] == 'c')
			q->k.context = v;
		else if (q->n_opts + 2 >= FL_CARRIER_MAX_ARGS / 2)
			return -E2BIG;
		else {
			q->opts[q->n_opts++] = "-o";
			q->opts[q->n_opts++] = (char *)v;
		}
	} else {
		pr_err("agent call: unknown option '%s' (see fallacy agent --help)", a);
		return -EINVAL;
	}
	return 0;
}

static int verb_ok(const char *v)
{
	if (!*v)
		return 0;
	for (; *v; v++)
		if (!islower((unsigned char)*v))
			return 0;
	return 1;
}

/* call (--local | --ssh HOST [-o OPT]... [--remote CMD]) (VERB [JSON] | --stdin) */
static int parse_call(int argc, char **argv, struct call *q)
{
	int i, n = 0;
	const char *pos[2] = { NULL };

	for (i = 2; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			if (call_flag(q, argc, argv, &i))
				return -EINVAL;
		} else if (n < 2) {
			pos[n++] = argv[i];
		} else {
			pr_err("agent call: unexpected '%s' (VERB [JSON])", argv[i]);
			return -EINVAL;
		}
	}
	q->verb = pos[0];
	q->json = pos[1];
	if (q->local + !!q->ssh + !!q->k.pod != 1) {
		pr_err("agent call: give one of --local, --ssh HOST or --kubectl POD");
		return -EINVAL;
	}
	if (q->local && q->remote) {
		pr_err("agent call: --remote is for --ssh and --kubectl");
		return -EINVAL;
	}
	if (!q->ssh && q->n_opts) {
		pr_err("agent call: -o is for --ssh");
		return -EINVAL;
	}
	if (!q->k.pod && (q->k.ns || q->k.context)) {
		pr_err("agent call: --namespace and --context are for --kubectl");
		return -EINVAL;
	}
	if (q->from_stdin == !!q->verb) {
		pr_err("agent call: give a VERB (and its JSON members), or --stdin");
		return -EINVAL;
	}
	if (q->hold && (!q->verb || strcmp(q->verb, "put"))) {
		pr_err("agent call: --hold is for put (it renews that put's lease until a signal)");
		return -EINVAL;
	}
	if (q->verb && !verb_ok(q->verb)) {
		pr_err("agent call: '%s' is not a verb (version, targets, put, renew, reset, list...)",
		       q->verb);
		return -EINVAL;
	}
	return 0;
}

/* One request, its answer printed (and kept in *kept, if given); 0 ok,
 * 1 refused, 2 no answer. */
static int exchange(struct fl_carrier *c, const char *req, char **kept)
{
	char *ans = NULL;
	int err = fl_carrier_request(c, req, &ans), ret;

	if (err) {
		pr_err("agent call: %s: %s", c->what,
		       err == -ETIMEDOUT ? "no answer in time" : strerror(-err));
		return FL_EXIT_USAGE;
	}
	puts(ans);
	fflush(stdout);
	ret = strncmp(ans, "{\"ok\":true", 10) ? FL_EXIT_FAIL : FL_EXIT_OK;
	if (kept)
		*kept = ans;
	else
		free(ans);
	return ret;
}

/* --hold: the target and lease a put's answer names, the target as JSON. */
static int put_of(const char *ans, char *target, size_t len, uint64_t *lease)
{
	const struct fl_ynode *t, *l, *ns, *pid;
	struct fl_ydoc *d = NULL;
	struct fl_err err = { "" };
	int ret = -EPROTO;

	if (fl_yaml_load("answer", ans, &d, &err) || !d->root)
		goto out;
	t = fl_ymap_get(d->root, "target");
	l = fl_ymap_get(d->root, "lease");
	if (!t || !l || !l->text || fl_parse_duration(l->text, lease, &err) || !*lease)
		goto out;
	ns = fl_ymap_get(t, "netns");
	pid = fl_ymap_get(t, "pid");
	if (ns && ns->text && !strpbrk(ns->text, "\"\\"))
		ret = snprintf(target, len, "{\"netns\":\"%s\"}", ns->text) < (int)len ? 0 : ret;
	else if (pid && pid->text && strspn(pid->text, "0123456789") == strlen(pid->text))
		ret = snprintf(target, len, "{\"pid\":%s}", pid->text) < (int)len ? 0 : ret;
out:
	fl_yaml_free(d);
	return ret;
}

static volatile sig_atomic_t call_stop;

static void on_call_signal(int sig)
{
	(void)sig;
	call_stop = 1;
}

/* Renew the put's lease every third of it until a signal, then reset. */
static int hold(struct fl_carrier *c, const char *ans)
{
	struct sigaction sa = { .sa_handler = on_call_signal }; /* no SA_RESTART */
	char target[128], renew[192], reset[192];
	uint64_t lease, third;
	struct timespec ts;
	int ret = FL_EXIT_OK;

	if (put_of(ans, target, sizeof(target), &lease)) {
		pr_err("agent call --hold: the put's answer names no target and lease");
		return FL_EXIT_USAGE;
	}
	snprintf(renew, sizeof(renew), "{\"verb\":\"renew\",\"target\":%s}", target);
	snprintf(reset, sizeof(reset), "{\"verb\":\"reset\",\"target\":%s}", target);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	third = lease / 3;
	pr_info("agent call: holding %s, renewing every %llu ms (SIGTERM or ^C ends it)", target,
		(unsigned long long)(third / 1000000));
	while (!call_stop && ret == FL_EXIT_OK) {
		char *a = NULL;

		ts.tv_sec = (time_t)(third / 1000000000ull);
		ts.tv_nsec = (long)(third % 1000000000ull);
		if (nanosleep(&ts, NULL) && call_stop)
			break;
		if (fl_carrier_request(c, renew, &a)) {
			pr_err("agent call --hold: %s: no answer to renew", c->what);
			ret = FL_EXIT_USAGE;
		} else if (strncmp(a, "{\"ok\":true", 10)) {
			pr_err("agent call --hold: renew refused: %s", a);
			ret = FL_EXIT_FAIL;
		}
		free(a);
	}
	return ret == FL_EXIT_USAGE ? ret : exchange(c, reset, NULL) ?: ret;
}

static int call_stdin(struct fl_carrier *c)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int ret = FL_EXIT_OK, r;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!n)
			continue;
		r = exchange(c, line, NULL);
		if (r == FL_EXIT_USAGE) {
			ret = r;
			break;
		}
		if (r)
			ret = r;
	}
	free(line);
	return ret;
}

static int do_call(int argc, char **argv)
{
	struct call q = { 0 };
	struct fl_carrier *c = NULL;
	char *req = NULL, *ans = NULL;
	int ret, st;

	if (parse_call(argc, argv, &q))
		return FL_EXIT_USAGE;
	if (q.verb && fl_carrier_line(q.verb, q.json, &req)) {
		pr_err("agent call: JSON must be one object on one line: {\"target\": ...}");
		return FL_EXIT_USAGE;
	}
	q.k.remote = q.remote;
	/* made (its host or pod checked) before --check returns; started by open */
	ret = q.local ? fl_carrier_local(&c) :
	      q.ssh   ? fl_carrier_ssh(q.ssh, q.opts, q.remote, &c) :
			fl_carrier_kubectl(&q.k, &c);
	if (!ret && fl_cmd_check) {
		free(req);
		fl_carrier_close(c);
		return FL_EXIT_OK;
	}
	if (!ret && (ret = fl_carrier_open(c)))
		pr_err("agent call: %s: %s", c->what, strerror(-ret));
	if (ret) {
		free(req);
		fl_carrier_close(c);
		return FL_EXIT_USAGE;
	}
	if (!req)
		ret = call_stdin(c);
	else if (!q.hold)
		ret = exchange(c, req, NULL);
	else if (!(ret = exchange(c, req, &ans)))
		ret = hold(c, ans);
	free(ans);
	free(req);
	st = fl_carrier_close(c); /* the agent ends once its leases ran out */
	if (st && ret == FL_EXIT_OK) {
		pr_err("agent call: the agent exited with status %d", st);
		ret = FL_EXIT_USAGE;
	}
	return ret;
}

int do_agent(int argc, char **argv)
{
	if (fl_wants_help(argc, argv)) {
		fputs(agent_usage, stdout);
		return FL_EXIT_OK;
	}
	if (argc == 2 && !strcmp(argv[1], "--stdio"))
		return fl_cmd_check ? FL_EXIT_OK : serve_stdio();
	if (argc >= 2 && !strcmp(argv[1], "call"))
		return do_call(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "inventory"))
		return fl_cmd_agent_inventory(argc, argv);
	pr_err("agent: expected --stdio, call or inventory (see fallacy agent --help)");
	return FL_EXIT_USAGE;
}
