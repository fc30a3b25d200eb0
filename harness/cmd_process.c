// SPDX-License-Identifier: MIT
/* fallacy process LAB NODES kill|pause|resume|restart [--process NAME]
 *
 * Process faults by hand. While `fallacy run` runs on LAB, the run does
 * the work (its socket RUN_DIR/LAB/run.sock): it knows the target's
 * processes, resolves selectors (leader, minority, a role) and records the
 * events. On a lab without a run (`lab up`), kill, pause and resume signal
 * every process in the nodes' namespaces; restart needs the run, which
 * knows how the target was started. */
#include "cmd.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lab/lab.h"
#include "log.h"
#include "parse.h"
#include "select.h"
#include "state/state.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fallacy process LAB NODES ACTION [--process NAME]\n\n"
		"Process faults on a lab's target processes, as the timeline's kill,\n"
		"pause and restart steps do.\n\n"
		"  NODES     a node, a comma list, all; while `fallacy run` runs on LAB\n"
		"            also a selector: one, minority, majority, leader, primaries,\n"
		"            a role of the target\n"
		"  ACTION    kill     SIGKILL (it stays down until restart or heal)\n"
		"            pause    SIGSTOP (also: stop)\n"
		"            resume   SIGCONT (also: cont)\n"
		"            restart  SIGTERM, the target's stop grace, SIGKILL, start again\n"
		"                     with the same data dir (a run only)\n"
		"            heal     resume what is paused, start what was killed (a run only)\n"
		"  --process NAME  only that process of the node (the target's start item\n"
		"                  name, e.g. sentinel)\n\n"
		"On a lab without a run, kill, pause and resume signal every process in\n"
		"the nodes' namespaces (what `lab exec` started).\n\n"
		"EXAMPLES\n"
		"  fallacy process fr123-1 leader kill\n"
		"  fallacy process fr123-1 n2 restart\n"
		"  fallacy process fr123-1 minority pause\n"
		"  fallacy process demo n1,n3 resume\n\n"
		"Exit status: 0 done, 2 bad input or nothing to act on.\n");
}

/* The run's answer, or -ENOENT/-ECONNREFUSED when no run serves LAB. */
static int ask_run(const char *lab, const char *line, char *answer, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd p = { .events = POLLIN };
	size_t n = 0;
	ssize_t got;
	int fd, ret = 0;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s/run.sock", fl_run_dir(),
			     lab) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	p.fd = fd;
	/* a restart waits for the target's stop grace */
	while (n + 1 < len && poll(&p, 1, 120000) == 1 &&
	       (got = read(fd, answer + n, len - n - 1)) > 0)
		n += (size_t)got;
	answer[n] = '\0';
	close(fd);
	return n ? 0 : -EPIPE;
}

/* Every process whose network namespace is netns gets sig. */
static int signal_netns(const char *netns, int sig, size_t *count)
{
	char path[300];
	struct stat ns, st;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	if (stat(path, &ns))
		return -errno;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		int pid = atoi(de->d_name);

		if (pid <= 1 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		if (stat(path, &st) || st.st_ino != ns.st_ino || st.st_dev != ns.st_dev)
			continue;
		if (!kill(pid, sig))
			(*count)++;
	}
	closedir(d);
	return 0;
}

