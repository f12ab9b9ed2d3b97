/* SPDX-License-Identifier: MIT */
/* Command transcripts of the ipfw plugin: fake host and recording script. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec_host.h"
#include "fake_host.h"
#include "golden.h"
#include "plugin_case.h"
#include "recording.h"
#include "spa_ipfw.h"

extern const struct spa_plugin_descriptor spa_plugin_descriptor;
#define OPS (spa_plugin_descriptor.ops)

#define EXP1 1800000000LL
#define EXP2 1800000100LL

static const char list_one[] =
	"10000 set 1 check-state :default\n"
	"10001 set 1 allow tcp from 198.51.100.2 to me dst-port 22 setup keep-state :default // _exp_1800000000\n"
	"10002 set 1 allow udp from 198.51.100.3 to me dst-port 53 keep-state :default // _exp_1800000009\n"
	"10003 set 1 allow tcp from 198.51.100.2 to me dst-port 22 setup keep-state // admin rule\n";

static struct spa_grant make_grant(int af, const char *src, int proto, int port, int64_t expires)
{
	return fake_host_grant(af, src, NULL, proto, port, 30, expires,
			       "1.2.3.4;rm -rf /");
}

static int setup(void **tstate)
{
	struct plugin_case *c = plugin_case_new();

	fake_host_set(&c->h, "IPFW_ADD_CHECK_STATE", "Y");
	fake_host_set(&c->h, "IPFW_EXPIRE_PURGE_INTERVAL", "3600");
	fake_host_reply(&c->h, "ipfw", "", 0);
	*tstate = c;
	return 0;
}

static void check_golden(struct fake_host *h, const char *name)
{
	assert_int_equal(golden_check_calls(h, SPA_GOLDEN_DIR, name), 0);
}

static void test_descriptor(void **tstate)
{
	(void)tstate;
	assert_int_equal(spa_plugin_descriptor.magic, SPA_PLUGIN_MAGIC);
	assert_int_equal(spa_plugin_descriptor.struct_size, sizeof(struct spa_plugin_descriptor));
	assert_string_equal(spa_plugin_descriptor.name, "ipfw");
	assert_string_equal(spa_plugin_descriptor.key_prefix, "IPFW_");
	assert_true(spa_plugin_descriptor.capabilities & SPA_PLUGIN_CAP_IPV6);
}

static void test_parse(void **tstate)
{
	struct spa_ipfw_rule r;

	(void)tstate;
	assert_int_equal(spa_ipfw_parse_line("10001 pass 6 from 198.51.100.2 to me dst-port 22 "
					     "setup keep-state // _exp_1800000000", &r), 0);
	assert_int_equal(r.num, 10001);
	assert_int_equal(r.rule.proto, 6);
	assert_string_equal(r.rule.src, "198.51.100.2");
	assert_string_equal(r.rule.dst, "me");
	assert_int_equal(r.rule.port, 22);
	assert_int_equal(r.rule.expires, EXP1);
	/* the form ipfw prints: names, "set N", port right after the address */
	assert_int_equal(spa_ipfw_parse_line("00100 set 1 allow udp from 2001:db8::2 to me6 53 "
					     "keep-state :default // _exp_7", &r), 0);
	assert_int_equal(r.num, 100);
	assert_int_equal(r.rule.proto, 17);
	assert_string_equal(r.rule.src, "2001:db8::2");
	assert_int_equal(r.rule.port, 53);
	assert_int_equal(r.rule.expires, 7);
	assert_int_equal(spa_ipfw_parse_line("00100 allow tcp from any to me // _exp_9 x", &r), 0);
	assert_int_equal(r.rule.expires, -1);
	assert_int_equal(spa_ipfw_parse_line("00100 check-state", &r), 0);
	assert_true(r.check_state);
	{
		struct spa_grant g;

		assert_int_equal(spa_ipfw_parse_line("00101 allow tcp from 198.51.100.2 to me6 22 "
						     "// _exp_5", &r), 0);
		assert_int_equal(spa_pu_rule_to_grant(&r.rule, &g, spa_ipfw_local), 0);
		assert_int_equal(g.port, 22);
		assert_int_equal(g.expires, 5);
		assert_int_equal(g.dst.family, 0);
		/* "to <address>" is a destination, not a local word */
		assert_int_equal(spa_ipfw_parse_line("00101 allow tcp from 198.51.100.2 to 203.0.113.5 "
						     "dst-port 22 // _exp_5", &r), 0);
		assert_int_equal(spa_pu_rule_to_grant(&r.rule, &g, spa_ipfw_local), 0);
		assert_int_equal(g.dst.family, AF_INET);
		assert_true(spa_pu_rule_matches(&r.rule, &g, spa_ipfw_local));
		g.dst.family = 0;
		assert_false(spa_pu_rule_matches(&r.rule, &g, spa_ipfw_local));
	}
	{
		/* a line too long to model still reports its number */
		char longline[300];

		snprintf(longline, sizeof(longline), "00200 allow tcp from any to me // %0120d _exp_5", 7);
		assert_int_equal(spa_ipfw_parse_line(longline, &r), 0);
		assert_int_equal(r.num, 200);
		assert_int_equal(r.rule.expires, -1);
	}
	assert_int_not_equal(spa_ipfw_parse_line("## Dynamic rules", &r), 0);
	assert_int_not_equal(spa_ipfw_parse_line("abc allow tcp", &r), 0);
	assert_int_not_equal(spa_ipfw_parse_line("70000 allow tcp", &r), 0);
}

