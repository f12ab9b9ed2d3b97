/* SPDX-License-Identifier: MIT */
/*
 * spa_daemon.c - the event loop: UDP sockets, a timerfd for grant expiry
 * (disarmed when nothing is pending, so an idle daemon never wakes up) and a
 * signalfd for TERM/INT/HUP, all in one epoll set.
 */
#include "spa_daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spa_fsutil.h"
#include "spa_log.h"
#include "spa_notify.h"
#include "spa_tcpserv.h"

#define BURST 64   /* datagrams per wakeup before timers and signals get a turn */

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* The same decision as one JSON object per line, for log shippers; the
 * line (newline included, malloc'd) or NULL. */
/* Who signed a GnuPG packet (docs/GNUPG.md): the full fingerprint, else
 * the key id gpg gave; "" when gpg did not read it or it was unsigned. */
static const char *gpg_signer(const struct spa_decision *dec)
{
	if (!dec->gpg)
		return "";
	return dec->gpg_res.fingerprint[0] ? dec->gpg_res.fingerprint : dec->gpg_res.key_id;
}

static char *json_decision(int fd, const struct spa_pkt *pkt, const struct spa_decision *dec,
			   const char *outcome)
{
	json_t *o, *ports;
	char *text;

	if (fd < 0)
		return NULL;
	ports = json_array();
	/* a reject carries the ports asked for too: the shipper sees what
	 * was refused, not only who */
	for (size_t i = 0; i < dec->n_ports; i++)
		json_array_append_new(ports, json_pack("{s:s, s:i}", "proto",
						       dec->ports[i].proto == 6 ? "tcp" : "udp",
						       "port", dec->ports[i].port));
	o = json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:s, s:o}", "time", (json_int_t)pkt->now,
		      "decision", outcome, "src", pkt->src, "sport", pkt->sport, "stanza",
		      dec->stanza ? dec->stanza->label : "", "user", dec->msg.username,
		      "reason", dec->reason, "ports", ports);
	if (o && gpg_signer(dec)[0])
		json_object_set_new(o, "signer", json_string(gpg_signer(dec)));
	if (o && dec->verdict == SPA_GRANT) {
		json_object_set_new(o, "allow", json_string(dec->allow));
		json_object_set_new(o, "timeout", json_integer(dec->timeout));
		if (dec->nat_flags)
			json_object_set_new(o, "nat", spa_daemon_nat_json(dec));
	}
	/* the command as sent (printable ASCII: the pipeline saw to that) */
	if (o && dec->verdict == SPA_COMMAND && strchr(dec->msg.message, ','))
		json_object_set_new(o, "command", json_string(strchr(dec->msg.message, ',') + 1));
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (text) {
		/* json_dumps' buffer has room for the newline in place of the
		 * NUL only; a second NUL needs one more byte */
		size_t len = strlen(text);
		char *line = realloc(text, len + 2);
		if (!line) {
			free(text);
			return NULL;
		}
		line[len] = '\n';
		line[len + 1] = '\0';
		text = line;
	}
	return text;
}

static void write_json_line(int fd, const char *text)
{
	/* one write per line keeps lines whole for concurrent readers */
	if (fd >= 0 && text && write(fd, text, strlen(text)) < 0)
		spa_log(SPA_L_ERR, "JSON log: %s", strerror(errno));
}

/* A grant's decision lines wait for its ops' first outcome: "opened" in
 * the log then means the backend did it (or a failure line precedes it),
 * and whoever reads the log sees the backend's state, not a promise. */
static void emit_note(struct spa_daemon *d, struct spa_decision_note *n)
{
	write_json_line(d->json_fd, n->json);
	spa_log(n->level, "%s", n->line);
	if (n->prev)
		n->prev->next = n->next;
	else
		d->notes = n->next;
	if (n->next)
		n->next->prev = n->prev;
	free(n->json);
	free(n);
}

void spa_daemon_note_done(struct spa_daemon *d, struct spa_decision_note *n)
{
	if (n && --n->left == 0)
		emit_note(d, n);
}

void spa_daemon_notes_flush(struct spa_daemon *d)
{
	while (d->notes)
		emit_note(d, d->notes);
}

