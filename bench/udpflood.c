// SPDX-License-Identifier: MIT
/* A UDP sender that is not the limit, for bench/delayline.sh: PROCS
 * processes, each with its own socket, sending 64-byte datagrams with
 * sendmmsg (64 per call) to IP:PORT for SECONDS, paced to PPS in total
 * (0 = as fast as they can). With source addresses (SRC,SRC,...), they
 * are dealt out to the processes, each sending from its own in turn (one
 * socket each): one flow per address pair for --queue-balance to spread.
 * Prints "sent N" (datagrams the kernel accepted) on stdout.
 *   udpflood IP PORT SECONDS PPS PROCS [SRC,SRC,...] */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define PAYLOAD 64
#define MAX_SRC 64

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* A socket from src (0 = any) connected to to; -1 on error. */
static int open_sock(const struct sockaddr_in *to, uint32_t src)
{
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_addr.s_addr = src };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), big = 4 << 20;

	if (fd < 0 || (src && bind(fd, (const struct sockaddr *)&from, sizeof(from)) < 0) ||
	    connect(fd, (const struct sockaddr *)to, sizeof(*to)) < 0) {
		perror("udpflood: socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	return fd;
}

/* One sender over its sources (nsrc >= 1; src 0 = any): returns the
 * datagrams sent. */
static uint64_t flood(const struct sockaddr_in *to, const uint32_t *src, int nsrc, double secs,
		      double pps)
{
	static char buf[BATCH][PAYLOAD];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	int fds[MAX_SRC], k = 0;
	uint64_t sent = 0, t0 = now_ns(), end = t0 + (uint64_t)(secs * 1e9), seq = 0;

	for (int i = 0; i < nsrc; i++)
		if ((fds[i] = open_sock(to, src[i])) < 0)
			return 0;
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ buf[i], PAYLOAD };
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	for (uint64_t now = t0; now < end; now = now_ns()) {
		int n;

		for (int i = 0; i < BATCH; i++)
			memcpy(buf[i], &(uint64_t){ seq + (uint64_t)i }, sizeof(uint64_t));
		n = sendmmsg(fds[k], mm, BATCH, 0);
		k = (k + 1) % nsrc;
		if (n > 0) {
			sent += (uint64_t)n;
			seq += (uint64_t)n;
		}
		if (pps > 0)
			sleep_until(t0 + (uint64_t)((double)sent / pps * 1e9));
	}
	for (int i = 0; i < nsrc; i++)
		close(fds[i]);
	return sent;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint32_t src[MAX_SRC] = { 0 };
	int procs, fds[2], nsrc = 0;
	uint64_t total = 0, one;
	double secs, pps;

	if ((argc != 6 && argc != 7) || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "usage: udpflood IP PORT SECONDS PPS PROCS [SRC,SRC,...]\n");
		return 2;
	}
	for (char *t = argc == 7 ? strtok(argv[6], ",") : NULL; t && nsrc < MAX_SRC;
	     t = strtok(NULL, ","))
		if (inet_pton(AF_INET, t, &src[nsrc++]) != 1)
			return 2;
	to.sin_port = htons((uint16_t)atoi(argv[2]));
	secs = atof(argv[3]);
	pps = atof(argv[4]);
	procs = atoi(argv[5]);
	if (procs < 1 || procs > 64 || secs <= 0 || pipe(fds) < 0)
		return 2;
	for (int i = 0; i < procs; i++) {
		if (fork() == 0) {
			uint32_t mine[MAX_SRC];
			int n = 0;

			for (int j = i; j < nsrc; j += procs)
				mine[n++] = src[j];
			if (!n)
				mine[n++] = nsrc ? src[i % nsrc] : 0;
			one = flood(&to, mine, n, secs, pps / procs);
			_exit(write(fds[1], &one, sizeof(one)) == sizeof(one) ? 0 : 1);
		}
	}
	close(fds[1]);
	while (read(fds[0], &one, sizeof(one)) == sizeof(one))
		total += one;
	while (wait(NULL) > 0)
		;
	printf("sent %llu\n", (unsigned long long)total);
	return 0;
}
