/* SPDX-License-Identifier: MIT */
/*
 * spa_daemon_grants.c - the open/refresh/close cycle of the running daemon.
 * The rule above every other: a hole spad opened closes on time, whatever
 * happens. So every grant is journaled before its backend is asked to open
 * it, a close the backend refuses keeps the grant (journaled as closing)
 * and is retried with backoff until the backend confirms, and refresh and
 * close use the policy the grant was made under, not whatever access.conf
 * says by then (spa_policy.h).
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

static const char *proto_name(uint8_t proto)
{
	return proto == 6 ? "tcp" : "udp";
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

/* stanza_get for a grant of the store: from the policy it was made under. */
static const char *grant_var(void *ctx, const struct spa_grant *g, const char *key, bool *found)
{
	struct spa_daemon *d = ctx;
	const struct spa_policy *pol = g->id == d->op_id ? d->op_policy
				       : spa_grants_policy(&d->grants, g->id);

	return spa_policy_var(pol, key, found);
}

/* token_set (ABI 1.3) for the grant being served, journaled before the
 * plugin goes on; a journal that refuses it fails the op (grant_op), as a
 * grant that cannot be journaled is refused. */
static int grant_token_set(void *ctx, const struct spa_plugin *p, const struct spa_grant *g,
			   const void *data, size_t len)
{
	struct spa_daemon *d = ctx;
	int rc;

	(void)p; /* ops run one at a time: the grant served is the caller's */
	if (g->id != d->op_id || (len && d->op_closing))
		return -EINVAL;
	rc = spa_grants_set_token(&d->grants, g->id, data, len);
	/* a close that went through is one whatever its clear: the grant
	 * and its token go with the remove */
	if (rc < 0 && !d->op_closing)
		d->op_token_rc = rc;
	return rc;
}

/* token_get (ABI 1.3): a grant's token goes to the plugin that holds it. */
static const void *grant_token_get(void *ctx, const struct spa_plugin *p,
				   const struct spa_grant *g, size_t *len)
{
	struct spa_daemon *d = ctx;
	struct spa_grant_rec r;

	if (!spa_grants_by_id(&d->grants, g->id, &r) || strcmp(r.plugin, p->d->name) != 0)
		return NULL;
	return spa_grants_token(&d->grants, g->id, len);
}

void spa_daemon_bind_plugin(struct spa_daemon *d, struct spa_plugin *p)
{
	p->grant_var = grant_var;
	p->token_set = grant_token_set;
	p->token_get = grant_token_get;
	p->grant_var_ctx = d;
}

enum grant_op { OP_OPEN, OP_CLOSE, OP_REFRESH };

static int plugin_close(struct spa_daemon *d, struct spa_plugin *p, const struct spa_grant *g)
{
	int rc;

	d->op_closing = true;
	rc = p->d->ops.close(p->state, g);
	d->op_closing = false;
	return rc;
}

/* One place calls plugin ops on grants, so stanza_get always knows which
 * grant (and policy) is being served. */
