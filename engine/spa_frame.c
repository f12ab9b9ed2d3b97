/* SPDX-License-Identifier: MIT */
/*
 * spa_frame.c - link, network and transport headers of a captured frame.
 * Everything here reads attacker-controlled bytes: each header is bounded
 * by what was captured before a single field of it is looked at.
 */
#include "spa_frame.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/dlt.h>
#include <string.h>
#include <sys/socket.h>

#define ETH_HLEN_ 14
#define SLL_HLEN 16
#define SLL2_HLEN 20
#define NULL_HLEN 4
#define VLAN_TAG 4
#define MAX_VLAN_TAGS 2
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define LLC_SNAP_HLEN 8 /* DSAP SSAP ctrl + OUI + type */
#define IPV6_HLEN 40
#define MAX_EXT_HEADERS 8

struct cursor {
	const uint8_t *p;
	size_t len;
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int fail(const char **why, const char *reason)
{
	*why = reason;
	return -EINVAL;
}

static int skip(struct cursor *c, size_t n)
{
	if (c->len < n)
		return -EINVAL;
	c->p += n;
	c->len -= n;
	return 0;
}

/* Ethernet II, 802.1Q/802.1ad tags, and 802.3 + LLC/SNAP. */
static int ethernet(struct cursor *c, uint16_t *type, const char **why)
{
	int tags = 0;

	if (c->len < ETH_HLEN_)
		return fail(why, "frame shorter than an Ethernet header");
	*type = be16(c->p + 12);
	skip(c, ETH_HLEN_);
	while (*type == ETHERTYPE_VLAN || *type == ETHERTYPE_QINQ || *type == ETHERTYPE_QINQ_OLD) {
		if (++tags > MAX_VLAN_TAGS || c->len < VLAN_TAG)
			return fail(why, "bad VLAN tagging");
		*type = be16(c->p + 2);
		skip(c, VLAN_TAG);
	}
	if (*type < 0x0600) {
		/* an 802.3 length field: only SNAP can carry IP */
		if (c->len < LLC_SNAP_HLEN || c->p[0] != 0xaa || c->p[1] != 0xaa || c->p[2] != 0x03)
			return fail(why, "802.3 frame without SNAP");
		*type = be16(c->p + 6);
		skip(c, LLC_SNAP_HLEN);
	}
	return 0;
}

/* BSD loopback: the address family in host order of the capturing machine,
 * which need not be ours, so both byte orders are tried. */
static int null_family(uint32_t v)
{
	uint32_t sw = (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);

	for (int i = 0; i < 2; i++, v = sw) {
		if (v == 2)
			return AF_INET;
		if (v == 10 || v == 24 || v == 28 || v == 30)
			return AF_INET6;
	}
	return 0;
}

static int link_layer(int dlt, struct cursor *c, int *family, const char **why)
{
	uint16_t type = 0;
	int rc;

	switch (dlt) {
	case DLT_EN10MB:
		rc = ethernet(c, &type, why);
		if (rc < 0)
			return rc;
		break;
	case DLT_LINUX_SLL:
		if (c->len < SLL_HLEN)
			return fail(why, "frame shorter than a Linux cooked header");
		type = be16(c->p + 14);
		skip(c, SLL_HLEN);
		break;
	case DLT_LINUX_SLL2:
		if (c->len < SLL2_HLEN)
			return fail(why, "frame shorter than a Linux cooked v2 header");
		type = be16(c->p);
		skip(c, SLL2_HLEN);
		break;
	case DLT_NULL:
	case DLT_LOOP:
		if (c->len < NULL_HLEN)
			return fail(why, "frame shorter than a loopback header");
		*family = null_family(dlt == DLT_LOOP ? ntohl(le32(c->p)) : le32(c->p));
		skip(c, NULL_HLEN);
		return *family ? 0 : fail(why, "not an IP frame");
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case 101: /* LINKTYPE_RAW as stored in files */
		if (c->len < 1)
			return fail(why, "empty frame");
		*family = (c->p[0] >> 4) == 4 ? AF_INET : (c->p[0] >> 4) == 6 ? AF_INET6 : 0;
		return *family ? 0 : fail(why, "not an IP frame");
	default:
		return fail(why, "unsupported link type");
	}
	*family = type == ETHERTYPE_IPV4 ? AF_INET : type == ETHERTYPE_IPV6 ? AF_INET6 : 0;
	return *family ? 0 : fail(why, "not an IP frame");
}

static int ipv4(struct cursor *c, struct spa_pkt *pkt, const char **why)
{
	size_t ihl, total;

	if (c->len < 20 || (c->p[0] >> 4) != 4)
		return fail(why, "bad IPv4 header");
	ihl = (size_t)(c->p[0] & 0x0f) * 4;
	total = be16(c->p + 2);
	if (ihl < 20 || ihl > total)
		return fail(why, "bad IPv4 header length");
	if (total > c->len)
		return fail(why, "IPv4 packet truncated by the capture");
	/* only the first fragment has the transport header, and no fragment
	 * holds the whole message: reassembly is not worth its risk here */
	if ((be16(c->p + 6) & 0x3fff) != 0)
		return fail(why, "IPv4 fragment");
	pkt->family = AF_INET;
	pkt->proto = c->p[9];
	memcpy(pkt->src_bin, c->p + 12, 4);
	memcpy(pkt->dst_bin, c->p + 16, 4);
	c->len = total; /* drops Ethernet padding */
	skip(c, ihl);
	return 0;
}

static bool ext_header(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 60;
}

static int ipv6(struct cursor *c, struct spa_pkt *pkt, const char **why)
{
	size_t plen;
	uint8_t nh;

	if (c->len < IPV6_HLEN || (c->p[0] >> 4) != 6)
		return fail(why, "bad IPv6 header");
	plen = be16(c->p + 4);
	if (plen > c->len - IPV6_HLEN)
		return fail(why, "IPv6 packet truncated by the capture");
	nh = c->p[6];
	pkt->family = AF_INET6;
	memcpy(pkt->src_bin, c->p + 8, 16);
	memcpy(pkt->dst_bin, c->p + 24, 16);
	c->len = IPV6_HLEN + plen;
	skip(c, IPV6_HLEN);
	for (int i = 0; ext_header(nh); i++) {
		size_t hl;
		if (i == MAX_EXT_HEADERS || c->len < 8)
			return fail(why, "bad IPv6 extension headers");
		hl = ((size_t)c->p[1] + 1) * 8;
		nh = c->p[0];
		if (skip(c, hl) < 0)
			return fail(why, "bad IPv6 extension headers");
	}
	if (nh == 44)
		return fail(why, "IPv6 fragment");
	pkt->proto = nh;
	return 0;
}

static int transport(struct cursor *c, struct spa_pkt *pkt, const char **why)
{
	size_t hl;

	switch (pkt->proto) {
	case IPPROTO_TCP:
		if (c->len < 20)
			return fail(why, "truncated TCP header");
		hl = (size_t)(c->p[12] >> 4) * 4;
		if (hl < 20 || hl > c->len)
			return fail(why, "bad TCP data offset");
		break;
	case IPPROTO_UDP: {
		size_t ulen;
		if (c->len < 8)
			return fail(why, "truncated UDP header");
		ulen = be16(c->p + 4);
		if (ulen < 8 || ulen > c->len)
			return fail(why, "bad UDP length");
		c->len = ulen;
		hl = 8;
		break;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (c->len < 8)
			return fail(why, "truncated ICMP header");
		hl = 8;
		break;
	default:
		return fail(why, "not TCP, UDP or ICMP");
	}
	if (pkt->proto == IPPROTO_TCP || pkt->proto == IPPROTO_UDP) {
		pkt->sport = be16(c->p);
		pkt->dport = be16(c->p + 2);
	}
	skip(c, hl);
	return 0;
}

int spa_frame_parse(int dlt, const uint8_t *frame, size_t caplen, struct spa_pkt *pkt,
		    const char **why)
{
	struct cursor c = { frame, caplen };
	int family = 0, rc;
	int64_t now = pkt->now;

	memset(pkt, 0, sizeof(*pkt));
	pkt->now = now;
	*why = "";
	rc = link_layer(dlt, &c, &family, why);
	if (rc == 0)
		rc = family == AF_INET ? ipv4(&c, pkt, why) : ipv6(&c, pkt, why);
	if (rc == 0)
		rc = transport(&c, pkt, why);
	if (rc < 0)
		return rc;
	pkt->data = (const char *)c.p;
	pkt->len = c.len;
	inet_ntop(pkt->family, pkt->src_bin, pkt->src, sizeof(pkt->src));
	inet_ntop(pkt->family, pkt->dst_bin, pkt->dst, sizeof(pkt->dst));
	return 0;
}
