/* SPDX-License-Identifier: MIT */
/* The one JSON string writer shared by every JSON (and JSON-in-YAML)
 * printer: fault lists, doctor, capture counters, resolved scenarios. */
#ifndef FL_JSON_H
#define FL_JSON_H

#include <stdio.h>

/* Writes s as a quoted JSON string: '"' and '\\' backslash-escaped, bytes
 * below 0x20 as \u00XX, everything else (UTF-8 included) as is.
 * NULL is written as "". */
void fl_json_string(FILE *f, const char *s);

#endif
