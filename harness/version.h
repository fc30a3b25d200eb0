/* SPDX-License-Identifier: MIT */
/* The version of this build: the release and, where the source was a git
 * checkout, its `git describe` ("0.1.0 (git v0.1.0-12-g1a2b3c4-dirty)").
 * Set by the Makefile (FALLACY_VERSION, FALLACY_GIT). */
#ifndef FALLACY_VERSION_H
#define FALLACY_VERSION_H

extern const char fl_version[];

#endif
