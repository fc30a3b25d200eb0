/* SPDX-License-Identifier: MIT */
/* Diagnostics: pr_err/pr_warn/pr_info/pr_debug with one verbosity switch.
 * Everything goes to stderr, prefixed "fallacy: ". Data output (tables,
 * JSON) is printed by the commands to stdout, never through these. */
#ifndef FALLACY_LOG_H
#define FALLACY_LOG_H

#include <stddef.h>

enum fl_log_level {
	FL_LOG_ERROR = 0,
	FL_LOG_WARN = 1,
	FL_LOG_INFO = 2,
	FL_LOG_DEBUG = 3,
};

/* Messages at or below this level are printed. Default FL_LOG_WARN;
 * -v raises it to INFO, -vv to DEBUG, -q lowers it to ERROR. */
extern int fl_log_level;

void fl_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(...) fl_log(FL_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) fl_log(FL_LOG_WARN, __VA_ARGS__)
#define pr_info(...) fl_log(FL_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) fl_log(FL_LOG_DEBUG, __VA_ARGS__)

/* An error message built where the problem is found and printed by the
 * caller, who knows the context ("--delay", "scenario.yaml:14:9"). */
struct fl_err {
	char msg[512];
};

void fl_err_set(struct fl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
