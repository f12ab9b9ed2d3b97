/* SPDX-License-Identifier: MIT */
/*
 * test_spad_runtime.c - the plugin runtime under faults, through the real
 * daemon and the flaky test plugin (tests/plugins/flaky): a slow backend
 * does not stall another one or the packets; transient failures are
 * retried until each grant opened and closed exactly once; a permanent
 * open failure is not retried and its grant closes; a close that keeps
 * failing stays journaled, shows in spad -S and closes once the backend
 * recovers; a hung backend times out (PLUGIN_OP_TIMEOUT) without holding
 * up the others or the stop, and its grant closes at the next start; a
 * kill -9 in the middle of a burst leaves no entry past its expiry; a
 * batch plugin gets bursts and a stop's closes in batches.
 *
 * Distinct sources are distinct allow IPs in the access message
 * (198.51.100.N), sent from 127.0.0.1 (SOURCE 127.0.0.0/8).
 * argv[1]: spad, argv[2]: directory of recorder.so, argv[3]: directory of
 * flaky.so and flakyb.so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "flaky_fail.h"
#include "flaky_fixture.h"

#define MAX_ID 64

static const char *spad_bin, *plugin_dir;

/* Calls per grant id: [FLAKY_OPEN or FLAKY_CLOSE][failed or ok]. */
struct tally {
	int calls[MAX_ID + 1][2][2];
};

static int setup(void **state)
{
	*state = fx_new(spad_bin, plugin_dir);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	fx_delete(*state);
	return 0;
}

static void count_op(const struct ff_op *o, void *ctx)
{
	struct tally *t = ctx;
	int kind = strcmp(o->op, "open") == 0 ? FLAKY_OPEN : strcmp(o->op, "close") == 0 ? FLAKY_CLOSE : -1;

	if (kind < 0)
		return;
	if (o->id == 0 || o->id > MAX_ID)
		fail_msg("grant id %llu out of the test's range", (unsigned long long)o->id);
	t->calls[o->id][kind][o->ok]++;
}

static void tally(const char *ops, struct tally *t)
{
	memset(t, 0, sizeof(*t));
	ff_each_op(ops, count_op, t);
}

struct batches {
	const char *op;         /* "open_batch" or "close_batch" */
	unsigned calls, max;
};

static void count_batch(const struct ff_op *o, void *ctx)
{
	struct batches *b = ctx;

	if (strcmp(o->op, b->op) != 0)
		return;
	b->calls++;
	if (o->n > b->max)
		b->max = o->n;
}

/* How many leading calls fail for a grant (flaky_fails is the plugin's). */
static unsigned leading_fails(uint32_t seed, enum flaky_kind kind, uint64_t id)
{
	unsigned k = 0;

	while (k < 100 && flaky_fails(seed, kind, id, k, 30))
		k++;
	return k;
}

/* A seed under which grants 1..n fail their first open or close at most
 * 3 times in a row (so the retries fit in the grant's life and the test's
 * time) while enough of them fail at all to exercise the retries. */
static uint32_t pick_seed(int n)
{
	for (uint32_t seed = 1; seed < 1000; seed++) {
		int failing[2] = { 0, 0 }, twice = 0;
		bool ok = true;
		for (int id = 1; id <= n && ok; id++) {
			for (int kind = FLAKY_OPEN; kind <= FLAKY_CLOSE; kind++) {
				unsigned k = leading_fails(seed, (enum flaky_kind)kind, (uint64_t)id);
				ok = ok && k <= 3;
				failing[kind] += k > 0;
				twice += k > 1;
			}
		}
		if (ok && failing[0] >= n / 5 && failing[1] >= n / 5 && twice >= 2)
			return seed;
	}
	fail_msg("no usable FLAKY_SEED below 1000");
	return 0;
}

/* a. A backend that takes 1.5 s a call does not hold up another backend's
 * grants, nor the decisions on other packets. A grant's decision line
 * waits for its open, so the slow knocks are sent without waiting. */
