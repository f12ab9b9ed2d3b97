/* SPDX-License-Identifier: MIT */
/*
 * spa_capture.c - libpcap behind a non-blocking descriptor, so captures sit
 * in the daemon's epoll set next to its timers and signals: no timeout
 * polling, no sleeping, immediate delivery.
 *
 * libpcap is loaded with dlopen on the first capture: through its own
 * dependencies (dbus, systemd, gcrypt, compressors) it would add about a
 * megabyte of resident memory and a dozen libraries to a daemon that, in
 * UDP-server mode, never captures anything.
 */
#include "spa_capture.h"

#include <dlfcn.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#define SPA_PCAP_FUNCS(X)                                                        \
	X(activate) X(breakloop) X(close) X(compile) X(create) X(datalink)       \
	X(dispatch) X(file) X(freecode) X(get_selectable_fd) X(geterr) X(open_offline)   \
	X(set_immediate_mode) X(set_promisc) X(set_snaplen) X(setdirection)      \
	X(setfilter) X(setnonblock) X(statustostr)

static struct {
#define SPA_PCAP_MEMBER(name) __typeof__(pcap_##name) *name;
	SPA_PCAP_FUNCS(SPA_PCAP_MEMBER)
#undef SPA_PCAP_MEMBER
} pc;

/* Sonames of libpcap's stable ABI, newest naming first. */
static const char *const pcap_sonames[] = { "libpcap.so.1", "libpcap.so.0.8", "libpcap.so" };

static int load_pcap(char *err, size_t errlen)
{
	static void *lib;
	const char *why = "not found";

	if (lib)
		return 0;
	for (size_t i = 0; i < sizeof(pcap_sonames) / sizeof(pcap_sonames[0]) && !lib; i++)
		lib = dlopen(pcap_sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		const char *e = dlerror();
		snprintf(err, errlen, "cannot load libpcap: %s", e ? e : why);
		return -ENOSYS;
	}
#define SPA_PCAP_RESOLVE(name)                                                   \
	if (!(*(void **)&pc.name = dlsym(lib, "pcap_" #name))) {                \
		snprintf(err, errlen, "libpcap lacks pcap_%s", #name);           \
		goto fail;                                                       \
	}
	SPA_PCAP_FUNCS(SPA_PCAP_RESOLVE)
#undef SPA_PCAP_RESOLVE
	return 0;
fail:
	dlclose(lib);
	lib = NULL;
	return -ENOSYS;
}

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
	if (pc.compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "%s: filter '%s': %s", c->name, filter, pc.geterr(c->p));
		return -EINVAL;
	}
	if (pc.setfilter(c->p, &prog) < 0) {
		snprintf(err, errlen, "%s: setfilter: %s", c->name, pc.geterr(c->p));
		rc = -EINVAL;
	}
	pc.freecode(&prog);
	return rc;
}

static int activate_error(struct spa_capture *c, int rc, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s%s%s", c->name, pc.statustostr(rc),
		 rc == PCAP_ERROR || rc == PCAP_WARNING ? ": " : "",
		 rc == PCAP_ERROR || rc == PCAP_WARNING ? pc.geterr(c->p) : "");
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
	rc = load_pcap(err, errlen);
	if (rc < 0)
		return rc;
	c->p = pc.create(intf, ebuf);
	if (!c->p) {
		snprintf(err, errlen, "%s: %s", intf, ebuf);
		return -ENODEV;
	}
	if (pc.set_snaplen(c->p, (int)o->snaplen) != 0 ||
	    pc.set_promisc(c->p, o->promisc) != 0 || pc.set_immediate_mode(c->p, 1) != 0) {
		snprintf(err, errlen, "%s: cannot set capture options", intf);
		rc = -EIO;
		goto fail;
	}
	rc = pc.activate(c->p);
	if (rc < 0) {
		rc = activate_error(c, rc, err, errlen);
		goto fail;
	}
	/* our own replies and probes are never requests to us */
	if (!o->any_direction && pc.setdirection(c->p, PCAP_D_IN) < 0) {
		snprintf(err, errlen, "%s: setdirection: %s", intf, pc.geterr(c->p));
		rc = -EIO;
		goto fail;
	}
	rc = set_filter(c, o->filter, err, errlen);
	if (rc < 0)
		goto fail;
	if (pc.setnonblock(c->p, 1, ebuf) < 0) {
		snprintf(err, errlen, "%s: setnonblock: %s", intf, ebuf);
		rc = -EIO;
		goto fail;
	}
	c->fd = pc.get_selectable_fd(c->p);
	if (c->fd < 0) {
		snprintf(err, errlen, "%s: no selectable descriptor", intf);
		rc = -EIO;
		goto fail;
	}
	c->dlt = pc.datalink(c->p);
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
	rc = load_pcap(err, errlen);
	if (rc < 0)
		return rc;
	c->p = pc.open_offline(path, ebuf);
	if (!c->p) {
		snprintf(err, errlen, "%s: %s", path, ebuf);
		return -ENOENT;
	}
	rc = set_filter(c, o->filter, err, errlen);
	if (rc < 0) {
		spa_capture_close(c);
		return rc;
	}
	c->dlt = pc.datalink(c->p);
	return 0;
}

int spa_capture_dispatch(struct spa_capture *c, int max, spa_capture_cb *cb, void *ctx)
{
	struct dispatch_ctx dc = { c, cb, ctx };
	int n = pc.dispatch(c->p, max, on_frame, (u_char *)&dc);

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
		pc.breakloop(c->p);
}

void spa_capture_close(struct spa_capture *c)
{
	if (c->p)
		pc.close(c->p);
	c->p = NULL;
	c->fd = -1;
}

int spa_capture_fileno(const struct spa_capture *c)
{
	FILE *f;

	if (c->fd >= 0 || !c->p)
		return c->fd;
	f = pc.file(c->p);
	return f ? fileno(f) : -1;
}
