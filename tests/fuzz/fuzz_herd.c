// SPDX-License-Identifier: MIT
/* herd.jsonl records (written by `fallacy __herd`, read back by the run
 * and by `fallacy report`): the line parser never crashes, what it
 * accepts ends no earlier than it starts, and the buckets and recovery
 * attempts over what parsed hold together. The same bytes as a server's
 * HTTP reply (protocol http) or PostgreSQL answer (protocol postgres): a
 * complete reply is never longer than what arrived, nor than the limit. */
#include "fuzz.h"

#include "herd.h"

/* A complete PostgreSQL answer of len bytes is whole messages (a type
 * byte, then a length that counts itself), the last a ReadyForQuery 'Z'. */
static bool pg_ends_ready(const uint8_t *d, long len)
{
	long off = 0, last = -1;

	while (len > 0 && off + 5 <= len) {
		last = off;
		off += 1 + (long)((uint32_t)d[off + 1] << 24 | (uint32_t)d[off + 2] << 16 |
				  (uint32_t)d[off + 3] << 8 | d[off + 4]);
	}
	return len <= 0 || (off == len && last >= 0 && d[last] == 'Z');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *save = NULL;
	long reply = fl_herd_http_reply((const char *)data, size, 4096);
	long pg = fl_herd_pg_reply((const char *)data, size, 4096);
	struct fl_herd_rec r[64];
	struct fl_herd_bucket *b;
	uint64_t *t, at;
	size_t n = 0, nb, nt;

	if (reply > (long)size || reply > 4096 || pg > (long)size || pg > 4096 ||
	    !pg_ends_ready(data, pg))
		abort();
	for (char *l = strtok_r(s, "\n", &save); l && n < 64; l = strtok_r(NULL, "\n", &save)) {
		if (fl_herd_rec_parse(l, &r[n]))
			continue;
		if (r[n].end_ns < r[n].start_ns || r[n].client >= FL_HERD_MAX_CLIENTS)
			abort();
		n++;
	}
	if (!fl_herd_buckets(r, n, 0, 10 * FL_HERD_BUCKET_NS, &b, &nb))
		free(b);
	if (!fl_herd_recovery_attempts(r, n, 0, &t, &nt)) {
		if (nt > n || fl_herd_max_share(t, nt, 1000000, &at) > 1)
			abort();
		free(t);
	}
	free(s);
	return 0;
}
