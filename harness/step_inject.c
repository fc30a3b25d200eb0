// SPDX-License-Identifier: MIT
/* The inject step: a forged packet from a spoofed lab address toward a
 * node (injector/inject/inject.h), as the words of `fallacy inject LAB`:
 *   - at: 12s
 *     inject: {to: n1, from: n2, proto: tcp, port: 6379, payload: "FLUSHALL\r\n"}
 * or inject: "--to n1 --proto udp --port 53 --payload 0a0b". A quoted YAML
 * payload is the text itself (YAML escapes such as \r\n work); a plain one
 * is hex digits or '"text"' as on the command line. Nothing to heal. */
#include "steps.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inject/inject.h"
#include "lab/lab.h"
#include "scenario.h"

/* payload: quoted YAML -> the text as is; plain -> the CLI's hex|"text" */
static int payload_word(struct fl_step_parse *p, const struct fl_ynode *v, char *buf, size_t len)
{
	struct fl_bytes b = { 0 };
	struct fl_err e;
	size_t n;

	if (fl_ystep_scalar(p, v, "payload"))
		return -EINVAL;
	n = strlen(v->text);
	if (!v->plain) {
		if (!n || n > FL_TEXT_MAX)
			return fl_yerr(p->err, p->d, v, "'payload' is 1 to %d bytes", FL_TEXT_MAX);
		memcpy(b.b, v->text, n);
		b.len = (uint32_t)n;
	} else if (fl_bytes_parse("payload", v->text, &b, &e)) {
		return fl_yerr(p->err, p->d, v, "%s", e.msg);
	}
	fl_bytes_format(&b, buf, len);
	return 0;
}

static int inject_map(struct fl_step_parse *p, struct fl_step *st, const struct fl_ynode *m)
{
	const char *allowed[32];
	char word[2 * FL_TEXT_MAX + 3];
	size_t n = 0;
	bool on;
	int ret = 0;

	for (const struct fl_inject_option *o = fl_inject_options; o->name && n < 31; o++)
		allowed[n++] = o->yaml;
	allowed[n] = NULL;
	if (fl_ycheck_keys(p->d, m, "an 'inject' step", allowed, p->err))
		return -EINVAL;
	for (const struct fl_inject_option *o = fl_inject_options; o->name && !ret; o++) {
		const struct fl_ynode *v = fl_ymap_get(m, o->yaml);

		if (!v)
			continue;
		if (!o->takes_value) {
			ret = fl_ystep_flag(p, v, o->yaml, &on) ?:
				      on			? fl_step_push(st, o->name) :
								  0;
			continue;
		}
		if (!strcmp(o->yaml, "payload"))
			ret = payload_word(p, v, word, sizeof(word));
		else if (!(ret = fl_ystep_scalar(p, v, o->yaml)))
			snprintf(word, sizeof(word), "%s", v->text);
		ret = ret ?: fl_step_push(st, o->name) ?: fl_step_push(st, word);
	}
	return ret;
}

static int inject_parse(struct fl_step_parse *p, struct fl_step *st, const struct fl_ynode *step,
			const struct fl_ynode *v)
{
	struct fl_inject in;
	struct fl_err e;
	int ret;

	(void)step;
	if (v->type == FL_Y_SCALAR && !fl_yis_null(v))
		ret = fl_step_push_words(st, v->text);
	else if (fl_yexpect(p->d, v, FL_Y_MAP, "'inject'", p->err))
		return -EINVAL;
	else
		ret = inject_map(p, st, v);
	if (ret)
		return ret;
	if (fl_inject_parse(&in, (int)st->argc, st->argv, &e))
		return fl_yerr(p->err, p->d, v, "%s", e.msg);
	return 0;
}

static int inject_validate(const struct fl_step *st, struct fl_lab *lab, struct fl_err *err)
{
	struct fl_inject in;
	struct fl_packet pk;

	if (fl_inject_parse(&in, (int)st->argc, st->argv, err))
		return -EINVAL;
	return fl_inject_resolve(&in, lab, &pk, err);
}

static int inject_apply(struct fl_step_ctx *c, const struct fl_step *st, struct fl_err *err)
{
	struct fl_inject in;
	struct fl_packet pk;
	uint32_t sent = 0;

	if (!c->lab) {
		fl_err_set(err, "inject needs a lab (it is not available in fallacy wrap)");
		return -EINVAL;
	}
	if (fl_inject_parse(&in, (int)st->argc, st->argv, err))
		return -EINVAL;
	if (!in.seed_given) {
		in.seed = c->seed;
		in.seed_given = true;
	}
	return fl_inject_send(&in, c->lab, &pk, &sent, err) ? -EIO : 0;
}

/* --to and --from take selectors of one node (steps.h): `inject: {to:
 * leader, ...}`. */
static enum fl_step_field inject_field(const struct fl_step *st, size_t i)
{
	return i && (!strcmp(st->argv[i - 1], "--to") || !strcmp(st->argv[i - 1], "--from")) ?
		       FL_FIELD_NODE :
		       FL_FIELD_NONE;
}

const struct fl_step_ops fl_step_inject = {
	.key = "inject",
	.node_field = inject_field,
	.help = "forge a packet from a spoofed lab address toward a node (fallacy inject)",
	.needs_lab = true,
	.parse = inject_parse,
	.apply = inject_apply,
	.validate = inject_validate,
};
