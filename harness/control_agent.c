// SPDX-License-Identifier: MIT
/* The agent's side of the control handler (docs/agent.md): requests name
 * their target, {"netns": NAME or PATH} or {"pid": PID}, and are routed to
 * a handler of that target's own; put sets a target's whole fault set
 * (idempotent: the same set twice changes nothing and keeps counters),
 * renew extends its lease, reset removes what the agent put there. Every
 * fault an agent puts carries the lease as its --duration, renewed with
 * the supervisor's "extend": when the controller stops renewing, or the
 * agent dies, the faults end by themselves. */
#include "control.h"
#include "control_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "parse.h"
#include "pods.h"

static const char *const agent_verbs[] = { "targets", "put", "renew", "reset", "capture" };

bool fl_ctl_agent_verb(const char *verb)
{
	for (size_t i = 0; i < sizeof(agent_verbs) / sizeof(agent_verbs[0]); i++)
		if (!strcmp(verb, agent_verbs[i]))
			return true;
	return false;
}

bool fl_ctl_agent_refused(const char *verb)
{
	return !strcmp(verb, "add") || !strcmp(verb, "change") || !strcmp(verb, "clear");
}

/* ---- the target ------------------------------------------------------------ */

/* A path names a namespace: /run/netns/NAME, or /proc/PID/ns/net. */
static int target_path(const char *path, char **argv, char *pid, size_t len)
{
	int n = 0, end = 0;

	if (!strncmp(path, "/run/netns/", 11)) {
		argv[0] = "--netns";
		argv[1] = (char *)path + 11;
		return 0;
	}
	if (sscanf(path, "/proc/%d/ns/net%n", &n, &end) == 1 && !path[end] && n > 0) {
		snprintf(pid, len, "%d", n);
		argv[0] = "--pid";
		argv[1] = pid;
		return 0;
	}
	return -EINVAL;
}

/* {"pod": UID}: the router finds the pod's namespace and holds it. */
static int read_pod(struct fl_ctl *c, const struct fl_ctl_req *r, const struct fl_ynode *v,
		    char **argv, char *pid, size_t len, int *nsfd, struct fl_err *err)
{
	struct fl_err e = { "" };
	pid_t p = 0;

	if (!c->router->pod)
		return fl_yerr(err, r->doc, v, "pods are not targets here");
	if (c->router->pod(c, v->text, &p, nsfd, &e))
		return fl_yerr(err, r->doc, v, "%s", e.msg);
	snprintf(pid, len, "%d", (int)p);
	argv[0] = "--pid";
	argv[1] = pid;
	return 0;
}

/* The target of r into t; a pod's UID into pod and its namespace, held,
 * into *nsfd (else -1). */
static int read_target(struct fl_ctl *c, const struct fl_ctl_req *r, struct fl_target *t, char *pod,
		       int *nsfd, struct fl_err *err)
{
	static const char *const keys[] = { "netns", "pid", "pod", NULL };
	const struct fl_ynode *n = r->target, *ns, *pid, *pd, *v;
	char *argv[3] = { NULL }, num[16];
	struct fl_err e = { "" };
	int used;

	*nsfd = -1;
	pod[0] = '\0';
	if (n->type != FL_Y_MAP)
		return fl_yerr(err, r->doc, n,
			       "'target' is an object: netns NAME or PATH, pid PID, or pod UID");
	if (fl_ycheck_keys(r->doc, n, "target", keys, err))
		return -EINVAL;
	ns = fl_ymap_get(n, "netns");
	pid = fl_ymap_get(n, "pid");
	pd = fl_ymap_get(n, "pod");
	if (!!ns + !!pid + !!pd != 1)
		return fl_yerr(err, r->doc, n, "'target' names one of netns, pid or pod");
	v = ns ? ns : pid ? pid : pd;
	if (v->type != FL_Y_SCALAR || !v->text || !*v->text)
		return fl_yerr(err, r->doc, v, "'%s' must be a string or a number",
			       ns  ? "netns" :
			       pid ? "pid" :
				     "pod");
	argv[0] = ns ? "--netns" : "--pid";
	argv[1] = v->text;
	if (ns && v->text[0] == '/' && target_path(v->text, argv, num, sizeof(num)))
		return fl_yerr(err, r->doc, v,
			       "'%s': a namespace path is /run/netns/NAME or /proc/PID/ns/net",
			       v->text);
	if (pd && read_pod(c, r, v, argv, num, sizeof(num), nsfd, err))
		return -EINVAL;
	if (pd && fl_pod_uid_parse(v->text, strlen(v->text), pod))
		snprintf(pod, 40, "%s", v->text);
	if (fl_target_parse(2, argv, t, &used, &e))
		return fl_yerr(err, r->doc, v, "%s", e.msg);
	return 0;
}

