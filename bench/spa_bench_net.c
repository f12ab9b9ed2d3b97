/* SPDX-License-Identifier: MIT */
/*
 * Network side of the daemon benchmarks (bench/run.sh), run inside the
 * client namespace:
 *
 *   spa_bench_net knock SRC DST UDP_PORT PKT_FILE TCP_PORT TIMEOUT_MS [EVERY_US [PROBE_DST]]
 *     Sends the pre-built SPA datagram in PKT_FILE from SRC, then starts a
 *     new non-blocking TCP connect from SRC every EVERY_US microseconds
 *     (default 75) while the earlier ones are still outstanding; prints the
 *     microseconds from the send to the first connect that completes, or
 *     "timeout", then the number of connects it started (on a busy CPU
 *     they cannot always start on time). The connects go to DST, or to
 *     PROBE_DST when given: a cluster grant knocked on one node, opened on
 *     another (bench/cluster.sh).
 *
 *   spa_bench_net flood SRC DST UDP_PORT COUNT RATE LEN
 *     Sends COUNT datagrams of LEN random base64 characters at RATE per
 *     second; prints the seconds it took. With LEN that of a real packet
 *     they pass every shape check and cost a full HMAC attempt per stanza,
 *     which is what an attacker without the keys can make a server pay.
 *
 *   spa_bench_net blast SRC DST UDP_PORT SECONDS LEN
 *     The same garbage, unpaced, as fast as this one thread can send, for
 *     SECONDS or until SIGTERM; prints "<datagrams> <datagrams/s>".
 *
 *   spa_bench_net send LIST DST UDP_PORT RATE [RXQ_DIR RXQ_MAX_BYTES]
 *     LIST holds lines "SRC PKT_FILE": each packet is sent once from a
 *     socket bound to its SRC, RATE per second (0: unpaced). With RXQ_DIR
 *     (the server's /proc/<daemon pid>/net), a packet is held back while
 *     the daemon's sockets on UDP_PORT have RXQ_MAX_BYTES or more queued,
 *     so the kernel never drops one. Prints "<first send> <last send> <sent>
 *     <held>", the times as CLOCK_REALTIME microseconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SPA_BENCH_PKT_MAX 1500
/* A dropped SYN is only retransmitted after a second, so an attempt older
 * than this can no longer be the first to pass: close it. */
#define SPA_BENCH_ATTEMPT_MAX_NS 4000000u
#define SPA_BENCH_ATTEMPTS 256
#define SPA_BENCH_EVERY_US 75
#define SPA_BENCH_GARBAGE_POOL 256
#define SPA_BENCH_RXQ_POLL_NS 200000u
#define SPA_BENCH_RXQ_EVERY 16

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static void sleep_until(uint64_t due)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(due / 1000000000u);
	ts.tv_nsec = (long)(due % 1000000000u);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_addr(const char *ip, const char *port, struct sockaddr_in *sa)
{
	long p = 0;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1)
		return -1;
	if (port && parse_long(port, 0, 65535, &p))
		return -1;
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

/* Reads a packet file; trailing line ends are not part of the datagram. */
static int read_packet(const char *path, char *buf, size_t cap, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, cap, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	*len = n;
	return n > 0 ? 0 : -1;
}

struct spa_bench_probe {
	struct sockaddr_in src;
	struct sockaddr_in dst;
	struct pollfd pfd[SPA_BENCH_ATTEMPTS];
	uint64_t started[SPA_BENCH_ATTEMPTS];
	size_t n;
	unsigned long attempts;
};

static void probe_drop(struct spa_bench_probe *p, size_t i)
{
	close(p->pfd[i].fd);
	p->n--;
	p->pfd[i] = p->pfd[p->n];
	p->started[i] = p->started[p->n];
}

