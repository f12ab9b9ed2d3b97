/* SPDX-License-Identifier: MIT */
/*
 * spa_daemon_grants.c - the open/refresh/close cycle of the running daemon.
 * The rule above every other: a hole spad opened closes on time, whatever
 * happens. So every grant is journaled before its backend is asked to open
 * it, a close the backend refuses keeps the grant (journaled as closing)
 * and is retried with backoff until the backend confirms, and refresh and
 * close use the policy the grant was made under, not whatever access.conf
 * says by then (spa_policy.h). The backend is asked through the plugin
 * runtime (spa_daemon_ops.c): this file submits ops and, when they come
 * back, decides what their outcome means for the grant.
 */
#include "spa_daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "spa_log.h"
#include "spa_nat.h"

static const char *proto_name(uint8_t proto)
{
	return proto == 6 ? "tcp" : "udp";
}

void spa_daemon_nat_detail(const struct spa_decision *dec, char *out, size_t cap)
{
	char form[64];

	snprintf(out, cap, ", nat=%s%s%s%s%.0u%s%s", spa_nat_form_name(dec->nat_flags, form,
								     sizeof(form)),
		 dec->nat_family ? " to=" : "", dec->nat_addr, dec->nat_family ? "," : "",
		 dec->nat_family ? dec->nat_port : 0, dec->snat_addr[0] ? " snat=" : "",
		 dec->snat_addr);
}

void spa_daemon_arm_timer(struct spa_daemon *d)
{
	struct itimerspec its = { 0 };
	int64_t next = spa_grants_next_expiry(&d->grants);

	if (next != INT64_MAX)
		its.it_value.tv_sec = next > 0 ? (time_t)next : 1;
	/* all-zero disarms: with no grant pending the daemon sleeps for good */
	if (d->tfd >= 0 && timerfd_settime(d->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		spa_log(SPA_L_ERR, "timerfd_settime: %s", strerror(errno));
}

struct spa_plugin *spa_daemon_plugin_named(struct spa_daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_plugins; i++)
		if (strcmp(d->plugins[i]->d->name, name) == 0)
			return d->plugins[i];
	return NULL;
}

/* stanza_get of a grant of the store outside an op (the worker answers
 * its ops from the policy they carry): from the policy it was made under. */
static const char *grant_var(void *ctx, const struct spa_grant *g, const char *key, bool *found)
{
	struct spa_daemon *d = ctx;

	return spa_policy_var(spa_grants_policy(&d->grants, g->id), key, found);
}

void spa_daemon_bind_plugin(struct spa_daemon *d, struct spa_plugin *p)
{
	p->grant_var = grant_var;
	/* tokens are set and read within ops only (spa_opq_token_set) */
	p->token_set = NULL;
	p->token_get = NULL;
	p->grant_var_ctx = d;
}

static const char *kind_name(enum spa_op_kind kind)
{
	static const char *const names[] = { "open", "close", "refresh", "list" };

	return names[kind];
}

/* Backoff of an op that failed transiently: 250 ms doubling to 30 s. */
static uint64_t retry_delay_ms(unsigned attempt)
{
	unsigned shift = attempt < 7 ? attempt : 7;
	uint64_t ms = 250u << shift;

	return ms < 30000 ? ms : 30000;
}

/* Close and expiry events for log shippers, beside the decisions. */
static void json_grant_event(struct spa_daemon *d, const struct spa_grant_rec *r,
			     const char *event, const char *why, int rc)
{
	json_t *o;
	char *text;

	if (d->json_fd < 0)
		return;
	o = json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:[{s:s, s:i}], s:s}",
		      "time", (json_int_t)time(NULL), "decision", event,
		      "grant", (json_int_t)r->g.id, "src", r->g.src.text,
		      "stanza", r->g.stanza, "user", r->g.username, "reason", why,
		      "ports", "proto", proto_name(r->g.proto), "port", (int)r->g.port,
		      "plugin", r->plugin);
	if (o && rc < 0) {
		json_object_set_new(o, "error", json_integer(rc));
		json_object_set_new(o, "attempts", json_integer(r->attempts));
	}
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (text) {
		size_t len = strlen(text);
		text[len] = '\n';
		if (write(d->json_fd, text, len + 1) < 0)
			spa_log(SPA_L_ERR, "JSON log: %s", strerror(errno));
		free(text);
	}
	json_decref(o);
}

