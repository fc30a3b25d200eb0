/* SPDX-License-Identifier: MIT */
/* The one output layer: fl_out prints text and JSON from the same calls
 * (fault lists, doctor, lab list, events), and the one JSON string writer
 * under it (also for JSON-in-YAML: resolved scenarios). */
#ifndef FL_JSON_H
#define FL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The one JSON string writer. Writes s as a quoted JSON string: '"' and
 * '\\' backslash-escaped, \b \f \n \r \t in their short forms, the other
 * control bytes (below 0x20, and DEL, which YAML readers refuse raw) as
 * \u00XX, everything else (UTF-8 included) as is. NULL is written as "". */
void fl_json_string(FILE *f, const char *s);

/* Text: "key value" words separated by spaces; JSON: "key": value members
 * of an open object. Compact JSON has no spaces after ',' and ':' (one
 * line per record: events.jsonl). */
struct fl_out {
	FILE *f;
	bool json;
	bool compact;
	int n; /* members/words printed at the current level */
};

void fl_out_str(struct fl_out *o, const char *key, const char *val);
void fl_out_u64(struct fl_out *o, const char *key, uint64_t val);
void fl_out_i64(struct fl_out *o, const char *key, int64_t val);
/* "%.10g"; JSON null when not finite (NAN: nothing measured). */
void fl_out_double(struct fl_out *o, const char *key, double val);
void fl_out_bool(struct fl_out *o, const char *key, bool val);
/* Text "key 10%"; JSON "key": 0.1 (a fraction). */
void fl_out_pct(struct fl_out *o, const char *key, double fraction);
/* Text "key 50ms"; JSON "key_ns": 50000000. */
void fl_out_dur(struct fl_out *o, const char *key, uint64_t ns);
/* Text "key 10mbit"; JSON "key_bps": 10000000. */
void fl_out_rate(struct fl_out *o, const char *key, uint64_t bps);
/* Text "key 32kb"; JSON "key_bytes": 32768. */
void fl_out_size(struct fl_out *o, const char *key, uint64_t bytes);
/* A bare word in text, "key": true in JSON. */
void fl_out_flag(struct fl_out *o, const char *key);
/* Nesting: JSON "key": { / [ ... } / ]; text: nothing (words go on). */
void fl_out_open(struct fl_out *o, const char *key, char bracket);
void fl_out_close(struct fl_out *o, char bracket);
/* iproute2's print_string(PRINT_ANY, key, fmt, val): JSON "key": val;
 * text printf(fmt, val) when fmt is not NULL (no separators added). */
void fl_out_strf(struct fl_out *o, const char *key, const char *fmt, const char *val);
void fl_out_u64f(struct fl_out *o, const char *key, const char *fmt, uint64_t val);
/* JSON only ("key": true/false); nothing in text. */
void fl_out_jbool(struct fl_out *o, const char *key, bool val);
/* JSON only: "key": null. */
void fl_out_null(struct fl_out *o, const char *key);
/* JSON only: "key": json, a value some other fl_out already wrote (a fault
 * list kept as text); null when json is NULL or empty. */
void fl_out_raw(struct fl_out *o, const char *key, const char *json);

#endif