static void log_decision(struct spa_daemon *d, const struct spa_pkt *pkt,
			 const struct spa_decision *dec, const char *outcome, const char *detail)
{
	int level = dec->verdict == SPA_GRANT || dec->verdict == SPA_COMMAND ? SPA_L_NOTICE
									       : SPA_L_WARNING;
	unsigned long dropped = 0;
	struct spa_decision_note *n = d->note;
	char *json;

	/* Garbage is only worth a line when the operator asked for detail. */
	if (!dec->stanza && strncmp(dec->reason, "not SPA data", 12) == 0)
		level = SPA_L_INFO;
	/* Anyone can send packets that fail to authenticate, or replay one
	 * captured packet: unless -v asked for every one, those get a budget
	 * of lines, not a line each. */
	if ((!dec->authenticated || dec->replayed) && d->opt.verbosity <= 0) {
		if (!spa_log_limit_allow(&d->unauth_log, pkt->now, &dropped))
			return;
		if (dropped)
			spa_log(SPA_L_WARNING, "%lu more packets that did not authenticate or "
				"were replays were not logged (at most %d lines a second)",
				dropped, SPA_LOG_LIMIT_PER_SEC);
	}
	/* the JSON line first: whoever has seen the log line (a test, a
	 * shipper reading both) finds the JSON one already written */
	json = json_decision(d->json_fd, pkt, dec, outcome);
	if (n && n->left) {
		n->level = level;
		n->json = json;
		snprintf(n->line, sizeof(n->line),
			 "decision=%s src=%s sport=%u stanza=%s user=%s reason=\"%s%s\"%s%s", outcome,
			 pkt->src, pkt->sport, dec->stanza ? dec->stanza->label : "-",
			 dec->msg.username[0] ? dec->msg.username : "-", dec->reason, detail,
			 gpg_signer(dec)[0] ? " signer=" : "", gpg_signer(dec));
		return;
	}
	write_json_line(d->json_fd, json);
	free(json);
	spa_log(level, "decision=%s src=%s sport=%u stanza=%s user=%s reason=\"%s%s\"%s%s",
		outcome, pkt->src, pkt->sport, dec->stanza ? dec->stanza->label : "-",
		dec->msg.username[0] ? dec->msg.username : "-", dec->reason, detail,
		gpg_signer(dec)[0] ? " signer=" : "", gpg_signer(dec));
}

/* The decision's note waits for its ops, or goes when it has none. */
static void keep_note(struct spa_daemon *d)
{
	if (d->note && d->note->left) {
		d->note->next = d->notes;
		if (d->notes)
			d->notes->prev = d->note;
		d->notes = d->note;
	} else {
		free(d->note);
	}
	d->note = NULL;
}