static int grant_op(struct spa_daemon *d, struct spa_plugin *p, enum grant_op op,
		    const struct spa_grant_rec *r)
{
	int rc;

	d->op_id = r->g.id;
	d->op_policy = r->policy;
	d->op_token_rc = 0;
	switch (op) {
	case OP_OPEN: rc = p->d->ops.open(p->state, &r->g); break;
	case OP_CLOSE: rc = plugin_close(d, p, &r->g); break;
	default:
		if (p->d->ops.refresh)
			rc = p->d->ops.refresh(p->state, &r->g);
		else if (p->d->capabilities & SPA_PLUGIN_CAP_NATIVE_TIMEOUT)
			rc = (rc = plugin_close(d, p, &r->g)) < 0
				     ? rc : p->d->ops.open(p->state, &r->g);
		else
			rc = 0;
		break;
	}
	d->op_id = 0;
	d->op_policy = NULL;
	if (rc == 0)
		rc = d->op_token_rc;
	return rc > 0 ? -EIO : rc;
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

/* Closes grant `id`. A backend that fails keeps the grant, journaled as
 * closing, for a retry with backoff: forgetting it would leave the hole
 * open with nobody to close it. Returns the plugin's result. */
static int close_grant(struct spa_daemon *d, uint64_t id, const char *why, int64_t now)
{
	struct spa_grant_rec rec, *r = &rec;
	struct spa_plugin *p;
	int rc;

	if (!spa_grants_by_id(&d->grants, id, r))
		return -ENOENT;
	p = spa_daemon_plugin_named(d, r->plugin);
	rc = p && p->initialised ? grant_op(d, p, OP_CLOSE, r) : -ENOENT;
	/* a plugin op may not add, but be sure */
	if (!spa_grants_by_id(&d->grants, id, r))
		return rc;
	if (rc < 0) {
		if (spa_grants_close_failed(&d->grants, r, now) < 0)
			spa_log(SPA_L_ERR, "grant %llu: journal update failed",
				(unsigned long long)id);
		/* JSON first, as for decisions (log_decision) */
		json_grant_event(d, r, "close-failed", why, rc);
		spa_log(SPA_L_ERR, "grant %llu: plugin %s failed to close %s %s/%u (%s; attempt "
			"%u), retrying in %lld s; the hole stays open until it succeeds",
			(unsigned long long)id, r->plugin, r->g.src.text, proto_name(r->g.proto),
			r->g.port, p ? strerror(-rc) : "plugin not loaded", r->attempts,
			(long long)(r->retry_at - now));
		return rc;
	}
	if (spa_grants_remove(&d->grants, id) < 0)
		spa_log(SPA_L_ERR, "grant %llu: journal update failed", (unsigned long long)id);
	json_grant_event(d, r, "close", why, 0);
	spa_log(SPA_L_NOTICE, "grant %llu closed (%s): src=%s %s/%u stanza=%s%s",
		(unsigned long long)id, why, r->g.src.text, proto_name(r->g.proto),
		r->g.port, r->g.stanza, r->attempts ? " after failed attempts" : "");
	return 0;
}

void spa_daemon_expire_due(struct spa_daemon *d)
{
	struct spa_grant_rec r;
	int64_t now = (int64_t)time(NULL);

	/* a failed close moves its retry_at past now, so this ends */
	while (spa_grants_due(&d->grants, now, &r))
		close_grant(d, r.g.id, r.closing ? "retry" : "expired", now);
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
	if (old && old->closing) {
		/* the user wants again what we failed to take away: keep the
		 * record, open (idempotent) and track it as live */
		*what = "re-opened";
		rc = spa_grants_update(&d->grants, old, rec.g.expires, rec.g.timeout);
		if (rc == 0)
			rc = spa_grants_reopened(&d->grants, old);
		if (rc < 0)
			*what = spa_daemon_journal_failed;
		return rc < 0 ? rc : grant_op(d, p, OP_OPEN, old);
	}
	if (old) {
		*what = "refreshed";
		/* never shorten a grant the user already holds */
		if (rec.g.expires < old->g.expires)
			return 0;
		rc = spa_grants_update(&d->grants, old, rec.g.expires, rec.g.timeout);
		if (rc < 0)
			*what = spa_daemon_journal_failed;
		return rc < 0 ? rc : grant_op(d, p, OP_REFRESH, old);
	}
	*what = "opened";
	/* journal first: a crash between these two lines leaves a record of a
	 * hole that may not exist, never a hole without a record */
	rc = spa_grants_add(&d->grants, &rec);
	if (rc < 0) {
		*what = spa_daemon_journal_failed;
		return rc;
	}
	rc = grant_op(d, p, OP_OPEN, &rec);
	/* A failed open may have half-happened (a command that timed out
	 * after adding its rule): close it like any other grant, retried
	 * until the backend confirms, rather than drop the record. */
	if (rc < 0)
		close_grant(d, rec.g.id, "open failed", now);
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
		struct spa_grant_rec rec, *r = &rec;
		struct spa_plugin *p;

		spa_grants_at(&d->grants, i, r);
		p = spa_daemon_plugin_named(d, r->plugin);
		if (r->closing)
			continue;
		live++;
		if (p && grant_op(d, p, OP_OPEN, r) < 0)
			spa_log(SPA_L_ERR, "grant %llu: re-open after restart failed",
				(unsigned long long)r->g.id);
	}
	if (live)
		spa_log(SPA_L_NOTICE, "%zu grants from the journal re-armed", live);
	if (spa_grants_closing(&d->grants))
		spa_log(SPA_L_ERR, "%zu grants could not be closed yet; retrying",
			spa_grants_closing(&d->grants));
}

int spa_daemon_grant_reopen(struct spa_daemon *d, uint64_t id)
{
	struct spa_grant_rec r;
	struct spa_plugin *p;

	if (!spa_grants_by_id(&d->grants, id, &r) || r.closing)
		return -ENOENT;
	p = spa_daemon_plugin_named(d, r.plugin);
	return p && p->initialised ? grant_op(d, p, OP_OPEN, &r) : -ENOENT;
}

/* A clean stop closes every hole: nothing would expire them otherwise. A
 * close that fails stays journaled as closing; the next start retries it
 * instead of re-opening it. */
void spa_daemon_close_all(struct spa_daemon *d)
{
	int64_t now = (int64_t)time(NULL);
	size_t n = d->grants.n, left;
	uint64_t *ids = n ? calloc(n, sizeof(*ids)) : NULL;

	for (size_t i = 0; ids && i < n; i++) {
		struct spa_grant_rec r;
		spa_grants_at(&d->grants, i, &r);
		ids[i] = r.g.id;
	}
	for (size_t i = 0; ids && i < n; i++)
		close_grant(d, ids[i], "shutdown", now);
	free(ids);
	left = d->grants.n;
	if (left)
		spa_log(SPA_L_ERR, "%zu grants could not be closed; they stay in the journal "
			"and the next start retries closing them", left);
	for (size_t i = 0; i < d->n_plugins; i++) {
		struct spa_plugin *p = d->plugins[i];
		/* a flush also takes the holes we failed to close; their
		 * records stay, and the next start's close (idempotent)
		 * confirms they are gone */
		if (!p->initialised || !spa_plugin_flush_wanted(p, "AT_EXIT"))
			continue;
		if (p->d->ops.flush(p->state) < 0)
			spa_log(SPA_L_ERR, "plugin %s: flush at exit failed", p->d->name);
	}
}
