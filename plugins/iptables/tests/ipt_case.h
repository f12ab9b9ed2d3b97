/* SPDX-License-Identifier: MIT */
/*
 * The fixture of the iptables plugin's cmocka cases: a fake host whose
 * run_input records each batch and can refuse restores (by count or by
 * content, with a chosen status and stderr, or as a command that cannot
 * start or times out), and an op_fail (ABI 1.4) that records each call.
 */
#ifndef IPT_CASE_H
#define IPT_CASE_H

#include <stdint.h>

#include "fake_host.h"
#include "spa_ipt.h"

extern const struct spa_plugin_descriptor spa_plugin_descriptor;
#define OPS (spa_plugin_descriptor.ops)

#define RULE2_OLD "-s 198.51.100.2/32 -p tcp -m tcp --dport 22 -m comment --comment _exp_1700000000 -j ACCEPT"
#define RULE2_NEW "-s 198.51.100.2/32 -p tcp -m tcp --dport 22 -m comment --comment _exp_1800000000 -j ACCEPT"
#define RULE3_OLD "-s 198.51.100.3/32 -p tcp -m tcp --dport 22 -m comment --comment _exp_1700000005 -j ACCEPT"
#define RESTORE4 "/usr/sbin/iptables-restore --noflush --wait=10"
#define RESTORE6 "/usr/sbin/ip6tables-restore --noflush --wait=10"
/* how a batch from memory starts: is our jump still there? */
#define CHECK_JUMP "*filter\n-C INPUT -j FWKNOP_INPUT\n"

extern const char ipt_save_empty[];
extern const char ipt_save_live[];

#define IPT_CASE_FAILS 8

struct ctx {
	struct fake_host h;
	void *state;
	/* refusals of iptables-restore */
	unsigned int fail_restores; /* refuse the next n restores */
	const char *fail_if;        /* refuse every restore whose input has this */
	int fail_status;            /* their exit status; 0: 1 */
	const char *fail_err;       /* their stderr; NULL: a "Bad rule" line */
	int fail_start;             /* negative errno: they cannot start */
	int fail_timeout;           /* they are killed at the deadline */
	/* op_fail calls */
	unsigned int nfails;
	int fail_kind[IPT_CASE_FAILS];
	const struct spa_grant *fail_g[IPT_CASE_FAILS];
	char fail_msg[IPT_CASE_FAILS][256];
};

/* cmocka setup: a 1.4 host (op_fail included) reading an empty ruleset. */
int ipt_case_setup(void **tstate);
int ipt_case_teardown(void **tstate);
/* The same host as an engine without op_fail (ABI 1.3). */
void ipt_case_no_op_fail(struct ctx *c);

struct spa_grant ipt_grant(int af, const char *src, const char *dst, int proto, int port,
			   int64_t expires);
/* Every open batch checks the jump, however recently it was seen (most
 * cases are about the batch text, not about time). */
void ipt_always_check(struct ctx *c);
/* init against save text, then forget the calls it made; the jump is
 * always checked */
void ipt_init_with(struct ctx *c, const char *save);
/* The next restore is refused; the ruleset then reads as save_after. */
void ipt_refuse_next_batch(struct ctx *c, const char *save_after);
void ipt_assert_call(const struct ctx *c, unsigned int i, const char *argv, const char *input);
/* The op just run was one iptables-restore of exactly want. */
void ipt_expect_one_batch(const struct ctx *c, const char *want);

#endif
