/* SPDX-License-Identifier: MIT */
/* Internal to injector/state.c: the undo side of the journal. */
#ifndef FALLACY_STATE_UNDO_H
#define FALLACY_STATE_UNDO_H

#include <stdbool.h>
#include <stddef.h>

/* Undo the records in text (a journal, len bytes, modified in place),
 * newest first. An incomplete last line (no newline) is ignored. Returns 0
 * when every object is gone, else the first error (after trying them all). */
int fl_undo_journal(const char *session, char *text, size_t len, unsigned int flags);
/* What fl_undo_journal would undo, newest first (cancelled records left
 * out), without changing anything: cb(arg, record, known kind). */
int fl_undo_plan(char *text, size_t len, void (*cb)(void *arg, const char *rec, bool known),
		 void *arg);
/* The active records of text whose owner tag (fl_state_set_owner) dead()
 * says is gone, newest first, without their tag: cb(arg, record). */
int fl_undo_owned(char *text, size_t len, bool (*dead)(const char *owner),
		  void (*cb)(void *arg, const char *rec), void *arg);

#endif
