/* SPDX-License-Identifier: MIT */
/* Command transcripts of the pf plugin: fake host and recording script. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec_host.h"
#include "fake_host.h"
#include "golden.h"
#include "plugin_case.h"
#include "recording.h"
#include "spa_pf.h"

extern const struct spa_plugin_descriptor spa_plugin_descriptor;
#define OPS (spa_plugin_descriptor.ops)

#define EXP1 1800000000LL
#define EXP2 1800000100LL

/* as "pfctl -a fwknop -s rules" prints them */
static const char rules_two[] =
	"pass in quick inet proto tcp from 198.51.100.2 to any port = 22 flags S/SA keep state label \"_exp_1800000000\"\n"
	"pass in quick inet6 proto udp from 2001:db8::2 to any port = 53 keep state label \"_exp_1800000009\"\n";

static const char anchors[] = "  fwknop\n  other\n";

static struct spa_grant make_grant(int af, const char *src, int proto, int port, int64_t expires)
{
	return fake_host_grant(af, src, NULL, proto, port, 30, expires,
			       "1.2.3.4\npass in all");
}

static int setup(void **tstate)
{
	struct plugin_case *c = plugin_case_new();

	fake_host_reply(&c->h, "pfctl", anchors, 0);
	*tstate = c;
	return 0;
}

static void check_golden(struct fake_host *h, const char *name)
{
	assert_int_equal(golden_check_calls(h, SPA_GOLDEN_DIR, name), 0);
}

static void init_with(struct plugin_case *c, const char *rules)
{
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reply(&c->h, "pfctl", rules, 0);
}

static void test_descriptor(void **tstate)
{
	(void)tstate;
	assert_int_equal(spa_plugin_descriptor.magic, SPA_PLUGIN_MAGIC);
	assert_int_equal(spa_plugin_descriptor.struct_size, sizeof(struct spa_plugin_descriptor));
	assert_string_equal(spa_plugin_descriptor.name, "pf");
	assert_true(spa_plugin_descriptor.capabilities & SPA_PLUGIN_CAP_IPV6);
	/* both of its keys reach it through the engine's prefix filter */
	assert_int_equal(strncmp("PFCTL_EXE", spa_plugin_descriptor.key_prefix,
				 strlen(spa_plugin_descriptor.key_prefix)), 0);
	assert_int_equal(strncmp("PF_ANCHOR_NAME", spa_plugin_descriptor.key_prefix,
				 strlen(spa_plugin_descriptor.key_prefix)), 0);
}

static void test_parse(void **tstate)
{
	struct spa_pu_rule r;
	struct spa_grant g;

	(void)tstate;
	assert_int_equal(spa_pf_parse_line("pass in quick inet proto tcp from 198.51.100.2 to any "
					   "port = 22 flags S/SA keep state label \"_exp_1800000000\"", &r), 0);
	assert_int_equal(r.proto, 6);
	assert_string_equal(r.src, "198.51.100.2");
	assert_string_equal(r.dst, "any");
	assert_int_equal(r.port, 22);
	assert_int_equal(r.expires, EXP1);
	assert_int_equal(spa_pf_parse_line("pass in quick proto 17 from 2001:db8::2 to any port 53 "
					   "keep state label _exp_12", &r), 0);
	assert_int_equal(r.proto, 17);
	assert_int_equal(r.port, 53);
	assert_int_equal(r.expires, 12);
	assert_int_equal(spa_pu_rule_to_grant(&r, &g, spa_pf_local), 0);
	assert_string_equal(g.src.text, "2001:db8::2");
	assert_int_equal(g.dst.family, 0);
	assert_int_equal(spa_pf_parse_line("pass in all label \"admin\"", &r), 0);
	assert_int_equal(r.expires, -1);
	assert_int_not_equal(spa_pu_rule_to_grant(&r, &g, spa_pf_local), 0);
	assert_int_equal(spa_pf_parse_line("pass in proto tcp from 198.51.100.2 to any port 22 "
					   "label \"_exp_1x\"", &r), 0);
	assert_int_equal(r.expires, -1);
	assert_int_not_equal(spa_pf_parse_line("block in all", &r), 0);
	assert_true(spa_pf_valid_anchor("fwknop"));
	assert_true(spa_pf_valid_anchor("outer/fwknop"));
	assert_false(spa_pf_valid_anchor("-F"));
	assert_false(spa_pf_valid_anchor("a b"));
	assert_false(spa_pf_valid_anchor(""));
	assert_true(spa_pf_anchor_listed(anchors, "fwknop"));
	assert_false(spa_pf_anchor_listed(anchors, "fwkno"));
}

