/* SPDX-License-Identifier: MIT */
/* test_opq.c - a plugin's worker thread (engine/spa_opq.h): order, batches,
 * deadlines, token requests answered by the loop, and a worker that hangs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "spa_opq.h"
#include "spa_plugin.h"

/* The fake backend: what it was called with, and a gate that holds an op. */
static atomic_int gate_closed;    /* ops wait while set */
static atomic_int calls, batches, biggest_batch;
static atomic_int sleep_ms;
static atomic_int want_token;     /* opens set a token and fail on refusal */
static uint64_t order[256];
static atomic_int n_order;

static void wait_gate(void)
{
	while (atomic_load(&gate_closed))
		usleep(1000);
	if (atomic_load(&sleep_ms))
		usleep((useconds_t)atomic_load(&sleep_ms) * 1000u);
}

static void note(const struct spa_grant *g)
{
	int i = atomic_fetch_add(&n_order, 1);

	if (i < 256)
		order[i] = g->id;
	atomic_fetch_add(&calls, 1);
}

static struct spa_plugin *self_plugin;

static int fake_open(void *state, const struct spa_grant *g)
{
	(void)state;
	wait_gate();
	note(g);
	if (atomic_load(&want_token)) {
		struct spa_op *op = spa_opq_current(self_plugin, g);
		char tok[32];
		int n = snprintf(tok, sizeof(tok), "rule-%llu", (unsigned long long)g->id);
		return op ? spa_opq_token_set(op, tok, (size_t)n) : -EINVAL;
	}
	return g->port == 666 ? -ENOTRECOVERABLE : 0;
}

static int fake_close(void *state, const struct spa_grant *g)
{
	(void)state;
	wait_gate();
	note(g);
	return 0;
}

static int fake_batch(void *state, const struct spa_grant *const *g, size_t n, int *rc)
{
	int prev;

	(void)state;
	wait_gate();
	atomic_fetch_add(&batches, 1);
	prev = atomic_load(&biggest_batch);
	while ((int)n > prev && !atomic_compare_exchange_weak(&biggest_batch, &prev, (int)n)) {
	}
	for (size_t i = 0; i < n; i++) {
		note(g[i]);
		rc[i] = 0;
	}
	return 0;
}

static struct spa_plugin *fake_plugin(bool batch)
{
	struct spa_plugin *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->desc.name = "fake";
	p->desc.ops.open = fake_open;
	p->desc.ops.close = fake_close;
	if (batch) {
		p->desc.capabilities = SPA_PLUGIN_CAP_BATCH;
		p->desc.open_batch = fake_batch;
		p->desc.close_batch = fake_batch;
	}
	p->d = &p->desc;
	p->initialised = true;
	self_plugin = p;
	return p;
}

static void reset(void)
{
	atomic_store(&gate_closed, 0);
	atomic_store(&calls, 0);
	atomic_store(&batches, 0);
	atomic_store(&biggest_batch, 0);
	atomic_store(&sleep_ms, 0);
	atomic_store(&want_token, 0);
	atomic_store(&n_order, 0);
}

static struct spa_op *grant_op(enum spa_op_kind kind, uint64_t id, uint16_t port)
{
	struct spa_op *op = spa_opq_op_new(kind);

	assert_non_null(op);
	op->g.id = id;
	op->g.port = port;
	op->why = "test";
	return op;
}

/* Takes done ops until `want` came back (waiting on the eventfd, 20 s at
 * most: a loaded machine); answers token requests meanwhile. */
static size_t collect(struct spa_opq *q, int efd, size_t want, struct spa_op **out)
{
	size_t got = 0;

	for (int spins = 0; got < want && spins < 2000; spins++) {
		struct pollfd pfd = { .fd = efd, .events = POLLIN };
		uint64_t n;
		struct spa_op *op;

		if (poll(&pfd, 1, 10) > 0 && read(efd, &n, sizeof(n)) < 0)
			fail_msg("eventfd read");
		for (op = spa_opq_take_requests(q); op; op = op->req_next)
			spa_opq_answer(q, op, op->g.id == 13 ? -ENOSPC : 0);
		for (op = spa_opq_take_done(q); op;) {
			struct spa_op *next = op->next;
			out[got++] = op;
			op = next;
		}
	}
	return got;
}

static void free_ops(struct spa_op **ops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		spa_opq_op_free(ops[i]);
}

/* A list op whose callback gets a 1.4 plugin's grant (it ends before
 * nat_flags), a 1.5 one, and one too small to be a grant. */
static int fake_list(void *state, spa_plugin_list_cb cb, void *ctx)
{
	struct {
		struct spa_grant g;
		uint8_t poison[64];
	} old, cur, tiny;

	(void)state;
	memset(&old, 0xa5, sizeof(old));
	memset(&old.g, 0, offsetof(struct spa_grant, nat_flags));
	old.g.struct_size = offsetof(struct spa_grant, nat_flags);
	old.g.id = 0;
	old.g.port = 22;
	cb(ctx, &old.g);
	memset(&cur, 0, sizeof(cur));
	cur.g.struct_size = sizeof(cur.g);
	cur.g.port = 80;
	cur.g.nat_flags = SPA_NAT_FORWARD;
	cb(ctx, &cur.g);
	memset(&tiny, 0, sizeof(tiny));
	tiny.g.struct_size = offsetof(struct spa_grant, port);
	tiny.g.port = 443;
	cb(ctx, &tiny.g);
	return 0;
}

