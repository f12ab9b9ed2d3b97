/* SPDX-License-Identifier: MIT */
/* spa_pipeline.h - one datagram in, one decision out (docs/ARCHITECTURE.md, The engine). */
#ifndef SPA_PIPELINE_H
#define SPA_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spa_config.h"
#include "spa_hostaddr.h"
#include "spa_replay.h"
#include "spa_wire.h"

struct spa_pkt {
	const char *data;
	size_t len;
	int family;              /* of the source */
	uint8_t src_bin[16];
	char src[46];
	uint16_t sport;
	uint8_t dst_bin[16];     /* all zero when unknown */
	char dst[46];
	uint16_t dport;
	uint8_t proto;           /* 17 for the UDP server */
	int64_t now;
};

enum spa_verdict { SPA_REJECT = 0, SPA_GRANT = 1 };

struct spa_decision {
	enum spa_verdict verdict;
	const struct spa_stanza *stanza;     /* deciding stanza, or NULL */
	bool authenticated;                  /* some stanza's key verified it */
	bool replayed;                       /* ...but its digest was spent */
	bool rate_limited;                   /* refused by MAX_KNOCKS_PER_MINUTE */
	bool spent;                          /* digest is this packet's, new here */
	char digest[44];                     /* replay digest (spa_replay.h) */
	char reason[192];
	struct spa_message msg;
	int allow_family;                    /* address the grant is for */
	uint8_t allow_bin[16];
	char allow[46];
	struct spa_port ports[SPA_MAX_PORTS];
	size_t n_ports;
	uint32_t timeout;
};

struct spa_pipeline_opts {
	bool test_mode;          /* -t: decide, record nothing */
	/* the host's addresses, re-read here when stale (spa_hostaddr.h);
	 * NULL: only the address classes are checked, not the interfaces */
	struct spa_hostaddrs *host;
};

/* Never logs; the caller logs exactly one line per decision. */
void spa_pipeline_run(const struct spa_config *c, struct spa_replay *replay,
		      const struct spa_pkt *pkt, const struct spa_pipeline_opts *o,
		      struct spa_decision *d);

/*
 * The monitor's second opinion (spa_privsep.h): decides the message m,
 * which the packet process authenticated for stanza s, again, without the
 * packet's bytes: s must match pkt's source and destination, not be
 * expired, and its policy must grant m. Fills d as spa_pipeline_run would
 * (verdict, reason, allow IP, ports, timeout); no replay or rate check.
 */
void spa_pipeline_recheck(const struct spa_config *c, const struct spa_stanza *s,
			  const struct spa_pkt *pkt, const struct spa_message *m,
			  struct spa_hostaddrs *host, struct spa_decision *d);

#endif
