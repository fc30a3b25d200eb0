/* SPDX-License-Identifier: MIT */
/* The supervisor's face toward the modules it runs (fault kinds, the delay
 * line): its loop's deadlines, exit hooks, and what they need to know about
 * the session. Internal to the injector. */
#ifndef FALLACY_SUP_H
#define FALLACY_SUP_H

#include <stdint.h>

struct fl_sup;
struct fl_state;
struct fl_lab;

typedef void (*fl_sup_cb)(struct fl_sup *s, void *key);

/* Call cb(s, key) once at CLOCK_MONOTONIC due_ns; one deadline per key,
 * setting it again moves it, due_ns 0 cancels. The loop sleeps with ppoll
 * (ns resolution) until the earliest deadline. */
int fl_sup_deadline(struct fl_sup *s, void *key, uint64_t due_ns, fl_sup_cb cb);
/* Called when the supervisor stops (after the last fault or on SIGTERM),
 * newest first, before the data plane is detached. */
int fl_sup_at_exit(struct fl_sup *s, void (*fn)(struct fl_sup *s, void *arg), void *arg);

/* What modules need to know about the session. */
struct fl_state *fl_sup_state(struct fl_sup *s);
const struct fl_lab *fl_sup_lab(const struct fl_sup *s); /* NULL unless a lab */
/* The namespace the faults live in (a lab's wire namespace) and its name as
 * written in the journal ("fl-demo", "x", "pid:42"). */
int fl_sup_nsfd(const struct fl_sup *s);
const char *fl_sup_ns_spec(const struct fl_sup *s);
/* The session's name ("demo", "@netns-x", "@pid-42"): session.h. */
const char *fl_sup_session(const struct fl_sup *s);
/* The data plane's ingress-cap redirect of a link (fl_dp_ifb_set). */
int fl_sup_ifb(struct fl_sup *s, int ifindex, int ifb);

#endif