static void put_target(struct fl_out *o, const struct fl_ctl *tc)
{
	const struct fl_target *t = &tc->target;

	fl_out_open(o, "target", '{');
	if (tc->pod[0])
		fl_out_str(o, "pod", tc->pod);
	if (t->kind == FL_TARGET_PID)
		fl_out_i64(o, "pid", t->pid);
	else
		fl_out_str(o, "netns", t->netns);
	fl_out_close(o, '}');
}

/* ---- put --------------------------------------------------------------------- */

void fl_ctl_plan(char *const *have, int n_have, char *const *want, int n_want, int *keep,
		 bool *drop)
{
	for (int i = 0; i < n_have; i++)
		drop[i] = true;
	for (int j = 0; j < n_want; j++) {
		keep[j] = -1;
		for (int i = 0; i < n_have && keep[j] < 0; i++)
			if (drop[i] && have[i] && want[j] && !strcmp(have[i], want[j])) {
				keep[j] = i;
				drop[i] = false;
			}
	}
}

/* One fault of a put, parsed. */
struct want {
	char *buf;
	char *argv[CTL_MAX_WORDS + 1];
	int argc;
	struct fl_fault f;
};

/* The canonical words of f: how it prints, and its --id. */
static char *fault_key(const struct fl_fault *f)
{
	char buf[2048], *key = NULL;

	fl_fault_format(f, buf, sizeof(buf));
	if (asprintf(&key, "%s%s%s", buf, f->id[0] ? " --id " : "", f->id) < 0)
		return NULL;
	return key;
}

static int read_want(struct fl_ctl *tc, const struct fl_ctl_req *r, const struct fl_ynode *item,
		     struct want *w, struct fl_err *err)
{
	struct fl_err e = { "" };
	int ret = fl_ctl_words(r->doc, item, &w->buf, w->argv, &w->argc, err);

	if (ret)
		return ret;
	if (fl_ctl_parse(tc, w->argc, w->argv, &w->f, &e))
		return fl_yerr(err, r->doc, item, "%s", e.msg);
	if (w->f.duration_ns)
		return fl_yerr(err, r->doc, item,
			       "--duration: a put's faults end with its lease (leave it out)");
	return 0;
}

/* Every fault of the put read and checked, with its key: nothing changes
 * before all of them are good. */
static int read_wants(struct fl_ctl *tc, const struct fl_ctl_req *r, struct want *w, char **keys,
		      int *n, struct fl_err *err)
{
	const struct fl_ynode *fs = r->faults;
	int ret;

	*n = 0;
	if (!fs || fs->type != FL_Y_SEQ)
		return fl_yerr(err, r->doc, fs ? fs : r->doc->root,
			       "put: 'faults' is a list of faults, each a string of words");
	if (fs->n > FL_CTL_MAX_FAULTS)
		return fl_yerr(err, r->doc, fs, "put: more than %d faults", FL_CTL_MAX_FAULTS);
	for (size_t i = 0; i < fs->n; i++) {
		ret = read_want(tc, r, fs->items[i], &w[i], err);
		if (ret)
			return ret;
		keys[i] = fault_key(&w[i].f);
		*n = (int)i + 1;
		if (!keys[i])
			return -ENOMEM;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(keys[k], keys[i]))
				return fl_yerr(
					err, r->doc, fs->items[i],
					"the same fault as faults[%zu] (an --id for each keeps both)",
					k);
	}
	return 0;
}

static int read_lease(struct fl_ctl *tc, const struct fl_ctl_req *r, uint64_t *ns,
		      struct fl_err *err)
{
	const struct fl_ynode *n = fl_ymap_get(r->doc->root, "lease");
	struct fl_err e = { "" };

