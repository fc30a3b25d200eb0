// SPDX-License-Identifier: MIT
/* The supervisor's fault table: add/change/del/clear/list/stats requests.
 * Every request is validated completely before the kernel is touched; the
 * rule table is rebuilt (sorted, double-buffered) after each change, so a
 * change is one flip of the table. */
#include "supervisor_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "dataplane/dataplane.h"
#include "delay/sup_delay.h"
#include "json.h"
#include "lab/lab.h"
#include "session_int.h"
#include "state/state.h"

static int find_fault(struct fl_sup *s, const char *id)
{
	for (int i = 0; i < s->n_faults; i++)
		if (!strcmp(s->faults[i]->f.id, id))
			return i;
	return -1;
}

static int total_rules(struct fl_sup *s)
{
	int n = 0;

	for (int i = 0; i < s->n_faults; i++)
		n += s->faults[i]->n_rules;
	return n;
}

static int rebuild(struct fl_sup *s)
{
	int total = total_rules(s), k = 0, err;
	struct fl_rule *rules = calloc((size_t)total + 1, sizeof(*rules));
	uint64_t *order = calloc((size_t)total + 1, sizeof(*order));

	err = rules && order ? 0 : -ENOMEM;
	for (int i = 0; !err && i < s->n_faults; i++) {
		for (int j = 0; j < s->faults[i]->n_rules; j++, k++) {
			rules[k] = s->faults[i]->rules[j];
			order[k] = s->faults[i]->f.order;
		}
	}
	if (!err)
		err = fl_rules_sort(rules, order, total);
	/* wire-sized packets before a per-packet rule acts; super-packets
	 * again once the last one has gone */
	sup_offloads_sync(s, true);
	if (!err)
		err = fl_dp_load_rules(s->dp, rules, total);
	sup_offloads_sync(s, false);
	free(rules);
	free(order);
	return err;
}

/* Slots for the rules of sf beyond the first `keep` (which already have
 * theirs); -ENOSPC leaves nothing taken. */
static int alloc_slots(struct fl_sup *s, struct sup_fault *sf, int keep)
{
	int got = keep;

	for (uint32_t slot = 0; slot < FL_MAX_SLOTS && got < sf->n_rules; slot++) {
		if (s->slot_used[slot])
			continue;
		s->slot_used[slot] = 1;
		sf->rules[got].slot = slot;
		sf->f.slots[got++] = slot;
	}
	if (got == sf->n_rules)
		return 0;
	while (got-- > keep)
		s->slot_used[sf->rules[got].slot] = 0;
	return -ENOSPC;
}

static struct fl_kind_ctx ctx(struct fl_sup *s, struct sup_fault *sf)
{
	return (struct fl_kind_ctx){ .sup = s, .rules = sf->rules, .n_rules = sf->n_rules };
}

static void heal(struct fl_sup *s, struct sup_fault *sf)
{
	struct fl_kind_ctx c = ctx(s, sf);

	if (sf->f.ops->heal)
		sf->f.ops->heal(&c, &sf->f);
	free(sf->f.priv);
	sf->f.priv = NULL;
}

static void free_fault(struct fl_sup *s, struct sup_fault *sf, bool do_heal)
{
	if (do_heal)
		heal(s, sf);
	for (int i = 0; i < sf->n_rules && sf->rules; i++)
		s->slot_used[sf->rules[i].slot] = 0;
	free(sf->rules);
	free(sf);
}

static void print_counters(struct fl_sup *s, const struct sup_fault *sf, struct fl_out *o);

/* One line of events.jsonl in the session folder, in the schema of every
 * events.jsonl (docs/results.md): "mono_ns", "wall_ns", "event", "id",
 * then the fault as `fault list -j` prints it, and for a removed fault
 * (counted) its final counters. */
static void event(struct fl_sup *s, const char *what, const struct fl_fault *f,
		  const struct sup_fault *counted)
{
	struct fl_out o = { .json = true, .compact = true };
	char path[4096];

	if (fl_session_path(s->t.session, "events.jsonl", path, sizeof(path)))
		return;
	o.f = fopen(path, "ae");
	if (!o.f)
		return;
	fl_out_open(&o, "", '{');
	fl_out_u64(&o, "mono_ns", fl_clock_mono_ns());
	fl_out_u64(&o, "wall_ns", fl_clock_wall_ns());
	fl_out_str(&o, "event", what);
	fl_out_str(&o, "id", f->id);
	fl_out_open(&o, "fault", '{');
	fl_fault_print(f, &o);
	fl_out_close(&o, '}');
	if (counted) {
		fl_out_open(&o, "counters", '{');
		print_counters(s, counted, &o);
		fl_out_close(&o, '}');
	}
	fl_out_close(&o, '}');
	fputc('\n', o.f);
	fclose(o.f);
}

