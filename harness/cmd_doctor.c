// SPDX-License-Identifier: MIT
#include "cmd.h"

#include "log.h"

int do_doctor(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pr_err("doctor: not built yet");
	return FL_EXIT_USAGE;
}
