/* SPDX-License-Identifier: MIT */
/* The iptables plugin's batch ops (ABI 1.4) and its failure classes
 * (op_fail), against a fake host. */
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

#include "ipt_case.h"

#define RULE(src, exp) "-s " src " -p tcp -m tcp --dport 22 -m comment --comment _exp_" exp " -j ACCEPT"
#define RULE4_NEW RULE("198.51.100.4/32", "1800000000")
#define RULE6_NEW RULE("2001:db8:1::2/128", "1800000099")
#define LOCK_ERR "Another app is currently holding the xtables lock. Stopped waiting after 10s.\n"
#define BAD_ARG_ERR "iptables-restore v1.8.9 (nf_tables): host/network `x' not found\n" \
		    "Error occurred at line: 3\n"

/* save_live without .3's rule, as an admin would leave it */
static const char save_live_no3[] =
	"*filter\n:INPUT DROP [0:0]\n:FWKNOP_INPUT - [0:0]\n-A INPUT -j FWKNOP_INPUT\n"
	"-A FWKNOP_INPUT " RULE2_OLD "\nCOMMIT\n";

static unsigned int count(const char *text, const char *what)
{
	unsigned int n = 0;

	for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

static void test_open_batch_text(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g0 = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1800000000);
	struct spa_grant g1 = ipt_grant(AF_INET6, "2001:db8:1::2", NULL, 6, 22, 1800000000);
	struct spa_grant g2 = ipt_grant(AF_INET, "198.51.100.4", NULL, 6, 22, 1800000000);
	struct spa_grant g3 = ipt_grant(AF_INET6, "2001:db8:1::2", NULL, 6, 22, 1800000099);
	struct spa_grant icmp = ipt_grant(AF_INET, "198.51.100.5", NULL, 1, 22, 1800000000);
	const struct spa_grant *gv[] = { &g0, &g1, &g2, &g3, &icmp };
	const struct spa_grant *closing[] = { &g2, &g3, &g0 };
	int rc[5] = { 1, 1, 1, 1, 1 };

	ipt_init_with(c, ipt_save_live);
	assert_int_equal(spa_plugin_descriptor.open_batch(c->state, gv, 5, rc), 0);
	/* one restore per family; .2's old rule replaced as a single open
	 * replaces it; of g1 and g3 (one key) only the last is written; the
	 * ICMP grant gets its own error and nothing else suffers */
	assert_int_equal(c->h.ncalls, 2);
	ipt_assert_call(c, 0, RESTORE4,
			CHECK_JUMP "-D FWKNOP_INPUT " RULE2_OLD "\n-A FWKNOP_INPUT " RULE2_NEW "\n"
			"-A FWKNOP_INPUT " RULE4_NEW "\nCOMMIT\n");
	ipt_assert_call(c, 1, RESTORE6, CHECK_JUMP "-A FWKNOP_INPUT " RULE6_NEW "\nCOMMIT\n");
	assert_int_equal(rc[0], 0);
	assert_int_equal(rc[1], 0);
	assert_int_equal(rc[2], 0);
	assert_int_equal(rc[3], 0);
	assert_int_equal(rc[4], -EINVAL);
	assert_int_equal(c->h.nerrors, 0);
	/* what the batch added is known: closing it is one restore a family */
	fake_host_reset_calls(&c->h);
	assert_int_equal(spa_plugin_descriptor.close_batch(c->state, closing, 3, rc), 0);
	assert_int_equal(c->h.ncalls, 2);
	ipt_assert_call(c, 0, RESTORE4,
			"*filter\n-D FWKNOP_INPUT " RULE4_NEW "\n-D FWKNOP_INPUT " RULE2_NEW
			"\nCOMMIT\n");
	ipt_assert_call(c, 1, RESTORE6, "*filter\n-D FWKNOP_INPUT " RULE6_NEW "\nCOMMIT\n");
	assert_int_equal(rc[0] | rc[1] | rc[2], 0);
}