static void name_fault(struct fl_sup *s, struct fl_fault *f)
{
	uint64_t seed;

	while (!f->id[0]) {
		snprintf(f->id, sizeof(f->id), "f%u", ++s->next_id);
		if (find_fault(s, f->id) >= 0)
			f->id[0] = '\0';
	}
	if (!f->seed_given) {
		if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
			seed = fl_clock_mono_ns() ^ ((uint64_t)getpid() << 32);
		f->seed = seed & FL_SEED_MAX;
	}
}

/* The fault's rules into sf (slots not yet assigned); checks the limits. */
static int expand(struct fl_sup *s, struct sup_fault *sf, int replacing, struct fl_err *e)
{
	struct fl_rule rules[FL_FAULT_MAX_RULES];
	int n = fl_fault_rules(&sf->f, s->lab, rules, FL_FAULT_MAX_RULES, e);

	if (n < 0)
		return n;
	if (total_rules(s) - replacing + n > FL_MAX_RULES) {
		fl_err_set(e, "too many rules: %d in use, %d more, at most %d per session",
			   total_rules(s) - replacing, n, FL_MAX_RULES);
		return -ENOSPC;
	}
	sf->rules = calloc((size_t)n, sizeof(*sf->rules));
	if (!sf->rules)
		return -ENOMEM;
	memcpy(sf->rules, rules, (size_t)n * sizeof(*rules));
	sf->n_rules = sf->f.n_rules = n;
	return 0;
}

/* Parse, name and expand a fault; nothing in the kernel changes here. */
static int prepare(struct fl_sup *s, struct sup_fault *sf, int argc, char **argv, FILE *msg)
{
	struct fl_err e = { "" };

	if (fl_fault_parse(&sf->f, argc, argv, s->lab, &e))
		goto bad;
	if (sf->f.ops->check && sf->f.ops->check(&sf->f, &e))
		goto bad;
	if (sf->f.id[0] && find_fault(s, sf->f.id) >= 0) {
		fl_err_set(&e, "--id %s: a fault with that id exists (fault change or del it)",
			   sf->f.id);
		goto bad;
	}
	if (s->n_faults >= FL_SUP_MAX_FAULTS) {
		fl_err_set(&e, "too many faults: at most %d per session", FL_SUP_MAX_FAULTS);
		goto bad;
	}
	if (expand(s, sf, 0, &e))
		goto bad;
	if (alloc_slots(s, sf, 0)) {
		fl_err_set(&e, "no free rule slots left in this session");
		goto bad;
	}
	name_fault(s, &sf->f);
	for (int i = 0; i < sf->n_rules; i++)
		sf->rules[i].seed = sf->f.seed;
	return 0;
bad:
	fprintf(msg, "fault add %s: %s\n", s->t.session, e.msg);
	return -EINVAL;
}

static void expire(struct fl_sup *s, void *key);

static int commit(struct fl_sup *s, struct sup_fault *sf, FILE *msg)
{
	struct fl_kind_ctx c = ctx(s, sf);
	struct fl_err e = { "" };
	int err;

	err = sup_attach(s);
	if (err) {
		fprintf(msg,
			"fault add %s: attaching the data plane failed: %s (see supervisor.log)\n",
			s->t.session, strerror(-err));
		return err;
	}
	if (sf->f.ops->apply && (err = sf->f.ops->apply(&c, &sf->f, &e))) {
		fprintf(msg, "fault add %s: %s\n", s->t.session, e.msg);
		return err;
	}
	for (int i = 0; i < sf->n_rules && !err; i++)
		err = fl_dp_slot_reset(s->dp, sf->rules[i].slot);
	sf->f.order = s->next_order++;
	s->faults[s->n_faults++] = sf;
	if (!err)
		err = rebuild(s);
	if (!err && sf->f.duration_ns) {
		sf->f.expires_mono_ns = fl_clock_mono_ns() + sf->f.duration_ns;
		err = fl_sup_deadline(s, sf, sf->f.expires_mono_ns, expire);
	}
	if (err) {
		s->n_faults--;
		heal(s, sf);
		rebuild(s);
		fprintf(msg, "fault add %s: updating the rule table: %s\n", s->t.session,
			strerror(-err));
	}
	return err;
}