/* Returns 1 when the connect completed at once (loopback-fast paths). */
static int probe_start(struct spa_bench_probe *p, uint64_t now)
{
	int fd;

	if (p->n == SPA_BENCH_ATTEMPTS)
		probe_drop(p, 0);
	fd = bound_socket(SOCK_STREAM | SOCK_NONBLOCK, &p->src);
	if (fd < 0)
		return 0;
	p->attempts++;
	if (connect(fd, (const struct sockaddr *)&p->dst, sizeof(p->dst)) == 0) {
		close(fd);
		return 1;
	}
	if (errno != EINPROGRESS) {
		close(fd);
		return 0;
	}
	p->pfd[p->n].fd = fd;
	p->pfd[p->n].events = POLLOUT;
	p->pfd[p->n].revents = 0;
	p->started[p->n] = now;
	p->n++;
	return 0;
}

/* Checks the attempts poll flagged and retires the stale ones; 1 when one
 * of them completed. */
static int probe_reap(struct spa_bench_probe *p, uint64_t now)
{
	size_t i = 0;
	int err;
	socklen_t len;

	while (i < p->n) {
		if (p->pfd[i].revents) {
			err = -1;
			len = sizeof(err);
			if (getsockopt(p->pfd[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
				return 1;
			probe_drop(p, i); /* refused or unreachable: a reject rule */
			continue;
		}
		if (now - p->started[i] > SPA_BENCH_ATTEMPT_MAX_NS) {
			probe_drop(p, i);
			continue;
		}
		i++;
	}
	return 0;
}

static int cmd_knock(int argc, char **argv)
{
	struct spa_bench_probe *p = NULL;
	struct sockaddr_in dst_udp;
	struct timespec ts;
	char pkt[SPA_BENCH_PKT_MAX];
	size_t n = 0;
	uint64_t t0, deadline, next, now, wait;
	long timeout_ms = 0, every_us = SPA_BENCH_EVERY_US;
	int fd = -1, rc = 1, done = 0;

	p = calloc(1, sizeof(*p));
	if (!p || parse_addr(argv[0], NULL, &p->src) || parse_addr(argv[1], argv[2], &dst_udp) ||
	    parse_addr(argc > 7 ? argv[7] : argv[1], argv[4], &p->dst) ||
	    parse_long(argv[5], 1, 600000, &timeout_ms) ||
	    (argc > 6 && parse_long(argv[6], 10, 100000, &every_us))) {
		fprintf(stderr, "knock: bad arguments\n");
		goto out;
	}
	if (read_packet(argv[3], pkt, sizeof(pkt), &n)) {
		fprintf(stderr, "knock: cannot read a packet from %s\n", argv[3]);
		goto out;
	}
	/* The default slack (50 us) would be most of the attempt interval. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	fd = bound_socket(SOCK_DGRAM, &p->src);
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
	next = t0;
	for (now = t0; now < deadline; now = now_ns()) {
		if (now >= next) {
			done = probe_start(p, now);
			if (done)
				break;
			/* Behind schedule (a busy CPU): start from now, no burst. */
			next += (uint64_t)every_us * 1000u;
			if (next <= now)
				next = now + (uint64_t)every_us * 1000u;
		}
		wait = next > now ? next - now : 0;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)wait;
		if (ppoll(p->pfd, p->n, &ts, NULL) > 0) {
			now = now_ns();
			done = probe_reap(p, now);
			if (done)
				break;
		} else {
			probe_reap(p, now_ns());
		}
	}
	if (done) {
		printf("%llu %lu\n", (unsigned long long)((now_ns() - t0) / 1000u), p->attempts);
		rc = 0;
	} else {
		printf("timeout %lu\n", p->attempts);
		rc = 2;
	}
out:
	if (p)
		while (p->n)
			probe_drop(p, 0);
	free(p);
	if (fd >= 0)
		close(fd);
	return rc;
}

static void fill_garbage(char *pkt, size_t len)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t j;

	for (j = 0; j < len; j++)
		pkt[j] = b64[(unsigned)rand() % 64u];
}