static void test_open_fresh(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", IPPROTO_TCP, 22, EXP1);

	init_with(c, "");
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.nerrors, 0);
	check_golden(&c->h, "open.txt");
}

static void test_reknock(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant later = make_grant(AF_INET, "198.51.100.2", IPPROTO_TCP, 22, EXP2);

	init_with(c, rules_two);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.refresh(c->state, &later), 0);
	/* exactly one rule for 198.51.100.2: the old one was replaced */
	assert_int_equal(c->h.ncalls, 2);
	assert_string_equal(c->h.calls[1].argv, "/sbin/pfctl -a fwknop -f -");
	assert_true(c->h.calls[1].from_stdin);
	assert_non_null(c->h.calls[1].file);
	assert_null(strstr(c->h.calls[1].file, "_exp_1800000000"));
	check_golden(&c->h, "reknock.txt");
}

static void test_close_flush(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", IPPROTO_TCP, 22, EXP1);
	struct spa_grant g6 = make_grant(AF_INET6, "2001:db8::2", IPPROTO_UDP, 53, EXP1);
	struct spa_grant absent = make_grant(AF_INET, "198.51.100.9", IPPROTO_TCP, 22, EXP1);

	init_with(c, rules_two);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.close(c->state, &g), 0);      /* reload without it */
	assert_int_equal(OPS.close(c->state, &absent), 0); /* nothing to do */
	fake_host_reply(&c->h, "pfctl", rules_two + strcspn(rules_two, "\n") + 1, 0);
	assert_int_equal(OPS.close(c->state, &g6), 0);     /* last one: -F all */
	assert_int_equal(OPS.flush(c->state), 0);
	check_golden(&c->h, "close_flush.txt");
}

static void test_list(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct fake_seen s = { .n = 0 };

	init_with(c, rules_two);
	assert_int_equal(OPS.list(c->state, fake_host_seen, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.text[0], "198.51.100.2 6/22 1800000000");
	assert_string_equal(s.text[1], "2001:db8::2 17/53 1800000009");
}

static void test_ipv6_hostile(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g6 = make_grant(AF_INET6, "2001:db8::2", IPPROTO_TCP, 22, EXP1);

	init_with(c, "");
	fake_host_reset_calls(&c->h);
	g6.dst.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &g6.dst.bin), 1);
	strcpy(g6.dst.text, "any\npass in all");
	assert_int_equal(OPS.open(c->state, &g6), 0);
	for (unsigned int i = 0; i < c->h.ncalls; i++) {
		assert_null(strstr(c->h.calls[i].argv, "pass in all"));
		if (c->h.calls[i].file)
			assert_null(strstr(c->h.calls[i].file, "pass in all"));
	}
	check_golden(&c->h, "ipv6_dst.txt");
}

static void test_bad(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", IPPROTO_TCP, 22, EXP1);
	void *st = NULL;

	init_with(c, "");
	g.proto = 1;
	assert_int_not_equal(OPS.open(c->state, &g), 0);
	g.proto = IPPROTO_TCP;
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

	/* anchor missing from "pfctl -s Anchor": a clear init failure */
	fake_host_reply(&c->h, "pfctl", "  other\n", 0);
	c->h.nerrors = 0;
	assert_int_not_equal(OPS.init(&c->h.api, &st), 0);
	assert_int_equal(c->h.nerrors, 1);
	fake_host_reply(&c->h, "pfctl", anchors, 0);
	fake_host_set(&c->h, "PF_ANCHOR_NAME", "-F");
	assert_int_not_equal(OPS.init(&c->h.api, &st), 0);
	c->h.values[c->h.nkeys - 1] = "other";
	fake_host_set(&c->h, "PFCTL_EXE", "pfctl");
	assert_int_not_equal(OPS.init(&c->h.api, &st), 0);
	assert_null(st);
}

/* A 1.0 engine has no run_input: the anchor is loaded from a private
 * temporary file instead, which is gone after the call. */
