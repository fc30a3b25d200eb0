/* SPDX-License-Identifier: MIT */
/* Lab files: a lab described in YAML, for `fallacy lab up NAME --file F`
 * and the `lab:` section of a scenario. Nodes with their address family
 * and link profile, and profiles of node pairs:
 *
 *   ipv6: true                 # nodes are dual-stack unless they say
 *   nodes:
 *     - {name: n1}
 *     - {name: edge, family: ipv6, link: {rate: 1mbit, delay: 100ms,
 *                                         jitter: 10ms, loss: 1%, mtu: 1280}}
 *   pairs:
 *     - {between: [n1, n2], delay: 30ms}
 *
 * The keys of a link besides mtu (and a pair's between) are the fault
 * kinds' parameters marked FL_PF_LINK ("lab link" in `fault --help`).
 * A profile is ordinary faults underneath, each marked `--profile NAME`
 * (NAME: the node, or A_B for a pair; the fault ids NAME-KIND: NAME-delay,
 * NAME-loss, NAME-rate), plus the node's link MTU: the lab's normal state, kept by
 * `fault clear` and by a scenario's `heal: all`. Each direction of a link
 * gets the delay, jitter, loss and rate (an RTT across a 100 ms link grows
 * by 200 ms). */
#ifndef FALLACY_HARNESS_LABFILE_H
#define FALLACY_HARNESS_LABFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lab/lab.h"
#include "log.h"
#include "yaml.h"

struct fault_ops;
struct fl_param;

#define FL_LPROFILE_VALUES 16

/* One value of a profile: a fault kind's parameter marked FL_PF_LINK
 * (its name is the key), as written. */
struct fl_lvalue {
	const struct fault_ops *ops;
	const struct fl_param *p;
	char text[32];
};

/* A node's link, or a pair's. */
struct fl_lprofile {
	char node[FL_NODE_NAME_MAX + 1];
	char peer[FL_NODE_NAME_MAX + 1]; /* "" for a node's link */
	size_t n_values; /* in the kinds' table order */
	struct fl_lvalue values[FL_LPROFILE_VALUES];
	unsigned int mtu; /* a node's link only; 0 = not given */
	int line, col;
};

struct fl_labfile {
	bool ipv6;
	size_t n_nodes;
	char names[FL_LAB_MAX_NODES][FL_NODE_NAME_MAX + 1];
	unsigned int fam[FL_LAB_MAX_NODES]; /* FL_NODE_*; 0 = the lab's default */
	size_t n_profiles;
	struct fl_lprofile profiles[2 * FL_LAB_MAX_NODES];
};

/* The mapping at n (a lab file's root, or a scenario's lab:). Everything is
 * checked: names, families, values (by the fault kinds' own parsers),
 * nodes of pairs; errors are "FILE:LINE:COL: message". */
int fl_labfile_parse(const struct fl_ydoc *d, const struct fl_ynode *n, struct fl_labfile **out,
		     struct fl_err *err);
int fl_labfile_load(const char *file, struct fl_labfile **out, struct fl_err *err);

/* The lab_up spec of lab NAME (names and families point into lf). */
void fl_labfile_spec(const struct fl_labfile *lf, const char *name, struct fl_lab_spec *spec);

/* The words of `fault add` for profile p and the kind named kind (one of
 * fl_fault_kinds[]): the kind, then its link parameters p gives as NAME VALUE (a
 * required one p does not give is 0); false when p gives nothing for that
 * kind. */
bool fl_lprofile_words(const struct fl_lprofile *p, const char *kind, uint64_t seed, char *buf,
		       size_t len);

/* Every profile's faults parsed against the lab the file plans, the MTUs
 * checked (IPv6 needs 1280): nothing is created. */
int fl_labfile_validate(const struct fl_labfile *lf, const char *file, struct fl_err *err);

/* Apply the profiles to lab NAME, which is up: MTUs, then the faults
 * (through the lab's supervisor), seeds from seed (0: random). */
int fl_labfile_apply(const struct fl_labfile *lf, const char *lab, uint64_t seed,
		     struct fl_err *err);

/* As YAML that loads again, under key "lab:" at indent 0. */
void fl_labfile_print(const struct fl_labfile *lf, FILE *f);

#endif
