/* SPDX-License-Identifier: MIT */
/* pcap_frames.h - hand-built link/IP/transport frames for capture tests. */
#ifndef SPA_PCAP_FRAMES_H
#define SPA_PCAP_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#define SPA_FRAME_MAX 2048

struct pf_frame {
	uint8_t b[SPA_FRAME_MAX];
	size_t len;       /* bytes written to the file */
};

/* IP packets; proto 17 UDP, 6 TCP, 1 ICMP. ip_opt_words adds IPv4 options. */
size_t pf_ipv4(uint8_t *out, const char *src, const char *dst, uint8_t proto,
	       unsigned ip_opt_words, const void *payload, size_t plen);
size_t pf_ipv6(uint8_t *out, const char *src, const char *dst, const void *payload,
	       size_t plen);

/* Link headers around an IP packet already in ip/iplen. */
void pf_ether(struct pf_frame *f, int vlan, const uint8_t *ip, size_t iplen, int v6);
void pf_sll(struct pf_frame *f, const uint8_t *ip, size_t iplen, int v6);
void pf_sll2(struct pf_frame *f, const uint8_t *ip, size_t iplen, int v6);
void pf_null(struct pf_frame *f, const uint8_t *ip, size_t iplen, int v6);

/* Writes frames to path with the given link type; aborts on failure. */
void pf_write(const char *path, int dlt, const struct pf_frame *frames, size_t n);

#endif
