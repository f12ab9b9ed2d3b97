/* SPDX-License-Identifier: MIT */
/*
 * spa_nfq.c - the netfilter queue spad reads in NFQ mode. The monitor (root,
 * CAP_NET_ADMIN) binds the queue before the packet process starts; the
 * packet process, sandboxed, only receives on the socket (seccomp lets it
 * send nothing there). Verdicts need CAP_NET_ADMIN in the sender (nfnetlink
 * checks every message, verdicts too), so the packet process asks the
 * monitor for them over the pair (SPA_PS_VERDICT), which sends them on its
 * own copy of the socket.
 *
 * Verdicts are batch verdicts (every packet of the queue up to an id): one
 * message per run of packets read together, and a packet a dead packet
 * process read but never asked a verdict for is settled by its
 * successor's first one instead of holding a place in the queue for good.
 * A packet's copy is in the socket when it is queued, so what the verdict
 * does to the packet itself never depends on how far the reading got.
 *
 * Fail-closed: a packet spad cannot take (queue full, socket buffer full,
 * no spad bound) is dropped by the kernel, which is what the firewall
 * does to the SPA port anyway; nothing but the SPA port goes through the
 * queue, so the rest of the traffic never waits on spad.
 */
#include "spa_nfq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SPA_HAVE_NFQ

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/types.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "spa_log.h"

/* Packets the kernel holds for spad before it drops new ones. */
#define NFQ_QUEUE_MAXLEN 1024
/* The socket's buffer: a burst waits here while the loop catches up. */
#define NFQ_RCVBUF (4 << 20)
#define NFQ_ACK_WAIT_MS 2000

struct spa_nfq {
	int fd;
	uint16_t queue;
	size_t bufsz;
	unsigned long overflows;   /* ENOBUFS: the socket's buffer ran over */
	uint8_t buf[];
};

bool spa_nfq_available(void)
{
	return true;
}

