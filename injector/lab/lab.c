// SPDX-License-Identifier: MIT
/* Labs: validation, the address plan, the lab file (RUN_DIR/LAB/lab) and
 * the up/down orchestration. The kernel work is in lab_net.c. */
#include "lab.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab_int.h"
#include "log.h"
#include "netns.h"
#include "parse.h"
#include "state/state.h"
#include "supervisor/session.h"

static int name_ok(const char *what, const char *s, size_t max, struct fl_err *err)
{
	char label[32];

	snprintf(label, sizeof(label), "%s name", what);
	return fl_validate_name(label, s, max, err);
}

int fl_lab_validate(const struct fl_lab_spec *spec, struct fl_err *err)
{
	const char *const *nn = spec->node_names;
	int ret = name_ok("lab", spec->name, FL_LAB_NAME_MAX, err);

	if (ret)
		return ret;
	if (spec->n_nodes < 1 || spec->n_nodes > FL_LAB_MAX_NODES) {
		fl_err_set(err, "lab %s: %zu nodes (a lab has 1 to %d)", spec->name, spec->n_nodes,
			   FL_LAB_MAX_NODES);
		return -EINVAL;
	}
	for (size_t i = 0; nn && i < spec->n_nodes; i++) {
		ret = name_ok("node", nn[i], FL_NODE_NAME_MAX, err);
		if (ret)
			return ret;
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(nn[i], nn[j])) {
				fl_err_set(err, "lab %s: node name '%s' given twice", spec->name,
					   nn[i]);
				return -EINVAL;
			}
		}
	}
	for (size_t i = 0; spec->node_fam && i < spec->n_nodes; i++) {
		if (spec->node_fam[i] & ~FL_NODE_DUAL) {
			fl_err_set(err, "lab %s: node %zu: unknown address family", spec->name,
				   i + 1);
			return -EINVAL;
		}
	}
	return 0;
}

const struct in6_addr fl_lab_net6 = { .s6_addr = FL_LAB_NET6 };

int fl_lab_addr4(int lab, int node, struct in_addr *net, struct in_addr *host)
{
	uint32_t base = FL_LAB_NET4;

	if (lab < 0 || lab >= FL_LAB_MAX_LABS || node < 0 || node >= FL_LAB_MAX_NODES)
		return -ERANGE;
	base += (uint32_t)lab << (32 - FL_LAB_PREFIX4_LEN);
	if (net)
		net->s_addr = htonl(base);
	if (host)
		host->s_addr = htonl(base + (uint32_t)node + 1);
	return 0;
}

void fl_lab_addr6(int lab, int node, struct in6_addr *host)
{
	fl_lab_host6(lab, (unsigned int)node + 1, host);
}

int fl_lab_host4(int lab, unsigned int host, struct in_addr *a)
{
	struct in_addr net;

	if (host < 1 || host > FL_LAB_HOST_MAX || fl_lab_addr4(lab, 0, &net, NULL))
		return -ERANGE;
	a->s_addr = htonl(ntohl(net.s_addr) + host);
	return 0;
}

void fl_lab_host6(int lab, unsigned int host, struct in6_addr *a)
{
	*a = fl_lab_net6;
	a->s6_addr[12] = (uint8_t)(lab >> 8);
	a->s6_addr[13] = (uint8_t)lab;
	a->s6_addr[14] = (uint8_t)(host >> 8);
	a->s6_addr[15] = (uint8_t)host;
}

unsigned int fl_lab_host_of(const struct fl_lab *lab, int family, const void *addr)
{
	struct in6_addr a6;
	uint32_t a, net = ntohl(lab->net4.s_addr);
	unsigned int h;

	if (family == AF_INET) {
		memcpy(&a, addr, 4);
		a = ntohl(a);
		h = a - net;
		return a > net && h <= FL_LAB_HOST_MAX ? h : 0;
	}
	memcpy(&a6, addr, 16);
	h = (unsigned int)a6.s6_addr[14] << 8 | a6.s6_addr[15];
	if (h < 1 || h > FL_LAB_HOST_MAX)
		return 0;
	fl_lab_host6(lab->index, h, &a6);
	return memcmp(&a6, addr, 16) ? 0 : h;
}

void fl_lab_node_mac(const struct fl_lab *lab, const struct fl_node *n, unsigned char mac[6])
{
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0xfa;
	mac[2] = 0x11;
	mac[3] = (unsigned char)lab->index;
	mac[4] = (unsigned char)(n->index >> 8);
	mac[5] = (unsigned char)n->index;
}

