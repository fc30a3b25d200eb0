/* SPDX-License-Identifier: MIT */
/* Internal to injector/admin/: one struct fl_admin_ops per kind of change
 * (firewall.c, hosts.c, sysctl.c) and what they are handed. */
#ifndef FALLACY_ADMIN_INT_H
#define FALLACY_ADMIN_INT_H

#include "admin.h"
#include "lab/lab.h"

struct fl_state;

/* Where a change is made or undone. */
struct fl_admin_ctx {
	const struct fl_lab *lab;
	const struct fl_node *node;
	struct fl_state *st; /* the lab's journal (locked) */
	const char *dir; /* RUN_DIR/LAB/admin */
	struct fl_admin *a;
	unsigned long seq; /* the change's place in the lab's order */
	/* the lab's other changes, oldest first (hosts rebuilds from them) */
	const struct fl_admin *others;
	size_t n_others;
	/* the journal records this change made, in order (its file's rec lines) */
	char **recs;
	size_t n_recs;
};

struct fl_admin_ops {
	const char *name; /* "firewall" */
	const char *usage; /* after NODE: "firewall drop|reject [--proto P] ..." */
	/* The words after the kind (argv[0] is the first; options included;
	 * --id already taken out). */
	int (*parse)(struct fl_admin *a, int argc, char **argv, struct fl_err *err);
	/* Against the lab (node names, address families). NULL: nothing. */
	int (*check)(const struct fl_admin *a, const struct fl_lab *lab, struct fl_err *err);
	/* Refuse a change that an active one on the same node excludes. */
	int (*conflict)(const struct fl_admin *a, const struct fl_admin *old, struct fl_err *err);
	/* After "NODE KIND": text words or JSON members. */
	void (*print)(const struct fl_admin *a, struct fl_out *o);
	/* Journal (fl_admin_record) then make each object. On error, the
	 * caller undoes what was recorded. */
	int (*apply)(struct fl_admin_ctx *c, struct fl_err *err);
	/* Undo. NULL: undo the recorded objects, newest first. */
	int (*heal)(struct fl_admin_ctx *c, struct fl_err *err);
};

extern const struct fl_admin_ops fl_admin_firewall, fl_admin_hosts, fl_admin_sysctl;

/* Journal one record "KIND ARGS" in the lab's session and in the change's
 * file, before its object is made. */
int fl_admin_record(struct fl_admin_ctx *c, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Undo the change's records, newest first, withdrawing each from the
 * journal. */
int fl_admin_undo_records(struct fl_admin_ctx *c);

/* firewall: the rules of change a in lab, in the order they are inserted
 * (each at the top of INPUT: the last one ends up first). */
#define FL_FW_MAX_RULES 8
struct fl_fw_rule {
	int family; /* 4 or 6 */
	char text[320]; /* what follows "-I INPUT" */
};
int fl_admin_fw_rules(const struct fl_admin *a, const struct fl_lab *lab, struct fl_fw_rule *out);

/* hosts: the saved file base with the hosts changes of node among list
 * applied in order, node names as ADDR resolved in lab (NULL: out of
 * memory). */
char *fl_admin_hosts_text(const char *base, const struct fl_admin *list, size_t n, const char *node,
			  const struct fl_lab *lab);

/* Split "--opt value" options out of argv (opts NULL-terminated, each
 * taking a value): vals[i] gets the value of opts[i] (or stays NULL);
 * words[] the rest in order. -EINVAL for an unknown --option. */
int fl_admin_split(const char *kind, int argc, char **argv, const char *const *opts,
		   const char **vals, char **words, int *n_words, struct fl_err *err);

#endif
