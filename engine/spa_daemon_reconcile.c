/* SPDX-License-Identifier: MIT */
/*
 * spa_daemon_reconcile.c - the grant store against what the backends hold.
 * The journal says which holes spad opened; a backend's own listing says
 * which it holds now. They part when an admin flushes a chain (a live grant
 * is gone: the client is locked out before its time), or when a rule
 * outlives its record (a journal lost with a reboot, a copy of the rules
 * restored): a hole nobody will close. Reconciliation re-opens the first
 * and closes the second. It runs after start, on SIGUSR1 and every
 * RECONCILE_INTERVAL seconds (when set), for plugins with a list op.
 */
#include "spa_daemon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "spa_log.h"

static size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static bool same_addr(const struct spa_grant_addr *a, const struct spa_grant_addr *b)
{
	return a->family == b->family &&
	       (!a->family || memcmp(&a->bin, &b->bin, addr_len(a->family)) == 0);
}

/* A NAT form, when the listing says one (a plugin of an older SDK, or
 * one that cannot tell, lists none): another target is another hole. */
static bool same_nat(const struct spa_grant *g, const struct spa_grant *listed)
{
	if (!SPA_GRANT_HAS(listed, nat_flags) || !listed->nat_flags)
		return true;
	return g->nat_flags == listed->nat_flags && g->nat_port == listed->nat_port &&
	       same_addr(&g->nat_addr, &listed->nat_addr) &&
	       same_addr(&g->snat_addr, &listed->snat_addr);
}

/* The same hole: source, protocol and port, the NAT form the listing
 * gives, and the destination when both name one (a listing may not carry
 * it). a is the grant, b the listed entry. */
static bool same_hole(const struct spa_grant *a, const struct spa_grant *b)
{
	if (a->src.family != b->src.family || a->proto != b->proto || a->port != b->port ||
	    memcmp(&a->src.bin, &b->src.bin, addr_len(a->src.family)) != 0 || !same_nat(a, b))
		return false;
	if (a->dst.family && b->dst.family)
		return a->dst.family == b->dst.family &&
		       memcmp(&a->dst.bin, &b->dst.bin, addr_len(a->dst.family)) == 0;
	return true;
}

static const char *proto_name(uint8_t proto)
{
	return proto == 6 ? "tcp" : "udp";
}

/* What same_hole always compares, hashed: entries of one hole share it. */
static uint64_t hole_hash(const struct spa_grant *g)
{
	uint64_t h = spa_ghash(&g->src.family, sizeof(g->src.family), SPA_GHASH_INIT);

	h = spa_ghash(&g->src.bin, addr_len(g->src.family), h);
	h = spa_ghash(&g->proto, sizeof(g->proto), h);
	return spa_ghash_mix(spa_ghash(&g->port, sizeof(g->port), h));
}

/* The listing's entries by hole: chains in listing order, so that a grant
 * takes the first entry not yet taken that matches it, as a scan of the
 * whole listing would, in O(grants + entries). */
struct listing_index {
	uint32_t *head;         /* per bucket: first entry, SPA_GTAB_EMPTY none */
	uint32_t *next;         /* per entry */
	size_t mask;
};

static int index_listing(struct listing_index *ix, const struct spa_op *op)
{
	size_t cap = 16;

	while (cap < 2 * op->n_listed)
		cap *= 2;
	ix->mask = cap - 1;
	ix->head = malloc(cap * sizeof(*ix->head));
	ix->next = op->n_listed ? malloc(op->n_listed * sizeof(*ix->next)) : NULL;
	if (!ix->head || (op->n_listed && !ix->next))
		return -ENOMEM;
	memset(ix->head, 0xff, cap * sizeof(*ix->head));
	/* pushed front from the last, so each chain runs in listing order */
	for (size_t k = op->n_listed; k-- > 0;) {
		size_t b = hole_hash(&op->listed[k]) & ix->mask;
		ix->next[k] = ix->head[b];
		ix->head[b] = (uint32_t)k;
	}
	return 0;
}

/* The first entry not taken yet that is g's hole, taken off its chain;
 * SPA_GTAB_EMPTY when there is none. */
static uint32_t take_entry(struct listing_index *ix, const struct spa_op *op,
			   const struct spa_grant *g)
{
	uint32_t *link = &ix->head[hole_hash(g) & ix->mask];

	for (; *link != SPA_GTAB_EMPTY; link = &ix->next[*link]) {
		uint32_t k = *link;
		if (same_hole(g, &op->listed[k])) {
			*link = ix->next[k];
			return k;
		}
	}
	return SPA_GTAB_EMPTY;
}

