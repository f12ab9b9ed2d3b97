/* SPDX-License-Identifier: MIT */
/* test_store_runtime.c - the store runtime (engine/spa_store.h) against a
 * state-store module built into the test: claims and their answers, puts
 * and deletes, workers running together, the watch's events in order, a
 * lost watch watched again, stops, and a module call that never returns.
 * Every wait is on the runtime's eventfd, with a deadline. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spa/store.h"
#include "spa_opq.h"
#include "spa_plugin.h"
#include "spa_store.h"

/* ---- the test-double store module ---- */

enum watch_mode {
	WATCH_EVENTS,       /* a listing, SYNCED, changes, junk; then until stopped */
	WATCH_FAIL_ONCE,    /* first call: one event then an error; later: until stopped */
	WATCH_FAIL_ALWAYS,  /* returns an error at once, every time */
};

#define MAX_CALLS 128

static pthread_mutex_t fm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fc = PTHREAD_COND_INITIALIZER;
static char calls[MAX_CALLS][SPA_STORE_KEY_MAX + 64];
static int n_calls;
static int inside, inside_max, block_for;
static bool hang_entered;
static enum watch_mode mode;
static int watch_calls, watch_stop_calls;
static bool watch_stopped;
static uint64_t watch_call_ms[8];
static char long_key[SPA_STORE_KEY_MAX + 2];

static void record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void record(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&fm);
	if (n_calls < MAX_CALLS) {
		va_start(ap, fmt);
		vsnprintf(calls[n_calls++], sizeof(calls[0]), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&fm);
}

static bool called(const char *what)
{
	bool found = false;

	pthread_mutex_lock(&fm);
	for (int i = 0; i < n_calls && !found; i++)
		found = strcmp(calls[i], what) == 0;
	pthread_mutex_unlock(&fm);
	return found;
}

/* A counter the module's threads write: read under the lock, asserted
 * outside it (a failed assertion must not leave it held). */
static int locked_int(const int *v)
{
	int n;

	pthread_mutex_lock(&fm);
	n = *v;
	pthread_mutex_unlock(&fm);
	return n;
}

