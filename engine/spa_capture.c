/* SPDX-License-Identifier: MIT */
/*
 * spa_capture.c - libpcap behind a non-blocking descriptor, so captures sit
 * in the daemon's epoll set next to its timers and signals: no timeout
 * polling, no sleeping, immediate delivery.
 */
#include "spa_capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

struct dispatch_ctx {
	struct spa_capture *c;
	spa_capture_cb *cb;
	void *ctx;
};

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct dispatch_ctx *dc = (struct dispatch_ctx *)user;
	/* caplen is what we may read; len is what was on the wire */
	size_t caplen = h->caplen < h->len ? h->caplen : h->len;

	dc->cb(dc->ctx, dc->c, bytes, caplen);
}

static int set_filter(struct spa_capture *c, const char *filter, char *err, size_t errlen)
{
	struct bpf_program prog;
	int rc = 0;

	if (!filter || !*filter)
		return 0;
	if (pcap_compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "%s: filter '%s': %s", c->name, filter, pcap_geterr(c->p));
		return -EINVAL;
	}
	if (pcap_setfilter(c->p, &prog) < 0) {
		snprintf(err, errlen, "%s: setfilter: %s", c->name, pcap_geterr(c->p));
		rc = -EINVAL;
	}
	pcap_freecode(&prog);
	return rc;
}

static int activate_error(struct spa_capture *c, int rc, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s%s%s", c->name, pcap_statustostr(rc),
		 rc == PCAP_ERROR || rc == PCAP_WARNING ? ": " : "",
		 rc == PCAP_ERROR || rc == PCAP_WARNING ? pcap_geterr(c->p) : "");
	return rc == PCAP_ERROR_PERM_DENIED ? -EPERM : rc == PCAP_ERROR_NO_SUCH_DEVICE ? -ENODEV
										      : -EIO;
}

int spa_capture_open_live(struct spa_capture *c, const char *intf,
			  const struct spa_capture_opts *o, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	int rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->name, sizeof(c->name), "%s", intf);
	c->p = pcap_create(intf, ebuf);
	if (!c->p) {
		snprintf(err, errlen, "%s: %s", intf, ebuf);
		return -ENODEV;
	}
	if (pcap_set_snaplen(c->p, (int)o->snaplen) != 0 ||
	    pcap_set_promisc(c->p, o->promisc) != 0 || pcap_set_immediate_mode(c->p, 1) != 0) {
		snprintf(err, errlen, "%s: cannot set capture options", intf);
		rc = -EIO;
		goto fail;
	}
	rc = pcap_activate(c->p);
	if (rc < 0) {
		rc = activate_error(c, rc, err, errlen);
		goto fail;
	}
	/* our own replies and probes are never requests to us */
	if (!o->any_direction && pcap_setdirection(c->p, PCAP_D_IN) < 0) {
		snprintf(err, errlen, "%s: setdirection: %s", intf, pcap_geterr(c->p));
		rc = -EIO;
		goto fail;
	}
	rc = set_filter(c, o->filter, err, errlen);
	if (rc < 0)
		goto fail;
	if (pcap_setnonblock(c->p, 1, ebuf) < 0) {
		snprintf(err, errlen, "%s: setnonblock: %s", intf, ebuf);
		rc = -EIO;
		goto fail;
	}
	c->fd = pcap_get_selectable_fd(c->p);
	if (c->fd < 0) {
		snprintf(err, errlen, "%s: no selectable descriptor", intf);
		rc = -EIO;
		goto fail;
	}
	c->dlt = pcap_datalink(c->p);
	return 0;
fail:
	spa_capture_close(c);
	return rc;
}

int spa_capture_open_file(struct spa_capture *c, const char *path,
			  const struct spa_capture_opts *o, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	int rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->name, sizeof(c->name), "%s", path);
	c->p = pcap_open_offline(path, ebuf);
	if (!c->p) {
		snprintf(err, errlen, "%s: %s", path, ebuf);
		return -ENOENT;
	}
	rc = set_filter(c, o->filter, err, errlen);
	if (rc < 0) {
		spa_capture_close(c);
		return rc;
	}
	c->dlt = pcap_datalink(c->p);
	return 0;
}

int spa_capture_dispatch(struct spa_capture *c, int max, spa_capture_cb *cb, void *ctx)
{
	struct dispatch_ctx dc = { c, cb, ctx };
	int n = pcap_dispatch(c->p, max, on_frame, (u_char *)&dc);

	if (n == PCAP_ERROR_BREAK)
		return 0;
	if (n < 0)
		return -EIO;
	/* a file answers 0 only once it is exhausted; a live handle in
	 * non-blocking mode answers 0 whenever nothing is queued */
	if (n == 0 && c->fd < 0)
		return -ENODATA;
	return n;
}

void spa_capture_break(struct spa_capture *c)
{
	if (c->p)
		pcap_breakloop(c->p);
}

void spa_capture_close(struct spa_capture *c)
{
	if (c->p)
		pcap_close(c->p);
	c->p = NULL;
	c->fd = -1;
}
