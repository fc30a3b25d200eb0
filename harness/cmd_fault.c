// SPDX-License-Identifier: MIT
#include "cmd.h"

#include "log.h"

int do_fault(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pr_err("fault: not built yet");
	return FL_EXIT_USAGE;
}
