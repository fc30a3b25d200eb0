// SPDX-License-Identifier: MIT
/* The parameter engine: parse, print and describe a kind's parameters from
 * its table (struct fl_param, fault.h), so that every view of a kind (CLI,
 * help, docs, YAML, wrap, JSON) comes from one definition. */
#include "fault.h"
#include "faults_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 32

static void *field(struct fl_fault *f, const struct fl_param *p)
{
	return f->kp.bytes + p->off;
}

static const void *cfield(const struct fl_fault *f, const struct fl_param *p)
{
	return f->kp.bytes + p->off;
}

const char *fl_ptype_metavar(enum fl_ptype t)
{
	static const char *const m[FL_PT__COUNT] = {
		[FL_PT_PERCENT] = "P",	 [FL_PT_DURATION] = "D",
		[FL_PT_RATE] = "R",	 [FL_PT_SIZE] = "B",
		[FL_PT_COUNT] = "N",	 [FL_PT_WORD] = "W",
		[FL_PT_FLAG] = "",	 [FL_PT_PERCENTS] = "P...",
		[FL_PT_GROUPS] = "G...", [FL_PT_BYTES] = "HEX|\"text\"",
	};

	return t < FL_PT__COUNT ? m[t] : "?";
}

const char *fl_ptype_name(enum fl_ptype t)
{
	static const char *const m[FL_PT__COUNT] = {
		[FL_PT_PERCENT] = "percentage",
		[FL_PT_DURATION] = "duration",
		[FL_PT_RATE] = "rate",
		[FL_PT_SIZE] = "size",
		[FL_PT_COUNT] = "count",
		[FL_PT_WORD] = "word",
		[FL_PT_FLAG] = "flag",
		[FL_PT_PERCENTS] = "list of percentages",
		[FL_PT_GROUPS] = "list of node groups",
		[FL_PT_BYTES] = "bytes",
	};

	return t < FL_PT__COUNT ? m[t] : "?";
}

