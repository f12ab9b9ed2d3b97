/* SPDX-License-Identifier: MIT */
/* Command construction of the iptables plugin, against a fake host. */
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
#include "plugin_case.h"

static void test_descriptor(void **tstate)
{
	(void)tstate;
	assert_int_equal(spa_plugin_descriptor.magic, SPA_PLUGIN_MAGIC);
	assert_int_equal(spa_plugin_descriptor.abi_major, SPA_PLUGIN_ABI_MAJOR);
	assert_int_equal(spa_plugin_descriptor.struct_size, sizeof(struct spa_plugin_descriptor));
	assert_string_equal(spa_plugin_descriptor.name, "iptables");
	assert_true(spa_plugin_descriptor.capabilities & SPA_PLUGIN_CAP_IPV6);
}

static void test_parse_access(void **tstate)
{
	struct spa_ipt_chain c;

	(void)tstate;
	assert_int_equal(spa_ipt_parse_access("ACCEPT, filter, INPUT, 2, MY_CHAIN, 1",
					      SPA_IPT_IN, &c, NULL), 0);
	assert_string_equal(c.target, "ACCEPT");
	assert_string_equal(c.table, "filter");
	assert_string_equal(c.from, "INPUT");
	assert_int_equal(c.jump_pos, 2);
	assert_string_equal(c.to, "MY_CHAIN");
	/* five fields are fine too (the last position is unused) */
	assert_int_equal(spa_ipt_parse_access("ACCEPT,filter,INPUT,1,X", SPA_IPT_IN, &c, NULL), 0);
	assert_int_not_equal(spa_ipt_parse_access("ACCEPT, filter, INPUT, 1", SPA_IPT_IN, &c, NULL), 0);
	assert_int_not_equal(spa_ipt_parse_access("ACCEPT, filter, INPUT, 0, X, 1", SPA_IPT_IN, &c, NULL), 0);
	assert_int_not_equal(spa_ipt_parse_access("ACCEPT, filter, -F, 1, X, 1", SPA_IPT_IN, &c, NULL), 0);
	assert_int_not_equal(spa_ipt_parse_access("ACCEPT, filter, INPUT, 1, X Y, 1", SPA_IPT_IN, &c, NULL), 0);
	assert_int_not_equal(spa_ipt_parse_access("ACCEPT, filter, INPUT, 1, THIS_NAME_IS_FAR_TOO_LONG_XXX, 1",
						  SPA_IPT_IN, &c, NULL), 0);
	assert_int_not_equal(spa_ipt_parse_access("", SPA_IPT_IN, &c, NULL), 0);
}

static void test_rule_parse(void **tstate)
{
	struct spa_ipt_rule r;

	(void)tstate;
	assert_int_equal(spa_ipt_rule_parse("-A FWKNOP_INPUT -s 10.0.0.1/32 -p tcp -m tcp --dport 22 "
					    "-m comment --comment _exp_1795347991 -j ACCEPT", &r), 0);
	assert_string_equal(r.chain, "FWKNOP_INPUT");
	assert_string_equal(r.src, "10.0.0.1/32");
	assert_int_equal(r.proto, 6);
	assert_int_equal(r.dport, 22);
	assert_int_equal(r.expires, 1795347991);
	assert_string_equal(r.jump, "ACCEPT");
	assert_int_equal(r.nmatch_other, 0);
	/* a quoted comment with spaces is one token and no expiry */
	assert_int_equal(spa_ipt_rule_parse("-A INPUT -m comment --comment \"_exp_1 -j DROP\" -j ACCEPT", &r), 0);
	assert_int_equal(r.expires, -1);
	assert_string_equal(r.jump, "ACCEPT");
	assert_int_not_equal(r.nmatch_other, 0);
	assert_int_equal(spa_ipt_rule_parse("-A X -p tcp --dport 1000:2000 -j ACCEPT", &r), 0);
	assert_int_not_equal(r.nmatch_other, 0);
	assert_int_not_equal(spa_ipt_rule_parse(":INPUT ACCEPT [0:0]", &r), 0);
}