void spa_daemon_act(struct spa_daemon *d, const struct spa_pkt *pkt, struct spa_decision *dec)
{
	struct spa_plugin *p;
	char detail[256] = "";
	size_t off = 0;
	const char *what = "opened";
	unsigned long dropped = 0;
	int rc = 0;

	/* A key holder can knock far past MAX_KNOCKS_PER_MINUTE: those
	 * refusals get a budget of lines per stanza unless -v asked for all. */
	if (dec->rate_limited && dec->stanza && dec->stanza->knocks && d->opt.verbosity <= 0) {
		if (!spa_log_limit_allow(&dec->stanza->knocks->log, pkt->now, &dropped))
			return;
		if (dropped)
			spa_log(SPA_L_WARNING, "stanza %s: %lu more knocks refused by "
				"MAX_KNOCKS_PER_MINUTE were not logged", dec->stanza->label, dropped);
	}
	if (dec->verdict == SPA_COMMAND) {
		/* its line waits for the module, as a grant's for its backend */
		d->note = calloc(1, sizeof(*d->note));
		rc = spa_daemon_command_submit(d, pkt, dec, detail, sizeof(detail));
		if (rc < 0)
			dec->verdict = SPA_REJECT;
		log_decision(d, pkt, dec, rc < 0 ? "error" : "command", detail);
		keep_note(d);
		return;
	}
	if (dec->verdict != SPA_GRANT) {
		log_decision(d, pkt, dec, "reject", "");
		return;
	}
	/* a name in the NAT field: acted on once resolved, off the loop */
	if (dec->nat_resolve && !d->opt.test_mode) {
		spa_daemon_natdns_submit(d, pkt, dec);
		return;
	}
	p = spa_daemon_plugin_for(d, dec->stanza);
	if (!p || (dec->allow_family == AF_INET6 && !(p->d->capabilities & SPA_PLUGIN_CAP_IPV6))) {
		snprintf(dec->reason, sizeof(dec->reason), "backend cannot serve this address family");
		dec->verdict = SPA_REJECT;
		log_decision(d, pkt, dec, "reject", "");
		return;
	}
	/* only a plugin that renders NAT ever gets a NAT grant (ipfw and pf
	 * have none, as in fwknopd) */
	if (dec->nat_flags && !(p->d->capabilities & SPA_PLUGIN_CAP_NAT)) {
		snprintf(dec->reason, sizeof(dec->reason), "plugin %s has no NAT", p->d->name);
		dec->verdict = SPA_REJECT;
		log_decision(d, pkt, dec, "reject", "");
		return;
	}
	rc = spa_daemon_check_limits(d, dec, p, pkt->now, dec->reason, sizeof(dec->reason));
	if (rc == 0 && !d->opt.test_mode) {
		const struct spa_opq *q = spa_daemon_opq_of(d, p);
		uint32_t cap = d->cfg.plugin_queue_max ? d->cfg.plugin_queue_max
						       : d->cfg.max_grants_total;
		/* a backend that cannot keep up refuses knocks; closes it still
		 * takes, whatever its queue holds. The default lets a burst
		 * as large as the grant store wait rather than be refused. */
		if (!q || q->waiting_opens + dec->n_ports > cap) {
			snprintf(dec->reason, sizeof(dec->reason), "backend %s busy: %zu ops "
				 "waiting (PLUGIN_QUEUE_MAX %u); knock refused", p->d->name,
				 q ? q->waiting_opens : 0, cap);
			rc = -EDQUOT;
		}
	}
	if (rc < 0) {
		dec->verdict = SPA_REJECT;
		if (rc != -EDQUOT)
			snprintf(dec->reason, sizeof(dec->reason), "grant limits: %s", strerror(-rc));
		log_decision(d, pkt, dec, "reject", "");
		return;
	}
	/* the ops submitted below carry the note; it is logged when the last
	 * of them is back (log_decision fills it) */
	d->note = calloc(1, sizeof(*d->note));
	for (size_t i = 0; i < dec->n_ports && rc == 0; i++) {
		if (d->opt.test_mode) {
			what = "not opened (test mode)";
			break;
		}
		rc = spa_daemon_apply_port(d, dec, p, &dec->ports[i], pkt->now, &what);
	}
	for (size_t i = 0; i < dec->n_ports && off < sizeof(detail) - 16; i++)
		off += (size_t)snprintf(detail + off, sizeof(detail) - off, "%s%s/%u",
					i ? "," : ": ", dec->ports[i].proto == 6 ? "tcp" : "udp",
					dec->ports[i].port);
	if (rc < 0) {
		dec->verdict = SPA_REJECT;
		if (what == spa_daemon_journal_failed)
			snprintf(dec->reason, sizeof(dec->reason), "grant journal %.100s not written (%s)",
				 d->cfg.journal_file, strerror(-rc));
		else
			snprintf(dec->reason, sizeof(dec->reason), "backend %s failed (%s)",
				 p->d->name, strerror(-rc));
		log_decision(d, pkt, dec, "error", detail);
	} else {
		off += (size_t)snprintf(detail + off, sizeof(detail) - off, " for %s, %u s, %s",
					dec->allow, dec->timeout, what);
		if (dec->nat_flags && off < sizeof(detail))
			spa_daemon_nat_detail(dec, detail + off, sizeof(detail) - off);
		log_decision(d, pkt, dec, "grant", detail);
		spa_daemon_cluster_publish(d, dec, p, pkt->now);
	}
	keep_note(d);
	spa_daemon_arm_timer(d);
}

static void fill_pkt_addrs(struct spa_pkt *pkt, const struct sockaddr_storage *from,
			   struct msghdr *mh)
{
	if (from->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)from;
		pkt->family = AF_INET;
		memcpy(pkt->src_bin, &s4->sin_addr, 4);
		pkt->sport = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)from;
		pkt->family = AF_INET6;
		memcpy(pkt->src_bin, &s6->sin6_addr, 16);
		pkt->sport = ntohs(s6->sin6_port);
	}
	inet_ntop(pkt->family, pkt->src_bin, pkt->src, sizeof(pkt->src));
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			memcpy(pkt->dst_bin, &pi.ipi_addr, 4);
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			memcpy(pkt->dst_bin, &pi.ipi6_addr, 16);
		}
	}
	inet_ntop(pkt->family, pkt->dst_bin, pkt->dst, sizeof(pkt->dst));
}

/* Datagrams taken per recvmmsg call. Static: the daemon is single-threaded
 * and 16 packet buffers are too much for the stack. */
#define UDP_BATCH 16

struct udp_slot {
	/* control messages are read as struct cmsghdr: aligned for it */
	_Alignas(struct cmsghdr) char ctrl[256];
	char buf[SPA_MAX_WIRE_LEN + 1];
	struct sockaddr_storage from;
	struct iovec iov;
};

static struct udp_slot udp_slots[UDP_BATCH];

/*
 * One recvmmsg takes whatever is queued; a short batch means the queue is
 * empty, so the loop returns to epoll (level-triggered) instead of paying
 * another call only to read EAGAIN. Under a flood this is one syscall per
 * UDP_BATCH packets instead of two per packet.
 */
