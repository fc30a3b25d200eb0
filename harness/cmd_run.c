// SPDX-License-Identifier: MIT
#include "cmd.h"

#include "log.h"

int do_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pr_err("run: not built yet");
	return FL_EXIT_USAGE;
}
