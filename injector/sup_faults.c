// SPDX-License-Identifier: MIT
/* The supervisor's fault table: add/del/clear/list requests. Every request
 * is validated completely before the kernel is touched; the rule table is
 * rebuilt (sorted, double-buffered) after each change. */
#include "supervisor_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "dataplane.h"
#include "json.h"
#include "lab.h"
#include "session_int.h"
#include "state.h"
#include "sup_delay.h"

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
	if (!err)
		err = fl_dp_load_rules(s->dp, rules, total);
	free(rules);
	free(order);
	return err;
}

static int alloc_slots(struct fl_sup *s, struct sup_fault *sf)
{
	int got = 0;

	for (uint32_t slot = 0; slot < FL_MAX_SLOTS && got < sf->n_rules; slot++) {
		if (s->slot_used[slot])
			continue;
		s->slot_used[slot] = 1;
		sf->rules[got].slot = slot;
		sf->f.slots[got++] = slot;
	}
	if (got == sf->n_rules)
		return 0;
	while (got--)
		s->slot_used[sf->rules[got].slot] = 0;
	return -ENOSPC;
}

static void free_fault(struct fl_sup *s, struct sup_fault *sf, bool heal)
{
	if (heal && sf->f.ops->heal)
		sf->f.ops->heal(s, &sf->f);
	for (int i = 0; i < sf->n_rules && sf->rules; i++)
		s->slot_used[sf->rules[i].slot] = 0;
	free(sf->rules);
	free(sf);
}

static void event(struct fl_sup *s, const char *what, const struct fl_fault *f)
{
	struct fl_out o = { .json = true };
	struct timespec mono, wall;
	char path[4096];
	FILE *fp;

	if (fl_session_path(s->t.session, "events.jsonl", path, sizeof(path)))
		return;
	fp = fopen(path, "ae");
	if (!fp)
		return;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &wall);
	fprintf(fp, "{\"mono\": %lld.%09ld, \"wall\": %lld.%09ld, \"event\": \"%s\", \"id\": ",
		(long long)mono.tv_sec, mono.tv_nsec, (long long)wall.tv_sec, wall.tv_nsec, what);
	fl_json_string(fp, f->id);
	fputs(", \"fault\": {", fp);
	o.f = fp;
	fl_fault_print(f, &o);
	fputs("}}\n", fp);
	fclose(fp);
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
			seed = fl_sup_now_ns() ^ ((uint64_t)getpid() << 32);
		/* < 2^53: survives every JSON reader (jq, JavaScript) exactly */
		f->seed = seed & ((1ULL << 53) - 1);
	}
}

/* Parse, name and expand a fault; nothing in the kernel changes here. */
static int prepare(struct fl_sup *s, struct sup_fault *sf, int argc, char **argv, FILE *msg)
{
	struct fl_rule rules[FL_FAULT_MAX_RULES];
	struct fl_err e = { "" };
	int n;

	if (fl_fault_parse(&sf->f, argc, argv, s->lab, &e))
		goto bad;
	if (sf->f.ops->check && sf->f.ops->check(&sf->f, &e))
		goto bad;
	if (sf->f.id[0] && find_fault(s, sf->f.id) >= 0) {
		fl_err_set(&e, "--id %s: a fault with that id exists (fault del it first)",
			   sf->f.id);
		goto bad;
	}
	n = fl_fault_rules(&sf->f, s->lab, rules, FL_FAULT_MAX_RULES, &e);
	if (n < 0)
		goto bad;
	if (s->n_faults >= FL_SUP_MAX_FAULTS || total_rules(s) + n > FL_MAX_RULES) {
		fl_err_set(&e, "too many rules: %d in use, %d more, at most %d per session",
			   total_rules(s), n, FL_MAX_RULES);
		goto bad;
	}
	sf->rules = calloc((size_t)n, sizeof(*sf->rules));
	if (!sf->rules)
		return -ENOMEM;
	memcpy(sf->rules, rules, (size_t)n * sizeof(*rules));
	sf->n_rules = sf->f.n_rules = n;
	if (alloc_slots(s, sf)) {
		fl_err_set(&e, "no free rule slots left in this session");
		goto bad;
	}
	name_fault(s, &sf->f);
	for (int i = 0; i < n; i++)
		sf->rules[i].seed = sf->f.seed;
	return 0;
bad:
	fprintf(msg, "fault add %s: %s\n", s->t.session, e.msg);
	return -EINVAL;
}