/* Returns true when the queue was drained, false when packets are still
 * waiting (the burst limit gave timers and signals a turn). */
static bool read_udp(struct spa_daemon *d, int fd)
{
	struct mmsghdr mm[UDP_BATCH];

	for (int taken = 0; taken < BURST && !d->stop;) {
		int n;

		for (int i = 0; i < UDP_BATCH; i++) {
			struct udp_slot *u = &udp_slots[i];
			u->iov.iov_base = u->buf;
			u->iov.iov_len = sizeof(u->buf);
			memset(&mm[i], 0, sizeof(mm[i]));
			mm[i].msg_hdr.msg_name = &u->from;
			mm[i].msg_hdr.msg_namelen = sizeof(u->from);
			mm[i].msg_hdr.msg_iov = &u->iov;
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_control = u->ctrl;
			mm[i].msg_hdr.msg_controllen = sizeof(u->ctrl);
		}
		n = recvmmsg(fd, mm, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return true;
		for (int i = 0; i < n && !d->stop; i++) {
			struct spa_pkt pkt;

			memset(&pkt, 0, sizeof(pkt));
			pkt.data = udp_slots[i].buf;
			/* a truncated datagram is over the limit: let the prefilter say so */
			pkt.len = (mm[i].msg_hdr.msg_flags & MSG_TRUNC) ? sizeof(udp_slots[i].buf)
									: (size_t)mm[i].msg_len;
			pkt.proto = 17;
			pkt.dport = d->cfg.udp_port;
			pkt.now = now_s();
			fill_pkt_addrs(&pkt, &udp_slots[i].from, &mm[i].msg_hdr);
			spa_daemon_decide(d, &pkt);
			spa_daemon_count_packet(d);
		}
		taken += n;
		if (n < UDP_BATCH)
			return true;
	}
	return false;
}

/* Entries older than twice the age window (a packet may be stamped up to
 * MAX_SPA_PACKET_AGE in the future) can never be accepted again, so they
 * are dropped; without aging nothing may be dropped. */
static int open_replay(const struct spa_config *c, struct spa_replay **out)
{
	uint32_t keep = c->packet_aging ? 2 * c->max_packet_age + 60 : 0;

	return spa_replay_open(c->digest_persistence ? c->digest_file : NULL, now_s(), keep, out);
}

static void sync_state(struct spa_daemon *d);

/* RECONCILE_INTERVAL: a periodic timer of its own, or none. */
static int arm_reconcile_timer(struct spa_daemon *d)
{
	struct itimerspec its = { 0 };

	if (d->rfd >= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->rfd, NULL);
		close(d->rfd);
		d->rfd = -1;
	}
	if (!d->cfg.reconcile_interval || d->opt.test_mode)
		return 0;
	d->rfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->rfd < 0)
		return -errno;
	its.it_value.tv_sec = (time_t)d->cfg.reconcile_interval;
	its.it_interval.tv_sec = (time_t)d->cfg.reconcile_interval;
	if (timerfd_settime(d->rfd, 0, &its, NULL) < 0)
		return -errno;
	return spa_daemon_watch(d, d->rfd);
}

static void restart_worker(struct spa_daemon *d)
{
	int rc;

	if (d->stop)
		return;
	rc = spa_daemon_worker_start(d);
	if (rc < 0) {
		/* the tick retries; grants keep closing meanwhile */
		spa_log(SPA_L_ERR, "cannot start the packet process: %s", strerror(-rc));
		d->restart_at = 0;
	}
}

