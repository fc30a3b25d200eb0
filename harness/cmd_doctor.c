// SPDX-License-Identifier: MIT
/* fallacy doctor: run the probes, print each as ok/missing with what uses
 * it and the fix, then the backend each fault kind will use. Text and
 * JSON come from the same print functions (iproute2's print_* style). */
#include "cmd.h"

#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "faults/fault.h"
#include "json.h"
#include "log.h"
#include "probe/probe.h"
#include "state/state.h"

/* "  name:" padded to width columns in text; "name": "..." in JSON. */
static void label(struct fl_out *o, const char *key, const char *val, int width)
{
	if (o->json)
		fl_out_str(o, key, val);
	else
		fprintf(o->f, "  %s:%*s", val, width - (int)strlen(val), "");
}

static const char *status_name(enum fl_probe_status s)
{
	return s == FL_PROBE_OK ? "ok" : s == FL_PROBE_MISSING ? "missing" : "not-probed";
}

/* Does kind k need probe id? Its backend is another one when only that
 * probe is missing. From the kinds' own table, so no list can miss one. */
static bool kind_needs(const struct fault_ops *k, enum fl_probe_id id)
{
	struct fl_probe_report all, but;

	memset(&all, 0, sizeof(all));
	for (int i = 0; i < FL_PROBE_COUNT; i++)
		all.r[i].status = FL_PROBE_OK;
	but = all;
	but.r[id].status = FL_PROBE_MISSING;
	return k->backend(&all) != k->backend(&but);
}

/* Text " (kinds: loss, partition)"; JSON "kinds": [...]. */
static void print_kinds(struct fl_out *o, enum fl_probe_id id, bool ok)
{
	int n = 0;

	if (o->json)
		fl_out_open(o, "kinds", '[');
	for (int i = 0; fl_fault_kinds[i]; i++) {
		if (!kind_needs(fl_fault_kinds[i], id))
			continue;
		if (o->json)
			fl_out_str(o, "", fl_fault_kinds[i]->name);
		else if (ok)
			fprintf(o->f, "%s%s", n ? ", " : ": ", fl_fault_kinds[i]->name);
		n++;
	}
	if (o->json)
		fl_out_close(o, ']');
}

static void print_probe(struct fl_out *o, const struct fl_probe_report *rep, enum fl_probe_id id,
			bool verbose)
{
	const struct fl_probe_info *in = fl_probe_info(id);
	const struct fl_probe_result *r = &rep->r[id];
	bool ok = r->status == FL_PROBE_OK;

	fl_out_open(o, "", '{');
	label(o, "name", in->name, 15);
	fl_out_strf(o, "status", "%s — ", status_name(r->status));
	fl_out_jbool(o, "ok", ok);
	fl_out_jbool(o, "required", in->required);
	fl_out_strf(o, "used_for", ok ? "used for %s" : NULL, in->used_for);
	print_kinds(o, id, ok);
	fl_out_strf(o, "if_missing", ok ? NULL : "%s", in->if_missing);
	fl_out_strf(o, "fix", ok ? NULL : " (%s)", in->fix);
	fl_out_strf(o, "detail", ok && !verbose ? NULL : "\n                    %s", r->detail);
	fl_out_close(o, '}');
	if (!o->json)
		fputc('\n', o->f);
}

/* The backend of every fault kind, from the kinds' own table. */
static void print_backends(struct fl_out *o, const struct fl_probe_report *rep)
{
	fl_out_open(o, "backends", '[');
	if (!o->json)
		fprintf(o->f, "\n  %-16s %s\n", "fault kind", "backend");
	for (int i = 0; fl_fault_kinds[i]; i++) {
		enum fl_backend b = fl_fault_kinds[i]->backend(rep);

		fl_out_open(o, "", '{');
		fl_out_strf(o, "fault", "  %-16s ", fl_fault_kinds[i]->name);
		fl_out_strf(o, "backend", "%s\n", fl_backend_name(b));
		fl_out_jbool(o, "available", b != FL_BACKEND_NONE);
		fl_out_close(o, '}');
	}
	fl_out_close(o, ']');
}

/* Sessions under RUN_DIR whose recorded processes are all gone (a killed
 * supervisor, wrap or run): their kernel objects stay until a cleanup (the
 * data plane's rules expire with their lease; htb classes, ifb caps,
 * NFQUEUE and admin rules do not). With fix, they are removed. */
struct stale {
	char **names;
	size_t n, n_stale;
	bool *is;
};

static void find_stale(struct stale *s)
{
	int alive, dead;

	memset(s, 0, sizeof(*s));
	if (fl_state_list(&s->names, &s->n) || !s->n)
		return;
	s->is = calloc(s->n, sizeof(*s->is));
	for (size_t i = 0; s->is && i < s->n; i++) {
		s->is[i] = !fl_state_owners(s->names[i], &alive, &dead) && !alive && dead;
		s->n_stale += s->is[i];
	}
}

