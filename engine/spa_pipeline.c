/* SPDX-License-Identifier: MIT */
#include "spa_pipeline.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "spa_addr.h"
#include "spa_nat.h"

/* the decision's refusal, also spa_nat.c's */
#define reject spa_pipeline_reject

void spa_pipeline_reject(struct spa_decision *d, const struct spa_stanza *s, const char *fmt, ...)
{
	va_list ap;

	d->verdict = SPA_REJECT;
	d->stanza = s;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
}

static bool any_source_matches(const struct spa_config *c, const struct spa_pkt *pkt)
{
	for (size_t i = 0; i < c->n_stanzas; i++)
		if (spa_addr_list_match(&c->stanzas[i].source, pkt->family, pkt->src_bin))
			return true;
	return false;
}

static bool destination_ok(const struct spa_stanza *s, const struct spa_pkt *pkt)
{
	if (!s->destination.any && s->destination.n == 0)
		return true;
	return spa_addr_list_match(&s->destination, pkt->family, pkt->dst_bin);
}

static uint32_t pick_timeout(const struct spa_stanza *s, const struct spa_message *m)
{
	if (m->client_timeout > 0)
		return m->client_timeout < s->max_fw_timeout ? m->client_timeout : s->max_fw_timeout;
	/* a command cycle stanza's close comes CMD_CYCLE_TIMER after the
	 * open unless the client asked for a time (plugins/cmdcycle/README.md) */
	if (s->cmd_cycle_timer)
		return s->cmd_cycle_timer;
	return s->fw_access_timeout;
}

/*
 * The resolved allow IP (after 0.0.0.0 became the packet's source). fwknop
 * grants whatever address the message names; that stays the default, but
 * never for an address that is not one remote host. Same returns as
 * policy().
 */
static int check_allow(const struct spa_config *c, const struct spa_stanza *s,
		       const struct spa_pkt *pkt, struct spa_hostaddrs *host,
		       struct spa_decision *d)
{
	const char *what = spa_addr_never_grantable(d->allow_family, d->allow_bin);
	bool is_source = spa_addr_same(d->allow_family, d->allow_bin, pkt->family, pkt->src_bin);

	/* these can never be a sender, so not even "the source" excuses them */
	if (what) {
		reject(d, s, "allow IP %s is %s", d->allow, what);
		return 1;
	}
	/* The interfaces' age is wall-clock time, not the packet's (a
	 * --pcap-file replay stamps packets in the past); a failed re-read
	 * keeps the previous table: better than none. */
	if (host)
		(void)spa_hostaddrs_refresh(host, (int64_t)time(NULL), c->generation);
	if (spa_hostaddrs_is_broadcast(host, d->allow_family, d->allow_bin)) {
		reject(d, s, "allow IP %s is a broadcast address of this host", d->allow);
		return 1;
	}
	/*
	 * Loopback and this host's own addresses are refused unless they are
	 * the packet's own source. Asking for the source is what fwknop's -s
	 * (0.0.0.0) means, so naming it explicitly must not be worse; and it
	 * gives an outsider nothing: the kernel drops loopback sources that
	 * arrive on the wire, and a grant for loopback or for one of our
	 * addresses only admits processes of this host. What is refused is a
	 * key holder elsewhere opening the port to this host itself.
	 */
	if (!is_source && spa_addr_is_loopback(d->allow_family, d->allow_bin)) {
		reject(d, s, "allow IP %s is loopback and not the packet's source", d->allow);
		return 1;
	}
	if (!is_source && spa_hostaddrs_is_own(host, d->allow_family, d->allow_bin)) {
		reject(d, s, "allow IP %s is an address of this host and not the packet's source",
		       d->allow);
		return 1;
	}
	if (s->require_allow_is_source && !is_source) {
		reject(d, s, "allow IP %s is not the packet's source but REQUIRE_ALLOW_IP_IS_SOURCE "
		       "is set", d->allow);
		return -1;
	}
	return 0;
}

/* The message's allow IP into d; 0.0.0.0 is the packet's source. Same
 * returns as policy(). */