static void test_open_fresh(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", IPPROTO_TCP, 22, EXP1);

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.nerrors, 0);
	check_golden(&c->h, "open.txt");
}

static void test_reknock(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant same = make_grant(AF_INET, "198.51.100.2", IPPROTO_TCP, 22, EXP1);
	struct spa_grant later = make_grant(AF_INET, "198.51.100.2", IPPROTO_TCP, 22, EXP2);

	fake_host_reply(&c->h, "ipfw", list_one, 0);
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	/* the identical rule is there: nothing is added */
	assert_int_equal(OPS.open(c->state, &same), 0);
	assert_int_equal(c->h.ncalls, 1);
	assert_int_equal(fake_host_find(&c->h, "/sbin/ipfw add"), -1);
	fake_host_reset_calls(&c->h);
	/* a later expiry: new rule first, then the old one goes */
	assert_int_equal(OPS.refresh(c->state, &later), 0);
	check_golden(&c->h, "reknock.txt");
}

static void test_close_flush(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", IPPROTO_TCP, 22, EXP1);
	struct spa_grant absent = make_grant(AF_INET, "198.51.100.9", IPPROTO_TCP, 22, EXP1);

	fake_host_reply(&c->h, "ipfw", list_one, 0);
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.close(c->state, &g), 0);
	assert_int_equal(OPS.close(c->state, &absent), 0);
	assert_int_equal(OPS.flush(c->state), 0);
	check_golden(&c->h, "close_flush.txt");
}

static void test_list(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct fake_seen s = { .n = 0 };

	fake_host_reply(&c->h, "ipfw", list_one, 0);
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(OPS.list(c->state, fake_host_seen, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.text[0], "198.51.100.2 6/22 1800000000");
	assert_string_equal(s.text[1], "198.51.100.3 17/53 1800000009");
}

static void test_ipv6_hostile(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g6 = make_grant(AF_INET6, "2001:db8::2", IPPROTO_UDP, 53, EXP1);
	struct spa_grant g4 = make_grant(AF_INET, "198.51.100.7", IPPROTO_TCP, 22, EXP1);

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g6), 0);
	g4.dst.family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "203.0.113.5", &g4.dst.bin), 1);
	strcpy(g4.dst.text, "$(reboot)");
	assert_int_equal(OPS.open(c->state, &g4), 0);
	for (unsigned int i = 0; i < c->h.ncalls; i++) {
		assert_null(strstr(c->h.calls[i].argv, "rm -rf"));
		assert_null(strstr(c->h.calls[i].argv, "reboot"));
	}
	check_golden(&c->h, "ipv6_dst.txt");
}

static void test_bad(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", IPPROTO_TCP, 22, EXP1);
	void *st = NULL;

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	g.proto = 1;
	assert_int_not_equal(OPS.open(c->state, &g), 0);
	g.proto = IPPROTO_TCP;
	g.family = AF_INET6;
	assert_int_not_equal(OPS.open(c->state, &g), 0);
	g.family = AF_INET;
	g.nat_addr.family = AF_INET;
	assert_int_not_equal(OPS.open(c->state, &g), 0);
	/* a NAT form without a target (FORWARD_ALL): no NAT here, and
	 * nothing run for it (the engine never sends one: no CAP_NAT) */
	g.nat_addr.family = 0;
	g.nat_flags = SPA_NAT_FORWARD | SPA_NAT_FORWARD_ALL | SPA_NAT_NO_DNAT;
	{
		unsigned int calls = c->h.ncalls;
		assert_int_equal(OPS.open(c->state, &g), -EOPNOTSUPP);
		assert_int_equal(c->h.ncalls, calls);
	}
	g.nat_flags = 0;

	fake_host_set(&c->h, "IPFW_EXPIRE_SET_NUM", "1");
	assert_int_not_equal(OPS.init(&c->h.api, &st), 0);
	c->h.values[c->h.nkeys - 1] = "2";
	fake_host_set(&c->h, "IPFW_EXE", "ipfw");
	assert_int_not_equal(OPS.init(&c->h.api, &st), 0);
	c->h.values[c->h.nkeys - 1] = "/sbin/ipfw";
	fake_host_set(&c->h, "IPFW_START_RULE_NUM", "65000");
	assert_int_not_equal(OPS.init(&c->h.api, &st), 0);
	c->h.values[c->h.nkeys - 1] = "-1";
	assert_int_not_equal(OPS.init(&c->h.api, &st), 0);
	assert_null(st);
}

