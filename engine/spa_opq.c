/* SPDX-License-Identifier: MIT */
/*
 * spa_opq.c - the worker thread of one plugin instance (spa_opq.h). Why a
 * thread and not a process: docs/ARCHITECTURE.md, "Plugin runtime".
 */
#include "spa_opq.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spa_log.h"
#include "spa_plugin.h"

/* The opq whose worker this thread is; NULL on every other thread. */
static _Thread_local struct spa_opq *tl_q;

/* Enough for MAX_GRANTS_TOTAL's ceiling; a longer listing is not ours. */
#define LISTING_MAX 1000000u

uint64_t spa_opq_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void wake_loop(int efd)
{
	uint64_t one = 1;

	/* a full counter still wakes the loop: nothing to do on failure */
	if (write(efd, &one, sizeof(one)) < 0) {
	}
}

struct spa_op *spa_opq_op_new(enum spa_op_kind kind)
{
	struct spa_op *op = calloc(1, sizeof(*op));

	if (op) {
		op->kind = kind;
		op->g.struct_size = sizeof(op->g);
	}
	return op;
}

void spa_opq_op_free(struct spa_op *op)
{
	if (!op)
		return;
	free(op->listed);
	free(op->job);
	free(op);
}

static void on_listed(void *ctx, const struct spa_grant *g)
{
	struct spa_op *op = ctx;

	/* a plugin built against ABI 1.4 lists the smaller grant that ends
	 * before nat_flags: taken, with the newer fields zero (no NAT) */
	if (op->list_err || !g || g->struct_size < offsetof(struct spa_grant, nat_flags))
		return;
	if (op->n_listed == op->cap_listed) {
		size_t cap = op->cap_listed ? 2 * op->cap_listed : 64;
		struct spa_grant *v;
		if (cap > LISTING_MAX) {
			op->list_err = -E2BIG;
			return;
		}
		v = realloc(op->listed, cap * sizeof(*v));
		if (!v) {
			op->list_err = -ENOMEM;
			return;
		}
		op->listed = v;
		op->cap_listed = cap;
	}
	if (g->struct_size >= sizeof(*g)) {
		op->listed[op->n_listed] = *g;
	} else {
		memset(&op->listed[op->n_listed], 0, sizeof(*g));
		memcpy(&op->listed[op->n_listed], g, g->struct_size);
	}
	op->listed[op->n_listed++].struct_size = sizeof(*g);
}

/* One op without a batch call; refresh as spa-plugin(7) describes it. */
static int run_one(struct spa_opq *q, struct spa_op *op)
{
	const struct spa_plugin_ops *ops = &q->p->d->ops;
	void *st = q->p->state;
	int rc = 0;

	switch (op->kind) {
	case SPA_OP_OPEN:
		rc = ops->open(st, &op->g);
		break;
	case SPA_OP_CLOSE:
		rc = ops->close(st, &op->g);
		break;
	case SPA_OP_REFRESH:
		if (ops->refresh)
			rc = ops->refresh(st, &op->g);
		else if (q->p->d->capabilities & SPA_PLUGIN_CAP_NATIVE_TIMEOUT)
			rc = (rc = ops->close(st, &op->g)) < 0 ? rc : ops->open(st, &op->g);
		break;
	case SPA_OP_LIST:
		rc = ops->list ? ops->list(st, on_listed, op) : -EOPNOTSUPP;
		break;
	case SPA_OP_COMMAND:
		rc = q->p->d->command && op->job ? q->p->d->command(st, &op->job->c)
						 : -EOPNOTSUPP;
		break;
	}
	return rc > 0 ? -EIO : rc;
}

typedef int (*batch_fn)(void *state, const struct spa_grant *const *g, size_t n, int *rc);

static batch_fn batch_of(const struct spa_opq *q, enum spa_op_kind kind)
{
	if (!(q->p->d->capabilities & SPA_PLUGIN_CAP_BATCH))
		return NULL;
	return kind == SPA_OP_OPEN ? q->p->d->open_batch
	       : kind == SPA_OP_CLOSE ? q->p->d->close_batch : NULL;
}