static int commit(struct fl_sup *s, struct sup_fault *sf, FILE *msg)
{
	struct fl_err e = { "" };
	int err;

	err = sup_attach(s);
	if (err) {
		fprintf(msg, "fault add %s: attaching the data plane failed: %s (see supervisor.log)\n",
			s->t.session, strerror(-err));
		return err;
	}
	if (sf->f.ops->apply && (err = sf->f.ops->apply(s, &sf->f, &e))) {
		fprintf(msg, "fault add %s: %s\n", s->t.session, e.msg);
		return err;
	}
	for (int i = 0; i < sf->n_rules && !err; i++)
		err = fl_dp_slot_reset(s->dp, sf->rules[i].slot);
	sf->f.order = s->next_order++;
	s->faults[s->n_faults++] = sf;
	if (!err)
		err = rebuild(s);
	if (err) {
		s->n_faults--;
		if (sf->f.ops->heal)
			sf->f.ops->heal(s, &sf->f);
		rebuild(s);
		fprintf(msg, "fault add %s: updating the rule table: %s\n", s->t.session,
			strerror(-err));
	}
	return err;
}

static int sup_add(struct fl_sup *s, int argc, char **argv, bool json, FILE *out, FILE *msg)
{
	struct sup_fault *sf = calloc(1, sizeof(*sf));
	struct fl_out o = { .f = msg };
	int err;

	if (!sf)
		return 2;
	err = prepare(s, sf, argc, argv, msg);
	if (!err)
		err = commit(s, sf, msg);
	if (err) {
		free_fault(s, sf, false);
		/* a session that never got a fault leaves nothing behind */
		return s->n_faults || s->lab ? 2 : 2 | FL_ST_ENDED;
	}
	event(s, "fault_add", &sf->f); /* its time stamps: just after the flip */
	if (json) {
		fputs("{\"id\": ", out);
		fl_json_string(out, sf->f.id);
		fprintf(out, ", \"seed\": %" PRIu64 ", \"session\": ", sf->f.seed);
		fl_json_string(out, s->t.session);
		fprintf(out, ", \"rules\": %d}\n", sf->n_rules);
	} else {
		fprintf(out, "%s\n", sf->f.id);
	}
	fprintf(msg, "fallacy: %s %s: ", s->t.session, sf->f.id);
	fl_fault_print(&sf->f, &o);
	fputc('\n', msg);
	return 0;
}

static int remove_at(struct fl_sup *s, int i)
{
	struct sup_fault *sf = s->faults[i];
	int err;

	memmove(&s->faults[i], &s->faults[i + 1], (size_t)(s->n_faults - i - 1) * sizeof(sf));
	s->n_faults--;
	err = rebuild(s);
	event(s, "fault_del", &sf->f);
	free_fault(s, sf, true);
	return err;
}

static int ended(struct fl_sup *s)
{
	return !s->n_faults && !s->lab ? FL_ST_ENDED : 0;
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
		fprintf(msg, "fault del %s: no fault '%s' (see fallacy fault list)\n",
			s->t.session, argv[0]);
		return 2;
	}
	if (remove_at(s, i)) {
		fprintf(msg, "fault del %s %s: updating the rule table failed\n", s->t.session,
			argv[0]);
		return 2;
	}
	return ended(s);
}

void sup_faults_clear(struct fl_sup *s)
{
	while (s->n_faults)
		remove_at(s, s->n_faults - 1);
}