static void print_added(struct fl_sup *s, struct sup_fault *sf, bool json, FILE *out, FILE *msg)
{
	struct fl_out o = { .f = out, .json = true };

	if (json) {
		fl_out_open(&o, "", '{');
		fl_out_str(&o, "id", sf->f.id);
		fl_out_u64(&o, "seed", sf->f.seed);
		fl_out_str(&o, "session", s->t.session);
		fl_out_u64(&o, "rules", (uint64_t)sf->n_rules);
		fl_out_close(&o, '}');
		fputc('\n', out);
	} else {
		fprintf(out, "%s\n", sf->f.id);
	}
	o = (struct fl_out){ .f = msg };
	fprintf(msg, "fallacy: %s %s: ", s->t.session, sf->f.id);
	fl_fault_print(&sf->f, &o);
	fputc('\n', msg);
}

static int sup_add(struct fl_sup *s, int argc, char **argv, bool json, FILE *out, FILE *msg)
{
	struct sup_fault *sf = calloc(1, sizeof(*sf));
	int err;

	if (!sf)
		return 2;
	err = prepare(s, sf, argc, argv, msg);
	if (!err)
		err = commit(s, sf, msg);
	if (err) {
		free_fault(s, sf, false);
		/* a session that never got a fault leaves nothing behind */
		return s->n_faults || s->lab || s->keep ? 2 : 2 | FL_ST_ENDED;
	}
	event(s, "fault-add", &sf->f, NULL); /* its time stamps: just after the flip */
	print_added(s, sf, json, out, msg);
	return 0;
}

/* Heal and forget fault i; the event (fault-del or fault-expired) is
 * stamped just after the flip, like fault-add's. */
static int remove_at(struct fl_sup *s, int i, const char *event_name)
{
	struct sup_fault *sf = s->faults[i];
	int err;

	memmove(&s->faults[i], &s->faults[i + 1], (size_t)(s->n_faults - i - 1) * sizeof(sf));
	s->n_faults--;
	fl_sup_deadline(s, sf, 0, NULL);
	err = rebuild(s);
	heal(s, sf); /* held packets released first: their counters are final */
	event(s, event_name, &sf->f, sf);
	free_fault(s, sf, false);
	return err;
}

static int ended(struct fl_sup *s)
{
	return !s->n_faults && !s->lab && !s->keep ? FL_ST_ENDED : 0;
}

/* --duration ran out: healed like `fault del`. A namespace session whose
 * last fault expires stays up (empty) until clear/del ends it. */
static void expire(struct fl_sup *s, void *key)
{
	for (int i = 0; i < s->n_faults; i++) {
		if (s->faults[i] != key)
			continue;
		pr_info("%s: fault %s expired (--duration)", s->t.session, s->faults[i]->f.id);
		if (remove_at(s, i, "fault-expired"))
			pr_err("%s: updating the rule table after an expiry failed", s->t.session);
		return;
	}
}

static int sup_del(struct fl_sup *s, int argc, char **argv, FILE *msg)
{
	int i;

	if (argc != 1) {
		fprintf(msg, "fault del: expected one fault id (see fallacy fault list)\n");
		return 2;
	}
	i = find_fault(s, argv[0]);
	if (i < 0) {
		fprintf(msg, "fault del %s: no fault '%s' (see fallacy fault list)\n", s->t.session,
			argv[0]);
		return 2;
	}
	if (remove_at(s, i, "fault-del")) {
		fprintf(msg, "fault del %s %s: updating the rule table failed\n", s->t.session,
			argv[0]);
		return 2;
	}
	return ended(s);
}

/* extend D ID...: each fault's --duration now ends D from now (an agent's
 * renew: faults it put end by themselves when its controller stops
 * renewing, or when the agent itself dies). All ids are checked first, so
 * a refused extend changes nothing. */
