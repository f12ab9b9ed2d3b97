/* SPDX-License-Identifier: MIT */
/*
 * test_spad_token.c - per-grant plugin data (ABI 1.3 token_set/token_get)
 * through the real daemon: the recorder (RECORDER_TOKENS Y) attaches
 * "rule-<id>-<port>" to each grant it opens, and the engine must hand that
 * token back at refresh and close, across a reload, a failed close and its
 * retries, a kill -9 and restart (the re-open and the close after it), and
 * a clean stop; a token one byte too long is refused, and at close a token
 * may only be cleared.
 * argv[1]: spad, argv[2]: directory of recorder.so.
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
#include <unistd.h>

#include "engine_helpers.h"
#include "spad_fixture.h"

static const char *spad_bin, *plugin_dir;

static int setup(void **state)
{
	struct fx *f = fx_new(spad_bin, plugin_dir);

	if (f)
		fx_append_conf(f, "RECORDER_TOKENS Y\n");
	*state = f;
	return f ? 0 : -1;
}

static int teardown(void **state)
{
	fx_delete(*state);
	return 0;
}

static const char *knock(struct fx *f, const char *msg, uint32_t timeout)
{
	char pkt[SPA_WIRE_CAP];
	size_t len = fx_build(f, f->keys, "alice", msg, 0, timeout, pkt);

	return fx_send(f, pkt, len, false);
}

static void reload(struct fx *f)
{
	int before = fx_count(f->log, "configuration reloaded");

	assert_int_equal(kill(f->pid, SIGHUP), 0);
	assert_true(fx_wait_for(f->log, "configuration reloaded", before + 1, FX_WAIT_MS));
}

static void journal_has(struct fx *f, const char *needle)
{
	char path[4200], *text;

	snprintf(path, sizeof(path), "%s/grants.json", f->run);
	text = th_read(path);
	assert_non_null(text);
	if (!strstr(text, needle))
		fail_msg("journal lacks '%s': %s", needle, text);
	free(text);
}

/* Set at open, handed back at refresh and close, also after a reload. */
static void test_token_at_refresh_and_close(void **state)
{
	struct fx *f = *state;

	assert_true(fx_start(f));
	assert_non_null(strstr(knock(f, "127.0.0.1,tcp/22", 0), "opened"));
	assert_int_equal(fx_count(f->calls, "open id=1 family=4 src=127.0.0.1 proto=6 port=22 "), 1);
	assert_int_equal(fx_count(f->calls, "plugin=recorder token=-\n"), 1);
	/* 257 bytes: -E2BIG, and nothing stored */
	assert_int_equal(fx_count(f->calls, "token 257 bytes id=1: rc=-7\n"), 1);
	/* journaled as base64 of "rule-1-22" */
	journal_has(f, "\"token\":\"cnVsZS0xLTIy\"");

	assert_non_null(strstr(knock(f, "127.0.0.1,tcp/22", 0), "refreshed"));
	assert_int_equal(fx_count(f->calls, "refresh id=1 "), 1);
	assert_int_equal(fx_count(f->calls, "plugin=recorder token=rule-1-22\n"), 1);

	/* a reload keeps it: the expiry after it closes with the token */
	reload(f);
	assert_true(fx_wait_for(f->calls, "close id=1 ", 1, 2000 + FX_CLOSE_MARGIN_MS));
	assert_int_equal(fx_count(f->calls, "plugin=recorder token=rule-1-22\n"), 2);
	assert_int_equal(fx_count(f->calls, "token set at close id=1: rc=-22\n"), 1);

	/* a new grant, a reload while it is live, a refresh after it */
	assert_non_null(strstr(knock(f, "127.0.0.1,tcp/80", 30), "opened"));
	reload(f);
	assert_non_null(strstr(knock(f, "127.0.0.1,tcp/80", 30), "refreshed"));
	assert_int_equal(fx_count(f->calls, "refresh id=2 "), 1);
	assert_int_equal(fx_count(f->calls, "token=rule-2-80\n"), 1);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	assert_int_equal(fx_count(f->calls, "token=rule-2-80\n"), 2);
	assert_int_equal(fx_count(f->calls, "close id=2 "), 1);
}

/* A kill -9: the grant that expired while spad was down closes with its
 * token, the live one is re-opened with it and closes with it. */
static void test_token_across_kill(void **state)
{
	struct fx *f = *state;

	assert_true(fx_start(f));
	assert_non_null(strstr(knock(f, "127.0.0.1,tcp/22", 30), "opened"));
	assert_non_null(strstr(knock(f, "127.0.0.1,tcp/80", 2), "opened"));
	assert_true(fx_wait_for(f->calls, "token 257 bytes id=2: rc=-7\n", 1, FX_WAIT_MS));
	assert_int_equal(fx_stop(f, SIGKILL), 128 + SIGKILL);
	assert_int_equal(fx_count(f->calls, "close id="), 0);
	sleep(3); /* grant 2 expires while spad is down */

	assert_true(fx_start(f));
	assert_true(fx_wait_for(f->calls, "close id=2 ", 1, FX_WAIT_MS));
	assert_int_equal(fx_count(f->calls, "src=127.0.0.1 proto=6 port=80 timeout=2 "
				  "stanza=access.conf:2 user=alice tag=- plugin=recorder "
				  "token=rule-2-80\n"), 1);
	/* the re-open at start gets the token it had */
	assert_int_equal(fx_count(f->calls, "open id=1 "), 2);
	assert_int_equal(fx_count(f->calls, "token=rule-1-22\n"), 1);
	/* what spad -S says about the journal */
	assert_int_equal(fx_cli(f, "-S"), 0);
	assert_true(fx_wait_for(f->log, "1 grant, 1 with a plugin token", 1, 100));
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	assert_int_equal(fx_count(f->calls, "close id=1 "), 1);
	assert_int_equal(fx_count(f->calls, "token=rule-1-22\n"), 2);
}

/* A close the backend refuses keeps the grant and its token: every retry
 * and the close that succeeds get it. */
static void test_token_on_close_retry(void **state)
{
	struct fx *f = *state;
	char flag[4200], line[4300];

	snprintf(flag, sizeof(flag), "%s/backend-down", f->dir);
	snprintf(line, sizeof(line), "RECORDER_FAIL_CLOSE_IF %s\n", flag);
	fx_append_conf(f, line);
	th_write(f->dir, "backend-down", "", NULL, 0);
	assert_true(fx_start(f));
	assert_non_null(strstr(knock(f, "127.0.0.1,tcp/22", 0), "opened"));
	assert_true(fx_wait_for(f->calls, "close-failed id=1 ", 2, 2000 + FX_CLOSE_MARGIN_MS));
	assert_int_equal(fx_stop(f, SIGKILL), 128 + SIGKILL);
	assert_int_equal(unlink(flag), 0);
	assert_true(fx_start(f));
	assert_true(fx_wait_for(f->calls, "close id=1 ", 1, FX_WAIT_MS));
	assert_int_equal(fx_count(f->calls, "close-failed id=1 "),
			 fx_count(f->calls, "plugin=recorder token=rule-1-22\n") - 1);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_token_at_refresh_and_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_across_kill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_on_close_retry, setup, teardown),
	};

	if (argc < 3) {
		fprintf(stderr, "usage: test_spad_token spad plugin-dir\n");
		return 1;
	}
	spad_bin = argv[1];
	plugin_dir = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