int spa_daemon_grant_close(struct spa_daemon *d, uint64_t id, const char *why)
{
	struct spa_grant_rec r;
	struct spa_plugin *p;
	int64_t now = (int64_t)time(NULL);

	if (!spa_grants_by_id(&d->grants, id, &r))
		return -ENOENT;
	if (r.close_busy)
		return 0;
	p = spa_daemon_plugin_named(d, r.plugin);
	if (p && spa_daemon_opq_of(d, p) && spa_daemon_submit(d, p, SPA_OP_CLOSE, &r, why, 0) == 0)
		return 0;
	/* no worker to ask: the close fails now and is retried like any */
	if (spa_grants_close_failed(&d->grants, &r, now, false, "plugin not running") < 0)
		spa_log(SPA_L_ERR, "grant %llu: journal update failed", (unsigned long long)id);
	spa_log(SPA_L_ERR, "grant %llu: plugin %s is not running; its close is retried in "
		"%lld s", (unsigned long long)id, r.plugin, (long long)(r.retry_at - now));
	return -ENOENT;
}

/* A close came back. A backend that failed keeps the grant, journaled as
 * closing, for a retry with backoff: forgetting it would leave the hole
 * open with nobody to close it. */
static void close_done(struct spa_daemon *d, struct spa_grant_rec *r,
		       const struct spa_op_result *res)
{
	int64_t now = (int64_t)time(NULL);
	uint64_t id = r->g.id;

	spa_grants_set_busy(&d->grants, id, false);
	if (r->want_open) {
		/* re-knocked meanwhile: the open queued behind this close
		 * makes it live again, whatever became of the close. Unless
		 * spad is stopping: then one more close goes behind that
		 * open, so that the hole ends closed. */
		spa_grants_set_want_open(&d->grants, id, false);
		if (d->stop)
			spa_daemon_grant_close(d, id, "shutdown");
		return;
	}
	if (res->rc < 0) {
		bool permanent = !res->transient;
		char error[SPA_GRANT_ERROR_LEN];
		snprintf(error, sizeof(error), "%s", res->msg[0] ? res->msg : strerror(-res->rc));
		if (spa_grants_close_failed(&d->grants, r, now, permanent, error) < 0)
			spa_log(SPA_L_ERR, "grant %llu: journal update failed",
				(unsigned long long)id);
		/* JSON first, as for decisions (log_decision) */
		json_grant_event(d, r, "close-failed", res->why, res->rc);
		spa_log(SPA_L_ERR, "grant %llu: plugin %s failed to close %s %s/%u (%s: %s; "
			"attempt %u), retrying in %lld s; the hole stays open until it succeeds",
			(unsigned long long)id, r->plugin, r->g.src.text, proto_name(r->g.proto),
			r->g.port, permanent ? "permanent" : "transient", error, r->attempts,
			(long long)(r->retry_at - now));
		return;
	}
	if (spa_grants_remove(&d->grants, id) < 0)
		spa_log(SPA_L_ERR, "grant %llu: journal update failed", (unsigned long long)id);
	json_grant_event(d, r, "close", res->why, 0);
	spa_log(SPA_L_NOTICE, "grant %llu closed (%s): src=%s %s/%u stanza=%s%s",
		(unsigned long long)id, res->why, r->g.src.text, proto_name(r->g.proto),
		r->g.port, r->g.stanza, r->attempts ? " after failed attempts" : "");
}

/* An open or refresh came back: a transient failure is tried again while
 * the grant lives; anything else that failed closes it again (an open may
 * have half-happened, a command that timed out after adding its rule). */