static void test_list_older_abi(void **state)
{
	struct spa_plugin *p = fake_plugin(false);
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct spa_opq *q;
	struct spa_op *done[2];
	(void)state;

	reset();
	p->desc.ops.list = fake_list;
	assert_int_equal(spa_opq_start(&q, p, efd, 10000, 64), 0);
	spa_opq_submit(q, spa_opq_op_new(SPA_OP_LIST));
	spa_opq_release(q);
	assert_int_equal(collect(q, efd, 1, done), 1);
	assert_int_equal(done[0]->rc, 0);
	/* the 1.4 grant is kept, its missing fields zero, not the bytes after
	 * it; the one too small for a grant is dropped */
	assert_int_equal(done[0]->n_listed, 2);
	assert_int_equal(done[0]->listed[0].port, 22);
	assert_int_equal(done[0]->listed[0].nat_flags, 0);
	assert_int_equal(done[0]->listed[0].snat_addr.family, 0);
	assert_int_equal(done[0]->listed[0].struct_size, sizeof(struct spa_grant));
	assert_int_equal(done[0]->listed[1].port, 80);
	assert_int_equal(done[0]->listed[1].nat_flags, SPA_NAT_FORWARD);
	free_ops(done, 1);
	assert_int_equal(spa_opq_stop(q, 5000), 0);
	spa_opq_free(q);
	free(p);
	close(efd);
}

/* Ops come back in the order submitted; what waited together is one batch
 * call, and nothing reaches the worker before release. */
static void test_order_and_batch(void **state)
{
	struct spa_plugin *p = fake_plugin(true);
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct spa_opq *q;
	struct spa_op *done[32];
	size_t got;
	(void)state;

	reset();
	assert_int_equal(spa_opq_start(&q, p, efd, 10000, 8), 0);
	atomic_store(&gate_closed, 1);
	spa_opq_submit(q, grant_op(SPA_OP_OPEN, 1, 22));
	usleep(50000);
	assert_int_equal(q->outstanding, 1);
	assert_true(q->queue == NULL);  /* not released: the worker has nothing */
	spa_opq_release(q);
	for (int i = 0; i < 20000 && spa_opq_deadline_ms(q, spa_opq_now_ms()) < 0; i++)
		usleep(1000);
	/* the first runs (held at the gate); the next 12 wait and then go
	 * as batches of at most 8 */
	for (uint64_t id = 2; id <= 13; id++)
		spa_opq_submit(q, grant_op(SPA_OP_OPEN, id, 22));
	spa_opq_submit(q, grant_op(SPA_OP_CLOSE, 14, 22));
	spa_opq_release(q);
	assert_int_equal(q->waiting_opens, 13);
	atomic_store(&gate_closed, 0);
	got = collect(q, efd, 14, done);
	assert_int_equal(got, 14);
	for (size_t i = 0; i < got; i++)
		assert_int_equal(done[i]->g.id, i + 1);
	assert_int_equal(atomic_load(&biggest_batch), 8);
	/* 1 alone (it ran while the others queued), 2..9, 10..13, then the close */
	assert_int_equal(atomic_load(&batches), 4);
	assert_int_equal(q->outstanding, 0);
	assert_int_equal(q->waiting_opens, 0);
	assert_true(spa_opq_idle(q));
	free_ops(done, got);
	assert_int_equal(spa_opq_stop(q, 5000), 0);
	spa_opq_free(q);
	free(p);
	close(efd);
}

/* Without a batch op each grant is its own call; a refusal's errno comes
 * back as the op's result. */
static void test_single_ops(void **state)
{
	struct spa_plugin *p = fake_plugin(false);
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct spa_opq *q;
	struct spa_op *done[8];
	size_t got;
	(void)state;

	reset();
	assert_int_equal(spa_opq_start(&q, p, efd, 10000, 64), 0);
	spa_opq_submit(q, grant_op(SPA_OP_OPEN, 1, 22));
	spa_opq_submit(q, grant_op(SPA_OP_OPEN, 2, 666));
	spa_opq_submit(q, grant_op(SPA_OP_OPEN, 3, 22));
	spa_opq_release(q);
	got = collect(q, efd, 3, done);
	assert_int_equal(got, 3);
	assert_int_equal(atomic_load(&batches), 0);
	assert_int_equal(atomic_load(&calls), 3);
	assert_int_equal(done[0]->rc, 0);
	assert_int_equal(done[1]->rc, -ENOTRECOVERABLE);
	assert_int_equal(done[2]->rc, 0);
	free_ops(done, got);
	spa_opq_free(q);
	free(p);
	close(efd);
}

/* An op past its deadline is handed to the loop as failed while it still
 * runs; when it ends, it comes back marked so. */
