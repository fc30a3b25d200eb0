// SPDX-License-Identifier: MIT
/* fallacy agent --stdio: the agent of one host (docs/agent.md), one JSON
 * request per line on stdin, one answer line each on stdout, logs on
 * stderr. Whatever carries stdin and stdout (a pipe, ssh) authenticates
 * the controller: the agent opens no port. */
#include "cmd.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"

static const char agent_usage[] =
	"usage: fallacy agent --stdio\n"
	"\n"
	"Serves the agent protocol on stdin and stdout: one JSON request per line,\n"
	"one JSON answer line each, logs on stderr. A controller runs it over a pipe\n"
	"or `ssh HOST sudo fallacy agent --stdio`; the agent opens no network port.\n"
	"Verbs: version, targets (the namespaces it can see), put (a target's whole\n"
	"fault set, idempotent), renew (its lease), reset, list (with counters),\n"
	"del and counters. A target is {\"netns\": NAME} (or /run/netns/NAME,\n"
	"/proc/PID/ns/net) or {\"pid\": PID}; fault words are those of `fallacy fault\n"
	"add`. Every put carries a lease (default 10s): when the controller stops\n"
	"renewing it, the target's faults are removed, and they end with it even if\n"
	"the agent is killed. At the end of stdin the agent waits for the last lease\n"
	"to run out, removes those faults and exits; SIGTERM removes them at once.\n"
	"The protocol: docs/agent.md.\n"
	"\n"
	"  --stdio   serve on stdin/stdout (the only transport)\n"
	"\n"
	"EXAMPLES\n"
	"  echo '{\"verb\":\"targets\"}' | sudo fallacy agent --stdio\n"
	"  printf '%s\\n' '{\"verb\":\"put\",\"target\":{\"netns\":\"h1\"},\"faults\":[\"delay 50ms\"],\"lease\":\"10s\"}' \\\n"
	"      | sudo fallacy agent --stdio\n"
	"  ssh root@h1 fallacy agent --stdio\n"
	"\n"
	"Exit status: 0 the input ended (or a signal), 2 bad usage.\n";

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
	int ret;

	if (fl_agent_new(&a)) {
		pr_err("agent: out of memory");
		return FL_EXIT_USAGE;
	}
	running = a;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = fl_agent_serve(a, STDIN_FILENO, stdout);
	if (ret)
		pr_err("agent: reading stdin: %s", strerror(-ret));
	running = NULL;
	fl_agent_free(a);
	return ret ? FL_EXIT_USAGE : FL_EXIT_OK;
}

int do_agent(int argc, char **argv)
{
	if (fl_wants_help(argc, argv)) {
		fputs(agent_usage, stdout);
		return FL_EXIT_OK;
	}
	if (argc == 2 && !strcmp(argv[1], "--stdio"))
		return fl_cmd_check ? FL_EXIT_OK : serve_stdio();
	pr_err("agent: expected --stdio (see fallacy agent --help)");
	return FL_EXIT_USAGE;
}