static void test_open_batch_prepend_output(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g0 = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1800000000);
	struct spa_grant g1 = ipt_grant(AF_INET, "198.51.100.4", "198.51.100.1", 6, 22, 1800000000);
	const struct spa_grant *gv[] = { &g0, &g1 };
	int rc[2];

	/* the same chains, positions and rule text as a single open */
	fake_host_set(&c->h, "ENABLE_RULE_PREPEND", "Y");
	fake_host_set(&c->h, "ENABLE_IPT_OUTPUT", "Y");
	ipt_init_with(c, "");
	assert_int_equal(spa_plugin_descriptor.open_batch(c->state, gv, 2, rc), 0);
	ipt_expect_one_batch(c,
			     CHECK_JUMP "-I FWKNOP_INPUT 1 " RULE2_NEW "\n"
			     "-I FWKNOP_INPUT 1 -s 198.51.100.4/32 -d 198.51.100.1/32 -p tcp -m tcp "
			     "--dport 22 -m comment --comment _exp_1800000000 -j ACCEPT\n"
			     "-C OUTPUT -j FWKNOP_OUTPUT\n"
			     "-I FWKNOP_OUTPUT 1 -d 198.51.100.2/32 -p tcp -m tcp --sport 22 "
			     "-m comment --comment _exp_1800000000 -j ACCEPT\n"
			     "-I FWKNOP_OUTPUT 1 -s 198.51.100.1/32 -d 198.51.100.4/32 -p tcp -m tcp "
			     "--sport 22 -m comment --comment _exp_1800000000 -j ACCEPT\nCOMMIT\n");
	assert_int_equal(rc[0] | rc[1], 0);
}

static void test_close_batch_reads_unknown(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g3 = ipt_grant(AF_INET, "198.51.100.3", NULL, 6, 22, 1700000005);
	struct spa_grant g9 = ipt_grant(AF_INET, "198.51.100.9", NULL, 6, 22, 1700000005);
	const struct spa_grant *gv[] = { &g9, &g3 };
	int rc[2] = { 1, 1 };

	/* a grant the view does not hold: the ruleset is read once, and only
	 * what exists is deleted */
	ipt_init_with(c, ipt_save_live);
	assert_int_equal(spa_plugin_descriptor.close_batch(c->state, gv, 2, rc), 0);
	assert_int_equal(c->h.ncalls, 2);
	ipt_assert_call(c, 0, "/usr/sbin/iptables-save", NULL);
	ipt_assert_call(c, 1, RESTORE4, "*filter\n-D FWKNOP_INPUT " RULE3_OLD "\nCOMMIT\n");
	assert_int_equal(rc[0] | rc[1], 0);
}

static void test_close_batch_rule_gone(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g2 = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1700000000);
	struct spa_grant g3 = ipt_grant(AF_INET, "198.51.100.3", NULL, 6, 22, 1700000005);
	const struct spa_grant *gv[] = { &g2, &g3 };
	int rc[2] = { 1, 1 };

	/* .3's rule went behind our back: the batch is refused, the ruleset
	 * read, and the batch rebuilt without it; both closes succeed */
	ipt_init_with(c, ipt_save_live);
	ipt_refuse_next_batch(c, save_live_no3);
	assert_int_equal(spa_plugin_descriptor.close_batch(c->state, gv, 2, rc), 0);
	assert_int_equal(c->h.ncalls, 3);
	ipt_assert_call(c, 0, RESTORE4,
			"*filter\n-D FWKNOP_INPUT " RULE2_OLD "\n-D FWKNOP_INPUT " RULE3_OLD
			"\nCOMMIT\n");
	ipt_assert_call(c, 1, "/usr/sbin/iptables-save", NULL);
	ipt_assert_call(c, 2, RESTORE4, "*filter\n-D FWKNOP_INPUT " RULE2_OLD "\nCOMMIT\n");
	assert_int_equal(rc[0] | rc[1], 0);
	assert_int_equal(c->h.nerrors, 0);
	assert_int_equal(c->nfails, 0);
}

