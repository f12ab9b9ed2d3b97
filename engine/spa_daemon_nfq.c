/* SPDX-License-Identifier: MIT */
/*
 * spa_daemon_nfq.c - NFQUEUE capture mode of the daemon (docs/man/spad.8,
 * CAPTURE MODES; spa_nfq.h). The monitor binds the queue and installs the
 * rule before the packet process starts, keeps the socket across packet
 * processes (packets queue in the kernel meanwhile), gives the verdicts
 * the packet process asks for, and removes the rule at exit; the packet
 * process reads the queue.
 */
#include "spa_daemon.h"

#include <errno.h>
#include <pcap/dlt.h>
#include <string.h>

#include "spa_log.h"
#include "spa_nfq.h"

#define NFQ_BURST 64   /* packets per wakeup before timers and signals get a turn */

int spa_daemon_open_nfq(struct spa_daemon *d)
{
	const struct spa_nfq_conf *n = &d->cfg.nfq;
	char err[256] = "";
	int rc;

	d->nfq = spa_nfq_open(n, d->cfg.max_sniff_bytes, err, sizeof(err));
	if (!d->nfq) {
		spa_log(SPA_L_ERR, "%s", err);
		return -EIO;
	}
	rc = spa_nfq_rules_add(n);
	if (rc < 0) {
		spa_nfq_close(d->nfq);
		d->nfq = NULL;
		return rc;
	}
	spa_log(SPA_L_NOTICE, "capturing through NFQUEUE %u (udp port %u%s%s, %s table, chain %s), "
		"%zu stanza%s, %zu plugin%s%s", n->queue, n->port, n->intf[0] ? " on " : "",
		n->intf, n->table, n->chain, d->cfg.n_stanzas, spa_plural(d->cfg.n_stanzas),
		d->n_plugins, spa_plural(d->n_plugins), d->opt.test_mode ? " (test mode)" : "");
	return 0;
}

void spa_daemon_close_nfq(struct spa_daemon *d)
{
	if (!d->nfq)
		return;
	/* the rule first: the SPA port stays dropped once nobody reads it */
	spa_nfq_rules_remove(&d->cfg.nfq);
	spa_nfq_close(d->nfq);
	d->nfq = NULL;
}

static void on_packet(void *ctx, const uint8_t *ip, size_t len)
{
	struct spa_daemon *d = ctx;

	/* the queue hands over the IP packet: the raw link type */
	if (!d->stop)
		(void)spa_daemon_take_frame(d, "NFQUEUE", DLT_RAW, ip, len);
}

static void on_verdict(void *ctx, uint32_t id, uint32_t v)
{
	spa_daemon_worker_verdict(ctx, id, v);
}

void spa_daemon_nfq_verdict(struct spa_daemon *d, uint32_t id, uint32_t v)
{
	int rc = spa_nfq_verdict(d->nfq, id, v);

	if (rc < 0)
		spa_log(SPA_L_WARNING, "NFQUEUE %u: verdict up to packet %u: %s (the next one "
			"settles them)", d->cfg.nfq.queue, id, strerror(-rc));
}

bool spa_daemon_read_nfq(struct spa_daemon *d)
{
	int n = spa_nfq_read(d->nfq, NFQ_BURST, on_packet, on_verdict, d);

	if (n < 0) {
		spa_log(SPA_L_ERR, "NFQUEUE %u: %s; exiting", d->cfg.nfq.queue, strerror(-n));
		d->stop = true;
	}
	return n < NFQ_BURST;
}