static void reload_config(struct spa_daemon *d)
{
	struct spa_replay *replay = NULL;
	struct spa_config fresh;
	char err[SPA_CONF_ERR_LEN] = "";
	int rc = spa_daemon_load_config(&d->opt, &fresh, err, sizeof(err));

	for (size_t i = 0; rc == 0 && i < fresh.n_stanzas; i++) {
		const struct spa_stanza *s = &fresh.stanzas[i];
		const char *name = spa_config_stanza_type(&fresh, s);
		const struct spa_plugin *p = spa_daemon_plugin_named(d, name);
		if (!p) {
			snprintf(err, sizeof(err), "%s: plugin '%s' is not loaded; restart needed",
				 s->label, name);
			rc = -EINVAL;
		} else {
			rc = spa_daemon_stanza_caps(s, p, err, sizeof(err));
		}
	}
	if (rc == 0)
		rc = spa_daemon_cluster_reload_check(d, &fresh, err, sizeof(err));
	if (rc == 0)
		rc = spa_daemon_check_keys(d, &fresh, err, sizeof(err));
	if (rc == 0)
		rc = spa_daemon_check_command_modules(d, &fresh, err, sizeof(err));
	if (rc == 0)
		rc = spa_daemon_apply_schemas(d, &fresh, err, sizeof(err));
	if (rc == 0)
		rc = spa_daemon_check_plugins(d, &fresh, err, sizeof(err));
	if (rc < 0) {
		spa_log(SPA_L_ERR, "reload refused, keeping the running config: %s", err);
		spa_config_free(&fresh);
		return;
	}
	/* Only a check here: the cache is loaded after the packet process
	 * stopped, so that it holds the digests spent meanwhile. */
	rc = open_replay(&fresh, &replay);
	spa_replay_close(replay);
	replay = NULL;
	if (rc < 0) {
		spa_log(SPA_L_ERR, "reload refused: digest cache %s: %s", fresh.digest_file,
			strerror(-rc));
		spa_config_free(&fresh);
		return;
	}
	rc = spa_daemon_reopen_network(d, &fresh);
	if (rc < 0) {
		spa_log(SPA_L_ERR, "reload refused, keeping the running config and sockets");
		spa_config_free(&fresh);
		return;
	}
	/* The packet process holds the old keys and stanzas: it finishes
	 * what it read, and a new one starts on the same sockets (packets
	 * queued meanwhile wait there) under the new configuration. */
	spa_daemon_worker_stop(d);
	sync_state(d);
	rc = open_replay(&fresh, &replay);
	if (rc < 0) {
		spa_log(SPA_L_ERR, "digest cache %s: %s; the one in use (%s) is kept",
			fresh.digest_file, strerror(-rc), d->cfg.digest_file);
	} else {
		spa_replay_close(d->replay);
		d->replay = replay;
	}
	/* Live grants keep the policy they were granted under (their own
	 * copy), and plugins keep the keys they were initialised with. */
	for (size_t i = 0; i <= d->n_plugins; i++) {
		struct spa_plugin *p = i < d->n_plugins ? d->plugins[i] : d->store_plugin;
		char key[128];
		if (p && spa_plugin_keys_changed(p, &fresh, key, sizeof(key)))
			spa_log(SPA_L_WARNING, "plugin %s: %s changed; the plugin keeps its "
				"running settings until spad restarts", p->d->name, key);
	}
	spa_config_free(&d->cfg);
	d->cfg = fresh;
	for (size_t i = 0; i < d->n_plugins; i++)
		if (d->opq[i])
			spa_opq_set_limits(d->opq[i], spa_daemon_op_timeout_ms(d, d->plugins[i]),
					   d->cfg.plugin_batch_max);
	if (arm_reconcile_timer(d) < 0)
		spa_log(SPA_L_ERR, "RECONCILE_INTERVAL: cannot arm its timer: %s", strerror(errno));
	spa_log(SPA_L_NOTICE, "configuration reloaded: %zu stanza%s, %zu grant%s kept",
		d->cfg.n_stanzas, spa_plural(d->cfg.n_stanzas), d->grants.n,
		spa_plural(d->grants.n));
	restart_worker(d);
}

/* systemd (Type=notify) sees the reload begin and end, refused or not:
 * `systemctl reload` then returns once the new configuration is in force. */
static void reload(struct spa_daemon *d)
{
	(void)spa_notify_reloading();
	reload_config(d);
	(void)spa_notify("READY=1\nSTATUS=%zu stanza%s, %zu grant%s\n", d->cfg.n_stanzas,
			 spa_plural(d->cfg.n_stanzas), d->grants.n, spa_plural(d->grants.n));
}

/* WatchdogSec=: pinged from the event loop itself at half the interval,
 * so a loop that stops turning (a hang, not only a crash) gets spad
 * restarted, and its grants closed by the next start's journal replay. */
static int arm_watchdog(struct spa_daemon *d)
{
	uint64_t usec = spa_notify_watchdog_usec() / 2;
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	int rc;

	if (!usec)
		return 0;
	d->wfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->wfd < 0)
		return -errno;
	its.it_value.tv_sec = its.it_interval.tv_sec = (time_t)(usec / 1000000u);
	its.it_value.tv_nsec = its.it_interval.tv_nsec = (long)(usec % 1000000u) * 1000;
	if (timerfd_settime(d->wfd, 0, &its, NULL) < 0)
		return -errno;
	rc = spa_daemon_watch(d, d->wfd);
	if (rc == 0)
		spa_log(SPA_L_INFO, "systemd watchdog: a ping every %llu ms",
			(unsigned long long)(usec / 1000u));
	return rc;
}

static void handle_signal(struct spa_daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload(d);
		else if (si.ssi_signo == SIGUSR1)
			spa_daemon_reconcile_backends(d, "SIGUSR1");
		else
			d->stop = true;
	}
}

