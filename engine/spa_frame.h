/* SPDX-License-Identifier: MIT */
/* spa_frame.h - a captured link-layer frame down to its transport payload. */
#ifndef SPA_FRAME_H
#define SPA_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "spa_pipeline.h"

/*
 * dlt is the pcap link type. On success pkt's data/len point into frame
 * (the bytes after the TCP/UDP/ICMP header) and its addresses, ports and
 * proto are set; pkt->now is left alone. On failure returns a negative code
 * and *why names the reason (a static string).
 */
int spa_frame_parse(int dlt, const uint8_t *frame, size_t caplen, struct spa_pkt *pkt,
		    const char **why);

#endif
