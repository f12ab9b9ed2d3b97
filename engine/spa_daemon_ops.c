/* SPDX-License-Identifier: MIT */
/*
 * spa_daemon_ops.c - the plugin runtime on the loop's side. Every plugin op
 * on a grant goes through here: submitted with a copy of the grant, run by
 * the plugin's worker (spa_opq.h), and handed back to the loop, which alone
 * changes the grant store and the journal. A failure worth a retry is
 * tried again with backoff; an op that outlives PLUGIN_OP_TIMEOUT is failed
 * by the loop without waiting for it (docs/ARCHITECTURE.md, "Plugin
 * runtime").
 */
#include "spa_daemon.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "spa_log.h"

static size_t plugin_index(const struct spa_daemon *d, const struct spa_plugin *p)
{
	for (size_t i = 0; i < d->n_plugins; i++)
		if (d->plugins[i] == p)
			return i;
	return SPA_MAX_PLUGINS;
}

struct spa_opq *spa_daemon_opq_of(struct spa_daemon *d, const struct spa_plugin *p)
{
	size_t i = plugin_index(d, p);

	return i < SPA_MAX_PLUGINS ? d->opq[i] : NULL;
}

int spa_daemon_ops_start(struct spa_daemon *d)
{
	int rc;

#ifdef __GLIBC__
	/* A fixed trim threshold, set before the workers exist. glibc
	 * otherwise raises it (to twice the largest mapped block freed so
	 * far: a batch's documents, libnftables' parse of them), after which
	 * a worker's thread arena keeps its top resident for good, about
	 * 3 MB after 10,000 nftables knocks: malloc_trim trims only the main
	 * arena's top, a thread arena's goes only as a free reaches it. */
	mallopt(M_TRIM_THRESHOLD, 128 * 1024);
#endif
	d->ofd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->ofd < 0)
		return -errno;
	rc = spa_daemon_watch(d, d->ofd);
	for (size_t i = 0; rc == 0 && i < d->n_plugins; i++) {
		if (!d->plugins[i]->initialised)
			continue;
		rc = spa_opq_start(&d->opq[i], d->plugins[i], d->ofd,
				   spa_daemon_op_timeout_ms(d, d->plugins[i]),
				   d->cfg.plugin_batch_max);
		if (rc < 0)
			spa_log(SPA_L_ERR, "plugin %s: cannot start its worker: %s",
				d->plugins[i]->d->name, strerror(-rc));
	}
	return rc;
}

void spa_daemon_ops_stop(struct spa_daemon *d, int wait_ms)
{
	for (size_t i = 0; i < d->n_plugins; i++) {
		struct spa_opq *q = d->opq[i];
		if (!q || !q->started)
			continue;
		if (spa_opq_stop(q, wait_ms) < 0)
			spa_log(SPA_L_ERR, "plugin %s: an op is still running after %d ms; "
				"leaving it (the plugin is not unloaded)", d->plugins[i]->d->name,
				wait_ms);
	}
}

/* A grant of a version 2 journal has a policy without content: the loop
 * resolves it against the running config now, as the worker may not read
 * the config (a reload replaces it). */
static const struct spa_policy *op_policy(struct spa_daemon *d, struct spa_plugin *p,
					  const struct spa_grant_rec *r)
{
	const struct spa_stanza *s;

	if (!r->policy || r->policy->id[0])
		return r->policy;
	s = spa_config_stanza(&d->cfg, r->g.stanza);
	return s ? spa_policy_of_stanza(&d->grants.policies, p->d->name, s) : r->policy;
}

struct spa_op *spa_daemon_submit_op(struct spa_daemon *d, struct spa_plugin *p,
				    enum spa_op_kind kind, const struct spa_grant_rec *r,
				    const char *why, unsigned attempt)
{
	struct spa_opq *q = spa_daemon_opq_of(d, p);
	struct spa_op *op = q ? spa_opq_op_new(kind) : NULL;

	if (!op)
		return NULL;
	op->g = r->g;
	op->policy = op_policy(d, p, r);
	op->token_len = r->token_len;
	memcpy(op->token, r->token, r->token_len);
	op->why = why;
	op->attempt = attempt;
	if (d->note) {
		op->note = d->note;
		d->note->left++;
	}
	spa_opq_submit(q, op);
	spa_grants_inflight(&d->grants, r->g.id, +1);
	if (kind == SPA_OP_CLOSE)
		spa_grants_set_busy(&d->grants, r->g.id, true);
	return op;
}

int spa_daemon_submit(struct spa_daemon *d, struct spa_plugin *p, enum spa_op_kind kind,
		      const struct spa_grant_rec *r, const char *why, unsigned attempt)
{
	return spa_daemon_submit_op(d, p, kind, r, why, attempt) ? 0 : -ENOENT;
}

/* An op on no grant of the store, submitted once the caller filled it. */
static struct spa_op *submit_bare(struct spa_daemon *d, struct spa_plugin *p,
				  enum spa_op_kind kind, const char *why)
{
	struct spa_opq *q = spa_daemon_opq_of(d, p);
	struct spa_op *op = q ? spa_opq_op_new(kind) : NULL;

