// SPDX-License-Identifier: MIT
/* The delay fault's parameters in netem's units (no kernel involved). */
#include "netem.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

const char *const fl_netem_dist_dirs[] = {
	"/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/tc", "/usr/lib64/tc", "/usr/local/lib/tc", NULL,
};

uint32_t fl_netem_prob(double p)
{
	if (!(p > 0))
		return 0;
	if (p >= 1)
		return UINT32_MAX;
	return (uint32_t)llround(p * UINT32_MAX);
}

int fl_netem_usec(uint64_t ns, uint32_t *us)
{
	uint64_t v = (ns + 500) / 1000;

	if (v > FL_NETEM_MAX_US)
		return -ERANGE;
	*us = (uint32_t)v;
	return 0;
}

const char *fl_netem_dist_name(enum fl_delay_dist d)
{
	switch (d) {
	case FL_DIST_NORMAL:
		return "normal";
	case FL_DIST_PARETO:
		return "pareto";
	case FL_DIST_PARETONORMAL:
		return "paretonormal";
	default:
		return NULL;
	}
}

int fl_netem_dist_path(const char *name, const char *const *dirs, char *buf, size_t len)
{
	for (int i = 0; dirs[i]; i++) {
		int n = snprintf(buf, len, "%s/%s.dist", dirs[i], name);

		if (n > 0 && (size_t)n < len && !access(buf, R_OK))
			return 0;
	}
	return -ENOENT;
}

static int times(const struct fl_delay_params *p, struct fl_netem *n, struct fl_err *err)
{
	if (fl_netem_usec(p->delay_ns, &n->delay_us) ||
	    fl_netem_usec(p->jitter_ns, &n->jitter_us)) {
		fl_err_set(err,
			   "backend netem: delay and jitter must stay below %us "
			   "(netem's 32-bit ticks); use backend queue",
			   FL_NETEM_MAX_US / 1000000);
		return -EINVAL;
	}
	if (p->jitter_ns && !p->allow_reorder) {
		fl_err_set(err, "backend netem: netem reorders packets when there is jitter; "
				"add allow-reorder, or use backend queue (keeps the order)");
		return -EINVAL;
	}
	return 0;
}

int fl_netem_from_delay(const struct fl_delay_params *p, struct fl_netem *n, struct fl_err *err)
{
	*n = (struct fl_netem){ 0 };
	if (times(p, n, err))
		return -EINVAL;
	if (p->reorder > 0 && !n->delay_us) {
		fl_err_set(err, "backend netem: reorder needs a delay (netem sends the "
				"others after it)");
		return -EINVAL;
	}
	if (n->jitter_us) {
		n->delay_corr = fl_netem_prob(p->delay_corr);
		n->dist = fl_netem_dist_name(p->dist);
	}
	n->reorder = fl_netem_prob(p->reorder);
	if (n->reorder) {
		n->reorder_corr = fl_netem_prob(p->reorder_corr);
		n->gap = 1;
	}
	n->limit = p->limit ? p->limit : FL_DELAY_DEFAULT_LIMIT;
	return 0;
}

int fl_delay_backend_pick(enum fl_delay_backend asked, bool netem_present)
{
	if (asked != FL_DELAY_BACKEND_NETEM)
		return FL_DELAY_BACKEND_QUEUE;
	return netem_present ? FL_DELAY_BACKEND_NETEM : -EOPNOTSUPP;
}
