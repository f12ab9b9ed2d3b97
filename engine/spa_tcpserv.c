/* SPDX-License-Identifier: MIT */
/*
 * spa_tcpserv.c - the TCP server (spa_tcpserv.h). fwknopd's is a forked
 * child that accepts one connection at a time and holds it a second, so
 * one client connecting once a second keeps every other out; here every
 * connection is an entry of a fixed table in the packet process's event
 * loop, with a deadline from its accept, and nothing a client does costs
 * more than a bounded read per wakeup: UDP knocks keep their turn.
 */
#include "spa_tcpserv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "spa_daemon.h"
#include "spa_http.h"
#include "spa_log.h"

/* The listen queue: connections the kernel completes while the loop is
 * busy; more are refused by the kernel (SYN cookies), not by memory here. */
#define TCP_BACKLOG 128

struct tcp_conn {
	int fd;                      /* -1: free */
	int family;
	uint8_t src_bin[16], dst_bin[16];
	uint16_t sport, dport;
	uint64_t deadline;           /* monotonic ms */
	size_t len;                  /* bytes read (pcap mode: counted, not kept) */
	char buf[SPA_HTTP_MAX_REQUEST + 1];
};

/* The packet process's state: one table, allocated before the sandbox. */
static struct tcp_conn *conns;
static size_t n_conns;
static int listeners[2] = { -1, -1 };
static int loop_fd = -1;
static struct spa_log_limit refusals;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the monitor's side ------------------------------------------------ */

static int open_listener(int family, uint16_t port)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_storage ss;
	socklen_t len;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	len = spa_daemon_any_addr(family, port, &ss);
	/* the IPv4 listener exists; mapped addresses would be ambiguous */
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, TCP_BACKLOG) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int spa_tcpserv_open(const struct spa_config *c, int fds[2])
{
	fds[0] = open_listener(AF_INET, c->tcp.port);
	fds[1] = -1;
	if (fds[0] < 0) {
		int rc = fds[0];
		spa_log(SPA_L_ERR, "TCP port %u (IPv4): %s", c->tcp.port, strerror(-rc));
		fds[0] = -1;
		return rc;
	}
	fds[1] = open_listener(AF_INET6, c->tcp.port);
	if (fds[1] < 0) {
		spa_log(SPA_L_WARNING, "TCP port %u (IPv6): %s; IPv4 only", c->tcp.port,
			strerror(-fds[1]));
		fds[1] = -1;
	}
	/* fwknopd's pcap mode reads TCP knocks off the capture: its filter
	 * must let them in, and the stock one does not */
	if (!c->udp_server && !strstr(c->pcap_filter, "tcp"))
		spa_log(SPA_L_WARNING, "ENABLE_TCP_SERVER: PCAP_FILTER '%s' does not name tcp, "
			"so the capture will not see what TCP clients send", c->pcap_filter);
	return 0;
}

void spa_tcpserv_close(int fds[2])
{
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int spa_tcpserv_reopen(struct spa_daemon *d, const struct spa_config *fresh)
{
	bool want = fresh->tcp.server && !fresh->pcap_file[0];
	int fds[2] = { -1, -1 }, rc;

	if (want && d->tcp[0] >= 0 && fresh->tcp.port == d->cfg.tcp.port)
		return 0;
	if (want) {
		rc = spa_tcpserv_open(fresh, fds);
		if (rc < 0)
			return rc;
	}
	if (d->tcp[0] >= 0 || want)
		spa_log(SPA_L_NOTICE, want ? "now listening on TCP port %u" : "TCP server stopped",
			fresh->tcp.port);
	spa_tcpserv_close(d->tcp);
	d->tcp[0] = fds[0];
	d->tcp[1] = fds[1];
	return 0;
}

/* ---- the packet process ------------------------------------------------ */

int spa_tcpserv_start(struct spa_daemon *d, int epfd)
{
	loop_fd = epfd;
	listeners[0] = d->tcp[0];
	listeners[1] = d->tcp[1];
	if (listeners[0] < 0)
		return 0;
	n_conns = d->cfg.tcp.max_connections;
	conns = calloc(n_conns, sizeof(*conns));
	if (!conns)
		return -ENOMEM;
	for (size_t i = 0; i < n_conns; i++)
		conns[i].fd = -1;
	for (int i = 0; i < 2; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = listeners[i] };
		if (listeners[i] >= 0 && epoll_ctl(epfd, EPOLL_CTL_ADD, listeners[i], &ev) < 0)
			return -errno;
	}
	return 0;
}