static int cmd_flood(char **argv)
{
	struct sockaddr_in src, dst;
	char pkt[SPA_BENCH_PKT_MAX];
	long count = 0, rate = 0, len = 0, i;
	uint64_t t0, due;
	int fd = -1, rc = 1;

	if (parse_addr(argv[0], NULL, &src) || parse_addr(argv[1], argv[2], &dst) ||
	    parse_long(argv[3], 1, 1000000000L, &count) || parse_long(argv[4], 1, 10000000L, &rate) ||
	    parse_long(argv[5], 1, (long)sizeof(pkt), &len)) {
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
		if (now_ns() < due)
			sleep_until(due);
		fill_garbage(pkt, (size_t)len);
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

static volatile sig_atomic_t blast_stop;

static void on_term(int sig)
{
	(void)sig;
	blast_stop = 1;
}

static int cmd_blast(char **argv)
{
	struct sigaction sa;
	struct sockaddr_in src, dst;
	char *pool = NULL;
	long secs = 0, len = 0;
	unsigned long sent = 0, i;
	uint64_t t0, end, now;
	int fd = -1, rc = 1;

	if (parse_addr(argv[0], NULL, &src) || parse_addr(argv[1], argv[2], &dst) ||
	    parse_long(argv[3], 1, 3600, &secs) || parse_long(argv[4], 1, SPA_BENCH_PKT_MAX, &len)) {
		fprintf(stderr, "blast: bad arguments\n");
		goto out;
	}
	pool = malloc((size_t)SPA_BENCH_GARBAGE_POOL * (size_t)len);
	fd = bound_socket(SOCK_DGRAM, &src);
	if (!pool || fd < 0) {
		perror("blast");
		goto out;
	}
	/* Generated up front: the sender's cost per datagram is the syscall,
	 * so one core sends as fast as the kernel lets it. */
	srand((unsigned)now_ns());
	for (i = 0; i < SPA_BENCH_GARBAGE_POOL; i++)
		fill_garbage(pool + i * (size_t)len, (size_t)len);
	/* The harness stops the flood when its knocks are done. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	t0 = now_ns();
	end = t0 + (uint64_t)secs * 1000000000u;
	for (now = t0; now < end && !blast_stop; now = now_ns()) {
		for (i = 0; i < SPA_BENCH_GARBAGE_POOL; i++) {
			if (sendto(fd, pool + i * (size_t)len, (size_t)len, 0,
				   (const struct sockaddr *)&dst, sizeof(dst)) >= 0)
				sent++;
			else if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
				perror("blast: sendto");
				goto out;
			}
		}
	}
	printf("%lu %.0f\n", sent, (double)sent / ((double)(now - t0) / 1e9));
	rc = 0;
out:
	free(pool);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Bytes queued at the sockets bound to local port `port` in one
 * /proc/<pid>/net/udp or udp6 table (a missing table counts as empty). */
static long rxq_table(const char *path, unsigned port)
{
	char line[512];
	unsigned lport = 0;
	unsigned long rxq = 0;
	long sum = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %*x %*x:%lx", &lport,
			   &rxq) == 2 && lport == port)
			sum += (long)rxq;
	}
	fclose(f);
	return sum;
}

static long rxq_bytes(const char *dir, unsigned port)
{
	char path[512];
	long sum;

	snprintf(path, sizeof(path), "%s/udp", dir);
	sum = rxq_table(path, port);
	snprintf(path, sizeof(path), "%s/udp6", dir);
	return sum + rxq_table(path, port);
}

struct spa_bench_entry {
	struct sockaddr_in src;
	size_t len;
	char pkt[SPA_BENCH_PKT_MAX];
};

/* Loads the whole list first: reading files between sends would make the
 * sender, not the daemon, the bottleneck of a fast run. */