static int resolve_allow(const struct spa_stanza *s, const struct spa_pkt *pkt, const char *ip,
			 struct spa_decision *d)
{
	if (strcmp(ip, "0.0.0.0") == 0) {
		if (s->require_source_address) {
			reject(d, s, "allow IP 0.0.0.0 but REQUIRE_SOURCE_ADDRESS is set");
			return -1;
		}
		/* behind a proxy (ENABLE_X_FORWARDED_FOR), the client it names */
		d->allow_family = pkt->xff_family ? pkt->xff_family : pkt->family;
		memcpy(d->allow_bin, pkt->xff_family ? pkt->xff_bin : pkt->src_bin,
		       sizeof(d->allow_bin));
		snprintf(d->allow, sizeof(d->allow), "%s", pkt->xff_family ? pkt->xff : pkt->src);
	} else {
		d->allow_family = AF_INET;
		memset(d->allow_bin, 0, sizeof(d->allow_bin));
		if (inet_pton(AF_INET, ip, d->allow_bin) != 1) {
			reject(d, s, "malformed allow IP");
			return 1;
		}
		snprintf(d->allow, sizeof(d->allow), "%s", ip);
	}
	return 0;
}

/*
 * A command message ("allow IP,command", type 0): the stanza must accept
 * them (ENABLE_CMD_EXEC, else the next stanza is tried, as in fwknopd);
 * the allow IP and REQUIRE_USERNAME are checked as for an access request.
 * What the text means is the command module's business. Same returns as
 * policy().
 */
static int command_policy(const struct spa_config *c, const struct spa_stanza *s,
			  const struct spa_pkt *pkt, struct spa_hostaddrs *host,
			  struct spa_decision *d)
{
	const char *text = d->msg.message, *comma = strchr(text, ',');
	char ip[16];
	int rc;

	if (!spa_conf_cmd_enabled(s)) {
		reject(d, s, "command messages not enabled (ENABLE_CMD_EXEC N)");
		return -1;
	}
	if (!comma || comma == text || (size_t)(comma - text) >= sizeof(ip) || !comma[1]) {
		reject(d, s, "malformed command message");
		return 1;
	}
	/* the wire allows any byte but NUL; a command line is plain text */
	for (const char *t = text; *t; t++) {
		if ((unsigned char)*t < 0x20 || (unsigned char)*t > 0x7e) {
			reject(d, s, "command message has a byte outside printable ASCII (0x%02x)",
			       (unsigned char)*t);
			return 1;
		}
	}
	memcpy(ip, text, (size_t)(comma - text));
	ip[comma - text] = '\0';
	rc = resolve_allow(s, pkt, ip, d);
	if (rc == 0)
		rc = check_allow(c, s, pkt, host, d);
	if (rc != 0)
		return rc;
	if (s->require_username[0] && strcmp(s->require_username, d->msg.username) != 0) {
		reject(d, s, "username '%s' not allowed", d->msg.username);
		return -1;
	}
	d->verdict = SPA_COMMAND;
	d->stanza = s;
	snprintf(d->reason, sizeof(d->reason), "command message accepted");
	return 1;
}

/* 0: keep going; 1: decided (grant or final reject); -1: try next stanza. */
static int policy(const struct spa_config *c, const struct spa_stanza *s,
		  const struct spa_pkt *pkt, struct spa_hostaddrs *host, struct spa_decision *d)
{
	struct spa_message *m = &d->msg;
	char ip[16];
	int64_t age;
	int rc;

	/* A time stamp (or, from a broken packet process, a packet time) at
	 * the ends of the range must not overflow the difference: such a
	 * packet is simply outside any window. */
	if (m->timestamp > (uint64_t)INT64_MAX ||
	    __builtin_sub_overflow(pkt->now, (int64_t)m->timestamp, &age) || age == INT64_MIN)
		age = INT64_MAX;
	if (c->packet_aging && (age > (int64_t)c->max_packet_age ||
				-age > (int64_t)c->max_packet_age)) {
		reject(d, s, "packet age %lld s outside +/-%u s", (long long)age, c->max_packet_age);
		return 1;
	}
	if (m->type == SPA_MSG_COMMAND)
		return command_policy(c, s, pkt, host, d);
	if (m->type != SPA_MSG_ACCESS && m->type != SPA_MSG_CLIENT_TIMEOUT_ACCESS &&
	    !spa_nat_msg_type(m->type)) {
		reject(d, s, "%s not supported yet", spa_msg_type_name(m->type));
		return -1;
	}
	if (spa_access_parse(m->message, ip, d->ports, SPA_MAX_PORTS, &d->n_ports) < 0 ||
	    d->n_ports == 0) {
		reject(d, s, "malformed access request");
		return 1;
	}
	rc = resolve_allow(s, pkt, ip, d);
	if (rc != 0)
		return rc;
	rc = check_allow(c, s, pkt, host, d);
	if (rc != 0)
		return rc;
	if (s->require_username[0] && strcmp(s->require_username, m->username) != 0) {
		reject(d, s, "username '%s' not allowed", m->username);
		return -1;
	}
	for (size_t i = 0; i < d->n_ports; i++) {
		const struct spa_port *p = &d->ports[i];
		const char *proto = p->proto == 6 ? "tcp" : "udp";
		if (spa_port_list_has(&s->restrict_ports, p)) {
			reject(d, s, "%s/%u is in RESTRICT_PORTS", proto, p->port);
			return -1;
		}
		if (s->open_ports.n && !spa_port_list_has(&s->open_ports, p)) {
			reject(d, s, "%s/%u is not in OPEN_PORTS", proto, p->port);
			return -1;
		}
	}
	rc = spa_nat_decide(c, s, d);
	if (rc != 0)
		return rc;
	d->timeout = pick_timeout(s, m);
	d->verdict = SPA_GRANT;
	d->stanza = s;
	snprintf(d->reason, sizeof(d->reason), "access granted");
	return 1;
}

