// SPDX-License-Identifier: MIT
/* The timeline step `admin:`: another administrator changes one node
 * (injector admin/admin.h), undone by `heal: ID` / `heal: all`.
 *
 *   admin: {node: n2, firewall: {action: drop, proto: tcp, port: 2380, from: n1}}
 *   admin: {node: n3, hosts: {name: n1, addr: 198.18.0.99}}
 *   admin: {node: n2, sysctl: {key: net.core.somaxconn, value: 16}}
 *   admin: "n2 firewall drop --port 2380"      (the words of fallacy admin LAB)
 *
 * The step's id is the change's id in the lab (`fallacy admin LAB list`). */
#include "steps.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "lab/lab.h"
#include "scenario.h"

/* What each change's map holds: "KEY" becomes a bare word (in the order
 * given), "--KEY" an option. */
static const char *const fw_keys[] = { "action", "--proto", "--port", "--from", NULL };
static const char *const hosts_keys[] = { "name", "addr", NULL };
static const char *const sysctl_keys[] = { "key", "value", NULL };

static const char *const *change_keys(enum fl_admin_kind k)
{
	return k == FL_ADMIN_FIREWALL ? fw_keys : k == FL_ADMIN_HOSTS ? hosts_keys : sysctl_keys;
}

/* {action: drop, port: 2380} -> drop --port 2380 (words checked later) */
static int change_words(struct fl_step_parse *p, struct fl_step *st, enum fl_admin_kind k,
			const struct fl_ynode *v)
{
	const char *const *keys = change_keys(k);
	const char *names[8];
	char what[64], opt[32];
	size_t n = 0;
	int ret = 0;

	if (v->type == FL_Y_SCALAR && !fl_yis_null(v)) /* the words, as printed */
		return fl_step_push_words(st, v->text);
	for (; keys[n]; n++)
		names[n] = keys[n][0] == '-' ? keys[n] + 2 : keys[n];
	names[n] = NULL;
	snprintf(what, sizeof(what), "'%s'", fl_admin_kind_name(k));
	if (fl_yexpect(p->d, v, FL_Y_MAP, what, p->err) ||
	    fl_ycheck_keys(p->d, v, what, names, p->err))
		return -EINVAL;
	for (size_t i = 0; keys[i] && !ret; i++) {
		const struct fl_ynode *x = fl_ymap_get(v, names[i]);

		if (!x) {
			if (keys[i][0] != '-')
				return fl_yerr(p->err, p->d, v, "%s needs '%s'", what, names[i]);
			continue;
		}
		if (fl_ystep_scalar(p, x, names[i]))
			return -EINVAL;
		snprintf(opt, sizeof(opt), "--%s", names[i]);
		if (keys[i][0] == '-')
			ret = fl_step_push(st, opt);
		ret = ret ?: fl_step_push(st, x->text);
	}
	return ret;
}

static int admin_parse(struct fl_step_parse *p, struct fl_step *st, const struct fl_ynode *step,
		       const struct fl_ynode *v)
{
	static const char *const keys[] = { "node", "firewall", "hosts", "sysctl", NULL };
	const struct fl_ynode *node, *ch = NULL;
	enum fl_admin_kind kind = FL_ADMIN_FIREWALL;
	struct fl_step *stand = NULL;
	struct fl_admin a;
	struct fl_err e;
	int ret;

	(void)step;
	if (v->type == FL_Y_SCALAR && !fl_yis_null(v)) {
		ret = fl_step_push_words(st, v->text);
	} else {
		if (fl_yexpect(p->d, v, FL_Y_MAP, "'admin'", p->err) ||
		    fl_ycheck_keys(p->d, v, "'admin'", keys, p->err))
			return -EINVAL;
		node = fl_ymap_get(v, "node");
		if (!node)
			return fl_yerr(p->err, p->d, v, "'admin' needs 'node'");
		for (int k = 0; k < FL_ADMIN__COUNT; k++) {
			const struct fl_ynode *x = fl_ymap_get(v, fl_admin_kind_name(k));

			if (x && ch)
				return fl_yerr(p->err, p->d, x,
					       "one change per 'admin' step (firewall, hosts or "
					       "sysctl)");
			if (x)
				ch = x, kind = (enum fl_admin_kind)k;
		}
		if (!ch)
			return fl_yerr(p->err, p->d, v,
				       "'admin' needs one of firewall, hosts, sysctl");
		ret = fl_ystep_scalar(p, node, "node")			 ?:
			      fl_step_push(st, node->text)		 ?:
			      fl_step_push(st, fl_admin_kind_name(kind)) ?:
			      change_words(p, st, kind, ch);
	}
	if (ret)
		return ret;
	/* the words, checked by fallacy admin's own parser (selectors and
	 * templates stand for a node or an address until the nodes are known) */
	ret = fl_step_stand_in(st, &stand);
	if (ret)
		return ret;
	ret = fl_admin_parse(&a, (int)stand->argc, stand->argv, &e);
	fl_step_free(stand);
	return ret ? fl_yerr(p->err, p->d, v, "%s", e.msg) : 0;
}

static int admin_step(const struct fl_step *st, struct fl_admin *a, struct fl_err *err)
{
	if (fl_admin_parse(a, (int)st->argc, st->argv, err))
		return -EINVAL;
	snprintf(a->id, sizeof(a->id), "%s", st->id);
	return 0;
}

static int admin_apply(struct fl_step_ctx *c, const struct fl_step *st, struct fl_err *err)
{
	struct fl_admin a;

	return admin_step(st, &a, err) ?: fl_admin_apply(c->lab->name, &a, err) ? -EINVAL : 0;
}

static int admin_heal(struct fl_step_ctx *c, const struct fl_step *st, char *counters, size_t len,
		      struct fl_err *err)
{
	(void)counters;
	(void)len;
	return fl_admin_del(c->lab->name, st->id, err) ? -EINVAL : 0;
}

/* The node (and --from) against the lab the run will have. */
static int admin_validate(const struct fl_step *st, struct fl_lab *lab, struct fl_err *err)
{
	struct fl_admin a;

	return admin_step(st, &a, err) ?: fl_admin_check(&a, lab, err) ? -EINVAL : 0;
}

/* The node (the first word), a firewall rule's --from and a hosts entry's
 * NAME and ADDR take selectors of one node (steps.h): `admin: {node:
 * leader, hosts: {name: primary, addr: one}}`; ADDR also an address
 * template, `{{ip:replica}}` (the address then, not the node's later
 * ones). */
static enum fl_step_field admin_field(const struct fl_step *st, size_t i)
{
	if (!i || !strcmp(st->argv[i - 1], "--from"))
		return FL_FIELD_NODE;
	if (st->argc > 1 && !strcmp(st->argv[1], "hosts") && (i == 2 || i == 3))
		return FL_FIELD_NODE;
	return FL_FIELD_NONE;
}

const struct fl_step_ops fl_step_admin = {
	.key = "admin",
	.node_field = admin_field,
	.help = "another administrator changes a node: firewall rule, hosts entry, sysctl",
	.needs_lab = true,
	.parse = admin_parse,
	.apply = admin_apply,
	.heal = admin_heal,
	.validate = admin_validate,
};
