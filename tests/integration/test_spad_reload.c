/* SPDX-License-Identifier: MIT */
/*
 * test_spad_reload.c - a hole spad opened closes on time whatever happens:
 * across reloads (same files, then access.conf edited with a stanza
 * inserted above and the grant's own stanza changed), when the backend
 * refuses to close (retried with backoff until it confirms, across a clean
 * stop and a kill -9), with two plugins in one configuration, and, under
 * valgrind, with no error or leak across reloads.
 * argv[1]: spad, argv[2]: directory of recorder.so and recorder2.so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "spad_fixture.h"

/* Generous: these hold on a loaded machine, and a failure still means a
 * hole that did not close within its timeout plus this margin. */
#define MARGIN_MS 10000

static const char *spad_bin, *plugin_dir;
static bool sanitized; /* spad built with ASan: it checks itself, valgrind cannot */

/* The second stanza's keys (the fixture's "wrong" set). */
#define KEY2_B64  "d3Jvbmcta2V5"
#define HMAC2_B64 "b3RoZXItaG1hYy1rZXk="

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

/* One stanza with RECORDER_TAG tag, after `above` (another stanza or ""). */
static void write_access(struct fx *f, const char *above, const char *tag)
{
	char body[4096], path[4096];

	snprintf(body, sizeof(body),
		 "%s"
		 "SOURCE 127.0.0.0/8\n"
		 "KEY_BASE64 %s\n"
		 "HMAC_KEY_BASE64 %s\n"
		 "OPEN_PORTS tcp/22, tcp/80\n"
		 "FW_ACCESS_TIMEOUT 3\n"
		 "RECORDER_TAG %s\n",
		 above, FX_KEY_B64, FX_HMAC_B64, tag);
	th_write(f->dir, "access.conf", body, path, sizeof(path));
}

static void reload(struct fx *f)
{
	int before = fx_count(f->log, "configuration reloaded");

	assert_int_equal(kill(f->pid, SIGHUP), 0);
	assert_true(fx_wait_for(f->log, "configuration reloaded", before + 1, MARGIN_MS));
}

static const char *knock(struct fx *f, const struct spa_keys *k, const char *msg)
{
	char pkt[SPA_WIRE_CAP];
	size_t len = fx_build(f, k, "alice", msg, 0, 0, pkt);

	return fx_send(f, pkt, len, false);
}

static void test_grant_survives_reload_and_edit(void **state)
{
	struct fx *f = *state;
	const char *line;
	char *json;

	write_access(f, "", "one");
	assert_true(fx_start(f));
	line = knock(f, f->keys, "127.0.0.1,tcp/22");
	assert_non_null(strstr(line, "opened"));
	assert_int_equal(fx_count(f->calls, "open id=1 "), 1);
	assert_int_equal(fx_count(f->calls, "stanza=access.conf:1 user=alice tag=one"), 1);

	/* same files */
	reload(f);
	/* a stanza inserted above: the grant's stanza moves to line 5 with
	 * the same content; a re-knock refreshes the same grant */
	write_access(f, "SOURCE 198.51.100.0/24\nKEY_BASE64 " KEY2_B64 "\n"
		     "HMAC_KEY_BASE64 " HMAC2_B64 "\nRECORDER_TAG above\n", "one");
	reload(f);
	line = knock(f, f->keys, "127.0.0.1,tcp/22");
	assert_non_null(strstr(line, "refreshed"));
	assert_int_equal(fx_count(f->calls, "refresh id=1 "), 1);
	assert_int_equal(fx_count(f->calls, "refresh id=1 family=4 src=127.0.0.1 proto=6 port=22 "
				  "timeout=3 stanza=access.conf:1 user=alice tag=one"), 1);
	/* the grant's own stanza edited: its close still uses what it was
	 * granted under (tag one), not another stanza's settings */
	write_access(f, "SOURCE 198.51.100.0/24\nKEY_BASE64 " KEY2_B64 "\n"
		     "HMAC_KEY_BASE64 " HMAC2_B64 "\nRECORDER_TAG above\n", "two");
	reload(f);
	assert_true(fx_wait_for(f->calls, "close id=1 ", 1, 3000 + MARGIN_MS));
	assert_int_equal(fx_count(f->calls, "tag=one plugin=recorder"), 3);
	assert_int_equal(fx_count(f->calls, "tag=above"), 0);
	assert_int_equal(fx_count(f->calls, "tag=two"), 0);
	/* a knock now is a new grant under the new policy */
	line = knock(f, f->keys, "127.0.0.1,tcp/22");
	assert_non_null(strstr(line, "opened"));
	assert_true(fx_wait_for(f->calls, "open id=2 ", 1, 100));
	assert_int_equal(fx_count(f->calls, "stanza=access.conf:5 user=alice tag=two"), 1);
	assert_true(fx_wait_for(f->calls, "close id=2 ", 1, 3000 + MARGIN_MS));
	/* the JSON log says when grants close */
	json = th_read(f->json);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"decision\":\"close\""));
	assert_non_null(strstr(json, "\"reason\":\"expired\""));
	free(json);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

