/* SPDX-License-Identifier: MIT */
/* NAT grants (ABI 1.5) of the iptables plugin, against a fake host: the
 * exact restore text of each form, the chains made when first needed,
 * close and re-knock from memory and from iptables-save, the listing
 * merging a grant's rules into one grant, and the forms refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipt_case.h"

/* the whole grant in every rule's comment: forward + SNAT */
#define MARK "-m comment --comment _exp_1800000000_tcp_5555_fs_t198-51-100-10_p22_s198-51-100-5"
#define FWD_RULE "-s 203.0.113.2/32 -d 198.51.100.10/32 -p tcp -m tcp --dport 22 " MARK " -j ACCEPT"
#define DNAT_RULE "-s 203.0.113.2/32 -p tcp -m tcp --dport 5555 " MARK \
	" -j DNAT --to-destination 198.51.100.10:22"
#define SNAT_RULE "-s 203.0.113.2/32 -d 198.51.100.10/32 -p tcp -m tcp --dport 22 " MARK \
	" -j SNAT --to-source 198.51.100.5"
/* forward + MASQUERADE, the same source and port */
#define MARK_M "-m comment --comment _exp_1800000000_tcp_5555_fm_t198-51-100-10_p22"

static void set_addr(struct spa_grant_addr *a, int af, const char *text)
{
	memset(a, 0, sizeof(*a));
	a->family = af;
	assert_int_equal(inet_pton(af, text, &a->bin), 1);
	/* as fake_host_grant: the plugin must use the binary form */
	snprintf(a->text, sizeof(a->text), "poison");
}

static struct spa_grant nat_grant(uint32_t flags, const char *to, unsigned int to_port,
				  const char *snat)
{
	struct spa_grant g = ipt_grant(AF_INET, "203.0.113.2", NULL, 6, 5555, 1800000000);

	g.nat_flags = flags;
	if (to)
		set_addr(&g.nat_addr, AF_INET, to);
	g.nat_port = (uint16_t)to_port;
	if (snat)
		set_addr(&g.snat_addr, AF_INET, snat);
	return g;
}

