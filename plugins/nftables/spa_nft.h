/* SPDX-License-Identifier: MIT */
/*
 * nftables plugin internals. Everything lives in a table of our own
 * ("inet spa"): four sets of source [. destination] . protocol . port with
 * flags timeout, one element per grant carrying its own timeout, so the
 * kernel closes the hole on time even if spad is gone. A base chain at a
 * priority before the usual filter chains accepts and marks matching
 * packets; see docs in plugins/nftables/README.md for the two ways an
 * admin's own drop policy can honour that.
 *
 * Every operation is one JSON document ({"nftables": [...]}) applied as one
 * transaction by a transport: libnftables in-process (no fork per grant),
 * or `nft -j -f -` through the host's runner when the library is absent.
 */
#ifndef SPA_NFT_H
#define SPA_NFT_H

#include <stdint.h>
#include <jansson.h>
#include <spa/plugin.h>
#include "spa_pu.h"

#define SPA_NFT_NAME_LEN 32
#define SPA_NFT_MAX_PROTECT 32

struct spa_nft_port {
	uint8_t proto;
	uint16_t port;
};

struct spa_nft_state;

/* How a JSON document reaches the kernel. */
struct spa_nft_xport {
	const char *name;                    /* value of NFT_TRANSPORT */
	int (*init)(struct spa_nft_state *st);
	/* doc: NUL-terminated {"nftables": [...]}, applied atomically */
	int (*apply)(struct spa_nft_state *st, const struct spa_pu_buf *doc);
	/* `list table inet <table>` as JSON; *out stays valid until the
	 * next call into the transport */
	int (*list)(struct spa_nft_state *st, const char **out);
	void (*fini)(struct spa_nft_state *st);
};

extern const struct spa_nft_xport spa_nft_xport_exec;
#ifdef SPA_NFT_HAVE_LIBNFTABLES
extern const struct spa_nft_xport spa_nft_xport_lib;
#endif

struct spa_nft_state {
	const struct spa_host_api *host;
	const struct spa_nft_xport *xport;
	void *xctx;                          /* transport's own state */
	int exec_stdin;                      /* exec: nft can read the runner's stdin */
	const char *exe;
	char table[SPA_NFT_NAME_LEN];
	int priority;
	uint32_t mark;                       /* 0: do not mark */
	struct spa_nft_port protect[SPA_NFT_MAX_PROTECT];
	unsigned int nprotect;               /* >0: standalone drop policy */
	int nat_ready;                       /* the NAT and forward chains were
					      * written by this instance */
	json_t *nat_listing;                 /* during a NAT close: the table as
					      * read before it, or NULL */
};

/* spa_nft_config.c */
int spa_nft_valid_name(const char *s);
int spa_nft_parse_ports(const char *value, struct spa_nft_port *out, unsigned int max,
			unsigned int *n);
/* Reads and validates every key into st without touching the kernel or
 * starting a transport: the one parser of both ops.init and ops.check. */
int spa_nft_load_config(const struct spa_host_api *host, struct spa_nft_state *st);

/* spa_nft_batch.c: commands appended to a {"nftables": [...]} document.
 * Each returns 0, -ENOMEM, or -EINVAL/-ETIME for a grant it refuses (the
 * document is then left unchanged). */
json_t *spa_nft_batch_new(void);
int spa_nft_batch_setup(const struct spa_nft_state *st, json_t *doc);
int spa_nft_batch_flush(const struct spa_nft_state *st, json_t *doc);
/* now: current epoch seconds, used to turn the grant's absolute expiry
 * into the element's relative timeout. */
int spa_nft_batch_open(const struct spa_nft_state *st, const struct spa_grant *g,
		       int64_t now, json_t *doc);
int spa_nft_batch_close(const struct spa_nft_state *st, const struct spa_grant *g,
			json_t *doc);
int spa_nft_batch_list(const struct spa_nft_state *st, json_t *doc);
/* Building blocks shared with spa_nft_nat.c. Each takes the references
 * it is given, also on failure; NULL in, NULL (or -ENOMEM) out. */
int spa_nft_push(json_t *doc, const char *verb, const char *kind, json_t *body);
int spa_nft_push_rule(const struct spa_nft_state *st, json_t *doc, const char *chain,
		      json_t *expr);
json_t *spa_nft_named(const struct spa_nft_state *st, const char *name);
json_t *spa_nft_with(json_t *obj, const char *key, json_t *val);
json_t *spa_nft_payload(const char *proto, const char *field);
json_t *spa_nft_meta(const char *key);
/* appends "mark set mark | NFT_MARK" (unless 0) and "accept" to expr */
json_t *spa_nft_accept_tail(const struct spa_nft_state *st, json_t *expr);
json_t *spa_nft_elements(const struct spa_nft_state *st, const char *set, json_t *elem);
/* add + delete of one element (data: a map's value, or NULL; neither
 * reference is taken): gone afterwards whether or not it was there */
int spa_nft_remove_element(const struct spa_nft_state *st, json_t *doc, const char *set,
			   json_t *key, json_t *data);
/* appends part's commands to doc when rc is 0; releases part */
int spa_nft_commit(json_t *doc, json_t *part, int rc);
/* table, sets and maps ("add": no-op for what exists) */
int spa_nft_declare(const struct spa_nft_state *st, json_t *doc);

/* spa_nft_nat.c: NAT grants (nat_flags != 0), in their own sets and maps
 * and three chains of the table: forward (filter), nat_pre (prerouting
 * DNAT), nat_post (postrouting SNAT and masquerade). */
int spa_nft_nat_declare(const struct spa_nft_state *st, json_t *doc);
int spa_nft_nat_flush(const struct spa_nft_state *st, json_t *doc);
/* The chains, created and their rules rewritten: the plugin adds them to
 * the first NAT open of its life, so a host without NAT grants has no
 * NAT hook of ours. */
int spa_nft_nat_chains(const struct spa_nft_state *st, json_t *doc);
int spa_nft_nat_open(const struct spa_nft_state *st, const struct spa_grant *g, int64_t now,
		     json_t *doc);
/* With st->nat_listing, only the elements the table holds with g's own
 * comment are removed: another grant's form of the same key stays. */
int spa_nft_nat_close(const struct spa_nft_state *st, const struct spa_grant *g, json_t *doc);
/* Adds NAT grants of set `name` (one of ours: returns 1) to the listing. */
int spa_nft_nat_list_set(const char *name, json_t *elems, int64_t now, spa_plugin_list_cb cb,
			 void *ctx);

/* Serializes doc and hands it to the state's transport. */
int spa_nft_apply(struct spa_nft_state *st, const json_t *doc);

/* spa_nft_list.c: parses the JSON of `list table inet <table>` */
int spa_nft_list_json(const char *json, int64_t now, spa_plugin_list_cb cb, void *ctx);

#endif
