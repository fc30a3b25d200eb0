// SPDX-License-Identifier: MIT
/* fallacy check linearizable FILE [--model register|kv] [-j] [--html F]:
 * thin CLI over harness/lin.h. Exit 0 linearizable, 1 not, 2 a malformed
 * file (with its line) or a history too large to decide. */
#include "cmd.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "json.h"
#include "lin.h"
#include "log.h"
#include "parse.h"
#include "results.h"

static void usage(FILE *f)
{
	fputs("usage: fallacy check linearizable FILE [--model register|kv] [-j] [--html FILE]\n"
	      "                                   [--threads N] [--max-states N] [--no-memo]\n"
	      "                                   [--no-prune]\n\n"
	      "Is the history in FILE (Jepsen's shape: one JSON object per line, invoke and\n"
	      "ok/fail/info per operation, see docs/consistency.md) linearizable? Wing & Gong's\n"
	      "search with Lowe's memoisation, each key on its own, keys in parallel.\n\n"
	      "  --model M        register (read, write, cas; the default) or kv (get, put,\n"
	      "                   append on string values)\n"
	      "  -j, --json       JSON output\n"
	      "  --html FILE      a timeline of the operations around the first violation\n"
	      "  --threads N      keys checked at once (default: one per CPU)\n"
	      "  --max-states N   give up after N search states per key (default 20000000)\n"
	      "  --no-memo        without Lowe's cache (the baseline of the benchmark)\n"
	      "  --no-prune       without the observer pruning (register, unique values: the\n"
	      "                   state never leaves a value an acknowledged read or cas\n"
	      "                   still pending has to see; the benchmark's baseline)\n\n"
	      "Exit status: 0 linearizable, 1 not linearizable, 2 a malformed file (the\n"
	      "message names its line) or a history the search could not decide.\n\n"
	      "EXAMPLES\n"
	      "  fallacy check linearizable results/etcd-reliable/ops.jsonl\n"
	      "  fallacy check linearizable history.jsonl --model kv -j | jq .linearizable\n"
	      "  fallacy check linearizable history.jsonl --html violation.html\n",
	      f);
}

/* A value as a person reads it: strings quoted, numbers as written. */
static void value_text(const struct fl_history *h, int id, char *buf, size_t len)
{
	const char *v = fl_history_value(h, id);

	if (v[0] == 's')
		snprintf(buf, len, "\"%.60s\"", v + 1);
	else
		snprintf(buf, len, "%.60s", v[0] == 'z' ? "null" : v + 1);
}

/* "read -> 5", "write 4", "cas 3 -> 4", "append \"x\"" */
static void op_text(const struct fl_history *h, const struct fl_hop *op, char *buf, size_t len)
{
	char a[80], b[80];

	value_text(h, op->value, b, sizeof(b));
	if (op->f == FL_HF_CAS) {
		value_text(h, op->expect, a, sizeof(a));
		snprintf(buf, len, "cas %s -> %s", a, b);
	} else if (op->f == FL_HF_READ || op->f == FL_HF_GET) {
		snprintf(buf, len, "%s -> %s", fl_hf_name(op->f), op->result == FL_HR_OK ? b : "?");
	} else {
		snprintf(buf, len, "%s %s", fl_hf_name(op->f), b);
	}
}

static const char *result_name(enum fl_hresult r)
{
	return r == FL_HR_OK ? "ok" : r == FL_HR_FAIL ? "fail" : "info";
}

static void print_op(const struct fl_history *h, int i, bool bad, struct fl_out *o)
{
	const struct fl_hop *op = &h->ops[i];
	char what[200];

	op_text(h, op, what, sizeof(what));
	if (o->json) {
		fl_out_open(o, "", '{');
		fl_out_u64(o, "process", (uint64_t)op->process);
		fl_out_str(o, "op", what);
		fl_out_str(o, "type", result_name(op->result));
		fl_out_u64(o, "invoke_ns", op->call);
		if (op->ret != FL_HTIME_NEVER)
			fl_out_u64(o, "complete_ns", op->ret);
		fl_out_u64(o, "line", (uint64_t)op->line);
		fl_out_bool(o, "violates", bad);
		fl_out_close(o, '}');
		return;
	}
	fprintf(o->f, "  process %-4d %-28s %-4s line %d%s\n", op->process, what,
		result_name(op->result), op->line, bad ? "   <- cannot be linearized" : "");
}

/* "stale read: process 3 read 5 (line 40), but 6 (line 33) had replaced it
 * before the read began; 5 was written at line 20" */
static void print_anomaly(const struct fl_history *h, const struct fl_lin_result *r,
			  struct fl_out *o)
{
	const struct fl_hop *rd = &h->ops[r->bad_op >= 0 ? r->bad_op : 0];
	char v[80], w[200] = "", x[200] = "";