static void test_init_creates_chain(void **tstate)
{
	struct ctx *c = *tstate;

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(c->h.ncalls, 4);
	ipt_assert_call(c, 0, "/usr/sbin/iptables-save", NULL);
	/* the batch goes on stdin: no file name, nothing under /tmp */
	ipt_assert_call(c, 1, RESTORE4,
		    "*filter\n-N FWKNOP_INPUT\n-I INPUT 1 -j FWKNOP_INPUT\nCOMMIT\n");
	ipt_assert_call(c, 2, "/usr/sbin/ip6tables-save", NULL);
	ipt_assert_call(c, 3, "/usr/sbin/ip6tables-restore --noflush --wait=10", NULL);
	assert_int_equal(c->h.nerrors, 0);
}

static void test_init_fini_never_flush(void **tstate)
{
	struct ctx *c = *tstate;

	/* FLUSH_IPT_AT_* are the engine's to act on (ops.flush, daemon mode
	 * only): the plugin itself leaves a live ruleset alone even when they
	 * say Y, so a one-shot --fw-list cannot wipe a running daemon's grants. */
	fake_host_reply(&c->h, "tables-save", ipt_save_live, 0);
	fake_host_set(&c->h, "FLUSH_IPT_AT_INIT", "Y");
	fake_host_set(&c->h, "FLUSH_IPT_AT_EXIT", "Y");
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(fake_host_find(&c->h, "/usr/sbin/iptables-restore"), -1);
	OPS.fini(c->state);
	c->state = NULL;
	assert_int_equal(fake_host_find(&c->h, "/usr/sbin/iptables-restore"), -1);
	/* while an explicit flush still does the work */
	ipt_init_with(c, ipt_save_live);
	assert_int_equal(OPS.flush(c->state), 0);
	ipt_assert_call(c, 1, RESTORE4,
		    "*filter\n-D INPUT -j FWKNOP_INPUT\n-F FWKNOP_INPUT\n-X FWKNOP_INPUT\nCOMMIT\n");
}

static void test_open_fresh(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1800000000);

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	ipt_always_check(c);
	fake_host_reset_calls(&c->h);
	/* init made chain and jump: an open is one restore, no save, and it
	 * checks the jump is still there */
	assert_int_equal(OPS.open(c->state, &g), 0);
	ipt_expect_one_batch(c,
			 CHECK_JUMP "-A FWKNOP_INPUT " RULE2_NEW "\nCOMMIT\n");
	/* a re-knock deletes the rule it remembers adding */
	fake_host_reset_calls(&c->h);
	g.expires = 1800000060;
	assert_int_equal(OPS.refresh(c->state, &g), 0);
	ipt_expect_one_batch(c,
			 CHECK_JUMP "-D FWKNOP_INPUT " RULE2_NEW "\n"
		    "-A FWKNOP_INPUT -s 198.51.100.2/32 -p tcp -m tcp --dport 22 "
		    "-m comment --comment _exp_1800000060 -j ACCEPT\nCOMMIT\n");
	assert_int_equal(c->h.nerrors, 0);
}

static void test_open_replaces_old_rule(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1800000000);

	/* the rules init saw are known: the old rule of this grant goes, .3's,
	 * the udp one, the admin's and the one with an extra -i match stay */
	ipt_init_with(c, ipt_save_live);
	assert_int_equal(OPS.refresh(c->state, &g), 0);
	ipt_expect_one_batch(c,
			 CHECK_JUMP "-D FWKNOP_INPUT " RULE2_OLD "\n"
		    "-A FWKNOP_INPUT " RULE2_NEW "\nCOMMIT\n");
}