	*ns = tc->lease_ns ? tc->lease_ns : FL_LEASE_DEFAULT_NS;
	if (!r->lease)
		return 0;
	if (fl_lease_parse(r->lease, ns, &e))
		return fl_yerr(err, r->doc, n, "%s", e.msg);
	if (!*ns)
		return fl_yerr(err, r->doc, n, "an agent's faults always have a lease (1s to 24h)");
	return 0;
}

/* "extend LEASE ID..." for our faults in ids. */
static int extend(struct fl_ctl *tc, char (*ids)[FL_FAULT_ID_MAX + 1], int n, uint64_t lease,
		  char **msg)
{
	char *argv[FL_CTL_MAX_FAULTS + 3] = { "extend" }, d[32], *out = NULL;
	int status;

	if (!n)
		return 0;
	fl_lease_format(lease, d, sizeof(d));
	argv[1] = d;
	for (int i = 0; i < n; i++)
		argv[i + 2] = ids[i];
	status = tc->ops->request(tc, n + 2, argv, &out, msg);
	free(out);
	return status;
}

static void leased(struct fl_ctl *tc, uint64_t lease)
{
	tc->lease_ns = lease;
	tc->lease_due_ns = fl_clock_mono_ns() + lease;
}

static int reset(struct fl_ctl *tc, char (*removed)[FL_FAULT_ID_MAX + 1], int *n);

/* The result of a put: ids added, removed and kept. */
struct put_res {
	char added[FL_CTL_MAX_FAULTS][FL_FAULT_ID_MAX + 1];
	char removed[FL_CTL_MAX_FAULTS][FL_FAULT_ID_MAX + 1];
	char kept[FL_CTL_MAX_FAULTS][FL_FAULT_ID_MAX + 1];
	int n_added, n_removed, n_kept;
};

/* Add what is missing; on a refusal, take back what this put added. */
static int put_add(struct fl_ctl *tc, struct want *w, char **keys, const int *keep, int n,
		   uint64_t lease, struct put_res *res, char **msg)
{
	for (int j = 0; j < n; j++) {
		char *out = NULL;
		int status;

		if (keep[j] >= 0)
			continue;
		w[j].f.duration_ns = lease;
		status = fl_ctl_add(tc, &w[j].f, keys[j], &out, msg);
		free(out);
		if (status) {
			while (res->n_added--) {
				char *m = NULL;

				fl_ctl_del(tc, tc->n_own - 1, &m);
				free(m);
			}
			return status;
		}
		snprintf(res->added[res->n_added++], sizeof(res->added[0]), "%s", w[j].f.id);
	}
	return 0;
}

static int put_apply(struct fl_ctl *tc, struct want *w, char **keys, int n, uint64_t lease,
		     struct put_res *res, char **msg)
{
	int keep[FL_CTL_MAX_FAULTS], n_have;
	bool drop[FL_CTL_MAX_FAULTS];
	int status;

	fl_ctl_own_sync(tc);
	n_have = tc->n_own;
	fl_ctl_plan(tc->key, n_have, keys, n, keep, drop);
	for (int j = 0; j < n; j++)
		if (keep[j] >= 0)
			snprintf(res->kept[res->n_kept++], sizeof(res->kept[0]), "%s",
				 tc->own[keep[j]]);
	if (n_have + n - res->n_kept > FL_CTL_MAX_FAULTS) {
		*msg = strdup("put: too many faults on one target");
		return 2;
	}
	/* the data plane's lease, if this put starts the session: the put's,
	 * but never under the default, whose renewals a busy host keeps up
	 * with (the --duration ends the faults within the put's lease) */
	fl_session_set_lease(lease > FL_LEASE_DEFAULT_NS ? lease : FL_LEASE_DEFAULT_NS);
	/* the kept ones renewed first: a refusal there has changed nothing */
	status = extend(tc, res->kept, res->n_kept, lease, msg) ?:
			 put_add(tc, w, keys, keep, n, lease, res, msg);
	if (status)
		return status;
	for (int i = n_have - 1; i >= 0; i--) {
		char *m = NULL;

		if (!drop[i])
			continue;
		snprintf(res->removed[res->n_removed++], sizeof(res->removed[0]), "%s", tc->own[i]);
		fl_ctl_del(tc, i, &m);
		free(m);
	}
	leased(tc, lease);
	if (!tc->n_own) { /* an empty set: as reset */
		status = reset(tc, res->removed + res->n_removed, &n_have);
		res->n_removed += n_have;
		return status ? 2 : 0;
	}
	return 0;
}