	if (op) {
		op->why = why;
		spa_opq_submit(q, op);
	}
	return op;
}

int spa_daemon_submit_foreign_close(struct spa_daemon *d, struct spa_plugin *p,
				    const struct spa_grant *g, const char *why)
{
	struct spa_op *op = submit_bare(d, p, SPA_OP_CLOSE, why);

	if (!op)
		return -ENOENT;
	/* pending until release: still the loop's to fill */
	op->g = *g;
	op->g.struct_size = sizeof(op->g);
	op->g.id = 0;
	return 0;
}

int spa_daemon_submit_list(struct spa_daemon *d, struct spa_plugin *p, const char *why)
{
	struct spa_op *op = submit_bare(d, p, SPA_OP_LIST, why);

	if (!op)
		return -ENOENT;
	/* grants made after this point may be opened after the listing */
	op->watermark = d->grants.next_id;
	return 0;
}

void spa_daemon_ops_release(struct spa_daemon *d)
{
	for (size_t i = 0; i < d->n_plugins; i++)
		if (d->opq[i])
			spa_opq_release(d->opq[i]);
}

bool spa_daemon_op_transient(int rc, int fail_kind)
{
	if (fail_kind)
		return fail_kind == SPA_FAIL_TRANSIENT;
	switch (-rc) {
	case EAGAIN: case ETIMEDOUT: case EBUSY: case EINTR: case EIO: case ENOMEM:
	case ENOBUFS: case ECONNREFUSED: case ECONNRESET: case ECONNABORTED: case EPIPE:
	case EHOSTUNREACH: case ENETUNREACH: case ENETDOWN: case ENOLCK: case ECANCELED:
		return true;
	default:
		return false;
	}
}

static void dispatch(struct spa_daemon *d, struct spa_plugin *p, struct spa_op *op,
		     const struct spa_op_result *res)
{
	if (op->kind == SPA_OP_COMMAND)
		spa_daemon_command_done(d, p, op, res);
	else if (op->kind == SPA_OP_LIST)
		spa_daemon_list_done(d, p, op, res);
	else if (op->g.id == 0)
		spa_daemon_foreign_done(d, p, res);
	else
		spa_daemon_grant_done(d, p, res);
}

static void handle_done(struct spa_daemon *d, struct spa_plugin *p, struct spa_op *op)
{
	int rc = op->rc;
	struct spa_op_result res;

	/* a token the journal refused fails the op: its close could not
	 * find what it opened after a restart */
	if (rc == 0 && op->token_rc < 0 && op->kind != SPA_OP_CLOSE) {
		rc = op->token_rc;
		op->fail_kind = SPA_FAIL_PERMANENT;
		snprintf(op->msg, sizeof(op->msg), "its token could not be journaled (%s)",
			 strerror(-rc));
	}
	res = (struct spa_op_result){ .kind = op->kind, .g = &op->g, .attempt = op->attempt,
				      .rc = rc, .why = op->why, .msg = op->msg, .lost = op->lost,
				      .transient = rc < 0 && spa_daemon_op_transient(rc,
										   op->fail_kind) };
	dispatch(d, p, op, &res);
	spa_daemon_note_done(d, op->note);
	op->note = NULL;
}

/* After a burst (thousands of ops, their decision lines, the workers'
 * batch documents), the memory they took goes back to the system once
 * every queue is empty. free() alone returns only the top of the heap:
 * the pages of freed chunks below a live one (a grant record, an interned
 * label) stay resident, so without this the daemon keeps most of its
 * peak for good. Counted in ops done, not ops outstanding at once: a fast
 * backend keeps its queue short through a burst of any length. */
#define TRIM_AFTER_OPS 1024