static void test_open_fallback_after_refused_batch(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1800000000);
	struct spa_grant g3 = ipt_grant(AF_INET, "198.51.100.3", NULL, 6, 22, 1800000000);

	ipt_init_with(c, ipt_save_empty);
	assert_int_equal(OPS.open(c->state, &g), 0);
	/* behind our back the ruleset became ipt_save_live: our rule's "-D"
	 * fails, so the plugin reads it and applies the batch rebuilt from
	 * what it read */
	ipt_refuse_next_batch(c, ipt_save_live);
	fake_host_reset_calls(&c->h);
	g.expires = 1800000060;
	assert_int_equal(OPS.refresh(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 3);
	ipt_assert_call(c, 0, RESTORE4,
		    CHECK_JUMP "-D FWKNOP_INPUT " RULE2_NEW "\n"
		    "-A FWKNOP_INPUT -s 198.51.100.2/32 -p tcp -m tcp --dport 22 "
		    "-m comment --comment _exp_1800000060 -j ACCEPT\nCOMMIT\n");
	ipt_assert_call(c, 1, "/usr/sbin/iptables-save", NULL);
	ipt_assert_call(c, 2, RESTORE4,
		    CHECK_JUMP "-D FWKNOP_INPUT " RULE2_OLD "\n"
		    "-A FWKNOP_INPUT -s 198.51.100.2/32 -p tcp -m tcp --dport 22 "
		    "-m comment --comment _exp_1800000060 -j ACCEPT\nCOMMIT\n");
	/* the refusal is expected and repaired: no error line */
	assert_int_equal(c->h.nerrors, 0);
	/* the view was rebuilt from that save: .3's rule is known now */
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g3), 0);
	ipt_expect_one_batch(c,
			 CHECK_JUMP "-D FWKNOP_INPUT " RULE3_OLD "\n"
		    "-A FWKNOP_INPUT -s 198.51.100.3/32 -p tcp -m tcp --dport 22 "
		    "-m comment --comment _exp_1800000000 -j ACCEPT\nCOMMIT\n");
}

static void test_open_after_chain_deleted(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1800000000);

	ipt_init_with(c, ipt_save_live);
	/* chain and jump gone: the -C fails, the save shows an empty INPUT */
	ipt_refuse_next_batch(c, ipt_save_empty);
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 3);
	ipt_assert_call(c, 2, RESTORE4,
		    "*filter\n-N FWKNOP_INPUT\n-I INPUT 1 -j FWKNOP_INPUT\n"
		    "-A FWKNOP_INPUT " RULE2_NEW "\nCOMMIT\n");
	assert_int_equal(c->h.nerrors, 0);
	/* a corrective batch that fails too is an error, which the engine
	 * hears through op_fail (and reports itself: no error line here) */
	fake_host_reset_calls(&c->h);
	c->fail_restores = 2;
	assert_int_equal(OPS.open(c->state, &g), SPA_ERR_TRANSIENT);
	assert_int_equal(c->h.ncalls, 3);
	assert_int_equal(c->nfails, 1);
	assert_ptr_equal(c->fail_g[0], &g);
	assert_int_equal(c->h.nerrors, 0);
	/* and after it nothing is trusted: the next open reads first */
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), 0);
	ipt_assert_call(c, 0, "/usr/sbin/iptables-save", NULL);
}

static void test_close(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = ipt_grant(AF_INET, "198.51.100.3", NULL, 6, 22, 1700000005);
	struct spa_grant none = ipt_grant(AF_INET, "198.51.100.9", NULL, 6, 22, 1700000005);

	ipt_init_with(c, ipt_save_live);
	assert_int_equal(OPS.close(c->state, &g), 0);
	ipt_expect_one_batch(c, "*filter\n-D FWKNOP_INPUT " RULE3_OLD "\nCOMMIT\n");
	/* a grant we do not know of: read the ruleset, nothing to delete, so
	 * no restore at all */
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.close(c->state, &none), 0);
	assert_int_equal(c->h.ncalls, 1);
	ipt_assert_call(c, 0, "/usr/sbin/iptables-save", NULL);
}

