// SPDX-License-Identifier: MIT
/* Parsing and printing delay parameters, netem's words:
 *   D [jitter J] [correlation C] [distribution X] [reorder P [C]]
 *   [allow-reorder] [limit N]
 * and netem's positional form "D J C". */
#include "delaymodel.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"

static int need(int i, int argc, const char *word, struct fl_err *err)
{
	if (i + 1 < argc)
		return 0;
	fl_err_set(err, "%s needs a value", word);
	return -EINVAL;
}

/* One keyword with its value(s); returns words consumed or -EINVAL. */
static int parse_word(int argc, char **argv, int i, struct fl_delay_params *p, struct fl_err *err)
{
	const char *w = argv[i];
	uint64_t n;

	if (!strcmp(w, "allow-reorder") || !strcmp(w, "fail-closed")) {
		*(w[0] == 'a' ? &p->allow_reorder : &p->fail_closed) = true;
		return 1;
	}
	if (need(i, argc, w, err))
		return -EINVAL;
	if (!strcmp(w, "jitter"))
		return fl_parse_duration(argv[i + 1], &p->jitter_ns, err) ?: 2;
	if (!strcmp(w, "correlation"))
		return fl_parse_percent(argv[i + 1], &p->delay_corr, err) ?: 2;
	if (!strcmp(w, "distribution"))
		return fl_delay_dist_parse(argv[i + 1], &p->dist, err) ?: 2;
	if (!strcmp(w, "backend")) {
		static const char *const names[] = { "auto", "queue", "netem" };

		for (int k = 0; k < 3; k++)
			if (!strcmp(argv[i + 1], names[k])) {
				p->backend = k;
				return 2;
			}
		fl_err_set(err, "backend %s: unknown (use queue, netem or auto)", argv[i + 1]);
		return -EINVAL;
	}
	if (!strcmp(w, "limit")) {
		if (fl_parse_u64(argv[i + 1], 1, 65536, &n, err))
			return -EINVAL;
		p->limit = (uint32_t)n;
		return 2;
	}
	if (!strcmp(w, "reorder")) {
		if (fl_parse_percent(argv[i + 1], &p->reorder, err))
			return -EINVAL;
		if (i + 2 < argc && strchr(argv[i + 2], '%'))
			return fl_parse_percent(argv[i + 2], &p->reorder_corr, err) ?: 3;
		return 2;
	}
	fl_err_set(err, "%s: unknown delay parameter (use jitter, correlation, distribution, "
			"reorder, allow-reorder, limit, fail-closed, backend)",
		   w);
	return -EINVAL;
}

int fl_delay_params_parse(int argc, char **argv, struct fl_delay_params *p, struct fl_err *err)
{
	int i = 1, n;

	if (argc < 1) {
		fl_err_set(err, "delay needs a duration, e.g. 'delay 50ms jitter 5ms'");
		return -EINVAL;
	}
	if (fl_parse_duration(argv[0], &p->delay_ns, err))
		return -EINVAL;
	/* netem's positional "delay D J [C]" */
	if (i < argc && (argv[i][0] >= '0' && argv[i][0] <= '9')) {
		if (fl_parse_duration(argv[i++], &p->jitter_ns, err))
			return -EINVAL;
		if (i < argc && strchr(argv[i], '%') &&
		    fl_parse_percent(argv[i++], &p->delay_corr, err))
			return -EINVAL;
	}
	while (i < argc) {
		n = parse_word(argc, argv, i, p, err);
		if (n < 0)
			return -EINVAL;
		i += n;
	}
	if (p->jitter_ns > p->delay_ns && p->dist == FL_DIST_UNIFORM)
		pr_debug("jitter larger than the delay: delays below 0 count as 0");
	return 0;
}

void fl_delay_params_format(const struct fl_delay_params *p, char *buf, size_t len)
{
	char d[32], j[32], c[32], r[32], rc[32];
	size_t o;

	fl_format_duration(p->delay_ns, d, sizeof(d));
	o = (size_t)snprintf(buf, len, "delay %s", d);
	if (p->jitter_ns && o < len) {
		fl_format_duration(p->jitter_ns, j, sizeof(j));
		o += (size_t)snprintf(buf + o, len - o, " jitter %s", j);
		if (p->delay_corr > 0 && o < len) {
			fl_format_percent(p->delay_corr, c, sizeof(c));
			o += (size_t)snprintf(buf + o, len - o, " correlation %s", c);
		}
		if (o < len)
			o += (size_t)snprintf(buf + o, len - o, " distribution %s",
					      fl_delay_dist_name(p->dist));
	}
	if (p->reorder > 0 && o < len) {
		fl_format_percent(p->reorder, r, sizeof(r));
		o += (size_t)snprintf(buf + o, len - o, " reorder %s", r);
		if (p->reorder_corr > 0 && o < len) {
			fl_format_percent(p->reorder_corr, rc, sizeof(rc));
			o += (size_t)snprintf(buf + o, len - o, " %s", rc);
		}
	}
	if (p->allow_reorder && o < len)
		o += (size_t)snprintf(buf + o, len - o, " allow-reorder");
	if (p->limit && p->limit != FL_DELAY_DEFAULT_LIMIT && o < len)
		o += (size_t)snprintf(buf + o, len - o, " limit %u", p->limit);
	if (p->fail_closed && o < len)
		o += (size_t)snprintf(buf + o, len - o, " fail-closed");
	if (p->backend && o < len)
		snprintf(buf + o, len - o, " backend %s",
			 p->backend == FL_DELAY_BACKEND_QUEUE ? "queue" : "netem");
}