/* Sends one configuration message and waits for the kernel's answer. */
static int config(struct spa_nfq *q, struct nlmsghdr *nlh)
{
	struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
	static uint32_t seq;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++seq;
	if (send(q->fd, nlh, nlh->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t got;
		int len, n = poll(&pfd, 1, NFQ_ACK_WAIT_MS);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ETIMEDOUT;
		got = recv(q->fd, q->buf, q->bufsz, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len = (int)got;
		for (const struct nlmsghdr *m = (const void *)q->buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
			if (m->nlmsg_type != NLMSG_ERROR || m->nlmsg_seq != seq)
				continue;
			if (m->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				return -EPROTO;
			return e->error;
		}
	}
}

struct spa_nfq *spa_nfq_open(const struct spa_nfq_conf *n, uint32_t copy_bytes, char *err,
			     size_t errlen)
{
	size_t bufsz = 0xffff + (MNL_SOCKET_BUFFER_SIZE / 2);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct spa_nfq *q = calloc(1, sizeof(*q) + bufsz);
	int rcvbuf = NFQ_RCVBUF, rc;
	struct nlmsghdr *nlh;
	const char *step = "socket";

	if (!q) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	q->bufsz = bufsz;
	q->queue = n->queue;
	q->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (q->fd < 0 || bind(q->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto fail;
	}
	if (setsockopt(q->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(q->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	step = "bind";
	nlh = nfq_nlmsg_put((char *)q->buf, NFQNL_MSG_CONFIG, q->queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	rc = config(q, nlh);
	if (rc < 0)
		goto fail;
	step = "copy mode";
	nlh = nfq_nlmsg_put((char *)q->buf, NFQNL_MSG_CONFIG, q->queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)copy_bytes);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, NFQ_QUEUE_MAXLEN);
	rc = config(q, nlh);
	if (rc < 0)
		goto fail;
	if (fcntl(q->fd, F_SETFL, O_NONBLOCK) < 0) {
		rc = -errno;
		goto fail;
	}
	return q;
fail:
	snprintf(err, errlen, "NFQUEUE %u: %s: %s%s", n->queue, step, strerror(-rc),
		 rc == -EBUSY ? " (another program is bound to this queue)"
		 : rc == -EPERM ? " (needs CAP_NET_ADMIN)" : "");
	spa_nfq_close(q);
	return NULL;
}

int spa_nfq_fd(const struct spa_nfq *q)
{
	return q ? q->fd : -1;
}

int spa_nfq_verdict(struct spa_nfq *q, uint32_t id, uint32_t v)
{
	char buf[128] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;

	if (!q || (v != SPA_NFQ_DROP && v != SPA_NFQ_ACCEPT))
		return -EINVAL;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT_BATCH, q->queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, v == SPA_NFQ_DROP ? NF_DROP : NF_ACCEPT);
	while (send(q->fd, nlh, nlh->nlmsg_len, 0) < 0) {
		if (errno != EINTR)
			/* the kernel still holds them: the next verdict settles them */
			return -errno;
	}
	return 0;
}

int spa_nfq_read(struct spa_nfq *q, int max, spa_nfq_cb *cb, spa_nfq_verdict_cb *verdict_cb,
		 void *ctx)
{
	uint32_t pending = 0, last = 0;
	bool have = false;
	int n = 0;

	while (n < max) {
		ssize_t got = recv(q->fd, q->buf, q->bufsz, MSG_DONTWAIT);
		int len = (int)got;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) {
				/* those packets were dropped by the kernel (fail-closed) */
				if (q->overflows++ % 100 == 0)
					spa_log(SPA_L_WARNING, "NFQUEUE %u: socket buffer full, "
						"packets dropped (%lu times so far)", q->queue,
						q->overflows);
				continue;
			}
			if (have)
				verdict_cb(ctx, last, pending);
			return -errno;
		}
		for (const struct nlmsghdr *m = (const void *)q->buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			struct nlattr *attr[NFQA_MAX + 1] = { 0 };
			const struct nfqnl_msg_packet_hdr *ph;
			uint32_t v;

			if (NFNL_SUBSYS_ID(m->nlmsg_type) != NFNL_SUBSYS_QUEUE ||
			    NFNL_MSG_TYPE(m->nlmsg_type) != NFQNL_MSG_PACKET)
				continue;   /* a verdict's error: the next one settles it */
			if (nfq_nlmsg_parse(m, attr) < 0 || !attr[NFQA_PACKET_HDR] ||
			    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph))
				continue;
			ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
			/* The SPA port is closed: on the local input hook the
			 * packet ends here. Anywhere else (an admin's rule in
			 * PREROUTING or FORWARD) spad only looks. */
			v = ph->hook == NF_INET_LOCAL_IN ? SPA_NFQ_DROP : SPA_NFQ_ACCEPT;
			if (have && v != pending)
				verdict_cb(ctx, last, pending);
			pending = v;
			last = ntohl(ph->packet_id);
			have = true;
			n++;
			if (attr[NFQA_PAYLOAD])
				cb(ctx, mnl_attr_get_payload(attr[NFQA_PAYLOAD]),
				   mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]));
		}
	}
	if (have)
		verdict_cb(ctx, last, pending);
	return n;
}

void spa_nfq_close(struct spa_nfq *q)
{
	if (!q)
		return;
	if (q->fd >= 0)
		close(q->fd);
	free(q);
}

#else /* without libnetfilter_queue */

bool spa_nfq_available(void)
{
	return false;
}

struct spa_nfq *spa_nfq_open(const struct spa_nfq_conf *n, uint32_t copy_bytes, char *err,
			     size_t errlen)
{
	(void)n;
	(void)copy_bytes;
	snprintf(err, errlen, "NFQUEUE capture is not in this build (no libnetfilter_queue)");
	return NULL;
}

int spa_nfq_fd(const struct spa_nfq *q)
{
	(void)q;
	return -1;
}

int spa_nfq_read(struct spa_nfq *q, int max, spa_nfq_cb *cb, spa_nfq_verdict_cb *verdict_cb,
		 void *ctx)
{
	(void)q;
	(void)max;
	(void)cb;
	(void)verdict_cb;
	(void)ctx;
	return -ENOSYS;
}

int spa_nfq_verdict(struct spa_nfq *q, uint32_t id, uint32_t v)
{
	(void)q;
	(void)id;
	(void)v;
	return -ENOSYS;
}

void spa_nfq_close(struct spa_nfq *q)
{
	(void)q;
}

#endif