static void put_ids(struct fl_out *o, const char *key, char (*ids)[FL_FAULT_ID_MAX + 1], int n)
{
	fl_out_open(o, key, '[');
	for (int i = 0; i < n; i++)
		fl_out_str(o, "", ids[i]);
	fl_out_close(o, ']');
}

static void put_answer(struct fl_out *o, const struct fl_ctl_req *r, struct fl_ctl *tc,
		       struct put_res *res)
{
	char d[32];

	fl_lease_format(tc->lease_ns, d, sizeof(d));
	fl_ctl_open(o, r, true);
	put_target(o, tc);
	fl_out_str(o, "lease", d);
	put_ids(o, "added", res->added, res->n_added);
	put_ids(o, "removed", res->removed, res->n_removed);
	put_ids(o, "kept", res->kept, res->n_kept);
	fl_ctl_close(o);
}

static int verb_put(struct fl_ctl *tc, struct fl_out *o, const struct fl_ctl_req *r)
{
	struct want *w = calloc(FL_CTL_MAX_FAULTS, sizeof(*w));
	struct put_res *res = calloc(1, sizeof(*res));
	char *keys[FL_CTL_MAX_FAULTS] = { NULL }, *msg = NULL;
	struct fl_err err = { "" };
	uint64_t lease;
	int n = 0, ret;

	if (!w || !res) {
		ret = fl_ctl_refuse(o, r, "put: out of memory");
		goto out;
	}
	ret = read_lease(tc, r, &lease, &err) ?: read_wants(tc, r, w, keys, &n, &err);
	if (ret)
		ret = fl_ctl_refuse(o, r, "%s", err.msg[0] ? err.msg : strerror(-ret));
	else if (put_apply(tc, w, keys, n, lease, res, &msg))
		ret = fl_ctl_refuse(o, r, "%s", msg && *msg ? msg : "put: the session refused");
	else
		put_answer(o, r, tc, res);
out:
	for (int i = 0; i < FL_CTL_MAX_FAULTS && w; i++)
		free(w[i].buf);
	for (int i = 0; i < n; i++)
		free(keys[i]);
	free(msg);
	free(res);
	free(w);
	return ret;
}

/* ---- renew, reset ------------------------------------------------------------ */

static int verb_renew(struct fl_ctl *tc, struct fl_out *o, const struct fl_ctl_req *r)
{
	struct fl_err err = { "" };
	char *msg = NULL, d[32];
	uint64_t lease;
	int ret = read_lease(tc, r, &lease, &err);

	if (ret)
		return fl_ctl_refuse(o, r, "%s", err.msg);
	fl_ctl_own_sync(tc);
	if (!tc->n_own)
		return fl_ctl_refuse(o, r,
				     "renew: nothing put on %s (its lease ran out? put again)",
				     tc->target.session);
	if (extend(tc, tc->own, tc->n_own, lease, &msg))
		ret = fl_ctl_refuse(o, r, "%s", msg && *msg ? msg : "renew: the session refused");
	free(msg);
	if (ret)
		return ret;
	leased(tc, lease);
	fl_lease_format(lease, d, sizeof(d));
	fl_ctl_open(o, r, true);
	put_target(o, tc);
	fl_out_str(o, "lease", d);
	put_ids(o, "renewed", tc->own, tc->n_own);
	fl_ctl_close(o);
	return 0;
}

/* Remove our faults, into removed; then end the session if nothing else
 * is left in it (a supervisor whose faults expired stays up empty). */
static int reset(struct fl_ctl *tc, char (*removed)[FL_FAULT_ID_MAX + 1], int *n)
{
	struct fl_fault_stat *v = NULL;
	int failed = 0, left = -1;
	char *argv[] = { "clear", NULL }, *out = NULL, *msg = NULL;

	*n = 0;
	fl_ctl_own_sync(tc);
	while (tc->n_own) {
		snprintf(removed[(*n)++], FL_FAULT_ID_MAX + 1, "%s", tc->own[tc->n_own - 1]);
		failed += fl_ctl_del(tc, tc->n_own - 1, &msg) != 0;
		free(msg);
		msg = NULL;
	}
	tc->lease_due_ns = 0;
	if (tc->target.kind != FL_TARGET_LAB && !tc->ops->stats(tc, &v, &left) && !left)
		tc->ops->request(tc, 1, argv, &out, &msg);
	free(v);
	free(out);
	free(msg);
	return failed ? -EIO : 0;
}