const struct fl_param *fl_kind_param(const struct fault_ops *ops, const char *name)
{
	for (const struct fl_param *p = ops->params; p->name; p++)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

const struct fl_param *fl_link_param(const char *key, const struct fault_ops **ops)
{
	for (size_t k = 0; fl_fault_kinds[k]; k++) {
		const struct fl_param *p = fl_kind_param(fl_fault_kinds[k], key);

		if (p && (p->flags & FL_PF_LINK)) {
			if (ops)
				*ops = fl_fault_kinds[k];
			return p;
		}
	}
	return NULL;
}

size_t fl_link_keys(const char **keys, size_t max)
{
	size_t n = 0;

	for (size_t k = 0; fl_fault_kinds[k]; k++)
		for (const struct fl_param *p = fl_fault_kinds[k]->params; p->name; p++)
			if ((p->flags & FL_PF_LINK) && n + 1 < max)
				keys[n++] = p->name;
	if (max)
		keys[n] = NULL;
	return n;
}

/* ---- one value ---------------------------------------------------------- */

static int parse_word_choice(const struct fl_param *p, const char *text, int *out,
			     struct fl_err *err)
{
	char list[256] = "";

	for (int i = 0; p->words[i]; i++) {
		if (!strcmp(text, p->words[i])) {
			*out = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 p->words[i]);
	}
	fl_err_set(err, "%s %s: unknown value (use %s)", p->name, text, list);
	return -EINVAL;
}

static int hexval(int c)
{
	if (isdigit(c))
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "0a0b..." (an even number of hex digits) or "text" / 'text'. */
static int parse_bytes(const struct fl_param *p, const char *text, struct fl_bytes *b,
		       struct fl_err *err);

int fl_bytes_parse(const char *what, const char *text, struct fl_bytes *b, struct fl_err *err)
{
	const struct fl_param p = { .name = what, .type = FL_PT_BYTES };

	return parse_bytes(&p, text, b, err);
}

static int parse_bytes(const struct fl_param *p, const char *text, struct fl_bytes *b,
		       struct fl_err *err)
{
	size_t n = strlen(text);

	memset(b, 0, sizeof(*b));
	if (n >= 2 && (text[0] == '"' || text[0] == '\'') && text[n - 1] == text[0]) {
		if (n - 2 > FL_TEXT_MAX || n == 2)
			goto bad_len;
		memcpy(b->b, text + 1, n - 2);
		b->len = (uint32_t)(n - 2);
		return 0;
	}
	if (!strncmp(text, "0x", 2))
		text += 2, n -= 2;
	if (!n || n % 2)
		goto bad_hex;
	if (n / 2 > FL_TEXT_MAX)
		goto bad_len;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval((unsigned char)text[i]), lo = hexval((unsigned char)text[i + 1]);

		if (hi < 0 || lo < 0)
			goto bad_hex;
		b->b[b->len++] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
bad_hex:
	fl_err_set(err,
		   "%s %s: write bytes as hex digits (\"0a1b\") or as quoted text "
		   "('\"abc\"')",
		   p->name, text);
	return -EINVAL;
bad_len:
	fl_err_set(err, "%s: between 1 and %d bytes", p->name, FL_TEXT_MAX);
	return -EINVAL;
}

static int check_range(const struct fl_param *p, const char *text, uint64_t v, struct fl_err *err)
{
	char lo[32], hi[32];

	if (!p->max || (v >= p->min && v <= p->max))
		return 0;
	switch (p->type) {
	case FL_PT_DURATION:
		fl_format_duration(p->min, lo, sizeof(lo));
		fl_format_duration(p->max, hi, sizeof(hi));
		break;
	case FL_PT_RATE:
		fl_format_rate(p->min, lo, sizeof(lo));
		fl_format_rate(p->max, hi, sizeof(hi));
		break;
	case FL_PT_SIZE:
		fl_format_size(p->min, lo, sizeof(lo));
		fl_format_size(p->max, hi, sizeof(hi));
		break;
	default:
		snprintf(lo, sizeof(lo), "%" PRIu64, p->min);
		snprintf(hi, sizeof(hi), "%" PRIu64, p->max);
	}
	fl_err_set(err, "%s %s: out of range (%s .. %s)", p->name, text, lo, hi);
	return -EINVAL;
}

/* Parse one scalar value of p into dst (NULL: check only). */
static int parse_value(const struct fl_param *p, const char *text, void *dst, struct fl_err *err)
{
	struct fl_err e;
	union {
		double d;
		uint64_t u;
		int w;
		struct fl_bytes b;
	} v;
	int rc = 0;

	switch (p->type) {
	case FL_PT_PERCENT:
		rc = fl_parse_percent(text, &v.d, &e);
		if (!rc && dst)
			*(double *)dst = v.d;
		break;
	case FL_PT_DURATION:
	case FL_PT_RATE:
	case FL_PT_SIZE:
		rc = p->type == FL_PT_DURATION ? fl_parse_duration(text, &v.u, &e) :
		     p->type == FL_PT_RATE     ? fl_parse_rate(text, &v.u, &e) :
						 fl_parse_size(text, &v.u, &e);
		if (rc)
			break;
		if (check_range(p, text, v.u, err))
			return -EINVAL;
		if (dst)
			*(uint64_t *)dst = v.u;
		break;
	case FL_PT_COUNT:
		rc = fl_parse_u64(text, p->min, p->max ? p->max : UINT32_MAX, &v.u, &e);
		if (!rc && dst)
			*(uint32_t *)dst = (uint32_t)v.u;
		break;
	case FL_PT_WORD:
		if (parse_word_choice(p, text, &v.w, err))
			return -EINVAL;
		if (dst)
			*(int *)dst = v.w;
		return 0;
	case FL_PT_BYTES:
		if (parse_bytes(p, text, &v.b, err))
			return -EINVAL;
		if (p->max && (v.b.len < p->min || v.b.len > p->max)) {
			fl_err_set(err, "%s %s: %u bytes, give %llu to %llu", p->name, text,
				   v.b.len, (unsigned long long)p->min, (unsigned long long)p->max);
			return -EINVAL;
		}
		if (dst)
			*(struct fl_bytes *)dst = v.b;
		return 0;
	default:
		fl_err_set(err, "%s: not a single value", p->name);
		return -EINVAL;
	}
	if (rc)
		fl_err_set(err, "%s: %s", p->name, e.msg);
	return rc ? -EINVAL : 0;
}

int fl_param_check(const struct fl_param *p, const char *text, struct fl_err *err)
{
	struct fl_pcts pc;

	if (p->type == FL_PT_PERCENTS)
		return parse_value(&(struct fl_param){ .name = p->name, .type = FL_PT_PERCENT },
				   text, &pc.v[0], err);
	if (p->type == FL_PT_FLAG || p->type == FL_PT_GROUPS)
		return 0;
	return parse_value(p, text, NULL, err);
}

bool fl_param_given(const struct fl_fault *f, const char *name)
{
	const struct fl_param *p = fl_kind_param(f->ops, name);

	return p && (f->given >> (p - f->ops->params) & 1);
}

int fl_param_set(struct fl_fault *f, const struct fl_param *p, const char *text, struct fl_err *err)
{
	f->given |= 1u << (p - f->ops->params);
	if (p->type == FL_PT_FLAG) {
		*(bool *)field(f, p) = true;
		return 0;
	}
	return parse_value(p, text, field(f, p), err);
}

/* ---- the kind's words --------------------------------------------------- */

static const struct fl_param *keyword(const struct fault_ops *ops, const char *w)
{
	return fl_kind_param(ops, w);
}

static bool looks_like(const struct fl_param *p, const char *w)
{
	struct fl_err e;

	return !parse_value(p, w, NULL, &e);
}

static void usage_error(const struct fault_ops *ops, struct fl_err *err, const char *fmt,
			const char *a, const char *b)
{
	char use[384], msg[256];

	fl_kind_usage(ops, use, sizeof(use));
	snprintf(msg, sizeof(msg), fmt, a, b);
	fl_err_set(err, "%s: %s (usage: %s; e.g. %s)", ops->name, msg, use, ops->example);
}

/* words of a PERCENTS or GROUPS value starting at argv[i]; returns count */
static int parse_list(struct fl_fault *f, const struct fl_param *p, int argc, char **argv, int i,
		      struct fl_err *err)
{
	int n = 0;

	if (p->type == FL_PT_PERCENTS) {
		struct fl_pcts *pc = field(f, p);
		const struct fl_param one = { .name = p->name, .type = FL_PT_PERCENT };

		pc->n = 0;
		while (i + n < argc && (uint64_t)pc->n < p->max && !keyword(f->ops, argv[i + n])) {
			if (parse_value(&one, argv[i + n], &pc->v[pc->n], err))
				return -EINVAL;
			pc->n++;
			n++;
		}
		if ((uint64_t)pc->n < (p->min ? p->min : 1)) {
			usage_error(f->ops, err, "%s needs %s", p->name, "a percentage");
			return -EINVAL;
		}
		return n;
	}
	struct fl_groups *g = field(f, p);

	g->n = 0;
	while (i + n < argc && !keyword(f->ops, argv[i + n])) {
		if (g->n >= FL_GROUPS_MAX) {
			fl_err_set(err, "%s: at most %d groups", f->ops->name, FL_GROUPS_MAX);
			return -EINVAL;
		}
		if (!argv[i + n][0] || strlen(argv[i + n]) >= FL_GROUP_LEN) {
			fl_err_set(err, "%s: group '%s' is empty or too long", f->ops->name,
				   argv[i + n]);
			return -EINVAL;
		}
		snprintf(g->g[g->n++], FL_GROUP_LEN, "%s", argv[i + n]);
		n++;
	}
	return n;
}

/* One parameter's value(s) at argv[i]; returns the words used or -EINVAL. */
static int take(struct fl_fault *f, const struct fl_param *p, int argc, char **argv, int i,
		struct fl_err *err)
{
	if (p->type == FL_PT_FLAG) {
		*(bool *)field(f, p) = true;
		return 0;
	}
	if (p->type == FL_PT_PERCENTS || p->type == FL_PT_GROUPS)
		return parse_list(f, p, argc, argv, i, err);
	if (i >= argc || keyword(f->ops, argv[i])) {
		usage_error(f->ops, err, "%s needs a %s", p->name, fl_ptype_name(p->type));
		return -EINVAL;
	}
	return fl_param_set(f, p, argv[i], err) ? -EINVAL : 1;
}

static int mark_given(struct fl_fault *f, const struct fl_param *p, struct fl_err *err)
{
	uint32_t bit = 1u << (p - f->ops->params);

	if (f->given & bit) {
		fl_err_set(err, "%s: %s given twice", f->ops->name, p->name);
		return -EINVAL;
	}
	f->given |= bit;
	return 0;
}

/* netem's positional values right after the kind ("delay 50ms 5ms 25%"). */
static int parse_positional(struct fl_fault *f, int argc, char **argv, struct fl_err *err)
{
	int i = 0, n;

	bool first = true;

	for (const struct fl_param *p = f->ops->params; p->name && i < argc; p++) {
		if (!(p->flags & FL_PF_POSITIONAL))
			continue;
		if (keyword(f->ops, argv[i]))
			break;
		/* netem's further positional values only where they fit */
		if (!first && p->type != FL_PT_GROUPS && !looks_like(p, argv[i]))
			break;
		first = false;
		if (mark_given(f, p, err))
			return -EINVAL;
		n = take(f, p, argc, argv, i, err);
		if (n < 0)
			return -EINVAL;
		i += n;
	}
	return i;
}

int fl_fault_validate(struct fl_fault *f, struct fl_err *err)
{
	return f->ops->validate ? f->ops->validate(f, err) : 0;
}

static int parse_kind_words(struct fl_fault *f, int argc, char **argv, int *bad, struct fl_err *err)
{
	int i, n;

	i = parse_positional(f, argc, argv, err);
	if (i < 0) {
		*bad = 0;
		return -EINVAL;
	}
	while (i < argc) {
		const struct fl_param *p = keyword(f->ops, argv[i]);

		*bad = i;
		if (!p) {
			const char *names[MAX_PARAMS];
			size_t k = 0;
			const char *near;

			for (const struct fl_param *q = f->ops->params; q->name && k < MAX_PARAMS;
			     q++)
				names[k++] = q->name;
			near = fl_suggest(argv[i], names, k);
			if (near)
				fl_err_set(err, "%s: unknown parameter '%s' (did you mean '%s'?)",
					   f->ops->name, argv[i], near);
			else
				usage_error(f->ops, err, "unknown parameter '%s'%s", argv[i], "");
			return -EINVAL;
		}
		if (mark_given(f, p, err))
			return -EINVAL;
		n = take(f, p, argc, argv, i + 1, err);
		if (n < 0)
			return -EINVAL;
		i += 1 + n;
		/* netem's "reorder 25% 50%": the next parameter without its name */
		if (p[1].name && (p[1].flags & FL_PF_AFTER_PREV) && i < argc &&
		    !keyword(f->ops, argv[i]) && looks_like(&p[1], argv[i])) {
			if (mark_given(f, &p[1], err) || fl_param_set(f, &p[1], argv[i], err))
				return -EINVAL;
			i++;
		}
	}
	*bad = -1;
	for (const struct fl_param *p = f->ops->params; p->name; p++) {
		if ((p->flags & FL_PF_REQUIRED) && !(f->given & (1u << (p - f->ops->params)))) {
			usage_error(f->ops, err, "missing %s", p->name, "");
			return -EINVAL;
		}
	}
	return fl_fault_validate(f, err);
}

void fl_fault_init(struct fl_fault *f, const struct fault_ops *ops)
{
	struct fl_err e;

	memset(f->kp.bytes, 0, sizeof(f->kp.bytes));
	f->ops = ops;
	for (const struct fl_param *p = ops->params; p->name; p++)
		if (p->def && fl_param_set(f, p, p->def, &e))
			pr_warn("fault kind %s: default %s of %s does not parse: %s", ops->name,
				p->def, p->name, e.msg);
	f->given = 0;
}

int fl_fault_parse_kind(struct fl_fault *f, int argc, char **argv, int *bad, struct fl_err *err)
{
	const struct fault_ops *ops;

	if (argc < 1) {
		*bad = -1;
		fl_err_set(err, "missing fault kind (e.g. loss 5%%, partition, duplicate 1%%)");
		return -EINVAL;
	}
	ops = fl_fault_kind(argv[0]);
	*bad = 0;
	if (!ops)
		return fl_fault_unknown_kind(argv[0], err);
	fl_fault_init(f, ops);
	if (parse_kind_words(f, argc - 1, argv + 1, bad, err)) {
		if (*bad >= 0)
			(*bad)++;
		return -EINVAL;
	}
	return 0;
}

/* ---- printing ----------------------------------------------------------- */

static bool is_default(const struct fl_fault *f, const struct fl_param *p)
{
	struct fl_fault d;

	if (!p->def) {
		const unsigned char *b = cfield(f, p);
		size_t sz = p->type == FL_PT_PERCENT  ? sizeof(double) :
			    p->type == FL_PT_COUNT    ? sizeof(uint32_t) :
			    p->type == FL_PT_WORD     ? sizeof(int) :
			    p->type == FL_PT_FLAG     ? sizeof(bool) :
			    p->type == FL_PT_PERCENTS ? sizeof(int) :
			    p->type == FL_PT_GROUPS   ? sizeof(int) :
			    p->type == FL_PT_BYTES    ? sizeof(uint32_t) :
							sizeof(uint64_t);

		for (size_t i = 0; i < sz; i++)
			if (b[i])
				return false;
		return true;
	}
	fl_fault_init(&d, f->ops);
	switch (p->type) {
	case FL_PT_PERCENT:
		return *(const double *)cfield(f, p) == *(const double *)cfield(&d, p);
	case FL_PT_COUNT:
		return *(const uint32_t *)cfield(f, p) == *(const uint32_t *)cfield(&d, p);
	case FL_PT_WORD:
		return *(const int *)cfield(f, p) == *(const int *)cfield(&d, p);
	case FL_PT_FLAG:
		return *(const bool *)cfield(f, p) == *(const bool *)cfield(&d, p);
	case FL_PT_DURATION:
	case FL_PT_RATE:
	case FL_PT_SIZE:
		return *(const uint64_t *)cfield(f, p) == *(const uint64_t *)cfield(&d, p);
	default:
		return false;
	}
}

void fl_bytes_format(const struct fl_bytes *b, char *buf, size_t len)
{
	bool text = b->len > 0 && 2 * (size_t)b->len + 3 <= len;
	size_t n = 0;

	if (!len)
		return;
	for (uint32_t i = 0; i < b->len; i++)
		text &= b->b[i] >= 0x21 && b->b[i] < 0x7f && b->b[i] != '"' && b->b[i] != '\'';
	if (text) {
		buf[n++] = '"';
		memcpy(buf + n, b->b, b->len);
		n += b->len;
		buf[n++] = '"';
	} else {
		for (uint32_t i = 0; i < b->len && n + 3 <= len; i++)
			n += (size_t)snprintf(buf + n, len - n, "%02x", b->b[i]);
	}
	buf[n] = '\0';
}

static void print_bytes(const struct fl_bytes *b, struct fl_out *o, const char *key)
{
	char buf[2 * FL_TEXT_MAX + 3];

	fl_bytes_format(b, buf, sizeof(buf));
	fl_out_str(o, key, buf);
}

static void print_list(const struct fl_fault *f, const struct fl_param *p, struct fl_out *o,
		       const char *key)
{
	if (o->json)
		fl_out_open(o, p->name, '[');
	else if (key[0])
		fl_out_flag(o, key);
	if (p->type == FL_PT_PERCENTS) {
		const struct fl_pcts *pc = cfield(f, p);

		for (int i = 0; i < pc->n; i++)
			fl_out_pct(o, "", pc->v[i]);
	} else {
		const struct fl_groups *g = cfield(f, p);

		for (int i = 0; i < g->n; i++)
			fl_out_str(o, "", g->g[i]);
	}
	if (o->json)
		fl_out_close(o, ']');
}

static void print_param(const struct fl_fault *f, const struct fl_param *p, struct fl_out *o,
			bool bare)
{
	const char *key = bare && !o->json ? "" : p->name;
	const void *v = cfield(f, p);

	switch (p->type) {
	case FL_PT_PERCENT:
		fl_out_pct(o, key, *(const double *)v);
		break;
	case FL_PT_DURATION:
		fl_out_dur(o, key, *(const uint64_t *)v);
		break;
	case FL_PT_RATE:
		fl_out_rate(o, key, *(const uint64_t *)v);
		break;
	case FL_PT_SIZE:
		fl_out_size(o, key, *(const uint64_t *)v);
		break;
	case FL_PT_COUNT:
		fl_out_u64(o, key, *(const uint32_t *)v);
		break;
	case FL_PT_WORD:
		fl_out_str(o, key, p->words[*(const int *)v]);
		break;
	case FL_PT_FLAG:
		if (*(const bool *)v)
			fl_out_flag(o, p->name);
		break;
	case FL_PT_PERCENTS:
	case FL_PT_GROUPS:
		print_list(f, p, o, key);
		break;
	case FL_PT_BYTES:
		print_bytes(v, o, key);
		break;
	default:
		break;
	}
}

void fl_fault_print_params(const struct fl_fault *f, struct fl_out *o)
{
	bool first = true;

	if (o->json)
		fl_out_str(o, "kind", f->ops->name);
	else
		fl_out_flag(o, f->ops->name);
	for (const struct fl_param *p = f->ops->params; p->name; p++) {
		bool pos = (p->flags & FL_PF_POSITIONAL) && first;

		if (p->flags & FL_PF_POSITIONAL)
			first = false;
		if (!(p->flags & FL_PF_REQUIRED) && !(f->given >> (p - f->ops->params) & 1) &&
		    is_default(f, p))
			continue;
		if ((p->type == FL_PT_PERCENTS || p->type == FL_PT_GROUPS) &&
		    !*(const int *)cfield(f, p))
			continue;
		print_param(f, p, o, pos);
	}
}

/* ---- descriptions ------------------------------------------------------- */

void fl_kind_usage(const struct fault_ops *ops, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "%s", ops->name);
	bool first = true;

	for (const struct fl_param *p = ops->params; p->name && n < len; p++) {
		const char *mv = p->type == FL_PT_GROUPS ? "GROUP..." : fl_ptype_metavar(p->type);
		bool opt = !(p->flags & FL_PF_REQUIRED);

		if (p->flags & FL_PF_HIDDEN)
			continue;
		if ((p->flags & FL_PF_POSITIONAL) && first)
			n += (size_t)snprintf(buf + n, len - n, " %s%s%s", opt ? "[" : "", mv,
					      opt ? "]" : "");
		else if (p->type == FL_PT_FLAG)
			n += (size_t)snprintf(buf + n, len - n, " [%s]", p->name);
		else
			n += (size_t)snprintf(buf + n, len - n, " [%s %s]", p->name, mv);
		if (p->flags & FL_PF_POSITIONAL)
			first = false;
	}
}

void fl_kind_describe(const struct fault_ops *ops, FILE *f)
{
	for (const struct fl_param *p = ops->params; p->name; p++) {
		char head[64], extra[200] = "";
		size_t n = 0;

		if (p->flags & FL_PF_HIDDEN)
			continue;
		snprintf(head, sizeof(head), "%s%s%s", p->name, p->type == FL_PT_FLAG ? "" : " ",
			 p->type == FL_PT_GROUPS ? "GROUP..." : fl_ptype_metavar(p->type));
		if (p->type == FL_PT_WORD) {
			for (int i = 0; p->words[i] && n < sizeof(extra); i++)
				n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s%s",
						      i ? "|" : "", p->words[i]);
		}
		if (p->def && n < sizeof(extra))
			n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%sdefault %s",
					      n ? "; " : "", p->def);
		if (p->wrap && n < sizeof(extra))
			n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%swrap %s",
					      n ? "; " : "", p->wrap);
		if ((p->flags & FL_PF_LINK) && n < sizeof(extra))
			snprintf(extra + n, sizeof(extra) - n, "%slab link", n ? "; " : "");
		fprintf(f, "      %-22s %s%s%s%s\n", head, p->help, extra[0] ? " [" : "", extra,
			extra[0] ? "]" : "");
	}
}

int fl_fault_parse_params(struct fl_fault *f, int argc, char **argv, struct fl_err *err)
{
	struct fl_fault *n = calloc(1, sizeof(*n));
	int bad, rc;

	if (!n)
		return -ENOMEM;
	rc = fl_fault_parse_kind(n, argc, argv, &bad, err);
	if (!rc && n->ops != f->ops) {
		fl_err_set(err, "a %s fault cannot become %s (fault del it and add a new one)",
			   f->ops->name, n->ops->name);
		rc = -EINVAL;
	}
	if (!rc) {
		memcpy(f->kp.bytes, n->kp.bytes, sizeof(f->kp.bytes));
		f->given = n->given;
	}
	free(n);
	return rc;
}
