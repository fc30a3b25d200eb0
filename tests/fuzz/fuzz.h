/* SPDX-License-Identifier: MIT */
/* Shared by the libFuzzer targets: the input as a NUL-terminated string,
 * split into words, and a check that aborts (the fuzzer reports a crash)
 * when an invariant does not hold. */
#ifndef FALLACY_FUZZ_H
#define FALLACY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_WORDS 128

/* A copy of data with a NUL after it (the parsers take strings). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Split s in place on spaces, tabs and newlines. */
static inline int fuzz_words(char *s, char **argv, int max)
{
	int n = 0;

	for (char *w = strtok(s, " \t\n"); w && n < max - 1; w = strtok(NULL, " \t\n"))
		argv[n++] = w;
	argv[n] = NULL;
	return n;
}

#define FUZZ_ASSERT(cond, ...)                                             \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "invariant broken: " __VA_ARGS__); \
			fputc('\n', stderr);                               \
			abort();                                           \
		}                                                          \
	} while (0)

#endif
