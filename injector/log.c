// SPDX-License-Identifier: MIT
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

int fl_log_level = FL_LOG_WARN;

void fl_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > fl_log_level)
		return;
	fputs(level == FL_LOG_ERROR ? "fallacy: " :
	      level == FL_LOG_WARN  ? "fallacy: warning: " :
				      "fallacy: ",
	      stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void fl_err_set(struct fl_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}
