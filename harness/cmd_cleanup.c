// SPDX-License-Identifier: MIT
/* fallacy cleanup [NAME | --all]: undo what the journals under
 * $FALLACY_RUN_DIR recorded (labs, and '@' sessions of wrap/attach). */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "state/state.h"

static const char cleanup_usage[] =
	"usage: fallacy cleanup NAME | --all\n"
	"\n"
	"Remove everything a lab or session recorded in its journal under\n"
	"$FALLACY_RUN_DIR (default /run/fallacy): processes, iptables rules, qdiscs,\n"
	"links, namespaces, hosts files; newest first. Objects already gone are\n"
	"fine; anything fallacy did not record is never touched. Use it after a\n"
	"crash or kill -9; 'lab down' is the same for one lab.\n"
	"\n"
	"  NAME    a lab name, or a session such as @wrap-1234 (see --all -v)\n"
	"  --all   every lab and session under $FALLACY_RUN_DIR\n"
	"\n"
	"EXAMPLES\n"
	"  fallacy cleanup demo\n"
	"  fallacy cleanup --all\n"
	"  FALLACY_RUN_DIR=/run/fallacy-ci fallacy cleanup --all\n"
	"\n"
	"Exit status: 0 everything is gone, 2 something could not be removed.\n";

static int clean_one(const char *name)
{
	int err = fl_state_cleanup(name);

	if (err == -ENOENT) {
		pr_info("nothing recorded for '%s' in %s", name, fl_run_dir());
		return 0;
	}
	if (err) {
		pr_err("cleanup %s: %s; fix the cause and run 'fallacy cleanup %s' again", name,
		       strerror(-err), name);
		return err;
	}
	printf("removed %s\n", name);
	return 0;
}

static int clean_all(void)
{
	char **names = NULL;
	size_t n = 0;
	int err = fl_state_list(&names, &n), ret = 0;

	if (err) {
		pr_err("cleanup: reading %s: %s", fl_run_dir(), strerror(-err));
		return err;
	}
	for (size_t i = 0; i < n; i++) {
		err = clean_one(names[i]);
		if (err && !ret)
			ret = err;
	}
	fl_strv_free(names, n);
	if (!ret) {
		fl_agent_records_clear(); /* the agents' sessions are gone too */
		rmdir(fl_run_dir()); /* only when empty; fine if it fails */
	}
	return ret;
}

int do_cleanup(int argc, char **argv)
{
	if (fl_wants_help(argc, argv)) {
		fputs(cleanup_usage, stdout);
		return FL_EXIT_OK;
	}
	if (argc != 2) {
		fputs(cleanup_usage, stderr);
		return FL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--all") || !strcmp(argv[1], "-a"))
		return fl_cmd_check ? FL_EXIT_OK : clean_all() ? FL_EXIT_USAGE : FL_EXIT_OK;
	if (argv[1][0] == '-' || strchr(argv[1], '/')) {
		pr_err("cleanup: '%s' is not a lab or session name (see fallacy cleanup --help)",
		       argv[1]);
		return FL_EXIT_USAGE;
	}
	if (fl_cmd_check)
		return FL_EXIT_OK;
	return clean_one(argv[1]) ? FL_EXIT_USAGE : FL_EXIT_OK;
}