static int sup_extend(struct fl_sup *s, int argc, char **argv, FILE *msg)
{
	struct fl_err e = { "" };
	uint64_t d, due;

	if (argc < 2) {
		fprintf(msg, "fault extend: expected DURATION ID... (an agent's renew)\n");
		return 2;
	}
	if (fl_parse_duration(argv[0], &d, &e) || !d) {
		fprintf(msg, "fault extend %s: %s\n", s->t.session, e.msg[0] ? e.msg : "0s");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (find_fault(s, argv[i]) < 0) {
			fprintf(msg, "fault extend %s: no fault '%s' (see fallacy fault list)\n",
				s->t.session, argv[i]);
			return 2;
		}
	due = fl_clock_mono_ns() + d;
	for (int i = 1; i < argc; i++) {
		struct sup_fault *sf = s->faults[find_fault(s, argv[i])];

		sf->f.duration_ns = d;
		sf->f.expires_mono_ns = due;
		if (fl_sup_deadline(s, sf, due, expire)) {
			fprintf(msg, "fault extend %s: out of memory\n", s->t.session);
			return 2;
		}
	}
	return 0;
}

/* The new version of fault old: same id, match, seed and slots (counters
 * kept), new kind parameters. */
static int change_prepare(struct fl_sup *s, const struct sup_fault *old, struct sup_fault *nf,
			  int argc, char **argv, struct fl_err *e)
{
	nf->f = old->f;
	nf->f.priv = NULL;
	if (fl_fault_parse_params(&nf->f, argc, argv, e))
		return -EINVAL;
	if (nf->f.ops->check && nf->f.ops->check(&nf->f, e))
		return -EINVAL;
	if (nf->f.ops->can_change && nf->f.ops->can_change(&old->f, &nf->f, e))
		return -EINVAL;
	if (expand(s, nf, old->n_rules, e))
		return -EINVAL;
	for (int i = 0; i < nf->n_rules && i < old->n_rules; i++) {
		nf->rules[i].slot = old->rules[i].slot;
		nf->f.slots[i] = old->rules[i].slot;
	}
	if (alloc_slots(s, nf, nf->n_rules < old->n_rules ? nf->n_rules : old->n_rules)) {
		fl_err_set(e, "no free rule slots left in this session");
		return -ENOSPC;
	}
	for (int i = 0; i < nf->n_rules; i++)
		nf->rules[i].seed = nf->f.seed;
	return 0;
}

/* fault change ID KIND PARAMS...: one flip of the rule table. */
static int sup_change(struct fl_sup *s, int argc, char **argv, FILE *msg)
{
	struct sup_fault *nf = NULL, *old;
	struct fl_err e = { "" };
	struct fl_kind_ctx c;
	int i, err = -EINVAL;

	if (argc < 2) {
		fprintf(msg,
			"fault change: expected ID KIND [PARAMS...] (see fallacy fault --help)\n");
		return 2;
	}
	i = find_fault(s, argv[0]);
	if (i < 0) {
		fprintf(msg, "fault change %s: no fault '%s' (see fallacy fault list)\n",
			s->t.session, argv[0]);
		return 2;
	}
	old = s->faults[i];
	nf = calloc(1, sizeof(*nf));
	if (!nf || change_prepare(s, old, nf, argc - 1, argv + 1, &e))
		goto fail;
	/* the userspace side first (it replaces what the old one set up on the
	 * same slots), then the flip */
	nf->f.priv = old->f.priv;
	old->f.priv = NULL;
	c = ctx(s, nf);
	if (nf->f.ops->apply && nf->f.ops->apply(&c, &nf->f, &e)) {
		old->f.priv = nf->f.priv;
		nf->f.priv = NULL;
		goto fail;
	}
	s->faults[i] = nf;
	err = rebuild(s);
	if (err) {
		fl_err_set(&e, "updating the rule table: %s", strerror(-err));
		s->faults[i] = old;
		goto fail;
	}
	if (nf->f.duration_ns)
		fl_sup_deadline(s, nf, nf->f.expires_mono_ns, expire);
	fl_sup_deadline(s, old, 0, NULL);
	/* slots the new version no longer uses go back (their counters with
	 * them); the ones it kept keep counting */
	for (int k = nf->n_rules; k < old->n_rules; k++)
		s->slot_used[old->rules[k].slot] = 0;
	free(old->rules);
	free(old);
	event(s, "fault-change", &nf->f, NULL);
	return 0;
fail:
	fprintf(msg, "fault change %s %s: %s\n", s->t.session, argv[0], e.msg);
	if (nf) {
		for (int k = old->n_rules; nf->rules && k < nf->n_rules; k++)
			s->slot_used[nf->rules[k].slot] = 0;
		free(nf->rules);
		free(nf);
	}
	return 2;
}

/* Heal and forget every fault (but the lab's link profiles with
 * keep_profiles), newest first, with one rebuild of the rule table (and one
 * wait for running programs) for all of them. Returns how many were kept,
 * or -errno when the rule table could not be written. */
static int remove_all(struct fl_sup *s, bool keep_profiles)
{
	struct sup_fault **gone = calloc((size_t)s->n_faults + 1, sizeof(*gone));
	int n_gone = 0, kept = 0, err;

	if (!gone)
		return -ENOMEM;
	for (int i = s->n_faults; i-- > 0;) {
		struct sup_fault *sf = s->faults[i];

		if (keep_profiles && sf->f.profile[0]) {
			kept++;
			continue;
		}
		gone[n_gone++] = sf;
		memmove(&s->faults[i], &s->faults[i + 1],
			(size_t)(s->n_faults - i - 1) * sizeof(sf));
		s->n_faults--;
		fl_sup_deadline(s, sf, 0, NULL);
	}
	err = n_gone ? rebuild(s) : 0;
	for (int k = 0; k < n_gone; k++) {
		heal(s, gone[k]); /* held packets released first: counters final */
		event(s, "fault-del", &gone[k]->f, gone[k]);
		free_fault(s, gone[k], false);
	}
	free(gone);
	return err ? err : kept;
}

void sup_faults_clear(struct fl_sup *s)
{
	if (remove_all(s, false) < 0)
		pr_err("%s: updating the rule table while clearing failed", s->t.session);
}

/* fault clear: every fault but the lab's link profiles (its normal state;
 * `fault del` removes one of those). */
static int sup_clear(struct fl_sup *s, FILE *msg)
{
	int kept = remove_all(s, true);

	if (kept < 0) {
		fprintf(msg, "fault clear %s: updating the rule table failed\n", s->t.session);
		kept = 0;
	}
	if (kept)
		fprintf(msg,
			"fallacy: %s: kept %d fault(s) of the lab's link profiles (fault del ID"
			" removes one)\n",
			s->t.session, kept);
	return ended(s);
}

static void fault_counters(struct fl_sup *s, const struct sup_fault *sf, struct fl_counters *c)
{
	struct fl_counters one;

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < sf->n_rules; i++)
		if (!fl_dp_counters(s->dp, sf->rules[i].slot, &one))
			fl_counters_add(c, &one);
}