/* A listing is back: compared with the store as it is now. Grants made
 * after the list op was submitted, and grants with an op still on its way,
 * may be missing from it for good reasons: they are left alone. */
void spa_daemon_list_done(struct spa_daemon *d, struct spa_plugin *p, struct spa_op *op,
			  const struct spa_op_result *res)
{
	size_t reopened = 0, removed = 0, failed = 0, n_lost = 0;
	uint64_t *lost = NULL;
	bool *seen = NULL;
	struct listing_index ix = { NULL, NULL, 0 };
	const char *why = res->why;
	int rc = res->rc;

	if (rc == 0 && op && op->list_err)
		rc = op->list_err;
	if (rc < 0 || !op) {
		/* without a complete listing nothing can be called lost or stale */
		spa_log(SPA_L_ERR, "plugin %s: cannot list its entries (%s); not reconciled (%s)",
			p->d->name, res->msg[0] ? res->msg : strerror(-rc), why);
		return;
	}
	lost = d->grants.n ? calloc(d->grants.n, sizeof(*lost)) : NULL;
	seen = op->n_listed ? calloc(op->n_listed, sizeof(*seen)) : NULL;
	if ((d->grants.n && !lost) || (op->n_listed && !seen) || op->n_listed >= SPA_GTAB_EMPTY ||
	    index_listing(&ix, op) < 0) {
		spa_log(SPA_L_ERR, "plugin %s: out of memory; not reconciled", p->d->name);
		goto out;
	}
	for (size_t i = 0; i < d->grants.n; i++) {
		struct spa_grant_rec r;
		uint32_t k;
		bool found;

		spa_grants_at(&d->grants, i, &r);
		if (strcmp(r.plugin, p->d->name) != 0)
			continue;
		k = take_entry(&ix, op, &r.g);
		found = k != SPA_GTAB_EMPTY;
		if (found)
			seen[k] = true;
		/* a closing grant's entry is its retry's to remove */
		if (!found && !r.closing && !r.close_busy && !r.inflight &&
		    r.g.id < op->watermark)
			lost[n_lost++] = r.g.id;
	}
	for (size_t i = 0; i < n_lost; i++) {
		struct spa_grant_rec r;
		if (!spa_grants_by_id(&d->grants, lost[i], &r))
			continue;
		/* the outcome is logged when the open comes back */
		rc = spa_daemon_grant_reopen(d, lost[i], why);
		if (rc < 0)
			spa_log(SPA_L_ERR, "grant %llu (%s %s/%u): missing from backend %s (%s); "
				"re-open not submitted, tried again next time",
				(unsigned long long)lost[i], r.g.src.text, proto_name(r.g.proto),
				r.g.port, p->d->name, why);
		if (rc < 0)
			failed++;
		else
			reopened++;
	}
	for (size_t k = 0; k < op->n_listed; k++) {
		if (seen[k])
			continue;
		rc = spa_daemon_submit_foreign_close(d, p, &op->listed[k], why);
		if (rc < 0)
			spa_log(SPA_L_ERR, "backend %s holds %s %s/%u that no grant covers (%s); "
				"close not submitted, tried again next time", p->d->name,
				op->listed[k].src.text, proto_name(op->listed[k].proto),
				op->listed[k].port, why);
		if (rc < 0)
			failed++;
		else
			removed++;
	}
	if (reopened || removed || failed)
		spa_log(SPA_L_NOTICE, "plugin %s reconciled (%s): %zu to re-open, %zu to remove, "
			"%zu failed", p->d->name, why, reopened, removed, failed);
out:
	free(ix.head);
	free(ix.next);
	free(lost);
	free(seen);
}

void spa_daemon_foreign_done(struct spa_daemon *d, struct spa_plugin *p,
			     const struct spa_op_result *res)
{
	(void)d;
	spa_log(res->rc < 0 ? SPA_L_ERR : SPA_L_WARNING,
		"backend %s holds %s %s/%u that no grant covers (%s); %s%s", p->d->name,
		res->g->src.text, proto_name(res->g->proto), res->g->port, res->why,
		res->rc < 0 ? "closing it failed, tried again next time: " : "closed",
		res->rc < 0 ? (res->msg[0] ? res->msg : strerror(-res->rc)) : "");
}

void spa_daemon_reconcile_backends(struct spa_daemon *d, const char *why)
{
	if (d->opt.test_mode)
		return;
	for (size_t i = 0; i < d->n_plugins; i++) {
		struct spa_plugin *p = d->plugins[i];
		if (p->initialised && p->d->ops.list && spa_daemon_submit_list(d, p, why) < 0)
			spa_log(SPA_L_ERR, "plugin %s: listing not submitted (%s)", p->d->name,
				why);
	}
}
