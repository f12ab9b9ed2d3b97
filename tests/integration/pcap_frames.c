/* SPDX-License-Identifier: MIT */
#include "pcap_frames.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define SPA_TEST_PORT 62201

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Transport header + payload at out; returns its length. */
static size_t transport(uint8_t *out, uint8_t proto, const void *payload, size_t plen)
{
	size_t hl = proto == 6 ? 32 : 8; /* TCP with 12 bytes of options */

	memset(out, 0, hl);
	if (proto == 6 || proto == 17) {
		put16(out, 40000);
		put16(out + 2, SPA_TEST_PORT);
	}
	if (proto == 17)
		put16(out + 4, (unsigned)(8 + plen));
	if (proto == 6)
		out[12] = (uint8_t)((hl / 4) << 4);
	if (proto == 1)
		out[0] = 8; /* echo request */
	memcpy(out + hl, payload, plen);
	return hl + plen;
}

size_t pf_ipv4(uint8_t *out, const char *src, const char *dst, uint8_t proto,
	       unsigned ip_opt_words, const void *payload, size_t plen)
{
	size_t ihl = 20 + 4 * (size_t)ip_opt_words, tl;

	memset(out, 0, ihl);
	out[0] = (uint8_t)(0x40 | (ihl / 4));
	out[8] = 64;
	out[9] = proto;
	/* options: NOPs then end-of-list, enough to move the payload */
	for (size_t i = 20; i < ihl; i++)
		out[i] = i + 1 == ihl ? 0 : 1;
	if (inet_pton(AF_INET, src, out + 12) != 1 || inet_pton(AF_INET, dst, out + 16) != 1)
		abort();
	tl = ihl + transport(out + ihl, proto, payload, plen);
	put16(out + 2, (unsigned)tl);
	return tl;
}

size_t pf_ipv6(uint8_t *out, const char *src, const char *dst, const void *payload,
	       size_t plen)
{
	size_t tl;

	memset(out, 0, 40);
	out[0] = 0x60;
	out[6] = 17;
	out[7] = 64;
	if (inet_pton(AF_INET6, src, out + 8) != 1 || inet_pton(AF_INET6, dst, out + 24) != 1)
		abort();
	tl = transport(out + 40, 17, payload, plen);
	put16(out + 4, (unsigned)tl);
	return 40 + tl;
}

static void wrap(struct pf_frame *f, const uint8_t *hdr, size_t hlen, const uint8_t *ip,
		 size_t iplen)
{
	if (hlen + iplen > SPA_FRAME_MAX)
		abort();
	memcpy(f->b, hdr, hlen);
	memcpy(f->b + hlen, ip, iplen);
	f->len = hlen + iplen;
}

void pf_ether(struct pf_frame *f, int vlan, const uint8_t *ip, size_t iplen, int v6)
{
	uint8_t h[18] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	size_t n = 12;

	if (vlan) {
		put16(h + n, 0x8100);
		put16(h + n + 2, (unsigned)vlan);
		n += 4;
	}
	put16(h + n, v6 ? 0x86dd : 0x0800);
	wrap(f, h, n + 2, ip, iplen);
}

void pf_sll(struct pf_frame *f, const uint8_t *ip, size_t iplen, int v6)
{
	uint8_t h[16] = { 0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 9 };

	put16(h + 14, v6 ? 0x86dd : 0x0800);
	wrap(f, h, sizeof(h), ip, iplen);
}

void pf_sll2(struct pf_frame *f, const uint8_t *ip, size_t iplen, int v6)
{
	uint8_t h[20] = { 0 };

	put16(h, v6 ? 0x86dd : 0x0800);
	h[7] = 2;   /* ifindex */
	h[9] = 1;   /* hatype ethernet */
	h[11] = 6;
	wrap(f, h, sizeof(h), ip, iplen);
}

void pf_null(struct pf_frame *f, const uint8_t *ip, size_t iplen, int v6)
{
	uint32_t fam = v6 ? 10 : 2; /* host order, as the capturing host wrote it */
	uint8_t h[4];

	memcpy(h, &fam, 4);
	wrap(f, h, sizeof(h), ip, iplen);
}

void pf_write(const char *path, int dlt, const struct pf_frame *frames, size_t n)
{
	pcap_t *p = pcap_open_dead(dlt, 65535);
	pcap_dumper_t *d = p ? pcap_dump_open(p, path) : NULL;

	if (!d)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct pcap_pkthdr h = { .caplen = (bpf_u_int32)frames[i].len,
					 .len = (bpf_u_int32)frames[i].len };
		gettimeofday(&h.ts, NULL);
		pcap_dump((u_char *)d, &h, frames[i].b);
	}
	pcap_dump_close(d);
	pcap_close(p);
}
