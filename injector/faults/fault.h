/* SPDX-License-Identifier: MIT */
/* Fault kinds and faults: the one definition of every kind.
 *
 * A kind is one `struct fault_ops` in one small file of injector/faults/
 * plus one line in faults/table.c, in the style of iproute2's qdisc_util.
 * Its parameters are described by a table of `struct fl_param` (name,
 * type, where the value lives in the kind's own typed struct, default,
 * allowed values, range, the `fallacy wrap` flag it has, help), and from
 * that table alone come:
 *   - the CLI parser (`fault add KIND PARAMS...`, words like tc-netem's),
 *   - the printer (text "loss 5%" and JSON {"loss": 0.05}),
 *   - `fault add --help`, docs/cli.md and docs/faults.md's parameter lists,
 *   - the YAML keys scenario files accept (fl_fault_yaml_words),
 *   - `fallacy wrap`'s flags (--loss, --delay, ...),
 *   - `fallacy doctor`'s backend per kind (the ops' backend hook).
 *
 * A fault = kind + its typed parameters + match options + seed + id. It
 * becomes one or more rules (include/fallacy/rule.h) in the session's rule
 * table: most kinds one, a partition of node groups one per distinct set of
 * unreachable destinations.
 *
 *   fault add TARGET KIND [PARAMS...] [--from X] [--to Y] [--bidir]
 *                   [--proto tcp|udp|icmp|icmpv6] [--port N[-M]]
 *                   [--sport N[-M]] [--dport N[-M]] [--dir in|out|both]
 *                   [--seed S] [--id NAME] [--duration D]
 */
#ifndef FALLACY_FAULT_H
#define FALLACY_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fallacy/rule.h"
#include "json.h"
#include "log.h"
#include "parse.h"

#define FL_FAULT_ID_MAX 32
#define FL_FAULT_MAX_RULES 64 /* rules one fault may expand into */
#define FL_GROUPS_MAX 16
#define FL_SEED_MAX ((1ULL << 53) - 1) /* exact in every JSON reader */
#define FL_GROUP_LEN 256
#define FL_PCTS_MAX 4
#define FL_KIND_PARAMS_MAX 4608 /* bytes of a kind's typed parameters */
#define FL_TEXT_MAX 256

struct fl_lab;
struct fl_sup;
struct fl_probe_report;

/* ---- parameters --------------------------------------------------------- */

/* How a parameter is written and stored in the kind's struct. */
enum fl_ptype {
	FL_PT_PERCENT, /* double fraction; "5%"; a bare number is a percentage (tc) */
	FL_PT_DURATION, /* uint64_t ns; "50ms" */
	FL_PT_RATE, /* uint64_t bit/s; "10mbit" (tc units) */
	FL_PT_SIZE, /* uint64_t bytes; "32kb" (tc units) */
	FL_PT_COUNT, /* uint32_t in [min, max] */
	FL_PT_WORD, /* int: index into words[] */
	FL_PT_FLAG, /* bool: the bare word sets it */
	FL_PT_PERCENTS, /* struct fl_pcts: 1..max percentages after the word */
	FL_PT_GROUPS, /* struct fl_groups: the remaining words, each a comma list */
	FL_PT_BYTES, /* struct fl_bytes: hex ("0a0b") or "text" (quoted in YAML) */
	FL_PT__COUNT,
};

struct fl_pcts {
	int n;
	double v[FL_PCTS_MAX];
};

struct fl_groups {
	int n;
	char g[FL_GROUPS_MAX][FL_GROUP_LEN];
};

struct fl_bytes {
	uint32_t len;
	uint8_t b[FL_TEXT_MAX];
};

/* Bytes as a user writes them: hex digits ("0a0b", "0x0a0b") or quoted
 * text ('"abc"'), 1..FL_TEXT_MAX bytes; what names them in errors. */
int fl_bytes_parse(const char *what, const char *text, struct fl_bytes *b, struct fl_err *err);
/* The canonical word: "text" in double quotes when every byte is a
 * printable character other than a space or a quote, else hex digits; a
 * single word, so it survives being split at spaces and parses back. */
void fl_bytes_format(const struct fl_bytes *b, char *buf, size_t len);

