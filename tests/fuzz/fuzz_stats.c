// SPDX-License-Identifier: MIT
/* Transport statistics text: the supervisor's "acct" answer and mark files
 * (fl_stats_parse), and /proc/net/snmp or netstat text (fl_tcp_parse):
 * never crash, and what parsed prints back to the same counters. */
#include "fuzz.h"

#include "stats/stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fl_stats a = { 0 }, b = { 0 };
	struct fl_tcp_stat t;
	char *text = fuzz_string(data, size), *buf = NULL;
	size_t len = 0;
	FILE *f;

	fl_tcp_parse(text, text, &t);
	if (!fl_stats_parse(text, &a)) {
		f = open_memstream(&buf, &len);
		if (!f)
			abort();
		fl_stats_format(&a, f);
		fclose(f);
		FUZZ_ASSERT(!fl_stats_parse(buf, &b), "formatted stats do not parse:\n%s", buf);
		FUZZ_ASSERT(a.n_pairs == b.n_pairs && a.n_nodes == b.n_nodes,
			    "round trip lost lines: %zu/%zu pairs, %zu/%zu nodes", a.n_pairs,
			    b.n_pairs, a.n_nodes, b.n_nodes);
		for (size_t i = 0; i < a.n_pairs; i++)
			FUZZ_ASSERT(a.pairs[i].bytes == b.pairs[i].bytes &&
					    !strcmp(a.pairs[i].src, b.pairs[i].src),
				    "pair %zu changed in the round trip", i);
		free(buf);
	}
	fl_stats_free(&a);
	fl_stats_free(&b);
	free(text);
	return 0;
}
