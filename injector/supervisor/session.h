/* SPDX-License-Identifier: MIT */
/* Sessions and their supervisor.
 *
 * A session is what faults are applied to: a lab (session name = lab name),
 * a named namespace (`@netns-NAME`) or the namespace of a process
 * (`@pid-PID`). A session with faults (and every lab, from lab up) has one
 * supervisor process, `fallacy __supervise SESSION`, daemonized, journaled as
 * `pid PID STARTTIME` by whoever starts it before it runs, that holds the
 * BPF data plane (and the delay line, ...), and answers on
 * RUN_DIR/SESSION/ctl.sock.
 *
 * Client API (the CLI, the harness and wrap use it; nothing else talks to
 * the socket):
 *
 *	struct fl_target t;
 *	char *out = NULL, *msg = NULL;
 *	char *req[] = { "add", "loss", "10%", "--from", "n1", NULL };
 *
 *	fl_target_parse(argc, argv, &t, &used, &err);   // "demo", "demo/n1",
 *							  // "--netns X", "--pid 42"
 *	status = fl_fault_request(&t, 5, req, false, &out, &msg);
 *	// status: 0 ok, 2 bad input or kernel error (nothing changed);
 *	// out: what `fallacy fault` prints on stdout (the id for "add"),
 *	// msg: what it prints on stderr. Both malloc'ed, may be NULL.
 *
 * Requests (argv[0]): add KIND [PARAMS] [OPTIONS]   (see fault.h)
 *                     link, flap, join, leave, readdress, mtu, route
 *                                                    (topology changes of
 *                                                    a lab: lab.h, below)
 *                     change ID KIND [PARAMS]        (same kind, same slots,
 *                                                     counters kept)
 *                     del ID | clear | list [ID...] | stats | ping | keep
 *                     extend D ID...                 (each fault's --duration
 *                                                     ends D from now: an
 *                                                     agent's renew)
 * "add" starts the supervisor when the session has none; "clear" (and "del"
 * of the last fault) of a namespace or pid session removes everything the
 * session put into the kernel and ends the supervisor, leaving the namespace
 * exactly as it was. A lab's supervisor lives until the lab goes down.
 *
 * Supervisor side: supervisor/sup.h (internal).
 */
#ifndef FALLACY_SESSION_H
#define FALLACY_SESSION_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fallacy/rule.h"
#include "faults/fault.h"
#include "log.h"

#define FL_SESSION_NAME_MAX 64

enum fl_target_kind {
	FL_TARGET_LAB,
	FL_TARGET_NETNS,
	FL_TARGET_PID,
};

struct fl_target {
	enum fl_target_kind kind;
	char lab[32]; /* FL_TARGET_LAB */
	char node[16]; /* LAB/NODE, else "" */
	char netns[64]; /* FL_TARGET_NETNS */
	pid_t pid; /* FL_TARGET_PID */
	char session[FL_SESSION_NAME_MAX]; /* LAB, @netns-NAME, @pid-PID */
};

/* Parse a TARGET at argv[0]: "LAB", "LAB/NODE", "--netns NAME", "--pid PID".
 * *used = words consumed. Checks the form only (not that it exists). */
int fl_target_parse(int argc, char **argv, struct fl_target *t, int *used, struct fl_err *err);
/* The target a session name stands for ("demo", "@netns-x", "@pid-42"). */
int fl_target_from_session(const char *session, struct fl_target *t, struct fl_err *err);

/* Leases (docs/security.md): every rule of the data plane expires lease
 * after the supervisor last renewed it (every lease/3), so the faults of a
 * killed supervisor stop by themselves. 0 = none: rules stay until removed
 * (a lab that should keep its faults across a supervisor restart). */
#define FL_LEASE_DEFAULT_NS (10ull * 1000000000ull)
#define FL_LEASE_MIN_NS (1ull * 1000000000ull)
#define FL_LEASE_MAX_NS (24ull * 3600ull * 1000000000ull)
/* "none" -> 0, or a duration from 1s to 24h. 0 or -EINVAL with err. */
int fl_lease_parse(const char *text, uint64_t *ns, struct fl_err *err);
/* "10s", "none". */
void fl_lease_format(uint64_t ns, char *buf, size_t len);
/* The lease of supervisors this process starts from now on (default
 * FL_LEASE_DEFAULT_NS): lab up --lease, fault add --lease. */
void fl_session_set_lease(uint64_t ns);
/* The lease a session's supervisor was started with (its session folder's
 * "lease" file; the default when it has none). */