static void test_slow_backend_does_not_stall(void **state)
{
	struct fx *f = *state;
	char pkt[SPA_WIRE_CAP];
	struct ff_backend b;
	const int slow = 12; /* 18 s of work queued for the slow backend: the
			      * windows below are wide for a loaded machine */
	int rejected;
	size_t len;

	ff_prepare(f, "flaky", "FLAKY_DELAY_MS 1500\n", 30, &b);
	assert_true(fx_start(f));
	ff_burst(f, f->keys, 1, slow);
	assert_true(fx_wait_for(b.ops, "open ok ", 1, FX_WAIT_MS));

	/* the fast backend's grants open while the slow queue is still busy
	 * (16.5 s more of it; this may take up to 13.5 s on a loaded machine) */
	ff_burst(f, f->wrong, 100, 3);
	assert_true(fx_wait_for(f->calls, "open id=", 3, FX_WAIT_MS));
	assert_in_range(fx_count(b.ops, "open ok "), 1, slow - 2);

	/* and packets keep being decided: garbage (a packet with one
	 * character changed fails its HMAC) is rejected meanwhile */
	rejected = fx_count(f->log, "decision=reject");
	len = ff_packet(f, f->keys, 200, pkt);
	for (int i = 0; i < 20; i++) {
		pkt[len / 2] = pkt[len / 2] == 'A' ? 'B' : 'A';
		pkt[len / 3] = (char)('a' + i);
		assert_true(fx_send_raw(f, pkt, len, false));
	}
	assert_true(fx_wait_for(f->log, "decision=reject", rejected + 20, FX_WAIT_MS));
	assert_in_range(fx_count(b.ops, "open ok "), 1, slow - 1);
	/* every slow knock was taken: its decision comes with its open */
	assert_true(fx_wait_for(f->log, "decision=grant", slow + 3, slow * 1500 + FX_WAIT_MS));
	assert_int_equal(fx_count(b.ops, "open ok "), slow);
}

/* b. 30% of opens and closes fail transiently: each is retried until it
 * goes through, so every grant opens once and closes once, and the
 * backend ends empty. The seed makes the failures per grant known. */
static void test_transient_failures_retried(void **state)
{
	struct fx *f = *state;
	const int n = 50;
	uint32_t seed = pick_seed(n);
	char extra[128];
	struct ff_backend b;
	struct tally t;

	snprintf(extra, sizeof(extra), "FLAKY_FAIL_PCT 30\nFLAKY_SEED %u\n", seed);
	ff_prepare(f, "flaky", extra, 5, &b);
	assert_true(fx_start(f));
	/* decided, whatever the first open does */
	for (int i = 1; i <= n; i++)
		assert_non_null(strstr(ff_knock(f, f->keys, i), "decision="));
	/* 5 s of life, then closes retried at 1, 2, 4 s */
	assert_true(fx_wait_for(b.ops, "close ok ", n, 5000 + 7000 + FX_WAIT_MS));
	assert_true(ff_wait_entries(b.dir, 0, FX_CLOSE_MARGIN_MS));
	/* whatever would come late (a second open or close) has had time */
	ff_sleep_ms(2000);
	tally(b.ops, &t);
	for (int id = 1; id <= n; id++) {
		unsigned fo = leading_fails(seed, FLAKY_OPEN, (uint64_t)id);
		unsigned fc = leading_fails(seed, FLAKY_CLOSE, (uint64_t)id);
		int (*c)[2] = t.calls[id];
		if (c[FLAKY_OPEN][1] != 1 || c[FLAKY_OPEN][0] != (int)fo || c[FLAKY_CLOSE][1] != 1 ||
		    c[FLAKY_CLOSE][0] != (int)fc)
			fail_msg("grant %d: opens %d ok + %d failed (want 1 + %u), closes %d ok + "
				 "%d failed (want 1 + %u)", id, c[FLAKY_OPEN][1], c[FLAKY_OPEN][0], fo,
				 c[FLAKY_CLOSE][1], c[FLAKY_CLOSE][0], fc);
	}
	assert_int_equal(t.calls[n + 1][FLAKY_OPEN][0] + t.calls[n + 1][FLAKY_OPEN][1], 0);
	assert_int_equal(ff_entries(b.dir), 0);
	ff_assert_journal_empty(f);
}

/* c. A permanent open failure is not retried: the grant is closed once
 * and forgotten. */