bool fl_lab_has6(const struct fl_lab *lab)
{
	for (size_t i = 0; i < lab->n_nodes; i++)
		if (lab->nodes[i].fam & FL_NODE_V6)
			return true;
	return lab->ipv6;
}

const char *fl_node_fam_name(unsigned int fam)
{
	return fam == FL_NODE_DUAL ? "46" : fam == FL_NODE_V6 ? "6" : "4";
}

void fl_lab_free(struct fl_lab *lab)
{
	if (!lab)
		return;
	free(lab->nodes);
	free(lab->gone);
	free(lab);
}

const struct fl_node *fl_lab_node(const struct fl_lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->n_nodes; i++)
		if (!strcmp(lab->nodes[i].name, name))
			return &lab->nodes[i];
	return NULL;
}

const struct fl_node *fl_lab_gone(const struct fl_lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->n_gone; i++)
		if (!strcmp(lab->gone[i].name, name))
			return &lab->gone[i];
	return NULL;
}

void fl_lab_nodes_text(const struct fl_lab *lab, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < lab->n_nodes && n < len; i++) {
		if (i == 8 && lab->n_nodes > 9) {
			i = lab->n_nodes - 1;
			n += (size_t)snprintf(buf + n, len - n, ", ...");
		}
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", lab->nodes[i].name);
	}
}

void fl_lab_node_names(const struct fl_lab *lab, struct fl_node *n)
{
	snprintf(n->netns, sizeof(n->netns), "fl-%s.%s", lab->name, n->name);
	snprintf(n->port, sizeof(n->port), "p-%s", n->name);
}

/* Room for every node a lab may have, present and gone. */
static struct fl_lab *lab_alloc(const char *name)
{
	struct fl_lab *lab = calloc(1, sizeof(*lab));

	if (!lab)
		return NULL;
	lab->nodes = calloc(FL_LAB_MAX_NODES, sizeof(*lab->nodes));
	lab->gone = calloc(FL_LAB_MAX_NODES, sizeof(*lab->gone));
	if (!lab->nodes || !lab->gone) {
		fl_lab_free(lab);
		return NULL;
	}
	snprintf(lab->name, sizeof(lab->name), "%s", name);
	snprintf(lab->wire_netns, sizeof(lab->wire_netns), "fl-%s", name);
	snprintf(lab->bridge, sizeof(lab->bridge), "br0");
	lab->prefix4_len = FL_LAB_PREFIX4_LEN;
	snprintf(lab->state, sizeof(lab->state), "building");
	return lab;
}

struct fl_lab *fl_lab_dup(const struct fl_lab *lab)
{
	struct fl_lab *d = lab_alloc(lab->name);
	struct fl_node *nodes, *gone;

	if (!d)
		return NULL;
	nodes = d->nodes;
	gone = d->gone;
	*d = *lab;
	d->nodes = nodes;
	d->gone = gone;
	memcpy(d->nodes, lab->nodes, lab->n_nodes * sizeof(*nodes));
	memcpy(d->gone, lab->gone, lab->n_gone * sizeof(*gone));
	return d;
}

/* A node's addresses from its host number and families. */
void fl_lab_node_addrs(const struct fl_lab *lab, struct fl_node *n)
{
	memset(&n->ip4, 0, sizeof(n->ip4));
	memset(&n->ip6, 0, sizeof(n->ip6));
	if (n->fam & FL_NODE_V4)
		fl_lab_host4(lab->index, n->host, &n->ip4);
	if (n->fam & FL_NODE_V6)
		fl_lab_host6(lab->index, n->host, &n->ip6);
}

/* The in-memory plan of a lab about to be made in slot index. */
static struct fl_lab *lab_plan(const struct fl_lab_spec *spec, int index)
{
	struct fl_lab *lab = lab_alloc(spec->name);
	unsigned int dflt = spec->ipv6 ? FL_NODE_DUAL : FL_NODE_V4;

	if (!lab)
		return NULL;
	lab->ipv6 = spec->ipv6;
	lab->index = index;
	lab->n_nodes = spec->n_nodes;
	lab->next_host = (unsigned int)spec->n_nodes + 1;
	fl_lab_addr4(index, 0, &lab->net4, NULL);
	for (size_t i = 0; i < spec->n_nodes; i++) {
		struct fl_node *n = &lab->nodes[i];

		if (spec->node_names)
			snprintf(n->name, sizeof(n->name), "%s", spec->node_names[i]);
		else
			snprintf(n->name, sizeof(n->name), "n%u", (unsigned)(i + 1) & 0xffffu);
		n->index = (int)i;
		n->host = (unsigned int)i + 1;
		n->fam = spec->node_fam && spec->node_fam[i] ? spec->node_fam[i] : dflt;
		fl_lab_node_names(lab, n);
		fl_lab_node_addrs(lab, n);
	}
	return lab;
}

