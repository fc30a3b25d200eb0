/* SPDX-License-Identifier: MIT */
/* Subcommand handlers. Each do_<cmd> gets argv starting at its own name
 * (argv[0] = "lab") and returns the process exit status: 0 success,
 * 1 a check or the wrapped command failed, 2 usage/input/kernel error. */
#ifndef FALLACY_CMD_H
#define FALLACY_CMD_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

enum fl_exit {
	FL_EXIT_OK = 0,
	FL_EXIT_FAIL = 1,
	FL_EXIT_USAGE = 2,
};

enum fl_cmd_flags {
	FL_CMD_HIDDEN = 1, /* internal (e.g. the supervisor entry point) */
	/* do_<cmd> honours fl_cmd_check: it parses and validates its words
	 * and returns before touching the kernel, the state directory or any
	 * process. `fallacy --check` refuses commands without it. */
	FL_CMD_CHECKS = 2,
};

struct fl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	unsigned int flags; /* enum fl_cmd_flags */
};

/* `fallacy --check CMD ARGS...`: validate the command line only. Each
 * checkable do_<cmd> returns FL_EXIT_OK right after its own parser (and the
 * checks that need no kernel: fault words, scenario files) accepted it. */
extern bool fl_cmd_check;

int do_doctor(int argc, char **argv);
int do_lab(int argc, char **argv);
int do_fault(int argc, char **argv);
int do_partition(int argc, char **argv);
int do_link(int argc, char **argv);
int do_node(int argc, char **argv);
int do_readdress(int argc, char **argv);
int do_mtu(int argc, char **argv);
int do_route(int argc, char **argv);
int do_admin(int argc, char **argv);
int do_inject(int argc, char **argv);
int do_wrap(int argc, char **argv);
int do_run(int argc, char **argv);
int do_capture(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_report(int argc, char **argv);
int do_check(int argc, char **argv);
int do_cleanup(int argc, char **argv);
int do_control(int argc, char **argv);
int do_agent(int argc, char **argv);
/* fallacy agent inventory (cmd_inventory.c) */
int fl_cmd_agent_inventory(int argc, char **argv);
int do_process(int argc, char **argv);
int do_supervise(int argc, char **argv);
int do_control_daemon(int argc, char **argv);
int do_man(int argc, char **argv);
int do_complete(int argc, char **argv);
int do_delayline(int argc, char **argv);
int do_herd(int argc, char **argv);

extern const struct fl_cmd fl_cmds[];

/* Start the server of lab's control socket for uid (`lab up
 * --control-user`): `fallacy __control LAB UID GID`, daemonized, journaled
 * in the lab (lab down stops it). 0 once it listens, or -errno after a
 * message. */
int fl_control_spawn(const char *lab, uid_t uid, gid_t gid);

/* `fallacy --help` (main.c). */
void fl_usage(FILE *f);
/* What `fallacy CMD --help` prints (NULL: `fallacy --help`), malloc'ed. */
char *fl_help_text(const struct fl_cmd *c);
/* A visible command by name, or NULL. */
const struct fl_cmd *fl_cmd_named(const char *name);

/* True when argv has -h/--help before any "--". */
int fl_wants_help(int argc, char **argv);

#endif