int fl_ctl_expire(struct fl_ctl *tc)
{
	char removed[FL_CTL_MAX_FAULTS][FL_FAULT_ID_MAX + 1];
	int n;

	return reset(tc, removed, &n);
}

static int verb_reset(struct fl_ctl *tc, struct fl_out *o, const struct fl_ctl_req *r)
{
	char removed[FL_CTL_MAX_FAULTS][FL_FAULT_ID_MAX + 1];
	int n;

	if (reset(tc, removed, &n))
		return fl_ctl_refuse(o, r, "reset: some faults of %s could not be removed",
				     tc->target.session);
	fl_ctl_open(o, r, true);
	put_target(o, tc);
	put_ids(o, "removed", removed, n);
	fl_ctl_close(o);
	return 0;
}

/* ---- capture ------------------------------------------------------------------ */

#define CAPTURE_DEFAULT_NS (60ull * 1000000000ull)
#define CAPTURE_MAX_NS (3600ull * 1000000000ull)

static int read_capture_start(const struct fl_ctl_req *r, const struct fl_ynode *m,
			      struct fl_ctl_capture *q, struct fl_err *err)
{
	const struct fl_ynode *d = fl_ymap_get(m, "duration");

	q->duration_ns = CAPTURE_DEFAULT_NS;
	if (fl_yget_str(r->doc, m, "iface", true, &q->iface, err) ||
	    fl_yget_str(r->doc, m, "filter", false, &q->filter, err) ||
	    fl_yget_duration(r->doc, m, "duration", false, &q->duration_ns, err))
		return -EINVAL;
	if (!q->duration_ns || q->duration_ns > CAPTURE_MAX_NS)
		return fl_yerr(err, r->doc, d, "a capture lasts from 1ns to 1h (default 60s)");
	return fl_validate_name("iface", q->iface, 15, err) ? -EINVAL : 0;
}

/* {"action": "start", "iface": IF, "filter": EXPR, "duration": D},
 * {"action": "stop", "id": ID} or {"action": "fetch", "id": ID, "offset": N} */
static int read_capture(const struct fl_ctl_req *r, struct fl_ctl_capture *q, struct fl_err *err)
{
	static const char *const keys[] = { "action",	"id",	  "iface", "filter",
					    "duration", "offset", NULL };
	const struct fl_ynode *m = r->capture;
	const char *action = NULL;

	memset(q, 0, sizeof(*q));
	if (!m || m->type != FL_Y_MAP)
		return fl_yerr(
			err, r->doc, m ? m : r->doc->root,
			"capture: 'capture' is {\"action\": \"start\", \"iface\": IF} or {\"action\": \"stop\", \"id\": ID}");
	if (fl_ycheck_keys(r->doc, m, "capture", keys, err) ||
	    fl_yget_str(r->doc, m, "action", true, &action, err))
		return -EINVAL;
	q->start = !strcmp(action, "start");
	if (q->start)
		return read_capture_start(r, m, q, err);
	q->fetch = !strcmp(action, "fetch");
	if (strcmp(action, "stop") && !q->fetch)
		return fl_yerr(err, r->doc, fl_ymap_get(m, "action"),
			       "capture: unknown action '%s' (start, stop or fetch)", action);
	if (q->fetch &&
	    fl_yget_u64(r->doc, m, "offset", false, 0, UINT64_C(1) << 50, &q->offset, err))
		return -EINVAL;
	return fl_yget_str(r->doc, m, "id", true, &q->id, err) ? -EINVAL : 0;
}

