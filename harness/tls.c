// SPDX-License-Identifier: MIT
/* Certificates for a target with `tls: true`: a CA of the run and one
 * certificate per node (its name and addresses, server and client use),
 * made with Debian's openssl into SCRATCH/tls, the run's scratch folder
 * that the lab's journal removes with the lab (also after a crash). The
 * keys never leave it. */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"

#define TLS_DAYS "2"
#define TLS_KEY "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"

/* openssl's config: one section of extensions for the CA, one per node. */
static int write_config(const struct fl_run *r, const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fprintf(f, "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = fallacy\n"
		   "[ca]\nbasicConstraints = critical,CA:TRUE\n"
		   "keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n");
	for (size_t i = 0; i < r->n_nodes; i++) {
		const struct fl_run_node *n = &r->nodes[i];

		fprintf(f,
			"[node_%s]\nbasicConstraints = critical,CA:FALSE\n"
			"keyUsage = critical,digitalSignature,keyEncipherment\n"
			"extendedKeyUsage = serverAuth,clientAuth\n"
			"subjectAltName = DNS:%s,IP:%s%s%s\n",
			n->name, n->name, n->ip, n->ip6[0] ? ",IP:" : "", n->ip6);
	}
	return fclose(f) ? -errno : 0;
}

static int openssl(struct fl_run *r, const char *args, int log_fd)
{
	struct fl_spawn sp = { .out_fd = log_fd, .die_with_parent = true };
	char *cmd = NULL;
	int status = -1, ret;

	if (asprintf(&cmd,
		     "openssl req -x509 -config %s/openssl.cnf -days " TLS_DAYS " " TLS_KEY " %s",
		     r->tls_dir, args) < 0)
		return -ENOMEM;
	sp.cmd = cmd;
	dprintf(log_fd, "# fallacy: %s\n", cmd);
	ret = fl_proc_run(&sp, 30000000000ULL, &status);
	free(cmd);
	return ret ?: status ? -EIO : 0;
}

/* Keys readable by the target's user only. */
static int give(const struct fl_run *r, const struct passwd *pw)
{
	char path[600];

	if (!pw)
		return 0;
	if (chown(r->tls_dir, pw->pw_uid, pw->pw_gid))
		return -errno;
	for (size_t i = 0; i <= r->n_nodes; i++) {
		const char *who = i < r->n_nodes ? r->nodes[i].name : "ca";

		for (int k = 0; k < 2; k++) {
			snprintf(path, sizeof(path), "%s/%s.%s", r->tls_dir, who,
				 k ? "key" : "pem");
			if (chown(path, pw->pw_uid, pw->pw_gid) && errno != ENOENT)
				return -errno;
		}
	}
	return 0;
}

int fl_run_tls(struct fl_run *r, char *why, size_t len)
{
	struct passwd *pw = r->t->user ? getpwnam(r->t->user) : NULL;
	char path[700], args[1200];
	int log_fd, ret;

	if (!r->t->tls)
		return 0;
	snprintf(r->tls_dir, sizeof(r->tls_dir), "%s/tls", r->scratch);
	snprintf(path, sizeof(path), "%s/logs/tls.log", r->dir);
	log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	ret = mkdir(r->tls_dir, 0700) ? -errno : 0;
	snprintf(path, sizeof(path), "%s/openssl.cnf", r->tls_dir);
	ret = ret ?: write_config(r, path);
	snprintf(args, sizeof(args),
		 "-extensions ca -subj '/CN=fallacy %s CA' -keyout %s/ca.key -out %s/ca.pem",
		 r->lab_name, r->tls_dir, r->tls_dir);
	ret = ret ?: openssl(r, args, log_fd);
	for (size_t i = 0; i < r->n_nodes && !ret; i++) {
		const char *n = r->nodes[i].name;

		snprintf(args, sizeof(args),
			 "-extensions node_%s -subj /CN=%s -CA %s/ca.pem -CAkey %s/ca.key "
			 "-keyout %s/%s.key -out %s/%s.pem",
			 n, n, r->tls_dir, r->tls_dir, r->tls_dir, n, r->tls_dir, n);
		ret = openssl(r, args, log_fd);
	}
	ret = ret ?: give(r, pw);
	if (log_fd >= 0)
		close(log_fd);
	if (ret)
		snprintf(why, len,
			 "making the run's certificates in %s failed (%s; see logs/tls.log)",
			 r->tls_dir, strerror(-ret));
	return ret;
}
