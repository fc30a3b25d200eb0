// SPDX-License-Identifier: MIT
/* The write-ahead journal without privileges: file/dir/rmdir records in a
 * temporary FALLACY_RUN_DIR. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "state/journal.h"
#include "state/undo.h"

static char tmp[256];

static int setup(void **ctx)
{
	(void)ctx;
	snprintf(tmp, sizeof(tmp), "/tmp/fallacy-test-state.XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	char run[300];

	snprintf(run, sizeof(run), "%s/run", tmp);
	setenv("FALLACY_RUN_DIR", run, 1);
	return 0;
}

static int teardown(void **ctx)
{
	(void)ctx;
	fl_rm_rf(tmp);
	unsetenv("FALLACY_RUN_DIR");
	return 0;
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmp, name);
}

static int exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0644);

	assert_true(fd >= 0);
	close(fd);
}

/* A killed writer's tagged records are undone by its successor; the
 * untagged ones (the lab's own), a live writer's, and withdrawn ones stay. */
static void test_dead_owner(void **ctx)
{
	struct fl_state *st = NULL;
	char lab[512], dead[512], dead2[512], gone[512], live[512], journal[600], line[1200];
	int fd, n = -1;
	FILE *j;

	(void)ctx;
	path_of(lab, sizeof(lab), "lab");
	path_of(dead, sizeof(dead), "dead");
	path_of(dead2, sizeof(dead2), "dead2");
	path_of(gone, sizeof(gone), "withdrawn");
	path_of(live, sizeof(live), "live");
	touch(lab);
	touch(dead);
	touch(dead2);
	touch(gone);
	touch(live);
	assert_int_equal(fl_state_create("own", &st), 0);
	assert_int_equal(fl_state_record(st, "file", "%s", lab), 0);
	fl_state_close(st);
	/* a predecessor: our pid with another start time is another process */
	snprintf(journal, sizeof(journal), "%s/run/own/journal", tmp);
	fd = open(journal, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	dprintf(fd, "@sup:%d:1 file %s\n@sup:%d:1 file %s\n", getpid(), dead, getpid(), gone);
	/* and a pid that is not running at all */
	dprintf(fd, "@sup:%d:1 cancel file %s\n@sup:99999999:7 file %s\n", getpid(), gone, dead2);
	close(fd);
	assert_int_equal(fl_state_open("own", &st), 0);
	fl_state_set_owner(st, true);
	assert_int_equal(fl_state_record(st, "file", "%s", live), 0);
	assert_int_equal(fl_state_undo_dead_owners(st, &n), 0);
	assert_int_equal(n, 2);
	assert_false(exists(dead));
	assert_false(exists(dead2));
	assert_true(exists(gone)); /* withdrawn: somebody else's */
	assert_true(exists(lab));
	assert_true(exists(live));
	/* a second pass finds nothing: the undone ones were withdrawn */
	assert_int_equal(fl_state_undo_dead_owners(st, &n), 0);
	assert_int_equal(n, 0);
	fl_state_close(st);
	/* our own records carry our tag */
	j = fopen(journal, "r");
	assert_non_null(j);
	n = 0;
	while (fgets(line, sizeof(line), j))
		n += !strncmp(line, "@sup:", 5) && strstr(line, " file ") &&
		     strstr(line, "/live\n");
	fclose(j);
	assert_int_equal(n, 1);
	/* cleanup reads tagged records like any other */
	assert_int_equal(fl_state_cleanup("own"), 0);
	assert_false(exists(lab));
	assert_false(exists(live));
	assert_true(exists(gone));
}

static void test_run_dir_from_env(void **ctx)
{
	(void)ctx;
	assert_non_null(strstr(fl_run_dir(), "/fallacy-test-state."));
	unsetenv("FALLACY_RUN_DIR");
	assert_string_equal(fl_run_dir(), "/run/fallacy");
	setup(ctx);
}

static void test_round_trip(void **ctx)
{
	struct fl_state *st = NULL;
	char d[512], f[512], line[1200], journal[600];
	FILE *j;

	(void)ctx;
	path_of(d, sizeof(d), "d");
	path_of(f, sizeof(f), "d/f");
	assert_int_equal(fl_state_create("s1", &st), 0);
	assert_int_equal(fl_state_record(st, "dir", "%s", d), 0);
	assert_int_equal(mkdir(d, 0755), 0);
	assert_int_equal(fl_state_record(st, "file", "%s", f), 0);
	touch(f);
	fl_state_close(st);

	snprintf(journal, sizeof(journal), "%s/run/s1/journal", tmp);
	j = fopen(journal, "r");
	assert_non_null(j);
	assert_non_null(fgets(line, sizeof(line), j));
	assert_true(!strncmp(line, "dir ", 4) && strstr(line, "/d\n"));
	assert_non_null(fgets(line, sizeof(line), j));
	assert_true(!strncmp(line, "file ", 5) && strstr(line, "/d/f\n"));
	assert_null(fgets(line, sizeof(line), j));
	fclose(j);

	assert_int_equal(fl_state_cleanup("s1"), 0);
	assert_false(exists(f));
	assert_false(exists(d));
	snprintf(journal, sizeof(journal), "%s/run/s1", tmp);
	assert_false(exists(journal));
}

static void test_create_twice_is_eexist(void **ctx)
{
	struct fl_state *a = NULL, *b = NULL;

	(void)ctx;
	assert_int_equal(fl_state_create("dup", &a), 0);
	assert_int_equal(fl_state_create("dup", &b), -EEXIST);
	assert_null(b);
	fl_state_close(a);
	assert_int_equal(fl_state_open("dup", &b), 0);
	fl_state_close(b);
	assert_int_equal(fl_state_open("nope", &b), -ENOENT);
	assert_int_equal(fl_state_cleanup("dup"), 0);
	assert_int_equal(fl_state_cleanup("dup"), -ENOENT);
}

/* rmdir only removes an empty directory; records are undone newest first,
 * so the file inside is gone before the directory's rmdir runs. */
static void test_reverse_order(void **ctx)
{
	struct fl_state *st = NULL;
	char d[512], f[512];

	(void)ctx;
	path_of(d, sizeof(d), "order");
	path_of(f, sizeof(f), "order/x");
	assert_int_equal(fl_state_create("rev", &st), 0);
	assert_int_equal(fl_state_record(st, "rmdir", "%s", d), 0);
	mkdir(d, 0755);
	assert_int_equal(fl_state_record(st, "file", "%s", f), 0);
	touch(f);
	fl_state_close(st);
	assert_int_equal(fl_state_cleanup("rev"), 0);
	assert_false(exists(d));
}

/* Objects that are already gone, and a torn last line, are tolerated. */
static void test_tolerates_gone(void **ctx)
{
	struct fl_state *st = NULL;
	char d[512], journal[600];
	int fd;

	(void)ctx;
	path_of(d, sizeof(d), "never-made");
	assert_int_equal(fl_state_create("gone", &st), 0);
	assert_int_equal(fl_state_record(st, "dir", "%s", d), 0);
	assert_int_equal(fl_state_record(st, "file", "%s/f", d), 0);
	assert_int_equal(fl_state_record(st, "mount", "%s", d), 0);
	assert_int_equal(fl_state_record(st, "netns", "fl-unit-test-absent-%d", getpid()), 0);
	assert_int_equal(fl_state_record(st, "pid", "%d 1", getpid()), 0);
	fl_state_close(st);
	snprintf(journal, sizeof(journal), "%s/run/gone/journal", tmp);
	fd = open(journal, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "file /etc/passw", 15), 15); /* torn, no newline */
	close(fd);
	assert_int_equal(fl_state_cleanup("gone"), 0);
	assert_true(exists("/etc/passwd"));
}