static int verb_capture(struct fl_ctl *c, struct fl_ctl *tc, struct fl_out *o,
			const struct fl_ctl_req *r)
{
	struct fl_ctl_capture q;
	struct fl_err err = { "" };
	char *text = NULL;
	size_t len = 0;
	struct fl_out m = { .json = true, .compact = true };
	int ret;

	if (read_capture(r, &q, &err))
		return fl_ctl_refuse(o, r, "%s", err.msg);
	m.f = open_memstream(&text, &len);
	if (!m.f)
		return fl_ctl_refuse(o, r, "capture: out of memory");
	fl_out_open(&m, "", '{');
	ret = c->router->capture(c, tc, &q, &m, &err);
	fl_out_close(&m, '}');
	fclose(m.f);
	if (ret)
		ret = fl_ctl_refuse(o, r, "capture: %s", err.msg);
	else {
		fl_ctl_open(o, r, true);
		put_target(o, tc);
		fl_out_raw(o, "capture", text);
		fl_ctl_close(o);
	}
	free(text);
	return ret;
}

/* ---- routing ----------------------------------------------------------------- */

/* list without a target: every target's faults. */
static int list_all(struct fl_ctl *c, struct fl_out *o, const struct fl_ctl_req *r)
{
	struct fl_ctl *tc;

	fl_ctl_open(o, r, true);
	fl_out_open(o, "targets", '[');
	for (int i = 0; (tc = c->router->each(c, i)); i++) {
		char *out = NULL, *msg = NULL;

		if (fl_ctl_list(tc, &out, &msg)) {
			free(msg);
			msg = NULL;
			free(out);
			out = NULL;
		}
		fl_out_open(o, "", '{');
		put_target(o, tc);
		fl_out_raw(o, "faults", out ? out : "[]");
		fl_out_close(o, '}');
		free(out);
		free(msg);
	}
	fl_out_close(o, ']');
	fl_ctl_close(o);
	return 0;
}

static int without_target(struct fl_ctl *c, struct fl_out *o, struct fl_ctl_req *r)
{
	if (!strcmp(r->verb, "targets")) {
		fl_ctl_open(o, r, true);
		c->router->targets(c, o);
		fl_ctl_close(o);
		return 0;
	}
	if (!strcmp(r->verb, "list"))
		return list_all(c, o, r);
	if (!strcmp(r->verb, "version"))
		return fl_ctl_dispatch(c, o, r);
	return fl_ctl_refuse(o, r, "%s: no 'target' (netns NAME or PATH, or pid PID)", r->verb);
}

static int on_target(struct fl_ctl *c, struct fl_ctl *tc, struct fl_out *o, struct fl_ctl_req *r)
{
	if (!strcmp(r->verb, "capture"))
		return verb_capture(c, tc, o, r);
	if (!strcmp(r->verb, "put"))
		return verb_put(tc, o, r);
	if (!strcmp(r->verb, "renew"))
		return verb_renew(tc, o, r);
	if (!strcmp(r->verb, "reset"))
		return verb_reset(tc, o, r);
	if (fl_ctl_agent_refused(r->verb))
		return fl_ctl_refuse(
			o, r, "%s: an agent takes a target's whole fault set with put (and reset)",
			r->verb);
	if (!strcmp(r->verb, "del") || !strcmp(r->verb, "list") || !strcmp(r->verb, "counters"))
		return fl_ctl_dispatch(tc, o, r);
	return fl_ctl_refuse(o, r, "%s: takes no 'target'", r->verb);
}

int fl_ctl_agent_dispatch(struct fl_ctl *c, struct fl_out *o, struct fl_ctl_req *r)
{
	struct fl_err err = { "" };
	struct fl_target t;
	struct fl_ctl *tc = NULL;
	char pod[40];
	int ret, nsfd;

	if (!r->target)
		return without_target(c, o, r);
	if (read_target(c, r, &t, pod, &nsfd, &err))
		return fl_ctl_refuse(o, r, "%s", err.msg);
	if (c->router->route(c, &t, &tc, &err)) {
		if (nsfd >= 0)
			close(nsfd);
		return fl_ctl_refuse(o, r, "%s", err.msg);
	}
	if (pod[0] && tc->nsfd < 0) { /* the pod's namespace, held by its handler */
		snprintf(tc->pod, sizeof(tc->pod), "%s", pod);
		tc->nsfd = nsfd;
	} else if (nsfd >= 0) {
		close(nsfd);
	}
	ret = on_target(c, tc, o, r);
	if (!tc->n_own && !tc->lease_due_ns)
		c->router->forget(c, tc);
	return ret;
}
