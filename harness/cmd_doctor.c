// SPDX-License-Identifier: MIT
/* fallacy doctor: run the probes, print each as ok/missing with what uses
 * it and the fix, then the backend each fault kind will use. Text and
 * JSON come from the same print functions (iproute2's print_* style). */
#include "cmd.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "probe.h"

struct printer {
	FILE *f;
	bool json;
	bool first; /* no field printed yet in the current JSON object/array */
};

static void json_key(struct printer *p, const char *key)
{
	if (!p->first)
		fputc(',', p->f);
	p->first = false;
	if (key) {
		fl_json_string(p->f, key);
		fputc(':', p->f);
	}
}

/* Opens a JSON object/array (bracket '{' or '['); nothing in text mode. */
static void p_open(struct printer *p, const char *key, char bracket)
{
	if (!p->json)
		return;
	json_key(p, key);
	fputc(bracket, p->f);
	p->first = true;
}

static void p_close(struct printer *p, char bracket)
{
	if (!p->json)
		return;
	fputc(bracket, p->f);
	p->first = false;
}

/* JSON: "key":"val". Text: printf(fmt, val) when fmt is not NULL. */
static void p_str(struct printer *p, const char *key, const char *fmt, const char *val)
{
	if (p->json) {
		json_key(p, key);
		fl_json_string(p->f, val);
	} else if (fmt) {
		fprintf(p->f, fmt, val);
	}
}

/* JSON: "key":"val". Text: "  val:" padded to width columns. */
static void p_label(struct printer *p, const char *key, const char *val, int width)
{
	if (p->json)
		p_str(p, key, NULL, val);
	else
		fprintf(p->f, "  %s:%*s", val, width - (int)strlen(val), "");
}

static void p_bool(struct printer *p, const char *key, bool val)
{
	if (!p->json)
		return;
	json_key(p, key);
	fputs(val ? "true" : "false", p->f);
}

static void p_uint(struct printer *p, const char *key, const char *fmt, unsigned long long v)
{
	if (p->json) {
		json_key(p, key);
		fprintf(p->f, "%llu", v);
	} else if (fmt) {
		fprintf(p->f, fmt, v);
	}
}

static const char *status_name(enum fl_probe_status s)
{
	return s == FL_PROBE_OK ? "ok" : s == FL_PROBE_MISSING ? "missing" : "not-probed";
}

static void print_probe(struct printer *p, const struct fl_probe_report *rep,
			enum fl_probe_id id, bool verbose)
{
	const struct fl_probe_info *in = fl_probe_info(id);
	const struct fl_probe_result *r = &rep->r[id];
	bool ok = r->status == FL_PROBE_OK;

	p_open(p, NULL, '{');
	p_label(p, "name", in->name, 15);
	p_str(p, "status", "%s — ", status_name(r->status));
	p_bool(p, "ok", ok);
	p_bool(p, "required", in->required);
	p_str(p, "used_for", ok ? "used for %s" : NULL, in->used_for);
	p_str(p, "if_missing", ok ? NULL : "%s", in->if_missing);
	p_str(p, "fix", ok ? NULL : " (%s)", in->fix);
	p_str(p, "detail", ok && !verbose ? NULL : "\n                    %s", r->detail);
	p_close(p, '}');
	if (!p->json)
		fputc('\n', p->f);
}

static void print_backends(struct printer *p, const struct fl_probe_report *rep)
{
	p_open(p, "backends", '[');
	if (!p->json)
		fprintf(p->f, "\n  %-16s %s\n", "fault kind", "backend");
	for (const char *const *k = fl_probe_fault_kinds; *k; k++) {
		enum fl_backend b = fl_probe_backend(rep, *k);

		p_open(p, NULL, '{');
		p_str(p, "fault", "  %-16s ", *k);
		p_str(p, "backend", "%s\n", fl_backend_name(b));
		p_bool(p, "available", b != FL_BACKEND_NONE);
		p_close(p, '}');
	}
	p_close(p, ']');
}

static void print_report(FILE *f, bool json, bool verbose, const struct fl_probe_report *rep)
{
	struct printer p = { .f = f, .json = json, .first = true };
	bool usable = fl_probe_usable(rep);

	p_open(&p, NULL, '{');
	p_str(&p, "kernel", "fallacy doctor: kernel %s, ", rep->kernel);
	p_uint(&p, "elapsed_ms", "probed in a scratch network namespace in %llu ms\n\n",
	       (unsigned long long)(rep->elapsed_ns / 1000000));
	p_bool(&p, "usable", usable);
	p_str(&p, "cgroup2", NULL, rep->cgroup2);
	p_str(&p, "iptables_restore", NULL, rep->iptables);
	p_open(&p, "probes", '[');
	for (int i = 0; i < FL_PROBE_COUNT; i++)
		print_probe(&p, rep, (enum fl_probe_id)i, verbose);
	p_close(&p, ']');
	print_backends(&p, rep);
	p_close(&p, '}');
	if (json)
		fputc('\n', f);
	else
		fprintf(f, "\n%s\n",
			usable ? "fallacy can work on this machine."
			       : "fallacy cannot work on this machine: fix the required probes "
				 "(netns, veth, clsact+cls_bpf, btf, nfqueue or netem, tbf or htb).");
}

static void usage(FILE *f)
{
	fprintf(f, "usage: fallacy doctor [-j|--json]\n\n"
		   "Probe the kernel and this machine, each probe in a scratch network\n"
		   "namespace that disappears afterwards; print each feature as ok or missing\n"
		   "with what uses it and how to get it, and which backend each fault kind\n"
		   "will use. -v also prints what each successful probe did.\n\n"
		   "options:\n"
		   "  -j, --json   print JSON instead of text\n\n"
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
	bool json = false;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return FL_EXIT_OK;
		} else if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			json = true;
		} else {
			pr_err("doctor: unknown argument '%s' (see fallacy doctor --help)",
			       argv[i]);
			return FL_EXIT_USAGE;
		}
	}
	err = fl_probe_run(&rep);
	if (err) {
		pr_err("doctor: cannot run the probes: %s", strerror(-err));
		return FL_EXIT_USAGE;
	}
	print_report(stdout, json, fl_log_level >= FL_LOG_INFO, &rep);
	return fl_probe_usable(&rep) ? FL_EXIT_OK : FL_EXIT_FAIL;
}