/* No run on LAB: signal what runs in the nodes' namespaces. */
static int on_plain_lab(const char *lab_name, const char *nodes, const char *action)
{
	int sig = !strcmp(action, "kill")			       ? SIGKILL :
		  !strcmp(action, "pause") || !strcmp(action, "stop")  ? SIGSTOP :
		  !strcmp(action, "resume") || !strcmp(action, "cont") ? SIGCONT :
									 0;
	struct fl_lab *lab = NULL;
	char buf[512];
	size_t count = 0;
	int ret;

	if (!sig) {
		pr_err("process: %s needs the run that started the target (fallacy run); lab '%s' "
		       "has none",
		       action, lab_name);
		return FL_EXIT_USAGE;
	}
	ret = fl_lab_load(lab_name, &lab);
	if (ret)
		return FL_EXIT_USAGE; /* fl_lab_load said why */
	snprintf(buf, sizeof(buf), "%s", nodes);
	for (char *s = buf, *tok; !ret && (tok = strsep(&s, ","));) {
		for (size_t i = 0; i < lab->n_nodes && !ret; i++)
			if (!strcmp(tok, "all") || !strcmp(tok, lab->nodes[i].name))
				ret = signal_netns(lab->nodes[i].netns, sig, &count);
		if (strcmp(tok, "all") && !fl_lab_node(lab, tok)) {
			pr_err("process: lab '%s' has no node '%s' (selectors other than all need "
			       "a run)",
			       lab_name, tok);
			ret = -ENOENT;
		}
	}
	fl_lab_free(lab);
	if (ret)
		return FL_EXIT_USAGE;
	if (!count) {
		pr_err("process: no process runs on %s in lab '%s'", nodes, lab_name);
		return FL_EXIT_USAGE;
	}
	printf("%s: %zu process%s signalled\n", nodes, count, count == 1 ? "" : "es");
	return FL_EXIT_OK;
}

static int parse(int argc, char **argv, const char **proc)
{
	static const struct option opts[] = { { "process", required_argument, NULL, 'p' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct fl_err err;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		if (c != 'p') {
			usage(stderr);
			return FL_EXIT_USAGE;
		}
		if (fl_validate_name("--process", optarg, 16, &err)) {
			pr_err("process: %s", err.msg);
			return FL_EXIT_USAGE;
		}
		*proc = optarg;
	}
	if (argc - optind != 3) {
		pr_err("process: expected LAB NODES ACTION (see fallacy process --help)");
		return FL_EXIT_USAGE;
	}
	{
		char line[64];
		struct fl_proc_req req;

		snprintf(line, sizeof(line), "%.31s n", argv[optind + 2]);
		if (!fl_proc_req_parse(line, &req, &err))
			return 0;
	}
	pr_err("process: unknown action '%s' (kill, pause, resume, restart, heal)",
	       argv[optind + 2]);
	return FL_EXIT_USAGE;
}

int do_process(int argc, char **argv)
{
	const char *proc = NULL, *lab, *nodes, *action;
	char line[600], answer[700];
	struct fl_err err;
	int ret = fl_wants_help(argc, argv) ? (usage(stdout), -1) : parse(argc, argv, &proc);

	if (ret)
		return ret < 0 ? FL_EXIT_OK : ret;
	lab = argv[optind];
	nodes = argv[optind + 1];
	action = argv[optind + 2];
	if (fl_validate_name("LAB", lab, FL_LAB_NAME_MAX, &err) || !nodes[0] ||
	    strpbrk(nodes, " \t\n")) {
		pr_err("process: %s", nodes[0] ? err.msg : "NODES is empty");
		return FL_EXIT_USAGE;
	}
	if (fl_cmd_check)
		return FL_EXIT_OK;
	if (geteuid()) {
		pr_err("process: needs root; try sudo");
		return FL_EXIT_USAGE;
	}
	snprintf(line, sizeof(line), "%s %s%s%s\n", action, nodes, proc ? " " : "",
		 proc ? proc : "");
	ret = ask_run(lab, line, answer, sizeof(answer));
	if (ret == -ENOENT || ret == -ECONNREFUSED)
		return proc ? (pr_err("process: --process needs a run on lab '%s'", lab),
			       FL_EXIT_USAGE) :
			      on_plain_lab(lab, nodes, action);
	if (ret) {
		pr_err("process: asking the run on lab '%s': %s", lab, strerror(-ret));
		return FL_EXIT_USAGE;
	}
	answer[strcspn(answer, "\r\n")] = '\0';
	if (!strncmp(answer, "ok ", 3)) {
		printf("%s: %s\n", answer + 3, action);
		return FL_EXIT_OK;
	}
	pr_err("process: %s", strncmp(answer, "error ", 6) ? answer : answer + 6);
	return FL_EXIT_USAGE;
}
