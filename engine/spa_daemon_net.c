/* SPDX-License-Identifier: MIT */
/*
 * spa_daemon_net.c - the daemon's listening side: the UDP server's sockets,
 * and re-opening them or the captures when a SIGHUP changes where spad
 * listens (port, interfaces, filter), new before old so a refused change
 * leaves the running daemon as it was.
 */
#include "spa_daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "spa_log.h"
#include "spa_tcpserv.h"

socklen_t spa_daemon_any_addr(int family, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	s6->sin6_addr = in6addr_any;
	return sizeof(*s6);
}

static int open_udp(int family, uint16_t port)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	int rcvbuf = 4 << 20;
	struct sockaddr_storage ss;
	socklen_t len;

	if (fd < 0)
		return -errno;
	/* A deep queue lets a valid knock survive a burst of garbage until the
	 * loop drains it; the memory is only charged while packets wait. As
	 * root the system's rmem_max does not cap it. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	len = spa_daemon_any_addr(family, port, &ss);
	if (family == AF_INET) {
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	} else {
		/* a separate v4 socket exists; mapped addresses would be ambiguous */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int spa_daemon_watch(struct spa_daemon *d, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

int spa_daemon_open_udp(struct spa_daemon *d, uint16_t port, int fds[2])
{
	int rc;

	(void)d;
	fds[0] = open_udp(AF_INET, port);
	fds[1] = -1;
	if (fds[0] < 0) {
		rc = fds[0];
		spa_log(SPA_L_ERR, "UDP port %u (IPv4): %s", port, strerror(-rc));
		return rc;
	}
	fds[1] = open_udp(AF_INET6, port);
	if (fds[1] < 0) {
		spa_log(SPA_L_WARNING, "UDP port %u (IPv6): %s; IPv4 only", port,
			strerror(-fds[1]));
		fds[1] = -1;
	}
	/* watched by the packet process, never by the monitor's loop */
	return 0;
}

/*
 * A live pcap handle keeps its place in the kernel's capture ring in the
 * memory of the process that reads it: a new packet process given the
 * handles its predecessor read would wait at a place the ring has long
 * left. So each one gets a new set, opened before the old one is closed
 * (the old packet process still reads its copies until it stops); if the
 * new set cannot be opened, the old one stays.
 */
int spa_daemon_renew_captures(struct spa_daemon *d, const struct spa_config *cfg)
{
	struct spa_capture old[SPA_MAX_CAPTURES];
	size_t n_old = d->n_cap;
	int rc;

	if (cfg->udp_server || cfg->pcap_file[0] || cfg->nfq.enable)
		return 0;
	/* The capture code reads d->cfg: open the new set under cfg, then
	 * keep whichever set wins. */
	memcpy(old, d->cap, sizeof(old));
	{
		struct spa_config running = d->cfg;
		d->cfg = *cfg;
		d->n_cap = 0;
		rc = spa_daemon_open_captures(d);
		d->cfg = running;
	}
	if (rc < 0) {
		for (size_t i = 0; i < d->n_cap; i++)
			spa_capture_close(&d->cap[i]);
		memcpy(d->cap, old, sizeof(old));
		d->n_cap = n_old;
		return rc;
	}
	for (size_t i = 0; i < n_old; i++)
		spa_capture_close(&old[i]);
	d->captures_fresh = true;
	return 0;
}

static int reopen_udp_or_captures(struct spa_daemon *d, struct spa_config *fresh);

int spa_daemon_reopen_network(struct spa_daemon *d, struct spa_config *fresh)
{
	int rc = reopen_udp_or_captures(d, fresh);

	return rc < 0 ? rc : spa_tcpserv_reopen(d, fresh);
}

static int reopen_udp_or_captures(struct spa_daemon *d, struct spa_config *fresh)
{
	int fds[2], rc;

	if (fresh->udp_server != d->cfg.udp_server || fresh->pcap_file[0] != d->cfg.pcap_file[0]) {
		spa_log(SPA_L_ERR, "ENABLE_UDP_SERVER or the capture source changed: restart needed");
		return -EINVAL;
	}
	/* the queue and its rule stay as spad started them */
	if (!spa_nfq_conf_same(&fresh->nfq, &d->cfg.nfq)) {
		spa_log(SPA_L_ERR, "ENABLE_NFQ_CAPTURE or an NFQ_* setting changed: restart needed");
		return -EINVAL;
	}
	if (!fresh->udp_server)
		return spa_daemon_renew_captures(d, fresh);
	if (fresh->udp_port == d->cfg.udp_port)
		return 0;
	rc = spa_daemon_open_udp(d, fresh->udp_port, fds);
	if (rc < 0)
		return rc;
	close_fd(d->udp[0]);
	close_fd(d->udp[1]);
	d->udp[0] = fds[0];
	d->udp[1] = fds[1];
	spa_log(SPA_L_NOTICE, "now listening on UDP port %u", fresh->udp_port);
	return 0;
}
