/* SPDX-License-Identifier: MIT */
/*
 * spa_privsep.c - the records between the packet process and the monitor
 * (spa_privsep.h): packing on the unprivileged side, and on the privileged
 * side the checks that make a record from a compromised packet process
 * worth no more than a packet from a key holder.
 */
#include "spa_privsep.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define bad spa_privsep_bad

static void copy_str(char *dst, size_t cap, const char *src)
{
	/* records are zero-filled first: unused bytes never carry stale data */
	snprintf(dst, cap, "%s", src);
}

void spa_privsep_pack_decision(const struct spa_config *c, const struct spa_pkt *pkt,
			       const struct spa_decision *d, uint32_t unlogged,
			       struct spa_ps_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->h.magic = SPA_PS_MAGIC;
	out->h.type = d->verdict == SPA_COMMAND ? SPA_PS_COMMAND : SPA_PS_DECISION;
	out->h.generation = c->generation;
	out->family = pkt->family;
	memcpy(out->src_bin, pkt->src_bin, sizeof(out->src_bin));
	memcpy(out->dst_bin, pkt->dst_bin, sizeof(out->dst_bin));
	out->xff_family = pkt->xff_family;
	memcpy(out->xff_bin, pkt->xff_bin, sizeof(out->xff_bin));
	out->sport = pkt->sport;
	out->dport = pkt->dport;
	out->proto = pkt->proto;
	out->now = pkt->now;
	out->verdict = (uint8_t)d->verdict;
	out->authenticated = d->authenticated;
	out->replayed = d->replayed;
	out->rate_limited = d->rate_limited;
	out->spent = d->spent;
	out->stanza = d->stanza ? (int32_t)(d->stanza - c->stanzas) : -1;
	copy_str(out->reason, sizeof(out->reason), d->reason);
	copy_str(out->msg.username, sizeof(out->msg.username), d->msg.username);
	out->msg.timestamp = d->msg.timestamp;
	out->msg.type = d->msg.type;
	copy_str(out->msg.message, sizeof(out->msg.message), d->msg.message);
	/* A refused command message may hold any byte but NUL (a tab, UTF-8):
	 * the monitor only logs a refusal, and its record takes text. */
	if (d->verdict != SPA_GRANT && d->verdict != SPA_COMMAND)
		for (char *t = out->msg.message; *t; t++)
			if ((unsigned char)*t < 0x20 || (unsigned char)*t > 0x7e)
				*t = '?';
	copy_str(out->msg.nat_access, sizeof(out->msg.nat_access), d->msg.nat_access);
	out->msg.client_timeout = d->msg.client_timeout;
	if (d->spent)
		copy_str(out->digest, sizeof(out->digest), d->digest);
	out->n_ports = (uint32_t)d->n_ports;
	for (size_t i = 0; i < d->n_ports && i < SPA_MAX_PORTS; i++) {
		out->ports[i].proto = d->ports[i].proto;
		out->ports[i].port = d->ports[i].port;
	}
	out->unlogged = unlogged;
	out->gpg = d->gpg;
	if (d->gpg) {
		out->gpg_sig = d->gpg_res.sig;
		out->gpg_validity = d->gpg_res.validity;
		copy_str(out->gpg_fpr, sizeof(out->gpg_fpr), d->gpg_res.fingerprint);
		copy_str(out->gpg_key_id, sizeof(out->gpg_key_id), d->gpg_res.key_id);
	}
	out->msg_spent = d->msg_spent;
	if (d->msg_spent)
		copy_str(out->msg_digest, sizeof(out->msg_digest), d->msg_digest);
}