static void test_batch_refused_per_grant(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g4 = ipt_grant(AF_INET, "198.51.100.4", NULL, 6, 22, 1800000000);
	struct spa_grant g5 = ipt_grant(AF_INET, "198.51.100.5", NULL, 6, 22, 1800000000);
	struct spa_grant g6 = ipt_grant(AF_INET, "198.51.100.6", NULL, 6, 22, 1800000000);
	const struct spa_grant *gv[] = { &g4, &g5, &g6 };
	int rc[3];

	/* iptables refuses whatever holds .5: refused from the view, then
	 * from a fresh read; each grant on its own then gets its result */
	ipt_init_with(c, ipt_save_empty);
	fake_host_reply(&c->h, "tables-save", save_live_no3, 0);
	c->fail_if = "198.51.100.5/32";
	c->fail_status = 2;
	c->fail_err = BAD_ARG_ERR;
	assert_int_equal(spa_plugin_descriptor.open_batch(c->state, gv, 3, rc), 0);
	assert_int_equal(rc[0], 0);
	assert_int_equal(rc[1], SPA_ERR_PERMANENT);
	assert_int_equal(rc[2], 0);
	assert_int_equal(c->nfails, 1);
	assert_ptr_equal(c->fail_g[0], &g5);
	assert_int_equal(c->fail_kind[0], SPA_FAIL_PERMANENT);
	assert_string_equal(c->fail_msg[0],
			    "/usr/sbin/iptables-restore failed (status 2): iptables-restore v1.8.9 "
			    "(nf_tables): host/network `x' not found");
	/* batch, save, batch again, then .4; .5 (the view is dropped after
	 * it), save, .6 */
	assert_int_equal(c->h.ncalls, 7);
	ipt_assert_call(c, 1, "/usr/sbin/iptables-save", NULL);
	ipt_assert_call(c, 3, RESTORE4, CHECK_JUMP "-A FWKNOP_INPUT " RULE4_NEW "\nCOMMIT\n");
	ipt_assert_call(c, 5, "/usr/sbin/iptables-save", NULL);
	assert_int_equal(c->h.nerrors, 0);
}

/* A single open failing as set up in c: its return and op_fail call. */
static void expect_open_fails(struct ctx *c, unsigned int calls, int kind, const char *msg)
{
	struct spa_grant g = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1800000000);
	struct fake_listed acc = { 0 };

	/* the last case's failure left the view unknown: a list reads it */
	assert_int_equal(OPS.list(c->state, fake_host_collect, &acc), 0);
	fake_host_reset_calls(&c->h);
	c->nfails = 0;
	c->fail_restores = 2;
	assert_int_equal(OPS.open(c->state, &g),
			 kind == SPA_FAIL_TRANSIENT ? SPA_ERR_TRANSIENT : SPA_ERR_PERMANENT);
	assert_int_equal(c->h.ncalls, calls);
	assert_int_equal(c->nfails, 1);
	assert_ptr_equal(c->fail_g[0], &g);
	assert_int_equal(c->fail_kind[0], kind);
	assert_string_equal(c->fail_msg[0], msg);
	c->fail_restores = 0;
	c->fail_start = c->fail_timeout = c->fail_status = 0;
	c->fail_err = NULL;
}

static void test_op_fail_classes(void **tstate)
{
	struct ctx *c = *tstate;

	ipt_init_with(c, ipt_save_empty);
	/* failures that say nothing about the firewall end the attempt at
	 * once: no iptables-save, no second restore */
	c->fail_start = -ENOENT;
	expect_open_fails(c, 1, SPA_FAIL_TRANSIENT,
			  "cannot run /usr/sbin/iptables-restore: No such file or directory");
	/* the shared runner logs a command that cannot start; a failure of
	 * one that ran is only op_fail's to report */
	assert_int_equal(c->h.nerrors, 1);
	c->h.nerrors = 0;
	c->fail_timeout = 1;
	c->fail_err = "";
	expect_open_fails(c, 1, SPA_FAIL_TRANSIENT, "/usr/sbin/iptables-restore timed out");
	c->fail_status = 4;
	c->fail_err = LOCK_ERR;
	expect_open_fails(c, 1, SPA_FAIL_TRANSIENT,
			  "/usr/sbin/iptables-restore failed (status 4): Another app is currently "
			  "holding the xtables lock. Stopped waiting after 10s.");
	/* a refusal is retried from a fresh read, then classed by status */
	c->fail_status = 2;
	c->fail_err = "  " BAD_ARG_ERR;
	expect_open_fails(c, 3, SPA_FAIL_PERMANENT,
			  "/usr/sbin/iptables-restore failed (status 2): iptables-restore v1.8.9 "
			  "(nf_tables): host/network `x' not found");
	expect_open_fails(c, 3, SPA_FAIL_TRANSIENT,
			  "/usr/sbin/iptables-restore failed (status 1): iptables-restore: line 2 "
			  "failed: Bad rule");
	assert_int_equal(c->h.nerrors, 0);
}

