// SPDX-License-Identifier: MIT
/* report.html: availability in nines and downtime per window and node,
 * and each fault's recovery in phases. */
#include "nines.h"

#include <math.h>
#include <stdio.h>

#include "results.h"

static void nines_cell(FILE *f, const struct fl_nines *r)
{
	if (!r->ops)
		fputs("<td>-</td>", f);
	else if (isnan(r->nines))
		fprintf(f, "<td>no failure in %llu ops</td>", (unsigned long long)r->ops);
	else
		fprintf(f, "<td>%.1f</td>", r->nines);
}

static void nines_table(FILE *f, const struct fl_suite *s)
{
	fputs("<h2>Availability in nines and downtime</h2>\n<p>nines = -log10(1 - ok ops / ops) "
	      "of the ops that started in the window; downtime = 100 ms buckets with operations "
	      "but none ok.</p>\n<table><tr><th>window</th><th>node</th><th>ops</th><th>ok</th>"
	      "<th>availability</th><th>nines</th><th>downtime</th></tr>\n",
	      f);
	for (size_t i = 0; i < s->n_nines; i++) {
		const struct fl_nines *r = &s->nines[i];

		fputs("<tr><td>", f);
		fl_xml_str(f, r->window);
		fputs("</td><td>", f);
		fl_xml_str(f, r->node[0] ? r->node : "all");
		fprintf(f, "</td><td>%llu</td><td>%llu</td>", (unsigned long long)r->ops,
			(unsigned long long)r->ok);
		if (isnan(r->avail))
			fputs("<td>-</td>", f);
		else
			fprintf(f, "<td>%.4f %%</td>", r->avail * 100);
		nines_cell(f, r);
		fprintf(f, "<td>%.1f s</td></tr>\n", r->downtime);
	}
	fputs("</table>\n", f);
}

static void phase_row(FILE *f, int k, const struct fl_phase *ph, uint64_t t0)
{
	fprintf(f, "<tr><td></td><td>%s</td>", fl_phase_names[k]);
	if (!ph->has) {
		fputs("<td>absent</td><td colspan=\"2\">", f);
		fl_xml_str(f, ph->why);
		fputs("</td></tr>\n", f);
		return;
	}
	fprintf(f, "<td>%.3f s</td><td>%.3f s: ", ph->seconds,
		ph->from_ns >= t0 ? (ph->from_ns - t0) / 1e9 : 0);
	fl_xml_str(f, ph->from);
	fprintf(f, "</td><td>%.3f s: ", ph->to_ns >= t0 ? (ph->to_ns - t0) / 1e9 : 0);
	fl_xml_str(f, ph->to);
	fputs("</td></tr>\n", f);
}

static void recovery_table(FILE *f, const struct fl_suite *s, uint64_t t0)
{
	fputs("<h2>Recovery in phases</h2>\n<p>detection: fault began to the first failed op; "
	      "unavailability: from there to the first ok op; failover: fault began to that ok "
	      "op; catch-up: from it (or the fault's start) until 5 ops in a row are ok with a "
	      "median latency within 1.5x the p50 before the fault. Times from the start of the "
	      "run.</p>\n<table><tr><th>window</th><th>phase</th><th>duration</th><th>from</th>"
	      "<th>to</th></tr>\n",
	      f);
	for (size_t i = 0; i < s->n_recovery; i++) {
		const struct fl_recovery *r = &s->recovery[i];

		fputs("<tr><td>", f);
		fl_xml_str(f, r->window);
		fputs(" on ", f);
		fl_xml_str(f, r->node[0] ? r->node : "all nodes");
		fprintf(f, "</td><td colspan=\"4\">began %.3f s", (r->start_ns - t0) / 1e9);
		if (r->heal_ns)
			fprintf(f, ", healed %.3f s", (r->heal_ns - t0) / 1e9);
		if (!isnan(r->p50_before))
			fprintf(f, "; p50 before %.1f ms", r->p50_before * 1e3);
		fputs("</td></tr>\n", f);
		for (int k = 0; k < FL_PH__MAX; k++)
			phase_row(f, k, &r->ph[k], t0);
	}
	fputs("</table>\n", f);
}

void fl_report_nines(FILE *f, const struct fl_suite *s, uint64_t t0)
{
	if (s->n_nines)
		nines_table(f, s);
	if (s->n_recovery)
		recovery_table(f, s, t0);
}