static void test_full_range(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.4", IPPROTO_TCP, 22, EXP1);

	fake_host_set(&c->h, "IPFW_MAX_RULES", "3");
	fake_host_reply(&c->h, "ipfw", list_one, 0);
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(OPS.open(c->state, &g), -ENOSPC);
	assert_int_equal(fake_host_find(&c->h, "/sbin/ipfw add 1"), -1);
}

/* The same cycle through a real executable: the recorder prints the
 * listing the test put in place for each set. */
static const char ipfw_respond[] =
	"case \"$*\" in\n"
	"  \"set \"*\" list\") cat \"$d/set$2\" 2>/dev/null ;;\n"
	"  \"-d set \"*\" list\") cat \"$d/set$3\" \"$d/dyn$3\" 2>/dev/null ;;\n"
	"esac\n";

static void test_recording_exe(void **tstate)
{
	struct recording rec;
	struct exec_host h;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", IPPROTO_TCP, 22, EXP1);
	struct spa_grant g6 = make_grant(AF_INET6, "2001:db8::2", IPPROTO_TCP, 22, EXP1);
	void *st = NULL;

	(void)tstate;
	assert_int_equal(recording_init(&rec, "ipfw", ipfw_respond), 0);
	exec_host_init(&h);
	fake_host_set(&h.fake, "IPFW_EXE", rec.exe);
	fake_host_set(&h.fake, "IPFW_START_RULE_NUM", "100");
	fake_host_set(&h.fake, "IPFW_MAX_RULES", "10");
	fake_host_set(&h.fake, "IPFW_EXPIRE_PURGE_INTERVAL", "0");
	assert_int_equal(OPS.init(&h.fake.api, &st), 0);
	/* rule 100 is taken in the expire set and still has a state; 101 has
	 * none and is purged */
	assert_int_equal(recording_put(&rec, "set2",
				       "00100 allow tcp from 203.0.113.9 to me dst-port 22 // _exp_5\n"
				       "00101 allow tcp from 203.0.113.8 to me dst-port 22 // _exp_5\n"), 0);
	assert_int_equal(recording_put(&rec, "dyn2", "## Dynamic rules:\n"
				       "00100 2 120 (1s) STATE tcp 203.0.113.9 1234 <-> 198.51.100.1 22\n"), 0);
	assert_int_equal(OPS.open(st, &g), 0);
	assert_int_equal(recording_put(&rec, "set1", "00102 allow tcp from 198.51.100.2 to me dst-port 22 "
				       "setup keep-state // _exp_1800000000\n"), 0);
	assert_int_equal(OPS.open(st, &g), 0); /* re-knock: no duplicate */
	assert_int_equal(OPS.open(st, &g6), 0);
	assert_int_equal(OPS.close(st, &g), 0);
	assert_int_equal(OPS.flush(st), 0);
	OPS.fini(st);
	assert_int_equal(h.fake.nerrors, 0);
	exec_host_free(&h);
	assert_int_equal(recording_check(&rec, SPA_GOLDEN_DIR, "recording.txt"), 0);
	recording_free(&rec);
}

static void test_check(void **tstate)
{
	struct spa_grant probe = fake_host_probe("access.conf:2");
	struct plugin_case *c = plugin_case_new();

	(void)tstate;
	fake_host_set(&c->h, "IPFW_START_RULE_NUM", "20000");
	fake_host_set(&c->h, "IPFW_ADD_CHECK_STATE", "Y");
	assert_int_equal(OPS.check(&c->h.api, NULL), 0);
	assert_int_equal(OPS.check(&c->h.api, &probe), 0);
	assert_int_equal(c->h.ncalls, 0);
	assert_int_equal(c->h.nerrors, 0);
	plugin_case_teardown((void **)&c);
	assert_int_equal(plugin_case_check_refused("IPFW_START_RULE_NUM", "0", "1..65534"), 0);
	assert_int_equal(plugin_case_check_refused("IPFW_MAX_RULES", "65000x", "IPFW_MAX_RULES"), 0);
	assert_int_equal(plugin_case_check_refused("IPFW_START_RULE_NUM", "65000", "goes past"), 0);
	assert_int_equal(plugin_case_check_refused("IPFW_EXPIRE_SET_NUM", "1", "must differ"), 0);
	assert_int_equal(plugin_case_check_refused("IPFW_ADD_CHECK_STATE", "sure", "Y or N"), 0);
	assert_int_equal(plugin_case_check_refused("IPFW_EXE", "ipfw", "absolute"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptor),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_open_fresh, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_reknock, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_close_flush, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_hostile, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_bad, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_full_range, setup, plugin_case_teardown),
		cmocka_unit_test(test_recording_exe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
