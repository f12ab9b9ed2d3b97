/* SPDX-License-Identifier: MIT */
/*
 * test_spad_flush.c - FLUSH_<prefix>AT_INIT / AT_EXIT (fwknop default Y)
 * are the engine's: flush after init and before fini in daemon mode only,
 * and the start-up flush comes before journal grants are re-opened.
 * argv: spad, plugin dir.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_helpers.h"
#include "spad_fixture.h"

static const char *spad_path, *plugin_dir;

static int setup(void **state)
{
	*state = fx_new(spad_path, plugin_dir);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	fx_delete(*state);
	return 0;
}

/* Index of the first line equal to/starting with want, or -1. */
static int line_index(const char *text, const char *want, int from)
{
	int i = 0;

	for (const char *l = text; l && *l; i++) {
		if (i >= from && strncmp(l, want, strlen(want)) == 0)
			return i;
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return -1;
}

static void knock(struct fx *f)
{
	char pkt[SPA_WIRE_CAP];
	size_t len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/22", 0, 30, pkt);
	const char *line = fx_send(f, pkt, len, false);

	assert_non_null(strstr(line, "decision=grant"));
	assert_true(fx_wait_for(f->calls, "open id=1 ", 1, 2000));
}

static void test_default_flushes_around_daemon(void **state)
{
	struct fx *f = *state;
	char *rec;
	int init, flush, open2, close1, flush2, fini;

	assert_true(fx_start(f));
	assert_true(fx_wait_for(f->calls, "flush\n", 1, 2000));
	knock(f);
	/* a crash keeps the grant in the journal: the restart re-opens it */
	assert_int_equal(fx_stop(f, SIGKILL), 128 + SIGKILL);
	assert_true(fx_start(f));
	assert_true(fx_wait_for(f->calls, "open id=1 ", 2, 2000));
	assert_int_equal(fx_stop(f, SIGTERM), 0);

	rec = th_read(f->calls);
	assert_non_null(rec);
	/* second life: init, flush, then the re-open; never the other way */
	init = line_index(rec, "init run=0", 1);
	flush = line_index(rec, "flush", init);
	open2 = line_index(rec, "open id=1 ", init);
	close1 = line_index(rec, "close id=1 ", open2);
	flush2 = line_index(rec, "flush", open2);
	fini = line_index(rec, "fini", open2);
	if (init < 0 || !(init < flush && flush < open2 && open2 < close1 && close1 < flush2 &&
			  flush2 < fini))
		fail_msg("unexpected call order:\n%s", rec);
	assert_int_equal(fx_count(f->calls, "flush\n"), 3); /* kill -9 ran no exit flush */
	free(rec);
}

static void test_no_flush_when_disabled(void **state)
{
	struct fx *f = *state;

	fx_append_conf(f, "FLUSH_RECORDER_AT_INIT N\nFLUSH_RECORDER_AT_EXIT n\n");
	assert_true(fx_start(f));
	knock(f);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	assert_int_equal(fx_count(f->calls, "fini\n"), 1);
	assert_int_equal(fx_count(f->calls, "close id=1 "), 1);
	assert_int_equal(fx_count(f->calls, "flush\n"), 0);
}

static void test_only_exit_flush(void **state)
{
	struct fx *f = *state;
	char *rec;

	fx_append_conf(f, "FLUSH_RECORDER_AT_INIT N\n");
	assert_true(fx_start(f));
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	rec = th_read(f->calls);
	assert_non_null(rec);
	assert_non_null(strstr(rec, "flush\nfini\n"));
	assert_int_equal(fx_count(f->calls, "flush\n"), 1);
	free(rec);
}

/* One-shot commands run next to a live daemon: they must not flush. */
static void test_one_shot_never_flushes(void **state)
{
	struct fx *f = *state;

	fx_append_conf(f, "FLUSH_RECORDER_AT_INIT Y\nFLUSH_RECORDER_AT_EXIT Y\n");
	/* the recorder cannot list: an incomplete answer exits 1 */
	assert_int_equal(fx_cli(f, "--fw-list"), 1);
	assert_int_equal(fx_cli(f, "--fw-list-all"), 1);
	assert_int_equal(fx_count(f->calls, "init run=0"), 2);
	assert_int_equal(fx_count(f->calls, "flush\n"), 0);
	/* --fw-flush flushes exactly once, as asked */
	assert_int_equal(fx_cli(f, "--fw-flush"), 0);
	assert_int_equal(fx_count(f->calls, "flush\n"), 1);
}

/* The engine acts on these, so they are checked rather than guessed. */
static void test_bad_flush_value_refused(void **state)
{
	struct fx *f = *state;

	fx_append_conf(f, "FLUSH_RECORDER_AT_EXIT maybe\n");
	assert_int_not_equal(fx_cli(f, "--exit-parse-config"), 0);
	assert_false(fx_start(f));
}

/* The shared rule switches are accepted keys; ENABLE_<prefix>* belongs to
 * the plugin, whose schema (test_spad_schema) does not name this one. */
static void test_enable_keys_accepted(void **state)
{
	struct fx *f = *state;

	fx_append_conf(f, "ENABLE_RULE_PREPEND Y\nENABLE_DESTINATION_RULE N\n");
	assert_int_equal(fx_cli(f, "--exit-parse-config"), 0);
	fx_append_conf(f, "ENABLE_RECORDER_EXTRA Y\n");
	assert_int_not_equal(fx_cli(f, "--exit-parse-config"), 0);
	assert_int_equal(fx_count(f->log, "ENABLE_RECORDER_EXTRA: not a fwknopd.conf key of "
				  "plugin recorder"), 1);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default_flushes_around_daemon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_flush_when_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_exit_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_shot_never_flushes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_flush_value_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_keys_accepted, setup, teardown),
	};

	if (argc < 3) {
		fprintf(stderr, "usage: %s spad plugin-dir\n", argv[0]);
		return 2;
	}
	spad_path = argv[1];
	plugin_dir = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