enum fl_param_flags {
	/* Written without its name right after the kind ("loss 5%"); several
	 * positional parameters follow in table order (netem's "delay D J C"). */
	FL_PF_POSITIONAL = 1,
	/* Must be given (a positional one without a default). */
	FL_PF_REQUIRED = 2,
	/* May also be written without its name right after the value of the
	 * parameter before it in the table (netem's "reorder 25% 50%"). */
	FL_PF_AFTER_PREV = 4,
	/* Not in --help or docs (an alias kept for compatibility). */
	FL_PF_HIDDEN = 8,
	/* A key of a lab file's link profile (nodes[].link, pairs[]): the
	 * lab's normal state of that link ("delay: 20ms"). The name must be
	 * unique among the link keys of all kinds. */
	FL_PF_LINK = 16,
};

struct fl_param {
	const char *name; /* CLI word, YAML key, JSON key (with the unit suffix) */
	enum fl_ptype type;
	size_t off; /* offsetof(kind struct, field) */
	unsigned int flags; /* enum fl_param_flags */
	const char *def; /* default as a user writes it ("10ms"); NULL: zero */
	const char *const *words; /* FL_PT_WORD: allowed values, NULL-terminated */
	uint64_t min, max; /* range (0, 0: any): COUNT, DURATION, RATE, SIZE;
			    * PERCENTS: number of values; BYTES: length */
	const char *wrap; /* `fallacy wrap` flag ("--loss"), or NULL */
	const char *help; /* one line */
};

/* The end of a parameter table. */
#define FL_PARAM_END         \
	{                    \
		.name = NULL \
	}

/* ---- the kernel feature that serves a kind ------------------------------- */

enum fl_backend {
	FL_BACKEND_NONE = 0,
	FL_BACKEND_TC_BPF, /* the tc data plane decides per packet */
	FL_BACKEND_DELAY_LINE, /* the NFQUEUE delay line holds packets */
	FL_BACKEND_NETEM, /* sch_netem (delay backend netem) */
	FL_BACKEND_SHAPER, /* htb classes (tbf/htb), ifb for attach-mode ingress */
};

const char *fl_backend_name(enum fl_backend b);
/* The backend of the kinds the tc data plane decides alone. */
enum fl_backend fl_backend_tc_bpf(const struct fl_probe_report *rep);

/* ---- faults ------------------------------------------------------------- */

/* Where a --from/--to side points: any, a prefix, or a set of lab nodes. */
struct fl_side {
	char text[256]; /* as given; "" = any */
	struct fl_endpoint ep; /* resolved */
	int family; /* FL_FAM_* implied by a prefix, else 0 */
};

struct fl_fault {
	char id[FL_FAULT_ID_MAX + 1];
	const struct fault_ops *ops;
	/* The kind's typed parameters (its own struct, see FL_KIND_PARAMS). */
	union {
		unsigned char bytes[FL_KIND_PARAMS_MAX];
		uint64_t align;
	} kp;
	uint32_t given; /* bit i: params[i] was written (not its default) */
	uint64_t seed;
	bool seed_given;
	uint64_t order; /* creation sequence in the session */
	uint64_t duration_ns; /* --duration: healed by the supervisor after it; 0 = never */
	uint64_t expires_mono_ns; /* set by the supervisor from duration_ns */
	struct fl_side from, to;
	char node[FL_GROUP_LEN]; /* --node / LAB/NODE target: traffic from or to these nodes */
	/* --profile NAME: part of a lab's link profile (a lab file's node or
	 * pair), the lab's normal state: `fault clear` keeps it */
	char profile[FL_FAULT_ID_MAX + 1];
	uint8_t proto; /* FL_PROTO_ANY or IPPROTO_* */
	uint8_t port_mode;
	struct fl_port_range ports;
	uint8_t dir; /* enum fl_dir */
	bool bidir;
	int n_rules;
	uint32_t slots[FL_FAULT_MAX_RULES];
	void *priv; /* owned by the kind's apply/heal hooks */
};

/* Was the kind's parameter NAME written by the user? */
bool fl_param_given(const struct fl_fault *f, const char *name);

/* The kind's parameter struct of fault f: FL_KIND_PARAMS(struct loss, f). */
#define FL_KIND_PARAMS(type, f)          \
	((type *)(void *)(f)->kp.bytes + \
	 0 * sizeof(char[sizeof(type) <= FL_KIND_PARAMS_MAX ? 1 : -1]))

/* What the supervisor hands a kind's apply/heal hooks: its rules (with
 * slots; apply may fill their classid), and the session's accessors
 * (supervisor/session.h). */
struct fl_kind_ctx {
	struct fl_sup *sup;
	struct fl_rule *rules;
	int n_rules;
};