	value_text(h, rd->value, v, sizeof(v));
	if (r->writer >= 0)
		snprintf(w, sizeof(w), "; it was written by process %d at line %d",
			 h->ops[r->writer].process, h->ops[r->writer].line);
	if (r->overwriter >= 0)
		snprintf(x, sizeof(x),
			 "; process %d's %s (line %d) completed before the read began",
			 h->ops[r->overwriter].process,
			 h->ops[r->overwriter].f == FL_HF_CAS ? "cas" : "write",
			 h->ops[r->overwriter].line);
	if (o->json) {
		fl_out_str(o, "anomaly", fl_lin_anomaly_name(r->anomaly));
		return;
	}
	fprintf(o->f, "%s: process %d read %s (line %d)%s%s\n", fl_lin_anomaly_name(r->anomaly),
		rd->process, v, rd->ret_line, w, x);
}

static void print_result(const struct fl_history *h, const struct fl_lin_result *r,
			 uint64_t elapsed_ns, struct fl_out *o)
{
	const char *key = r->bad_key >= 0 ? h->keys[r->bad_key] : "";

	fl_out_open(o, "", '{');
	if (o->json) {
		fl_out_bool(o, "linearizable", r->verdict == FL_LIN_OK);
		fl_out_str(o, "verdict",
			   r->verdict == FL_LIN_OK  ? "linearizable" :
			   r->verdict == FL_LIN_BAD ? "not-linearizable" :
						      "unknown");
		fl_out_u64(o, "operations", r->n_ops);
		fl_out_u64(o, "keys", r->n_keys);
		fl_out_u64(o, "states", r->states);
		fl_out_u64(o, "elapsed_ns", elapsed_ns);
	} else {
		fprintf(o->f,
			"linearizable: %s (%zu operations, %zu key%s, %" PRIu64
			" search states, %.3f s)\n",
			r->verdict == FL_LIN_OK	 ? "yes" :
			r->verdict == FL_LIN_BAD ? "NO" :
						   "unknown",
			r->n_ops, r->n_keys, r->n_keys == 1 ? "" : "s", r->states,
			(double)elapsed_ns / 1e9);
	}
	if (r->verdict == FL_LIN_BAD && r->anomaly != FL_ANOM_NONE)
		print_anomaly(h, r, o);
	if (r->verdict == FL_LIN_BAD) {
		if (o->json) {
			fl_out_str(o, "key", key[0] ? key + 1 : "");
			fl_out_u64(o, "prefix_operations", r->prefix_ops);
			fl_out_u64(o, "violation_ns", r->bad_time);
			fl_out_open(o, "concurrent", '[');
		} else {
			fprintf(o->f,
				"%s%s%s%s %zu operations, ending at t=%" PRIu64
				" ns; in flight then:\n",
				key[0] ? "key " : "", key[0] ? key + 1 : "", key[0] ? ": " : "",
				r->anomaly ? "not linearizable by then:" :
					     "the shortest prefix that is not linearizable has",
				r->prefix_ops, r->bad_time);
			if (r->anomaly)
				fputs("  (and the operations of the anomaly)\n", o->f);
		}
		for (size_t i = 0; i < r->n_concurrent; i++)
			print_op(h, r->concurrent[i], r->concurrent[i] == r->bad_op, o);
		fl_out_close(o, ']');
	}
	fl_out_close(o, '}');
	if (o->json)
		fputc('\n', o->f);
}

/* ---- the HTML timeline of the violation --------------------------------- */

static int write_html(const char *path, const struct fl_history *h, const struct fl_lin_result *r)
{
	FILE *f = fopen(path, "w");
	uint64_t t0 = UINT64_MAX, t1 = r->bad_time;
	int lanes[256], n_lanes = 0;
	const double W = 900, lane = 28;

	if (!f) {
		pr_err("check: cannot write %s", path);
		return -1;
	}
	for (size_t i = 0; i < r->n_concurrent; i++) {
		const struct fl_hop *op = &h->ops[r->concurrent[i]];
		int l;

		t0 = op->call < t0 ? op->call : t0;
		for (l = 0; l < n_lanes && lanes[l] != op->process; l++)
			;
		if (l == n_lanes && n_lanes < 256)
			lanes[n_lanes++] = op->process;
	}
	if (t0 >= t1)
		t0 = t1 ? t1 - 1 : 0;
	t1 += (t1 - t0) / 5 + 1;
	fprintf(f,
		"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>fallacy: not "
		"linearizable</title></head><body style=\"font-family:sans-serif\">\n"
		"<h1>Not linearizable</h1><p>The operations in flight when the shortest "
		"non-linearizable prefix ends (red: the one that cannot be linearized; "
		"grey: unknown outcome).</p>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%.0f\" height=\"%.0f\">\n",
		W + 120, lane * (n_lanes + 1) + 20);
	for (int l = 0; l < n_lanes; l++)
		fprintf(f, "<text x=\"0\" y=\"%.0f\" font-size=\"12\">process %d</text>\n",
			lane * (l + 1), lanes[l]);
	for (size_t i = 0; i < r->n_concurrent; i++) {
		const struct fl_hop *op = &h->ops[r->concurrent[i]];
		uint64_t end = op->ret == FL_HTIME_NEVER || op->ret > t1 ? t1 : op->ret;
		double x0 = 100 + W * (double)(op->call - t0) / (double)(t1 - t0);
		double x1 = 100 + W * (double)(end - t0) / (double)(t1 - t0);
		char what[200];
		int l = 0;

		while (l < n_lanes && lanes[l] != op->process)
			l++;
		op_text(h, op, what, sizeof(what));
		fprintf(f,
			"<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>"
			"<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\">",
			x0, lane * (l + 1) - 13, x1 - x0 > 1 ? x1 - x0 : 1,
			r->concurrent[i] == r->bad_op ? "#e05050" :
			op->result == FL_HR_INFO      ? "#bbbbbb" :
							"#7aa6d8",
			x0 + 2, lane * (l + 1));
		fl_xml_str(f, what); /* escaped for the page (<, &, quotes) */
		fputs("</text>\n", f);
	}
	fputs("</svg></body></html>\n", f);
	return fclose(f) ? -1 : 0;
}