/* A cancelled record (EEXIST at creation: not ours) is never undone. */
static void test_cancel(void **ctx)
{
	struct fl_state *st = NULL;
	char f[512], rec[600];

	(void)ctx;
	path_of(f, sizeof(f), "foreign");
	touch(f);
	assert_int_equal(fl_state_create("cancel", &st), 0);
	assert_int_equal(fl_state_record(st, "file", "%s", f), 0);
	snprintf(rec, sizeof(rec), "file %s", f);
	assert_int_equal(fl_state_cancel(st, rec), 0);
	fl_state_close(st);
	assert_int_equal(fl_state_cleanup("cancel"), 0);
	assert_true(exists(f));
}

static void write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* "restore PATH SAVED" writes SAVED's content over PATH in place (the same
 * inode, which bind mounts of PATH keep seeing); a PATH that is gone stays
 * gone. */
static void test_restore(void **ctx)
{
	struct fl_state *st = NULL;
	char f[512], saved[512], gone[512], buf[64] = "";
	struct stat before, after;
	int fd;

	(void)ctx;
	path_of(f, sizeof(f), "hosts");
	path_of(saved, sizeof(saved), "hosts.saved");
	path_of(gone, sizeof(gone), "gone");
	write_text(saved, "old\n");
	write_text(f, "a longer new text\n");
	assert_int_equal(lstat(f, &before), 0);
	assert_int_equal(fl_state_create("restore", &st), 0);
	assert_int_equal(fl_state_record(st, "restore", "%s %s", f, saved), 0);
	assert_int_equal(fl_state_record(st, "restore", "%s %s", gone, saved), 0);
	fl_state_close(st);
	assert_int_equal(fl_state_cleanup("restore"), 0);
	assert_int_equal(lstat(f, &after), 0);
	assert_true(before.st_ino == after.st_ino);
	fd = open(f, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 4);
	close(fd);
	assert_string_equal(buf, "old\n");
	assert_false(exists(gone));
}

