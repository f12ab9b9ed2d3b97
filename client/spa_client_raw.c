/* SPDX-License-Identifier: MIT */
/*
 * -P udpraw, tcpraw and icmp: the packet, IPv4 header included, is built
 * here and handed to a raw socket, so the source address (-Q) and port (-S)
 * can be anything. Every checksum is filled in: a receiver or middlebox
 * that verifies them would otherwise drop the packet silently.
 * Needs root (or CAP_NET_RAW); IPv4 only, as in fwknop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "spa_client.h"

#define IP_HDR_LEN   20
#define UDP_HDR_LEN  8
#define TCP_HDR_LEN  20
#define ICMP_HDR_LEN 8
#define RAW_TTL      255
#define TCP_WINDOW   32767
#define TCP_FLAG_SYN 0x02
#define ICMP_ECHO_REQUEST 8
#define ICMP_ECHO_REPLY   0

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

uint16_t spa_client_inet_csum(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *b = buf;
	uint64_t s = sum;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Partial sum of the UDP/TCP pseudo header; addresses in network order,
 * so their bytes are summed as they sit in memory. */
static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto,
			   size_t len)
{
	uint8_t ph[12];

	memcpy(ph, &src, 4);
	memcpy(ph + 4, &dst, 4);
	ph[8] = 0;
	ph[9] = proto;
	put16(ph + 10, (uint16_t)len);
	return (uint16_t)~spa_client_inet_csum(ph, sizeof(ph), 0);
}

int spa_client_raw_build(int proto, const struct spa_client_raw_hdr *h,
			 const void *payload, size_t len, uint8_t *out,
			 size_t cap)
{
	uint8_t *l4 = out + IP_HDR_LEN;
	size_t l4_hdr, total;
	uint8_t ipproto;
	uint16_t sum;

	switch (proto) {
	case SPA_CLIENT_PROTO_UDPRAW:
		l4_hdr = UDP_HDR_LEN;
		ipproto = IPPROTO_UDP;
		break;
	case SPA_CLIENT_PROTO_TCPRAW:
		l4_hdr = TCP_HDR_LEN;
		ipproto = IPPROTO_TCP;
		break;
	case SPA_CLIENT_PROTO_ICMP:
		l4_hdr = ICMP_HDR_LEN;
		ipproto = IPPROTO_ICMP;
		break;
	default:
		return -SPA_E_ARG;
	}
	if (len > 65535 - IP_HDR_LEN - l4_hdr)
		return -SPA_E_ARG;
	total = IP_HDR_LEN + l4_hdr + len;
	if (total > cap)
		return -SPA_E_ARG;
	memset(out, 0, IP_HDR_LEN + l4_hdr);
	memcpy(l4 + l4_hdr, payload, len);

	out[0] = 0x45;   /* version 4, 5 words of header */
	put16(out + 2, (uint16_t)total);
	put16(out + 4, h->ip_id);
	out[8] = RAW_TTL;
	out[9] = ipproto;
	memcpy(out + 12, &h->src, 4);
	memcpy(out + 16, &h->dst, 4);
	put16(out + 10, spa_client_inet_csum(out, IP_HDR_LEN, 0));

	if (proto == SPA_CLIENT_PROTO_UDPRAW) {
		put16(l4, h->sport);
		put16(l4 + 2, h->dport);
		put16(l4 + 4, (uint16_t)(l4_hdr + len));
		sum = spa_client_inet_csum(l4, l4_hdr + len,
					   pseudo_sum(h->src, h->dst, ipproto,
						      l4_hdr + len));
		/* 0 means "no checksum" in UDP; its one's complement twin
		 * 0xffff is sent instead (RFC 768). */
		put16(l4 + 6, sum ? sum : 0xffff);
	} else if (proto == SPA_CLIENT_PROTO_TCPRAW) {
		put16(l4, h->sport);
		put16(l4 + 2, h->dport);
		put32(l4 + 4, h->tcp_seq);
		l4[12] = (TCP_HDR_LEN / 4) << 4;
		l4[13] = TCP_FLAG_SYN;
		put16(l4 + 14, TCP_WINDOW);
		put16(l4 + 16, spa_client_inet_csum(l4, l4_hdr + len,
						    pseudo_sum(h->src, h->dst,
							       ipproto,
							       l4_hdr + len)));
	} else {
		l4[0] = h->icmp_type;
		l4[1] = h->icmp_code;
		/* Echo messages carry an identifier and sequence number; other
		 * types leave those four bytes zero. */
		if (h->icmp_type == ICMP_ECHO_REQUEST ||
		    h->icmp_type == ICMP_ECHO_REPLY) {
			put16(l4 + 4, h->icmp_id);
			put16(l4 + 6, 1);
		}
		put16(l4 + 2, spa_client_inet_csum(l4, l4_hdr + len, 0));
	}
	return (int)total;
}