static void trim_after_burst(struct spa_daemon *d)
{
	if (d->ops_since_trim < TRIM_AFTER_OPS || d->notes || !spa_daemon_ops_idle(d))
		return;
	d->ops_since_trim = 0;
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

void spa_daemon_ops_event(struct spa_daemon *d)
{
	uint64_t n;

	if (read(d->ofd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		spa_log(SPA_L_ERR, "plugin runtime: eventfd: %s", strerror(errno));
	for (size_t i = 0; i < d->n_plugins; i++) {
		struct spa_opq *q = d->opq[i];
		struct spa_op *op, *next;

		if (!q)
			continue;
		for (op = spa_opq_take_requests(q); op; op = next) {
			int rc;
			next = op->req_next;
			rc = spa_grants_set_token(&d->grants, op->g.id, op->token, op->token_len);
			if (rc == 0)
				spa_opq_retoken(q, op->g.id, op->token, op->token_len);
			else
				spa_log(SPA_L_ERR, "grant %llu: plugin %s's token not journaled: %s",
					(unsigned long long)op->g.id, d->plugins[i]->d->name,
					strerror(-rc));
			spa_opq_answer(q, op, rc);
		}
		for (op = spa_opq_take_done(q); op; op = next) {
			next = op->next;
			/* failed at its deadline already: what came of it
			 * since is the next reconciliation's business */
			if (!op->timed_out)
				handle_done(d, d->plugins[i], op);
			spa_opq_op_free(op);
			d->ops_since_trim++;
		}
	}
	trim_after_burst(d);
}

static int64_t retry_left(const struct spa_daemon *d, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < d->n_retries; i++)
		if (d->retries[i].at < next)
			next = d->retries[i].at;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int64_t)(next - now);
}

int spa_daemon_ops_timeout_ms(struct spa_daemon *d)
{
	uint64_t now = spa_opq_now_ms();
	int64_t best = retry_left(d, now);

	for (size_t i = 0; i < d->n_plugins; i++) {
		int left = d->opq[i] ? spa_opq_deadline_ms(d->opq[i], now) : -1;
		if (left >= 0 && (best < 0 || left < best))
			best = left;
	}
	return best < 0 ? -1 : best > INT32_MAX ? INT32_MAX : (int)best;
}

void spa_daemon_retry_later(struct spa_daemon *d, uint64_t id, enum spa_op_kind kind,
			    unsigned attempt, uint64_t delay_ms)
{
	struct spa_daemon_retry *r;

	if (d->n_retries == d->cap_retries) {
		size_t cap = d->cap_retries ? 2 * d->cap_retries : 16;
		struct spa_daemon_retry *v = realloc(d->retries, cap * sizeof(*v));
		if (!v) {
			/* the grant still expires and closes: only the early
			 * retry is lost */
			spa_log(SPA_L_ERR, "grant %llu: out of memory; not retried",
				(unsigned long long)id);
			return;
		}
		d->retries = v;
		d->cap_retries = cap;
	}
	r = &d->retries[d->n_retries++];
	r->id = id;
	r->kind = kind;
	r->attempt = attempt;
	r->at = spa_opq_now_ms() + delay_ms;
}

static void fire_retries(struct spa_daemon *d)
{
	uint64_t now = spa_opq_now_ms();
	int64_t wall = (int64_t)time(NULL);

	for (size_t i = 0; i < d->n_retries;) {
		struct spa_daemon_retry t = d->retries[i];
		struct spa_grant_rec r;
		struct spa_plugin *p;

		if (t.at > now) {
			i++;
			continue;
		}
		d->retries[i] = d->retries[--d->n_retries];
		/* gone, closing or expired meanwhile: its close covers it */
		if (!spa_grants_by_id(&d->grants, t.id, &r) || r.closing || r.close_busy ||
		    r.g.expires <= wall)
			continue;
		p = spa_daemon_plugin_named(d, r.plugin);
		if (p && spa_daemon_submit(d, p, t.kind, &r, "retry", t.attempt) < 0)
			spa_log(SPA_L_ERR, "grant %llu: retry not submitted",
				(unsigned long long)t.id);
	}
}

static void fail_overdue(struct spa_daemon *d, size_t i)
{
	uint64_t now = spa_opq_now_ms();
	size_t n;
	struct spa_op *const *ops = spa_opq_overdue(d->opq[i], now, &n);
	char msg[96];

	if (!ops)
		return;
	snprintf(msg, sizeof(msg), "still running after PLUGIN_OP_TIMEOUT (%u s)",
		 d->cfg.plugin_op_timeout);
	spa_log(SPA_L_ERR, "plugin %s: %zu op%s %s; counted as a transient failure, the "
		"plugin's next ops wait behind it", d->plugins[i]->d->name, n, spa_plural(n),
		msg);
	for (size_t k = 0; k < n; k++) {
		/* only fields the worker never writes */
		struct spa_op_result res = { .kind = ops[k]->kind, .g = &ops[k]->g,
					     .attempt = ops[k]->attempt, .rc = -ETIMEDOUT,
					     .transient = true, .msg = msg,
					     .why = ops[k]->why, .lost = ops[k]->lost };
		if (ops[k]->kind == SPA_OP_COMMAND)
			spa_daemon_command_done(d, d->plugins[i], ops[k], &res);
		else if (ops[k]->kind == SPA_OP_LIST)
			spa_daemon_list_done(d, d->plugins[i], NULL, &res);
		else if (ops[k]->g.id == 0)
			spa_daemon_foreign_done(d, d->plugins[i], &res);
		else
			spa_daemon_grant_done(d, d->plugins[i], &res);
		/* the op's own result, when it comes, is ignored */
		spa_daemon_note_done(d, ops[k]->note);
		ops[k]->note = NULL;
	}
}

void spa_daemon_ops_tick(struct spa_daemon *d)
{
	for (size_t i = 0; i < d->n_plugins; i++)
		if (d->opq[i])
			fail_overdue(d, i);
	if (d->n_retries)
		fire_retries(d);
}

bool spa_daemon_ops_idle(struct spa_daemon *d)
{
	for (size_t i = 0; i < d->n_plugins; i++)
		if (d->opq[i] && !d->opq[i]->hung && !spa_opq_idle(d->opq[i]))
			return false;
	return true;
}
