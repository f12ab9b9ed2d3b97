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
#include <sys/stat.h>
#include <unistd.h>

#include "exec_host.h"
#include "fake_host.h"
#include "golden.h"
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

struct ctx {
	struct fake_host h;
	void *state;
};

static int setup(void **tstate)
{
	struct ctx *c = calloc(1, sizeof(*c));

	fake_host_init(&c->h);
	fake_host_set(&c->h, "IPFW_ADD_CHECK_STATE", "Y");
	fake_host_set(&c->h, "IPFW_EXPIRE_PURGE_INTERVAL", "3600");
	fake_host_reply(&c->h, "ipfw", "", 0);
	*tstate = c;
	return 0;
}

static int teardown(void **tstate)
{
	struct ctx *c = *tstate;

	if (c->state)
		OPS.fini(c->state);
	fake_host_free(&c->h);
	free(c);
	return 0;
}

static void check_golden(struct fake_host *h, const char *name)
{
	struct spa_pu_buf t;

	spa_pu_buf_init(&t);
	assert_int_equal(golden_transcript(h, &t), 0);
	assert_int_equal(golden_check(SPA_GOLDEN_DIR, name, t.data ? t.data : ""), 0);
	spa_pu_buf_free(&t);
	fake_host_reset_calls(h);
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
	assert_int_equal(r.proto, 6);
	assert_string_equal(r.src, "198.51.100.2");
	assert_string_equal(r.dst, "me");
	assert_int_equal(r.dport, 22);
	assert_int_equal(r.expires, EXP1);
	/* the form ipfw prints: names, "set N", port right after the address */
	assert_int_equal(spa_ipfw_parse_line("00100 set 1 allow udp from 2001:db8::2 to me6 53 "
					     "keep-state :default // _exp_7", &r), 0);
	assert_int_equal(r.num, 100);
	assert_int_equal(r.proto, 17);
	assert_string_equal(r.src, "2001:db8::2");
	assert_int_equal(r.dport, 53);
	assert_int_equal(r.expires, 7);
	assert_int_equal(spa_ipfw_parse_line("00100 allow tcp from any to me // _exp_9 x", &r), 0);
	assert_int_equal(r.expires, -1);
	assert_int_equal(spa_ipfw_parse_line("00100 check-state", &r), 0);
	assert_true(r.check_state);
	{
		/* a line too long to model still reports its number */
		char longline[300];

		snprintf(longline, sizeof(longline), "00200 allow tcp from any to me // %0120d _exp_5", 7);
		assert_int_equal(spa_ipfw_parse_line(longline, &r), 0);
		assert_int_equal(r.num, 200);
		assert_int_equal(r.expires, -1);
	}
	assert_int_not_equal(spa_ipfw_parse_line("## Dynamic rules", &r), 0);
	assert_int_not_equal(spa_ipfw_parse_line("abc allow tcp", &r), 0);
	assert_int_not_equal(spa_ipfw_parse_line("70000 allow tcp", &r), 0);
}

static void test_open_fresh(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", IPPROTO_TCP, 22, EXP1);

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.nerrors, 0);
	check_golden(&c->h, "open.txt");
}

