/* SPDX-License-Identifier: MIT */
/* spa_daemon_pcap.c - pcap capture mode of the daemon (docs/man/spad.8, CAPTURE MODES). */
#include "spa_daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "spa_frame.h"
#include "spa_log.h"

#define CAPTURE_BURST 64   /* frames per wakeup before timers and signals get a turn */

bool spa_daemon_count_packet(struct spa_daemon *d)
{
	if (++d->packets >= d->opt.packet_limit && d->opt.packet_limit > 0) {
		if (!d->stop)
			spa_log(SPA_L_NOTICE, "packet limit %ld reached, exiting",
				d->opt.packet_limit);
		d->stop = true;
	}
	return d->stop;
}

bool spa_daemon_take_frame(struct spa_daemon *d, const char *from, int dlt, const uint8_t *frame,
			   size_t caplen)
{
	struct spa_pkt pkt;
	const char *why;

	pkt.now = (int64_t)time(NULL);
	if (spa_frame_parse(dlt, frame, caplen, &pkt, &why) < 0)
		spa_log(SPA_L_INFO, "%s: frame of %zu bytes ignored: %s", from, caplen, why);
	else
		spa_daemon_decide(d, &pkt);
	return spa_daemon_count_packet(d);
}

static void on_frame(void *ctx, const struct spa_capture *cap, const uint8_t *frame,
		     size_t caplen)
{
	struct spa_daemon *d = ctx;

	if (d->stop)
		return;
	if (spa_daemon_take_frame(d, cap->name, cap->dlt, frame, caplen)) {
		for (size_t i = 0; i < d->n_cap; i++)
			spa_capture_break(&d->cap[i]);
	}
}

static void capture_opts(const struct spa_daemon *d, struct spa_capture_opts *o)
{
	o->filter = d->cfg.pcap_filter;
	o->snaplen = d->cfg.max_sniff_bytes;
	o->promisc = d->cfg.pcap_promisc;
	o->any_direction = d->cfg.pcap_any_direction;
}

int spa_daemon_open_captures(struct spa_daemon *d)
{
	struct spa_capture_opts o;
	char err[512] = "", list[sizeof(d->cfg.pcap_intf)], *save = NULL;
	int rc = 0;

	capture_opts(d, &o);
	if (d->cfg.pcap_file[0]) {
		rc = spa_capture_open_file(&d->cap[0], d->cfg.pcap_file, &o, err, sizeof(err));
		if (rc < 0) {
			spa_log(SPA_L_ERR, "pcap file %s", err);
			return rc;
		}
		d->n_cap = 1;
		spa_log(SPA_L_NOTICE, "reading %s (filter '%s'), %zu stanza%s, %zu plugin%s%s",
			d->cfg.pcap_file, d->cfg.pcap_filter, d->cfg.n_stanzas,
			spa_plural(d->cfg.n_stanzas), d->n_plugins, spa_plural(d->n_plugins),
			d->opt.test_mode ? " (test mode)" : "");
		return 0;
	}
	snprintf(list, sizeof(list), "%s", d->cfg.pcap_intf);
	for (char *i = strtok_r(list, ", ", &save); i && rc == 0; i = strtok_r(NULL, ", ", &save)) {
		struct spa_capture *c = &d->cap[d->n_cap];

		if (d->n_cap == SPA_MAX_CAPTURES) {
			spa_log(SPA_L_ERR, "too many interfaces (max %d)", SPA_MAX_CAPTURES);
			return -EINVAL;
		}
		rc = spa_capture_open_live(c, i, &o, err, sizeof(err));
		if (rc < 0) {
			spa_log(SPA_L_ERR, "capture on %s", err);
			return rc;
		}
		d->n_cap++;
	}
	d->captures_fresh = true;
	if (d->n_cap == 0) {
		spa_log(SPA_L_ERR, "no interface to capture on (PCAP_INTF / -i)");
		return -EINVAL;
	}
	spa_log(SPA_L_NOTICE, "capturing on %s (filter '%s'), %zu stanza%s, %zu plugin%s%s",
		d->cfg.pcap_intf, d->cfg.pcap_filter, d->cfg.n_stanzas,
		spa_plural(d->cfg.n_stanzas), d->n_plugins, spa_plural(d->n_plugins),
		d->opt.test_mode ? " (test mode)" : "");
	return 0;
}

bool spa_daemon_read_capture(struct spa_daemon *d, struct spa_capture *c)
{
	int n = spa_capture_dispatch(c, CAPTURE_BURST, on_frame, d);

	if (n < 0 && n != -ENODATA) {
		/* an interface that went away cannot come back on this handle */
		spa_log(SPA_L_ERR, "capture on %s failed; exiting", c->name);
		d->stop = true;
	}
	return n < CAPTURE_BURST;
}

int spa_daemon_replay_file(struct spa_daemon *d)
{
	int n;

	do
		n = spa_capture_dispatch(&d->cap[0], CAPTURE_BURST, on_frame, d);
	while (n >= 0 && !d->stop);
	if (n < 0 && n != -ENODATA) {
		spa_log(SPA_L_ERR, "reading %s failed", d->cfg.pcap_file);
		return n;
	}
	spa_log(SPA_L_NOTICE, "end of %s after %ld packets", d->cfg.pcap_file, d->packets);
	return 0;
}

void spa_daemon_close_captures(struct spa_daemon *d)
{
	for (size_t i = 0; i < d->n_cap; i++)
		spa_capture_close(&d->cap[i]);
	d->n_cap = 0;
}
