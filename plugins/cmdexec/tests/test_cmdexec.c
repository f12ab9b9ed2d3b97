/* SPDX-License-Identifier: MIT */
/* test_cmdexec.c - how cmdexec turns a command message into an argv
 * (plugins/cmdexec/README.md, "How a command runs"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "spa_cx.h"

static struct spa_command cmd(const char *text)
{
	struct spa_command c;

	memset(&c, 0, sizeof(c));
	c.struct_size = sizeof(c);
	c.text = text;
	c.uid = (uid_t)-1;
	c.gid = (gid_t)-1;
	c.timeout_ms = 1000;
	return c;
}

/* argv joined with '|' */
static const char *joined(const struct spa_cx_argv *a)
{
	static char out[1024];
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; a->argv[i]; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i ? "|" : "", a->argv[i]);
	return out;
}

static void test_split_no_shell(void **state)
{
	struct spa_command c = cmd("/bin/echo  a;b  $(x)\t\"c d\" |");
	struct spa_cx_argv a;
	char why[160];

	(void)state;
	assert_int_equal(spa_cx_build(&c, &a, why, sizeof(why)), 0);
	assert_string_equal(joined(&a), "/bin/echo|a;b|$(x)|\"c|d\"||");
	assert_int_equal(a.argc, 6);
}

static void test_program_lookup(void **state)
{
	struct spa_command c = cmd("sh -c id");
	struct spa_cx_argv a;
	char why[160];

	(void)state;
	/* a bare name: the first match on the fixed path */
	assert_int_equal(spa_cx_build(&c, &a, why, sizeof(why)), 0);
	assert_true(a.argv[0][0] == '/');
	assert_non_null(strstr(a.argv[0], "/sh"));
	assert_string_equal(a.argv[1], "-c");
	c = cmd("./sh x");
	assert_int_equal(spa_cx_build(&c, &a, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "relative path"));
	c = cmd("spa-no-such-program-anywhere");
	assert_int_equal(spa_cx_build(&c, &a, why, sizeof(why)), -ENOENT);
	c = cmd("   ");
	assert_int_equal(spa_cx_build(&c, &a, why, sizeof(why)), -EINVAL);
}

static void test_word_limit(void **state)
{
	char text[256] = "/bin/true";
	struct spa_command c;
	struct spa_cx_argv a;
	char why[160];

	(void)state;
	for (int i = 1; i < SPA_CX_WORDS_MAX; i++)
		strcat(text, " x");
	c = cmd(text);
	assert_int_equal(spa_cx_build(&c, &a, why, sizeof(why)), 0);
	assert_int_equal(a.argc, SPA_CX_WORDS_MAX);
	strcat(text, " y");
	c = cmd(text);
	assert_int_equal(spa_cx_build(&c, &a, why, sizeof(why)), -E2BIG);
	assert_non_null(strstr(why, "more than 30 words"));
}

static void test_sudo_form(void **state)
{
	struct spa_command c = cmd("touch /tmp/x");
	struct spa_cx_argv a;
	char why[160];

	(void)state;
	c.sudo_exe = "/usr/bin/sudo";
	assert_int_equal(spa_cx_build(&c, &a, why, sizeof(why)), 0);
	assert_string_equal(joined(&a), "/usr/bin/sudo|touch|/tmp/x");
	c.sudo_user = "alice";
	c.sudo_group = "staff";
	assert_int_equal(spa_cx_build(&c, &a, why, sizeof(why)), 0);
	assert_string_equal(joined(&a), "/usr/bin/sudo|-u|alice|-g|staff|touch|/tmp/x");
	c.sudo_user = NULL;
	assert_int_equal(spa_cx_build(&c, &a, why, sizeof(why)), 0);
	assert_string_equal(joined(&a), "/usr/bin/sudo|-g|staff|touch|/tmp/x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_no_shell),
		cmocka_unit_test(test_program_lookup),
		cmocka_unit_test(test_word_limit),
		cmocka_unit_test(test_sudo_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