static void open_done(struct spa_daemon *d, struct spa_grant_rec *r,
		      const struct spa_op_result *res)
{
	int64_t now_ms = (int64_t)time(NULL) * 1000;
	uint64_t delay = retry_delay_ms(res->attempt);
	const char *msg = res->msg[0] ? res->msg : strerror(-res->rc);

	if (res->lost)
		spa_log(res->rc < 0 ? SPA_L_ERR : SPA_L_WARNING,
			"grant %llu (%s %s/%u): missing from backend %s (%s); %s%s",
			(unsigned long long)r->g.id, r->g.src.text, proto_name(r->g.proto),
			r->g.port, r->plugin, res->why, res->rc < 0 ? "re-open failed: " : "re-opened",
			res->rc < 0 ? msg : "");
	if (res->rc == 0) {
		if (res->attempt)
			spa_log(SPA_L_NOTICE, "grant %llu: %s by %s after %u failed attempt%s",
				(unsigned long long)r->g.id, res->kind == SPA_OP_OPEN ? "opened"
				: "refreshed", r->plugin, res->attempt, spa_plural(res->attempt));
		return;
	}
	/* a close is on its way or pending: it covers whatever happened */
	if (r->closing || r->close_busy) {
		spa_log(SPA_L_WARNING, "grant %llu: %s failed (%s) while being closed",
			(unsigned long long)r->g.id, kind_name(res->kind), msg);
		return;
	}
	if (res->transient && r->g.expires * 1000 > now_ms + (int64_t)delay) {
		spa_log(SPA_L_WARNING, "grant %llu: backend %s could not %s it (transient: %s); "
			"retry %u in %llu ms", (unsigned long long)r->g.id, r->plugin,
			kind_name(res->kind), msg, res->attempt + 1, (unsigned long long)delay);
		spa_daemon_retry_later(d, r->g.id, res->kind, res->attempt + 1, delay);
		return;
	}
	if (res->kind == SPA_OP_REFRESH && res->transient) {
		/* it expires before another try: the expiry closes it */
		spa_log(SPA_L_WARNING, "grant %llu: refresh failed (%s); it expires first",
			(unsigned long long)r->g.id, msg);
		return;
	}
	spa_log(SPA_L_ERR, "grant %llu: backend %s could not %s it (%s: %s); closing it again",
		(unsigned long long)r->g.id, r->plugin, kind_name(res->kind),
		res->transient ? "transient, no time left to retry" : "permanent", msg);
	spa_daemon_grant_close(d, r->g.id, res->kind == SPA_OP_OPEN ? "open failed"
				: "refresh failed");
}

void spa_daemon_grant_done(struct spa_daemon *d, struct spa_plugin *p,
			   const struct spa_op_result *res)
{
	struct spa_grant_rec r;

	(void)p;
	spa_grants_inflight(&d->grants, res->g->id, -1);
	/* removed since: its close came back first (it was queued after) */
	if (!spa_grants_by_id(&d->grants, res->g->id, &r))
		return;
	if (res->kind == SPA_OP_CLOSE)
		close_done(d, &r, res);
	else
		open_done(d, &r, res);
	spa_daemon_arm_timer(d);
}

void spa_daemon_expire_due(struct spa_daemon *d)
{
	struct spa_grant_rec r;
	int64_t now = (int64_t)time(NULL);

	/* a submitted close takes the grant off the due heap (busy), a
	 * failed submission moves its retry_at past now, so this ends */
	while (spa_grants_due(&d->grants, now, &r))
		spa_daemon_grant_close(d, r.g.id, r.closing ? "retry" : "expired");
	spa_daemon_arm_timer(d);
}

static void fill_addr(struct spa_grant_addr *a, int family, const uint8_t *bin)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(&a->bin, bin, family == AF_INET6 ? 16 : 4);
	inet_ntop(family, bin, a->text, sizeof(a->text));
}

