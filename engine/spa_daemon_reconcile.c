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

/* A backend's listing, copied: its callback's grant is only lent. */
struct listing {
	struct spa_grant *v;
	bool *seen;               /* a store grant accounts for v[i] */
	size_t n, cap;
	int err;
};

/* Enough for MAX_GRANTS_TOTAL's ceiling; a longer listing is not ours. */
#define LISTING_MAX 1000000u

static void on_listed(void *ctx, const struct spa_grant *g)
{
	struct listing *l = ctx;

	if (l->err || !g)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct spa_grant *v;
		bool *seen;
		if (cap > LISTING_MAX) {
			l->err = -E2BIG;
			return;
		}
		v = realloc(l->v, cap * sizeof(*v));
		if (v)
			l->v = v;
		seen = v ? realloc(l->seen, cap * sizeof(*seen)) : NULL;
		if (seen)
			l->seen = seen;
		if (!v || !seen) {
			l->err = -ENOMEM;
			return;
		}
		l->cap = cap;
	}
	l->v[l->n] = *g;
	l->seen[l->n] = false;
	l->n++;
}

static size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* The same hole: source, protocol and port, and the destination when both
 * name one (a listing may not carry it). */
static bool same_hole(const struct spa_grant *a, const struct spa_grant *b)
{
	if (a->src.family != b->src.family || a->proto != b->proto || a->port != b->port ||
	    memcmp(&a->src.bin, &b->src.bin, addr_len(a->src.family)) != 0)
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

static void reconcile_plugin(struct spa_daemon *d, struct spa_plugin *p, const char *why)
{
	struct listing l = { 0 };
	size_t reopened = 0, removed = 0, failed = 0;
	uint64_t *lost = NULL;
	size_t n_lost = 0;
	int rc;

	rc = p->d->ops.list(p->state, on_listed, &l);
	if (rc < 0 || l.err < 0) {
		/* without a complete listing nothing can be called lost or stale */
		spa_log(SPA_L_ERR, "plugin %s: cannot list its entries (%s); not reconciled (%s)",
			p->d->name, strerror(-(rc < 0 ? rc : l.err)), why);
		goto out;
	}
	lost = d->grants.n ? calloc(d->grants.n, sizeof(*lost)) : NULL;
	if (d->grants.n && !lost) {
		spa_log(SPA_L_ERR, "plugin %s: out of memory; not reconciled", p->d->name);
		goto out;
	}
	for (size_t i = 0; i < d->grants.n; i++) {
		struct spa_grant_rec r;
		bool found = false;

		spa_grants_at(&d->grants, i, &r);
		if (strcmp(r.plugin, p->d->name) != 0)
			continue;
		for (size_t k = 0; k < l.n; k++)
			if (!l.seen[k] && same_hole(&r.g, &l.v[k])) {
				l.seen[k] = found = true;
				break;
			}
		/* a closing grant's entry is its retry's to remove */
		if (!found && !r.closing)
			lost[n_lost++] = r.g.id;
	}
	/* re-opened after the walk: an open may reorder the store */
	for (size_t i = 0; i < n_lost; i++) {
		struct spa_grant_rec r;
		if (!spa_grants_by_id(&d->grants, lost[i], &r))
			continue;
		rc = spa_daemon_grant_reopen(d, lost[i]);
		spa_log(rc < 0 ? SPA_L_ERR : SPA_L_WARNING,
			"grant %llu (%s %s/%u): missing from backend %s (%s); %s",
			(unsigned long long)lost[i], r.g.src.text, proto_name(r.g.proto), r.g.port,
			p->d->name, why, rc < 0 ? "re-open failed, tried again next time" :
			"re-opened");
		if (rc < 0)
			failed++;
		else
			reopened++;
	}
	for (size_t k = 0; k < l.n; k++) {
		if (l.seen[k])
			continue;
		d->op_id = 0;
		d->op_policy = NULL;
		rc = p->d->ops.close(p->state, &l.v[k]);
		spa_log(rc < 0 ? SPA_L_ERR : SPA_L_WARNING,
			"backend %s holds %s %s/%u that no grant covers (%s); %s", p->d->name,
			l.v[k].src.text, proto_name(l.v[k].proto), l.v[k].port, why,
			rc < 0 ? "closing it failed, tried again next time" : "closed");
		if (rc < 0)
			failed++;
		else
			removed++;
	}
	if (reopened || removed || failed)
		spa_log(SPA_L_NOTICE, "plugin %s reconciled (%s): %zu re-opened, %zu removed, "
			"%zu failed", p->d->name, why, reopened, removed, failed);
out:
	free(lost);
	free(l.v);
	free(l.seen);
}

void spa_daemon_reconcile_backends(struct spa_daemon *d, const char *why)
{
	if (d->opt.test_mode)
		return;
	for (size_t i = 0; i < d->n_plugins; i++) {
		struct spa_plugin *p = d->plugins[i];
		if (p->initialised && p->d->ops.list)
			reconcile_plugin(d, p, why);
	}
}