void spa_daemon_init(struct spa_daemon *d, const struct spa_options *o)
{
	memset(d, 0, sizeof(*d));
	d->opt = *o;
	d->epfd = d->tfd = d->sfd = d->udp[0] = d->udp[1] = d->json_fd = -1;
	d->ps_fd = -1;
	d->tcp[0] = d->tcp[1] = -1;
	d->rfd = -1;
	d->wfd = -1;
	d->ofd = -1;
	d->dns_fd[0] = d->dns_fd[1] = -1;
	d->worker_pid = -1;
}

int spa_daemon_start(struct spa_daemon *d)
{
	sigset_t mask;
	int rc;

	if (d->cfg.json_log[0]) {
		/* opened as root: never through a link (or a hard link) planted
		 * at its name, never anything but a regular file */
		d->json_fd = spa_fs_openat(AT_FDCWD, d->cfg.json_log, O_WRONLY | O_APPEND | O_CREAT,
					   0600);
		if (d->json_fd < 0) {
			rc = d->json_fd;
			d->json_fd = -1;
			spa_log(SPA_L_ERR, "JSON log %s: %s", d->cfg.json_log, spa_fs_strerror(rc));
			return rc;
		}
	}
	rc = open_replay(&d->cfg, &d->replay);
	if (rc < 0) {
		spa_log(SPA_L_ERR, "digest cache %s: %s", d->cfg.digest_file, spa_fs_strerror(rc));
		return rc;
	}
	rc = spa_grants_open(&d->grants, d->opt.test_mode ? NULL : d->cfg.journal_file);
	if (rc < 0) {
		spa_log(SPA_L_ERR, "grant journal %s: unreadable (%s); refusing to start blind",
			d->cfg.journal_file, spa_fs_strerror(rc));
		return rc;
	}
	rc = spa_daemon_load_journal_plugins(d);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < d->n_plugins; i++) {
		struct spa_plugin *p = d->plugins[i];
		spa_daemon_bind_plugin(d, p);
		rc = spa_plugin_init(p, &d->cfg);
		if (rc < 0)
			return rc;
		/* Before reconcile(): a flush after it would drop the grants
		 * the journal has just re-opened. */
		if (spa_plugin_flush_wanted(p, "AT_INIT")) {
			rc = p->d->ops.flush(p->state);
			if (rc < 0) {
				spa_log(SPA_L_ERR, "plugin %s: flush at start failed (%d)",
					p->d->name, rc);
				return rc;
			}
		}
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	d->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->epfd < 0 || d->tfd < 0 || d->sfd < 0)
		return -errno;
	if ((rc = spa_daemon_watch(d, d->tfd)) < 0 || (rc = spa_daemon_watch(d, d->sfd)) < 0)
		return rc;
	if (!d->opt.test_mode && (rc = spa_daemon_ops_start(d)) < 0)
		return rc;
	/* The firewall is made to match the journal before spad listens: once
	 * the port (or capture) is open, what a client or test sees is final,
	 * not a flush on its way to being re-filled. */
	spa_daemon_reconcile(d);
	/* what the backends hold that the journal does not (a journal lost,
	 * rules restored from elsewhere) is closed before spad listens */
	spa_daemon_reconcile_backends(d, "start");
	/* the other nodes' live grants, as the journal's: before listening */
	rc = spa_daemon_cluster_start(d);
	if (rc < 0)
		return rc;
	/* up to PLUGIN_OP_TIMEOUT: a slow backend delays no knock for longer,
	 * what it has not done by then it does while spad listens */
	if (!spa_daemon_drain(d, (int)d->cfg.plugin_op_timeout * 1000))
		spa_log(SPA_L_WARNING, "start: backends still busy with the journal's grants "
			"after PLUGIN_OP_TIMEOUT; listening meanwhile");
	rc = arm_reconcile_timer(d);
	if (rc < 0)
		return rc;
	rc = arm_watchdog(d);
	if (rc < 0)
		return rc;
	/* The journal is rewritten whole (fsync, rename) once here, so that
	 * the first grant only appends a line instead of paying for it. */
	rc = spa_grants_save(&d->grants);
	/* Not a reason to stop: the grants just re-opened would stay open
	 * with nobody to close them. Knocks are refused (journal first)
	 * until the journal can be written; journaled grants still close. */
	if (rc < 0)
		spa_log(SPA_L_ERR, "grant journal %s: cannot write it (%s); new grants are "
			"refused until it can be, the ones it holds still close on time",
			d->cfg.journal_file, strerror(-rc));
	if (d->cfg.nfq.enable) {
		rc = spa_daemon_open_nfq(d);
		if (rc < 0)
			return rc;
	} else if (!d->cfg.udp_server) {
		rc = spa_daemon_open_captures(d);
		if (rc < 0)
			return rc;
	} else {
		rc = spa_daemon_open_udp(d, d->cfg.udp_port, d->udp);
		if (rc < 0)
			return rc;
	}
	if (d->cfg.tcp.server && !d->cfg.pcap_file[0]) {
		rc = spa_tcpserv_open(&d->cfg, d->tcp);
		if (rc < 0)
			return rc;
	}
	/* Last: the packet process starts with every socket and capture it
	 * reads already open, so it never needs the right to open one. */
	rc = spa_daemon_worker_start(d);
	if (rc < 0) {
		spa_log(SPA_L_ERR, "cannot start the packet process: %s", strerror(-rc));
		return rc;
	}
	/* said once the packet process reads: what a waiting caller or test
	 * sees next is the daemon at work, not its start-up */
	if (d->cfg.udp_server)
		spa_log(SPA_L_NOTICE, "listening on UDP port %u, %zu stanza%s, %zu plugin%s%s",
			d->cfg.udp_port, d->cfg.n_stanzas, spa_plural(d->cfg.n_stanzas),
			d->n_plugins, spa_plural(d->n_plugins),
			d->opt.test_mode ? " (test mode)" : "");
	if (d->tcp[0] >= 0)
		spa_log(SPA_L_NOTICE, "listening on TCP port %u (%s)", d->cfg.tcp.port,
			d->cfg.udp_server ? "SPA read from the connection" : "SPA read by the capture");
	return 0;
}