static void test_forward_snat_open_close(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = nat_grant(SPA_NAT_FORWARD | SPA_NAT_SNAT, "198.51.100.10", 22,
				       "198.51.100.5");

	ipt_init_with(c, ipt_save_empty);
	assert_true(spa_plugin_descriptor.capabilities & SPA_PLUGIN_CAP_NAT);
	/* the NAT chains are made by the first grant needing them; INPUT is
	 * not touched (not even checked) */
	assert_int_equal(OPS.open(c->state, &g), 0);
	ipt_expect_one_batch(c, "*filter\n-N FWKNOP_FORWARD\n-I FORWARD 1 -j FWKNOP_FORWARD\n"
				"-A FWKNOP_FORWARD " FWD_RULE "\nCOMMIT\n"
				"*nat\n-N FWKNOP_PREROUTING\n-I PREROUTING 1 -j FWKNOP_PREROUTING\n"
				"-A FWKNOP_PREROUTING " DNAT_RULE "\n"
				"-N FWKNOP_POSTROUTING\n-I POSTROUTING 1 -j FWKNOP_POSTROUTING\n"
				"-A FWKNOP_POSTROUTING " SNAT_RULE "\nCOMMIT\n");
	/* a refresh replaces each of its rules */
	fake_host_reset_calls(&c->h);
	g.expires = 1800000060;
	assert_int_equal(OPS.refresh(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 1);
	assert_non_null(strstr(c->h.calls[0].file, "-D FWKNOP_FORWARD " FWD_RULE "\n-A FWKNOP_FORWARD "
						    "-s 203.0.113.2/32 -d 198.51.100.10/32 -p tcp -m tcp --dport 22 "
						    "-m comment --comment _exp_1800000060_tcp_5555_fs"));
	assert_non_null(strstr(c->h.calls[0].file, "-D FWKNOP_PREROUTING " DNAT_RULE "\n"));
	assert_non_null(strstr(c->h.calls[0].file, "-D FWKNOP_POSTROUTING " SNAT_RULE "\n"));
	/* a close deletes every rule of the grant */
	fake_host_reset_calls(&c->h);
	g.expires = 1800000000;
	assert_int_equal(OPS.refresh(c->state, &g), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.close(c->state, &g), 0);
	ipt_expect_one_batch(c, "*filter\n-D FWKNOP_FORWARD " FWD_RULE "\nCOMMIT\n"
				"*nat\n-D FWKNOP_PREROUTING " DNAT_RULE "\n"
				"-D FWKNOP_POSTROUTING " SNAT_RULE "\nCOMMIT\n");
	assert_int_equal(c->h.nerrors, 0);
}

static const char save_nat[] =
	"*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
	":FWKNOP_PREROUTING - [0:0]\n:FWKNOP_POSTROUTING - [0:0]\n"
	"-A PREROUTING -j FWKNOP_PREROUTING\n-A POSTROUTING -j FWKNOP_POSTROUTING\n"
	"-A FWKNOP_PREROUTING " DNAT_RULE "\n"
	"-A FWKNOP_POSTROUTING " SNAT_RULE "\n"
	/* not ours to the letter: an extra match */
	"-A FWKNOP_PREROUTING -s 203.0.113.9/32 -i eth0 -p tcp -m tcp --dport 5555 " MARK
	" -j DNAT --to-destination 198.51.100.10:22\n"
	"COMMIT\n"
	"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n"
	":FWKNOP_INPUT - [0:0]\n:FWKNOP_FORWARD - [0:0]\n"
	"-A INPUT -j FWKNOP_INPUT\n-A FORWARD -j FWKNOP_FORWARD\n"
	"-A FWKNOP_INPUT -s 203.0.113.3/32 -p tcp -m tcp --dport 22 -m comment --comment "
	"_exp_1700000000 -j ACCEPT\n"
	"-A FWKNOP_INPUT -s 203.0.113.4/32 -p udp -m udp --dport 53 -m comment --comment "
	"_exp_1700000001_udp_5353_l_t203-0-113-1_p53 -j ACCEPT\n"
	"-A FWKNOP_FORWARD " FWD_RULE "\n"
	"-A FWKNOP_FORWARD -s 203.0.113.5/32 -m comment --comment _exp_1700000002_tcp_1_fan_d198-51-100-1 -j ACCEPT\n"
	/* a comment that does not say what the rule is */
	"-A FWKNOP_FORWARD -s 203.0.113.6/32 -m comment --comment _exp_1700000002_tcp_1_f_t198-51-100-1 -j ACCEPT\n"
	"COMMIT\n";

static const struct spa_grant *find(const struct fake_listed *acc, const char *src)
{
	for (unsigned int i = 0; i < acc->n; i++)
		if (strcmp(acc->g[i].src.text, src) == 0)
			return &acc->g[i];
	fail_msg("%s not listed", src);
	return NULL;
}

static void test_list_merges_a_grant(void **tstate)
{
	struct ctx *c = *tstate;
	struct fake_listed acc = { 0 };
	const struct spa_grant *g;

	ipt_init_with(c, ipt_save_empty);
	fake_host_reply(&c->h, "tables-save", save_nat, 0);
	assert_int_equal(OPS.list(c->state, fake_host_collect, &acc), 0);
	/* the plain grant, and one each for the NAT grants (a local grant's
	 * INPUT rule alone, a forward-all rule alone); the rule with -i and
	 * the one its comment does not describe are not ours; IPv4 text in
	 * the IPv6 pass is skipped */
	assert_int_equal(acc.n, 4);
	g = find(&acc, "203.0.113.3");
	assert_int_equal(g->nat_flags, 0);
	g = find(&acc, "203.0.113.2");
	assert_int_equal(g->nat_flags, SPA_NAT_FORWARD | SPA_NAT_SNAT);
	assert_int_equal(g->proto, 6);
	assert_int_equal(g->port, 5555);
	assert_int_equal(g->expires, 1800000000);
	assert_string_equal(g->nat_addr.text, "198.51.100.10");
	assert_int_equal(g->nat_port, 22);
	assert_string_equal(g->snat_addr.text, "198.51.100.5");
	assert_int_equal(g->dst.family, 0);
	g = find(&acc, "203.0.113.4");
	assert_int_equal(g->nat_flags, SPA_NAT_LOCAL);
	assert_int_equal(g->proto, 17);
	assert_int_equal(g->port, 5353);
	assert_int_equal(g->nat_port, 53);
	assert_string_equal(g->nat_addr.text, "203.0.113.1");
	g = find(&acc, "203.0.113.5");
	assert_int_equal(g->nat_flags, SPA_NAT_FORWARD | SPA_NAT_FORWARD_ALL | SPA_NAT_NO_DNAT);
	assert_int_equal(g->port, 1);
	assert_string_equal(g->dst.text, "198.51.100.1");
}

static void test_close_from_save(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = nat_grant(SPA_NAT_FORWARD | SPA_NAT_SNAT, "198.51.100.10", 22,
				       "198.51.100.5");
	struct spa_grant re = nat_grant(SPA_NAT_FORWARD | SPA_NAT_MASQUERADE, "198.51.100.10", 22,
					NULL);

	/* a restart: the view comes from iptables-save, and the rules are
	 * written again from it, to the letter */
	ipt_init_with(c, save_nat);
	assert_int_equal(OPS.close(c->state, &g), 0);
	ipt_expect_one_batch(c, "*filter\n-D FWKNOP_FORWARD " FWD_RULE "\nCOMMIT\n"
				"*nat\n-D FWKNOP_PREROUTING " DNAT_RULE "\n"
				"-D FWKNOP_POSTROUTING " SNAT_RULE "\nCOMMIT\n");
	/* another form for the same source and port is another grant (as
	 * the engine has it): its rules go beside the first one's */
	OPS.fini(c->state);
	c->state = NULL;
	ipt_init_with(c, save_nat);
	assert_int_equal(OPS.open(c->state, &re), 0);
	ipt_expect_one_batch(c, "*filter\n-C FORWARD -j FWKNOP_FORWARD\n"
				"-A FWKNOP_FORWARD -s 203.0.113.2/32 -d 198.51.100.10/32 -p tcp -m tcp "
				"--dport 22 " MARK_M " -j ACCEPT\nCOMMIT\n"
				"*nat\n-C PREROUTING -j FWKNOP_PREROUTING\n"
				"-A FWKNOP_PREROUTING -s 203.0.113.2/32 -p tcp -m tcp --dport 5555 " MARK_M
				" -j DNAT --to-destination 198.51.100.10:22\n"
				"-N FWKNOP_MASQUERADE\n-I POSTROUTING 1 -j FWKNOP_MASQUERADE\n"
				"-A FWKNOP_MASQUERADE -s 203.0.113.2/32 -d 198.51.100.10/32 -p tcp "
				"-m tcp --dport 22 " MARK_M " -j MASQUERADE\nCOMMIT\n");
}

static void test_local_all_ipv6(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant l = nat_grant(SPA_NAT_LOCAL, "203.0.113.1", 22, NULL);
	struct spa_grant a = nat_grant(SPA_NAT_FORWARD | SPA_NAT_FORWARD_ALL, "198.51.100.10", 0,
				       NULL);
	struct spa_grant v6 = ipt_grant(AF_INET6, "2001:db8::2", "2001:db8::1", 17, 53, 1800000000);

	ipt_init_with(c, ipt_save_empty);
	assert_int_equal(OPS.open(c->state, &l), 0);
#define MARK_L "-m comment --comment _exp_1800000000_tcp_5555_l_t203-0-113-1_p22"
	ipt_expect_one_batch(c, CHECK_JUMP "-A FWKNOP_INPUT -s 203.0.113.2/32 -p tcp -m tcp "
				"--dport 22 " MARK_L " -j ACCEPT\nCOMMIT\n"
				"*nat\n-N FWKNOP_PREROUTING\n-I PREROUTING 1 -j FWKNOP_PREROUTING\n"
				"-A FWKNOP_PREROUTING -s 203.0.113.2/32 -p tcp -m tcp --dport 5555 " MARK_L
				" -j DNAT --to-destination 203.0.113.1:22\nCOMMIT\n");
	fake_host_reset_calls(&c->h);
	a.src.bin.v4.s_addr = htonl(0xcb007103); /* 203.0.113.3 */
	assert_int_equal(OPS.open(c->state, &a), 0);
	ipt_expect_one_batch(c, "*filter\n-N FWKNOP_FORWARD\n-I FORWARD 1 -j FWKNOP_FORWARD\n"
#define MARK_A "-m comment --comment _exp_1800000000_tcp_5555_fa_t198-51-100-10"
				"-A FWKNOP_FORWARD -s 203.0.113.3/32 " MARK_A " -j ACCEPT\nCOMMIT\n"
				"*nat\n-C PREROUTING -j FWKNOP_PREROUTING\n"
				"-A FWKNOP_PREROUTING -s 203.0.113.3/32 " MARK_A
				" -j DNAT --to-destination 198.51.100.10\nCOMMIT\n");
	fake_host_reset_calls(&c->h);
	v6.nat_flags = SPA_NAT_FORWARD;
	set_addr(&v6.nat_addr, AF_INET6, "2001:db8:1::10");
	v6.nat_port = 5353;
	assert_int_equal(OPS.open(c->state, &v6), 0);
	assert_int_equal(c->h.ncalls, 1);
	ipt_assert_call(c, 0, RESTORE6,
			"*filter\n-N FWKNOP_FORWARD\n-I FORWARD 1 -j FWKNOP_FORWARD\n"
			"-A FWKNOP_FORWARD -s 2001:db8::2/128 -d 2001:db8:1::10/128 -p udp -m udp "
			"--dport 5353 -m comment --comment _exp_1800000000_udp_53_f_d2001-db8--1_t2001-db8-1--10_p5353 -j ACCEPT\n"
			"COMMIT\n*nat\n-N FWKNOP_PREROUTING\n-I PREROUTING 1 -j FWKNOP_PREROUTING\n"
			"-A FWKNOP_PREROUTING -s 2001:db8::2/128 -d 2001:db8::1/128 -p udp -m udp "
			"--dport 53 -m comment --comment _exp_1800000000_udp_53_f_d2001-db8--1_t2001-db8-1--10_p5353 -j DNAT "
			"--to-destination [2001:db8:1::10]:5353\nCOMMIT\n");
}

/* The longest comment: IPv6 addresses in full for all three and SNAT;
 * still under xt_comment's 255 characters, and read back whole. */
static void test_longest_comment(void **tstate)
{
	struct ctx *c = *tstate;
	struct fake_listed acc = { 0 };
	struct spa_grant g = ipt_grant(AF_INET6, "2001:db8:1111:2222:3333:4444:5555:6666",
				       "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", 17, 65535,
				       1800000000);
	const char *in;

	ipt_init_with(c, ipt_save_empty);
	g.nat_flags = SPA_NAT_FORWARD | SPA_NAT_SNAT;
	set_addr(&g.nat_addr, AF_INET6, "2001:db8:9999:8888:7777:6666:5555:4444");
	g.nat_port = 65535;
	set_addr(&g.snat_addr, AF_INET6, "2001:db8:1234:5678:9abc:def0:1234:5678");
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 1);
	in = c->h.calls[0].file;
	assert_non_null(strstr(in, "--comment _exp_1800000000_udp_65535_fs_d2001-db8-aaaa-bbbb-cccc-dddd-"
				   "eeee-ffff_t2001-db8-9999-8888-7777-6666-5555-4444_p65535_s2001-db8-"
				   "1234-5678-9abc-def0-1234-5678 -j SNAT"));
	/* its "-A" lines, as iptables-save would show them, list the grant */
	fake_host_reply(&c->h, "tables-save", strstr(in, "*filter"), 0);
	assert_int_equal(OPS.list(c->state, fake_host_collect, &acc), 0);
	assert_int_equal(acc.n, 1);
	assert_int_equal(acc.g[0].nat_flags, SPA_NAT_FORWARD | SPA_NAT_SNAT);
	assert_string_equal(acc.g[0].snat_addr.text, "2001:db8:1234:5678:9abc:def0:1234:5678");
	assert_int_equal(acc.g[0].port, 65535);
}