int spa_privsep_bad(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* Terminated inside its field, and (when set) only these characters. */
static bool str_ok(const char *s, size_t cap, bool (*char_ok)(unsigned char))
{
	const char *end = memchr(s, '\0', cap);

	if (!end)
		return false;
	for (; s < end; s++)
		if (!char_ok((unsigned char)*s))
			return false;
	return true;
}

static bool printable(unsigned char ch)
{
	return ch >= 0x20 && ch < 0x7f;
}

static bool b64_char(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '+' || ch == '/';
}

/* gpg's ids are upper-case hex (lib/spa_gpg_open.c) */
static bool hex_upper(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F');
}

static bool digest_ok(const char *d, size_t cap)
{
	return str_ok(d, cap, b64_char) && strlen(d) == cap - 1;
}

static bool flag_ok(uint8_t v)
{
	return v == 0 || v == 1;
}

static int check_decision(const struct spa_ps_decision *m, char *why, size_t cap)
{
	/* a command travels only in a record of its own kind, and that
	 * kind carries nothing else */
	if ((m->h.type == SPA_PS_COMMAND) != (m->verdict == SPA_COMMAND))
		return bad(why, cap, "verdict %u in a record of type %u", m->verdict, m->h.type);
	if (m->family != AF_INET && m->family != AF_INET6)
		return bad(why, cap, "address family %d", (int)m->family);
	if (m->xff_family != 0 && m->xff_family != AF_INET && m->xff_family != AF_INET6)
		return bad(why, cap, "X-Forwarded-For address family %d", (int)m->xff_family);
	/* what carried the packet: TCP, UDP, or ICMP in pcap mode */
	if (m->proto != IPPROTO_TCP && m->proto != IPPROTO_UDP && m->proto != IPPROTO_ICMP &&
	    m->proto != IPPROTO_ICMPV6)
		return bad(why, cap, "transport protocol %u", m->proto);
	if (m->verdict != SPA_REJECT && m->verdict != SPA_GRANT && m->verdict != SPA_COMMAND)
		return bad(why, cap, "verdict %u", m->verdict);
	if (!flag_ok(m->authenticated) || !flag_ok(m->replayed) || !flag_ok(m->rate_limited) ||
	    !flag_ok(m->spent))
		return bad(why, cap, "flag not 0 or 1");
	if (m->stanza < -1)
		return bad(why, cap, "stanza index %d", (int)m->stanza);
	if (m->verdict == SPA_GRANT && (m->stanza < 0 || !m->authenticated))
		return bad(why, cap, "a grant without an authenticating stanza");
	if (!str_ok(m->reason, sizeof(m->reason), printable))
		return bad(why, cap, "reason not terminated printable text");
	if (!str_ok(m->msg.username, sizeof(m->msg.username), printable) ||
	    (m->msg.username[0] && spa_validate_username(m->msg.username) < 0))
		return bad(why, cap, "username not valid");
	if (!str_ok(m->msg.message, sizeof(m->msg.message), printable))
		return bad(why, cap, "message not terminated printable text");
	if (m->verdict == SPA_GRANT && spa_validate_access_msg(m->msg.message) < 0)
		return bad(why, cap, "access request not valid");
	/* a command message: the record kind that carries text for a
	 * command module, so it is checked as the wire library would */
	if (m->verdict == SPA_COMMAND &&
	    (m->stanza < 0 || !m->authenticated || m->msg.type != SPA_MSG_COMMAND ||
	     spa_validate_command_msg(m->msg.message) < 0 || m->n_ports != 0))
		return bad(why, cap, "command message not valid or not authenticated");
	/* the monitor decides the NAT form again from it (spa_nat.c) */
	if (!str_ok(m->msg.nat_access, sizeof(m->msg.nat_access), printable) ||
	    (m->msg.nat_access[0] && spa_validate_nat_access(m->msg.nat_access) < 0))
		return bad(why, cap, "NAT field not valid");
	if (m->spent && !digest_ok(m->digest, sizeof(m->digest)))
		return bad(why, cap, "replay digest not 43 base64 characters");
	if (!flag_ok(m->gpg) || !flag_ok(m->msg_spent))
		return bad(why, cap, "GnuPG flag not 0 or 1");
	if (m->msg_spent && (!m->gpg || !m->authenticated ||
			     !digest_ok(m->msg_digest, sizeof(m->msg_digest))))
		return bad(why, cap, "plaintext digest without a GnuPG authentication, or not "
			   "43 base64 characters");
	if (m->gpg_sig < SPA_GPG_SIG_NONE || m->gpg_sig > SPA_GPG_SIG_REVOKED ||
	    m->gpg_validity < SPA_GPG_VALIDITY_UNKNOWN ||
	    m->gpg_validity > SPA_GPG_VALIDITY_ULTIMATE)
		return bad(why, cap, "GnuPG signature state %d / validity %d", (int)m->gpg_sig,
			   (int)m->gpg_validity);
	if (!str_ok(m->gpg_fpr, sizeof(m->gpg_fpr), hex_upper) ||
	    (m->gpg_fpr[0] && strlen(m->gpg_fpr) < 40))
		return bad(why, cap, "GnuPG fingerprint not 40 to 64 hex digits");
	if (!str_ok(m->gpg_key_id, sizeof(m->gpg_key_id), hex_upper) ||
	    (m->gpg_key_id[0] && strlen(m->gpg_key_id) != 16))
		return bad(why, cap, "GnuPG key id not 16 hex digits");
	if (m->gpg_fpr[0] && strcmp(m->gpg_fpr + strlen(m->gpg_fpr) - 16, m->gpg_key_id) != 0)
		return bad(why, cap, "GnuPG key id is not the fingerprint's end");
	if (m->spent && !m->authenticated)
		return bad(why, cap, "a digest spent without authentication");
	if (m->n_ports > SPA_MAX_PORTS)
		return bad(why, cap, "%u ports", m->n_ports);
	for (uint32_t i = 0; i < m->n_ports; i++)
		if (m->ports[i].proto != 6 && m->ports[i].proto != 17)
			return bad(why, cap, "port protocol %u", m->ports[i].proto);
	return (int)m->h.type;
}

int spa_privsep_decode(const void *buf, size_t len, char *why, size_t cap)
{
	struct spa_ps_header h;

	if (len < sizeof(h))
		return bad(why, cap, "record of %zu bytes", len);
	memcpy(&h, buf, sizeof(h));
	if (h.magic != SPA_PS_MAGIC)
		return bad(why, cap, "bad magic");
	switch (h.type) {
	case SPA_PS_DECISION:
	case SPA_PS_COMMAND: {
		struct spa_ps_decision m;
		if (len != sizeof(m))
			return bad(why, cap, "decision record of %zu bytes", len);
		memcpy(&m, buf, sizeof(m));
		return check_decision(&m, why, cap);
	}
	case SPA_PS_LOG: {
		struct spa_ps_log m;
		if (len != sizeof(m))
			return bad(why, cap, "log record of %zu bytes", len);
		memcpy(&m, buf, sizeof(m));
		if (m.level < 0 || m.level > 7)
			return bad(why, cap, "log level %d", (int)m.level);
		/* the text may quote what a packet carried: the monitor
		 * prints it, so it must be one line of plain text */
		if (!str_ok(m.text, sizeof(m.text), printable))
			return bad(why, cap, "log text not terminated printable text");
		return SPA_PS_LOG;
	}
	case SPA_PS_VERDICT: {
		struct spa_ps_verdict m;
		if (len != sizeof(m))
			return bad(why, cap, "verdict record of %zu bytes", len);
		memcpy(&m, buf, sizeof(m));
		if (m.verdict != SPA_NFQ_DROP && m.verdict != SPA_NFQ_ACCEPT)
			return bad(why, cap, "verdict %u", m.verdict);
		return SPA_PS_VERDICT;
	}
	case SPA_PS_DONE:
	case SPA_PS_STOP:
	case SPA_PS_READY:
		if (len != sizeof(h))
			return bad(why, cap, "control record of %zu bytes", len);
		return (int)h.type;
	default:
		return bad(why, cap, "record type %u", h.type);
	}
}

int spa_privsep_recheck(const struct spa_config *c, struct spa_hostaddrs *host,
			const struct spa_ps_decision *m, struct spa_pkt *pkt,
			struct spa_decision *d)
{
	const struct spa_stanza *s;
	struct spa_message msg;
	struct spa_gpg_result res;

	if (m->h.generation != c->generation)
		return -ESTALE;
	if (m->stanza >= 0 && (size_t)m->stanza >= c->n_stanzas)
		return -EBADMSG;
	s = m->stanza >= 0 ? &c->stanzas[m->stanza] : NULL;
	memset(pkt, 0, sizeof(*pkt));
	pkt->family = m->family;
	memcpy(pkt->src_bin, m->src_bin, sizeof(pkt->src_bin));
	memcpy(pkt->dst_bin, m->dst_bin, sizeof(pkt->dst_bin));
	inet_ntop(pkt->family, pkt->src_bin, pkt->src, sizeof(pkt->src));
	inet_ntop(pkt->family, pkt->dst_bin, pkt->dst, sizeof(pkt->dst));
	/* only a packet process told to read X-Forwarded-For may name one */
	if (m->xff_family && !c->tcp.xff)
		return -EBADMSG;
	if (m->xff_family) {
		pkt->xff_family = m->xff_family;
		memcpy(pkt->xff_bin, m->xff_bin, sizeof(pkt->xff_bin));
		inet_ntop(pkt->xff_family, pkt->xff_bin, pkt->xff, sizeof(pkt->xff));
	}
	pkt->sport = m->sport;
	pkt->dport = m->dport;
	pkt->proto = m->proto;
	pkt->now = m->now;
	memset(&msg, 0, sizeof(msg));
	copy_str(msg.username, sizeof(msg.username), m->msg.username);
	msg.timestamp = m->msg.timestamp;
	msg.type = m->msg.type;
	copy_str(msg.message, sizeof(msg.message), m->msg.message);
	copy_str(msg.nat_access, sizeof(msg.nat_access), m->msg.nat_access);
	msg.client_timeout = m->msg.client_timeout;
	memset(&res, 0, sizeof(res));
	res.sig = m->gpg_sig;
	res.validity = m->gpg_validity;
	copy_str(res.fingerprint, sizeof(res.fingerprint), m->gpg_fpr);
	copy_str(res.key_id, sizeof(res.key_id), m->gpg_key_id);
	/* the short id is the key id's last 8 hex digits (spa_wire.h) */
	if (strlen(res.key_id) == sizeof(res.key_id) - 1)
		memcpy(res.short_id, res.key_id + 8, sizeof(res.short_id) - 1);
	if (m->verdict == SPA_GRANT || m->verdict == SPA_COMMAND) {
		spa_pipeline_recheck(c, s, pkt, &msg, m->gpg ? &res : NULL, host, d);
		/* the monitor's own reading must come to the same kind of
		 * decision: a grant is never run as a command, nor the reverse */
		if (d->verdict != m->verdict) {
			char reason[sizeof(d->reason)];

			if (d->verdict != SPA_REJECT)
				snprintf(d->reason, sizeof(d->reason), "not a %s",
					 m->verdict == SPA_GRANT ? "grant" : "command message");
			d->verdict = SPA_REJECT;
			memcpy(reason, d->reason, sizeof(reason));
			snprintf(d->reason, sizeof(d->reason), "refused by the monitor: %.160s",
				 reason);
		}
	} else {
		memset(d, 0, sizeof(*d));
		d->verdict = SPA_REJECT;
		d->stanza = s;
		d->msg = msg;
		copy_str(d->reason, sizeof(d->reason), m->reason);
		d->n_ports = m->n_ports;
		for (size_t i = 0; i < d->n_ports; i++) {
			d->ports[i].proto = m->ports[i].proto;
			d->ports[i].port = m->ports[i].port;
		}
	}
	d->authenticated = m->authenticated;
	d->replayed = m->replayed;
	d->rate_limited = m->rate_limited;
	d->spent = m->spent;
	memcpy(d->digest, m->digest, sizeof(d->digest));
	d->gpg = m->gpg;
	d->gpg_res = res;
	d->msg_spent = m->msg_spent;
	memcpy(d->msg_digest, m->msg_digest, sizeof(d->msg_digest));
	return 0;
}
