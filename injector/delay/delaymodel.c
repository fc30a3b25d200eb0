// SPDX-License-Identifier: MIT
/* Delay draws: distributions, netem-style correlation, reorder, and the
 * no-reorder floor. See delaymodel.h for the semantics. */
#include "delaymodel.h"

#include <math.h>

#include "fallacy/prng.h"

/* Acklam's inverse normal CDF, relative error < 1.2e-9 after one Halley
 * step. Clipped by the caller, like netem's tables, at +-4 sd. */
double fl_norm_quantile(double p)
{
	static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02,
				    -2.759285104469687e+02, 1.383577518672690e+02,
				    -3.066479806614716e+01, 2.506628277459239e+00 };
	static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02,
				    -1.556989798598866e+02, 6.680131188771972e+01,
				    -1.328068155288572e+01 };
	static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01,
				    -2.400758277161838e+00, -2.549732539343734e+00,
				    4.374664141464968e+00,  2.938163982698783e+00 };
	static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01,
				    2.445134137142996e+00, 3.754408661907416e+00 };
	double q, r, x, e;

	if (p <= 0)
		return -INFINITY;
	if (p >= 1)
		return INFINITY;
	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else if (p > 1 - 0.02425) {
		q = sqrt(-2 * log(1 - p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else {
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
		    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
	}
	e = 0.5 * erfc(-x / sqrt(2)) - p;
	r = e * sqrt(2 * M_PI) * exp(x * x / 2);
	return x - r / (1 + x * r / 2);
}

/* netem's pareto table: alpha 3 (mean 1.5), shifted by 1.5, scaled 4/3,
 * clipped at +4. u is the quantile: larger u, larger delay. */
static double pareto_std(double u)
{
	double v = (pow(1.0 - u, -1.0 / 3.0) - 1.5) * (4.0 / 3.0);

	return v > 4.0 ? 4.0 : v;
}

static double normal_std(double u)
{
	double v = fl_norm_quantile(u);

	return v > 4.0 ? 4.0 : v < -4.0 ? -4.0 : v;
}

int64_t fl_delay_jitter(enum fl_delay_dist dist, uint64_t jitter_ns, uint32_t u32)
{
	double u = ((double)u32 + 0.5) / (double)FL_PROB_ONE;
	double j = (double)jitter_ns, v;

	switch (dist) {
	case FL_DIST_NORMAL:
		v = normal_std(u);
		break;
	case FL_DIST_PARETO:
		v = pareto_std(u);
		break;
	case FL_DIST_PARETONORMAL:
		v = (normal_std(u) + 3.0 * pareto_std(u)) / 4.0;
		break;
	case FL_DIST_UNIFORM:
	default:
		v = 2.0 * u - 1.0;
		break;
	}
	return (int64_t)llround(v * j);
}

uint32_t fl_delay_correlate(uint32_t fresh, uint32_t *last, double corr)
{
	uint64_t rho, answer;

	if (corr <= 0) {
		*last = fresh;
		return fresh;
	}
	rho = corr >= 1 ? FL_PROB_ONE : (uint64_t)(corr * (double)FL_PROB_ONE);
	answer = ((uint64_t)fresh * (FL_PROB_ONE - rho) + (uint64_t)*last * rho) >> 32;
	*last = (uint32_t)answer;
	return (uint32_t)answer;
}

static bool reorder_skip(const struct fl_delay_params *p, struct fl_delay_state *s)
{
	uint32_t fresh, u;

	if (p->reorder <= 0)
		return false;
	fresh = (uint32_t)(fl_prng(p->seed, p->rule_id, FL_STREAM_REORDER, s->seq) >> 32);
	u = fl_delay_correlate(fresh, &s->reorder_last, p->reorder_corr);
	if (p->reorder >= 1)
		return true;
	return (double)u < p->reorder * (double)FL_PROB_ONE;
}

/* The correlation memory starts from a draw of its own (netem starts it
 * from a random value), so the first packet is not pulled to the middle. */
static void state_init(const struct fl_delay_params *p, struct fl_delay_state *s)
{
	s->delay_last = (uint32_t)(fl_prng(p->seed, p->rule_id, FL_STREAM_DELAY, UINT64_MAX) >> 32);
	s->reorder_last =
		(uint32_t)(fl_prng(p->seed, p->rule_id, FL_STREAM_REORDER, UINT64_MAX) >> 32);
}

uint64_t fl_delay_next(const struct fl_delay_params *p, struct fl_delay_state *s, uint64_t now_ns,
		       bool *skip)
{
	int64_t d = (int64_t)p->delay_ns;
	uint64_t due;

	if (s->seq == 0)
		state_init(p, s);
	*skip = reorder_skip(p, s);
	if (p->jitter_ns) {
		uint32_t fresh =
			(uint32_t)(fl_prng(p->seed, p->rule_id, FL_STREAM_DELAY, s->seq) >> 32);
		uint32_t u = fl_delay_correlate(fresh, &s->delay_last, p->delay_corr);

		d += fl_delay_jitter(p->dist, p->jitter_ns, u);
	}
	s->seq++;
	if (*skip)
		return now_ns;
	due = now_ns + (d > 0 ? (uint64_t)d : 0);
	if (!p->allow_reorder) {
		if (due < s->last_due)
			due = s->last_due;
		s->last_due = due;
	}
	return due;
}