/* What a wrap namespace must allow for a kind on its loopback. */
enum fl_wrap_needs {
	/* lo's MTU lowered (FL_WRAP_RATE_MTU): a 64 KiB loopback packet is too
	 * coarse for a token bucket */
	FL_WRAP_NEEDS_SMALL_MTU = 1,
	/* copies of 127.0.0.1 packets accepted (route_localnet, accept_local) */
	FL_WRAP_NEEDS_LOOPBACK_COPIES = 2,
};

struct fault_ops {
	const char *name;
	const char *help; /* one line */
	const char *example; /* a complete example of the kind's words */
	const struct fl_param *params; /* FL_PARAM_END-terminated */
	size_t params_size; /* sizeof the kind's struct */
	bool tcp_only; /* --proto must be tcp (or absent: then tcp) */
	/* On a loopback fault point (wrap): the hook where the kind acts;
	 * 0 means FL_DIR_INGRESS, the receive path (never queue or drop in
	 * the sender's hooks, KERNEL-NOTES). Shapers act where packets leave. */
	uint8_t loopback_dir;
	unsigned int wrap_needs; /* enum fl_wrap_needs */
	/* Does a fault of this kind decide per wire packet (a probabilistic
	 * drop, copy, bit flip or per-packet delay that one 64 KB GSO
	 * super-packet would distort)? Then the supervisor turns TSO/GSO/GRO
	 * off on the lab nodes whose traffic the fault can match, while it
	 * lives. NULL: the kind works on super-packets (partition, rate, a
	 * fixed delay); fl_per_packet_always for kinds that always do. */
	bool (*per_packet)(const struct fl_fault *f);
	/* Which kernel feature serves the kind on this machine. */
	enum fl_backend (*backend)(const struct fl_probe_report *rep);
	/* Optional: cross-parameter rules after the table's parser ("loss
	 * needs P or gemodel"). Called after the kind's words, and again once
	 * the match options are parsed (f->dir, f->proto, ... set); it must
	 * give the same answer when called twice. */
	int (*validate)(struct fl_fault *f, struct fl_err *err);
	/* Fill the action part of a rule (kind, prob, ...). */
	void (*encode)(const struct fl_fault *f, struct fl_rule *r);
	/* Optional: expand into several rules (partition groups); returns the
	 * count or -errno. NULL: one rule from the match options. */
	int (*expand)(const struct fl_fault *f, const struct fl_lab *lab, struct fl_rule *rules,
		      int max, struct fl_err *err);
	/* Optional: refuse what this kernel cannot do (a backend it lacks)
	 * before anything in the kernel changes; may record the choice. */
	int (*check)(struct fl_fault *f, struct fl_err *err);
	/* Optional: may `fault change` go from old to new (same kind)? */
	int (*can_change)(const struct fl_fault *old, const struct fl_fault *new,
			  struct fl_err *err);
	/* Optional userspace side (delay line, shaper): called by the
	 * supervisor after validation, before the rule table update; called
	 * again on the same slots by `fault change` (it must replace). */
	int (*apply)(struct fl_kind_ctx *c, struct fl_fault *f, struct fl_err *err);
	void (*heal)(struct fl_kind_ctx *c, struct fl_fault *f);
	/* Optional: the lab's nodes changed (one joined or left); redo what
	 * the kind keeps per wire-side port (htb classes), so the new port is
	 * served too. The rules and slots stay. */
	int (*nodes_changed)(struct fl_kind_ctx *c, struct fl_fault *f, struct fl_err *err);
};

/* A fault_ops.per_packet for kinds that always decide per wire packet. */
bool fl_per_packet_always(const struct fl_fault *f);
/* Does fault f need wire-sized packets (its kind's per_packet hook)? */
bool fl_fault_per_packet(const struct fl_fault *f);
/* The lab nodes (bit i = lab->nodes[i]) whose sent packets fault f can
 * match: its --from nodes (and --to nodes with --bidir), every node when a
 * side is any or a prefix, or for a LAB/NODE target. Clears out first. */
void fl_fault_sender_nodes(const struct fl_fault *f, const struct fl_lab *lab,
			   uint64_t out[FL_NODE_WORDS]);

