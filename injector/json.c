// SPDX-License-Identifier: MIT
/* The output layer and JSON string escaping (see json.h). */
#include "json.h"

#include <inttypes.h>
#include <math.h>

#include "parse.h"

/* The escape of byte c, or NULL when c stands for itself. */
static const char *json_escape(unsigned char c, char buf[8])
{
	static const char short_form[] = {
		['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'
	};

	if (c == '"' || c == '\\') {
		snprintf(buf, 8, "\\%c", c);
	} else if (c < 0x20 || c == 0x7f) {
		if (c < sizeof(short_form) && short_form[c])
			snprintf(buf, 8, "\\%c", short_form[c]);
		else
			snprintf(buf, 8, "\\u%04x", c);
	} else {
		return NULL;
	}
	return buf;
}

void fl_json_string(FILE *f, const char *s)
{
	char esc[8];

	fputc('"', f);
	for (; s && *s; s++) {
		const char *e = json_escape((unsigned char)*s, esc);

		if (e)
			fputs(e, f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* ---- fl_out ------------------------------------------------------------ */

static void out_key(struct fl_out *o, const char *key, const char *suffix)
{
	if (o->n++)
		fputs(!o->json ? " " : o->compact ? "," : ", ", o->f);
	if (o->json && key[0]) {
		fputc('"', o->f);
		fputs(key, o->f);
		fputs(suffix, o->f);
		fputs(o->compact ? "\":" : "\": ", o->f);
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

void fl_out_i64(struct fl_out *o, const char *key, int64_t val)
{
	out_key(o, key, "");
	fprintf(o->f, "%" PRId64, val);
}

void fl_out_bool(struct fl_out *o, const char *key, bool val)
{
	out_key(o, key, "");
	fputs(val ? (o->json ? "true" : "yes") : (o->json ? "false" : "no"), o->f);
}

void fl_out_open(struct fl_out *o, const char *key, char bracket)
{
	if (!o->json)
		return;
	out_key(o, key, "");
	fputc(bracket, o->f);
	o->n = 0;
}

void fl_out_close(struct fl_out *o, char bracket)
{
	if (!o->json)
		return;
	fputc(bracket == '[' || bracket == ']' ? ']' : '}', o->f);
	o->n = 1;
}

void fl_out_double(struct fl_out *o, const char *key, double val)
{
	out_key(o, key, "");
	if (o->json && !isfinite(val))
		fputs("null", o->f);
	else
		fprintf(o->f, "%.10g", val);
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

void fl_out_size(struct fl_out *o, const char *key, uint64_t bytes)
{
	out_unit(o, key, "_bytes", bytes, fl_format_size);
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

void fl_out_strf(struct fl_out *o, const char *key, const char *fmt, const char *val)
{
	if (o->json)
		fl_out_str(o, key, val);
	else if (fmt)
		fprintf(o->f, fmt, val);
}

void fl_out_u64f(struct fl_out *o, const char *key, const char *fmt, uint64_t val)
{
	if (o->json)
		fl_out_u64(o, key, val);
	else if (fmt)
		fprintf(o->f, fmt, val);
}

void fl_out_jbool(struct fl_out *o, const char *key, bool val)
{
	if (o->json)
		fl_out_bool(o, key, val);
}

void fl_out_null(struct fl_out *o, const char *key)
{
	if (o->json) {
		out_key(o, key, "");
		fputs("null", o->f);
	}
}

void fl_out_raw(struct fl_out *o, const char *key, const char *json)
{
	if (o->json) {
		out_key(o, key, "");
		fputs(json && json[0] ? json : "null", o->f);
	}
}