/* The record one port of a decision would be stored as. */
static int make_rec(struct spa_daemon *d, const struct spa_decision *dec, struct spa_plugin *p,
		    const struct spa_port *port, int64_t now, struct spa_grant_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->g.struct_size = sizeof(rec->g);
	rec->g.family = dec->allow_family;
	fill_addr(&rec->g.src, dec->allow_family, dec->allow_bin);
	rec->g.proto = port->proto;
	rec->g.port = port->port;
	rec->g.timeout = dec->timeout;
	rec->g.expires = now + dec->timeout;
	snprintf(rec->g.stanza, sizeof(rec->g.stanza), "%s", dec->stanza->label);
	snprintf(rec->g.username, sizeof(rec->g.username), "%s", dec->msg.username);
	snprintf(rec->plugin, sizeof(rec->plugin), "%s", p->d->name);
	rec->g.nat_flags = dec->nat_flags;
	if (dec->nat_family)
		fill_addr(&rec->g.nat_addr, dec->nat_family, dec->nat_bin);
	rec->g.nat_port = dec->nat_port;
	if (dec->nat_flags & SPA_NAT_SNAT)
		fill_addr(&rec->g.snat_addr, AF_INET, dec->snat_bin);
	rec->policy = spa_policy_of_stanza(&d->grants.policies, p->d->name, dec->stanza);
	return rec->policy ? 0 : -ENOMEM;
}

/* Grants of the store a limit counts: closing ones too, since their hole
 * may still be open. A stanza is known by its label: grants made before a
 * reload moved it keep the old label and stop counting towards it (they
 * still count towards MAX_GRANTS_TOTAL and expire on their own). */
/* A stanza's grants are those of its policy (its content, interned), not of
 * its file:line: grants made before an edit above it still count. */
static void count_grants(const struct spa_daemon *d, const struct spa_decision *dec,
			 const struct spa_policy *pol, size_t *stanza, size_t *user)
{
	/* counted by the store as grants come and go */
	*stanza = spa_grants_of_policy(&d->grants, pol);
	*user = spa_grants_of_user(&d->grants, dec->msg.username);
}

json_t *spa_daemon_nat_json(const struct spa_decision *dec)
{
	char form[64];
	json_t *o = json_pack("{s:s}", "form", spa_nat_form_name(dec->nat_flags, form,
								 sizeof(form)));

	if (o && dec->nat_family) {
		json_object_set_new(o, "to", json_string(dec->nat_addr));
		json_object_set_new(o, "port", json_integer(dec->nat_port));
	}
	if (o && dec->snat_addr[0])
		json_object_set_new(o, "snat", json_string(dec->snat_addr));
	return o;
}

int spa_daemon_check_limits(struct spa_daemon *d, const struct spa_decision *dec,
			    struct spa_plugin *p, int64_t now, char *why, size_t cap)
{
	const struct spa_stanza *s = dec->stanza;
	size_t fresh = 0, in_stanza, of_user;
	struct spa_grant_rec rec;
	int rc;

	/* Only new grants count: a re-knock refreshing what the user holds
	 * (same source, port and policy) adds nothing to the store. A port
	 * named twice in one packet is one grant. */
	for (size_t i = 0; i < dec->n_ports; i++) {
		bool again = false;
		for (size_t j = 0; j < i && !again; j++)
			again = dec->ports[j].proto == dec->ports[i].proto &&
				dec->ports[j].port == dec->ports[i].port;
		if (again)
			continue;
		rc = make_rec(d, dec, p, &dec->ports[i], now, &rec);
		if (rc < 0)
			return rc;
		if (!spa_grants_find(&d->grants, &rec, NULL))
			fresh++;
	}
	if (fresh == 0)
		return 0;
	/* The whole knock is refused, not the ports past the limit: half a
	 * grant is harder to understand than none. */
	if (d->grants.n + fresh > d->cfg.max_grants_total) {
		snprintf(why, cap, "MAX_GRANTS_TOTAL %u reached (%zu grant%s held); knock refused",
			 d->cfg.max_grants_total, d->grants.n, spa_plural(d->grants.n));
		return -EDQUOT;
	}
	count_grants(d, dec, rec.policy, &in_stanza, &of_user);
	if (s->max_grants && in_stanza + fresh > s->max_grants) {
		snprintf(why, cap, "stanza %s: MAX_GRANTS %u reached; knock refused", s->label,
			 s->max_grants);
		return -EDQUOT;
	}
	if (s->max_grants_per_user && of_user + fresh > s->max_grants_per_user) {
		snprintf(why, cap, "stanza %s: MAX_GRANTS_PER_USER %u reached for user '%s'; "
			 "knock refused", s->label, s->max_grants_per_user, dec->msg.username);
		return -EDQUOT;
	}
	return 0;
}

