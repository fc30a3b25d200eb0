/* SPDX-License-Identifier: MIT */
/* Certificates for targets with `tls: true` (harness/tls.c). */
#ifndef FALLACY_TLS_H
#define FALLACY_TLS_H

#include <stddef.h>

#include "run.h"

/* Make r->tls_dir (SCRATCH/tls) with ca.pem and NODE.pem/NODE.key for every
 * node, when the target asks for TLS; 0 otherwise. why gets the reason of a
 * failure. */
int fl_run_tls(struct fl_run *r, char *why, size_t len);

#endif