static void run_batch(struct spa_opq *q)
{
	batch_fn fn = batch_of(q, q->cur[0]->kind);
	int rc;

	if (!fn) {
		for (size_t i = 0; i < q->n_cur; i++)
			q->cur[i]->rc = run_one(q, q->cur[i]);
		return;
	}
	for (size_t i = 0; i < q->n_cur; i++) {
		q->gv[i] = &q->cur[i]->g;
		q->rcv[i] = 0;
	}
	rc = fn(q->p->state, q->gv, q->n_cur, q->rcv);
	for (size_t i = 0; i < q->n_cur; i++) {
		int r = rc < 0 ? rc : q->rcv[i];
		q->cur[i]->rc = r > 0 ? -EIO : r;
	}
}

/* Takes the next batch off the queue: one op, or consecutive ops of the
 * kind a batch call serves, up to batch_max. Called locked. */
static void take_batch(struct spa_opq *q)
{
	batch_fn fn = batch_of(q, q->queue->kind);
	enum spa_op_kind kind = q->queue->kind;

	q->n_cur = 0;
	do {
		struct spa_op *op = q->queue;
		q->queue = op->next;
		op->next = NULL;
		q->cur[q->n_cur++] = op;
	} while (fn && q->queue && q->queue->kind == kind && q->n_cur < q->batch_max);
	if (!q->queue)
		q->queue_tail = NULL;
}

static void *worker_main(void *arg)
{
	struct spa_opq *q = arg;

	tl_q = q;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->queue && !q->stop)
			pthread_cond_wait(&q->work_cv, &q->mu);
		if (q->stop)
			break;
		take_batch(q);
		q->cur_started_ms = spa_opq_now_ms();
		q->cur_timed_out = false;
		pthread_mutex_unlock(&q->mu);
		run_batch(q);
		pthread_mutex_lock(&q->mu);
		for (size_t i = 0; i < q->n_cur; i++) {
			struct spa_op *op = q->cur[i];
			if (q->done_tail)
				q->done_tail->next = op;
			else
				q->done = op;
			q->done_tail = op;
		}
		q->n_cur = 0;
		q->cur_started_ms = 0;
		wake_loop(q->efd);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int spa_opq_start(struct spa_opq **out, struct spa_plugin *p, int efd, uint32_t timeout_ms,
		  uint32_t batch_max)
{
	struct spa_opq *q = calloc(1, sizeof(*q));
	sigset_t all, old;
	int rc = -ENOMEM;

	*out = NULL;
	if (!q)
		return -ENOMEM;
	q->p = p;
	q->efd = efd;
	q->timeout_ms = timeout_ms ? timeout_ms : 1;
	q->batch_max = batch_max ? batch_max : 1;
	/* sized for any later PLUGIN_BATCH_MAX: the worker reads them unlocked */
	q->cur = calloc(SPA_OPQ_BATCH_CEILING, sizeof(*q->cur));
	q->gv = calloc(SPA_OPQ_BATCH_CEILING, sizeof(*q->gv));
	q->rcv = calloc(SPA_OPQ_BATCH_CEILING, sizeof(*q->rcv));
	if (!q->cur || !q->gv || !q->rcv)
		goto fail;
	if (q->batch_max > SPA_OPQ_BATCH_CEILING)
		q->batch_max = SPA_OPQ_BATCH_CEILING;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work_cv, NULL);
	pthread_cond_init(&q->req_cv, NULL);
	/* signals stay the main thread's signalfd's; a command's SIGCHLD is
	 * collected by waitpid on its pid, never by a handler */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = -pthread_create(&q->thread, NULL, worker_main, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0) {
		pthread_cond_destroy(&q->work_cv);
		pthread_cond_destroy(&q->req_cv);
		pthread_mutex_destroy(&q->mu);
		goto fail;
	}
	q->started = true;
	*out = q;
	return 0;
fail:
	free(q->cur);
	free(q->gv);
	free(q->rcv);
	free(q);
	return rc;
}

