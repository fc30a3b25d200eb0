/* SPDX-License-Identifier: MIT */
/* The supervisor's state, shared by supervisor.c (loop, socket, attach) and
 * faults.c (the fault table and the requests). */
#ifndef FALLACY_SUPERVISOR_INT_H
#define FALLACY_SUPERVISOR_INT_H

#include <signal.h>
#include <stdio.h>

#include "faults/fault.h"
#include "session.h"
#include "sup.h"

#define FL_SUP_MAX_FAULTS FL_MAX_RULES
#define FL_SUP_MAX_EXIT 16

struct sup_deadline {
	void *key;
	uint64_t due;
	fl_sup_cb cb;
};

struct sup_exit {
	void (*fn)(struct fl_sup *s, void *arg);
	void *arg;
};

struct sup_fault {
	struct fl_fault f;
	struct fl_rule *rules; /* with slots */
	int n_rules;
};

struct sup_flap;

struct fl_sup {
	struct fl_target t;
	struct fl_state *st;
	struct fl_lab *lab;
	struct fl_dp *dp;
	int nsfd;
	char ns_spec[80];
	bool attached;
	/* a lab's nodes (by fl_node.index) whose TSO/GSO/GRO/TX checksum are
	 * off for a per-packet fault, and what was on before */
	bool wire_off[FL_MAX_NODES];
	unsigned char offloads_saved[FL_MAX_NODES];
	bool acct; /* transport accounting on (a lab, unless FALLACY_ACCOUNTING=off) */
	uint64_t acct_since_ns; /* CLOCK_MONOTONIC: accounting started */
	uint64_t lease_ns; /* every rule's lease; 0 = none (session.h) */
	uint64_t renewals; /* lease renewals done */
	int lfd;
	bool stop;
	/* "keep": a namespace session stays up without faults until "clear"
	 * (a control socket adds and deletes faults one at a time) */
	bool keep;

	struct sup_deadline *dl;
	int n_dl, cap_dl;
	struct sup_exit at_exit[FL_SUP_MAX_EXIT];
	int n_exit;

	struct sup_flap *flaps; /* links flapping now (topo.c), a list */

	struct sup_fault *faults[FL_SUP_MAX_FAULTS];
	int n_faults;
	uint64_t next_order;
	unsigned int next_id;
	unsigned char slot_used[FL_MAX_SLOTS];
};

/* Handle one request; writes the answer's stdout/stderr text to out/msg and
 * returns the status (0, 2; | FL_ST_ENDED when the session ends):
 * faults (faults.c), topology changes (topo.c). */
int sup_fault_request(struct fl_sup *s, int argc, char **argv, bool json, FILE *out, FILE *msg);
int sup_topo_request(struct fl_sup *s, int argc, char **argv, bool json, FILE *out, FILE *msg);
/* Is argv[0] a topology request? */
bool sup_topo_verb(const char *verb);
/* Stop every flapping link (the supervisor ends). */
void sup_topo_stop(struct fl_sup *s);
/* Faults that keep per-port state redo it (a node joined or left). */
void sup_faults_nodes_changed(struct fl_sup *s);
/* One line of RUN_DIR/SESSION/events.jsonl (compact JSON, the schema of
 * every events.jsonl): begin writes {"mono_ns", "wall_ns", "event", "id"
 * (o set up to add members), end closes it. NULL when the file cannot be
 * opened. */
FILE *sup_event_begin(struct fl_sup *s, const char *what, const char *id, struct fl_out *o);
void sup_event_end(FILE *fp, struct fl_out *o);
/* Attach the data plane to the session's fault points (once). */
int sup_attach(struct fl_sup *s);
/* Remove every fault (heal hooks run). */
void sup_faults_clear(struct fl_sup *s);
/* Offloads follow the faults: off on the lab nodes whose sent packets a
 * per-packet fault (fault_ops.per_packet) can match, back as they were
 * where none can any more. With only_off, nothing is turned on (before a
 * rule table flip; the turning on comes after it). */
void sup_offloads_sync(struct fl_sup *s, bool only_off);
/* After setup: keep only the capabilities requests still need (caps.c). */
int sup_drop_caps(struct fl_sup *s);
/* Transport accounting (acct.c): switch it on at start (a lab, unless
 * FALLACY_ACCOUNTING=off), arm the session watchdog, answer "acct". */
int sup_acct_start(struct fl_sup *s);
int sup_acct(struct fl_sup *s, FILE *out, FILE *msg);

#endif
