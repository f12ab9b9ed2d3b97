/* SPDX-License-Identifier: MIT */
/*
 * test_spad_limits.c - least privilege through the real daemon: grant
 * limits per stanza, per user and in total (a re-knock that refreshes is
 * not a new grant), knocks a minute per stanza, and allow IPs that must
 * never be granted (multicast, loopback or this host's own addresses
 * unless the packet comes from there, REQUIRE_ALLOW_IP_IS_SOURCE).
 * argv[1]: spad, argv[2]: directory of recorder.so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "engine_helpers.h"
#include "spad_fixture.h"

static const char *spad_bin, *plugin_dir;

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

/* A knock whose grants outlive the test (60 s, the fixture's maximum). */
static const char *knock(struct fx *f, const char *user, const char *msg)
{
	char pkt[SPA_WIRE_CAP];
	size_t len = fx_build(f, f->keys, user, msg, 0, 60, pkt);

	return fx_send(f, pkt, len, false);
}

static void test_max_grants_per_stanza(void **state)
{
	struct fx *f = *state;
	const char *line;

	fx_write_access(f, "MAX_GRANTS 2\n");
	assert_true(fx_start(f));
	assert_non_null(strstr(knock(f, "alice", "127.0.0.1,tcp/22"), "opened"));
	assert_non_null(strstr(knock(f, "alice", "127.0.0.1,tcp/80"), "opened"));
	/* a refresh of a grant held is not a new grant */
	assert_non_null(strstr(knock(f, "alice", "127.0.0.1,tcp/22"), "refreshed"));
	line = knock(f, "alice", "127.0.0.1,tcp/443");
	assert_non_null(strstr(line, "decision=reject"));
	assert_non_null(strstr(line, "reason=\"stanza access.conf:2: MAX_GRANTS 2 reached; "
				     "knock refused\""));
	/* a knock that would add one grant is refused whole: its refresh too */
	line = knock(f, "alice", "127.0.0.1,tcp/22,tcp/443");
	assert_non_null(strstr(line, "MAX_GRANTS 2 reached"));
	assert_int_equal(fx_count(f->calls, "port=443"), 0);
	assert_int_equal(fx_count(f->calls, "refresh id=1 "), 1);
	/* the limit is the stanza's, whoever knocks */
	assert_non_null(strstr(knock(f, "bob", "127.0.0.1,tcp/8443"), "MAX_GRANTS 2 reached"));
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

static void test_max_grants_per_user(void **state)
{
	struct fx *f = *state;
	const char *line;

	fx_write_access(f, "MAX_GRANTS_PER_USER 1\n");
	assert_true(fx_start(f));
	assert_non_null(strstr(knock(f, "alice", "127.0.0.1,tcp/22"), "opened"));
	line = knock(f, "alice", "127.0.0.1,tcp/80");
	assert_non_null(strstr(line, "reason=\"stanza access.conf:2: MAX_GRANTS_PER_USER 1 "
				     "reached for user 'alice'; knock refused\""));
	assert_non_null(strstr(knock(f, "bob", "127.0.0.1,tcp/80"), "opened"));
	assert_non_null(strstr(knock(f, "alice", "127.0.0.1,tcp/22"), "refreshed"));
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

static void test_max_grants_total(void **state)
{
	struct fx *f = *state;
	const char *line;

	fx_append_conf(f, "MAX_GRANTS_TOTAL 1\n");
	assert_true(fx_start(f));
	assert_non_null(strstr(knock(f, "alice", "127.0.0.1,tcp/22"), "opened"));
	line = knock(f, "bob", "127.0.0.1,tcp/80");
	assert_non_null(strstr(line, "reason=\"MAX_GRANTS_TOTAL 1 reached (1 grant held); "
				     "knock refused\""));
	assert_non_null(strstr(knock(f, "alice", "127.0.0.1,tcp/22"), "refreshed"));
	assert_int_equal(fx_count(f->calls, "open id=2 "), 0);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

static void test_knocks_per_minute(void **state)
{
	struct fx *f = *state;
	const char *line;

	fx_write_access(f, "MAX_KNOCKS_PER_MINUTE 2\n");
	assert_true(fx_start(f));
	assert_non_null(strstr(knock(f, "alice", "127.0.0.1,tcp/22"), "opened"));
	assert_non_null(strstr(knock(f, "alice", "127.0.0.1,tcp/22"), "refreshed"));
	line = knock(f, "alice", "127.0.0.1,tcp/22");
	assert_non_null(strstr(line, "decision=reject"));
	assert_non_null(strstr(line, "reason=\"stanza access.conf:2: MAX_KNOCKS_PER_MINUTE 2 "
				     "reached; knock refused\""));
	assert_int_equal(fx_count(f->calls, "refresh id=1 "), 1);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

/* Without -v, a key holder knocking far past the limit gets a budget of
 * log lines, and the count of those not logged comes with the next one. */
static void test_knock_refusals_log_budget(void **state)
{
	struct fx *f = *state;
	char pkt[SPA_WIRE_CAP];
	size_t len;
	int lines;

	f->quiet = true;
	fx_write_access(f, "MAX_KNOCKS_PER_MINUTE 1\n");
	assert_true(fx_start(f));
	assert_non_null(strstr(knock(f, "alice", "127.0.0.1,tcp/22"), "opened"));
	for (int i = 0; i < 40; i++) {
		len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/22", 0, 60, pkt);
		assert_true(fx_send_raw(f, pkt, len, false));
	}
	assert_true(fx_wait_for(f->log, "MAX_KNOCKS_PER_MINUTE 1 reached", 10, FX_WAIT_MS));
	nanosleep(&(struct timespec){ 1, 500000000L }, NULL);
	lines = fx_count(f->log, "MAX_KNOCKS_PER_MINUTE 1 reached");
	/* 40 sent in well under a second: 10 lines, 20 if a second began */
	assert_true(lines >= 10 && lines <= 20);
	len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/22", 0, 60, pkt);
	assert_non_null(strstr(fx_send(f, pkt, len, false), "MAX_KNOCKS_PER_MINUTE 1 reached"));
	assert_int_equal(fx_count(f->log, "knocks refused by MAX_KNOCKS_PER_MINUTE were not "
				  "logged"), 1);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

/* The first IPv4 address of this host that is not loopback, if any. */
static bool own_address(char *out, size_t cap)
{
	struct ifaddrs *list = NULL;
	bool found = false;

	if (getifaddrs(&list) < 0)
		return false;
	for (struct ifaddrs *i = list; i && !found; i = i->ifa_next) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)i->ifa_addr;
		if (!a || a->sin_family != AF_INET || (ntohl(a->sin_addr.s_addr) >> 24) == 127)
			continue;
		found = inet_ntop(AF_INET, &a->sin_addr, out, (socklen_t)cap) != NULL;
	}
	freeifaddrs(list);
	return found;
}

static void test_allow_ip_checks(void **state)
{
	struct fx *f = *state;
	char own[INET_ADDRSTRLEN], msg[64];
	const char *line;

	assert_true(fx_start(f));
	line = knock(f, "alice", "224.0.0.1,tcp/22");
	assert_non_null(strstr(line, "reason=\"allow IP 224.0.0.1 is multicast\""));
	line = knock(f, "alice", "255.255.255.255,tcp/22");
	assert_non_null(strstr(line, "is broadcast"));
	line = knock(f, "alice", "127.0.0.2,tcp/22");
	assert_non_null(strstr(line, "allow IP 127.0.0.2 is loopback and not the packet's source"));
	if (own_address(own, sizeof(own))) {
		snprintf(msg, sizeof(msg), "%s,tcp/22", own);
		line = knock(f, "alice", msg);
		assert_non_null(strstr(line, "is an address of this host"));
	}
	/* the packet's own source (127.0.0.1 here), and any remote address:
	 * fwknop's semantics stay the default */
	assert_non_null(strstr(knock(f, "alice", "127.0.0.1,tcp/22"), "opened"));
	assert_non_null(strstr(knock(f, "alice", "0.0.0.0,tcp/80"), "for 127.0.0.1"));
	assert_non_null(strstr(knock(f, "alice", "198.51.100.9,tcp/22"), "opened"));
	assert_int_equal(fx_count(f->calls, "src=224."), 0);
	assert_int_equal(fx_stop(f, SIGTERM), 0);

	/* REQUIRE_ALLOW_IP_IS_SOURCE: only the sender's address */
	fx_write_access(f, "REQUIRE_ALLOW_IP_IS_SOURCE Y\n");
	assert_true(fx_start(f));
	line = knock(f, "alice", "198.51.100.9,tcp/443");
	assert_non_null(strstr(line, "reason=\"allow IP 198.51.100.9 is not the packet's source "
				     "but REQUIRE_ALLOW_IP_IS_SOURCE is set\""));
	assert_non_null(strstr(knock(f, "alice", "127.0.0.1,tcp/443"), "opened"));
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

/* out holds the -D line "name value" (spa_conf_dump.c's layout). */
static bool dumped(const char *out, const char *name, const char *value)
{
	char want[128];

	snprintf(want, sizeof(want), "    %-24s %s\n", name, value);
	return strstr(out, want) != NULL;
}

static void test_config_errors_and_dump(void **state)
{
	struct fx *f = *state;
	char *out;

	fx_write_access(f, "MAX_GRANTS 0\n");
	assert_int_equal(fx_cli(f, "--exit-parse-config"), 2);
	assert_int_equal(fx_count(f->log, "access.conf:9: MAX_GRANTS '0': expected a number of "
				  "grants 1..1000000 (leave it out for no limit)"), 1);
	fx_write_access(f, "MAX_KNOCKS_PER_MINUTE often\n");
	assert_int_equal(fx_cli(f, "--exit-parse-config"), 2);
	assert_int_equal(fx_count(f->log, "access.conf:9: MAX_KNOCKS_PER_MINUTE 'often'"), 1);
	fx_write_access(f, "REQUIRE_ALLOW_IP_IS_SOURCE maybe\n");
	assert_int_equal(fx_cli(f, "--exit-parse-config"), 2);
	assert_int_equal(fx_count(f->log, "access.conf:9: REQUIRE_ALLOW_IP_IS_SOURCE 'maybe': "
				  "expected Y or N"), 1);

	fx_write_access(f, "MAX_GRANTS 4\nMAX_GRANTS_PER_USER 2\nMAX_KNOCKS_PER_MINUTE 30\n"
			"REQUIRE_ALLOW_IP_IS_SOURCE Y\n");
	assert_int_equal(fx_cli(f, "-D"), 0);
	out = th_read(f->log);
	assert_non_null(out);
	assert_true(dumped(out, "MAX_GRANTS_TOTAL", "10000"));
	assert_true(dumped(out, "MAX_GRANTS", "4"));
	assert_true(dumped(out, "MAX_GRANTS_PER_USER", "2"));
	assert_true(dumped(out, "MAX_KNOCKS_PER_MINUTE", "30"));
	assert_true(dumped(out, "REQUIRE_ALLOW_IP_IS_SOURCE", "Y"));
	free(out);

	fx_write_access(f, "");
	fx_append_conf(f, "MAX_GRANTS_TOTAL 0\n");
	assert_int_equal(fx_cli(f, "--exit-parse-config"), 2);
	assert_int_equal(fx_count(f->log, "fwknopd.conf:9: MAX_GRANTS_TOTAL '0': expected an "
				  "integer 1..1000000"), 1);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_max_grants_per_stanza, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_grants_per_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_grants_total, setup, teardown),
		cmocka_unit_test_setup_teardown(test_knocks_per_minute, setup, teardown),
		cmocka_unit_test_setup_teardown(test_knock_refusals_log_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_ip_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_errors_and_dump, setup, teardown),
	};

	if (argc < 3) {
		fprintf(stderr, "usage: %s spad plugin-dir\n", argv[0]);
		return 2;
	}
	spad_bin = argv[1];
	plugin_dir = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
