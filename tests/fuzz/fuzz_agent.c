// SPDX-License-Identifier: MIT
/* Agent request lines (docs/agent.md: targets, put, renew, reset, list,
 * the routed socket verbs) through the agent's router and verbs, against
 * a session that accepts everything: never crash, always answer exactly
 * one line, and never hold more targets than the agent allows. */
#include "fuzz.h"

#include "agent.h"

static unsigned int next_id;

static int fake_add(struct fl_ctl *c, const struct fl_fault *f, char **out, char **msg)
{
	(void)c;
	(void)msg;
	if (f->id[0])
		return asprintf(out, "{\"id\": \"%s\", \"seed\": 1}", f->id) < 0 ? 2 : 0;
	return asprintf(out, "{\"id\": \"f%u\", \"seed\": 1}", ++next_id) < 0 ? 2 : 0;
}

static int fake_request(struct fl_ctl *c, int argc, char **argv, char **out, char **msg)
{
	(void)c;
	(void)argc;
	(void)msg;
	if (!strcmp(argv[0], "list"))
		*out = strdup("[]\n");
	return 0;
}

/* Every fault a handler owns still exists. */
static int fake_stats(struct fl_ctl *c, struct fl_fault_stat **v, int *n)
{
	*v = calloc((size_t)c->n_own + 1, sizeof(**v));
	if (!*v)
		abort();
	for (int i = 0; i < c->n_own; i++)
		snprintf((*v)[i].id, sizeof((*v)[i].id), "%s", c->own[i]);
	*n = c->n_own;
	return 0;
}

static const struct fl_ctl_ops ops = { fake_add, fake_request, fake_stats };

/* Captures are not started: their requests are read, checked and answered. */
static int fake_capture(struct fl_ctl *c, struct fl_ctl *tc, const struct fl_ctl_capture *q,
			struct fl_out *o, struct fl_err *err)
{
	(void)c;
	(void)tc;
	(void)err;
	fl_out_str(o, "id", q->start ? q->iface : q->id);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fl_agent *a;
	char *ans = NULL;
	size_t n = 0;
	FILE *f;

	if (!a) {
		if (fl_agent_new(&a))
			abort();
		static struct fl_ctl_router router;

		a->ops = &ops;
		a->netns_dir = "/nonexistent";
		a->proc_root = "/nonexistent"; /* pods: none found */
		a->processes = false;
		router = *a->front->router;
		router.capture = fake_capture;
		a->front->router = &router;
	}
	if (a->n > FL_AGENT_MAX_TARGETS / 2)
		fl_agent_reset_all(a);
	f = open_memstream(&ans, &n);
	if (!f)
		abort();
	fl_agent_handle(a, (const char *)data, size, f);
	fclose(f);
	FUZZ_ASSERT(ans && n > 1, "no answer");
	FUZZ_ASSERT(ans[n - 1] == '\n' && !memchr(ans, '\n', n - 1),
		    "the answer is not one line: %s", ans);
	FUZZ_ASSERT(!strncmp(ans, "{\"ok\":", 6), "the answer does not begin with ok: %s", ans);
	FUZZ_ASSERT(a->n <= FL_AGENT_MAX_TARGETS, "%d targets", a->n);
	free(ans);
	return 0;
}