static void test_close_rule_already_gone(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = ipt_grant(AF_INET, "198.51.100.3", NULL, 6, 22, 1700000005);

	ipt_init_with(c, ipt_save_live);
	/* the admin deleted the rule: the -D fails, the save shows nothing
	 * of it, and the close succeeds quietly */
	ipt_refuse_next_batch(c, ipt_save_empty);
	assert_int_equal(OPS.close(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 2);
	ipt_assert_call(c, 0, RESTORE4, "*filter\n-D FWKNOP_INPUT " RULE3_OLD "\nCOMMIT\n");
	ipt_assert_call(c, 1, "/usr/sbin/iptables-save", NULL);
	assert_int_equal(c->h.nerrors, 0);
}

static void test_flush_keeps_admin_rules(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1800000000);

	ipt_init_with(c, ipt_save_live);
	assert_int_equal(OPS.flush(c->state), 0);
	assert_int_equal(c->h.ncalls, 4);
	/* the nat table's reference to our chain name is not ours: the
	 * filter chain is emptied but only deleted when nothing refers to it */
	ipt_assert_call(c, 1, RESTORE4,
		    "*filter\n-D INPUT -j FWKNOP_INPUT\n-F FWKNOP_INPUT\n-X FWKNOP_INPUT\nCOMMIT\n");
	/* the view knows what the flush left: an open right after it (spad
	 * re-opening its journal at start) is still one restore */
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), 0);
	ipt_expect_one_batch(c,
			 "*filter\n-N FWKNOP_INPUT\n-I INPUT 1 -j FWKNOP_INPUT\n"
		    "-A FWKNOP_INPUT " RULE2_NEW "\nCOMMIT\n");
}

static void test_flush_with_foreign_reference(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1800000000);
	static const char save_ref[] =
		"*filter\n:INPUT ACCEPT [0:0]\n:FWKNOP_INPUT - [0:0]\n:ADMIN - [0:0]\n"
		"-A INPUT -j FWKNOP_INPUT\n-A ADMIN -j FWKNOP_INPUT\nCOMMIT\n";

	ipt_init_with(c, save_ref);
	assert_int_equal(OPS.flush(c->state), 0);
	ipt_assert_call(c, 1, RESTORE4,
		    "*filter\n-D INPUT -j FWKNOP_INPUT\n-F FWKNOP_INPUT\nCOMMIT\n");
	/* the chain stayed: only the jump comes back */
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), 0);
	ipt_assert_call(c, 0, RESTORE4,
		    "*filter\n-I INPUT 1 -j FWKNOP_INPUT\n-A FWKNOP_INPUT " RULE2_NEW "\nCOMMIT\n");
}

static void test_list(void **tstate)
{
	struct ctx *c = *tstate;
	struct fake_listed acc = { 0 };
	struct spa_grant g = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1800000000);

	ipt_init_with(c, ipt_save_empty);
	fake_host_reply(&c->h, "tables-save", ipt_save_live, 0);
	/* both families answer with the same text here; IPv4 addresses in
	 * the IPv6 pass must be skipped, so 3 grants, not 6 */
	assert_int_equal(OPS.list(c->state, fake_host_collect, &acc), 0);
	assert_int_equal(acc.n, 3);
	assert_string_equal(acc.g[0].src.text, "198.51.100.2");
	assert_int_equal(acc.g[0].proto, 6);
	assert_int_equal(acc.g[0].port, 22);
	assert_int_equal(acc.g[0].expires, 1700000000);
	assert_string_equal(acc.g[1].src.text, "198.51.100.3");
	assert_int_equal(acc.g[2].proto, 17);
	assert_int_equal(acc.g[2].port, 53);
	/* what the listing read is what the view holds now */
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), 0);
	ipt_expect_one_batch(c,
			 CHECK_JUMP "-D FWKNOP_INPUT " RULE2_OLD "\n"
		    "-A FWKNOP_INPUT " RULE2_NEW "\nCOMMIT\n");
}

