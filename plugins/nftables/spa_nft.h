/* SPDX-License-Identifier: MIT */
/*
 * nftables plugin internals. Everything lives in a table of our own
 * ("inet spa"): four sets of source [. destination] . protocol . port with
 * flags timeout, one element per grant carrying its own timeout, so the
 * kernel closes the hole on time even if spad is gone. A base chain at a
 * priority before the usual filter chains accepts and marks matching
 * packets; see docs in plugins/nftables/README.md for the two ways an
 * admin's own drop policy can honour that.
 */
#ifndef SPA_NFT_H
#define SPA_NFT_H

#include <stdint.h>
#include <spa/plugin.h>
#include "spa_pu.h"

#define SPA_NFT_NAME_LEN 32
#define SPA_NFT_MAX_PROTECT 32

struct spa_nft_port {
	uint8_t proto;
	uint16_t port;
};

struct spa_nft_state {
	const struct spa_host_api *host;
	const char *exe;
	char table[SPA_NFT_NAME_LEN];
	int priority;
	uint32_t mark;                       /* 0: do not mark */
	struct spa_nft_port protect[SPA_NFT_MAX_PROTECT];
	unsigned int nprotect;               /* >0: standalone drop policy */
	int flush_at_init;
	int flush_at_exit;
};

/* spa_nft_config.c */
int spa_nft_valid_name(const char *s);
int spa_nft_parse_ports(const char *value, struct spa_nft_port *out, unsigned int max,
			unsigned int *n);
int spa_nft_load_config(const struct spa_host_api *host, struct spa_nft_state *st);

/* spa_nft_batch.c: text for `nft -f FILE` */
int spa_nft_batch_setup(const struct spa_nft_state *st, struct spa_pu_buf *b);
int spa_nft_batch_flush(const struct spa_nft_state *st, struct spa_pu_buf *b);
/* now: current epoch seconds, used to turn the grant's absolute expiry
 * into the element's relative timeout. */
int spa_nft_batch_open(const struct spa_nft_state *st, const struct spa_grant *g,
		       int64_t now, struct spa_pu_buf *b);
int spa_nft_batch_close(const struct spa_nft_state *st, const struct spa_grant *g,
			struct spa_pu_buf *b);

/* spa_nft_list.c: parses `nft -j list table inet <table>` */
int spa_nft_list_json(const char *json, int64_t now, spa_plugin_list_cb cb, void *ctx);

#endif
