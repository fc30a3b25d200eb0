// SPDX-License-Identifier: MIT
/* The pod UID readers (harness/pods.h): a /proc/PID/cgroup's text (cgroup
 * names below a delegated subtree are chosen by whoever owns it) and a
 * request's {"pod": UID}. Never crash; what they accept is a UID of
 * 8-4-4-4-12 lowercase hex digits that reads back as itself. */
#include "fuzz.h"

#include <ctype.h>
#include <stdbool.h>

#include "pods.h"

static void is_uid(const char *uid)
{
	char again[FL_POD_UID_LEN + 1];

	FUZZ_ASSERT(strlen(uid) == FL_POD_UID_LEN, "uid %s", uid);
	for (int i = 0; i < FL_POD_UID_LEN; i++) {
		bool sep = i == 8 || i == 13 || i == 18 || i == 23;

		FUZZ_ASSERT(sep ? uid[i] == '-' :
				  isxdigit((unsigned char)uid[i]) &&
					    !isupper((unsigned char)uid[i]),
			    "uid %s at %d", uid, i);
	}
	FUZZ_ASSERT(!fl_pod_uid_parse(uid, FL_POD_UID_LEN, again) && !strcmp(again, uid),
		    "uid %s reads back as %s", uid, again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), uid[FL_POD_UID_LEN + 1];

	if (!fl_pod_uid_of_cgroup(s, uid))
		is_uid(uid);
	if (!fl_pod_uid_parse(s, strlen(s), uid))
		is_uid(uid);
	free(s);
	return 0;
}