static void fault_counters(struct fl_sup *s, const struct sup_fault *sf, struct fl_counters *c)
{
	struct fl_counters one;

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < sf->n_rules; i++) {
		if (fl_dp_counters(s->dp, sf->rules[i].slot, &one))
			continue;
		c->packets += one.packets;
		c->bytes += one.bytes;
		c->dropped += one.dropped;
		c->duplicated += one.duplicated;
		c->corrupted += one.corrupted;
		c->reset += one.reset;
		c->delayed += one.delayed;
		c->shaped += one.shaped;
	}
}

static void print_counters(const struct fl_counters *c, struct fl_out *o)
{
	fl_out_u64(o, "packets", c->packets);
	fl_out_u64(o, "bytes", c->bytes);
	fl_out_u64(o, "dropped", c->dropped);
	fl_out_u64(o, "duplicated", c->duplicated);
	fl_out_u64(o, "corrupted", c->corrupted);
	fl_out_u64(o, "reset", c->reset);
	fl_out_u64(o, "delayed", c->delayed);
	fl_out_u64(o, "shaped", c->shaped);
}

/* The delay line's own counters of a delay fault (none for other kinds). */
static void print_delay_counters(const struct sup_fault *sf, struct fl_out *o)
{
	struct fl_dl_slot_counters one, sum = { 0 };
	bool any = false;

	for (int i = 0; i < sf->n_rules; i++) {
		if (fl_sup_delay_counters(sf->rules[i].slot, &one))
			continue;
		any = true;
		sum.held += one.held;
		sum.overflow += one.overflow;
		sum.reordered += one.reordered;
	}
	if (!any)
		return;
	fl_out_u64(o, "held", sum.held);
	fl_out_u64(o, "overflow", sum.overflow);
	fl_out_u64(o, "reordered", sum.reordered);
}

/* Text: "ID  KIND PARAMS OPTIONS" and an indented counter line per fault.
 * JSON: an array of objects with the same members plus "counters". */
static int sup_list(struct fl_sup *s, bool json, FILE *out)
{
	struct fl_counters c;
	struct fl_out o = { .f = out, .json = json };

	if (json)
		fputc('[', out);
	for (int i = 0; i < s->n_faults; i++) {
		struct sup_fault *sf = s->faults[i];

		fault_counters(s, sf, &c);
		o.n = 0;
		if (json) {
			fputs(i ? ",\n {" : "{", out);
			fl_out_str(&o, "id", sf->f.id);
		} else {
			fprintf(out, "%-8s ", sf->f.id);
		}
		fl_fault_print(&sf->f, &o);
		if (json) {
			fprintf(out, ", \"rules\": %d, \"counters\": {", sf->n_rules);
			o.n = 0;
			print_counters(&c, &o);
			print_delay_counters(sf, &o);
			fputs("}}", out);
			continue;
		}
		fputs("\n         ", out);
		o.n = 0;
		print_counters(&c, &o);
		print_delay_counters(sf, &o);
		fputc('\n', out);
	}
	if (json)
		fputs("]\n", out);
	return 0;
}

int sup_request(struct fl_sup *s, int argc, char **argv, bool json, FILE *out, FILE *msg)
{
	const char *cmd = argv[0];

	if (!strcmp(cmd, "add"))
		return sup_add(s, argc - 1, argv + 1, json, out, msg);
	if (!strcmp(cmd, "del"))
		return sup_del(s, argc - 1, argv + 1, msg);
	if (!strcmp(cmd, "clear")) {
		sup_faults_clear(s);
		return ended(s);
	}
	if (!strcmp(cmd, "list"))
		return sup_list(s, json, out);
	if (!strcmp(cmd, "ping")) {
		fprintf(out, "ok\n");
		return 0;
	}
	fprintf(msg, "fault: unknown request '%s' (add, del, clear, list)\n", cmd);
	return 2;
}