static void test_permanent_open_failure(void **state)
{
	struct fx *f = *state;
	struct ff_backend b;
	struct tally t;

	/* a long life: a retry could not be mistaken for the expiry's close */
	ff_prepare(f, "flaky", "FLAKY_FAIL_PCT 100\nFLAKY_FAIL_OPS open\nFLAKY_FAIL_KIND permanent\n",
		60, &b);
	assert_true(fx_start(f));
	(void)ff_knock(f, f->keys, 1);
	assert_true(fx_wait_for(b.ops, "close ok id=1 ", 1, FX_WAIT_MS));
	/* retries would have come at 0.25, 0.75 and 1.75 s */
	ff_sleep_ms(3000);
	tally(b.ops, &t);
	assert_int_equal(t.calls[1][FLAKY_OPEN][0], 1);
	assert_int_equal(t.calls[1][FLAKY_OPEN][1], 0);
	assert_int_equal(t.calls[1][FLAKY_CLOSE][1], 1);
	assert_int_equal(t.calls[1][FLAKY_CLOSE][0], 0);
	assert_int_equal(ff_entries(b.dir), 0);
	ff_assert_journal_empty(f);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	assert_int_equal(fx_count(b.ops, "close "), 1);
}

/* The failed attempts spad -S gives on the line of a stuck grant: the
 * number next to the word "attempt" (before it, "3 failed attempts", or
 * after it, "attempts: 3"), or -1. */