static void deadline_in(struct timespec *t, int ms)
{
	clock_gettime(CLOCK_REALTIME, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

/* Holds the caller until `block_for` claims are inside at once. */
static int claim_block(void)
{
	struct timespec until;
	int rc = 0;

	deadline_in(&until, 8000);
	pthread_mutex_lock(&fm);
	inside++;
	if (inside > inside_max)
		inside_max = inside;
	pthread_cond_broadcast(&fc);
	while (inside_max < block_for && rc == 0)
		rc = pthread_cond_timedwait(&fc, &fm, &until);
	inside--;
	pthread_mutex_unlock(&fm);
	return rc == 0 ? SPA_STORE_NEW : -ETIMEDOUT;
}

static int fake_claim(void *state, const char *key, uint32_t ttl)
{
	assert_ptr_equal(state, &fm);
	record("claim %s %u", key, ttl);
	if (strncmp(key, "new", 3) == 0)
		return SPA_STORE_NEW;
	if (strncmp(key, "seen", 4) == 0)
		return SPA_STORE_SEEN;
	if (strncmp(key, "again", 5) == 0)
		return -EAGAIN;
	if (strncmp(key, "perm", 4) == 0)
		return -EPERM;
	if (strncmp(key, "weird", 5) == 0)
		return 7;
	if (strncmp(key, "block", 5) == 0)
		return claim_block();
	if (strncmp(key, "hang", 4) == 0) {
		/* a module that never answers: nothing ever releases it */
		pthread_mutex_lock(&fm);
		hang_entered = true;
		pthread_cond_broadcast(&fc);
		for (;;)
			pthread_cond_wait(&fc, &fm);
	}
	return -EINVAL;
}

static int fake_put(void *state, const char *key, const char *value, uint32_t ttl)
{
	assert_ptr_equal(state, &fm);
	record("put %s=%s %u", key, value, ttl);
	if (strcmp(key, "putfail") == 0)
		return -EIO;
	if (strcmp(key, "putpositive") == 0)
		return 3;
	return 0;
}

static int fake_del(void *state, const char *key)
{
	assert_ptr_equal(state, &fm);
	record("del %s", key);
	return strcmp(key, "delfail") == 0 ? -EACCES : 0;
}

/* Waits (at most 8 s: a test never hangs) for watch_stop. */
static int until_stopped(void)
{
	struct timespec until;
	int rc = 0;

	deadline_in(&until, 8000);
	pthread_mutex_lock(&fm);
	while (!watch_stopped && rc == 0)
		rc = pthread_cond_timedwait(&fc, &fm, &until);
	pthread_mutex_unlock(&fm);
	return rc == 0 ? 0 : -ETIMEDOUT;
}

static int fake_watch(void *state, const char *prefix, spa_store_watch_cb cb, void *ctx)
{
	int n;

	assert_ptr_equal(state, &fm);
	pthread_mutex_lock(&fm);
	n = ++watch_calls;
	if (n <= 8)
		watch_call_ms[n - 1] = spa_opq_now_ms();
	/* the contract: watch_stop before watch makes it return at once */
	if (watch_stopped) {
		pthread_mutex_unlock(&fm);
		return 0;
	}
	pthread_mutex_unlock(&fm);
	record("watch %s", prefix);
	switch (mode) {
	case WATCH_EVENTS:
		cb(ctx, SPA_STORE_EV_PUT, "grants/a", "1");
		cb(ctx, SPA_STORE_EV_PUT, "grants/b", "2");
		cb(ctx, SPA_STORE_EV_SYNCED, NULL, NULL);
		/* what the runtime drops: no such event, a PUT without a
		 * value, a key without a name, an over-long key */
		cb(ctx, 9, "grants/x", "x");
		cb(ctx, SPA_STORE_EV_PUT, "grants/y", NULL);
		cb(ctx, SPA_STORE_EV_DEL, NULL, NULL);
		cb(ctx, SPA_STORE_EV_PUT, long_key, "z");
		cb(ctx, SPA_STORE_EV_PUT, "grants/c", "3");
		cb(ctx, SPA_STORE_EV_DEL, "grants/a", "ignored");
		return until_stopped();
	case WATCH_FAIL_ONCE:
		cb(ctx, SPA_STORE_EV_PUT, "grants/a", n == 1 ? "first" : "again");
		if (n == 1)
			return -ECONNRESET;
		cb(ctx, SPA_STORE_EV_SYNCED, NULL, NULL);
		return until_stopped();
	case WATCH_FAIL_ALWAYS:
		break;
	}
	return -EAGAIN;
}

static void fake_watch_stop(void *state)
{
	assert_ptr_equal(state, &fm);
	pthread_mutex_lock(&fm);
	watch_stopped = true;
	watch_stop_calls++;
	pthread_cond_broadcast(&fc);
	pthread_mutex_unlock(&fm);
}

static const struct spa_store_ops fake_ops = {
	.struct_size = sizeof(struct spa_store_ops),
	.claim = fake_claim,
	.put = fake_put,
	.del = fake_del,
	.watch = fake_watch,
	.watch_stop = fake_watch_stop,
};

/* static: a runtime left running in a hung call still points at it */
static struct spa_plugin plug;

static struct spa_plugin *fake_plugin(enum watch_mode m)
{
	memset(&plug, 0, sizeof(plug));
	plug.fd = -1;
	plug.desc.name = "fakestore";
	plug.desc.capabilities = SPA_PLUGIN_CAP_STORE;
	plug.desc.store = &fake_ops;
	plug.d = &plug.desc;
	plug.state = &fm;
	plug.initialised = true;
	pthread_mutex_lock(&fm);
	n_calls = inside = inside_max = block_for = 0;
	watch_calls = watch_stop_calls = 0;
	watch_stopped = hang_entered = false;
	mode = m;
	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	pthread_mutex_unlock(&fm);
	return &plug;
}

/* ---- what comes back to the loop ---- */

struct back {
	struct spa_store_job *jobs[64];
	size_t n_jobs;
	struct spa_store_event *events, **tail;
	size_t n_events;
};

/* Polls the runtime's eventfd until `jobs` jobs and `events` events are
 * back, or ms pass; false on the deadline. */
static bool wait_back(struct spa_store *s, struct back *b, size_t jobs, size_t events, int ms)
{
	uint64_t end = spa_opq_now_ms() + (uint64_t)ms;

	if (!b->tail)
		b->tail = &b->events;
	while (b->n_jobs < jobs || b->n_events < events) {
		struct pollfd pfd = { .fd = spa_store_fd(s), .events = POLLIN };
		struct spa_store_job *j;
		struct spa_store_event *e;
		uint64_t now = spa_opq_now_ms();

		if (now >= end)
			return false;
		if (poll(&pfd, 1, (int)(end - now)) <= 0)
			continue;
		spa_store_take(s, &j, &e);
		while (j) {
			struct spa_store_job *next = j->next;

			assert_true(b->n_jobs < 64);
			b->jobs[b->n_jobs++] = j;
			j = next;
		}
		*b->tail = e;
		for (; e; e = e->next) {
			b->n_events++;
			b->tail = &e->next;
		}
	}
	return true;
}

static void back_free(struct back *b)
{
	for (size_t i = 0; i < b->n_jobs; i++)
		spa_store_job_free(b->jobs[i]);
	spa_store_events_free(b->events);
	memset(b, 0, sizeof(*b));
}

static struct spa_store_job *job_of(struct back *b, intptr_t id)
{
	for (size_t i = 0; i < b->n_jobs; i++)
		if ((intptr_t)b->jobs[i]->owner == id)
			return b->jobs[i];
	fail_msg("job %ld not back", (long)id);
	return NULL;
}

static void submit(struct spa_store *s, enum spa_store_job_kind kind, intptr_t id,
		   const char *k0, const char *k1, const char *value, uint32_t ttl)
{
	struct spa_store_job *j = calloc(1, sizeof(*j));

	assert_non_null(j);
	j->kind = kind;
	j->owner = (void *)id;
	j->ttl = ttl;
	snprintf(j->key[0], sizeof(j->key[0]), "%s", k0);
	snprintf(j->key[1], sizeof(j->key[1]), "%s", k1 ? k1 : "");
	if (value) {
		j->value = strdup(value);
		assert_non_null(j->value);
	}
	spa_store_submit(s, j);
}

/* ---- tests ---- */

/* Each claim's answer in its job's rc; two keys stop at the first that
 * is not new; a module's answer outside the contract is -EPROTO. */
static void test_claims(void **state)
{
	struct spa_store *s;
	struct back b = { 0 };
	(void)state;

	assert_int_equal(spa_store_start(fake_plugin(WATCH_EVENTS), 2, NULL, &s), 0);
	submit(s, SPA_STORE_CLAIM, 1, "new1", NULL, NULL, 300);
	submit(s, SPA_STORE_CLAIM, 2, "seen2", NULL, NULL, 300);
	submit(s, SPA_STORE_CLAIM, 3, "again3", NULL, NULL, 300);
	submit(s, SPA_STORE_CLAIM, 4, "perm4", NULL, NULL, 300);
	submit(s, SPA_STORE_CLAIM, 5, "weird5", NULL, NULL, 300);
	submit(s, SPA_STORE_CLAIM, 6, "new6a", "new6b", NULL, 301);
	submit(s, SPA_STORE_CLAIM, 7, "new7a", "seen7b", NULL, 300);
	submit(s, SPA_STORE_CLAIM, 8, "seen8a", "new8b", NULL, 300);
	submit(s, SPA_STORE_CLAIM, 9, "again9a", "new9b", NULL, 300);
	submit(s, SPA_STORE_CLAIM, 10, "new10a", "weird10b", NULL, 300);
	submit(s, SPA_STORE_CLAIM, 11, "new11a", "perm11b", NULL, 300);
	submit(s, SPA_STORE_CLAIM, 12, "", "new12b", NULL, 300);
	assert_int_equal(spa_store_pending(s), 12);
	assert_true(wait_back(s, &b, 12, 0, 5000));
	assert_int_equal(spa_store_pending(s), 0);
	assert_int_equal(job_of(&b, 1)->rc, SPA_STORE_NEW);
	assert_int_equal(job_of(&b, 2)->rc, SPA_STORE_SEEN);
	assert_int_equal(job_of(&b, 3)->rc, -EAGAIN);
	assert_int_equal(job_of(&b, 4)->rc, -EPERM);
	assert_int_equal(job_of(&b, 5)->rc, -EPROTO);
	assert_int_equal(job_of(&b, 6)->rc, SPA_STORE_NEW);
	assert_int_equal(job_of(&b, 7)->rc, SPA_STORE_SEEN);
	assert_int_equal(job_of(&b, 8)->rc, SPA_STORE_SEEN);
	assert_int_equal(job_of(&b, 9)->rc, -EAGAIN);
	assert_int_equal(job_of(&b, 10)->rc, -EPROTO);
	assert_int_equal(job_of(&b, 11)->rc, -EPERM);
	assert_int_equal(job_of(&b, 12)->rc, SPA_STORE_NEW);
	/* both keys of a new pair, with the job's ttl */
	assert_true(called("claim new6a 301"));
	assert_true(called("claim new6b 301"));
	assert_true(called("claim seen7b 300"));
	/* the key after a seen one, or after an error, is not claimed */
	assert_true(called("claim seen8a 300"));
	assert_false(called("claim new8b 300"));
	assert_false(called("claim new9b 300"));
	assert_true(called("claim new12b 300"));
	assert_int_equal(locked_int(&n_calls), 16);
	for (size_t i = 0; i < b.n_jobs; i++)
		assert_true(b.jobs[i]->done_ms >= b.jobs[i]->submitted_ms);
	back_free(&b);
	assert_true(spa_store_stop(s, 5000));
}

static void test_put_del(void **state)
{
	struct spa_store *s;
	struct back b = { 0 };
	(void)state;

	assert_int_equal(spa_store_start(fake_plugin(WATCH_EVENTS), 1, NULL, &s), 0);
	submit(s, SPA_STORE_PUT, 1, "grants/gw1/x", NULL, "{\"v\":1}", 40);
	submit(s, SPA_STORE_PUT, 2, "putfail", NULL, "v", 40);
	submit(s, SPA_STORE_PUT, 3, "putpositive", NULL, "v", 40);
	submit(s, SPA_STORE_PUT, 4, "novalue", NULL, NULL, 5);
	submit(s, SPA_STORE_DEL, 5, "grants/gw1/x", NULL, NULL, 0);
	submit(s, SPA_STORE_DEL, 6, "delfail", NULL, NULL, 0);
	assert_true(wait_back(s, &b, 6, 0, 5000));
	/* one worker: in the order submitted */
	for (size_t i = 0; i < b.n_jobs; i++)
		assert_int_equal((intptr_t)b.jobs[i]->owner, (intptr_t)i + 1);
	assert_int_equal(job_of(&b, 1)->rc, 0);
	assert_int_equal(job_of(&b, 2)->rc, -EIO);
	assert_int_equal(job_of(&b, 3)->rc, 0);   /* put's contract is 0 or an error */
	assert_int_equal(job_of(&b, 4)->rc, 0);
	assert_int_equal(job_of(&b, 5)->rc, 0);
	assert_int_equal(job_of(&b, 6)->rc, -EACCES);
	assert_true(called("put grants/gw1/x={\"v\":1} 40"));
	assert_true(called("put novalue= 5"));
	assert_true(called("del grants/gw1/x"));
	assert_string_equal(job_of(&b, 1)->value, "{\"v\":1}");
	back_free(&b);
	/* jobs never taken back are freed by the stop (valgrind checks) */
	submit(s, SPA_STORE_PUT, 7, "k", NULL, "left", 1);
	assert_true(spa_store_stop(s, 5000));
}

/* Four workers run four claims at once: each claim waits until all
 * four are inside the module. */
static void test_workers_concurrent(void **state)
{
	struct spa_store *s;
	struct back b = { 0 };
	(void)state;

	assert_int_equal(spa_store_start(fake_plugin(WATCH_EVENTS), 4, NULL, &s), 0);
	pthread_mutex_lock(&fm);
	block_for = 4;
	pthread_mutex_unlock(&fm);
	for (intptr_t i = 1; i <= 4; i++)
		submit(s, SPA_STORE_CLAIM, i, "block", NULL, NULL, 10);
	assert_true(wait_back(s, &b, 4, 0, 10000));
	for (intptr_t i = 1; i <= 4; i++)
		assert_int_equal(job_of(&b, i)->rc, SPA_STORE_NEW);
	assert_int_equal(locked_int(&inside_max), 4);
	back_free(&b);
	assert_true(spa_store_stop(s, 5000));
}

static void check_event(const struct spa_store_event *e, int event, const char *key,
			const char *value)
{
	assert_non_null(e);
	assert_int_equal(e->event, event);
	if (key)
		assert_string_equal(e->key, key);
	else
		assert_null(e->key);
	if (value)
		assert_string_equal(e->value, value);
	else
		assert_null(e->value);
}

/* The listing, SYNCED and the changes arrive in the module's order,
 * what is outside the contract is dropped, and a stop ends the watch. */
static void test_watch_events(void **state)
{
	struct spa_store *s;
	struct back b = { 0 };
	const struct spa_store_event *e;
	(void)state;

	assert_int_equal(spa_store_start(fake_plugin(WATCH_EVENTS), 1, "grants/", &s), 0);
	assert_true(wait_back(s, &b, 0, 5, 5000));
	e = b.events;
	check_event(e, SPA_STORE_EV_PUT, "grants/a", "1");
	check_event(e = e->next, SPA_STORE_EV_PUT, "grants/b", "2");
	check_event(e = e->next, SPA_STORE_EV_SYNCED, NULL, NULL);
	check_event(e = e->next, SPA_STORE_EV_PUT, "grants/c", "3");
	check_event(e = e->next, SPA_STORE_EV_DEL, "grants/a", NULL);
	assert_null(e->next);
	assert_true(called("watch grants/"));
	/* nothing more comes (the dropped ones stay dropped) */
	assert_false(wait_back(s, &b, 0, 6, 200));
	back_free(&b);
	assert_true(spa_store_stop(s, 5000));
	assert_int_equal(locked_int(&watch_stop_calls), 1);
	assert_int_equal(locked_int(&watch_calls), 1);
}

/* A watch that fails is called again after the pause, and the new
 * watch's listing is delivered again. */
static void test_watch_again(void **state)
{
	struct spa_store *s;
	struct back b = { 0 };
	const struct spa_store_event *e;
	uint64_t gap;
	(void)state;

	assert_int_equal(spa_store_start(fake_plugin(WATCH_FAIL_ONCE), 1, "grants/", &s), 0);
	assert_true(wait_back(s, &b, 0, 3, 5000));
	e = b.events;
	check_event(e, SPA_STORE_EV_PUT, "grants/a", "first");
	check_event(e = e->next, SPA_STORE_EV_PUT, "grants/a", "again");
	check_event(e = e->next, SPA_STORE_EV_SYNCED, NULL, NULL);
	assert_int_equal(locked_int(&watch_calls), 2);
	pthread_mutex_lock(&fm);
	gap = watch_call_ms[1] - watch_call_ms[0];
	pthread_mutex_unlock(&fm);
	/* a pause (500 ms), not a busy loop; wide margins */
	assert_true(gap >= 300);
	assert_true(gap < 4500);
	back_free(&b);
	assert_true(spa_store_stop(s, 5000));
	assert_int_equal(locked_int(&watch_calls), 2);
}

/* A stop right after the start (the watch may not have begun: the
 * module latches watch_stop), and a stop while the watch pauses after an
 * error: both return soon, every thread joined. */
static void test_stop_latch(void **state)
{
	(void)state;

	for (int i = 0; i < 10; i++) {
		struct spa_store *s;
		uint64_t t0;

		assert_int_equal(spa_store_start(fake_plugin(i % 2 ? WATCH_EVENTS : WATCH_FAIL_ALWAYS),
						 2, "grants/", &s), 0);
		t0 = spa_opq_now_ms();
		assert_true(spa_store_stop(s, 5000));
		assert_true(spa_opq_now_ms() - t0 < 4000);
		assert_int_equal(locked_int(&watch_stop_calls), 1);
		assert_true(locked_int(&watch_calls) <= 1);
	}
}

/* Work submitted while the watch pauses after an error (the store is
 * lost, as in CLUSTER_FAIL_MODE's case) is still run: the pause's wait
 * must not take a worker's wake-up. */
static void test_claims_while_watch_pauses(void **state)
{
	struct spa_store *s;
	struct back b = { 0 };
	(void)state;

	assert_int_equal(spa_store_start(fake_plugin(WATCH_FAIL_ALWAYS), 1, "grants/", &s), 0);
	for (int i = 0; i < 500; i++) {
		bool begun;

		pthread_mutex_lock(&fm);
		begun = watch_calls > 0;
		pthread_mutex_unlock(&fm);
		if (begun)
			break;
		poll(NULL, 0, 10);
	}
	for (intptr_t i = 1; i <= 6; i++) {
		submit(s, SPA_STORE_CLAIM, i, "new", NULL, NULL, 10);
		if (!wait_back(s, &b, (size_t)i, 0, 3000))
			fail_msg("claim %ld not run within 3 s while the watch pauses", (long)i);
	}
	back_free(&b);
	assert_true(spa_store_stop(s, 5000));
}

/* A module call that never returns: the stop gives up after its wait,
 * says so, and leaves the runtime to the thread (never freed under it).
 * Last: the thread stays blocked until the process exits. */
static struct spa_store *hung;   /* reachable: the runtime is left alive */

static void test_hung_call(void **state)
{
	struct back b = { 0 };
	uint64_t t0, ms;
	bool entered = false;
	(void)state;

	assert_int_equal(spa_store_start(fake_plugin(WATCH_EVENTS), 2, NULL, &hung), 0);
	submit(hung, SPA_STORE_CLAIM, 1, "hang", NULL, NULL, 10);
	submit(hung, SPA_STORE_CLAIM, 2, "new", NULL, NULL, 10);
	assert_true(wait_back(hung, &b, 1, 0, 5000));
	assert_int_equal(job_of(&b, 2)->rc, SPA_STORE_NEW);
	back_free(&b);
	for (int i = 0; i < 500 && !entered; i++) {
		pthread_mutex_lock(&fm);
		entered = hang_entered;
		pthread_mutex_unlock(&fm);
		if (!entered)
			poll(NULL, 0, 10);
	}
	assert_true(entered);
	t0 = spa_opq_now_ms();
	assert_false(spa_store_stop(hung, 300));
	ms = spa_opq_now_ms() - t0;
	assert_true(ms >= 250);
	assert_true(ms < 4000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_put_del),
		cmocka_unit_test(test_workers_concurrent),
		cmocka_unit_test(test_watch_events),
		cmocka_unit_test(test_watch_again),
		cmocka_unit_test(test_stop_latch),
		cmocka_unit_test(test_claims_while_watch_pauses),
		cmocka_unit_test(test_hung_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