static void test_refused_forms(void **tstate)
{
	struct ctx *c = *tstate;
	struct {
		struct spa_grant g;
		const char *why;
	} bad[] = {
		{ nat_grant(SPA_NAT_FORWARD | SPA_NAT_SNAT, "198.51.100.10", 22, NULL), "SNAT without" },
		{ nat_grant(SPA_NAT_FORWARD, NULL, 22, NULL), "needs the NAT address" },
		{ nat_grant(SPA_NAT_LOCAL, "203.0.113.1", 0, NULL), "local NAT needs" },
		{ nat_grant(SPA_NAT_LOCAL | SPA_NAT_FORWARD, "203.0.113.1", 22, NULL), "either" },
		{ nat_grant(SPA_NAT_FORWARD | SPA_NAT_SNAT | SPA_NAT_MASQUERADE, "198.51.100.10", 22,
			    "198.51.100.5"), "both" },
		{ nat_grant(1u << 20, "198.51.100.10", 22, NULL), "unknown" },
	};

	ipt_init_with(c, ipt_save_empty);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c->nfails = 0;
		assert_int_equal(OPS.open(c->state, &bad[i].g), SPA_ERR_PERMANENT);
		assert_int_equal(c->nfails, 1);
		assert_int_equal(c->fail_kind[0], SPA_FAIL_PERMANENT);
		assert_non_null(strstr(c->fail_msg[0], "NAT grant for 203.0.113.2: "));
		assert_non_null(strstr(c->fail_msg[0], bad[i].why));
	}
	assert_int_equal(c->h.ncalls, 0);
}

