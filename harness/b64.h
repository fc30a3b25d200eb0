/* SPDX-License-Identifier: MIT */
/* Base64 (RFC 4648, with padding): the bytes of a capture carried in an
 * agent's JSON answers (docs/agent.md, capture fetch). */
#ifndef FALLACY_B64_H
#define FALLACY_B64_H

#include <stddef.h>
#include <stdint.h>

/* The length of n bytes encoded (without the NUL). */
#define FL_B64_LEN(n) (((n) + 2) / 3 * 4)

/* in[0..n) into out (FL_B64_LEN(n) + 1 bytes, NUL-terminated). */
void fl_b64_encode(const uint8_t *in, size_t n, char *out);
/* text into out (room for strlen(text) / 4 * 3 bytes): the number of
 * bytes, or -EINVAL for text that is not base64. */
long fl_b64_decode(const char *text, uint8_t *out);

#endif