const char spa_daemon_journal_failed[] = "not journaled";

int spa_daemon_apply_port(struct spa_daemon *d, const struct spa_decision *dec,
			  struct spa_plugin *p, const struct spa_port *port, int64_t now,
			  const char **what)
{
	struct spa_grant_rec rec, found, *old = &found;
	int rc;

	rc = make_rec(d, dec, p, port, now, &rec);
	if (rc < 0)
		return rc;

	if (!spa_grants_find(&d->grants, &rec, &found))
		old = NULL;
	if (old && (old->closing || old->close_busy)) {
		/* the user wants again what we are taking away: keep the
		 * record, open (idempotent) behind the close, and track it
		 * as live */
		*what = "re-opened";
		rc = spa_grants_update(&d->grants, old, rec.g.expires, rec.g.timeout);
		if (rc == 0 && old->closing)
			rc = spa_grants_reopened(&d->grants, old);
		if (rc < 0) {
			*what = spa_daemon_journal_failed;
			return rc;
		}
		if (old->close_busy)
			spa_grants_set_want_open(&d->grants, old->g.id, true);
		return spa_daemon_submit(d, p, SPA_OP_OPEN, old, "re-knock", 0);
	}
	if (old) {
		*what = "refreshed";
		/* never shorten a grant the user already holds */
		if (rec.g.expires < old->g.expires)
			return 0;
		rc = spa_grants_update(&d->grants, old, rec.g.expires, rec.g.timeout);
		if (rc < 0) {
			*what = spa_daemon_journal_failed;
			return rc;
		}
		/* only a backend that expires rules itself has anything to do */
		if (!p->d->ops.refresh && !(p->d->capabilities & SPA_PLUGIN_CAP_NATIVE_TIMEOUT))
			return 0;
		return spa_daemon_submit(d, p, SPA_OP_REFRESH, old, "re-knock", 0);
	}
	*what = "opened";
	/* journal first, and the op reaches the backend only once that line
	 * is written (spa_daemon_ops_release): a crash leaves a record of a
	 * hole that may not exist, never a hole without a record */
	rc = spa_grants_add(&d->grants, &rec);
	if (rc < 0) {
		*what = spa_daemon_journal_failed;
		return rc;
	}
	rc = spa_daemon_submit(d, p, SPA_OP_OPEN, &rec, "knock", 0);
	if (rc < 0)
		spa_daemon_grant_close(d, rec.g.id, "open not submitted");
	return rc;
}

int spa_daemon_load_journal_plugins(struct spa_daemon *d)
{
	char err[SPA_CONF_ERR_LEN];
	int rc = 0;

	/* A grant of a backend the config no longer names still closes: its
	 * plugin is loaded for it. */
	for (size_t i = 0; i < d->grants.n && rc == 0; i++) {
		struct spa_grant_rec r;
		const char *name = r.plugin;
		struct spa_plugin *p;

		spa_grants_at(&d->grants, i, &r);
		if (spa_daemon_plugin_named(d, name))
			continue;
		if (d->n_plugins == SPA_MAX_PLUGINS) {
			spa_log(SPA_L_ERR, "journal: grants of too many plugins (max %d)",
				SPA_MAX_PLUGINS);
			return -EINVAL;
		}
		rc = spa_plugin_load_named(d->cfg.plugin_dir, name, &p, err, sizeof(err));
		if (rc == 0)
			rc = spa_plugin_refuse_store(p, err, sizeof(err));
		if (rc < 0) {
			spa_log(SPA_L_ERR, "journal holds grants of plugin %s, which cannot be "
				"loaded (%s); refusing to start blind", name, err);
			return rc;
		}
		spa_daemon_bind_plugin(d, p);
		d->plugins[d->n_plugins++] = p;
		spa_log(SPA_L_NOTICE, "plugin %s loaded for grants in the journal", name);
	}
	return rc;
}

