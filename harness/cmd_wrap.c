// SPDX-License-Identifier: MIT
#include "cmd.h"

#include "log.h"

int do_wrap(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pr_err("wrap: not built yet");
	return FL_EXIT_USAGE;
}
