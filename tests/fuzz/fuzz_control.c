// SPDX-License-Identifier: MIT
/* Control-protocol request lines (docs/control.md) through the verb
 * handler, against a session that accepts everything: never crash, and
 * always answer exactly one line. */
#include "fuzz.h"

#include "control.h"

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

/* Every fault the handler owns still exists. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fl_ctl *c;
	struct fl_target t = { .kind = FL_TARGET_NETNS, .netns = "x", .session = "@netns-x" };
	char *ans = NULL;
	size_t n;

	if (!c) {
		if (fl_ctl_new(&t, "fuzz", &c))
			abort();
		c->ops = &ops;
	}
	if (c->n_own > FL_CTL_MAX_FAULTS - 8)
		c->n_own = 0;
	fl_ctl_answer(c, (const char *)data, size, &ans);
	FUZZ_ASSERT(ans, "no answer");
	n = strlen(ans);
	FUZZ_ASSERT(n > 1 && ans[n - 1] == '\n' && !memchr(ans, '\n', n - 1),
		    "the answer is not one line: %s", ans);
	FUZZ_ASSERT(!strncmp(ans, "{\"ok\":", 6), "the answer does not begin with ok: %s", ans);
	free(ans);
	return 0;
}