static struct spa_bench_entry *load_list(const char *path, size_t *count)
{
	char line[1024], ip[64], file[900];
	struct spa_bench_entry *v = NULL, *grown;
	size_t n = 0, cap = 0;
	FILE *list = fopen(path, "r");

	if (!list) {
		perror(path);
		return NULL;
	}
	while (fgets(line, sizeof(line), list)) {
		if (sscanf(line, "%63s %899s", ip, file) != 2)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown)
				goto fail;
			v = grown;
		}
		if (parse_addr(ip, NULL, &v[n].src) ||
		    read_packet(file, v[n].pkt, sizeof(v[n].pkt), &v[n].len)) {
			fprintf(stderr, "send: bad entry: %s", line);
			goto fail;
		}
		n++;
	}
	fclose(list);
	*count = n;
	return v;
fail:
	fclose(list);
	free(v);
	return NULL;
}

static int cmd_send(int argc, char **argv)
{
	struct sockaddr_in dst;
	struct spa_bench_entry *v = NULL;
	long rate = 0, rxq_max = 0;
	unsigned long held = 0;
	uint64_t t0, first = 0, last = 0, due;
	size_t n = 0, i;
	int fd, rc = 1;

	if (parse_addr(argv[1], argv[2], &dst) || parse_long(argv[3], 0, 10000000L, &rate) ||
	    (argc > 5 && parse_long(argv[5], 1, 1L << 30, &rxq_max))) {
		fprintf(stderr, "send: bad arguments\n");
		goto out;
	}
	v = load_list(argv[0], &n);
	if (!v)
		goto out;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		if (rate > 0) {
			due = t0 + (uint64_t)i * 1000000000u / (uint64_t)rate;
			if (now_ns() < due)
				sleep_until(due);
		}
		/* Every few packets is enough: the limit is far below the
		 * socket's buffer, and reading /proc costs more than a send. */
		if (argc > 5 && i % SPA_BENCH_RXQ_EVERY == 0) {
			while (rxq_bytes(argv[4], (unsigned)ntohs(dst.sin_port)) >= rxq_max) {
				held++;
				sleep_until(now_ns() + SPA_BENCH_RXQ_POLL_NS);
			}
		}
		fd = bound_socket(SOCK_DGRAM, &v[i].src);
		if (fd < 0) {
			perror("send: bind");
			goto out;
		}
		last = clock_ns(CLOCK_REALTIME);
		if (!first)
			first = last;
		if (sendto(fd, v[i].pkt, v[i].len, 0, (const struct sockaddr *)&dst, sizeof(dst)) !=
		    (ssize_t)v[i].len)
			perror("send: sendto");
		close(fd);
	}
	printf("%llu %llu %zu %lu\n", (unsigned long long)(first / 1000u),
	       (unsigned long long)(last / 1000u), n, held);
	rc = 0;
out:
	free(v);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 8 && argc <= 10 && strcmp(argv[1], "knock") == 0)
		return cmd_knock(argc - 2, argv + 2);
	if (argc == 8 && strcmp(argv[1], "flood") == 0)
		return cmd_flood(argv + 2);
	if (argc == 7 && strcmp(argv[1], "blast") == 0)
		return cmd_blast(argv + 2);
	if ((argc == 6 || argc == 8) && strcmp(argv[1], "send") == 0)
		return cmd_send(argc - 2, argv + 2);
	fprintf(stderr,
		"usage: spa_bench_net knock SRC DST UDP_PORT PKT_FILE TCP_PORT TIMEOUT_MS [EVERY_US [PROBE_DST]]\n"
		"       spa_bench_net flood SRC DST UDP_PORT COUNT RATE LEN\n"
		"       spa_bench_net blast SRC DST UDP_PORT SECONDS LEN\n"
		"       spa_bench_net send LIST DST UDP_PORT RATE [RXQ_DIR RXQ_MAX_BYTES]\n");
	return 64;
}
