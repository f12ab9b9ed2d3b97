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

/* A listing is back: compared with the store as it is now. Grants made
 * after the list op was submitted, and grants with an op still on its way,
 * may be missing from it for good reasons: they are left alone. */
void spa_daemon_list_done(struct spa_daemon *d, struct spa_plugin *p, struct spa_op *op,
			  const struct spa_op_result *res)
{
	size_t reopened = 0, removed = 0, failed = 0, n_lost = 0;
	uint64_t *lost = NULL;
	bool *seen = NULL;
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
	if ((d->grants.n && !lost) || (op->n_listed && !seen)) {
		spa_log(SPA_L_ERR, "plugin %s: out of memory; not reconciled", p->d->name);
		goto out;
	}
	for (size_t i = 0; i < d->grants.n; i++) {
		struct spa_grant_rec r;
		bool found = false;

		spa_grants_at(&d->grants, i, &r);
		if (strcmp(r.plugin, p->d->name) != 0)
			continue;
		for (size_t k = 0; k < op->n_listed; k++)
			if (!seen[k] && same_hole(&r.g, &op->listed[k])) {
				seen[k] = found = true;
				break;
			}
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