/* What expired while we were down is closed; closes that failed are retried;
 * the rest is re-opened (backends may have been flushed by a reboot or a
 * plugin's own init; opening again is idempotent). */
void spa_daemon_reconcile(struct spa_daemon *d)
{
	size_t live = 0;

	spa_daemon_expire_due(d);
	for (size_t i = 0; i < d->grants.n; i++) {
		struct spa_grant_rec r;
		struct spa_plugin *p;

		spa_grants_at(&d->grants, i, &r);
		if (r.closing || r.close_busy)
			continue;
		live++;
		p = spa_daemon_plugin_named(d, r.plugin);
		if (p && spa_daemon_submit(d, p, SPA_OP_OPEN, &r, "restart", 0) < 0)
			spa_log(SPA_L_ERR, "grant %llu: re-open after restart not submitted",
				(unsigned long long)r.g.id);
	}
	if (live)
		spa_log(SPA_L_NOTICE, "%zu grants from the journal re-armed", live);
	if (spa_grants_closing(&d->grants))
		spa_log(SPA_L_ERR, "%zu grants could not be closed yet; retrying",
			spa_grants_closing(&d->grants));
}

int spa_daemon_grant_reopen(struct spa_daemon *d, uint64_t id, const char *why)
{
	struct spa_grant_rec r;
	struct spa_plugin *p;
	struct spa_op *op;

	if (!spa_grants_by_id(&d->grants, id, &r) || r.closing || r.close_busy)
		return -ENOENT;
	p = spa_daemon_plugin_named(d, r.plugin);
	op = p ? spa_daemon_submit_op(d, p, SPA_OP_OPEN, &r, why, 0) : NULL;
	if (!op)
		return -ENOENT;
	op->lost = true;
	return 0;
}

/* A clean stop closes every hole: nothing would expire them otherwise. The
 * closes go out together (a batch per backend that takes them) and the
 * stop waits for them up to PLUGIN_OP_TIMEOUT. A close that fails, or
 * does not come back in time, stays journaled as closing; the next start
 * retries it instead of re-opening it. */
void spa_daemon_close_all(struct spa_daemon *d)
{
	size_t n = d->grants.n, left;
	uint64_t *ids = n ? calloc(n, sizeof(*ids)) : NULL;
	bool idle;

	for (size_t i = 0; ids && i < n; i++) {
		struct spa_grant_rec r;
		spa_grants_at(&d->grants, i, &r);
		ids[i] = r.g.id;
	}
	/* from here on, a close that comes back with a re-knock's open
	 * queued behind it sends one more close (close_done) */
	d->stop = true;
	d->n_retries = 0;
	for (size_t i = 0; ids && i < n; i++)
		spa_daemon_grant_close(d, ids[i], "shutdown");
	free(ids);
	idle = spa_daemon_drain(d, (int)d->cfg.plugin_op_timeout * 1000);
	/* what did not finish is neither retried now nor forgotten */
	left = d->grants.n;
	if (left)
		spa_log(SPA_L_ERR, "%zu grants could not be closed%s; they stay in the journal "
			"and the next start retries closing them", left,
			idle ? "" : " within PLUGIN_OP_TIMEOUT");
	spa_daemon_ops_stop(d, idle ? 5000 : 1000);
	for (size_t i = 0; i < d->n_plugins; i++) {
		struct spa_plugin *p = d->plugins[i];
		/* a flush also takes the holes we failed to close; their
		 * records stay, and the next start's close (idempotent)
		 * confirms they are gone */
		if (!p->initialised || (d->opq[i] && d->opq[i]->hung) ||
		    !spa_plugin_flush_wanted(p, "AT_EXIT"))
			continue;
		if (p->d->ops.flush(p->state) < 0)
			spa_log(SPA_L_ERR, "plugin %s: flush at exit failed", p->d->name);
	}
}