static void drop(struct tcp_conn *c)
{
	/* closing removes it from the epoll set: no other process holds it */
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* A connection refused or closed by a bound: a line, within a budget (a
 * flood must not become a flood of log lines). */
static void say_refused(bool per_source, const char *addr, unsigned n)
{
	unsigned long skipped = 0;

	if (!spa_log_limit_allow(&refusals, (int64_t)time(NULL), &skipped))
		return;
	if (per_source)
		spa_log(SPA_L_NOTICE, "TCP connection from %s refused: it holds %u already "
			"(TCPSERV_MAX_PER_SOURCE)", addr, n);
	else
		spa_log(SPA_L_NOTICE, "TCP connection from %s closed for a new one: %u open "
			"(TCPSERV_MAX_CONNECTIONS)", addr, n);
	if (skipped)
		spa_log(SPA_L_NOTICE, "TCP server: %lu similar lines not logged", skipped);
}

/* The connection's bytes are the packet: decided, then the connection ends. */
static void decide(struct spa_daemon *d, struct tcp_conn *c)
{
	struct spa_pkt pkt;

	memset(&pkt, 0, sizeof(pkt));
	pkt.data = c->buf;
	pkt.len = c->len;
	pkt.family = c->family;
	memcpy(pkt.src_bin, c->src_bin, sizeof(pkt.src_bin));
	memcpy(pkt.dst_bin, c->dst_bin, sizeof(pkt.dst_bin));
	inet_ntop(c->family, c->src_bin, pkt.src, sizeof(pkt.src));
	inet_ntop(c->family, c->dst_bin, pkt.dst, sizeof(pkt.dst));
	pkt.sport = c->sport;
	pkt.dport = c->dport;
	pkt.proto = IPPROTO_TCP;
	pkt.now = (int64_t)time(NULL);
	spa_daemon_decide(d, &pkt);
	spa_daemon_count_packet(d);
	drop(c);
}

static void addr_of(const struct sockaddr_storage *ss, int *family, uint8_t bin[16],
		    uint16_t *port)
{
	memset(bin, 0, 16);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		*family = AF_INET;
		memcpy(bin, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		*family = AF_INET6;
		memcpy(bin, &s6->sin6_addr, 16);
		*port = ntohs(s6->sin6_port);
	}
}

/* A slot for a new connection from src: NULL when that address already
 * holds its share. When the table is full the oldest connection goes: a
 * client whose data is on its way needs its slot for one round trip, a
 * holder of idle connections must keep opening new ones to stay in. */
static struct tcp_conn *slot_for(const struct spa_daemon *d, int family, const uint8_t *src)
{
	struct tcp_conn *free_slot = NULL, *oldest = NULL;
	unsigned same = 0;
	char a[46];

	for (size_t i = 0; i < n_conns; i++) {
		struct tcp_conn *c = &conns[i];
		if (c->fd < 0) {
			if (!free_slot)
				free_slot = c;
			continue;
		}
		if (c->family == family && memcmp(c->src_bin, src, 16) == 0)
			same++;
		if (!oldest || c->deadline < oldest->deadline)
			oldest = c;
	}
	if (same >= d->cfg.tcp.max_per_source) {
		inet_ntop(family, src, a, sizeof(a));
		say_refused(true, a, same);
		return NULL;
	}
	if (free_slot)
		return free_slot;
	inet_ntop(oldest->family, oldest->src_bin, a, sizeof(a));
	say_refused(false, a, (unsigned)n_conns);
	drop(oldest);
	return oldest;
}

static void accept_some(struct spa_daemon *d, int lfd)
{
	for (int k = 0; k < SPA_TCP_ACCEPT_BURST; k++) {
		struct sockaddr_storage peer, self;
		socklen_t plen = sizeof(peer), slen = sizeof(self);
		struct epoll_event ev = { .events = EPOLLIN };
		int family, fd;
		uint8_t src[16];
		uint16_t sport;
		struct tcp_conn *c;

		fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;       /* EAGAIN, or a connection reset before we took it */
		addr_of(&peer, &family, src, &sport);
		c = slot_for(d, family, src);
		if (!c) {
			close(fd);
			continue;
		}
		memset(c, 0, offsetof(struct tcp_conn, buf));
		c->fd = fd;
		c->family = family;
		memcpy(c->src_bin, src, sizeof(c->src_bin));
		c->sport = sport;
		if (getsockname(fd, (struct sockaddr *)&self, &slen) == 0)
			addr_of(&self, &family, c->dst_bin, &c->dport);
		c->deadline = now_ms() + (uint64_t)d->cfg.tcp.read_timeout * 1000u;
		ev.data.fd = fd;
		if (epoll_ctl(loop_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
			drop(c);
	}
}

/* The most a connection may send before it is decided: an HTTP request,
 * or one SPA packet. */
static size_t limit_of(const struct spa_daemon *d, const struct tcp_conn *c)
{
	if (d->cfg.tcp.http && spa_http_is_request(c->buf, c->len))
		return SPA_HTTP_MAX_REQUEST;
	return SPA_MAX_WIRE_LEN - 1;
}

static void readable(struct spa_daemon *d, struct tcp_conn *c)
{
	/* pcap mode: the capture reads the knock; this only drains and counts,
	 * so a client that sends more than a request is cut off all the same */
	bool keep = d->cfg.udp_server;
	char scratch[1024];
	size_t room = keep ? sizeof(c->buf) - c->len : sizeof(scratch);
	ssize_t n = recv(c->fd, keep ? c->buf + c->len : scratch, room, MSG_DONTWAIT);

	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			drop(c);
		return;
	}
	if (n == 0) {
		if (keep && c->len > 0)
			decide(d, c);
		else
			drop(c);
		return;
	}
	c->len += (size_t)n;
	if (!keep) {
		if (c->len > SPA_HTTP_MAX_REQUEST)
			drop(c);
		return;
	}
	/* too much, or a whole HTTP request (a proxy waits for an answer and
	 * never closes): decided now, and the decision says which */
	if (c->len > limit_of(d, c) ||
	    (d->cfg.tcp.http && spa_http_is_request(c->buf, c->len) &&
	     spa_http_is_complete(c->buf, c->len)))
		decide(d, c);
}

bool spa_tcpserv_event(struct spa_daemon *d, int fd)
{
	if (fd < 0)
		return false;
	for (int i = 0; i < 2; i++) {
		if (fd == listeners[i]) {
			accept_some(d, fd);
			return true;
		}
	}
	for (size_t i = 0; i < n_conns; i++) {
		if (conns[i].fd == fd) {
			readable(d, &conns[i]);
			return true;
		}
	}
	return false;
}

int spa_tcpserv_timeout_ms(void)
{
	uint64_t now = now_ms(), first = UINT64_MAX;

	for (size_t i = 0; i < n_conns; i++)
		if (conns[i].fd >= 0 && conns[i].deadline < first)
			first = conns[i].deadline;
	if (first == UINT64_MAX)
		return -1;
	return first <= now ? 0 : (int)(first - now);
}

void spa_tcpserv_tick(struct spa_daemon *d)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < n_conns; i++) {
		struct tcp_conn *c = &conns[i];
		if (c->fd < 0 || c->deadline > now)
			continue;
		/* what arrived in time is decided, so a half-sent knock gets a
		 * reason in the log; a silent connection just ends */
		if (d->cfg.udp_server && c->len > 0)
			decide(d, c);
		else
			drop(c);
	}
}