/* The delay line's own counters of a delay fault; false for other kinds. */
static bool delay_counters(const struct sup_fault *sf, struct fl_dl_slot_counters *sum)
{
	struct fl_dl_slot_counters one;
	bool any = false;

	memset(sum, 0, sizeof(*sum));
	for (int i = 0; i < sf->n_rules; i++) {
		if (fl_sup_delay_counters(sf->rules[i].slot, &one))
			continue;
		any = true;
		sum->held += one.held;
		sum->overflow += one.overflow;
		sum->reordered += one.reordered;
	}
	return any;
}

static void print_counters(struct fl_sup *s, const struct sup_fault *sf, struct fl_out *o)
{
	struct fl_dl_slot_counters d;
	struct fl_counters c;

	fault_counters(s, sf, &c);
	fl_counters_print(&c, o);
	if (!delay_counters(sf, &d))
		return;
	fl_out_u64(o, "held", d.held);
	fl_out_u64(o, "overflow", d.overflow);
	fl_out_u64(o, "reordered", d.reordered);
	fl_out_u64(o, "bypassed", fl_sup_delay_bypassed());
}

static bool listed(const struct sup_fault *sf, int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], sf->f.id))
			return true;
	return !argc;
}

/* Text: "ID  KIND PARAMS OPTIONS" and an indented counter line per fault.
 * JSON: an array of objects with the same members plus "counters".
 * With ids (argv), only those faults (a control socket lists its own). */
