/* SPDX-License-Identifier: MIT */
/* test_cmdcycle.c - the argv each CMD_CYCLE_* command becomes, against the
 * fake host: substitutions, NONE, required keys, no shell unless asked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fake_host.h"
#include "spa_cc.h"

extern const struct spa_plugin_descriptor spa_plugin_descriptor;
#define OPS spa_plugin_descriptor.ops

static struct spa_grant grant(const char *src, unsigned proto, unsigned port)
{
	struct spa_grant g;

	memset(&g, 0, sizeof(g));
	g.struct_size = sizeof(g);
	g.family = strchr(src, ':') ? AF_INET6 : AF_INET;
	g.src.family = g.family;
	snprintf(g.src.text, sizeof(g.src.text), "%s", src);
	g.proto = (uint8_t)proto;
	g.port = (uint16_t)port;
	g.timeout = 45;
	g.expires = 1800000045;
	snprintf(g.stanza, sizeof(g.stanza), "access.conf:3");
	return g;
}

static void test_descriptor(void **state)
{
	(void)state;
	assert_string_equal(spa_plugin_descriptor.name, "cmdcycle");
	assert_string_equal(spa_plugin_descriptor.key_prefix, "CMD_CYCLE_");
	assert_int_equal(spa_plugin_descriptor.abi_minor, SPA_PLUGIN_ABI_MINOR);
	assert_non_null(OPS.check);
}

static void test_expand(void **state)
{
	struct spa_grant g = grant("198.51.100.7", 17, 53);
	char out[SPA_CC_CMD_MAX], big[300];
	(void)state;

	assert_int_equal(spa_cc_expand("x $IP $SRC $PKT_SRC $DST $PORT $PROTO $TIMEOUT "
				       "$CLIENT_TIMEOUT $NOPE $", &g, out, sizeof(out)), 0);
	assert_string_equal(out, "x 198.51.100.7 198.51.100.7 198.51.100.7 0.0.0.0 53 17 "
				 "1800000045 45 NOPE ");
	g.dst.family = AF_INET;
	snprintf(g.dst.text, sizeof(g.dst.text), "203.0.113.1");
	assert_int_equal(spa_cc_expand("$DST,$SRC:$PORT", &g, out, sizeof(out)), 0);
	assert_string_equal(out, "203.0.113.1,198.51.100.7:53");
	/* the 256 byte limit holds before and after substitution */
	memset(big, 'a', sizeof(big));
	big[255] = '\0';
	assert_int_equal(spa_cc_expand(big, &g, out, sizeof(out)), 0);
	big[255] = 'a';
	big[256] = '\0';
	assert_int_equal(spa_cc_expand(big, &g, out, sizeof(out)), -ENAMETOOLONG);
	big[250] = '\0';
	memcpy(big + 240, "$SRC$SRC", 8);
	assert_int_equal(spa_cc_expand(big, &g, out, sizeof(out)), -ENAMETOOLONG);
}

static void test_split(void **state)
{
	char a[] = "  /usr/sbin/ipset\tadd  s 1 ", b[] = "ipset add", c[] = "   ";
	const char *argv[SPA_CC_ARGV_MAX];
	(void)state;

	assert_int_equal(spa_cc_split(a, argv, SPA_CC_ARGV_MAX), 4);
	assert_string_equal(argv[0], "/usr/sbin/ipset");
	assert_string_equal(argv[3], "1");
	assert_null(argv[4]);
	assert_int_equal(spa_cc_split(b, argv, SPA_CC_ARGV_MAX), -EINVAL);
	assert_int_equal(spa_cc_split(c, argv, SPA_CC_ARGV_MAX), -EINVAL);
}

