/* SPDX-License-Identifier: MIT */
/* Internal to injector/lab*.c. */
#ifndef FALLACY_LAB_INT_H
#define FALLACY_LAB_INT_H

#include "lab.h"
#include "state/journal.h"

struct nl_sock;

/* Names (netns, port) and addresses of a node from its name, host number
 * and families. */
void fl_lab_node_names(const struct fl_lab *lab, struct fl_node *n);
void fl_lab_node_addrs(const struct fl_lab *lab, struct fl_node *n);

/* The kernel side of a lab (lab/net.c): a route socket in the wire. */
struct fl_labnet {
	struct fl_lab *lab;
	struct fl_state *st;
	struct nl_sock *wire; /* route socket inside the wire namespace */
	int wire_fd;
	int bridge_idx;
};

/* Open the wire of a lab that is up. */
int fl_labnet_open(struct fl_labnet *b, struct fl_lab *lab, struct fl_state *st);
void fl_labnet_close(struct fl_labnet *b);
/* One node: namespace, veth p-NODE/eth0 (its MAC, MTU), lo and eth0 up,
 * addresses, its hosts file; each object recorded in b->st first. */
int fl_labnet_node(struct fl_labnet *b, const struct fl_node *n);
/* (Re)write every node's hosts file (/etc/netns/fl-LAB.NODE/hosts: the
 * addresses its family class reaches, and its foreign hosts changes) in
 * place, so that processes already running see the change. A new file is
 * recorded in st first. */
int fl_lab_hosts_write(const struct fl_lab *lab, struct fl_state *st);
/* A route socket in the node's namespace (-errno and a message). */
int fl_lab_node_sock(const struct fl_lab *lab, const struct fl_node *n, struct nl_sock **sk);

/* Add (or remove) an address on eth0 of node n through sk. */
int fl_lab_nl_addr(struct nl_sock *sk, int ifindex, int family, const void *a, int plen,
		   const struct fl_node *n, bool add);

/* Write /proc/sys/KEY (slashes) inside namespace nsfd. */
int fl_lab_sysctl(int nsfd, const char *key, const char *val);

/* Make the namespaces, bridge, veths, addresses and hosts files of a
 * planned lab, recording each object in st before creating it. */
int fl_lab_build(struct fl_lab *lab, struct fl_state *st);
/* Write RUN_DIR/LAB/lab atomically. */
int fl_lab_save(const struct fl_lab *lab);

#endif
