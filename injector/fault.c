// SPDX-License-Identifier: MIT
/* Faults: the options every kind shares (--from/--to/--proto/--port/...),
 * resolution of node names to node sets, rule building, evaluation order,
 * and the text/JSON printer. Kind parameters live in injector/faults/. */
#include "fault.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "lab.h"

/* ---- output ------------------------------------------------------------ */

static void out_key(struct fl_out *o, const char *key, const char *suffix)
{
	if (o->n++)
		fputs(o->json ? ", " : " ", o->f);
	if (o->json) {
		fputc('"', o->f);
		fputs(key, o->f);
		fputs(suffix, o->f);
		fputs("\": ", o->f);
	} else if (key[0]) {
		fprintf(o->f, "%s ", key);
	}
}

void fl_out_str(struct fl_out *o, const char *key, const char *val)
{
	out_key(o, key, "");
	if (o->json)
		fl_json_string(o->f, val);
	else
		fputs(val, o->f);
}

void fl_out_u64(struct fl_out *o, const char *key, uint64_t val)
{
	out_key(o, key, "");
	fprintf(o->f, "%" PRIu64, val);
}

void fl_out_pct(struct fl_out *o, const char *key, double fraction)
{
	char buf[64];

	out_key(o, key, "");
	if (o->json) {
		fprintf(o->f, "%.10g", fraction);
		return;
	}
	fl_format_percent(fraction, buf, sizeof(buf));
	fputs(buf, o->f);
}

/* A number with a unit: raw under "key<json_suffix>" in JSON, fmt's
 * text with units in text. */
static void out_unit(struct fl_out *o, const char *key, const char *json_suffix, uint64_t val,
		     void (*fmt)(uint64_t, char *, size_t))
{
	char buf[64];

	out_key(o, key, o->json ? json_suffix : "");
	if (o->json) {
		fprintf(o->f, "%" PRIu64, val);
		return;
	}
	fmt(val, buf, sizeof(buf));
	fputs(buf, o->f);
}

void fl_out_dur(struct fl_out *o, const char *key, uint64_t ns)
{
	out_unit(o, key, "_ns", ns, fl_format_duration);
}

void fl_out_rate(struct fl_out *o, const char *key, uint64_t bps)
{
	out_unit(o, key, "_bps", bps, fl_format_rate);
}

void fl_out_flag(struct fl_out *o, const char *key)
{
	if (o->json) {
		out_key(o, key, "");
		fputs("true", o->f);
		return;
	}
	if (o->n++)
		fputc(' ', o->f);
	fputs(key, o->f);
}

/* ---- kinds ------------------------------------------------------------- */

const struct fault_ops *fl_fault_kind(const char *name)
{
	for (int i = 0; fl_fault_kinds[i]; i++)
		if (!strcmp(fl_fault_kinds[i]->name, name))
			return fl_fault_kinds[i];
	return NULL;
}

int fl_fault_unknown_kind(const char *name, struct fl_err *err)
{
	const char *names[32];
	char list[256] = "";
	const char *near;
	size_t n = 0;

	for (; fl_fault_kinds[n] && n < 32; n++) {
		names[n] = fl_fault_kinds[n]->name;
		strncat(list, " ", sizeof(list) - strlen(list) - 1);
		strncat(list, names[n], sizeof(list) - strlen(list) - 1);
	}
	near = fl_suggest(name, names, n);
	if (near)
		fl_err_set(err, "unknown fault '%s' (did you mean '%s'?)", name, near);
	else
		fl_err_set(err, "unknown fault '%s' (kinds:%s)", name, list);
	return -EINVAL;
}

uint64_t fl_prob_encode(double p)
{
	if (!(p > 0.0))
		return 0;
	if (p >= 1.0)
		return FL_PROB_ONE;
	return (uint64_t)llround(p * 4294967296.0);
}

int fl_parse_prob_word(const char *what, const char *text, double *p, struct fl_err *err)
{
	struct fl_err e;

	if (!text) {
		fl_err_set(err, "%s: missing probability (e.g. 5%% or 0.1%%)", what);
		return -EINVAL;
	}
	if (fl_parse_percent(text, p, &e)) {
		fl_err_set(err, "%s: %s", what, e.msg);
		return -EINVAL;
	}
	return 0;
}
