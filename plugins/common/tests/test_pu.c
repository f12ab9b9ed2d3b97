/* SPDX-License-Identifier: MIT */
/* The shared plugin helpers of spa_plugin_util, against the fake host. */
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

#include "exec_host.h"
#include "fake_host.h"
#include "spa_pu_rule.h"

static const char *const local_any[] = { "any", NULL };

static void test_exp_parse(void **tstate)
{
	(void)tstate;
	assert_int_equal(spa_pu_exp_parse("_exp_1800000000"), 1800000000LL);
	assert_int_equal(spa_pu_exp_parse("\"_exp_7\""), 7);
	assert_int_equal(spa_pu_exp_parse("_exp_0"), 0);
	assert_int_equal(spa_pu_exp_parse("_exp_9223372036854775807"), INT64_MAX);
	assert_int_equal(spa_pu_exp_parse("_exp_9223372036854775808"), -1);
	assert_int_equal(spa_pu_exp_parse("_exp_99999999999999999999999"), -1);
	assert_int_equal(spa_pu_exp_parse("_exp_"), -1);
	assert_int_equal(spa_pu_exp_parse("_exp_-1"), -1);
	assert_int_equal(spa_pu_exp_parse("_exp_+1"), -1);
	assert_int_equal(spa_pu_exp_parse("_exp_ 1"), -1);
	assert_int_equal(spa_pu_exp_parse("_exp_1x"), -1);
	assert_int_equal(spa_pu_exp_parse("\"_exp_1"), -1);
	assert_int_equal(spa_pu_exp_parse("_EXP_1"), -1);
	assert_int_equal(spa_pu_exp_parse("admin"), -1);
	assert_int_equal(spa_pu_exp_parse(""), -1);
}

static void test_split(void **tstate)
{
	struct spa_pu_tokens *tk = malloc(sizeof(*tk));
	char line[SPA_PU_TOKENS_MAX * 2 + 8];
	char word[SPA_PU_TOKEN_LEN + 1];

	(void)tstate;
	assert_non_null(tk);
	assert_int_equal(spa_pu_split(" \tpass  in\r\nquick ", tk), 0);
	assert_int_equal(tk->n, 3);
	assert_string_equal(tk->t[0], "pass");
	assert_string_equal(tk->t[2], "quick");
	assert_int_equal(spa_pu_split("", tk), 0);
	assert_int_equal(tk->n, 0);
	/* one word too many, one byte too long: the whole line is refused */
	memset(line, 0, sizeof(line));
	for (unsigned int i = 0; i <= SPA_PU_TOKENS_MAX; i++)
		strcat(line, "a ");
	assert_int_equal(spa_pu_split(line, tk), -E2BIG);
	memset(word, 'w', sizeof(word) - 1);
	word[sizeof(word) - 1] = '\0';
	assert_int_equal(spa_pu_split(word, tk), -E2BIG);
	word[sizeof(word) - 2] = '\0';
	assert_int_equal(spa_pu_split(word, tk), 0);
	assert_int_equal(strlen(tk->t[0]), SPA_PU_TOKEN_LEN - 1);
	free(tk);
}

struct lines {
	char seen[4][32];
	unsigned int n;
	int stop_at;   /* 1-based line that returns stop_rc */
	int stop_rc;
};

static int on_line(void *ctx, const char *line)
{
	struct lines *l = ctx;

	if (l->n < 4)
		snprintf(l->seen[l->n], sizeof(l->seen[0]), "%s", line);
	l->n++;
	return (int)l->n == l->stop_at ? l->stop_rc : 0;
}