static void test_failed_close_is_retried(void **state)
{
	struct fx *f = *state;
	char flag[4200], conf_line[4300];
	const char *line;
	int opens;

	snprintf(flag, sizeof(flag), "%s/backend-down", f->dir);
	snprintf(conf_line, sizeof(conf_line), "RECORDER_FAIL_CLOSE_IF %s\n", flag);
	fx_append_conf(f, conf_line);
	write_access(f, "", "one");
	th_write(f->dir, "backend-down", "", NULL, 0);
	assert_true(fx_start(f));
	line = knock(f, f->keys, "127.0.0.1,tcp/22");
	assert_non_null(strstr(line, "opened"));
	/* expiry fails, then the retries (1 s, 2 s later) fail too */
	assert_true(fx_wait_for(f->calls, "close-failed id=1 ", 2, 3000 + 3000 + MARGIN_MS));
	assert_true(fx_wait_for(f->log, "failed to close 127.0.0.1 tcp/22", 2, 1000));
	assert_true(fx_wait_for(f->log, "retrying in", 2, 1000));
	assert_int_equal(fx_count(f->calls, "close id=1 "), 0);
	/* the backend recovers: the next retry closes, and only then is the
	 * grant gone */
	assert_int_equal(unlink(flag), 0);
	assert_true(fx_wait_for(f->calls, "close id=1 ", 1, 4000 + MARGIN_MS));
	assert_true(fx_wait_for(f->log, "closed (retry)", 1, 1000));

	/* a clean stop cannot close it: it stays journaled as closing, and
	 * the next start closes it instead of opening it again */
	th_write(f->dir, "backend-down", "", NULL, 0);
	line = knock(f, f->keys, "127.0.0.1,tcp/80");
	assert_non_null(strstr(line, "opened"));
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	assert_true(fx_count(f->calls, "close-failed id=2 ") >= 1);
	assert_true(fx_wait_for(f->log, "could not be closed", 1, 100));
	opens = fx_count(f->calls, "open id=");
	assert_int_equal(unlink(flag), 0);
	assert_true(fx_start(f));
	assert_true(fx_wait_for(f->calls, "close id=2 ", 1, MARGIN_MS));
	assert_int_equal(fx_count(f->calls, "open id="), opens);

	/* kill -9 while a close is failing: the next start retries it */
	th_write(f->dir, "backend-down", "", NULL, 0);
	line = knock(f, f->keys, "127.0.0.1,tcp/22");
	assert_non_null(strstr(line, "opened"));
	assert_true(fx_wait_for(f->calls, "close-failed id=3 ", 1, 3000 + MARGIN_MS));
	assert_int_equal(fx_stop(f, SIGKILL), 128 + SIGKILL);
	opens = fx_count(f->calls, "open id=");
	assert_int_equal(unlink(flag), 0);
	assert_true(fx_start(f));
	assert_true(fx_wait_for(f->calls, "close id=3 ", 1, MARGIN_MS));
	assert_int_equal(fx_count(f->calls, "open id="), opens);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

/* A re-knock while a close is failing wants the hole again: the grant is
 * live again (re-opened), not duplicated. */
static void test_reknock_of_closing_grant(void **state)
{
	struct fx *f = *state;
	char flag[4200], conf_line[4300];
	const char *line;

	snprintf(flag, sizeof(flag), "%s/backend-down", f->dir);
	snprintf(conf_line, sizeof(conf_line), "RECORDER_FAIL_CLOSE_IF %s\n", flag);
	fx_append_conf(f, conf_line);
	write_access(f, "", "one");
	th_write(f->dir, "backend-down", "", NULL, 0);
	assert_true(fx_start(f));
	(void)knock(f, f->keys, "127.0.0.1,tcp/22");
	assert_true(fx_wait_for(f->calls, "close-failed id=1 ", 1, 3000 + MARGIN_MS));
	line = knock(f, f->keys, "127.0.0.1,tcp/22");
	assert_non_null(strstr(line, "re-opened"));
	assert_int_equal(fx_count(f->calls, "open id=1 "), 2);
	assert_int_equal(fx_count(f->calls, "open id=2 "), 0);
	assert_int_equal(unlink(flag), 0);
	assert_true(fx_wait_for(f->calls, "close id=1 ", 1, 3000 + MARGIN_MS));
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

/* Two plugins in one configuration, each opening and closing its own. */
static void test_two_plugins_in_one_config(void **state)
{
	struct fx *f = *state;
	char calls2[4200], conf_line[4300], above[1024];
	struct spa_keys *k2 = f->wrong;
	const char *line;

	snprintf(calls2, sizeof(calls2), "%s/calls2.log", f->dir);
	snprintf(conf_line, sizeof(conf_line), "RECORDER2_FILE %s\n", calls2);
	fx_append_conf(f, conf_line);
	snprintf(above, sizeof(above),
		 "SOURCE 127.0.0.0/8\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nFW_ACCESS_TIMEOUT 3\n"
		 "FIREWALL_TYPE recorder2\nRECORDER2_TAG second\n\n", KEY2_B64, HMAC2_B64);
	write_access(f, above, "first");
	assert_true(fx_start(f));
	line = knock(f, k2, "127.0.0.1,tcp/22");
	assert_non_null(strstr(line, "opened"));
	line = knock(f, f->keys, "127.0.0.1,tcp/22");
	assert_non_null(strstr(line, "opened"));
	/* the same source and port, another stanza: a grant of its own */
	assert_true(fx_wait_for(calls2, "open id=1 ", 1, 100));
	assert_int_equal(fx_count(calls2, "tag=second plugin=recorder2"), 1);
	assert_int_equal(fx_count(f->calls, "open id=2 "), 1);
	assert_int_equal(fx_count(f->calls, "tag=first plugin=recorder"), 1);
	assert_true(fx_wait_for(calls2, "close id=1 ", 1, 3000 + MARGIN_MS));
	assert_true(fx_wait_for(f->calls, "close id=2 ", 1, 3000 + MARGIN_MS));
	assert_int_equal(fx_count(calls2, "id=2 "), 0);
	assert_int_equal(fx_count(f->calls, "id=1 "), 0);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

/* spad itself under valgrind through grants and reloads: no invalid
 * access (a plugin using what config_get gave it after a reload) and no
 * leak. */
static void test_valgrind_across_reloads(void **state)
{
	struct fx *f = *state;
	char wrapper[4200], script[8400];
	const char *line;

	if (sanitized) {
		printf("spad is built with ASan, which checks these accesses itself\n");
		return;
	}
	if (access("/usr/bin/valgrind", X_OK) != 0) {
		if (getenv("CI"))
			fail_msg("valgrind is required under CI");
		printf("SKIP: valgrind not installed\n");
		return;
	}
	snprintf(script, sizeof(script),
		 "#!/bin/sh\nexec /usr/bin/valgrind -q --error-exitcode=99 --leak-check=full "
		 "--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect "
		 "--log-file=%s/valgrind.log %s \"$@\"\n", f->dir, spad_bin);
	th_write(f->dir, "spad-valgrind", script, wrapper, sizeof(wrapper));
	assert_int_equal(chmod(wrapper, 0700), 0);
	f->spad = wrapper;
	/* valgrind runs the packet process's system calls as its own: under
	 * the seccomp allow-list its first one would kill it (the sandbox
	 * has its own test, test_engine_sandbox) */
	fx_append_conf(f, "PRIVSEP_SECCOMP N\n");
	write_access(f, "", "one");
	/* valgrind starts slowly: fx_start's wait may be too short for it */
	if (!fx_start(f))
		assert_true(fx_wait_for(f->log, "listening on UDP", 1, 60000));
	line = knock(f, f->keys, "127.0.0.1,tcp/22");
	assert_non_null(strstr(line, "opened"));
	reload(f);
	write_access(f, "SOURCE 198.51.100.0/24\nKEY_BASE64 " KEY2_B64 "\n"
		     "HMAC_KEY_BASE64 " HMAC2_B64 "\n\n", "two");
	reload(f);
	assert_true(fx_wait_for(f->calls, "close id=1 ", 1, 3000 + 2 * MARGIN_MS));
	assert_int_equal(fx_count(f->calls, "close id=1 family=4 src=127.0.0.1 proto=6 port=22 "
				  "timeout=3 stanza=access.conf:1 user=alice tag=one"), 1);
	line = knock(f, f->keys, "127.0.0.1,tcp/80");
	assert_non_null(strstr(line, "opened"));
	reload(f);
	{
		char path[4200], *text;
		snprintf(path, sizeof(path), "%s/valgrind.log", f->dir);
		/* it did run under valgrind */
		assert_int_equal(access(path, F_OK), 0);
		if (fx_stop(f, SIGTERM) == 0)
			return;
		text = th_read(path);
		fail_msg("spad under valgrind: %s", text ? text : "(no log)");
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_grant_survives_reload_and_edit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failed_close_is_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reknock_of_closing_grant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_plugins_in_one_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valgrind_across_reloads, setup, teardown),
	};

	if (argc < 3) {
		fprintf(stderr, "usage: test_spad_reload spad plugin-dir\n");
		return 1;
	}
	spad_bin = argv[1];
	plugin_dir = argv[2];
	sanitized = argc > 3 && strcmp(argv[3], "asan") == 0;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