static struct spa_capture *capture_of(struct spa_daemon *d, int fd)
{
	for (size_t i = 0; i < d->n_cap; i++)
		if (d->cap[i].fd == fd)
			return &d->cap[i];
	return NULL;
}

/* Once per wakeup, after the firewall calls it made: what the wakeup
 * appended to the replay cache and the journal reaches the disk. */
static void sync_state(struct spa_daemon *d)
{
	int rc = spa_replay_sync(d->replay);

	if (rc < 0)
		spa_log(SPA_L_ERR, "digest cache %s: flush to disk failed: %s", d->cfg.digest_file,
			strerror(-rc));
	rc = spa_grants_sync(&d->grants);
	if (rc < 0)
		spa_log(SPA_L_ERR, "grant journal %s: flush to disk or rewrite failed: %s",
			d->cfg.journal_file, strerror(-rc));
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Under a flood of packets that do not authenticate, waking up for each
 * one costs more than checking it. When a wakeup found only such packets
 * and came less than SPA_COALESCE_NS after the loop last went to sleep,
 * the loop lets the next ones queue (the socket holds megabytes) for that
 * long before it looks again: one wakeup per millisecond instead of one
 * per packet. A knock then waits at most that long; a quiet or idle daemon
 * never sleeps here.
 */
#define SPA_COALESCE_NS 1000000u

static void coalesce(uint64_t woke, uint64_t slept_at, long packets, unsigned long authentic,
		     bool drained)
{
	struct timespec pause = { 0, (long)SPA_COALESCE_NS };

	/* a backlog means the loop is the bottleneck: never pause then */
	if (drained && packets > 0 && authentic == 0 && woke - slept_at < SPA_COALESCE_NS)
		nanosleep(&pause, NULL);
}

void spa_daemon_serve_packets(struct spa_daemon *d, int epfd, int ctl_fd)
{
	uint64_t slept_at = 0;

	while (!d->stop) {
		struct epoll_event ev[8];
		int n = epoll_wait(epfd, ev, 8, spa_tcpserv_timeout_ms());
		uint64_t woke = mono_ns();
		long packets = d->packets;
		unsigned long authentic = d->authenticated;
		bool drained = true;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (int i = 0; i < n && !d->stop; i++) {
			int fd = ev[i].data.fd;
			if (fd == ctl_fd)
				return;
			if (spa_daemon_worker_event(d, fd) || spa_tcpserv_event(d, fd))
				continue;
			if (capture_of(d, fd))
				drained = spa_daemon_read_capture(d, capture_of(d, fd)) && drained;
			else if (d->nfq && fd == spa_nfq_fd(d->nfq))
				drained = spa_daemon_read_nfq(d) && drained;
			else
				drained = read_udp(d, fd) && drained;
		}
		spa_tcpserv_tick(d);
		coalesce(woke, slept_at, d->packets - packets, d->authenticated - authentic,
			 drained);
		slept_at = mono_ns();
	}
}

/* The nearest of: a packet process to restart, an op's deadline, a retry. */
static int loop_timeout_ms(struct spa_daemon *d)
{
	int a = spa_daemon_worker_timeout_ms(d), b = spa_daemon_ops_timeout_ms(d);
	int c = spa_daemon_cluster_timeout_ms(d);

	a = a < 0 ? b : b < 0 ? a : a < b ? a : b;
	return a < 0 ? c : c < 0 ? a : a < c ? a : c;
}

bool spa_daemon_drain(struct spa_daemon *d, int wait_ms)
{
	uint64_t end = spa_opq_now_ms() + (uint64_t)(wait_ms > 0 ? wait_ms : 0);

	for (;;) {
		struct pollfd pfd = { .fd = d->ofd, .events = POLLIN };
		uint64_t now;
		int t;

		spa_daemon_ops_tick(d);
		spa_daemon_ops_release(d);
		sync_state(d);
		if (d->ofd < 0 || spa_daemon_ops_idle(d))
			return true;
		now = spa_opq_now_ms();
		if (now >= end)
			return false;
		t = spa_daemon_ops_timeout_ms(d);
		if (t < 0 || (uint64_t)t > end - now)
			t = (int)(end - now);
		if (poll(&pfd, 1, t) > 0)
			spa_daemon_ops_event(d);
	}
}

int spa_daemon_run(struct spa_daemon *d)
{
	while (!d->stop) {
		struct epoll_event ev[8];
		int n = epoll_wait(d->epfd, ev, 8, loop_timeout_ms(d));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !d->stop; i++) {
			int fd = ev[i].data.fd;
			if (fd == d->tfd) {
				uint64_t ticks;
				if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					spa_log(SPA_L_ERR, "timerfd read: %s", strerror(errno));
				spa_daemon_expire_due(d);
			} else if (fd == d->sfd) {
				handle_signal(d);
			} else if (fd == d->ps_fd) {
				spa_daemon_worker_read(d);
			} else if (fd == d->rfd) {
				uint64_t ticks;
				if (read(fd, &ticks, sizeof(ticks)) > 0)
					spa_daemon_reconcile_backends(d, "RECONCILE_INTERVAL");
			} else if (fd == d->ofd) {
				spa_daemon_ops_event(d);
			} else if (fd == d->dns_fd[0]) {
				spa_daemon_natdns_event(d);
			} else if (fd >= 0 && fd == spa_daemon_cluster_fd(d)) {
				spa_daemon_cluster_event(d);
			} else if (fd == d->wfd) {
				uint64_t ticks;
				if (read(fd, &ticks, sizeof(ticks)) > 0)
					(void)spa_notify("WATCHDOG=1\n");
			}
		}
		spa_daemon_ops_tick(d);
		spa_daemon_cluster_tick(d);
		/* The wakeup's ops go to the workers once their journal lines
		 * are written (a kill -9 cannot lose them), and the fdatasync
		 * follows while the backends work: it is off the time to
		 * open. A power loss that took the line also took a host
		 * firewall's rules; a remote backend's entry is then one that
		 * no grant covers, which reconciliation closes at start. */
		spa_daemon_ops_release(d);
		sync_state(d);
		spa_daemon_worker_tick(d);
	}
	/* what the packet process decided before the stop is acted on (and
	 * closed again by the clean stop that follows) */
	spa_daemon_worker_stop(d);
	sync_state(d);
	return d->worker_failed ? -EIO : 0;
}

