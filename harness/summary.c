// SPDX-License-Identifier: MIT
/* summary.json, junit.xml, TAP and the summary table. */
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nines.h"
#include "transport.h"
#include "yaml.h"

void fl_case_from_result(const struct fl_check_result *res, struct fl_case *c)
{
	const struct fl_check *ck = res->ck;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", ck->name);
	snprintf(c->kind, sizeof(c->kind), "%s", fl_check_kind_name(ck->kind));
	c->skipped = res->skipped;
	c->pass = res->pass && !res->skipped;
	snprintf(c->measured, sizeof(c->measured), "%s", res->measured_text);
	fl_check_message(res, c->message, sizeof(c->message));
	fl_check_bound(ck, c->bound, sizeof(c->bound));
	snprintf(c->offending, sizeof(c->offending), "%s", res->offending);
	snprintf(c->offending_text, sizeof(c->offending_text), "%s", res->offending_text);
}

int fl_suite_failures(const struct fl_suite *s)
{
	int n = 0;

	for (size_t i = 0; i < s->n_cases; i++)
		n += !s->cases[i].pass && !s->cases[i].skipped;
	return n;
}

int fl_suite_skipped(const struct fl_suite *s)
{
	int n = 0;

	for (size_t i = 0; i < s->n_cases; i++)
		n += s->cases[i].skipped;
	return n;
}

const char *fl_case_verdict(const struct fl_case *c)
{
	return c->skipped ? "skip" : c->pass ? "pass" : "FAIL";
}

const char *fl_case_class(const struct fl_case *c)
{
	return c->skipped ? "skip" : c->pass ? "pass" : "fail";
}

bool fl_suite_pass(const struct fl_suite *s)
{
	return !s->error[0] && !fl_suite_failures(s);
}

static const char *suite_result(const struct fl_suite *s)
{
	return s->error[0] ? "error" : fl_suite_failures(s) ? "fail" : "pass";
}

static void jkv(FILE *f, const char *k, const char *v, bool comma)
{
	fprintf(f, "  \"%s\": ", k);
	fl_json_string(f, v);
	fputs(comma ? ",\n" : "\n", f);
}

/* The whole run, every node: the row of window "run", node "". */
static const struct fl_nines *run_row(const struct fl_suite *s)
{
	for (size_t i = 0; i < s->n_nines; i++)
		if (!strcmp(s->nines[i].window, "run") && !s->nines[i].node[0])
			return &s->nines[i];
	return NULL;
}

/* {"window": "cut", "node": "n1", "ops": 20, ..., "nines": 0.3 | null} */
static void nines_json(struct fl_out *o, const struct fl_nines *r)
{
	fl_out_open(o, "", '{');
	fl_out_str(o, "window", r->window);
	fl_out_str(o, "node", r->node);
	fl_out_u64(o, "ops", r->ops);
	fl_out_u64(o, "ok", r->ok);
	fl_out_double(o, "availability", r->avail);
	fl_out_double(o, "nines", r->nines);
	fl_out_u64(o, "buckets", r->buckets);
	fl_out_u64(o, "down_buckets", r->down);
	fl_out_double(o, "downtime_s", r->downtime);
	fl_out_close(o, '}');
}

/* A phase: its duration and bounds, or null and why it is absent. */
static void phase_json(struct fl_out *o, int k, const struct fl_phase *ph)
{
	fl_out_open(o, fl_phase_names[k], '{');
	fl_out_double(o, "seconds", ph->has ? ph->seconds : NAN);
	if (ph->has) {
		fl_out_u64(o, "from_ns", ph->from_ns);
		fl_out_str(o, "from", ph->from);
		fl_out_u64(o, "to_ns", ph->to_ns);
		fl_out_str(o, "to", ph->to);
	} else {
		fl_out_str(o, "why", ph->why);
	}
	fl_out_close(o, '}');
}

static void recovery_json(struct fl_out *o, const struct fl_recovery *r)
{
	fl_out_open(o, "", '{');
	fl_out_str(o, "window", r->window);
	fl_out_str(o, "node", r->node);
	fl_out_u64(o, "start_ns", r->start_ns);
	if (r->heal_ns)
		fl_out_u64(o, "heal_ns", r->heal_ns);
	else
		fl_out_null(o, "heal_ns");
	fl_out_double(o, "p50_before_s", r->p50_before);
	fl_out_open(o, "phases", '{');
	for (int k = 0; k < FL_PH__MAX; k++)
		phase_json(o, k, &r->ph[k]);
	fl_out_close(o, '}');
	fl_out_close(o, '}');
}