void spa_opq_set_limits(struct spa_opq *q, uint32_t timeout_ms, uint32_t batch_max)
{
	pthread_mutex_lock(&q->mu);
	q->timeout_ms = timeout_ms ? timeout_ms : 1;
	q->batch_max = batch_max == 0 ? 1 : batch_max > SPA_OPQ_BATCH_CEILING
					      ? SPA_OPQ_BATCH_CEILING : batch_max;
	pthread_mutex_unlock(&q->mu);
}

void spa_opq_submit(struct spa_opq *q, struct spa_op *op)
{
	op->next = NULL;
	if (q->pending_tail)
		q->pending_tail->next = op;
	else
		q->pending = op;
	q->pending_tail = op;
	q->outstanding++;
	if (op->kind == SPA_OP_OPEN || op->kind == SPA_OP_REFRESH)
		q->waiting_opens++;
}

void spa_opq_release(struct spa_opq *q)
{
	if (!q->pending)
		return;
	pthread_mutex_lock(&q->mu);
	if (q->queue_tail)
		q->queue_tail->next = q->pending;
	else
		q->queue = q->pending;
	q->queue_tail = q->pending_tail;
	q->pending = q->pending_tail = NULL;
	pthread_cond_signal(&q->work_cv);
	pthread_mutex_unlock(&q->mu);
}

struct spa_op *spa_opq_take_done(struct spa_opq *q)
{
	struct spa_op *list;

	pthread_mutex_lock(&q->mu);
	list = q->done;
	q->done = q->done_tail = NULL;
	pthread_mutex_unlock(&q->mu);
	for (struct spa_op *op = list; op; op = op->next) {
		q->outstanding--;
		if (op->kind == SPA_OP_OPEN || op->kind == SPA_OP_REFRESH)
			q->waiting_opens--;
	}
	return list;
}

struct spa_op *spa_opq_take_requests(struct spa_opq *q)
{
	struct spa_op *list;

	pthread_mutex_lock(&q->mu);
	list = q->reqs;
	q->reqs = NULL;
	pthread_mutex_unlock(&q->mu);
	return list;
}

void spa_opq_answer(struct spa_opq *q, struct spa_op *op, int rc)
{
	pthread_mutex_lock(&q->mu);
	op->req_rc = rc;
	if (rc < 0)
		op->token_rc = rc;
	op->req_done = true;
	pthread_cond_broadcast(&q->req_cv);
	pthread_mutex_unlock(&q->mu);
}

static void retoken_list(struct spa_op *list, uint64_t id, const void *token, size_t len)
{
	for (struct spa_op *op = list; op; op = op->next) {
		if (op->g.id != id)
			continue;
		if (len)
			memcpy(op->token, token, len);
		op->token_len = len;
	}
}

void spa_opq_retoken(struct spa_opq *q, uint64_t id, const void *token, size_t len)
{
	if (len > SPA_GRANT_TOKEN_MAX)
		return;
	retoken_list(q->pending, id, token, len);
	pthread_mutex_lock(&q->mu);
	retoken_list(q->queue, id, token, len);
	pthread_mutex_unlock(&q->mu);
}

int spa_opq_deadline_ms(struct spa_opq *q, uint64_t now_ms)
{
	int left = -1;

	pthread_mutex_lock(&q->mu);
	if (q->cur_started_ms && !q->cur_timed_out) {
		uint64_t end = q->cur_started_ms + q->timeout_ms;
		left = end <= now_ms ? 0 : end - now_ms > (uint64_t)INT32_MAX ? INT32_MAX
									: (int)(end - now_ms);
	}
	pthread_mutex_unlock(&q->mu);
	return left;
}

struct spa_op *const *spa_opq_overdue(struct spa_opq *q, uint64_t now_ms, size_t *n)
{
	struct spa_op *const *out = NULL;

	*n = 0;
	pthread_mutex_lock(&q->mu);
	if (q->cur_started_ms && !q->cur_timed_out &&
	    now_ms >= q->cur_started_ms + q->timeout_ms) {
		q->cur_timed_out = true;
		for (size_t i = 0; i < q->n_cur; i++)
			q->cur[i]->timed_out = true;
		out = q->cur;
		*n = q->n_cur;
	}
	pthread_mutex_unlock(&q->mu);
	/* q->cur stays valid: the worker keeps these ops (and the array's
	 * first n entries) until its plugin call returns, which the main
	 * thread only learns through the done list it has not read yet */
	return out;
}