static void test_ipv6_dst_prepend_output(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = ipt_grant(AF_INET6, "2001:db8:1::2", "2001:db8:1::1", 17, 53, 1800000000);
	static const char in6[] = "2001:db8:1::2/128 -d 2001:db8:1::1/128 -p udp -m udp "
				  "--dport 53 -m comment --comment _exp_1800000000 -j ACCEPT";
	static const char out6[] = "2001:db8:1::1/128 -d 2001:db8:1::2/128 -p udp -m udp "
				   "--sport 53 -m comment --comment _exp_1800000000 -j ACCEPT";
	char want[1024];

	fake_host_set(&c->h, "ENABLE_RULE_PREPEND", "Y");
	fake_host_set(&c->h, "ENABLE_IPT_OUTPUT", "y");
	fake_host_reply(&c->h, "tables-save", "", 0);
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	ipt_always_check(c);
	ipt_assert_call(c, 3, "/usr/sbin/ip6tables-restore --noflush --wait=10",
		    "*filter\n-N FWKNOP_INPUT\n-I INPUT 1 -j FWKNOP_INPUT\n"
		    "-N FWKNOP_OUTPUT\n-I OUTPUT 1 -j FWKNOP_OUTPUT\nCOMMIT\n");
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 1);
	snprintf(want, sizeof(want),
		 CHECK_JUMP "-I FWKNOP_INPUT 1 -s %s\n"
		 "-C OUTPUT -j FWKNOP_OUTPUT\n-I FWKNOP_OUTPUT 1 -s %s\nCOMMIT\n", in6, out6);
	ipt_assert_call(c, 0, "/usr/sbin/ip6tables-restore --noflush --wait=10", want);
	/* close deletes both, from memory */
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.close(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 1);
	snprintf(want, sizeof(want),
		 "*filter\n-D FWKNOP_INPUT -s %s\n-D FWKNOP_OUTPUT -s %s\nCOMMIT\n", in6, out6);
	ipt_assert_call(c, 0, "/usr/sbin/ip6tables-restore --noflush --wait=10", want);
}

static void test_engine_1_0_uses_a_file(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1800000000);

	/* a 1.0 engine's host API ends before run_input */
	c->h.api.struct_size = (uint32_t)offsetof(struct spa_host_api, run_input);
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	ipt_always_check(c);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 1);
	assert_int_equal(fake_host_find(&c->h, RESTORE4 " /tmp/spa-batch."), 0);
	assert_string_equal(c->h.calls[0].file,
			    CHECK_JUMP "-A FWKNOP_INPUT " RULE2_NEW "\nCOMMIT\n");
	/* too small for even the 1.0 members: refused */
	OPS.fini(c->state);
	c->state = NULL;
	c->h.api.struct_size = (uint32_t)offsetof(struct spa_host_api, run);
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
}

static void test_view_is_bounded(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1800000000);
	struct spa_pu_buf big;

	/* more of our rules than the view may hold: it is dropped, and every
	 * op reads the ruleset first (still correct, just slower) */
	spa_pu_buf_init(&big);
	spa_pu_buf_printf(&big, "*filter\n:INPUT ACCEPT [0:0]\n:FWKNOP_INPUT - [0:0]\n"
			  "-A INPUT -j FWKNOP_INPUT\n");
	for (unsigned int i = 0; i <= SPA_IPT_VIEW_MAX; i++)
		spa_pu_buf_printf(&big, "-A FWKNOP_INPUT -s 203.0.113.%u/32 -p tcp -m tcp --dport %u "
				  "-m comment --comment _exp_1700000000 -j ACCEPT\n",
				  i % 256, 1000 + i / 256);
	spa_pu_buf_printf(&big, "COMMIT\n");
	assert_false(big.failed);
	ipt_init_with(c, big.data);
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 2);
	ipt_assert_call(c, 0, "/usr/sbin/iptables-save", NULL);
	ipt_assert_call(c, 1, RESTORE4, "*filter\n-A FWKNOP_INPUT " RULE2_NEW "\nCOMMIT\n");
	OPS.fini(c->state);
	c->state = NULL;
	spa_pu_buf_free(&big);
}

