/* SPDX-License-Identifier: MIT */
#include "spa_nft.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

struct set_def {
	const char *name;
	const char *type;
	const char *match; /* the selector the chain compares with the set */
};

static const struct set_def sets[] = {
	{ "allow4", "ipv4_addr . inet_proto . inet_service",
	  "ip saddr . meta l4proto . th dport" },
	{ "allow4d", "ipv4_addr . ipv4_addr . inet_proto . inet_service",
	  "ip saddr . ip daddr . meta l4proto . th dport" },
	{ "allow6", "ipv6_addr . inet_proto . inet_service",
	  "ip6 saddr . meta l4proto . th dport" },
	{ "allow6d", "ipv6_addr . ipv6_addr . inet_proto . inet_service",
	  "ip6 saddr . ip6 daddr . meta l4proto . th dport" },
};

#define NSETS (sizeof(sets) / sizeof(sets[0]))

/* "add" of an existing table, set or chain is a no-op, so this can run at
 * every start without disturbing live elements (and their timeouts). */
static void declare(const struct spa_nft_state *st, struct spa_pu_buf *b)
{
	spa_pu_buf_printf(b, "add table inet %s\n", st->table);
	for (size_t i = 0; i < NSETS; i++)
		spa_pu_buf_printf(b, "add set inet %s %s { type %s; flags timeout; }\n",
				  st->table, sets[i].name, sets[i].type);
}

int spa_nft_batch_setup(const struct spa_nft_state *st, struct spa_pu_buf *b)
{
	declare(st, b);
	spa_pu_buf_printf(b,
			  "add chain inet %s input { type filter hook input priority %d; policy accept; }\n"
			  "flush chain inet %s input\n",
			  st->table, st->priority, st->table);
	for (size_t i = 0; i < NSETS; i++) {
		spa_pu_buf_printf(b, "add rule inet %s input %s @%s", st->table, sets[i].match,
				  sets[i].name);
		if (st->mark)
			spa_pu_buf_printf(b, " meta mark set meta mark or 0x%08" PRIx32, st->mark);
		spa_pu_buf_printf(b, " accept\n");
	}
	if (st->nprotect > 0) {
		/* standalone mode: we own the drop for the protected ports;
		 * sessions opened during a grant outlive it, as with the
		 * usual ESTABLISHED rule of an iptables policy */
		spa_pu_buf_printf(b, "add rule inet %s input ct state established,related accept\n",
				  st->table);
		spa_pu_buf_printf(b, "add rule inet %s input meta l4proto . th dport {", st->table);
		for (unsigned int i = 0; i < st->nprotect; i++)
			spa_pu_buf_printf(b, "%s %s . %u", i ? "," : "",
					  spa_pu_proto_name(st->protect[i].proto), st->protect[i].port);
		spa_pu_buf_printf(b, " } drop\n");
	}
	return b->failed ? -ENOMEM : 0;
}

int spa_nft_batch_flush(const struct spa_nft_state *st, struct spa_pu_buf *b)
{
	declare(st, b);
	for (size_t i = 0; i < NSETS; i++)
		spa_pu_buf_printf(b, "flush set inet %s %s\n", st->table, sets[i].name);
	return b->failed ? -ENOMEM : 0;
}

/* Set name and element key of a grant, from binary addresses only. */
static int element(const struct spa_grant *g, const char **set, char *key, size_t len)
{
	char src[SPA_GRANT_ADDR_LEN], dst[SPA_GRANT_ADDR_LEN];
	const char *proto = spa_pu_proto_name(g->proto);
	int v6 = g->family == AF_INET6;
	int n, rc;

	if (!proto || g->port == 0 || (g->family != AF_INET && !v6) ||
	    g->src.family != g->family || (g->dst.family && g->dst.family != g->family))
		return -EINVAL;
	rc = spa_pu_addr_text(&g->src, src, sizeof(src));
	if (rc < 0)
		return rc;
	if (g->dst.family) {
		rc = spa_pu_addr_text(&g->dst, dst, sizeof(dst));
		if (rc < 0)
			return rc;
		*set = v6 ? "allow6d" : "allow4d";
		n = snprintf(key, len, "%s . %s . %s . %u", src, dst, proto, g->port);
	} else {
		*set = v6 ? "allow6" : "allow4";
		n = snprintf(key, len, "%s . %s . %u", src, proto, g->port);
	}
	return n < 0 || (size_t)n >= len ? -E2BIG : 0;
}

int spa_nft_batch_open(const struct spa_nft_state *st, const struct spa_grant *g,
		       int64_t now, struct spa_pu_buf *b)
{
	char key[3 * SPA_GRANT_ADDR_LEN];
	const char *set;
	int64_t left = g->expires - now;
	int rc = element(g, &set, key, sizeof(key));

	if (rc < 0)
		return rc;
	if (left <= 0)
		return -ETIME; /* already expired: nothing to open */
	/* add (no-op if present) + delete + add makes one transaction that
	 * never fails on a missing or existing element and always leaves
	 * exactly one element with the new timeout: a re-knock refreshes. */
	spa_pu_buf_printf(b,
			  "add element inet %s %s { %s }\n"
			  "delete element inet %s %s { %s }\n"
			  "add element inet %s %s { %s timeout %" PRId64 "s }\n",
			  st->table, set, key, st->table, set, key, st->table, set, key, left);
	return b->failed ? -ENOMEM : 0;
}

int spa_nft_batch_close(const struct spa_nft_state *st, const struct spa_grant *g,
			struct spa_pu_buf *b)
{
	char key[3 * SPA_GRANT_ADDR_LEN];
	const char *set;
	int rc = element(g, &set, key, sizeof(key));

	if (rc < 0)
		return rc;
	/* the kernel may have expired it already: add first so the delete
	 * cannot fail the batch */
	spa_pu_buf_printf(b,
			  "add element inet %s %s { %s }\n"
			  "delete element inet %s %s { %s }\n",
			  st->table, set, key, st->table, set, key);
	return b->failed ? -ENOMEM : 0;
}