/* The run's nines ("nines": null and why when nothing failed), then every
 * window's and the recovery phases. */
static void summary_nines(struct fl_out *o, const struct fl_suite *s)
{
	const struct fl_nines *r = run_row(s);
	char why[96];

	if (!r)
		return;
	fl_out_double(o, "nines", r->nines);
	if (isnan(r->nines)) {
		snprintf(why, sizeof(why), "no failed operation in %llu operations",
			 (unsigned long long)r->ops);
		fl_out_str(o, "nines_why", why);
	}
	fl_out_u64(o, "operations", r->ops);
	fl_out_u64(o, "failed", r->ops - r->ok);
	fl_out_double(o, "downtime_s", r->downtime);
	fl_out_open(o, "windows", '[');
	for (size_t i = 0; i < s->n_nines; i++)
		nines_json(o, &s->nines[i]);
	fl_out_close(o, ']');
	fl_out_open(o, "recovery", '[');
	for (size_t i = 0; i < s->n_recovery; i++)
		recovery_json(o, &s->recovery[i]);
	fl_out_close(o, ']');
}

/* "availability": {"ops": 0.95, "time": 0.93, "nines": ..., "windows":
 * [...], "recovery": [...]}, "process_faults": {...} */
static void summary_availability(FILE *f, const struct fl_suite *s)
{
	struct fl_out o = { .f = f, .json = true };

	fputs("  ", f);
	fl_out_open(&o, "availability", '{');
	fl_out_double(&o, "ops", s->avail_ops);
	fl_out_double(&o, "time", s->avail_time);
	summary_nines(&o, s);
	fl_out_close(&o, '}');
	fputs(",\n  ", f);
	o.n = 0;
	fl_out_open(&o, "process_faults", '{');
	fl_out_u64(&o, "kill", s->n_kill);
	fl_out_u64(&o, "pause", s->n_pause);
	fl_out_u64(&o, "restart", s->n_restart);
	fl_out_close(&o, '}');
	fputs(",\n", f);
}

int fl_summary_write(const char *path, const struct fl_suite *s)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fputs("{\n", f);
	jkv(f, "scenario", s->name, true);
	jkv(f, "target", s->target, true);
	jkv(f, "fallacy", s->fallacy, true);
	jkv(f, "timestamp", s->timestamp, true);
	jkv(f, "result", suite_result(s), true);
	jkv(f, "error", s->error, true);
	fprintf(f, "  \"seed\": %llu,\n  \"seconds\": %.3f,\n", (unsigned long long)s->seed,
		s->seconds);
	fprintf(f, "  \"ops\": {\"ok\": %llu, \"fail\": %llu, \"timeout\": %llu},\n",
		(unsigned long long)s->ops_ok, (unsigned long long)s->ops_fail,
		(unsigned long long)s->ops_timeout);
	summary_availability(f, s);
	fputs("  \"checks\": [", f);
	for (size_t i = 0; i < s->n_cases; i++) {
		const struct fl_case *c = &s->cases[i];

		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		fl_json_string(f, c->name);
		fprintf(f, ", \"kind\": \"%s\", \"pass\": %s,%s \"measured\": ", c->kind,
			c->skipped ? "null" :
			c->pass	   ? "true" :
				     "false",
			c->skipped ? " \"skipped\": true," : "");
		fl_json_string(f, c->measured);
		fputs(", \"bound\": ", f);
		fl_json_string(f, c->bound);
		fputs(", \"message\": ", f);
		fl_json_string(f, c->message);
		if (c->offending[0]) {
			fprintf(f, ", \"offending\": %s, \"offending_text\": ", c->offending);
			fl_json_string(f, c->offending_text);
		}
		fputs("}", f);
	}
	fputs(s->n_cases ? "\n  ]" : "]", f);
	if (s->n_transport) {
		fputs(",\n  \"transport\": ", f);
		fl_tcost_json(f, s->transport, s->n_transport, "  ");
	}
	fputs("\n}\n", f);
	return fclose(f) ? -errno : 0;
}