extern const struct fault_ops *const fl_fault_kinds[]; /* NULL-terminated */
const struct fault_ops *fl_fault_kind(const char *name);
/* "unknown fault 'lose' (did you mean 'loss'?)"; returns -EINVAL. */
int fl_fault_unknown_kind(const char *name, struct fl_err *err);
/* The parameter of a kind by name, NULL if it has none. */
const struct fl_param *fl_kind_param(const struct fault_ops *ops, const char *name);
/* The parameter a lab link profile's KEY sets (FL_PF_LINK) and its kind
 * (*ops, when not NULL); NULL when no kind has that link key. */
const struct fl_param *fl_link_param(const char *key, const struct fault_ops **ops);
/* The link keys of all kinds in table order into keys[0..max-2], then
 * NULL; returns how many. */
size_t fl_link_keys(const char **keys, size_t max);

/* Parse "KIND PARAMS... --options" (argv[0] = KIND) into f. lab may be
 * NULL (not a lab session): node names are then an error. Validates
 * everything; touches nothing. On error, *bad (when not NULL) is the index
 * of the offending word in argv, or -1. */
int fl_fault_parse(struct fl_fault *f, int argc, char **argv, const struct fl_lab *lab,
		   struct fl_err *err);
int fl_fault_parse_at(struct fl_fault *f, int argc, char **argv, const struct fl_lab *lab, int *bad,
		      struct fl_err *err);
/* Parse only the kind's words (argv[0] = KIND, no options) into a fault
 * that already has its match options: `fault change`. */
int fl_fault_parse_params(struct fl_fault *f, int argc, char **argv, struct fl_err *err);
/* Check a fault's words without a lab, a supervisor or the kernel
 * (`fallacy --check fault add`): parsed and built into rules like
 * `fault add` does. With lab_name (a LAB or LAB/NODE target), node names
 * are accepted unchecked: they resolve against a stand-in lab of that name
 * with exactly the nodes the words give (--from, --to, --node, partition
 * groups), which spans all of 198.18.0.0/15 since the real lab's subnet is
 * not known. With NULL, node names are an error, as for a --netns/--pid
 * target. */
int fl_fault_check(int argc, char **argv, const char *lab_name, struct fl_err *err);
/* The same for the KIND PARAMS... of `fault change` (no fault to change). */
int fl_fault_check_params(int argc, char **argv, struct fl_err *err);
/* A fault of ops with every parameter at its default (then set some with
 * fl_param_set and check with fl_fault_validate): `fallacy wrap`. */
void fl_fault_init(struct fl_fault *f, const struct fault_ops *ops);
int fl_param_set(struct fl_fault *f, const struct fl_param *p, const char *text,
		 struct fl_err *err);
int fl_fault_validate(struct fl_fault *f, struct fl_err *err);

/* Build the fault's rules (without slots). Returns the count or -errno. */
int fl_fault_rules(const struct fl_fault *f, const struct fl_lab *lab, struct fl_rule *rules,
		   int max, struct fl_err *err);
/* "loss 10% --from n1 --to n2 --seed 7", or JSON members (without
 * counters). The text form parses back to the same fault. */
void fl_fault_print(const struct fl_fault *f, struct fl_out *o);
/* The kind and its parameters only ("delay 50ms jitter 5ms"). */
void fl_fault_print_params(const struct fl_fault *f, struct fl_out *o);
/* The same as a string (text form); buf is always terminated. */
void fl_fault_format(const struct fl_fault *f, char *buf, size_t len);

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

/* ---- the options every kind shares -------------------------------------- */

struct fl_fault_option {
	const char *name; /* "--from" */
	const char *yaml; /* the scenario key ("from"), NULL if none */
	bool takes_value;
	bool node_list; /* YAML may give a list of nodes ([n1, n2] -> "n1,n2") */
	const char *help;
};

extern const struct fl_fault_option fl_fault_options[]; /* name NULL ends it */
const struct fl_fault_option *fl_fault_option(const char *name);

/* ---- descriptions for help, docs, scenario files and wrap --------------- */

/* "delay D [jitter J] [correlation C] ..." from the table. */
void fl_kind_usage(const struct fault_ops *ops, char *buf, size_t len);
/* One line per parameter: "  jitter J   duration, default 0: ...". */
void fl_kind_describe(const struct fault_ops *ops, FILE *f);
/* The words a human types for a value of type t ("P", "D", "R"). */
const char *fl_ptype_metavar(enum fl_ptype t);
const char *fl_ptype_name(enum fl_ptype t);
/* Check one value of type t as written (a YAML scalar, a wrap flag). */
int fl_param_check(const struct fl_param *p, const char *text, struct fl_err *err);

#endif
