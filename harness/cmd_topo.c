// SPDX-License-Identifier: MIT
/* fallacy link|node|readdress|mtu|route: live topology changes of a lab.
 * Thin: the words become a struct fl_topo (lab.h) and go to the lab's
 * supervisor (session.h fl_topo_request), which checks, changes the
 * kernel and records everything in the lab's journal. */
#include "cmd.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/lab.h"
#include "log.h"
#include "supervisor/session.h"

static const char link_usage[] =
	"usage: fallacy link LAB NODE down|up [-j]\n"
	"       fallacy link LAB NODE flap --period P [--count N] [--down-for D] [-j]\n"
	"\n"
	"Carrier loss on NODE's link: its wire-side port p-NODE goes down, so the\n"
	"node's eth0 has NO-CARRIER and the bridge port is disabled (ip -n ... link\n"
	"show says so on both ends). up brings it back.\n"
	"flap: down and up again every P, each down lasting D (default P/2), N times\n"
	"(default: until 'link LAB NODE up' or 'down'). The lab's supervisor runs the\n"
	"flap, so it goes on after this command returns and stops with the lab.\n"
	"\n"
	"EXAMPLES\n"
	"  fallacy link demo n1 down\n"
	"  fallacy link demo n1 up\n"
	"  fallacy link demo n2 flap --period 2s --count 5 --down-for 500ms\n"
	"  fallacy link demo n2 up          # stops a flap\n"
	"\n"
	"Exit status: 0 done, 2 bad input or kernel error (nothing changed).\n";

static const char node_usage[] =
	"usage: fallacy node add LAB NODE [--ipv4-only | --ipv6-only | --dual]\n"
	"                        [--ipv4 A] [--ipv6 A] [-j]\n"
	"       fallacy node remove LAB NODE [-j]\n"
	"\n"
	"add: a new node joins the running lab: namespace fl-LAB.NODE, eth0 on the\n"
	"wire, the next free address of the lab's plan (or the one given), and every\n"
	"node's hosts file gains its name, so it resolves everywhere at once. Faults\n"
	"can target it by name. Families: the lab's (dual-stack with lab up --ipv6),\n"
	"or the one asked for. A node that left and is added again is the same node\n"
	"to every fault (its id is kept) but gets a new address unless given one.\n"
	"remove: the node leaves: its processes get SIGTERM, SIGKILL after 2 s, its\n"
	"link and namespace go, names stop resolving to it. Faults that name it stay\n"
	"and match nothing until it comes back (docs/faults.md).\n"
	"Prints the new node's line: NAME IPV4 IPV6 NETNS (JSON with -j).\n"
	"\n"
	"EXAMPLES\n"
	"  fallacy node add demo n4\n"
	"  fallacy node add demo edge --ipv6-only\n"
	"  fallacy node remove demo n2\n"
	"  fallacy node add demo n2 --ipv4 198.18.0.2      # back, with its old address\n"
	"\n"
	"Exit status: 0 done, 2 bad input or kernel error (nothing changed).\n";

static const char readdress_usage[] =
	"usage: fallacy readdress LAB NODE [--ipv4 A] [--ipv6 A] [-j]\n"
	"\n"
	"NODE gets a new address (the next free one of the lab's plan, or the one\n"
	"given; IPv4 and IPv6 move together). The old one is gone at once: nothing\n"
	"answers for it, so connections made to or from it break as they would.\n"
	"Every node's hosts file follows; faults written with the node's name keep\n"
	"matching it (the data plane knows nodes by their MAC, which stays).\n"
	"\n"
	"EXAMPLES\n"
	"  fallacy readdress demo n1\n"
	"  fallacy readdress demo n1 --ipv4 198.18.0.1     # back to the first one\n"
	"\n"
	"Exit status: 0 done, 2 bad input or kernel error (nothing changed).\n";

static const char mtu_usage[] =
	"usage: fallacy mtu LAB NODE M [-j]\n"
	"\n"
	"The MTU of NODE's link, both ends of its veth (68..65535; at least 1280\n"
	"when the node has IPv6; 1500 is the default). The node cannot send bigger\n"
	"packets; packets bigger than M sent to it are answered from the wire with\n"
	"ICMP fragmentation-needed (IPv4 with DF) or packet-too-big (IPv6), as the\n"
	"router in front of a small-MTU link would, so path MTU discovery works.\n"
	"IPv4 packets without DF bigger than M are dropped.\n"
	"\n"
	"EXAMPLES\n"
	"  fallacy mtu demo n3 1280\n"
	"  fallacy mtu demo n3 1500\n"
	"\n"
	"Exit status: 0 done, 2 bad input or kernel error (nothing changed).\n";