static void scpy(char *dst, size_t len, const struct fl_ynode *m, const char *key)
{
	const struct fl_ynode *v = fl_ymap_get(m, key);

	snprintf(dst, len, "%s", v && v->type == FL_Y_SCALAR ? v->text : "");
}

static double snum(const struct fl_ynode *m, const char *key)
{
	double d = 0;

	fl_ynum(fl_ymap_get(m, key), &d);
	return d;
}

/* A node of a JSON document back as compact JSON (plain scalars are
 * numbers, true, false and null; the others strings). */
static void node_json(struct fl_out *o, const char *key, const struct fl_ynode *n)
{
	if (n->type == FL_Y_SCALAR) {
		if (n->plain)
			fl_out_raw(o, key, n->text);
		else
			fl_out_str(o, key, n->text);
		return;
	}
	fl_out_open(o, key, n->type == FL_Y_MAP ? '{' : '[');
	for (size_t i = 0; i < n->n; i++)
		node_json(o, n->type == FL_Y_MAP ? n->keys[i]->text : "", n->items[i]);
	fl_out_close(o, n->type == FL_Y_MAP ? '}' : ']');
}

/* A history check's offending operations, as fl_summary_write wrote them
 * (the report draws them again). */
static void load_offending(const struct fl_ynode *m, struct fl_case *c)
{
	const struct fl_ynode *v = fl_ymap_get(m, "offending");
	struct fl_out o = { .json = true, .compact = true };
	char *buf = NULL;
	size_t len = 0;

	scpy(c->offending_text, sizeof(c->offending_text), m, "offending_text");
	if (!v || v->type != FL_Y_SEQ)
		return;
	o.f = open_memstream(&buf, &len);
	if (!o.f)
		return;
	node_json(&o, "", v);
	if (!fclose(o.f) && len < sizeof(c->offending))
		memcpy(c->offending, buf, len + 1);
	free(buf);
}

static int load_cases(const struct fl_ydoc *d, const struct fl_ynode *cks, struct fl_suite *s,
		      struct fl_err *err)
{
	if (!cks)
		return 0;
	if (cks->type != FL_Y_SEQ)
		return fl_yerr(err, d, cks, "'checks' must be a list");
	s->cases = calloc(cks->n + 1, sizeof(*s->cases));
	if (!s->cases)
		return -ENOMEM;
	for (size_t i = 0; i < cks->n; i++) {
		const struct fl_ynode *m = cks->items[i];
		struct fl_case *c = &s->cases[i];
		char pass[8], skipped[8];

		scpy(c->name, sizeof(c->name), m, "name");
		scpy(c->kind, sizeof(c->kind), m, "kind");
		scpy(c->measured, sizeof(c->measured), m, "measured");
		scpy(c->bound, sizeof(c->bound), m, "bound");
		scpy(c->message, sizeof(c->message), m, "message");
		scpy(pass, sizeof(pass), m, "pass");
		scpy(skipped, sizeof(skipped), m, "skipped");
		c->pass = !strcmp(pass, "true");
		c->skipped = !strcmp(skipped, "true");
		load_offending(m, c);
	}
	s->n_cases = cks->n;
	return 0;
}

/* A number that may be null (NAN). */
static double nnum(const struct fl_ynode *m, const char *key)
{
	const struct fl_ynode *v = fl_ymap_get(m, key);
	double d = NAN;

	if (v && v->type == FL_Y_SCALAR && strcmp(v->text, "null"))
		fl_ynum(v, &d);
	return d;
}

static void load_nines(const struct fl_ynode *m, struct fl_nines *r)
{
	scpy(r->window, sizeof(r->window), m, "window");
	scpy(r->node, sizeof(r->node), m, "node");
	r->ops = (uint64_t)snum(m, "ops");
	r->ok = (uint64_t)snum(m, "ok");
	r->avail = nnum(m, "availability");
	r->nines = nnum(m, "nines");
	r->buckets = (uint64_t)snum(m, "buckets");
	r->down = (uint64_t)snum(m, "down_buckets");
	r->downtime = snum(m, "downtime_s");
}

