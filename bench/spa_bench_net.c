/* SPDX-License-Identifier: MIT */
/*
 * Network side of the daemon benchmarks (bench/run.sh), run inside the
 * client namespace:
 *
 *   spa_bench_net knock SRC DST UDP_PORT PKT_FILE TCP_PORT TIMEOUT_MS
 *     Sends the pre-built SPA datagram in PKT_FILE from SRC, then tries a
 *     TCP connect from SRC every millisecond; prints the microseconds from
 *     the send to the first connect that completes, or "timeout".
 *
 *   spa_bench_net flood SRC DST UDP_PORT COUNT RATE LEN
 *     Sends COUNT datagrams of LEN random base64 characters at RATE per
 *     second; prints the seconds it took. With LEN that of a real packet
 *     they pass every shape check and cost a full HMAC attempt per stanza,
 *     which is what an attacker without the keys can make a server pay.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SPA_BENCH_PKT_MAX 1500
#define SPA_BENCH_POLL_MS 1

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_addr(const char *ip, const char *port, struct sockaddr_in *sa)
{
	char *end = NULL;
	unsigned long p = 0;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1)
		return -1;
	if (port) {
		errno = 0;
		p = strtoul(port, &end, 10);
		if (errno || *end || p > 65535)
			return -1;
	}
	sa->sin_port = htons((uint16_t)p);
	return 0;
}

static int bound_socket(int type, const struct sockaddr_in *src)
{
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (const struct sockaddr *)src, sizeof(*src)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One connect attempt that gives up after SPA_BENCH_POLL_MS: the SYN of a
 * dropped attempt would only be retransmitted after a second, so a fresh
 * socket per attempt is what gives millisecond resolution. */
static int try_connect(const struct sockaddr_in *src, const struct sockaddr_in *dst)
{
	struct pollfd pfd;
	int err = 0, rc = -1;
	socklen_t len = sizeof(err);
	int fd = bound_socket(SOCK_STREAM | SOCK_NONBLOCK, src);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) == 0) {
		rc = 0;
		goto out;
	}
	if (errno != EINPROGRESS)
		goto out;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	pfd.revents = 0;
	if (poll(&pfd, 1, SPA_BENCH_POLL_MS) == 1 &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
		rc = 0;
out:
	close(fd);
	return rc;
}

static int cmd_knock(char **argv)
{
	struct sockaddr_in src, dst_udp, dst_tcp;
	char pkt[SPA_BENCH_PKT_MAX];
	size_t n = 0;
	uint64_t t0, deadline;
	long timeout_ms = atol(argv[5]);
	int fd = -1, rc = 1;
	FILE *f = NULL;

	if (parse_addr(argv[0], NULL, &src) || parse_addr(argv[1], argv[2], &dst_udp) ||
	    parse_addr(argv[1], argv[4], &dst_tcp) || timeout_ms <= 0) {
		fprintf(stderr, "knock: bad arguments\n");
		goto out;
	}
	f = fopen(argv[3], "rb");
	if (!f) {
		perror(argv[3]);
		goto out;
	}
	n = fread(pkt, 1, sizeof(pkt), f);
	while (n > 0 && (pkt[n - 1] == '\n' || pkt[n - 1] == '\r'))
		n--;
	if (n == 0) {
		fprintf(stderr, "knock: empty packet file\n");
		goto out;
	}
	fd = bound_socket(SOCK_DGRAM, &src);
	if (fd < 0) {
		perror("knock: udp socket");
		goto out;
	}
	t0 = now_ns();
	deadline = t0 + (uint64_t)timeout_ms * 1000000u;
	if (sendto(fd, pkt, n, 0, (const struct sockaddr *)&dst_udp, sizeof(dst_udp)) != (ssize_t)n) {
		perror("knock: sendto");
		goto out;
	}
	while (now_ns() < deadline) {
		if (try_connect(&src, &dst_tcp) == 0) {
			printf("%llu\n", (unsigned long long)((now_ns() - t0) / 1000u));
			rc = 0;
			goto out;
		}
	}
	printf("timeout\n");
	rc = 2;
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int cmd_flood(char **argv)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct sockaddr_in src, dst;
	char pkt[SPA_BENCH_PKT_MAX];
	long count = atol(argv[3]), rate = atol(argv[4]), len = atol(argv[5]), i;
	uint64_t t0, due;
	struct timespec ts;
	size_t j;
	int fd = -1, rc = 1;

	if (parse_addr(argv[0], NULL, &src) || parse_addr(argv[1], argv[2], &dst) ||
	    count <= 0 || rate <= 0 || len <= 0 || len > (long)sizeof(pkt)) {
		fprintf(stderr, "flood: bad arguments\n");
		goto out;
	}
	fd = bound_socket(SOCK_DGRAM, &src);
	if (fd < 0) {
		perror("flood: udp socket");
		goto out;
	}
	srand((unsigned)now_ns());
	t0 = now_ns();
	for (i = 0; i < count; i++) {
		/* Pace against the start time so a late wake-up does not lower
		 * the average rate. */
		due = t0 + (uint64_t)i * 1000000000u / (uint64_t)rate;
		if (now_ns() < due) {
			ts.tv_sec = (time_t)(due / 1000000000u);
			ts.tv_nsec = (long)(due % 1000000000u);
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
		for (j = 0; j < (size_t)len; j++)
			pkt[j] = b64[(unsigned)rand() % 64u];
		if (sendto(fd, pkt, (size_t)len, 0, (const struct sockaddr *)&dst, sizeof(dst)) < 0 &&
		    errno != ENOBUFS && errno != EAGAIN) {
			perror("flood: sendto");
			goto out;
		}
	}
	printf("%.3f\n", (double)(now_ns() - t0) / 1e9);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 8 && strcmp(argv[1], "knock") == 0)
		return cmd_knock(argv + 2);
	if (argc == 8 && strcmp(argv[1], "flood") == 0)
		return cmd_flood(argv + 2);
	fprintf(stderr,
		"usage: spa_bench_net knock SRC DST UDP_PORT PKT_FILE TCP_PORT TIMEOUT_MS\n"
		"       spa_bench_net flood SRC DST UDP_PORT COUNT RATE LEN\n");
	return 64;
}