static void print_stale(struct fl_out *o, const struct stale *s, bool fix)
{
	if (!o->json && s->n_stale)
		fprintf(o->f,
			"\nState of a dead fallacy (every process it recorded is gone) in %s:\n",
			fl_run_dir());
	fl_out_open(o, "stale", '[');
	for (size_t i = 0; s->is && i < s->n; i++) {
		if (!s->is[i])
			continue;
		if (o->json) {
			fl_out_str(o, "", s->names[i]);
		} else if (fix) {
			int err = fl_state_cleanup(s->names[i]);

			fprintf(o->f, "  %s: %s\n", s->names[i], err ? strerror(-err) : "removed");
		} else {
			fprintf(o->f,
				"  %s: remove it with `fallacy cleanup %s` (or fallacy doctor --cleanup)\n",
				s->names[i], s->names[i]);
		}
	}
	fl_out_close(o, ']');
}

static void print_report(FILE *f, bool json, bool verbose, const struct fl_probe_report *rep,
			 const struct stale *st, bool fix)
{
	struct fl_out o = { .f = f, .json = json };
	bool usable = fl_probe_usable(rep);

	fl_out_open(&o, "", '{');
	fl_out_strf(&o, "kernel", "fallacy doctor: kernel %s, ", rep->kernel);
	fl_out_u64f(&o, "elapsed_ms", "probed in a scratch network namespace in %" PRIu64 " ms\n\n",
		    rep->elapsed_ns / 1000000);
	fl_out_jbool(&o, "usable", usable);
	fl_out_strf(&o, "iptables_restore", NULL, rep->iptables);
	fl_out_open(&o, "probes", '[');
	for (int i = 0; i < FL_PROBE_COUNT; i++)
		print_probe(&o, rep, (enum fl_probe_id)i, verbose);
	fl_out_close(&o, ']');
	print_backends(&o, rep);
	print_stale(&o, st, fix);
	fl_out_close(&o, '}');
	if (json)
		fputc('\n', f);
	else
		fprintf(f, "\n%s\n",
			usable ?
				"fallacy can work on this machine." :
				"fallacy cannot work on this machine: fix the required probes "
				"(netns, veth, clsact+cls_bpf, btf, nfqueue or netem, tbf or htb).");
}

static void usage(FILE *f)
{
	fprintf(f, "usage: fallacy doctor [-j|--json] [--cleanup]\n\n"
		   "Probe the kernel and this machine, each probe in a scratch network\n"
		   "namespace that disappears afterwards; print each feature as ok or missing\n"
		   "with what uses it and how to get it, and which backend each fault kind\n"
		   "will use. -v also prints what each successful probe did.\n\n"
		   "options:\n"
		   "  -j, --json   print JSON instead of text\n"
		   "  --cleanup    remove the state of dead owners it finds (sessions under\n"
		   "               $FALLACY_RUN_DIR whose recorded processes are all gone,\n"
		   "               e.g. a killed supervisor's), as fallacy cleanup would\n\n"
		   "exit status: 0 fallacy can work here, 1 a required feature is missing,\n"
		   "2 usage error.\n\n"
		   "EXAMPLES\n"
		   "  fallacy doctor\n"
		   "  fallacy -v doctor                     # with what each probe did\n"
		   "  fallacy doctor -j | jq '.probes[] | select(.name == \"netem\") | .ok'\n");
}

int do_doctor(int argc, char **argv)
{
	struct fl_probe_report rep;
	bool json = false, fix = false;
	struct stale st;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return FL_EXIT_OK;
		} else if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--cleanup")) {
			fix = true;
		} else {
			pr_err("doctor: unknown argument '%s' (see fallacy doctor --help)",
			       argv[i]);
			return FL_EXIT_USAGE;
		}
	}
	if (fl_cmd_check)
		return FL_EXIT_OK;
	err = fl_probe_run(&rep);
	if (err) {
		pr_err("doctor: cannot run the probes: %s", strerror(-err));
		return FL_EXIT_USAGE;
	}
	find_stale(&st);
	if (fix && json) /* JSON lists what it found; the removal is said on stderr */
		for (size_t i = 0; st.is && i < st.n; i++)
			if (st.is[i] && fl_state_cleanup(st.names[i]))
				pr_err("doctor --cleanup: %s could not be removed completely",
				       st.names[i]);
	print_report(stdout, json, fl_log_level >= FL_LOG_INFO, &rep, &st, fix);
	fl_strv_free(st.names, st.n);
	free(st.is);
	return fl_probe_usable(&rep) ? FL_EXIT_OK : FL_EXIT_FAIL;
}