static void load_recovery(const struct fl_ynode *m, struct fl_recovery *r)
{
	const struct fl_ynode *phs = fl_ymap_get(m, "phases");

	scpy(r->window, sizeof(r->window), m, "window");
	scpy(r->node, sizeof(r->node), m, "node");
	r->start_ns = (uint64_t)snum(m, "start_ns");
	r->heal_ns = (uint64_t)snum(m, "heal_ns");
	r->p50_before = nnum(m, "p50_before_s");
	for (int k = 0; k < FL_PH__MAX; k++) {
		const struct fl_ynode *p = fl_ymap_get(phs, fl_phase_names[k]);
		struct fl_phase *ph = &r->ph[k];

		ph->seconds = nnum(p, "seconds");
		ph->has = !isnan(ph->seconds);
		ph->from_ns = (uint64_t)snum(p, "from_ns");
		ph->to_ns = (uint64_t)snum(p, "to_ns");
		scpy(ph->from, sizeof(ph->from), p, "from");
		scpy(ph->to, sizeof(ph->to), p, "to");
		scpy(ph->why, sizeof(ph->why), p, "why");
	}
}

/* "availability": its windows and recovery, as summary_nines() wrote them. */
static int load_availability(const struct fl_ynode *a, struct fl_suite *s)
{
	const struct fl_ynode *w = fl_ymap_get(a, "windows"), *rc = fl_ymap_get(a, "recovery");

	if (w && w->type == FL_Y_SEQ && w->n) {
		s->nines = calloc(w->n, sizeof(*s->nines));
		if (!s->nines)
			return -ENOMEM;
		for (; s->n_nines < w->n; s->n_nines++)
			load_nines(w->items[s->n_nines], &s->nines[s->n_nines]);
	}
	if (rc && rc->type == FL_Y_SEQ && rc->n) {
		s->recovery = calloc(rc->n, sizeof(*s->recovery));
		if (!s->recovery)
			return -ENOMEM;
		for (; s->n_recovery < rc->n; s->n_recovery++)
			load_recovery(rc->items[s->n_recovery], &s->recovery[s->n_recovery]);
	}
	return 0;
}

int fl_summary_load(const char *path, struct fl_suite *s, struct fl_err *err)
{
	struct fl_ydoc *d = NULL;
	const struct fl_ynode *r, *ops;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = fl_yaml_load(path, NULL, &d, err);
	if (ret)
		return ret;
	r = d->root;
	if (!r || r->type != FL_Y_MAP) {
		ret = fl_yerr(err, d, r, "not a fallacy summary");
		goto out;
	}
	scpy(s->name, sizeof(s->name), r, "scenario");
	scpy(s->target, sizeof(s->target), r, "target");
	scpy(s->fallacy, sizeof(s->fallacy), r, "fallacy");
	scpy(s->timestamp, sizeof(s->timestamp), r, "timestamp");
	scpy(s->error, sizeof(s->error), r, "error");
	s->seed = (uint64_t)snum(r, "seed");
	s->seconds = snum(r, "seconds");
	ops = fl_ymap_get(r, "ops");
	s->ops_ok = (uint64_t)snum(ops, "ok");
	s->ops_fail = (uint64_t)snum(ops, "fail");
	s->ops_timeout = (uint64_t)snum(ops, "timeout");
	s->avail_ops = s->avail_time = NAN;
	if (fl_ymap_get(r, "availability")) {
		fl_ynum(fl_ymap_get(fl_ymap_get(r, "availability"), "ops"), &s->avail_ops);
		fl_ynum(fl_ymap_get(fl_ymap_get(r, "availability"), "time"), &s->avail_time);
	}
	ret = load_availability(fl_ymap_get(r, "availability"), s) ?:
		      load_cases(d, fl_ymap_get(r, "checks"), s, err);
out:
	fl_yaml_free(d);
	return ret;
}

void fl_suite_free_cases(struct fl_suite *s)
{
	free(s->cases);
	s->cases = NULL;
	s->n_cases = 0;
	free(s->transport);
	s->transport = NULL;
	s->n_transport = 0;
	free(s->nines);
	s->nines = NULL;
	s->n_nines = 0;
	free(s->recovery);
	s->recovery = NULL;
	s->n_recovery = 0;
}

static void junit_prop(FILE *f, const char *k, const char *v)
{
	fprintf(f, "      <property name=\"%s\" value=\"", k);
	fl_xml_str(f, v);
	fputs("\"/>\n", f);
}