static const char route_usage[] =
	"usage: fallacy route LAB --from A --to B --via C [-j]\n"
	"       fallacy route LAB --from A --to B --direct [-j]\n"
	"\n"
	"A's packets to B go through C: a host route on A for B's addresses via C,\n"
	"IP forwarding on C (ICMP redirects off, so A keeps the detour). On the wire\n"
	"they are two hops, A->C and C->B, so C's faults (fallacy fault add LAB/C\n"
	"...) apply to them, and rules about A->B do not. The way back is direct\n"
	"unless routed too. --direct undoes it.\n"
	"\n"
	"EXAMPLES\n"
	"  fallacy route demo --from n1 --to n2 --via n3\n"
	"  fallacy fault add demo/n3 loss 20%         # now n1 -> n2 loses too\n"
	"  fallacy route demo --from n1 --to n2 --direct\n"
	"\n"
	"Exit status: 0 done, 2 bad input or kernel error (nothing changed).\n";

/* words (verb first) -> struct fl_topo -> the lab's supervisor */
static int topo_run(const char *lab, int argc, char **argv, bool json)
{
	char *tv[2] = { (char *)lab, NULL }, *out = NULL, *msg = NULL;
	struct fl_target t;
	struct fl_topo topo;
	struct fl_err err;
	int used, status;

	if (fl_target_parse(1, tv, &t, &used, &err) || t.node[0]) {
		pr_err("%s: %s", argv[0], t.node[0] ? "give a LAB, not LAB/NODE" : err.msg);
		return FL_EXIT_USAGE;
	}
	if (fl_topo_parse(argc, argv, &topo, &err)) {
		pr_err("%s %s", lab, err.msg);
		return FL_EXIT_USAGE;
	}
	if (fl_cmd_check) /* the words only: the lab is the supervisor's business */
		return FL_EXIT_OK;
	status = fl_topo_request(&t, &topo, json, &out, &msg);
	if (out)
		fputs(out, stdout);
	if (msg && *msg && (status || fl_log_level >= FL_LOG_INFO))
		fputs(msg, stderr);
	free(out);
	free(msg);
	return status ? FL_EXIT_USAGE : FL_EXIT_OK;
}

/* argv[first..]: the words after LAB; -j taken out. */
static int topo_cmd(const char *usage, const char *verb, const char *lab, int argc, char **argv,
		    int first)
{
	char *w[64] = { (char *)verb };
	bool json = false;
	int n = 1;

	if (!lab || lab[0] == '-') {
		fputs(usage, stderr);
		return FL_EXIT_USAGE;
	}
	for (int i = first; i < argc && n < 63; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			json = true;
		else
			w[n++] = argv[i];
	}
	w[n] = NULL;
	return topo_run(lab, n, w, json);
}

int do_link(int argc, char **argv)
{
	char *w[64];
	int n = 0;

	if (fl_wants_help(argc, argv)) {
		fputs(link_usage, stdout);
		return FL_EXIT_OK;
	}
	if (argc < 4) {
		fputs(link_usage, stderr);
		return FL_EXIT_USAGE;
	}
	/* link LAB NODE flap ... -> flap NODE ...; link LAB NODE down -> link NODE down */
	if (!strcmp(argv[3], "flap")) {
		w[n++] = argv[2];
		for (int i = 4; i < argc && n < 62; i++)
			w[n++] = argv[i];
		w[n] = NULL;
		return topo_cmd(link_usage, "flap", argv[1], n, w, 0);
	}
	return topo_cmd(link_usage, "link", argv[1], argc, argv, 2);
}

int do_node(int argc, char **argv)
{
	bool add = argc > 1 && !strcmp(argv[1], "add");

	if (fl_wants_help(argc, argv)) {
		fputs(node_usage, stdout);
		return FL_EXIT_OK;
	}
	if (argc < 4 || (!add && strcmp(argv[1], "remove"))) {
		fputs(node_usage, stderr);
		return FL_EXIT_USAGE;
	}
	return topo_cmd(node_usage, add ? "join" : "leave", argv[2], argc, argv, 3);
}

int do_readdress(int argc, char **argv)
{
	if (fl_wants_help(argc, argv)) {
		fputs(readdress_usage, stdout);
		return FL_EXIT_OK;
	}
	return topo_cmd(readdress_usage, "readdress", argc > 2 ? argv[1] : NULL, argc, argv, 2);
}

int do_mtu(int argc, char **argv)
{
	if (fl_wants_help(argc, argv)) {
		fputs(mtu_usage, stdout);
		return FL_EXIT_OK;
	}
	return topo_cmd(mtu_usage, "mtu", argc > 3 ? argv[1] : NULL, argc, argv, 2);
}

int do_route(int argc, char **argv)
{
	if (fl_wants_help(argc, argv)) {
		fputs(route_usage, stdout);
		return FL_EXIT_OK;
	}
	return topo_cmd(route_usage, "route", argc > 2 ? argv[1] : NULL, argc, argv, 2);
}