/* fl_state_undo removes one object now and withdraws its record: a later
 * cleanup does not undo it again. */
static void test_undo_one(void **ctx)
{
	struct fl_state *st = NULL;
	char a[512], b[512], rec[600];

	(void)ctx;
	path_of(a, sizeof(a), "a");
	path_of(b, sizeof(b), "b");
	touch(a);
	touch(b);
	assert_int_equal(fl_state_create("one", &st), 0);
	assert_int_equal(fl_state_record(st, "file", "%s", a), 0);
	assert_int_equal(fl_state_record(st, "file", "%s", b), 0);
	snprintf(rec, sizeof(rec), "file %s", a);
	assert_int_equal(fl_state_undo(st, rec), 0);
	assert_false(exists(a));
	assert_true(exists(b));
	touch(a); /* somebody else's now */
	fl_state_close(st);
	assert_int_equal(fl_state_cleanup("one"), 0);
	assert_true(exists(a));
	assert_false(exists(b));
}

static void test_unknown_kind_keeps_session(void **ctx)
{
	struct fl_state *st = NULL;
	char dir[600];

	(void)ctx;
	assert_int_equal(fl_state_create("odd", &st), 0);
	assert_int_equal(fl_state_record(st, "frobnicate", "x"), 0);
	fl_state_close(st);
	assert_int_equal(fl_state_cleanup("odd"), -EINVAL);
	snprintf(dir, sizeof(dir), "%s/run/odd/journal", tmp);
	assert_true(exists(dir));
}

static void test_list_sorted(void **ctx)
{
	struct fl_state *st = NULL;
	char **names = NULL;
	size_t n = 0;

	(void)ctx;
	assert_int_equal(fl_state_create("b", &st), 0);
	fl_state_close(st);
	assert_int_equal(fl_state_create("@wrap-1", &st), 0);
	fl_state_close(st);
	assert_int_equal(fl_state_create("a", &st), 0);
	fl_state_close(st);
	assert_int_equal(fl_state_list(&names, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "@wrap-1");
	assert_string_equal(names[1], "a");
	assert_string_equal(names[2], "b");
	fl_strv_free(names, n);
	assert_int_equal(fl_state_create("../x", &st), -EINVAL);
}

/* A recorded process is stopped (SIGTERM first); a pid whose start time
 * does not match (reused pid) is left alone. */
static void test_pid_record(void **ctx)
{
	struct fl_state *st = NULL;
	int status;
	pid_t child = fork();

	(void)ctx;
	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	while (!fl_proc_starttime(child))
		usleep(1000);
	assert_int_equal(fl_state_create("pids", &st), 0);
	assert_int_equal(
		fl_state_record(st, "pid", "%d %llu", (int)child, fl_proc_starttime(child) + 1), 0);
	fl_state_close(st);
	assert_int_equal(fl_state_cleanup("pids"), 0);
	assert_int_equal(kill(child, 0), 0); /* not ours: start time differs */

	assert_int_equal(fl_state_create("pids", &st), 0);
	assert_int_equal(
		fl_state_record(st, "pid", "%d %llu", (int)child, fl_proc_starttime(child)), 0);
	fl_state_close(st);
	assert_int_equal(fl_state_cleanup("pids"), 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
}

static void plan_cb(void *arg, const char *rec, bool known)
{
	char *out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%s%s|", rec, known ? "" : "?");
}

/* The plan of a cleanup, newest first; found by fuzz_journal: a bare
 * "cancel" record (torn) read past its end. */
static void test_plan(void **ctx)
{
	char text[] = "netns a\nlink a x\ncancel\ncancel link a x\nfrob 1\n", out[256] = "";

	(void)ctx;
	assert_int_equal(fl_undo_plan(text, strlen(text), plan_cb, out), 0);
	assert_string_equal(out, "frob 1?|netns a|");
}

static void test_starttime(void **ctx)
{
	(void)ctx;
	assert_true(fl_proc_starttime(getpid()) > 0);
	assert_int_equal(fl_proc_starttime(0x3ffffff), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_run_dir_from_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_twice_is_eexist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reverse_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tolerates_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_undo_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_kind_keeps_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_sorted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pid_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_starttime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_owner, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
