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
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		len = sizeof(*s4);
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = in6addr_any;
		len = sizeof(*s6);
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

static void unwatch_close(struct spa_daemon *d, int fd)
{
	if (fd < 0)
		return;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
}

int spa_daemon_open_udp(struct spa_daemon *d, uint16_t port, int fds[2])
{
	int rc;

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
	if ((rc = spa_daemon_watch(d, fds[0])) < 0 ||
	    (fds[1] >= 0 && (rc = spa_daemon_watch(d, fds[1])) < 0)) {
		unwatch_close(d, fds[0]);
		unwatch_close(d, fds[1]);
		fds[0] = fds[1] = -1;
	}
	return rc;
}

static bool captures_changed(const struct spa_config *a, const struct spa_config *b)
{
	return strcmp(a->pcap_intf, b->pcap_intf) != 0 ||
	       strcmp(a->pcap_filter, b->pcap_filter) != 0 ||
	       a->max_sniff_bytes != b->max_sniff_bytes || a->pcap_promisc != b->pcap_promisc;
}

int spa_daemon_reopen_network(struct spa_daemon *d, struct spa_config *fresh)
{
	struct spa_capture old[SPA_MAX_CAPTURES];
	size_t n_old = d->n_cap;
	int fds[2], rc;

	if (fresh->udp_server != d->cfg.udp_server || fresh->pcap_file[0] != d->cfg.pcap_file[0]) {
		spa_log(SPA_L_ERR, "ENABLE_UDP_SERVER or the capture source changed: restart needed");
		return -EINVAL;
	}
	if (fresh->udp_server) {
		if (fresh->udp_port == d->cfg.udp_port)
			return 0;
		rc = spa_daemon_open_udp(d, fresh->udp_port, fds);
		if (rc < 0)
			return rc;
		unwatch_close(d, d->udp[0]);
		unwatch_close(d, d->udp[1]);
		d->udp[0] = fds[0];
		d->udp[1] = fds[1];
		spa_log(SPA_L_NOTICE, "now listening on UDP port %u", fresh->udp_port);
		return 0;
	}
	if (fresh->pcap_file[0] || !captures_changed(&d->cfg, fresh))
		return 0;
	/* The capture code reads d->cfg: open the new set under the fresh
	 * config, then keep whichever set wins. */
	memcpy(old, d->cap, sizeof(old));
	{
		struct spa_config running = d->cfg;
		d->cfg = *fresh;
		d->n_cap = 0;
		rc = spa_daemon_open_captures(d);
		d->cfg = running;
	}
	if (rc < 0) {
		for (size_t i = 0; i < d->n_cap; i++) {
			if (d->cap[i].fd >= 0)
				epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->cap[i].fd, NULL);
			spa_capture_close(&d->cap[i]);
		}
		memcpy(d->cap, old, sizeof(old));
		d->n_cap = n_old;
		return rc;
	}
	for (size_t i = 0; i < n_old; i++) {
		if (old[i].fd >= 0)
			epoll_ctl(d->epfd, EPOLL_CTL_DEL, old[i].fd, NULL);
		spa_capture_close(&old[i]);
	}
	return 0;
}