/* Cheap checks before any crypto; false when the packet is refused. */
static bool precheck(const struct spa_config *c, const struct spa_pkt *pkt,
		     struct spa_decision *d)
{
	int rc = spa_packet_prefilter(pkt->data, pkt->len);

	if (rc < 0) {
		reject(d, NULL, "not SPA data: %s", spa_strerror(rc));
		return false;
	}
	if (!any_source_matches(c, pkt)) {
		reject(d, NULL, "no access stanza for this source");
		return false;
	}
	return true;
}

/* Looks digest up and, unless in test mode, records it for pkt. False
 * when the packet is refused (a replay, or the cache write failed). */
static bool spend_one(struct spa_replay *replay, const struct spa_pkt *pkt,
		      const struct spa_pipeline_opts *o, const struct spa_stanza *s,
		      const char digest[44], struct spa_decision *d)
{
	const struct spa_replay_entry *seen = spa_replay_find(replay, digest);
	struct spa_replay_entry e = { .proto = pkt->proto, .sport = pkt->sport,
				      .dport = pkt->dport, .created = pkt->now };

	if (seen) {
		d->replayed = true;
		reject(d, NULL, "replay of a packet first seen from %s:%u at %lld", seen->src,
		       seen->sport, (long long)seen->created);
		return false;
	}
	if (o->test_mode)
		return true;
	memcpy(e.digest, digest, sizeof(e.digest));
	snprintf(e.src, sizeof(e.src), "%s", pkt->src);
	snprintf(e.dst, sizeof(e.dst), "%s", pkt->dst[0] ? pkt->dst : "0.0.0.0");
	if (spa_replay_add(replay, &e) < 0) {
		reject(d, s, "replay cache write failed");
		return false;
	}
	return true;
}

/*
 * Runs once a stanza's key has authenticated the packet, not before: the
 * digest (a SHA-256 of the whole text) would otherwise be paid by every
 * garbage packet of a flood, and only an authentic packet can be a
 * replay worth refusing. Records the digest so the packet is spent.
 * False when the packet is refused.
 */
static bool spend_digest(struct spa_replay *replay,
			 const struct spa_pkt *pkt, const struct spa_pipeline_opts *o,
			 const struct spa_stanza *s, struct spa_decision *d)
{
	char digest[44];

	if (d->resume.recorded)
		return true;
	/* Without ENABLE_DIGEST_PERSISTENCE the cache lives in memory only:
	 * fwknopd stops checking then, we keep refusing replays. */
	if (!replay)
		return true;
	if (spa_replay_digest(pkt->data, pkt->len, digest) < 0) {
		reject(d, s, "cannot compute replay digest");
		return false;
	}
	if (!spend_one(replay, pkt, o, s, digest, d))
		return false;
	memcpy(d->digest, digest, sizeof(d->digest));
	d->spent = true;
	d->resume.recorded = true;
	return true;
}