static void test_each_line(void **tstate)
{
	struct lines l = { .n = 0 };
	char *text = malloc(SPA_PU_LINE_MAX + 16);

	(void)tstate;
	assert_non_null(text);
	assert_int_equal(spa_pu_each_line("a\n\nb", on_line, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.seen[1], "");
	assert_string_equal(l.seen[2], "b");
	/* a positive value stops without error, a negative one is returned */
	memset(&l, 0, sizeof(l));
	l.stop_at = 2;
	l.stop_rc = 1;
	assert_int_equal(spa_pu_each_line("a\nb\nc\n", on_line, &l), 0);
	assert_int_equal(l.n, 2);
	memset(&l, 0, sizeof(l));
	l.stop_at = 1;
	l.stop_rc = -EIO;
	assert_int_equal(spa_pu_each_line("a\nb\n", on_line, &l), -EIO);
	assert_int_equal(l.n, 1);
	/* an over-long line is skipped, not cut */
	memset(&l, 0, sizeof(l));
	memset(text, 'x', SPA_PU_LINE_MAX);
	strcpy(text + SPA_PU_LINE_MAX, "\nok\n");
	assert_int_equal(spa_pu_each_line(text, on_line, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.seen[0], "ok");
	free(text);
}

static struct spa_pu_rule rule(const char *src, const char *dst, int proto, int port,
			       int64_t expires)
{
	struct spa_pu_rule r;

	spa_pu_rule_init(&r);
	assert_int_equal(spa_pu_copy_word(r.src, sizeof(r.src), src), 0);
	assert_int_equal(spa_pu_copy_word(r.dst, sizeof(r.dst), dst), 0);
	r.proto = proto;
	r.port = port;
	r.expires = expires;
	return r;
}

static void test_rule_grant(void **tstate)
{
	struct spa_grant g = fake_host_grant(AF_INET, "198.51.100.2", NULL, IPPROTO_TCP, 22, 30,
					     5, "poison");
	struct spa_grant d = fake_host_grant(AF_INET6, "2001:db8::2", "2001:db8::1", IPPROTO_UDP,
					     53, 30, 5, "poison");
	struct spa_pu_rule r = rule("198.51.100.2", "any", IPPROTO_TCP, 22, 9);
	struct spa_grant back;
	char src[SPA_GRANT_ADDR_LEN], dst[SPA_GRANT_ADDR_LEN];

	(void)tstate;
	/* any expiry matches: a re-knock finds the rule it replaces */
	assert_true(spa_pu_rule_matches(&r, &g, local_any));
	assert_false(spa_pu_rule_matches(&r, &g, NULL));
	r.expires = -1; /* an admin's rule is never ours */
	assert_false(spa_pu_rule_matches(&r, &g, local_any));
	assert_int_equal(spa_pu_rule_to_grant(&r, &back, local_any), -EINVAL);
	r = rule("198.51.100.2", "any", IPPROTO_TCP, 23, 9);
	assert_false(spa_pu_rule_matches(&r, &g, local_any));
	r = rule("2001:db8::2", "2001:db8:0::1", IPPROTO_UDP, 53, 9);
	assert_true(spa_pu_rule_matches(&r, &d, local_any));
	assert_int_equal(spa_pu_rule_to_grant(&r, &back, local_any), 0);
	assert_int_equal(back.family, AF_INET6);
	assert_int_equal(back.dst.family, AF_INET6);
	assert_string_equal(back.dst.text, "2001:db8::1");
	assert_int_equal(back.expires, 9);
	/* a destination of the other family is not a grant's */
	r = rule("2001:db8::2", "198.51.100.1", IPPROTO_UDP, 53, 9);
	assert_int_equal(spa_pu_rule_to_grant(&r, &back, local_any), -EINVAL);
	r = rule("host.example", "any", IPPROTO_TCP, 22, 9);
	assert_int_equal(spa_pu_rule_to_grant(&r, &back, local_any), -EINVAL);

	assert_int_equal(spa_pu_grant_addrs(&g, "me", src, dst), 0);
	assert_string_equal(src, "198.51.100.2");
	assert_string_equal(dst, "me");
	assert_int_equal(spa_pu_grant_addrs(&d, "me", src, dst), 0);
	assert_string_equal(dst, "2001:db8::1");
	assert_int_equal(spa_pu_copy_word(src, 4, "abcd"), -E2BIG);
	assert_string_equal(src, "");
}

static void test_grant_check(void **tstate)
{
	struct spa_grant g = fake_host_grant(AF_INET, "198.51.100.2", NULL, IPPROTO_TCP, 22, 30,
					     5, "poison");
	struct spa_grant b;

	(void)tstate;
	assert_int_equal(spa_pu_grant_check(&g), 0);
	assert_int_equal(spa_pu_grant_check(NULL), -EINVAL);
	b = g;
	b.struct_size = 8;
	assert_int_equal(spa_pu_grant_check(&b), -EINVAL);
	b = g;
	b.family = AF_INET6;
	assert_int_equal(spa_pu_grant_check(&b), -EAFNOSUPPORT);
	b = g;
	b.dst.family = AF_INET6;
	assert_int_equal(spa_pu_grant_check(&b), -EINVAL);
	b = g;
	b.proto = 1;
	assert_int_equal(spa_pu_grant_check(&b), -EINVAL);
	b = g;
	b.port = 0;
	assert_int_equal(spa_pu_grant_check(&b), -EINVAL);
	b = g;
	b.nat_addr.family = AF_INET;
	assert_int_equal(spa_pu_grant_check(&b), -EINVAL);
}

static void test_run_input(void **tstate)
{
	const char *argv[] = { "/sbin/tool", "-f", "-", NULL };
	struct fake_host h;
	struct spa_pu_buf b;
	int rc;

	(void)tstate;
	fake_host_init(&h);
	spa_pu_buf_init(&b);
	assert_int_equal(spa_pu_buf_printf(&b, "line %d\n", 1), 0);
	assert_int_equal(spa_pu_run_input(&h.api, argv, &b, 0), 0);
	assert_int_equal(h.ncalls, 1);
	assert_string_equal(h.calls[0].argv, "/sbin/tool -f -");
	assert_true(h.calls[0].from_stdin);
	assert_string_equal(h.calls[0].file, "line 1\n");
	fake_host_reply(&h, "tool", "", 2);
	h.nerrors = 0;
	assert_int_equal(spa_pu_run_input(&h.api, argv, &b, 0), -EIO);
	assert_int_equal(h.nerrors, 1);
	b.failed = 1;
	assert_int_equal(spa_pu_run_input(&h.api, argv, &b, 0), -ENOMEM);
	b.failed = 0;
	/* a 1.0 engine: nothing runs, the caller picks its fallback */
	fake_host_reset_calls(&h);
	h.api.struct_size = (uint32_t)offsetof(struct spa_host_api, run_input);
	assert_int_equal(spa_pu_run_input(&h.api, argv, &b, 0), -ENOTSUP);
	assert_int_equal(h.ncalls, 0);
	assert_true(spa_pu_host_ok(&h.api));
	free(spa_pu_state_new(&h.api, 16, &rc));
	assert_int_equal(rc, 0);
	h.api.struct_size = (uint32_t)offsetof(struct spa_host_api, run);
	assert_false(spa_pu_host_ok(&h.api));
	assert_null(spa_pu_state_new(&h.api, 16, &rc));
	assert_int_equal(rc, -EINVAL);
	assert_null(spa_pu_state_new(NULL, 16, &rc));
	spa_pu_buf_free(&b);
	fake_host_free(&h);
}

/* The exec host's stdin: more than a pipe holds, both ways at once, and a
 * command that never reads it. */
static void test_first_line(void **tstate)
{
	char out[8];

	(void)tstate;
	spa_pu_first_line("\n  bad rule \t\r\nline 2\n", out, sizeof(out));
	assert_string_equal(out, "bad rul");
	spa_pu_first_line(" ok\n", out, sizeof(out));
	assert_string_equal(out, "ok");
	spa_pu_first_line(NULL, out, sizeof(out));
	assert_string_equal(out, "");
	spa_pu_first_line("\n\n", out, sizeof(out));
	assert_string_equal(out, "");
}

static void test_run_feed(void **tstate)
{
	const char *argv[] = { "/sbin/tool", "--noflush", NULL };
	struct spa_run_result res;
	struct fake_host h;
	struct spa_pu_buf b;

	(void)tstate;
	fake_host_init(&h);
	spa_pu_buf_init(&b);
	assert_int_equal(spa_pu_buf_printf(&b, "COMMIT\n"), 0);
	/* stdin when the engine has run_input; the result is the caller's */
	fake_host_reply(&h, "tool", "", 2);
	assert_int_equal(spa_pu_run_feed(&h.api, argv, &b, 1, &res), -EIO);
	assert_int_equal(res.exit_status, 2);
	assert_true(h.calls[0].from_stdin);
	assert_int_equal(h.nerrors, 0); /* quiet */
	/* a 1.0 engine: a private file as the last argument */
	fake_host_reset_calls(&h);
	h.api.struct_size = (uint32_t)offsetof(struct spa_host_api, run_input);
	fake_host_reply(&h, "tool", "", 0);
	assert_int_equal(spa_pu_run_feed(&h.api, argv, &b, 1, &res), 0);
	assert_int_equal(fake_host_find(&h, "/sbin/tool --noflush /tmp/spa-batch."), 0);
	assert_string_equal(h.calls[0].file, "COMMIT\n");
	assert_false(h.calls[0].from_stdin);
	spa_pu_buf_free(&b);
	fake_host_free(&h);
}

static void test_exec_input(void **tstate)
{
	const char *cat[] = { "/bin/cat", NULL };
	const char *never[] = { "/bin/true", NULL };
	size_t len = 300 * 1024;
	char *input = malloc(len + 1);
	struct spa_run_result res;
	struct exec_host h;

	(void)tstate;
	assert_non_null(input);
	for (size_t i = 0; i < len; i++)
		input[i] = (char)('a' + i % 26);
	input[len] = '\0';
	exec_host_init(&h);
	assert_int_equal(h.fake.api.run_input(h.fake.api.self, cat, input, len, 1000, &res), 0);
	assert_int_equal(res.exit_status, 0);
	assert_int_equal(res.out_len, len);
	assert_memory_equal(res.out, input, len);
	assert_int_equal(h.fake.api.run_input(h.fake.api.self, never, input, len, 1000, &res), 0);
	assert_int_equal(res.exit_status, 0);
	assert_int_equal(h.fake.api.run(h.fake.api.self, cat, 1000, &res), 0);
	assert_int_equal(res.out_len, 0);
	exec_host_free(&h);
	free(input);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exp_parse),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_each_line),
		cmocka_unit_test(test_rule_grant),
		cmocka_unit_test(test_grant_check),
		cmocka_unit_test(test_run_input),
		cmocka_unit_test(test_first_line),
		cmocka_unit_test(test_run_feed),
		cmocka_unit_test(test_exec_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
