/* SPDX-License-Identifier: MIT */
/* Inside the target parser: shared by target.c (the file, templates) and
 * target_roles.c (roles, start items, setup/teardown/leader, probe ops). */
#ifndef FALLACY_TARGET_INT_H
#define FALLACY_TARGET_INT_H

#include "target.h"
#include "yaml.h"

struct tctx {
	const struct fl_ydoc *d;
	struct fl_err *err;
	struct fl_sut *t;
};

/* A template string value: must exist (if required) and use known vars. */
int fl_tget_tmpl(struct tctx *c, const struct fl_ynode *m, const char *key, bool required,
		 char **out);
/* env: {KEY: template} into *env (KEY=VALUE), appended. */
int fl_tparse_env(struct tctx *c, const struct fl_ynode *env, char ***out, size_t *n);

/* target_roles.c */
int fl_tparse_roles(struct tctx *c, const struct fl_ynode *r);
/* start: a map (one item, every node) or a list of items. */
int fl_tparse_starts(struct tctx *c, const struct fl_ynode *s);
/* setup:, teardown: (a command or a list), leader: (a command). */
int fl_tparse_cmds(struct tctx *c, const struct fl_ynode *r);
/* probe: ops and mix (after run/op). */
int fl_tparse_ops(struct tctx *c, const struct fl_ynode *p);
void fl_tfree_roles(struct fl_sut *t);

#endif