void spa_daemon_free(struct spa_daemon *d)
{
	int fds[] = { d->udp[0], d->udp[1], d->sfd, d->tfd, d->epfd, d->json_fd, d->ps_fd,
		      d->rfd, d->ofd, d->wfd };
	bool hung[SPA_MAX_PLUGINS] = { false };

	if (d->worker_pid > 0) {
		kill(d->worker_pid, SIGKILL);
		waitpid(d->worker_pid, NULL, 0);
		d->worker_pid = -1;
	}

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	spa_daemon_close_captures(d);
	spa_daemon_close_nfq(d);
	spa_tcpserv_close(d->tcp);
	spa_daemon_cluster_stop(d);
	spa_daemon_ops_stop(d, 1000);
	for (size_t i = 0; i < d->n_plugins; i++) {
		hung[i] = d->opq[i] && d->opq[i]->hung;
		spa_opq_free(d->opq[i]);
		d->opq[i] = NULL;
	}
	/* a plugin whose op never returned keeps its code mapped and its
	 * state: its thread still runs in them until the process exits */
	for (size_t i = 0; i < d->n_plugins; i++)
		if (!hung[i])
			spa_plugin_unload(d->plugins[i]);
	spa_daemon_notes_flush(d);
	free(d->retries);
	d->retries = NULL;
	d->n_retries = d->cap_retries = 0;
	d->n_plugins = 0;
	spa_replay_close(d->replay);
	d->replay = NULL;
	spa_grants_close(&d->grants);
	spa_config_free(&d->cfg);
}
