/* SPDX-License-Identifier: MIT */
/* Fault kinds and faults. One `struct fault_ops` per kind (one small file
 * each in injector/faults/, one table in faults/table.c), shared by the
 * parser, the printers (text and JSON from the same function) and the rule
 * encoder, in the style of iproute2's qdisc_util.
 *
 * A fault = kind + its parameters + match options + seed + id. It becomes
 * one or more rules (include/fallacy/rule.h) in the session's rule table:
 * most kinds one, a partition of node groups one per distinct set of
 * unreachable destinations.
 *
 *   fault add TARGET KIND [PARAMS...] [--from X] [--to Y] [--bidir]
 *                   [--proto tcp|udp|icmp|icmpv6] [--port N[-M]]
 *                   [--sport N[-M]] [--dport N[-M]] [--dir in|out|both]
 *                   [--seed S] [--id NAME]
 */
#ifndef FALLACY_FAULT_H
#define FALLACY_FAULT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fallacy/rule.h"
#include "log.h"
#include "parse.h"

#define FL_FAULT_ID_MAX 32
#define FL_FAULT_MAX_RULES 64 /* rules one fault may expand into */
#define FL_GROUPS_MAX 16

struct fl_lab;
struct fl_sup;

/* Text or JSON output from the same print calls. Text: "key value" words
 * separated by spaces; JSON: "key": value members of an open object. */
struct fl_out {
	FILE *f;
	bool json;
	int n; /* members/words printed at the current level */
};

void fl_out_str(struct fl_out *o, const char *key, const char *val);
void fl_out_u64(struct fl_out *o, const char *key, uint64_t val);
/* Text "key 10%"; JSON "key": 0.1 (a fraction). */
void fl_out_pct(struct fl_out *o, const char *key, double fraction);
/* Text "key 50ms"; JSON "key_ns": 50000000. */
void fl_out_dur(struct fl_out *o, const char *key, uint64_t ns);
/* Text "key 10mbit"; JSON "key_bps": 10000000. */
void fl_out_rate(struct fl_out *o, const char *key, uint64_t bps);
/* A bare word in text, "key": true in JSON. */
void fl_out_flag(struct fl_out *o, const char *key);

/* Kind-owned parameters. Each kind documents which fields it uses. */
struct fl_fault_params {
	int variant; /* e.g. loss: 0 Bernoulli, 1 gemodel */
	int distribution; /* delay: the delay line's enum */
	double prob[4]; /* probabilities as fractions in [0, 1] */
	uint64_t dur[4]; /* durations in ns */
	uint64_t rate; /* bits per second */
	uint32_t classid; /* rate: assigned by the shaper */
	int n_groups; /* partition */
	char groups[FL_GROUPS_MAX][256]; /* comma lists of node names */
	bool oneway;
};

/* Where a --from/--to side points: any, a prefix, or a set of lab nodes. */
struct fl_side {
	char text[256]; /* as given; "" = any */
	struct fl_endpoint ep; /* resolved */
	int family; /* FL_FAM_* implied by a prefix, else 0 */
};

struct fl_fault {
	char id[FL_FAULT_ID_MAX + 1];
	const struct fault_ops *ops;
	struct fl_fault_params params;
	uint64_t seed;
	bool seed_given;
	uint64_t order; /* creation sequence in the session */
	struct fl_side from, to;
	char node[16]; /* LAB/NODE target: traffic from or to NODE */
	uint8_t proto; /* FL_PROTO_ANY or IPPROTO_* */
	uint8_t port_mode;
	struct fl_port_range ports;
	uint8_t dir; /* enum fl_dir */
	bool bidir;
	int n_rules;
	uint32_t slots[FL_FAULT_MAX_RULES];
	void *priv; /* owned by the kind's apply/heal hooks */
};

struct fault_ops {
	const char *name;
	const char *usage; /* "loss P | loss gemodel P [R [1-H [1-K]]]" */
	const char *help; /* one line */
	bool tcp_only; /* --proto must be tcp (or absent: then tcp) */
	/* Parse the kind's own words (those before the first --option). */
	int (*parse)(struct fl_fault *f, int argc, char **argv, struct fl_err *err);
	/* Print the kind's parameters (after the kind name). */
	void (*print)(const struct fl_fault *f, struct fl_out *o);
	/* Fill the action part of a rule (kind, prob, ...). */
	void (*encode)(const struct fl_fault *f, struct fl_rule *r);
	/* Optional: expand into several rules (partition groups); returns the
	 * count or -errno. NULL: one rule from the match options. */
	int (*expand)(const struct fl_fault *f, const struct fl_lab *lab, struct fl_rule *rules,
		      int max, struct fl_err *err);
	/* Optional: refuse what this kernel cannot do (a backend it lacks)
	 * before anything in the kernel changes; may record the choice. */
	int (*check)(struct fl_fault *f, struct fl_err *err);
	/* Optional userspace side (delay line, shaper): called by the
	 * supervisor after validation, before/after the rule table update. */
	int (*apply)(struct fl_sup *s, struct fl_fault *f, struct fl_err *err);
	void (*heal)(struct fl_sup *s, struct fl_fault *f);
};

extern const struct fault_ops *const fl_fault_kinds[]; /* NULL-terminated */
const struct fault_ops *fl_fault_kind(const char *name);
/* "unknown fault 'lose' (did you mean 'loss'?)"; returns -EINVAL. */
int fl_fault_unknown_kind(const char *name, struct fl_err *err);

/* Parse "KIND PARAMS... --options" (argv[0] = KIND) into f. lab may be
 * NULL (not a lab session): node names are then an error. Validates
 * everything; touches nothing. */
int fl_fault_parse(struct fl_fault *f, int argc, char **argv, const struct fl_lab *lab,
		   struct fl_err *err);
/* Build the fault's rules (without slots). Returns the count or -errno. */
int fl_fault_rules(const struct fl_fault *f, const struct fl_lab *lab, struct fl_rule *rules,
		   int max, struct fl_err *err);
/* "loss 10% --from n1 --to n2 --seed 7" or a JSON object (without
 * counters). */
void fl_fault_print(const struct fl_fault *f, struct fl_out *o);

/* Evaluation order: more specific first (see docs/faults.md), then older
 * faults first, then the rule's index in its fault. order[i] is the
 * creation sequence of rules[i]'s fault; both arrays are sorted together. */
int fl_rules_sort(struct fl_rule *rules, uint64_t *order, int n);
int fl_rule_specificity(const struct fl_rule *r);

/* The rule built from the match options alone (kind COUNT, no action). */
void fl_fault_base_rule(const struct fl_fault *f, struct fl_rule *r);
const char *fl_proto_name(uint8_t proto);

/* Probability to the rule encoding: round(p * 2^32), FL_PROB_ONE for 1. */
uint64_t fl_prob_encode(double p);

/* Shared helpers for kinds. */
int fl_parse_prob_word(const char *what, const char *text, double *p, struct fl_err *err);

#endif