static void test_batch_transient_fails_each(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g4 = ipt_grant(AF_INET, "198.51.100.4", NULL, 6, 22, 1800000000);
	struct spa_grant g5 = ipt_grant(AF_INET, "198.51.100.5", NULL, 6, 22, 1800000000);
	struct spa_grant g6 = ipt_grant(AF_INET6, "2001:db8:1::2", NULL, 6, 22, 1800000000);
	const struct spa_grant *gv[] = { &g4, &g6, &g5 };
	int rc[3];

	/* the lock held for IPv4 only: its grants fail transiently, one
	 * op_fail each, without trying them one by one; IPv6 goes through */
	ipt_init_with(c, ipt_save_empty);
	c->fail_restores = 1;
	c->fail_status = 4;
	c->fail_err = LOCK_ERR;
	assert_int_equal(spa_plugin_descriptor.open_batch(c->state, gv, 3, rc), 0);
	assert_int_equal(c->h.ncalls, 2);
	assert_int_equal(rc[0], SPA_ERR_TRANSIENT);
	assert_int_equal(rc[1], 0);
	assert_int_equal(rc[2], SPA_ERR_TRANSIENT);
	assert_int_equal(c->nfails, 2);
	assert_ptr_equal(c->fail_g[0], &g4);
	assert_ptr_equal(c->fail_g[1], &g5);
	assert_int_equal(c->fail_kind[0], SPA_FAIL_TRANSIENT);
	assert_int_equal(c->fail_kind[1], SPA_FAIL_TRANSIENT);
	/* after a failure nothing is trusted: the next open reads first */
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g4), 0);
	ipt_assert_call(c, 0, "/usr/sbin/iptables-save", NULL);
}

static void test_no_op_fail_logs(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1800000000);

	/* an engine without op_fail gets the errno, and the log the words */
	ipt_case_no_op_fail(c);
	ipt_init_with(c, ipt_save_empty);
	c->fail_restores = 2;
	c->fail_status = 2;
	c->fail_err = BAD_ARG_ERR;
	assert_int_equal(OPS.open(c->state, &g), -EIO);
	assert_int_equal(c->nfails, 0);
	assert_int_equal(c->h.nerrors, 1);
	assert_non_null(strstr(c->h.last_err, "status 2): iptables-restore v1.8.9"));
}

static void test_list_op_fail(void **tstate)
{
	struct ctx *c = *tstate;
	struct fake_listed acc = { 0 };

	ipt_init_with(c, ipt_save_empty);
	fake_host_reply(&c->h, "tables-save", "", 1);
	assert_int_equal(OPS.list(c->state, fake_host_collect, &acc), SPA_ERR_TRANSIENT);
	assert_int_equal(c->nfails, 1);
	assert_null(c->fail_g[0]);
	assert_string_equal(c->fail_msg[0],
			    "/usr/sbin/iptables-save failed (status 1): (nothing on stderr)");
}

static void test_fail_kind(void **tstate)
{
	struct spa_ipt_fail f = { .cmd = "/usr/sbin/iptables-restore" };

	(void)tstate;
	f.status = 2;
	assert_int_equal(spa_ipt_fail_kind(&f), SPA_FAIL_PERMANENT);
	assert_true(spa_ipt_fail_refused(&f));
	/* legacy iptables under the lock: whatever its status says */
	snprintf(f.err, sizeof(f.err), "Another app is currently holding the xtables lock.");
	assert_int_equal(spa_ipt_fail_kind(&f), SPA_FAIL_TRANSIENT);
	assert_false(spa_ipt_fail_refused(&f));
	f.err[0] = '\0';
	f.status = 1;
	assert_int_equal(spa_ipt_fail_kind(&f), SPA_FAIL_TRANSIENT);
	assert_true(spa_ipt_fail_refused(&f));
	f.status = 4;
	assert_int_equal(spa_ipt_fail_kind(&f), SPA_FAIL_TRANSIENT);
	assert_false(spa_ipt_fail_refused(&f));
	f.status = -1; /* killed */
	assert_int_equal(spa_ipt_fail_kind(&f), SPA_FAIL_TRANSIENT);
	assert_false(spa_ipt_fail_refused(&f));
	f.status = 2;
	f.timed_out = 1;
	assert_int_equal(spa_ipt_fail_kind(&f), SPA_FAIL_TRANSIENT);
	assert_false(spa_ipt_fail_refused(&f));
	f.timed_out = 0;
	f.start_rc = -ENOENT;
	assert_int_equal(spa_ipt_fail_kind(&f), SPA_FAIL_TRANSIENT);
	assert_false(spa_ipt_fail_refused(&f));
}