int fl_lab_plan(const struct fl_lab_spec *spec, struct fl_lab **out, struct fl_err *err)
{
	int rc = fl_lab_validate(spec, err);

	*out = NULL;
	if (rc)
		return rc;
	*out = lab_plan(spec, 0);
	if (!*out) {
		fl_err_set(err, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* ---- the lab file -------------------------------------------------------- */

static int lab_file_path(const char *name, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s/lab", fl_run_dir(), name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static void write_node(FILE *f, const char *key, const struct fl_node *n)
{
	char a4[INET_ADDRSTRLEN] = "-", a6[INET6_ADDRSTRLEN] = "-";

	if (n->fam & FL_NODE_V4)
		inet_ntop(AF_INET, &n->ip4, a4, sizeof(a4));
	if (n->fam & FL_NODE_V6)
		inet_ntop(AF_INET6, &n->ip6, a6, sizeof(a6));
	fprintf(f, "%s %s %s %s id=%d host=%u fam=%s mtu=%u\n", key, n->name, a4, a6, n->index,
		n->host, fl_node_fam_name(n->fam), n->mtu);
}

static int write_lab(FILE *f, const void *arg)
{
	const struct fl_lab *lab = arg;
	char a4[INET_ADDRSTRLEN];

	fprintf(f, "# fallacy lab description (fallacy lab up); read by every command\n");
	fprintf(f, "name %s\nstate %s\nindex %d\nipv6 %d\n", lab->name, lab->state, lab->index,
		lab->ipv6);
	inet_ntop(AF_INET, &lab->net4, a4, sizeof(a4));
	fprintf(f, "net4 %s/%d\nnext_host %u\n", a4, lab->prefix4_len, lab->next_host);
	for (size_t i = 0; i < lab->n_nodes; i++)
		write_node(f, "node", &lab->nodes[i]);
	for (size_t i = 0; i < lab->n_gone; i++)
		write_node(f, "gone", &lab->gone[i]);
	for (size_t i = 0; i < lab->n_routes; i++)
		fprintf(f, "route %s %s %s\n", lab->routes[i].from, lab->routes[i].to,
			lab->routes[i].via);
	return 0;
}

/* Written to a temporary name and renamed: readers see all or nothing. */
int fl_lab_save(const struct fl_lab *lab)
{
	char path[4200];
	int err = lab_file_path(lab->name, path, sizeof(path));

	return err ?: fl_write_atomic(path, write_lab, lab);
}

/* "id=K host=H fam=46 mtu=M" after the addresses; older files have none
 * of them (id = position, host = id + 1). */
static int parse_node_opts(struct fl_node *n, char *opts)
{
	char *save = NULL;

	for (char *w = strtok_r(opts, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (!strncmp(w, "id=", 3))
			n->index = atoi(w + 3);
		else if (!strncmp(w, "host=", 5))
			n->host = (unsigned int)atoi(w + 5);
		else if (!strncmp(w, "mtu=", 4))
			n->mtu = (unsigned int)atoi(w + 4);
		else if (!strncmp(w, "fam=", 4))
			n->fam = (strchr(w + 4, '4') ? FL_NODE_V4 : 0) |
				 (strchr(w + 4, '6') ? FL_NODE_V6 : 0);
	}
	if (n->index < 0 || n->index >= FL_LAB_MAX_NODES || !n->fam || n->host < 1 ||
	    n->host > FL_LAB_HOST_MAX)
		return -EINVAL;
	return 0;
}

static int parse_node_line(struct fl_lab *lab, struct fl_node *n, size_t pos, char *args)
{
	char name[64], a4[64], a6[64];
	int used = 0;

	if (sscanf(args, "%63s %63s %63s %n", name, a4, a6, &used) != 3 ||
	    strlen(name) > FL_NODE_NAME_MAX)
		return -EINVAL;
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->index = (int)pos;
	n->host = (unsigned int)pos + 1;
	n->fam = (strcmp(a4, "-") ? FL_NODE_V4 : 0) |
		 (lab->ipv6 && strcmp(a6, "-") ? FL_NODE_V6 : 0);
	if (parse_node_opts(n, args + used))
		return -EINVAL;
	if (((n->fam & FL_NODE_V4) && inet_pton(AF_INET, a4, &n->ip4) != 1) ||
	    ((n->fam & FL_NODE_V6) && inet_pton(AF_INET6, a6, &n->ip6) != 1))
		return -EINVAL;
	fl_lab_node_names(lab, n);
	return 0;
}

static int parse_route_line(struct fl_lab *lab, char *args)
{
	struct fl_route *r = &lab->routes[lab->n_routes];
	char f[64], t[64], v[64];

	if (lab->n_routes >= FL_LAB_MAX_ROUTES || sscanf(args, "%63s %63s %63s", f, t, v) != 3 ||
	    strlen(f) > FL_NODE_NAME_MAX || strlen(t) > FL_NODE_NAME_MAX ||
	    strlen(v) > FL_NODE_NAME_MAX)
		return -EINVAL;
	snprintf(r->from, sizeof(r->from), "%s", f);
	snprintf(r->to, sizeof(r->to), "%s", t);
	snprintf(r->via, sizeof(r->via), "%s", v);
	lab->n_routes++;
	return 0;
}

static int parse_lab_line(struct fl_lab *lab, char *line)
{
	char *sp = strchr(line, ' '), a4[64];
	int plen;

	if (line[0] == '#' || !line[0])
		return 0;
	if (!sp)
		return -EINVAL;
	*sp++ = '\0';
	if (!strcmp(line, "state"))
		snprintf(lab->state, sizeof(lab->state), "%s", sp);
	else if (!strcmp(line, "index"))
		lab->index = atoi(sp);
	else if (!strcmp(line, "ipv6"))
		lab->ipv6 = atoi(sp) != 0;
	else if (!strcmp(line, "next_host"))
		lab->next_host = (unsigned int)atoi(sp);
	else if (!strcmp(line, "net4")) {
		if (sscanf(sp, "%63[0-9.]/%d", a4, &plen) != 2 ||
		    inet_pton(AF_INET, a4, &lab->net4) != 1)
			return -EINVAL;
		lab->prefix4_len = plen;
	} else if (!strcmp(line, "node") || !strcmp(line, "gone")) {
		bool gone = line[0] == 'g';
		size_t *n = gone ? &lab->n_gone : &lab->n_nodes;

		if (*n >= FL_LAB_MAX_NODES)
			return -EINVAL;
		if (parse_node_line(lab, gone ? &lab->gone[*n] : &lab->nodes[*n],
				    lab->n_nodes + lab->n_gone, sp))
			return -EINVAL;
		(*n)++;
	} else if (!strcmp(line, "route")) {
		return parse_route_line(lab, sp);
	}
	return 0; /* "name" and unknown keys: ignored */
}

int fl_lab_load(const char *name, struct fl_lab **out)
{
	char path[4200], line[512];
	struct fl_lab *lab;
	int err = 0;
	FILE *f;

	*out = NULL;
	if (name_ok("lab", name, FL_LAB_NAME_MAX, NULL) || lab_file_path(name, path, sizeof(path)))
		return -ENOENT;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	lab = lab_alloc(name);
	if (!lab) {
		fclose(f);
		return -ENOMEM;
	}
	while (!err && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		err = parse_lab_line(lab, line);
	}
	fclose(f);
	if (!err && !lab->next_host)
		lab->next_host = (unsigned int)(lab->n_nodes + lab->n_gone) + 1;
	if (err) {
		pr_err("lab %s: %s is damaged; remove the lab with 'fallacy cleanup %s'", name,
		       path, name);
		fl_lab_free(lab);
		return err;
	}
	*out = lab;
	return 0;
}

/* ---- up and down ---------------------------------------------------------- */

/* Lowest slot not used by a lab under RUN_DIR. Labs in other run dirs may
 * share a slot: each lab is its own layer-2 island, so that is harmless. */
static int pick_index(void)
{
	char used[FL_LAB_MAX_LABS] = { 0 }, **names = NULL;
	size_t n = 0;
	int err = fl_state_list(&names, &n);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		struct fl_lab *l = NULL;

		if (names[i][0] == '@' || fl_lab_load(names[i], &l) || !l)
			continue;
		if (l->index >= 0 && l->index < FL_LAB_MAX_LABS)
			used[l->index] = 1;
		fl_lab_free(l);
	}
	fl_strv_free(names, n);
	for (int i = 0; i < FL_LAB_MAX_LABS; i++)
		if (!used[i])
			return i;
	return -ENOSPC;
}

static int netns_exists(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return access(path, F_OK) == 0;
}

/* Nothing of the lab may exist yet: its session, its namespaces. */
static int check_free(const struct fl_lab *lab)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", fl_run_dir(), lab->name);
	if (!access(path, F_OK)) {
		pr_err("lab %s exists already (%s); pick another name or remove it with"
		       " 'fallacy lab down %s'",
		       lab->name, path, lab->name);
		return -EEXIST;
	}
	if (netns_exists(lab->wire_netns)) {
		pr_err("lab %s: network namespace %s exists already (made by another run dir"
		       " or by hand); pick another lab name",
		       lab->name, lab->wire_netns);
		return -EEXIST;
	}
	for (size_t i = 0; i < lab->n_nodes; i++) {
		if (netns_exists(lab->nodes[i].netns)) {
			pr_err("lab %s: network namespace %s exists already; pick another lab"
			       " name",
			       lab->name, lab->nodes[i].netns);
			return -EEXIST;
		}
	}
	return 0;
}

/* Under a lock on RUN_DIR: pick the slot, create the session and the lab
 * file, so that concurrent "lab up"s get distinct slots. */
static int lab_reserve(const struct fl_lab_spec *spec, struct fl_lab **labp, struct fl_state **stp)
{
	struct fl_lab *lab = NULL;
	int fd, err, idx;

	err = fl_mkdir_p(fl_run_dir(), 0755);
	if (err) {
		pr_err("creating %s: %s", fl_run_dir(), strerror(-err));
		return err;
	}
	fd = open(fl_run_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		err = -errno;
		goto out;
	}
	idx = err = pick_index();
	if (err < 0) {
		pr_err("lab %s: all %d address slots are used by labs in %s", spec->name,
		       FL_LAB_MAX_LABS, fl_run_dir());
		goto out;
	}
	lab = lab_plan(spec, idx);
	err = lab ? check_free(lab) : -ENOMEM;
	if (!err)
		err = fl_state_create(spec->name, stp);
	if (!err) {
		err = fl_lab_save(lab);
		if (err)
			pr_err("lab %s: writing the lab file: %s", lab->name, strerror(-err));
	}
out:
	if (fd >= 0)
		close(fd);
	if (err)
		fl_lab_free(lab);
	else
		*labp = lab;
	return err;
}

/* Every lab has its supervisor from the start: it holds the data plane,
 * which counts what each packet costs (transport accounting) whether or
 * not a fault is active, and takes the lab's faults later. */
static int lab_supervise(const struct fl_lab *lab)
{
	struct fl_target t;
	struct fl_err e;
	int err;

	err = fl_target_from_session(lab->name, &t, &e);
	if (!err)
		err = fl_session_ensure(&t);
	if (err)
		pr_err("lab %s: its supervisor (data plane, accounting) did not start: %s (see"
		       " fallacy doctor)",
		       lab->name, strerror(err < 0 ? -err : EIO));
	return err;
}

int fl_lab_up(const struct fl_lab_spec *spec, struct fl_lab **out)
{
	struct fl_state *st = NULL;
	struct fl_lab *lab = NULL;
	struct fl_err e = { "" };
	int err;

	if (out)
		*out = NULL;
	err = fl_lab_validate(spec, &e);
	if (err) {
		pr_err("%s", e.msg);
		return err;
	}
	err = lab_reserve(spec, &lab, &st);
	if (err) {
		if (st) {
			fl_state_close(st);
			fl_state_cleanup(spec->name);
		}
		return err;
	}
	err = fl_lab_build(lab, st);
	if (!err && fl_lab_interrupted)
		err = -EINTR;
	if (!err)
		err = lab_supervise(lab);
	if (!err) {
		snprintf(lab->state, sizeof(lab->state), "up");
		err = fl_lab_save(lab);
	}
	fl_state_close(st);
	if (err) {
		pr_info("lab %s: removing what was made", lab->name);
		fl_state_cleanup(lab->name);
		fl_lab_free(lab);
		return err;
	}
	if (out)
		*out = lab;
	else
		fl_lab_free(lab);
	return 0;
}

int fl_lab_down(const char *name)
{
	char path[4200];
	int err;

	if (name_ok("lab", name, FL_LAB_NAME_MAX, NULL) ||
	    (snprintf(path, sizeof(path), "%s/%s", fl_run_dir(), name), access(path, F_OK))) {
		pr_err("no lab named '%s' in %s (see 'fallacy lab list')", name, fl_run_dir());
		return -ENOENT;
	}
	err = fl_state_cleanup(name);
	if (err)
		pr_err("lab %s: some objects could not be removed (above); run 'fallacy cleanup"
		       " %s' again once the cause is fixed",
		       name, name);
	return err;
}

int fl_lab_exec(const char *netns, char *const argv[])
{
	return fl_netns_exec(netns, argv);
}