/* Without an HMAC nobody vouched for a GnuPG packet yet: its wire digest
 * is only looked up (a copy of a spent packet costs no gpg run) and spent
 * once gpg has read it. True when the packet is a replay (refused). */
static bool seen_before(struct spa_replay *replay, const struct spa_pkt *pkt,
			struct spa_decision *d)
{
	const struct spa_replay_entry *seen;
	char digest[44];

	if (!replay || d->resume.recorded || spa_replay_digest(pkt->data, pkt->len, digest) < 0)
		return false;
	seen = spa_replay_find(replay, digest);
	if (!seen)
		return false;
	d->replayed = true;
	reject(d, NULL, "replay of a packet first seen from %s:%u at %lld", seen->src, seen->sport,
	       (long long)seen->created);
	return true;
}

/* The first stanza that could read the packet and refused it: its reason
 * beats a later stanza's "HMAC mismatch" in the log. weak: a stanza whose
 * gpg run failed (wrong recipient, corrupted): better than a mismatch,
 * not as good as a stanza that read the packet. */
static void keep_as(const struct spa_stanza *s, struct spa_decision *d, bool weak)
{
	struct spa_pipeline_state *st = &d->resume;

	if (st->kept && (weak || !st->kept_weak))
		return;
	st->kept = s;
	st->kept_weak = weak;
	memcpy(st->kept_reason, d->reason, sizeof(st->kept_reason));
	memcpy(st->kept_user, d->msg.username, sizeof(st->kept_user));
}

static void keep(const struct spa_stanza *s, struct spa_decision *d)
{
	keep_as(s, d, false);
}

/* Once a stanza authenticated the packet and its digests are spent:
 * MAX_KNOCKS_PER_MINUTE and the policy. True when decided. */
static bool knock_and_policy(const struct spa_config *c, const struct spa_stanza *s,
			     const struct spa_pkt *pkt, const struct spa_pipeline_opts *o,
			     struct spa_decision *d)
{
	/* After the replay check: an eavesdropper replaying one captured
	 * packet must not be able to drain the stanza's budget. */
	if (s->knocks && !spa_rate_take(&s->knocks->bucket, s->max_knocks, 60, pkt->now)) {
		d->rate_limited = true;
		reject(d, s, "stanza %s: MAX_KNOCKS_PER_MINUTE %u reached; knock refused",
		       s->label, s->max_knocks);
		return true;
	}
	if (policy(c, s, pkt, o->host, d) > 0)
		return true;
	keep(s, d);
	return false;
}

static bool gpg_on(const struct spa_stanza *s)
{
	return s->gpg && s->gpg->enabled;
}

static bool has_rijndael(const struct spa_stanza *s)
{
	return s->has_key && s->keys;
}

/* The stanza loop from stanza `from` on, to a decision or a deferral. */
static void stanza_loop(const struct spa_config *c, struct spa_replay *replay,
			const struct spa_pkt *pkt, const struct spa_pipeline_opts *o,
			struct spa_decision *d, size_t from)
{
	struct spa_pipeline_state *st = &d->resume;
	bool gpg_class = spa_packet_enc_type(pkt->data, pkt->len) == SPA_ENC_GPG;
	int rc;