static void test_open_close_cycle(void **state)
{
	struct fake_host h;
	struct spa_grant g = grant("198.51.100.7", 6, 22);
	void *st = NULL;
	(void)state;

	fake_host_init(&h);
	fake_host_set_stanza(&h, "CMD_CYCLE_OPEN",
			     "/usr/sbin/ipset add spa_set $SRC,$PROTO:$PORT timeout $CLIENT_TIMEOUT");
	fake_host_set_stanza(&h, "CMD_CYCLE_CLOSE", "/usr/sbin/ipset del spa_set $SRC,$PROTO:$PORT");
	fake_host_set_stanza(&h, "CMD_CYCLE_TIMER", "45");
	assert_int_equal(OPS.init(&h.api, &st), 0);
	assert_int_equal(OPS.open(st, &g), 0);
	assert_int_equal(h.ncalls, 1);
	assert_string_equal(h.calls[0].argv,
			    "/usr/sbin/ipset add spa_set 198.51.100.7,6:22 timeout 45");
	assert_int_equal(OPS.close(st, &g), 0);
	assert_int_equal(h.ncalls, 2);
	assert_string_equal(h.calls[1].argv, "/usr/sbin/ipset del spa_set 198.51.100.7,6:22");
	/* a failing command fails the op */
	fake_host_reply(&h, "ipset", "", 1);
	assert_int_equal(OPS.open(st, &g), -EIO);
	assert_int_equal(OPS.flush(st), 0);
	OPS.fini(st);
	fake_host_free(&h);
}

static void test_close_none_and_required(void **state)
{
	struct fake_host h;
	struct spa_grant g = grant("2001:db8::5", 6, 443);
	void *st = NULL;
	(void)state;

	fake_host_init(&h);
	assert_int_equal(OPS.init(&h.api, &st), 0);
	/* nothing configured: refused, nothing run */
	assert_int_equal(OPS.open(st, &g), -EINVAL);
	fake_host_set_stanza(&h, "CMD_CYCLE_OPEN", "/bin/echo $SRC $PORT");
	assert_int_equal(OPS.open(st, &g), -EINVAL); /* CLOSE is required */
	fake_host_set_stanza(&h, "CMD_CYCLE_CLOSE", "/bin/echo closed $SRC");
	assert_int_equal(OPS.open(st, &g), -EINVAL); /* ... and then TIMER */
	assert_int_equal(h.ncalls, 0);
	fake_host_set_stanza(&h, "CMD_CYCLE_CLOSE", "NONE");
	assert_int_equal(OPS.open(st, &g), 0);
	assert_string_equal(h.calls[0].argv, "/bin/echo 2001:db8::5 443");
	assert_int_equal(OPS.close(st, &g), 0);
	assert_int_equal(h.ncalls, 1); /* NONE: no close command */
	/* a relative program is never looked up */
	fake_host_set_stanza(&h, "CMD_CYCLE_OPEN", "ipset add s $SRC");
	assert_int_equal(OPS.open(st, &g), -EINVAL);
	assert_int_equal(h.ncalls, 1);
	OPS.fini(st);
	fake_host_free(&h);
}

static void test_shell_only_when_asked(void **state)
{
	struct fake_host h;
	struct spa_grant g = grant("198.51.100.9", 6, 22);
	void *st = NULL;
	(void)state;

	fake_host_init(&h);
	fake_host_set_stanza(&h, "CMD_CYCLE_OPEN", "/bin/echo $SRC > /tmp/x; /bin/true");
	fake_host_set_stanza(&h, "CMD_CYCLE_CLOSE", "NONE");
	assert_int_equal(OPS.init(&h.api, &st), 0);
	assert_int_equal(OPS.open(st, &g), 0);
	/* without CMD_CYCLE_SHELL the metacharacters are plain arguments */
	assert_string_equal(h.calls[0].argv, "/bin/echo 198.51.100.9 > /tmp/x; /bin/true");
	fake_host_set_stanza(&h, "CMD_CYCLE_SHELL", "Y");
	fake_host_reset_calls(&h);
	assert_int_equal(OPS.open(st, &g), 0);
	assert_string_equal(h.calls[0].argv, "/bin/sh -c /bin/echo 198.51.100.9 > /tmp/x; /bin/true");
	OPS.fini(st);
	fake_host_free(&h);
}