static void test_bad_input(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = ipt_grant(AF_INET, "198.51.100.2", NULL, 1, 22, 1800000000);

	ipt_init_with(c, ipt_save_empty);
	/* ICMP is not a port protocol: refused before any restore */
	assert_int_not_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 0);
	g = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1800000000);
	g.family = AF_INET6; /* mismatched with src */
	assert_int_not_equal(OPS.open(c->state, &g), 0);
	/* a refused batch whose fallback cannot read the ruleset fails */
	fake_host_reply(&c->h, "tables-save", "", 1);
	c->fail_restores = 1;
	g = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1800000000);
	assert_int_not_equal(OPS.open(c->state, &g), 0);
}

static void test_bad_config(void **tstate)
{
	struct ctx *c = *tstate;

	fake_host_set(&c->h, "IPT_INPUT_ACCESS", "ACCEPT, filter, INPUT, 1, -X, 1");
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_null(c->state);
	assert_int_equal(c->h.ncalls, 0);
}

static void test_relative_exe_refused(void **tstate)
{
	struct ctx *c = *tstate;

	fake_host_set(&c->h, "IPT_RESTORE_EXE", "iptables-restore");
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_null(c->state);
}

/* check: the same parser as init, no command run, the bad key named. */
static void check_fails(const char *key, const char *value)
{
	assert_int_equal(plugin_case_check_refused(key, value, key), 0);
}

static void test_check(void **tstate)
{
	struct spa_grant probe = fake_host_probe("access.conf:1");
	struct fake_host h;

	(void)tstate;
	fake_host_init(&h);
	assert_int_equal(OPS.check(&h.api, NULL), 0);
	fake_host_set(&h, "IPT_INPUT_ACCESS", "ACCEPT, filter, INPUT, 1, FWKNOP_INPUT, 1");
	fake_host_set(&h, "IPT_OUTPUT_ACCESS", "DROP, filter, OUTPUT, 2, FWKNOP_OUTPUT");
	fake_host_set(&h, "ENABLE_IPT_OUTPUT", "Y");
	fake_host_set(&h, "IPT_RESTORE_EXE", "/sbin/iptables-restore");
	assert_int_equal(OPS.check(&h.api, NULL), 0);
	assert_int_equal(OPS.check(&h.api, &probe), 0);
	assert_int_equal(h.ncalls, 0);
	assert_int_equal(h.nerrors, 0);
	fake_host_free(&h);

	check_fails("IPT_INPUT_ACCESS", "ACCEPT, filter, INPUT, 1, FWKNOP_INPUT, AACCEPT");
	check_fails("IPT_INPUT_ACCESS", "AACCEPT, filter, INPUT, 1, FWKNOP_INPUT, 1");
	check_fails("IPT_INPUT_ACCESS", "ACCEPT, filter, INPUT, 0, FWKNOP_INPUT, 1");
	check_fails("IPT_INPUT_ACCESS", "ACCEPT, filtre, INPUT, 1, FWKNOP_INPUT, 1");
	check_fails("IPT_OUTPUT_ACCESS", "ACCEPT, filter, OUTPUT, x, FWKNOP_OUTPUT, 1");
	check_fails("ENABLE_IPT_OUTPUT", "maybe");
	check_fails("IPT_RESTORE_EXE", "iptables-restore");
	check_fails("IPT_IP6_SAVE_EXE", "ip6tables-save");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptor),
		cmocka_unit_test(test_parse_access),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_rule_parse),
		cmocka_unit_test_setup_teardown(test_init_creates_chain, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_init_fini_never_flush, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_open_fresh, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_open_replaces_old_rule, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_open_fallback_after_refused_batch, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_open_after_chain_deleted, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_close, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_close_rule_already_gone, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_flush_keeps_admin_rules, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_flush_with_foreign_reference, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_list, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_dst_prepend_output, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_engine_1_0_uses_a_file, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_view_is_bounded, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, ipt_case_setup, ipt_case_teardown),
		cmocka_unit_test_setup_teardown(test_relative_exe_refused, ipt_case_setup, ipt_case_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