	for (size_t i = from; i < c->n_stanzas; i++) {
		const struct spa_stanza *s = &c->stanzas[i];

		if (!spa_addr_list_match(&s->source, pkt->family, pkt->src_bin) ||
		    !destination_ok(s, pkt))
			continue;
		if (s->access_expire && pkt->now > s->access_expire) {
			reject(d, s, "stanza expired");
			continue;
		}
		/* as fwknopd: a stanza that takes command messages tries its
		 * AES key whatever the size (a long command crosses the split) */
		if (gpg_class && has_rijndael(s) && spa_conf_cmd_enabled(s)) {
			rc = spa_packet_open_any_size(pkt->data, pkt->len, s->keys, &d->msg);
			if (rc == 0) {
				d->authenticated = true;
				if (!spend_digest(replay, pkt, o, s, d))
					return;
				if (knock_and_policy(c, s, pkt, o, d))
					return;
				continue;
			}
			memset(&d->msg, 0, sizeof(d->msg));
			if (!gpg_on(s)) {
				reject(d, s, "%s", rc == -SPA_E_HMAC ? "HMAC mismatch (wrong key?)" :
					   spa_strerror(rc));
				continue;
			}
		}
		if (gpg_class) {
			if (!gpg_on(s)) {
				reject(d, s, "GnuPG-sized packet, the stanza has no GnuPG key");
				continue;
			}
			rc = spa_gpg_precheck(pkt->data, pkt->len, s->gpg->hmac_keys);
			if (rc < 0) {
				reject(d, s, "GnuPG: %s", rc == -SPA_E_HMAC ?
				       "HMAC mismatch (wrong key?)" : spa_strerror(rc));
				continue;
			}
			st->gpg_vouched = s->gpg->hmac_keys &&
					  spa_keys_hmac_type(s->gpg->hmac_keys) != SPA_HMAC_NONE;
			/* An HMAC authenticates the packet: its digest is spent
			 * now, so a replay never costs a gpg run. */
			if (st->gpg_vouched) {
				d->authenticated = true;
				if (!spend_digest(replay, pkt, o, s, d))
					return;
			} else if (seen_before(replay, pkt, d)) {
				return;
			}
			st->gpg_stanza = i;
			d->verdict = SPA_DEFERRED;
			d->stanza = s;
			snprintf(d->reason, sizeof(d->reason), "waiting for gpg");
			return;
		}
		if (!has_rijndael(s)) {
			reject(d, s, "Rijndael-sized packet, the stanza has no Rijndael key");
			continue;
		}
		rc = spa_packet_open(pkt->data, pkt->len, s->keys, &d->msg);
		if (rc < 0) {
			reject(d, s, "%s", rc == -SPA_E_HMAC ? "HMAC mismatch (wrong key?)" :
				   spa_strerror(rc));
			continue;
		}
		d->authenticated = true;
		/* The digest is spent once a stanza authenticates the packet, even
		 * if policy then refuses it, so it can never be tried again. */
		if (!spend_digest(replay, pkt, o, s, d))
			return;
		if (knock_and_policy(c, s, pkt, o, d))
			return;
	}
	d->verdict = SPA_REJECT;
	if (st->kept) {
		d->stanza = st->kept;
		memcpy(d->reason, st->kept_reason, sizeof(d->reason));
		memcpy(d->msg.username, st->kept_user, sizeof(d->msg.username));
	}
}

void spa_pipeline_run(const struct spa_config *c, struct spa_replay *replay,
		      const struct spa_pkt *pkt, const struct spa_pipeline_opts *o,
		      struct spa_decision *d)
{
	memset(d, 0, sizeof(*d));
	if (!precheck(c, pkt, d))
		return;
	snprintf(d->reason, sizeof(d->reason), "no stanza matched");
	stanza_loop(c, replay, pkt, o, d, 0);
}

/* Hex ids compare without regard to case: gpg prints upper case, people
 * write either. */
static bool id_suffix(const char *have, const char *id)
{
	size_t n = strlen(have), k = strlen(id);

	return k > 0 && n >= k && strcasecmp(have + n - k, id) == 0;
}

int spa_pipeline_gpg_sig_policy(const struct spa_stanza_gpg *g, const struct spa_gpg_result *r,
				char *why, size_t cap)
{
	const char *signer = r->fingerprint[0] ? r->fingerprint : r->key_id;
	bool ok;
	int rc;

	if (!g || !g->enabled) {
		snprintf(why, cap, "the stanza has no GnuPG key");
		return -1;
	}
	/* fwknopd checks nothing about the signature then */
	if (g->disable_sig || !g->require_sig)
		return 0;
	if (r->sig == SPA_GPG_SIG_NONE) {
		snprintf(why, cap, "GnuPG: the packet is not signed (GPG_REQUIRE_SIG)");
		return -1;
	}
	rc = spa_gpg_sig_error(r);
	if (rc < 0 && !g->ignore_sig_verify_error) {
		snprintf(why, cap, "GnuPG signature by %.64s: %s", signer[0] ? signer : "(unknown)",
			 spa_strerror(rc));
		return -1;
	}
	if (g->n_fingerprints) {
		ok = false;
		for (size_t i = 0; i < g->n_fingerprints && !ok; i++)
			ok = r->fingerprint[0] && strcasecmp(r->fingerprint, g->fingerprints[i]) == 0;
		if (!ok) {
			snprintf(why, cap, "GnuPG signer %.64s is not in GPG_FINGERPRINT_ID",
				 signer[0] ? signer : "(unknown)");
			return -1;
		}
	}
	if (g->n_remote_ids) {
		ok = false;
		for (size_t i = 0; i < g->n_remote_ids && !ok; i++)
			ok = id_suffix(r->fingerprint[0] ? r->fingerprint : r->key_id,
				       g->remote_ids[i]);
		if (!ok) {
			snprintf(why, cap, "GnuPG signer %.64s is not in GPG_REMOTE_ID",
				 signer[0] ? signer : "(unknown)");
			return -1;
		}
	}
	return 0;
}