static void test_deadline(void **state)
{
	struct spa_plugin *p = fake_plugin(false);
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct spa_op *const *late = NULL;
	struct spa_opq *q;
	struct spa_op *done[2];
	size_t n = 0;
	(void)state;

	reset();
	assert_int_equal(spa_opq_start(&q, p, efd, 200, 64), 0);
	assert_int_equal(spa_opq_deadline_ms(q, spa_opq_now_ms()), -1);
	atomic_store(&gate_closed, 1);
	spa_opq_submit(q, grant_op(SPA_OP_CLOSE, 7, 22));
	spa_opq_release(q);
	/* running: a deadline at most 200 ms away, then none past it */
	for (int i = 0; i < 2000 && !late; i++) {
		int left = spa_opq_deadline_ms(q, spa_opq_now_ms());
		assert_true(left <= 200);
		late = spa_opq_overdue(q, spa_opq_now_ms(), &n);
		if (!late)
			usleep(5000);
	}
	assert_non_null(late);
	assert_int_equal(n, 1);
	assert_int_equal(late[0]->g.id, 7);
	assert_true(late[0]->timed_out);
	/* only once */
	assert_null(spa_opq_overdue(q, spa_opq_now_ms() + 1000, &n));
	assert_int_equal(spa_opq_deadline_ms(q, spa_opq_now_ms()), -1);
	assert_false(spa_opq_idle(q));
	atomic_store(&gate_closed, 0);
	assert_int_equal(collect(q, efd, 1, done), 1);
	assert_true(done[0]->timed_out);
	free_ops(done, 1);
	spa_opq_free(q);
	free(p);
	close(efd);
}

/* token_set waits for the loop's answer: a refusal fails the op's token,
 * an acceptance reaches the later ops of the same grant. */
static void test_token_requests(void **state)
{
	struct spa_plugin *p = fake_plugin(false);
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct spa_opq *q;
	struct spa_op *done[4];
	size_t got;
	(void)state;

	reset();
	atomic_store(&want_token, 1);
	assert_int_equal(spa_opq_start(&q, p, efd, 10000, 64), 0);
	spa_opq_submit(q, grant_op(SPA_OP_OPEN, 12, 22));
	spa_opq_submit(q, grant_op(SPA_OP_OPEN, 13, 22));
	spa_opq_release(q);
	got = collect(q, efd, 2, done);
	assert_int_equal(got, 2);
	assert_int_equal(done[0]->rc, 0);
	assert_int_equal(done[0]->token_rc, 0);
	assert_int_equal(done[0]->token_len, strlen("rule-12"));
	assert_memory_equal(done[0]->token, "rule-12", done[0]->token_len);
	/* the loop said the journal refused it (collect answers -ENOSPC) */
	assert_int_equal(done[1]->rc, -ENOSPC);
	assert_int_equal(done[1]->token_rc, -ENOSPC);
	free_ops(done, got);
	/* a token the journal took is given to that grant's ops still queued */
	atomic_store(&want_token, 0);
	atomic_store(&gate_closed, 1);
	spa_opq_submit(q, grant_op(SPA_OP_OPEN, 20, 22));
	spa_opq_submit(q, grant_op(SPA_OP_CLOSE, 21, 22));
	spa_opq_release(q);
	spa_opq_retoken(q, 21, "abc", 3);
	atomic_store(&gate_closed, 0);
	got = collect(q, efd, 2, done);
	assert_int_equal(got, 2);
	assert_int_equal(done[1]->token_len, 3);
	assert_memory_equal(done[1]->token, "abc", 3);
	free_ops(done, got);
	spa_opq_free(q);
	free(p);
	close(efd);
}

/* A worker stuck in its plugin does not hold up a stop for longer than
 * asked; it is then left alone (hung), never freed under it. */
static void test_hung_stop(void **state)
{
	struct spa_plugin *p = fake_plugin(false);
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct spa_opq *q;
	struct timespec t0, t1;
	long ms;
	(void)state;

	reset();
	assert_int_equal(spa_opq_start(&q, p, efd, 100, 64), 0);
	atomic_store(&gate_closed, 1);
	spa_opq_submit(q, grant_op(SPA_OP_OPEN, 1, 22));
	spa_opq_submit(q, grant_op(SPA_OP_OPEN, 2, 22));
	spa_opq_release(q);
	while (atomic_load(&calls) == 0 && spa_opq_deadline_ms(q, spa_opq_now_ms()) < 0)
		usleep(1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(spa_opq_stop(q, 300), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 250);
	assert_true(ms < 20000);
	assert_true(q->hung);
	spa_opq_free(q); /* a no-op for a hung worker: q stays valid */
	/* let it go: it ends after this op, the queued one stays queued */
	atomic_store(&gate_closed, 0);
	for (int i = 0; i < 2000 && atomic_load(&calls) < 1; i++)
		usleep(1000);
	assert_int_equal(pthread_join(q->thread, NULL), 0);
	assert_int_equal(atomic_load(&calls), 1);
	q->hung = q->started = false;
	spa_opq_free(q);
	free(p);
	close(efd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_batch),
		cmocka_unit_test(test_single_ops),
		cmocka_unit_test(test_list_older_abi),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_token_requests),
		cmocka_unit_test(test_hung_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
