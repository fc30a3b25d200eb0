// SPDX-License-Identifier: MIT
/* Jepsen-shaped histories: a small parser for one flat JSON object per line
 * (no library: histories are large and the shape is fixed), interning of
 * keys and values, and pairing of invocations with completions. */
#include "history.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TOKEN 4096
#define MAX_PROCESS 1000000

/* Values are interned as a type letter and the text: "s<string>",
 * "n<number as written>", "b<true|false>". */

struct tok {
	char type; /* 's', 'n', 'b', 'z' (null), '[' (an array of scalars) */
	char text[MAX_TOKEN];
	int n_items;
	char items[2][MAX_TOKEN]; /* typed like text: "s...", "n..." */
};

struct line {
	bool has_process, nemesis, has_time;
	/* a whole operation on one line (a run's ops.jsonl): start_ns, end_ns */
	bool has_start, has_end, skipped;
	unsigned long long start, end;
	long long process;
	char type[16], f[16];
	char key[MAX_TOKEN];
	bool has_key, has_value;
	struct tok value;
	unsigned long long time;
};

struct cursor {
	const char *p, *end;
	const char *name;
	int line;
	struct fl_err *err;
};

static int bad(struct cursor *c, const char *what)
{
	fl_err_set(c->err, "%s:%d: %s", c->name, c->line, what);
	return -EINVAL;
}

static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r'))
		c->p++;
}