void spa_pipeline_gpg_resume(const struct spa_config *c, struct spa_replay *replay,
			     const struct spa_pkt *pkt, const struct spa_pipeline_opts *o,
			     const struct spa_gpg_outcome *out, struct spa_decision *d)
{
	size_t i = d->resume.gpg_stanza;
	const struct spa_stanza *s;
	char why[sizeof(d->reason)];

	if (d->verdict != SPA_DEFERRED || i >= c->n_stanzas) {
		reject(d, NULL, "internal error: no gpg run was waited for");
		return;
	}
	s = &c->stanzas[i];
	d->verdict = SPA_REJECT;
	if (out->rc < 0) {
		const char *text = out->not_tried ? out->not_tried : spa_strerror(out->rc);

		/* the library's GnuPG errors say so themselves */
		reject(d, s, "%s%s", strstr(text, "GnuPG") ? "" : "GnuPG: ", text);
		keep_as(s, d, true);
		stanza_loop(c, replay, pkt, o, d, i + 1);
		return;
	}
	d->authenticated = true;
	d->msg = out->msg;
	d->gpg = true;
	d->gpg_res = out->res;
	if (!spend_digest(replay, pkt, o, s, d))
		return;
	/* The same message spelled another way has another wire digest:
	 * without an HMAC only the plaintext's digest says it was seen. */
	if (!d->msg_spent && replay) {
		if (!spend_one(replay, pkt, o, s, out->res.msg_digest, d))
			return;
		memcpy(d->msg_digest, out->res.msg_digest, sizeof(d->msg_digest));
		d->msg_spent = true;
	}
	if (spa_pipeline_gpg_sig_policy(s->gpg, &out->res, why, sizeof(why)) < 0) {
		reject(d, s, "%s", why);
		keep(s, d);
	} else if (knock_and_policy(c, s, pkt, o, d)) {
		return;
	}
	d->verdict = SPA_REJECT;
	stanza_loop(c, replay, pkt, o, d, i + 1);
}

void spa_pipeline_recheck(const struct spa_config *c, const struct spa_stanza *s,
			  const struct spa_pkt *pkt, const struct spa_message *m,
			  const struct spa_gpg_result *gpg, struct spa_hostaddrs *host,
			  struct spa_decision *d)
{
	char why[sizeof(d->reason)];

	memset(d, 0, sizeof(*d));
	d->msg = *m;
	d->authenticated = true;
	if (!spa_addr_list_match(&s->source, pkt->family, pkt->src_bin)) {
		reject(d, s, "source %s is not in the stanza's SOURCE", pkt->src);
		return;
	}
	if (!destination_ok(s, pkt)) {
		reject(d, s, "destination %s is not in the stanza's DESTINATION", pkt->dst);
		return;
	}
	if (s->access_expire && pkt->now > s->access_expire) {
		reject(d, s, "stanza expired");
		return;
	}
	/* A grant names the key that read the packet: one the stanza has, and
	 * for GnuPG a signer its rules accept. */
	if (gpg && spa_pipeline_gpg_sig_policy(s->gpg, gpg, why, sizeof(why)) < 0) {
		reject(d, s, "%s", why);
		return;
	}
	if (!gpg && !has_rijndael(s)) {
		reject(d, s, "the stanza has no Rijndael key");
		return;
	}
	/* policy()'s "try the next stanza" is a refusal here: the packet
	 * process named this stanza as the one that grants */
	if (policy(c, s, pkt, host, d) > 0 &&
	    (d->verdict == SPA_GRANT || d->verdict == SPA_COMMAND))
		return;
	d->verdict = SPA_REJECT;
	d->stanza = s;
}
