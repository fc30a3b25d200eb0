// SPDX-License-Identifier: MIT
/* fallacy __supervise SESSION: the session supervisor (injector/supervisor/session.h).
 * Started daemonized by fl_session_ensure(); FALLACY_READY_FD names the
 * pipe on which it says "ok" once it listens. */
#include "cmd.h"
#include "herd.h"

#include <stdlib.h>

#include "log.h"
#include "delay/delay.h"
#include "supervisor/session.h"

int do_supervise(int argc, char **argv)
{
	const char *fd = getenv("FALLACY_READY_FD");
	int ready = fd ? atoi(fd) : -1;

	if (argc != 2) {
		pr_err("usage: fallacy __supervise SESSION (internal; started by fallacy fault)");
		return FL_EXIT_USAGE;
	}
	unsetenv("FALLACY_READY_FD");
	return fl_supervise(argv[1], ready) ? FL_EXIT_USAGE : FL_EXIT_OK;
}

/* fallacy __delayline [OPTIONS] -- delay D ...: injector/delay/delay.h. */
int do_delayline(int argc, char **argv)
{
	return fl_delay_standalone_main(argc, argv);
}

/* fallacy __herd: one node's herd clients, configured by the environment
 * a run gives it (harness/herd.h). */
int do_herd(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return fl_herd_client_main() ? FL_EXIT_USAGE : FL_EXIT_OK;
}