/* A 1.4 engine's grant ends before nat_flags: a plain grant. */
static void test_engine_1_4_grant(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = nat_grant(SPA_NAT_FORWARD, "198.51.100.10", 22, NULL);

	ipt_init_with(c, ipt_save_empty);
	g.struct_size = (uint32_t)offsetof(struct spa_grant, nat_flags);
	assert_int_equal(OPS.open(c->state, &g), 0);
	ipt_expect_one_batch(c, CHECK_JUMP "-A FWKNOP_INPUT -s 203.0.113.2/32 -p tcp -m tcp "
				"--dport 5555 -m comment --comment _exp_1800000000 -j ACCEPT\nCOMMIT\n");
}

static void test_nat_chain_config(void **tstate)
{
	struct spa_ipt_chain ch;
	const char *why = NULL;

	(void)tstate;
	assert_int_equal(spa_ipt_parse_access("DNAT, nat, PREROUTING, 1, MY_PRE, 1", SPA_IPT_DNAT,
					      &ch, NULL), 0);
	assert_int_not_equal(spa_ipt_parse_access("ACCEPT, nat, PREROUTING, 1, MY_PRE, 1",
						  SPA_IPT_DNAT, &ch, &why), 0);
	assert_string_equal(why, "target and table must be DNAT, nat");
	assert_int_not_equal(spa_ipt_parse_access("SNAT, filter, POSTROUTING, 1, X, 1", SPA_IPT_SNAT,
						  &ch, NULL), 0);
	assert_int_equal(spa_ipt_parse_access("MASQUERADE, nat, POSTROUTING, 2, X, 1", SPA_IPT_MASQ,
					      &ch, NULL), 0);
	assert_int_equal(spa_ipt_parse_access("ACCEPT, filter, FORWARD, 1, X, 1", SPA_IPT_FWD, &ch,
					      NULL), 0);
}

static void test_same_chain_refused(void **tstate)
{
	struct ctx *c = *tstate;

	fake_host_set(&c->h, "IPT_MASQUERADE_ACCESS",
		      "MASQUERADE, nat, POSTROUTING, 1, FWKNOP_POSTROUTING, 1");
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_true(c->h.nerrors > 0);
	assert_non_null(strstr(c->h.last_err, "name the same chain"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nat_chain_config),
		cmocka_unit_test_setup_teardown(test_forward_snat_open_close, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_list_merges_a_grant, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_close_from_save, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_local_all_ipv6, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_longest_comment, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_refused_forms, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_engine_1_4_grant, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_same_chain_refused, ipt_case_setup, ipt_case_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
