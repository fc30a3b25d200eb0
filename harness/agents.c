// SPDX-License-Identifier: MIT
/* An inventory's agents (agents.h). */
#include "agents.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "supervisor/session.h"

static int agent_of(struct fl_agents *a, int i)
{
	int err;

	if (a->c[i])
		return 0;
	err = fl_inventory_carrier(a->inv, &a->node[i], &a->c[i]);
	if (!err && (err = fl_carrier_open(a->c[i]))) {
		fl_carrier_close(a->c[i]);
		a->c[i] = NULL;
	}
	if (err)
		pr_err("node %s (%s): its agent: %s", a->node[i].node, a->node[i].host,
		       strerror(-err));
	return err;
}

/* {"verb":VERB,"target":T[,"lease":L][,"faults":[...]]} */
static char *request(const struct fl_inv_node *n, const char *verb, char *const *faults,
		     int n_faults, uint64_t lease)
{
	char *line = NULL, d[32];
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);

	if (!f)
		return NULL;
	fprintf(f, "{\"verb\":\"%s\",\"target\":%s", verb, n->target);
	if (lease) {
		fl_lease_format(lease, d, sizeof(d));
		fprintf(f, ",\"lease\":\"%s\"", d);
	}
	if (faults) {
		fputs(",\"faults\":[", f);
		for (int k = 0; k < n_faults; k++) {
			if (k)
				fputc(',', f);
			fl_json_string(f, faults[k]);
		}
		fputc(']', f);
	}
	fputc('}', f);
	fclose(f);
	return line;
}

/* One request to node i's agent: 0 done, 1 refused, -errno lost. */
static int ask(struct fl_agents *a, int i, const char *line, char **answer)
{
	char *ans = NULL;
	int err = line ? agent_of(a, i) : -ENOMEM;

	if (!err)
		err = fl_carrier_request(a->c[i], line, &ans);
	if (err && err != -ENOMEM && a->c[i])
		pr_err("node %s: %s: %s", a->node[i].node, a->c[i]->what,
		       err == -ETIMEDOUT ? "no answer in time" : strerror(-err));
	if (err)
		return err;
	err = strncmp(ans, "{\"ok\":true", 10) ? 1 : 0;
	if (answer)
		*answer = ans;
	else
		free(ans);
	return err;
}

int fl_agents_put(struct fl_agents *a, int i, char *const *faults, int n, uint64_t lease_ns,
		  char **answer)
{
	char *line = request(&a->node[i], "put", faults, n, lease_ns);
	int ret = ask(a, i, line, answer);

	free(line);
	if (!ret)
		a->lease_ns[i] = lease_ns;
	return ret;
}

int fl_agents_call(struct fl_agents *a, int i, const char *line, char **answer)
{
	return ask(a, i, line, answer);
}

int fl_agents_open(struct fl_agents *a)
{
	for (int i = 0; i < a->n; i++) {
		int ret = ask(a, i, "{\"verb\":\"version\"}", NULL);

		if (ret)
			return ret < 0 ? ret : -EPROTO;
	}
	return 0;
}

int fl_agents_renew(struct fl_agents *a)
{
	int bad = 0;

	for (int i = 0; i < a->n; i++) {
		char *line;

		if (!a->lease_ns[i])
			continue;
		line = request(&a->node[i], "renew", NULL, 0, a->lease_ns[i]);
		bad += ask(a, i, line, NULL) != 0;
		free(line);
	}
	return bad;
}

int fl_agents_reset(struct fl_agents *a)
{
	int bad = 0;

	for (int i = 0; i < a->n; i++) {
		char *line;

		if (!a->lease_ns[i])
			continue;
		line = request(&a->node[i], "reset", NULL, 0, 0);
		bad += ask(a, i, line, NULL) != 0;
		a->lease_ns[i] = 0;
		free(line);
	}
	fl_agents_close(a);
	return bad;
}

int fl_agents_close(struct fl_agents *a)
{
	int worst = 0;

	for (int i = 0; i < a->n; i++) {
		int st;

		if (!a->c[i])
			continue;
		st = fl_carrier_close(a->c[i]);
		a->c[i] = NULL;
		worst = st > worst ? st : worst;
	}
	return worst;
}