/* The address the kernel would use to reach dst (no packet is sent). */
static int route_source(const struct sockaddr_in *dst, uint32_t *src)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&me, &len) == 0) {
		*src = me.sin_addr.s_addr;
		rc = 0;
	}
	close(fd);
	return rc;
}

static int resolve_v4(const char *host, struct sockaddr_in *out)
{
	struct addrinfo hints, *res = NULL;
	int gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_DGRAM;
	gai = getaddrinfo(host, NULL, &hints, &res);
	if (gai != 0) {
		fprintf(stderr, "spa-client: cannot resolve '%s' to an IPv4 "
			"address: %s\n", host, gai_strerror(gai));
		return -SPA_CE_RESOLVE;
	}
	memcpy(out, res->ai_addr, sizeof(*out));
	freeaddrinfo(res);
	return 0;
}

static int fill_header(const struct spa_client_cfg *c,
		       const struct spa_client_packet *p,
		       const struct sockaddr_in *dst,
		       struct spa_client_raw_hdr *h)
{
	uint8_t rnd[10];

	memset(h, 0, sizeof(*h));
	if (spa_random_bytes(rnd, sizeof(rnd)) < 0)
		return -SPA_CE_SEND;
	h->dst = dst->sin_addr.s_addr;
	if (c->spoof_src[0]) {
		if (inet_pton(AF_INET, c->spoof_src, &h->src) != 1)
			return -SPA_CE_USAGE;
	} else if (route_source(dst, &h->src) < 0) {
		fprintf(stderr, "spa-client: no route to %s\n", c->server);
		return -SPA_CE_SEND;
	}
	/* Without -S, an unprivileged-looking random port as a kernel would
	 * pick (the socket has no port of its own to offer). */
	h->sport = c->source_port ? c->source_port :
		   (uint16_t)(32768 + ((rnd[0] << 8 | rnd[1]) % 28232));
	h->dport = p->dest_port;
	h->ip_id = (uint16_t)(rnd[2] << 8 | rnd[3]);
	h->tcp_seq = (uint32_t)rnd[4] << 24 | (uint32_t)rnd[5] << 16 |
		     (uint32_t)rnd[6] << 8 | rnd[7];
	h->icmp_id = (uint16_t)(rnd[8] << 8 | rnd[9]);
	h->icmp_type = c->icmp_type;
	h->icmp_code = c->icmp_code;
	return 0;
}

int spa_client_send_raw(const struct spa_client_cfg *c,
			const struct spa_client_packet *p, size_t *sent)
{
	uint8_t pkt[IP_HDR_LEN + TCP_HDR_LEN + SPA_WIRE_CAP];
	struct spa_client_raw_hdr h;
	struct sockaddr_in dst;
	const char *name = spa_client_proto_name(c->proto);
	int fd = -1, len, rc;
	ssize_t w;

	*sent = 0;
	if (c->family == AF_INET6) {
		fprintf(stderr, "spa-client: -P %s is IPv4 only\n", name);
		return -SPA_CE_USAGE;
	}
	/* Asked first so that a non-root user gets this message and not a
	 * resolver error. IPPROTO_RAW implies IP_HDRINCL. */
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0) {
		if (errno == EPERM || errno == EACCES)
			fprintf(stderr, "spa-client: -P %s needs root (raw sockets "
				"are not permitted for this user)\n", name);
		else
			fprintf(stderr, "spa-client: cannot open a raw socket: %s\n",
				strerror(errno));
		return -SPA_CE_SEND;
	}
	rc = resolve_v4(c->server, &dst);
	if (rc < 0)
		goto out;
	rc = fill_header(c, p, &dst, &h);
	if (rc < 0)
		goto out;
	len = spa_client_raw_build(c->proto, &h, p->wire, p->wire_len, pkt,
				   sizeof(pkt));
	if (len < 0) {
		rc = -SPA_CE_SEND;
		goto out;
	}
	dst.sin_port = 0;   /* the port is in our own header */
	w = sendto(fd, pkt, (size_t)len, 0, (struct sockaddr *)&dst, sizeof(dst));
	if (w != len) {
		fprintf(stderr, "spa-client: sending to %s (%s) failed: %s\n",
			c->server, name, w < 0 ? strerror(errno) : "short write");
		rc = -SPA_CE_SEND;
		goto out;
	}
	*sent = (size_t)len;
	rc = 0;
out:
	close(fd);
	return rc;
}