static int attempts_on(const char *line)
{
	const char *a = strstr(line, "attempt"), *p;

	if (!a)
		return -1;
	for (p = a; p > line && (p[-1] == ' ' || (p[-1] >= 'a' && p[-1] <= 'z')); p--)
		;
	while (p > line && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (*p >= '0' && *p <= '9' && p < a)
		return atoi(p);
	p = a + strcspn(a, "0123456789\n");
	return *p >= '0' && *p <= '9' && p - a <= 12 ? atoi(p) : -1;
}

/* The line of spad -S that names src, into line ("" if none). */
static void stuck_line(struct fx *f, const char *src, char *line, size_t cap)
{
	char *out = ff_status(f), *hit = strstr(out, src);

	line[0] = '\0';
	if (hit) {
		while (hit > out && hit[-1] != '\n')
			hit--;
		snprintf(line, cap, "%.*s", (int)strcspn(hit, "\n"), hit);
	}
	free(out);
}

/* d. Every close fails: the grant stays (journaled as closing, shown by
 * spad -S with its attempts and the backend's message) and closes as soon
 * as the backend takes closes again. */
static void test_stuck_close(void **state)
{
	struct fx *f = *state;
	char flag[4200], extra[4400], line[512] = "", *out;
	struct ff_backend b;
	int attempts = -1;

	snprintf(flag, sizeof(flag), "%s/close-fails", f->dir);
	snprintf(extra, sizeof(extra), "FLAKY_FAIL_CLOSE_FILE %s\n", flag);
	ff_prepare(f, "flaky", extra, 2, &b);
	th_write(f->dir, "close-fails", "", NULL, 0);
	assert_true(fx_start(f));
	assert_non_null(strstr(ff_knock(f, f->keys, 1), "decision=grant"));
	/* expiry at 2 s, retries at 1 and 2 s after it */
	assert_true(fx_wait_for(b.ops, "close err=", 2, 2000 + 3000 + FX_CLOSE_MARGIN_MS));
	assert_int_equal(ff_entries(b.dir), 1);

	/* the journal may lag the plugin's line: asked again for a while */
	for (int waited = 0; attempts < 2 && waited < FX_CLOSE_MARGIN_MS; waited += 500) {
		stuck_line(f, "198.51.100.1 ", line, sizeof(line));
		attempts = attempts_on(line);
		if (attempts < 2)
			ff_sleep_ms(500);
	}
	if (!strstr(line, "closing") && !strstr(line, "stuck"))
		fail_msg("not shown as closing: %s", line);
	if (attempts < 2)
		fail_msg("attempts %d < 2: %s", attempts, line);

	/* the backend recovers: the next retry (at most 8 s on) closes */
	assert_int_equal(unlink(flag), 0);
	assert_true(fx_wait_for(b.ops, "close ok id=1 ", 1, 8000 + FX_CLOSE_MARGIN_MS));
	assert_int_equal(ff_entries(b.dir), 0);
	out = ff_status(f);
	if (!strstr(out, ": 0 grants") || strstr(out, "198.51.100.1 "))
		fail_msg("still listed after the close: %s", out);
	free(out);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	/* last, so that an engine without messages fails only here: the
	 * backend's own words are what an operator needs */
	if (!strstr(line, "FLAKY_FAIL_CLOSE_FILE exists"))
		fail_msg("spad -S lacks the backend's message: %s", line);
}

/* e. A hung backend: its op times out (PLUGIN_OP_TIMEOUT), the other
 * backend still opens, a stop does not wait for it, and its grant stays
 * journaled until a start with the backend back closes it. */
static void test_hung_backend(void **state)
{
	struct fx *f = *state;
	char hang[4200], extra[4400], *out;
	struct ff_backend b;
	uint64_t t0;
	int rc;

	snprintf(hang, sizeof(hang), "%s/hang", f->dir);
	snprintf(extra, sizeof(extra), "FLAKY_HANG_FILE %s\nPLUGIN_OP_TIMEOUT 2\n", hang);
	ff_prepare(f, "flaky", extra, 6, &b);
	assert_true(fx_start(f));
	th_write(f->dir, "hang", "", NULL, 0);
	ff_burst(f, f->keys, 1, 1);
	assert_true(fx_wait_for(f->log, "decision=", 1, FX_WAIT_MS));
	assert_non_null(strstr(ff_knock(f, f->wrong, 2), "decision=grant"));
	assert_true(fx_wait_for(f->calls, "open id=", 1, FX_WAIT_MS));
	/* the log says so, in these words or those */
	for (int waited = 0; !fx_count(f->log, "PLUGIN_OP_TIMEOUT") && !fx_count(f->log, "timed out");
	     waited += 50) {
		if (waited > 2000 + FX_WAIT_MS)
			fail_msg("no line says the hung op timed out");
		ff_sleep_ms(50);
	}

	/* a stop: the recorder's grant closes, the hung one cannot */
	t0 = ff_mono_ms();
	rc = fx_stop(f, SIGTERM);
	if (rc < 0 || rc >= 128 || ff_mono_ms() - t0 > 2000 + 20000)
		fail_msg("stop with a hung backend: status %d after %llu ms", rc,
			 (unsigned long long)(ff_mono_ms() - t0));
	assert_int_equal(fx_count(f->calls, "close id="), 1);
	out = ff_status(f);
	if (!strstr(out, ": 1 grant"))
		fail_msg("the hung backend's grant is not in the journal: %s", out);
	free(out);

	/* the backend is back: the next start closes it (at its expiry) */
	assert_int_equal(unlink(hang), 0);
	assert_true(fx_start(f));
	assert_true(fx_wait_for(b.ops, "close ok ", 1, 6000 + FX_CLOSE_MARGIN_MS));
	assert_int_equal(ff_entries(b.dir), 0);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	ff_assert_journal_empty(f);
}

struct lateness {
	unsigned long long worst_ms;   /* a close's lateness past its expiry */
	char last[MAX_ID + 1];         /* the grant's last call that went through: o or c */
};

static void check_late(const struct ff_op *o, void *ctx)
{
	struct lateness *l = ctx;

	if (!o->ok || o->id == 0 || o->id > MAX_ID)
		return;
	if (strcmp(o->op, "open") == 0) {
		l->last[o->id] = 'o';
	} else if (strcmp(o->op, "close") == 0) {
		unsigned long long due = (unsigned long long)o->exp * 1000u;
		l->last[o->id] = 'c';
		if (o->wall > due && o->wall - due > l->worst_ms)
			l->worst_ms = o->wall - due;
	}
}

/* f. kill -9 in the middle of a burst on a slow backend, then a start:
 * every entry goes, none later than its grant's expiry + a margin. */
static void test_kill9_during_burst(void **state)
{
	struct fx *f = *state;
	struct ff_backend b;
	struct lateness l = { 0 };
	int opened;

	ff_prepare(f, "flaky", "FLAKY_DELAY_MS 100\n", 4, &b);
	assert_true(fx_start(f));
	ff_burst(f, f->keys, 1, 30);
	assert_true(fx_wait_for(b.ops, "open ok ", 8, FX_WAIT_MS));
	assert_int_equal(fx_stop(f, SIGKILL), 128 + SIGKILL);
	opened = fx_count(b.ops, "open ok ");
	if (opened >= 30)
		fail_msg("all 30 opened before the kill: not mid-burst");
	assert_true(fx_start(f));
	/* 4 s of life from the knocks, 30 calls of 0.1 s */
	assert_true(ff_wait_entries(b.dir, 0, 4000 + 3000 + FX_CLOSE_MARGIN_MS));
	/* and nothing comes back */
	ff_sleep_ms(1000);
	assert_int_equal(ff_entries(b.dir), 0);
	ff_each_op(b.ops, check_late, &l);
	for (int id = 1; id <= MAX_ID; id++)
		if (l.last[id] == 'o')
			fail_msg("grant %d opened, never closed after", id);
	if (l.worst_ms > FX_CLOSE_MARGIN_MS)
		fail_msg("an entry outlived its grant by %llu ms", l.worst_ms);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	ff_assert_journal_empty(f);
}

/* g. A batch plugin gets a burst of knocks and a stop's closes in
 * batches, and each grant once. */
static void test_batching(void **state)
{
	struct fx *f = *state;
	struct ff_backend b;
	struct batches opens = { "open_batch", 0, 0 }, closes = { "close_batch", 0, 0 };

	/* each call takes 0.2 s: knocks pile up behind the first */
	ff_prepare(f, "flakyb", "FLAKYB_DELAY_MS 200\n", 60, &b);
	assert_true(fx_start(f));
	ff_burst(f, f->keys, 1, 20);
	assert_true(fx_wait_for(b.ops, "open ok ", 20, FX_WAIT_MS));
	assert_int_equal(ff_entries(b.dir), 20);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	assert_int_equal(fx_count(b.ops, "open ok "), 20);
	assert_int_equal(fx_count(b.ops, "close ok "), 20);
	assert_int_equal(ff_entries(b.dir), 0);
	ff_each_op(b.ops, count_batch, &opens);
	ff_each_op(b.ops, count_batch, &closes);
	if (opens.max < 2 || closes.max < 2)
		fail_msg("largest batches: open %u (of %u calls), close %u (of %u calls)",
			 opens.max, opens.calls, closes.max, closes.calls);
}

/* h. A backend past PLUGIN_QUEUE_MAX: further knocks for it are refused
 * (their decision says so at once), the ones taken still open. */
static void test_queue_full_refuses(void **state)
{
	struct fx *f = *state;
	struct ff_backend b;
	int busy, granted;

	ff_prepare(f, "flaky", "FLAKY_DELAY_MS 2000\nPLUGIN_QUEUE_MAX 2\n", 30, &b);
	assert_true(fx_start(f));
	/* decided in microseconds each; the backend takes 2 s an open */
	ff_burst(f, f->keys, 1, 6);
	assert_true(fx_wait_for(f->log, "PLUGIN_QUEUE_MAX 2); knock refused", 1, FX_WAIT_MS));
	assert_true(fx_wait_for(b.ops, "open ok ", 2, 2 * 2000 + FX_WAIT_MS));
	/* every knock either refused or opened (a slow machine may decide
	 * the last ones after a first open freed a place) */
	for (int waited = 0;; waited += 100) {
		busy = fx_count(f->log, "PLUGIN_QUEUE_MAX 2); knock refused");
		granted = fx_count(b.ops, "open ok ");
		if (busy + granted >= 6 || waited > 6 * 2000 + FX_WAIT_MS)
			break;
		ff_sleep_ms(100);
	}
	assert_in_range(busy, 1, 4);
	assert_int_equal(busy + granted, 6);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_slow_backend_does_not_stall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transient_failures_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permanent_open_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hung_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill9_during_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batching, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_full_refuses, setup, teardown),
	};
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: test_spad_runtime spad recorder-dir flaky-dir\n");
		return 1;
	}
	spad_bin = argv[1];
	plugin_dir = ff_link_plugins(argv[2], argv[3]);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	ff_unlink_plugins();
	return rc;
}