bool spa_opq_idle(struct spa_opq *q)
{
	bool idle;

	pthread_mutex_lock(&q->mu);
	idle = !q->pending && !q->queue && !q->done && !q->cur_started_ms && !q->reqs;
	pthread_mutex_unlock(&q->mu);
	return idle;
}

int spa_opq_stop(struct spa_opq *q, int wait_ms)
{
	struct timespec until;
	int rc;

	if (!q || !q->started)
		return 0;
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_signal(&q->work_cv);
	/* a token_set waiting for a main thread that no longer answers */
	for (struct spa_op *op = q->reqs; op; op = op->req_next) {
		op->req_rc = op->token_rc = -ECANCELED;
		op->req_done = true;
	}
	q->reqs = NULL;
	pthread_cond_broadcast(&q->req_cv);
	pthread_mutex_unlock(&q->mu);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	rc = -pthread_timedjoin_np(q->thread, NULL, &until);
	if (rc < 0) {
		q->hung = true;
		return rc == -EBUSY ? -ETIMEDOUT : rc;
	}
	q->started = false;
	return 0;
}

static void free_list(struct spa_op *list)
{
	while (list) {
		struct spa_op *next = list->next;
		spa_opq_op_free(list);
		list = next;
	}
}

void spa_opq_free(struct spa_opq *q)
{
	if (!q || q->hung)
		return;
	if (q->started)
		spa_opq_stop(q, 60000);
	if (q->hung)
		return;
	free_list(q->pending);
	free_list(q->queue);
	free_list(q->done);
	pthread_cond_destroy(&q->work_cv);
	pthread_cond_destroy(&q->req_cv);
	pthread_mutex_destroy(&q->mu);
	free(q->cur);
	free(q->gv);
	free(q->rcv);
	free(q);
}

bool spa_opq_in_worker(const struct spa_plugin *p)
{
	return tl_q && tl_q->p == p;
}

struct spa_op *spa_opq_current(const struct spa_plugin *p, const struct spa_grant *g)
{
	struct spa_opq *q = tl_q;

	if (!q || q->p != p || !q->n_cur)
		return NULL;
	if (!g)
		return q->cur[0];
	for (size_t i = 0; i < q->n_cur; i++)
		if (&q->cur[i]->g == g)
			return q->cur[i];
	for (size_t i = 0; g->id && i < q->n_cur; i++)
		if (q->cur[i]->g.id == g->id)
			return q->cur[i];
	return NULL;
}

int spa_opq_token_set(struct spa_op *op, const void *data, size_t len)
{
	struct spa_opq *q = tl_q;

	if (!q || !op->g.id || (len && op->kind == SPA_OP_CLOSE) || op->kind == SPA_OP_LIST)
		return -EINVAL;
	if (len > SPA_GRANT_TOKEN_MAX)
		return -E2BIG;
	if (len == op->token_len && (len == 0 || memcmp(op->token, data, len) == 0))
		return 0;
	if (len)
		memcpy(op->token, data, len);
	op->token_len = len;
	pthread_mutex_lock(&q->mu);
	if (q->stop) {
		pthread_mutex_unlock(&q->mu);
		return -ECANCELED;
	}
	op->req_done = false;
	op->req_next = q->reqs;
	q->reqs = op;
	wake_loop(q->efd);
	while (!op->req_done)
		pthread_cond_wait(&q->req_cv, &q->mu);
	pthread_mutex_unlock(&q->mu);
	return op->req_rc;
}

int spa_opq_time_left_ms(const struct spa_plugin *p)
{
	struct spa_opq *q = tl_q;
	uint64_t now, end;
	int left;

	if (!q || q->p != p)
		return -1;
	pthread_mutex_lock(&q->mu);
	end = q->cur_started_ms + q->timeout_ms;
	pthread_mutex_unlock(&q->mu);
	now = spa_opq_now_ms();
	left = end <= now ? 1 : end - now > (uint64_t)INT32_MAX ? INT32_MAX : (int)(end - now);
	return left;
}