static int sup_list(struct fl_sup *s, int argc, char **argv, bool json, FILE *out)
{
	struct fl_out o = { .f = out, .json = json };
	uint64_t now = fl_clock_mono_ns();
	char lease[32];

	fl_lease_format(s->lease_ns, lease, sizeof(lease));
	fl_out_open(&o, "", '[');
	for (int i = 0; i < s->n_faults; i++) {
		struct sup_fault *sf = s->faults[i];

		if (!listed(sf, argc, argv))
			continue;
		if (!json)
			o.n = 0;
		fl_out_open(&o, "", '{');
		fl_out_strf(&o, "id", "%-8s ", sf->f.id);
		fl_fault_print(&sf->f, &o);
		if (sf->f.expires_mono_ns) {
			uint64_t left = sf->f.expires_mono_ns > now ? sf->f.expires_mono_ns - now :
								      0;

			/* whole milliseconds up: "left 2.996s", not "2995951.917us" */
			fl_out_dur(&o, "left",
				   (left + FL_NSEC_PER_MSEC - 1) / FL_NSEC_PER_MSEC *
					   FL_NSEC_PER_MSEC);
		}
		fl_out_u64f(&o, "rules", NULL, (uint64_t)sf->n_rules);
		if (json) /* its rules expire unless renewed */
			fl_out_str(&o, "lease", lease);
		if (!json) {
			fputs("\n         ", out);
			o.n = 0;
		}
		fl_out_open(&o, "counters", '{');
		print_counters(s, sf, &o);
		fl_out_close(&o, '}');
		if (!json) /* text: after the counters, the fault line stays as added */
			fl_out_str(&o, "lease", lease);
		fl_out_close(&o, '}');
		if (!json)
			fputc('\n', out);
	}
	fl_out_close(&o, ']');
	if (json)
		fputc('\n', out);
	return 0;
}

/* Machine lines for fl_fault_stats(): "ID KIND", the data plane's counters
 * in fl_counter_fields order, then the delay line's "held overflow
 * reordered bypassed" (bypassed: the lab's line as a whole, for the faults
 * that use it, as print_counters; 0 for the others). */
static int sup_stats(struct fl_sup *s, FILE *out)
{
	for (int i = 0; i < s->n_faults; i++) {
		struct sup_fault *sf = s->faults[i];
		struct fl_dl_slot_counters d;
		struct fl_counters c;

		bool line;

		fault_counters(s, sf, &c);
		line = delay_counters(sf, &d);
		fprintf(out, "%s %s", sf->f.id, sf->f.ops->name);
		for (const struct fl_counter_field *f = fl_counter_fields; f->name; f++)
			fprintf(out, " %llu", (unsigned long long)fl_counter_get(&c, f));
		fprintf(out, " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", (uint64_t)d.held,
			(uint64_t)d.overflow, (uint64_t)d.reordered,
			line ? fl_sup_delay_bypassed() : (uint64_t)0);
	}
	return 0;
}

void sup_faults_nodes_changed(struct fl_sup *s)
{
	struct fl_err e = { "" };
	bool any = false;

	for (int i = 0; i < s->n_faults; i++) {
		struct sup_fault *sf = s->faults[i];
		struct fl_kind_ctx c = ctx(s, sf);

		if (!sf->f.ops->nodes_changed)
			continue;
		any = true;
		if (sf->f.ops->nodes_changed(&c, &sf->f, &e))
			pr_err("%s: fault %s after the nodes changed: %s", s->t.session, sf->f.id,
			       e.msg);
	}
	if (any && rebuild(s))
		pr_err("%s: updating the rule table after the nodes changed failed", s->t.session);
}

int sup_fault_request(struct fl_sup *s, int argc, char **argv, bool json, FILE *out, FILE *msg)
{
	const char *cmd = argv[0];

	if (!strcmp(cmd, "add"))
		return sup_add(s, argc - 1, argv + 1, json, out, msg);
	if (!strcmp(cmd, "change"))
		return sup_change(s, argc - 1, argv + 1, msg);
	if (!strcmp(cmd, "del"))
		return sup_del(s, argc - 1, argv + 1, msg);
	if (!strcmp(cmd, "extend"))
		return sup_extend(s, argc - 1, argv + 1, msg);
	if (!strcmp(cmd, "clear")) {
		s->keep = false; /* clear ends a namespace session, kept or not */
		return sup_clear(s, msg);
	}
	if (!strcmp(cmd, "keep")) {
		s->keep = true;
		return 0;
	}
	if (!strcmp(cmd, "list"))
		return sup_list(s, argc - 1, argv + 1, json, out);
	if (!strcmp(cmd, "stats"))
		return sup_stats(s, out);
	if (!strcmp(cmd, "acct"))
		return sup_acct(s, out, msg);
	if (!strcmp(cmd, "ping")) {
		fprintf(out, "ok\n");
		return 0;
	}
	fprintf(msg,
		"fault: unknown request '%s' (add, change, del, extend, clear, list, stats, keep, acct;"
		" link,"
		" flap, join, leave, readdress, mtu, route)\n",
		cmd);
	return 2;
}