static int hexdigit(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* A JSON string into out (UTF-8; \u escapes below 0x80 only, others kept
 * as written: values are compared, not displayed). */
static int parse_string(struct cursor *c, char *out, size_t len)
{
	size_t n = 0;

	if (c->p >= c->end || *c->p != '"')
		return bad(c, "expected a string");
	for (c->p++; c->p < c->end && *c->p != '"'; c->p++) {
		char ch = *c->p;

		if ((unsigned char)ch < 0x20)
			return bad(c, "control character in a string");
		if (ch == '\\') {
			if (++c->p >= c->end)
				break;
			switch (*c->p) {
			case 'n':
				ch = '\n';
				break;
			case 't':
				ch = '\t';
				break;
			case 'r':
				ch = '\r';
				break;
			case 'b':
				ch = '\b';
				break;
			case 'f':
				ch = '\f';
				break;
			case 'u': {
				int v = 0;

				for (int i = 1; i <= 4; i++) {
					int d = c->p + i < c->end ?
							hexdigit((unsigned char)c->p[i]) :
							-1;

					if (d < 0)
						return bad(c, "bad \\u escape in a string");
					v = v * 16 + d;
				}
				c->p += 4;
				ch = v < 0x80 ? (char)v : '?';
				break;
			}
			default:
				ch = *c->p; /* \" \\ \/ */
			}
		}
		if (n + 1 >= len)
			return bad(c, "string too long");
		out[n++] = ch;
	}
	if (c->p >= c->end)
		return bad(c, "unterminated string");
	c->p++;
	out[n] = '\0';
	return 0;
}

/* One scalar: a string, a number, true/false or null, typed into out. */
static int parse_scalar(struct cursor *c, char *out, size_t len)
{
	const char *s = c->p;

	if (c->p < c->end && *c->p == '"') {
		out[0] = 's';
		return parse_string(c, out + 1, len - 1);
	}
	if (c->p < c->end && (*c->p == '-' || isdigit((unsigned char)*c->p))) {
		while (c->p < c->end && (isdigit((unsigned char)*c->p) || strchr("+-.eE", *c->p)))
			c->p++;
		if ((size_t)(c->p - s) + 2 > len)
			return bad(c, "number too long");
		out[0] = 'n';
		memcpy(out + 1, s, (size_t)(c->p - s));
		out[1 + (c->p - s)] = '\0';
		return 0;
	}
	for (const char *const *w = (const char *const[]){ "true", "false", "null", NULL }; *w;
	     w++) {
		size_t n = strlen(*w);

		if ((size_t)(c->end - c->p) >= n && !strncmp(c->p, *w, n)) {
			c->p += n;
			snprintf(out, len, "%s%s", **w == 'n' ? "z" : "b", **w == 'n' ? "" : *w);
			return 0;
		}
	}
	return bad(c, "expected a value (string, number, true, false or null)");
}

static int parse_value(struct cursor *c, struct tok *t)
{
	t->n_items = 0;
	if (c->p < c->end && *c->p == '[') {
		t->type = '[';
		c->p++;
		skip_ws(c);
		while (c->p < c->end && *c->p != ']') {
			if (t->n_items == 2)
				return bad(c,
					   "an array value has at most 2 items ([expected, new])");
			if (parse_scalar(c, t->items[t->n_items++], MAX_TOKEN))
				return -EINVAL;
			skip_ws(c);
			if (c->p < c->end && *c->p == ',') {
				c->p++;
				skip_ws(c);
			}
		}
		if (c->p >= c->end)
			return bad(c, "unterminated array");
		c->p++;
		return 0;
	}
	if (parse_scalar(c, t->text, MAX_TOKEN))
		return -EINVAL;
	t->type = t->text[0];
	return 0;
}

static int member(struct cursor *c, struct line *l)
{
	char key[64];
	struct tok v;

	if (parse_string(c, key, sizeof(key)))
		return -EINVAL;
	skip_ws(c);
	if (c->p >= c->end || *c->p != ':')
		return bad(c, "expected ':'");
	c->p++;
	skip_ws(c);
	if (parse_value(c, &v))
		return -EINVAL;
	if (!strcmp(key, "process")) {
		l->has_process = true;
		if (v.type == 'n')
			l->process = strtoll(v.text + 1, NULL, 10);
		else
			l->nemesis = true; /* "nemesis" and other non-client processes */
	} else if (!strcmp(key, "type") || !strcmp(key, "f")) {
		if (v.type != 's')
			return bad(c, "'type' and 'f' must be strings");
		snprintf(!strcmp(key, "type") ? l->type : l->f, sizeof(l->type), "%.15s",
			 v.text + 1);
	} else if (!strcmp(key, "key")) {
		l->has_key = v.type != 'z';
		snprintf(l->key, sizeof(l->key), "%s", v.type == '[' ? "" : v.text);
	} else if (!strcmp(key, "value")) {
		l->has_value = true;
		l->value = v;
	} else if (!strcmp(key, "time") || !strcmp(key, "start_ns") || !strcmp(key, "end_ns")) {
		if (v.type != 'n' || v.text[1] == '-')
			return bad(c, "'time', 'start_ns' and 'end_ns' must be numbers of ns >= 0");
		*(key[0] == 't' ? &l->has_time :
		  key[0] == 's' ? &l->has_start :
				  &l->has_end) = true;
		*(key[0] == 't' ? &l->time :
		  key[0] == 's' ? &l->start :
				  &l->end) = strtoull(v.text + 1, NULL, 10);
	} else if (!strcmp(key, "skipped")) {
		l->skipped = v.type == 'b' && !strcmp(v.text, "btrue");
	}
	return 0;
}

/* One line: a flat object (other members are ignored). */
static int parse_line(struct cursor *c, struct line *l)
{
	memset(l, 0, sizeof(*l));
	skip_ws(c);
	if (c->p >= c->end || *c->p != '{')
		return bad(c, "expected a JSON object per line");
	c->p++;
	skip_ws(c);
	while (c->p < c->end && *c->p != '}') {
		if (member(c, l))
			return -EINVAL;
		skip_ws(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			skip_ws(c);
		} else if (c->p < c->end && *c->p != '}') {
			return bad(c, "expected ',' or '}'");
		}
	}
	if (c->p >= c->end)
		return bad(c, "unterminated object");
	c->p++;
	skip_ws(c);
	if (c->p < c->end && *c->p != '\n')
		return bad(c, "text after the object (one object per line)");
	return 0;
}

/* ---- interning --------------------------------------------------------- */

static int push_str(char ***v, size_t *n, size_t *cap, const char *s)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		char **nv = realloc(*v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[*n] = strdup(s);
	if (!(*v)[*n])
		return -ENOMEM;
	return (int)(*n)++;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Strings to ids through an open-addressing index (O(1) per lookup). */
static int intern(int **slotp, size_t *sizep, char ***v, size_t *n, size_t *cap, const char *s)
{
	size_t i, size = *sizep;
	int id;

	if (*n * 2 >= size) {
		int *slot;

		size = size ? size * 2 : 1024;
		slot = malloc(size * sizeof(*slot));
		if (!slot)
			return -ENOMEM;
		memset(slot, 0xff, size * sizeof(*slot));
		for (size_t k = 0; k < *n; k++) {
			for (i = hash_str((*v)[k]) & (size - 1); slot[i] >= 0;
			     i = (i + 1) & (size - 1))
				;
			slot[i] = (int)k;
		}
		free(*slotp);
		*slotp = slot;
		*sizep = size;
	}
	for (i = hash_str(s) & (size - 1); (*slotp)[i] >= 0; i = (i + 1) & (size - 1))
		if (!strcmp((*v)[(*slotp)[i]], s))
			return (*slotp)[i];
	id = push_str(v, n, cap, s);
	if (id >= 0)
		(*slotp)[i] = id;
	return id;
}

int fl_history_intern(struct fl_history *h, const char *text)
{
	if (!strcmp(text, "z"))
		return FL_HVAL_NULL;
	return intern(&h->vslot, &h->vsize, &h->values, &h->n_values, &h->cap_values, text);
}

const char *fl_history_value(const struct fl_history *h, int id)
{
	return id < 0 || (size_t)id >= h->n_values ? "znull" : h->values[id];
}

static const char *const f_names[] = { "read", "write", "cas", "get", "put", "append" };

const char *fl_hf_name(enum fl_hf f)
{
	return f_names[f];
}

/* ---- pairing ----------------------------------------------------------- */

struct pairing {
	int *open; /* process -> index of its open op, or -1 */
	unsigned char *done_info; /* process ended an op with info */
	uint64_t *last_ret; /* process -> its last one-line op's completion */
	size_t n;
	bool one_line; /* some ops were whole lines: sort them by invocation */
};

static int process_slot(struct pairing *pg, struct cursor *c, long long p)
{
	if (p < 0 || p >= MAX_PROCESS)
		return bad(c, "'process' must be a number 0..999999 (or a name like \"nemesis\")");
	if ((size_t)p >= pg->n) {
		size_t n = (size_t)p * 2 + 16;
		int *o = realloc(pg->open, n * sizeof(*o));
		unsigned char *d;
		uint64_t *r;

		/* each array is kept as soon as it moved: the caller frees both */
		if (!o)
			return -ENOMEM;
		pg->open = o;
		d = realloc(pg->done_info, n);
		if (!d)
			return -ENOMEM;
		pg->done_info = d;
		r = realloc(pg->last_ret, n * sizeof(*r));
		if (!r)
			return -ENOMEM;
		pg->last_ret = r;
		for (size_t i = pg->n; i < n; i++) {
			o[i] = -1;
			d[i] = 0;
			r[i] = 0;
		}
		pg->n = n;
	}
	return 0;
}

static int op_values(struct fl_history *h, struct cursor *c, const struct line *l,
		     struct fl_hop *op)
{
	op->value = op->expect = FL_HVAL_NULL;
	if (op->f == FL_HF_CAS) {
		if (!l->has_value || l->value.type != '[' || l->value.n_items != 2)
			return bad(c, "a cas needs \"value\": [expected, new]");
		op->expect = fl_history_intern(h, l->value.items[0]);
		op->value = fl_history_intern(h, l->value.items[1]);
	} else if (op->f != FL_HF_READ && op->f != FL_HF_GET) {
		if (!l->has_value || l->value.type == '[')
			return bad(c, "a write, put or append needs a single \"value\"");
		op->value = fl_history_intern(h, l->value.text);
	}
	return op->value < FL_HVAL_NULL || op->expect < FL_HVAL_NULL ? -ENOMEM : 0;
}

static int invoke(struct fl_history *h, struct pairing *pg, struct cursor *c, const struct line *l)
{
	struct fl_hop *op;
	int f, key;

	for (f = 0; f < 6 && strcmp(l->f, f_names[f]); f++)
		;
	if (f == 6)
		return bad(c, "unknown \"f\" (use read, write, cas, get, put or append)");
	if (pg->open[l->process] >= 0)
		return bad(c, "this process already has an operation in flight");
	if (pg->done_info[l->process])
		return bad(c, "this process ended an operation with info and may not invoke again "
			      "(give the client a new process)");
	key = intern(&h->kslot, &h->ksize, &h->keys, &h->n_keys, &h->cap_keys,
		     l->has_key ? l->key : "");
	if (key < 0)
		return -ENOMEM;
	if (h->n == h->cap) {
		size_t nc = h->cap ? h->cap * 2 : 1024;
		struct fl_hop *nv = realloc(h->ops, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		h->ops = nv;
		h->cap = nc;
	}
	op = &h->ops[h->n];
	*op = (struct fl_hop){ .process = (int)l->process,
			       .f = (enum fl_hf)f,
			       .key = key,
			       .call = l->time,
			       .ret = FL_HTIME_NEVER,
			       .result = FL_HR_INFO,
			       .line = c->line };
	if (op_values(h, c, l, op))
		return -EINVAL;
	pg->open[l->process] = (int)h->n++;
	return 0;
}

static int complete(struct fl_history *h, struct pairing *pg, struct cursor *c,
		    const struct line *l)
{
	int i = pg->open[l->process];
	struct fl_hop *op;

	if (i < 0)
		return bad(c, "a completion without an invocation on this process");
	op = &h->ops[i];
	if (l->time < op->call)
		return bad(c, "a completion before its invocation (time goes backwards)");
	pg->open[l->process] = -1;
	op->ret_line = c->line;
	if (!strcmp(l->type, "info")) {
		pg->done_info[l->process] = 1;
		return 0; /* ret stays FL_HTIME_NEVER */
	}
	op->result = !strcmp(l->type, "ok") ? FL_HR_OK : FL_HR_FAIL;
	op->ret = l->time;
	if (op->result == FL_HR_OK && (op->f == FL_HF_READ || op->f == FL_HF_GET)) {
		if (!l->has_value || l->value.type == '[')
			return bad(c,
				   "an ok read or get needs the \"value\" it read (null: nothing)");
		op->value = fl_history_intern(h, l->value.text);
	}
	return op->value < FL_HVAL_NULL ? -ENOMEM : 0;
}

static bool known_f(const char *f)
{
	for (size_t k = 0; k < sizeof(f_names) / sizeof(f_names[0]); k++)
		if (!strcmp(f, f_names[k]))
			return true;
	return false;
}

/* A whole operation on one line, as a run's ops.jsonl has them (start_ns,
 * end_ns, in completion order): its invocation and its completion. Lines
 * that are not of the history are left out: a slot never started
 * (skipped), no process, or an f no model knows (a probe named "probe"). */
static int whole_op(struct fl_history *h, struct pairing *pg, struct cursor *c, struct line *l)
{
	int ret;

	if (l->skipped || !l->has_process || !known_f(l->f))
		return 0;
	if (!l->has_end || !l->type[0] || !strcmp(l->type, "invoke"))
		return bad(c, "a line with \"start_ns\" needs \"end_ns\" and a \"type\" of ok, "
			      "fail or info");
	ret = process_slot(pg, c, l->process);
	if (ret)
		return ret;
	if (pg->last_ret[l->process] > l->start)
		return bad(c, "this process has another operation open at its start (give each "
			      "client its own process)");
	pg->one_line = true;
	l->time = l->start;
	ret = invoke(h, pg, c, l);
	if (ret)
		return ret;
	pg->last_ret[l->process] = l->end;
	l->time = l->end;
	return complete(h, pg, c, l);
}

static int one_line(struct fl_history *h, struct pairing *pg, struct cursor *c)
{
	struct line *l = malloc(sizeof(*l));
	int ret;

	if (!l)
		return -ENOMEM;
	ret = parse_line(c, l);
	if (!ret && l->has_process && l->nemesis)
		goto out; /* a nemesis or other non-client line */
	if (!ret && l->has_start && !l->has_time) {
		ret = whole_op(h, pg, c, l);
		goto out;
	}
	if (!ret && (!l->has_process || !l->has_time || !l->type[0] || !l->f[0]))
		ret = bad(c, "a line needs \"process\", \"type\", \"f\" and \"time\"");
	if (!ret)
		ret = process_slot(pg, c, l->process);
	if (!ret && !strcmp(l->type, "invoke"))
		ret = invoke(h, pg, c, l);
	else if (!ret &&
		 (!strcmp(l->type, "ok") || !strcmp(l->type, "fail") || !strcmp(l->type, "info")))
		ret = complete(h, pg, c, l);
	else if (!ret)
		ret = bad(c, "unknown \"type\" (use invoke, ok, fail or info)");
out:
	free(l);
	return ret;
}

/* Whole-line operations come in completion order: invocation order for
 * the checker (ties: file order). */
static int by_call(const void *a, const void *b)
{
	const struct fl_hop *x = a, *y = b;

	if (x->call != y->call)
		return x->call < y->call ? -1 : 1;
	return (x->line > y->line) - (x->line < y->line);
}

int fl_history_parse(const char *text, size_t len, const char *name, struct fl_history *h,
		     struct fl_err *err)
{
	struct cursor c = { .p = text, .end = text + len, .name = name, .err = err };
	struct pairing pg = { 0 };
	int ret = 0;

	memset(h, 0, sizeof(*h));
	while (c.p < c.end && !ret) {
		const char *nl = memchr(c.p, '\n', (size_t)(c.end - c.p));
		const char *eol = nl ? nl : c.end;

		c.line++;
		skip_ws(&c);
		if (c.p < eol) {
			struct cursor lc = c;

			lc.end = eol;
			ret = one_line(h, &pg, &lc);
		}
		c.p = nl ? nl + 1 : c.end;
	}
	if (ret == -ENOMEM)
		fl_err_set(err, "%s: out of memory", name);
	if (!ret && pg.one_line)
		qsort(h->ops, h->n, sizeof(*h->ops), by_call);
	free(pg.open);
	free(pg.done_info);
	free(pg.last_ret);
	if (ret)
		fl_history_free(h);
	return ret;
}

/* The whole file, read to its end: a pipe (/dev/stdin) has no size. */
static int read_all(int fd, char **out, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap), *nb;
	ssize_t r;

	while (buf) {
		if (n == cap) {
			nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0) {
				*out = buf;
				*len = n;
				return 0;
			}
			break;
		}
		n += (size_t)r;
	}
	free(buf);
	return -EIO;
}

int fl_history_load(const char *path, struct fl_history *h, struct fl_err *err)
{
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;
	size_t got = 0;

	if (fd < 0) {
		fl_err_set(err, "%s: %s", path, strerror(errno));
		return -ENOENT;
	}
	ret = read_all(fd, &buf, &got);
	close(fd);
	if (ret) {
		fl_err_set(err, "%s: cannot read it", path);
		return ret;
	}
	ret = fl_history_parse(buf, got, path, h, err);
	free(buf);
	return ret;
}

void fl_history_free(struct fl_history *h)
{
	for (size_t i = 0; i < h->n_values; i++)
		free(h->values[i]);
	for (size_t i = 0; i < h->n_keys; i++)
		free(h->keys[i]);
	free(h->values);
	free(h->keys);
	free(h->ops);
	free(h->vslot);
	free(h->kslot);
	memset(h, 0, sizeof(*h));
}