static void test_jump_recheck(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = ipt_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 1800000000);
	struct spa_grant g4 = ipt_grant(AF_INET, "198.51.100.4", NULL, 6, 22, 1800000000);
	struct spa_ipt_state *st;
	static const char no_jump[] =
		"*filter\n:INPUT ACCEPT [0:0]\n:FWKNOP_INPUT - [0:0]\n"
		"-A FWKNOP_INPUT " RULE2_NEW "\nCOMMIT\n";

	/* the default: a jump init has just seen is not checked again */
	fake_host_reply(&c->h, "tables-save", ipt_save_live, 0);
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	st = c->state;
	assert_int_equal(st->jump_recheck_ms, SPA_IPT_JUMP_RECHECK_MS);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), 0);
	ipt_expect_one_batch(c, "*filter\n-D FWKNOP_INPUT " RULE2_OLD "\n"
				"-A FWKNOP_INPUT " RULE2_NEW "\nCOMMIT\n");
	/* seen longer ago: the next batch checks it, the one after not */
	st->view[0][SPA_IPT_IN].jump_seen -= SPA_IPT_JUMP_RECHECK_MS;
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g4), 0);
	ipt_expect_one_batch(c, CHECK_JUMP "-A FWKNOP_INPUT " RULE4_NEW "\nCOMMIT\n");
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.close(c->state, &g4), 0);
	assert_int_equal(OPS.open(c->state, &g4), 0);
	ipt_assert_call(c, 1, RESTORE4, "*filter\n-A FWKNOP_INPUT " RULE4_NEW "\nCOMMIT\n");
	/* the admin removed the jump: the check fails the batch, and the
	 * rebuilt one puts the jump back */
	assert_int_equal(OPS.close(c->state, &g4), 0);
	st->view[0][SPA_IPT_IN].jump_seen -= SPA_IPT_JUMP_RECHECK_MS;
	ipt_refuse_next_batch(c, no_jump);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g4), 0);
	assert_int_equal(c->h.ncalls, 3);
	ipt_assert_call(c, 0, RESTORE4, CHECK_JUMP "-A FWKNOP_INPUT " RULE4_NEW "\nCOMMIT\n");
	ipt_assert_call(c, 1, "/usr/sbin/iptables-save", NULL);
	ipt_assert_call(c, 2, RESTORE4, "*filter\n-I INPUT 1 -j FWKNOP_INPUT\n"
					"-A FWKNOP_INPUT " RULE4_NEW "\nCOMMIT\n");
	assert_int_equal(c->nfails, 0);
}

static void test_batch_split(void **tstate)
{
	struct ctx *c = *tstate;
	size_t n = SPA_IPT_BATCH_MAX + 1;
	struct spa_grant *g = calloc(n, sizeof(*g));
	const struct spa_grant **gv = calloc(n, sizeof(*gv));
	int *rc = calloc(n, sizeof(*rc));
	char src[32];

	assert_non_null(g);
	assert_non_null(gv);
	assert_non_null(rc);
	for (size_t i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "203.0.113.%zu", i % 256);
		g[i] = ipt_grant(AF_INET, src, NULL, 6, (int)(1000 + i / 256), 1800000000);
		gv[i] = &g[i];
		rc[i] = 1;
	}
	/* the runner takes 1 MiB of input: a big batch is split */
	ipt_init_with(c, ipt_save_empty);
	assert_int_equal(spa_plugin_descriptor.open_batch(c->state, gv, n, rc), 0);
	assert_int_equal(c->h.ncalls, 2);
	assert_int_equal(count(c->h.calls[0].file, "\n-A FWKNOP_INPUT "), SPA_IPT_BATCH_MAX);
	assert_int_equal(count(c->h.calls[1].file, "\n-A FWKNOP_INPUT "), 1);
	assert_non_null(strstr(c->h.calls[1].file, "-s 203.0.113.0/32 -p tcp -m tcp --dport 1004 "));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rc[i], 0);
	free(g);
	free(gv);
	free(rc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail_kind),
#define CASE(t) cmocka_unit_test_setup_teardown(t, ipt_case_setup, ipt_case_teardown)
		CASE(test_open_batch_text),
		CASE(test_open_batch_prepend_output),
		CASE(test_close_batch_reads_unknown),
		CASE(test_close_batch_rule_gone),
		CASE(test_batch_refused_per_grant),
		CASE(test_op_fail_classes),
		CASE(test_batch_transient_fails_each),
		CASE(test_no_op_fail_logs),
		CASE(test_list_op_fail),
		CASE(test_jump_recheck),
		CASE(test_batch_split),
#undef CASE
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