/* check, per stanza: the key named, nothing run. */
static void check_refused(const char *open, const char *close, const char *says)
{
	struct spa_grant probe = fake_host_probe("access.conf:9");
	struct fake_host h;

	fake_host_init(&h);
	if (open)
		fake_host_set_stanza(&h, "CMD_CYCLE_OPEN", open);
	if (close)
		fake_host_set_stanza(&h, "CMD_CYCLE_CLOSE", close);
	fake_host_set_stanza(&h, "CMD_CYCLE_TIMER", "30");
	assert_int_not_equal(OPS.check(&h.api, &probe), 0);
	assert_non_null(strstr(h.last_err, "access.conf:9"));
	assert_non_null(strstr(h.last_err, says));
	assert_int_equal(h.ncalls, 0);
	fake_host_free(&h);
}

static void test_check(void **state)
{
	struct spa_grant probe = fake_host_probe("access.conf:9");
	struct fake_host h;
	(void)state;

	fake_host_init(&h);
	/* no global keys */
	assert_int_equal(OPS.check(&h.api, NULL), 0);
	fake_host_set_stanza(&h, "CMD_CYCLE_OPEN", "/usr/sbin/ipset add s $SRC,$PROTO:$PORT");
	fake_host_set_stanza(&h, "CMD_CYCLE_CLOSE", "/usr/sbin/ipset del s $SRC,$PROTO:$PORT");
	fake_host_set_stanza(&h, "CMD_CYCLE_TIMER", "30");
	assert_int_equal(OPS.check(&h.api, &probe), 0);
	fake_host_set_stanza(&h, "CMD_CYCLE_CLOSE", "NONE");
	assert_int_equal(OPS.check(&h.api, &probe), 0);
	/* with a shell, "program" is the shell's business */
	fake_host_set_stanza(&h, "CMD_CYCLE_OPEN", "ipset add s $SRC || true");
	fake_host_set_stanza(&h, "CMD_CYCLE_SHELL", "Y");
	assert_int_equal(OPS.check(&h.api, &probe), 0);
	assert_int_equal(h.ncalls, 0);
	assert_int_equal(h.nerrors, 0);
	fake_host_free(&h);

	check_refused(NULL, "NONE", "CMD_CYCLE_OPEN");
	check_refused("/bin/true", NULL, "CMD_CYCLE_CLOSE");
	check_refused("ipset add s $SRC", "NONE", "CMD_CYCLE_OPEN 'ipset add s $SRC'");
	check_refused("/bin/true", "sbin/ipset del s $SRC", "CMD_CYCLE_CLOSE");
	/* '/' only after substitution is not an absolute path */
	check_refused("$IP/bin/true", "NONE", "absolute path");
	/* an unknown $X only loses its '$': "$/bin/true" runs /bin/true */
	fake_host_init(&h);
	fake_host_set_stanza(&h, "CMD_CYCLE_OPEN", "$/bin/true");
	fake_host_set_stanza(&h, "CMD_CYCLE_CLOSE", "NONE");
	assert_int_equal(OPS.check(&h.api, &probe), 0);
	fake_host_free(&h);
}

/* A 1.0 engine has no stanza_get: init refuses instead of crashing. */
static void test_old_engine_refused(void **state)
{
	struct fake_host h;
	void *st = NULL;
	(void)state;

	fake_host_init(&h);
	h.api.struct_size = (uint32_t)offsetof(struct spa_host_api, run_input);
	assert_int_equal(OPS.init(&h.api, &st), -ENOTSUP);
	fake_host_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptor),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_open_close_cycle),
		cmocka_unit_test(test_close_none_and_required),
		cmocka_unit_test(test_shell_only_when_asked),
		cmocka_unit_test(test_old_engine_refused),
		cmocka_unit_test(test_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
