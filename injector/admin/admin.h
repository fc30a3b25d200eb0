/* SPDX-License-Identifier: MIT */
/* Foreign administration ("there is one administrator"): changes that
 * another administrator makes inside a lab node's own network namespace,
 * where the node's operator sees them with the node's own tools:
 *
 *   NODE firewall drop|reject [--proto tcp|udp|icmp] [--port N[-M]] [--from X]
 *        a rule at the top of the node's INPUT chain (iptables and, in an
 *        IPv6 lab, ip6tables; nft or legacy as the host's `iptables` is);
 *        reject answers like a real firewall: TCP RST for TCP,
 *        ICMP(v6) port unreachable for anything else
 *   NODE hosts NAME ADDR|OTHER
 *        the node's hosts view (/etc/netns/fl-LAB.NODE/hosts, bound over
 *        /etc/hosts for the node's processes) says NAME is at ADDR only
 *        (or at the addresses of the lab's node OTHER)
 *   NODE sysctl KEY VALUE
 *        one of a small allow-list of per-namespace sysctls
 *        (fl_admin_sysctl_key)
 *
 * Each change is made by the calling process, journalled in the lab's
 * session before it is made (so `fallacy cleanup` and `lab down` remove
 * it after anything), and described in RUN_DIR/LAB/admin/ID so that any
 * later process can list it or undo it (`fallacy admin LAB del ID`, a
 * scenario's heal). Changes outlive the process that made them: no
 * supervisor is involved. */
#ifndef FALLACY_ADMIN_H
#define FALLACY_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "log.h"

#define FL_ADMIN_ID_MAX 32
#define FL_ADMIN_HOSTNAME_MAX 253

struct fl_lab;

enum fl_admin_kind {
	FL_ADMIN_FIREWALL,
	FL_ADMIN_HOSTS,
	FL_ADMIN_SYSCTL,
	FL_ADMIN__COUNT,
};

struct fl_admin {
	char id[FL_ADMIN_ID_MAX + 1]; /* "" until applied: a1, a2, ... unless --id */
	char node[16];
	enum fl_admin_kind kind;
	/* firewall */
	bool reject; /* else drop */
	uint8_t proto; /* 0 = any, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP */
	uint16_t port_lo, port_hi; /* destination ports; 0 = any */
	char from[64]; /* a node of the lab or an address/prefix; "" = anyone */
	/* hosts */
	char name[FL_ADMIN_HOSTNAME_MAX + 1];
	char addr[64]; /* an address, or the name of another node */
	/* sysctl */
	char key[64];
	char value[64]; /* words separated by one space */
};

/* The kinds' names ("firewall", "hosts", "sysctl") and one-line forms. */
const char *fl_admin_kind_name(enum fl_admin_kind k);
const char *fl_admin_kind_usage(enum fl_admin_kind k);
/* The sysctls a foreign administrator may change: key i (NULL past the
 * last) and, in *form (when not NULL), how its value is written. */
const char *fl_admin_sysctl_key(size_t i, const char **form);

/* "NODE KIND WORDS... [--id ID]" into a. Checks the form only (no lab):
 * -EINVAL with err. */
int fl_admin_parse(struct fl_admin *a, int argc, char **argv, struct fl_err *err);
/* Against a lab: the node and --from exist, addresses fit the lab. */
int fl_admin_check(const struct fl_admin *a, const struct fl_lab *lab, struct fl_err *err);

/* Make the change in lab LAB (journalled first); a->id is filled in when it
 * was not given. Bad input (unknown lab or node, an id in use, a sysctl
 * another change holds, a value the kernel refuses) is -EINVAL/-ENOENT/
 * -EEXIST with nothing left behind; other errors -errno. */
int fl_admin_apply(const char *lab, struct fl_admin *a, struct fl_err *err);
/* Undo change ID (-ENOENT if there is none). */
int fl_admin_del(const char *lab, const char *id, struct fl_err *err);
/* Undo every change of the lab, newest first. */
int fl_admin_clear(const char *lab, struct fl_err *err);
/* The lab's changes, oldest first (free with free()). */
int fl_admin_list(const char *lab, struct fl_admin **out, size_t *n, struct fl_err *err);

/* "n2 firewall drop --proto tcp --port 2380" (the words fl_admin_parse
 * takes, without --id), or JSON members {"node", "change", ...}. */
void fl_admin_print(const struct fl_admin *a, struct fl_out *o);
void fl_admin_format(const struct fl_admin *a, char *buf, size_t len);

#endif