static void test_reknock(void **tstate)
{
	struct ctx *c = *tstate;
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
	struct ctx *c = *tstate;
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

struct seen {
	char text[8][128];
	unsigned int n;
};

static void on_grant(void *ctx, const struct spa_grant *g)
{
	struct seen *s = ctx;

	if (s->n < 8)
		snprintf(s->text[s->n++], sizeof(s->text[0]), "%s %u/%u %lld", g->src.text,
			 g->proto, g->port, (long long)g->expires);
}

static void test_list(void **tstate)
{
	struct ctx *c = *tstate;
	struct seen s = { .n = 0 };

	fake_host_reply(&c->h, "ipfw", list_one, 0);
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(OPS.list(c->state, on_grant, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.text[0], "198.51.100.2 6/22 1800000000");
	assert_string_equal(s.text[1], "198.51.100.3 17/53 1800000009");
}

static void test_ipv6_hostile(void **tstate)
{
	struct ctx *c = *tstate;
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
	struct ctx *c = *tstate;
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
	struct ctx *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.4", IPPROTO_TCP, 22, EXP1);

	fake_host_set(&c->h, "IPFW_MAX_RULES", "3");
	fake_host_reply(&c->h, "ipfw", list_one, 0);
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(OPS.open(c->state, &g), -ENOSPC);
	assert_int_equal(fake_host_find(&c->h, "/sbin/ipfw add 1"), -1);
}

/* The same cycle through a real executable: a script that records its
 * argv and prints the listing the test put in place for each set. */
static const char recorder[] =
	"#!/bin/sh\n"
	"PATH=/usr/bin:/bin\n"
	"d=$(dirname \"$0\")\n"
	"{ printf 'ipfw'; for a in \"$@\"; do printf ' %s' \"$a\"; done; printf '\\n'; } >> \"$d/transcript\"\n"
	"case \"$*\" in\n"
	"  \"set \"*\" list\") cat \"$d/set$2\" 2>/dev/null ;;\n"
	"  \"-d set \"*\" list\") cat \"$d/set$3\" \"$d/dyn$3\" 2>/dev/null ;;\n"
	"esac\n"
	"exit 0\n";

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_recording_exe(void **tstate)
{
	char dir[] = "/tmp/spa-ipfw-test.XXXXXX";
	char exe[600], path[600];
	struct exec_host h;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", IPPROTO_TCP, 22, EXP1);
	struct spa_grant g6 = make_grant(AF_INET6, "2001:db8::2", IPPROTO_TCP, 22, EXP1);
	void *st = NULL;
	char *got;

	(void)tstate;
	assert_non_null(mkdtemp(dir));
	snprintf(exe, sizeof(exe), "%s/ipfw", dir);
	put_file(dir, "ipfw", recorder);
	assert_int_equal(chmod(exe, 0700), 0);
	exec_host_init(&h);
	exec_host_set(&h, "IPFW_EXE", exe);
	exec_host_set(&h, "IPFW_START_RULE_NUM", "100");
	exec_host_set(&h, "IPFW_MAX_RULES", "10");
	exec_host_set(&h, "IPFW_EXPIRE_PURGE_INTERVAL", "0");
	assert_int_equal(OPS.init(&h.api, &st), 0);
	/* rule 100 is taken in the expire set and still has a state; 101 has
	 * none and is purged */
	put_file(dir, "set2", "00100 allow tcp from 203.0.113.9 to me dst-port 22 // _exp_5\n"
			      "00101 allow tcp from 203.0.113.8 to me dst-port 22 // _exp_5\n");
	put_file(dir, "dyn2", "## Dynamic rules:\n"
			      "00100 2 120 (1s) STATE tcp 203.0.113.9 1234 <-> 198.51.100.1 22\n");
	assert_int_equal(OPS.open(st, &g), 0);
	put_file(dir, "set1", "00102 allow tcp from 198.51.100.2 to me dst-port 22 setup keep-state // _exp_1800000000\n");
	assert_int_equal(OPS.open(st, &g), 0); /* re-knock: no duplicate */
	assert_int_equal(OPS.open(st, &g6), 0);
	assert_int_equal(OPS.close(st, &g), 0);
	assert_int_equal(OPS.flush(st), 0);
	OPS.fini(st);
	assert_int_equal(h.nerrors, 0);
	exec_host_free(&h);

	snprintf(path, sizeof(path), "%s/transcript", dir);
	got = golden_slurp(path);
	assert_non_null(got);
	/* the temp dir differs per run */
	for (char *p; (p = strstr(got, dir));)
		memmove(p + 1, p + strlen(dir), strlen(p + strlen(dir)) + 1), p[0] = '.';
	assert_int_equal(golden_check(SPA_GOLDEN_DIR, "recording.txt", got), 0);
	free(got);
	for (const char *n = "ipfw\0set1\0set2\0dyn2\0transcript\0"; *n; n += strlen(n) + 1) {
		snprintf(path, sizeof(path), "%s/%s", dir, n);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptor),
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_open_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reknock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_range, setup, teardown),
		cmocka_unit_test(test_recording_exe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
