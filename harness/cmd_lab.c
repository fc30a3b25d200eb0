// SPDX-License-Identifier: MIT
#include "cmd.h"

#include "log.h"

int do_lab(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pr_err("lab: not built yet");
	return FL_EXIT_USAGE;
}