int fl_session_lease(const char *session, uint64_t *ns);

/* The delay line's queues and threads (1 to FL_DELAY_QUEUES_MAX; 0: the
 * default, one, or FALLACY_DELAY_QUEUES) for supervisors this process
 * starts from now on: lab up --delay-queues. Kept, like the lease, in the
 * session folder ("delay-queues"), so a lab's next supervisor has it too. */
#define FL_DELAY_QUEUES_MAX 16
void fl_session_set_delay_queues(int n);
/* A session's setting: 1..FL_DELAY_QUEUES_MAX, or 0 when it has none. */
int fl_session_delay_queues(const char *session);
/* Whether the delay line of the supervisors this process starts may ask
 * for CPU wake-up latency 0 (lab up --delay-pmqos on|off; default on).
 * Kept in the session folder ("delay-pmqos") like delay-queues. */
void fl_session_set_delay_pmqos(bool on);
/* The session's setting: false only when its delay-pmqos file says off. */
bool fl_session_delay_pmqos(const char *session);

/* Start the session's supervisor unless one answers. Validates that the lab,
 * namespace or process exists. */
int fl_session_ensure(const struct fl_target *t);
/* True if a supervisor answers on the session's socket. */
bool fl_session_alive(const struct fl_target *t);

/* One request to the session's supervisor; see above. */
int fl_fault_request(const struct fl_target *t, int argc, char **argv, bool json, char **out,
		     char **msg);

/* Check a request's words as fl_fault_request would, without a lab, a
 * supervisor or the kernel (`fallacy --check fault ...`): the target need
 * not exist, and node names of a lab target are accepted unchecked
 * (fl_fault_check). 0 or -EINVAL with err filled. */
int fl_fault_request_check(const struct fl_target *t, int argc, char **argv, struct fl_err *err);

/* Add a typed fault (kind parameters, match options, seed and id as set in
 * f) to the session: `fault add` with f's words. Returns 0, or 2 with the
 * supervisor's message in *msg (malloc'ed, may be NULL). */
struct fl_fault;
int fl_fault_add(const struct fl_target *t, const struct fl_fault *f, char **msg);
/* The same, with the supervisor's answer in *out (malloc'ed, may be NULL):
 * what `fault add -j` prints, {"id", "seed", "session", "rules"}. */
int fl_fault_add_json(const struct fl_target *t, const struct fl_fault *f, char **out, char **msg);

/* Start the session's supervisor unless one answers, and keep it up
 * without faults until a "clear" (which still ends a namespace session):
 * a control socket adds and deletes faults one by one and must not pay a
 * supervisor start for each. 0 or -errno after a message. */
int fl_session_keep(const struct fl_target *t);

/* A live topology change of a lab (lab.h struct fl_topo: link down/up,
 * flap, join, leave, readdress, mtu, route) through its supervisor, which
 * is started when the lab has none. The change is checked against the lab
 * here first, so bad input starts nothing and changes nothing. Returns 0,
 * or 2 with the reason in *msg; *out is what the command prints (the
 * node's line or JSON for join and readdress, with json every change). */
struct fl_topo;
int fl_topo_request(const struct fl_target *t, const struct fl_topo *topo, bool json, char **out,
		    char **msg);
/* A refused request's *msg (from fl_fault_request or fl_fault_add) into err,
 * without its trailing newlines; frees *msg. Returns -EINVAL if status is
 * not 0, else 0 (err untouched). */
int fl_session_refusal(int status, char **msg, struct fl_err *err);

/* Who may talk to a socket made for uid owner (a session's, a control
 * socket's): root, or owner itself. The one rule both sockets check
 * with SO_PEERCRED. */
bool fl_peer_allowed(uid_t peer, uid_t owner);

/* Run the supervisor of SESSION (the body of `fallacy __supervise`).
 * ready_fd (or -1): written "ok\n" once the socket listens, or an error
 * line, then closed. Returns the exit status. */
int fl_supervise(const char *session, int ready_fd);

/* The counters of one fault, for summaries (wrap, run). */
struct fl_fault_stat {
	char id[FL_FAULT_ID_MAX + 1];
	char kind[16];
	struct fl_counters c; /* include/fallacy/rule.h */
	uint64_t held, overflow, reordered; /* the delay line's, for delay kinds */
	uint64_t bypassed; /* the lab's delay line as a whole (fl_sup_delay_bypassed) */
};

/* The counters of every fault of the session (*n may be 0); malloc'ed. */
int fl_fault_stats(const struct fl_target *t, struct fl_fault_stat **out, int *n);

#endif
