// SPDX-License-Identifier: MIT
/* The version string, one compilation unit so that only it is rebuilt when
 * `git describe` changes. */
#include "version.h"

#ifndef FALLACY_VERSION
#define FALLACY_VERSION "0.0.0"
#endif

#ifdef FALLACY_GIT
const char fl_version[] = FALLACY_VERSION " (git " FALLACY_GIT ")";
#else
const char fl_version[] = FALLACY_VERSION;
#endif