/* ---- the command --------------------------------------------------------- */

struct check_args {
	struct fl_lin_opts o;
	bool json;
	const char *html, *file;
};

static int parse_args(int argc, char **argv, struct check_args *a)
{
	static const struct option lo[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "html", required_argument, NULL, 'H' },
		{ "threads", required_argument, NULL, 't' },
		{ "max-states", required_argument, NULL, 's' },
		{ "no-memo", no_argument, NULL, 'n' },
		{ "no-prune", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct fl_err err = { "" };
	uint64_t v = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "j", lo, NULL)) != -1) {
		if (c == 'm' && fl_lin_model_parse(optarg, &a->o.model, &err))
			goto bad;
		if ((c == 't' || c == 's') &&
		    fl_parse_u64(optarg, 1, c == 't' ? 64 : UINT64_MAX, &v, &err))
			goto bad;
		if (c == 't')
			a->o.threads = (int)v;
		else if (c == 's')
			a->o.max_states = v;
		else if (c == 'j')
			a->json = true;
		else if (c == 'H')
			a->html = optarg;
		else if (c == 'n')
			a->o.no_memo = true;
		else if (c == 'p')
			a->o.no_prune = true;
		else if (c == '?')
			return -1;
	}
	if (optind + 1 != argc) {
		pr_err("check linearizable: expected one history FILE (see fallacy check --help)");
		return -1;
	}
	a->file = argv[optind];
	return 0;
bad:
	pr_err("check linearizable: %s", err.msg);
	return -1;
}

static int check_linearizable(int argc, char **argv)
{
	struct check_args a = { 0 };
	struct fl_history h;
	struct fl_lin_result r;
	struct fl_out o = { .f = stdout };
	struct fl_err err = { "" };
	uint64_t t;
	int ret;

	if (parse_args(argc, argv, &a))
		return FL_EXIT_USAGE;
	if (fl_cmd_check) /* the history is a result, like report's folders */
		return FL_EXIT_OK;
	if (fl_history_load(a.file, &h, &err)) {
		pr_err("check linearizable: %s", err.msg);
		return FL_EXIT_USAGE;
	}
	t = fl_clock_mono_ns();
	ret = fl_lin_check(&h, &a.o, &r, &err);
	if (ret) {
		pr_err("check linearizable: %s: %s", a.file, err.msg);
		fl_history_free(&h);
		return FL_EXIT_USAGE;
	}
	o.json = a.json;
	print_result(&h, &r, fl_clock_mono_ns() - t, &o);
	if (!h.n) /* valid, as for Knossos, but rarely what was meant */
		pr_warn("check linearizable: %s: no operations in it: an empty history is "
			"linearizable, and says nothing",
			a.file);
	if (r.verdict == FL_LIN_UNKNOWN)
		pr_err("check linearizable: %s: undecided after %" PRIu64 " search states per key "
		       "(many concurrent operations of unknown outcome); raise --max-states",
		       a.file, (uint64_t)(a.o.max_states ? a.o.max_states : FL_LIN_MAX_STATES));
	if (a.html && r.verdict == FL_LIN_BAD && write_html(a.html, &h, &r))
		ret = -1;
	fl_lin_result_free(&r);
	fl_history_free(&h);
	if (ret || r.verdict == FL_LIN_UNKNOWN)
		return FL_EXIT_USAGE;
	return r.verdict == FL_LIN_OK ? FL_EXIT_OK : FL_EXIT_FAIL;
}

int do_check(int argc, char **argv)
{
	if (fl_wants_help(argc, argv) || argc < 2) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? FL_EXIT_USAGE : FL_EXIT_OK;
	}
	if (!strcmp(argv[1], "linearizable"))
		return check_linearizable(argc - 1, argv + 1);
	pr_err("check: unknown check '%s' (use linearizable)", argv[1]);
	return FL_EXIT_USAGE;
}