static void junit_suite(FILE *f, const struct fl_suite *s)
{
	char seed[32];

	fputs("  <testsuite name=\"", f);
	fl_xml_str(f, s->name);
	fprintf(f, "\" tests=\"%zu\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\"",
		s->n_cases + (s->error[0] ? 1 : 0), fl_suite_failures(s), s->error[0] ? 1 : 0,
		fl_suite_skipped(s), s->seconds);
	if (s->timestamp[0])
		fprintf(f, " timestamp=\"%.19s\"", s->timestamp);
	fputs(">\n    <properties>\n", f);
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)s->seed);
	junit_prop(f, "target", s->target);
	junit_prop(f, "fallacy", s->fallacy);
	junit_prop(f, "seed", seed);
	junit_prop(f, "results", s->dir);
	fputs("    </properties>\n", f);
	for (size_t i = 0; i < s->n_cases; i++) {
		const struct fl_case *c = &s->cases[i];

		fputs("    <testcase classname=\"fallacy.", f);
		fl_xml_str(f, s->name);
		fputs("\" name=\"", f);
		fl_xml_str(f, c->name);
		fputs(c->skipped ? "\" time=\"0\">\n      <skipped message=\"" :
		      c->pass	 ? "\" time=\"0\">\n      <system-out>" :
				   "\" time=\"0\">\n      <failure message=\"",
		      f);
		fl_xml_str(f, c->message);
		if (c->skipped) {
			fputs("\"/>\n    </testcase>\n", f);
			continue;
		}
		if (c->pass) {
			fputs("</system-out>\n    </testcase>\n", f);
			continue;
		}
		fprintf(f, "\" type=\"%s\">", c->kind);
		fl_xml_str(f, c->message);
		if (c->offending_text[0]) {
			fputs("\n", f);
			fl_xml_str(f, c->offending_text);
		}
		fputs("</failure>\n    </testcase>\n", f);
	}
	if (s->error[0]) {
		fputs("    <testcase classname=\"fallacy.", f);
		fl_xml_str(f, s->name);
		fputs("\" name=\"run\" time=\"0\">\n      <error message=\"", f);
		fl_xml_str(f, s->error);
		fputs("\" type=\"error\">", f);
		fl_xml_str(f, s->error);
		fputs("</error>\n    </testcase>\n", f);
	}
	fputs("  </testsuite>\n", f);
}

int fl_junit_write(const char *path, const struct fl_suite *suites, size_t n)
{
	FILE *f = fopen(path, "we");
	size_t tests = 0;
	int fails = 0, errs = 0, skips = 0;
	double t = 0;

	if (!f)
		return -errno;
	for (size_t i = 0; i < n; i++) {
		tests += suites[i].n_cases + (suites[i].error[0] ? 1 : 0);
		fails += fl_suite_failures(&suites[i]);
		skips += fl_suite_skipped(&suites[i]);
		errs += suites[i].error[0] ? 1 : 0;
		t += suites[i].seconds;
	}
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"fallacy\" tests=\"%zu\" failures=\"%d\" errors=\"%d\" "
		"skipped=\"%d\" time=\"%.3f\">\n",
		tests, fails, errs, skips, t);
	for (size_t i = 0; i < n; i++)
		junit_suite(f, &suites[i]);
	fputs("</testsuites>\n", f);
	return fclose(f) ? -errno : 0;
}

void fl_tap_write(FILE *f, const struct fl_suite *suites, size_t n)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < n; i++)
		total += suites[i].n_cases + (suites[i].error[0] ? 1 : 0);
	fprintf(f, "TAP version 13\n1..%zu\n", total);
	for (size_t i = 0; i < n; i++) {
		const struct fl_suite *s = &suites[i];

		for (size_t j = 0; j < s->n_cases; j++) {
			const struct fl_case *c = &s->cases[j];

			fprintf(f, "%s %zu - %s: %s%s%s\n", c->pass || c->skipped ? "ok" : "not ok",
				++k, s->name, c->name, c->skipped ? " # SKIP " : "",
				c->skipped ? c->message + strlen("skipped: ") : "");
			fprintf(f, "  ---\n  message: ");
			fl_json_string(f, c->message);
			fprintf(f, "\n  ...\n");
		}
		if (s->error[0]) {
			fprintf(f, "not ok %zu - %s: run\n  ---\n  message: ", ++k, s->name);
			fl_json_string(f, s->error);
			fprintf(f, "\n  ...\n");
		}
	}
}
