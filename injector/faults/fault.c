// SPDX-License-Identifier: MIT
/* The output layer (text and JSON from the same calls), the kind table's
 * lookups and the encodings every kind shares. */
#include "fault.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "probe/probe.h"
#include "lab/lab.h"

/* ---- kinds ------------------------------------------------------------- */

const struct fault_ops *fl_fault_kind(const char *name)
{
	for (int i = 0; fl_fault_kinds[i]; i++)
		if (!strcmp(fl_fault_kinds[i]->name, name))
			return fl_fault_kinds[i];
	return NULL;
}

int fl_fault_unknown_kind(const char *name, struct fl_err *err)
{
	const char *names[32];
	char list[256] = "";
	const char *near;
	size_t n = 0;

	for (; fl_fault_kinds[n] && n < 32; n++) {
		names[n] = fl_fault_kinds[n]->name;
		strncat(list, " ", sizeof(list) - strlen(list) - 1);
		strncat(list, names[n], sizeof(list) - strlen(list) - 1);
	}
	near = fl_suggest(name, names, n);
	if (near)
		fl_err_set(err, "unknown fault '%s' (did you mean '%s'?)", name, near);
	else
		fl_err_set(err, "unknown fault '%s' (kinds:%s)", name, list);
	return -EINVAL;
}

uint64_t fl_prob_encode(double p)
{
	if (!(p > 0.0))
		return 0;
	if (p >= 1.0)
		return FL_PROB_ONE;
	return (uint64_t)llround(p * (double)FL_PROB_ONE);
}

const char *fl_backend_name(enum fl_backend b)
{
	switch (b) {
	case FL_BACKEND_TC_BPF:
		return "tc BPF (clsact + cls_bpf)";
	case FL_BACKEND_DELAY_LINE:
		return "NFQUEUE delay line";
	case FL_BACKEND_NETEM:
		return "netem";
	case FL_BACKEND_SHAPER:
		return "htb classes (tbf/htb; ifb for attach-mode ingress)";
	default:
		return "none (missing kernel features)";
	}
}

enum fl_backend fl_backend_tc_bpf(const struct fl_probe_report *rep)
{
	return fl_probe_ok(rep, FL_PROBE_CLS_BPF) ? FL_BACKEND_TC_BPF : FL_BACKEND_NONE;
}