static void test_abi10(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", IPPROTO_TCP, 22, EXP1);
	const char *path;

	c->h.api.struct_size = (uint32_t)offsetof(struct spa_host_api, run_input);
	init_with(c, rules_two);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.refresh(c->state, &g), 0);
	assert_int_equal(c->h.nerrors, 0);
	assert_int_equal(c->h.ncalls, 2);
	assert_false(c->h.calls[1].from_stdin);
	assert_non_null(c->h.calls[1].file);
	path = strstr(c->h.calls[1].argv, "/tmp/spa-batch.");
	assert_non_null(path);
	assert_int_not_equal(access(path, F_OK), 0);
	check_golden(&c->h, "abi10.txt");
}

/* What the pfctl stand-in does: keep the anchor's rules in a file, so
 * that the cycle reads back what it loaded (from stdin, or from the file
 * a 1.0 engine's fallback names). */
static const char pfctl_respond[] =
	"case \"$*\" in\n"
	"  \"-s Anchor\") printf '  fwknop\\n' ;;\n"
	"  \"-a fwknop -s rules\") cat \"$d/rules\" 2>/dev/null ;;\n"
	"  \"-a fwknop -F all\") : > \"$d/rules\" ;;\n"
	"  \"-a fwknop -f -\") cp \"$d/stdin\" \"$d/rules\" ;;\n"
	"  \"-a fwknop -f /tmp/spa-batch.\"*) cp \"$4\" \"$d/rules\" ;;\n"
	"  *) exit 1 ;;\n"
	"esac\n";

static void recording_cycle(int abi10, const char *golden)
{
	struct recording rec;
	struct exec_host h;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", IPPROTO_TCP, 22, EXP1);
	struct spa_grant g2 = make_grant(AF_INET, "198.51.100.2", IPPROTO_TCP, 22, EXP2);
	struct spa_grant g6 = make_grant(AF_INET6, "2001:db8::2", IPPROTO_UDP, 53, EXP1);
	struct fake_seen s = { .n = 0 };
	void *st = NULL;

	assert_int_equal(recording_init(&rec, "pfctl", pfctl_respond), 0);
	exec_host_init(&h);
	if (abi10)
		h.fake.api.struct_size = (uint32_t)offsetof(struct spa_host_api, run_input);
	fake_host_set(&h.fake, "PFCTL_EXE", rec.exe);
	assert_int_equal(OPS.init(&h.fake.api, &st), 0);
	assert_int_equal(OPS.open(st, &g), 0);
	assert_int_equal(OPS.open(st, &g6), 0);
	assert_int_equal(OPS.refresh(st, &g2), 0); /* re-knock: replaced */
	assert_int_equal(OPS.list(st, fake_host_seen, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.text[0], "2001:db8::2 17/53 1800000000");
	assert_string_equal(s.text[1], "198.51.100.2 6/22 1800000100");
	assert_int_equal(OPS.close(st, &g2), 0);
	assert_int_equal(OPS.close(st, &g6), 0);  /* last one: -F all */
	assert_int_equal(OPS.open(st, &g), 0);
	assert_int_equal(OPS.flush(st), 0);
	OPS.fini(st);
	assert_int_equal(h.fake.nerrors, 0);
	exec_host_free(&h);
	assert_int_equal(recording_check(&rec, SPA_GOLDEN_DIR, golden), 0);
	recording_free(&rec);
}

static void test_recording_exe(void **tstate)
{
	(void)tstate;
	recording_cycle(0, "recording.txt");
}

static void test_recording_exe_abi10(void **tstate)
{
	(void)tstate;
	recording_cycle(1, "recording_abi10.txt");
}

static void test_check(void **tstate)
{
	struct spa_grant probe = fake_host_probe("access.conf:2");
	struct plugin_case *c = plugin_case_new();

	(void)tstate;
	fake_host_set(&c->h, "PF_ANCHOR_NAME", "spa/knock");
	assert_int_equal(OPS.check(&c->h.api, NULL), 0);
	assert_int_equal(OPS.check(&c->h.api, &probe), 0);
	assert_int_equal(c->h.ncalls, 0);
	assert_int_equal(c->h.nerrors, 0);
	plugin_case_teardown((void **)&c);
	assert_int_equal(plugin_case_check_refused("PF_ANCHOR_NAME", "-a x", "not a valid anchor"), 0);
	assert_int_equal(plugin_case_check_refused("PFCTL_EXE", "pfctl", "absolute"), 0);
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
		cmocka_unit_test_setup_teardown(test_abi10, setup, plugin_case_teardown),
		cmocka_unit_test(test_recording_exe),
		cmocka_unit_test(test_recording_exe_abi10),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
