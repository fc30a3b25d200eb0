// SPDX-License-Identifier: MIT
/* A UDP sender that is not the limit, for bench/delayline.sh: PROCS
 * processes, each with its own socket, sending 64-byte datagrams with
 * sendmmsg (64 per call) to IP:PORT for SECONDS, paced to PPS in total
 * (0 = as fast as they can). Prints "sent N" (datagrams the kernel
 * accepted) on stdout.
 *   udpflood IP PORT SECONDS PPS PROCS */
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

/* One sender: returns the datagrams sent. */
static uint64_t flood(const struct sockaddr_in *to, double secs, double pps)
{
	static char buf[BATCH][PAYLOAD];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	int fd = socket(AF_INET, SOCK_DGRAM, 0), big = 4 << 20;
	uint64_t sent = 0, t0 = now_ns(), end = t0 + (uint64_t)(secs * 1e9), seq = 0;

	if (fd < 0 || connect(fd, (const struct sockaddr *)to, sizeof(*to)) < 0) {
		perror("udpflood: socket");
		return 0;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ buf[i], PAYLOAD };
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	for (uint64_t now = t0; now < end; now = now_ns()) {
		int n;

		for (int i = 0; i < BATCH; i++)
			memcpy(buf[i], &(uint64_t){ seq + (uint64_t)i }, sizeof(uint64_t));
		n = sendmmsg(fd, mm, BATCH, 0);
		if (n > 0) {
			sent += (uint64_t)n;
			seq += (uint64_t)n;
		}
		if (pps > 0)
			sleep_until(t0 + (uint64_t)((double)sent / pps * 1e9));
	}
	close(fd);
	return sent;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	int procs, fds[2];
	uint64_t total = 0, one;
	double secs, pps;

	if (argc != 6 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "usage: udpflood IP PORT SECONDS PPS PROCS\n");
		return 2;
	}
	to.sin_port = htons((uint16_t)atoi(argv[2]));
	secs = atof(argv[3]);
	pps = atof(argv[4]);
	procs = atoi(argv[5]);
	if (procs < 1 || procs > 64 || secs <= 0 || pipe(fds) < 0)
		return 2;
	for (int i = 0; i < procs; i++) {
		if (fork() == 0) {
			one = flood(&to, secs, pps / procs);
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
