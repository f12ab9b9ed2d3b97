/* SPDX-License-Identifier: MIT */
/* Field validators and spa_access_parse (docs/ARCHITECTURE.md, The wire library). */
#include "unit_helpers.h"

#include <stdio.h>
#include <string.h>

typedef int (*validator_fn)(const char *);

static void expect_ok(validator_fn fn, const char *name, const char *s)
{
	int rc = fn(s);

	if (rc != 0)
		fail_msg("%s(\"%s\") = %d (%s), want 0", name, s, rc,
			 spa_strerror(rc));
}

static void expect_bad(validator_fn fn, const char *name, const char *s,
		       int code)
{
	int rc = fn(s);

	if (rc != -code)
		fail_msg("%s(\"%s\") = %d (%s), want %d (%s)", name, s, rc,
			 spa_strerror(rc), -code, spa_strerror(code));
}

static void test_username_allowed(void **state)
{
	static const char *ok[] = {
		"alice", "root", "NO_USER", "bob smith", "a", "0",
		"a.b-c_d@e", "!#$%&'()^`{}~", "user 1 . 2", "Z9",
	};
	char all[128];
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_ok(spa_validate_username, "username", ok[i]);
	/* every printable byte except the forbidden set, in one string
	 * (48 bytes at most, the decoder's limit) */
	for (int c = 0x20; c <= 0x7e && n < 40; c++)
		if (!strchr("\"/\\[]:;|=,+*?<>", c) && !(c >= 'a' && c <= 'z'))
			all[n++] = (char)c;
	all[n] = '\0';
	expect_ok(spa_validate_username, "username", all);
}

static void test_username_refused(void **state)
{
	static const char forbidden[] = "\"/\\[]:;|=,+*?<>";
	char s[16];

	(void)state;
	expect_bad(spa_validate_username, "username", "", SPA_E_USERNAME);
	for (size_t i = 0; forbidden[i]; i++) {
		snprintf(s, sizeof(s), "bob%cx", forbidden[i]);
		expect_bad(spa_validate_username, "username", s, SPA_E_USERNAME);
		snprintf(s, sizeof(s), "%c", forbidden[i]);
		expect_bad(spa_validate_username, "username", s, SPA_E_USERNAME);
	}
	/* control, DEL and non-ASCII bytes */
	static const char *ctrl[] = { "bob\tx", "bob\nx", "\x01", "bob\x7f",
				      "b\x80", "caf\xc3\xa9", "\xff" };
	for (size_t i = 0; i < sizeof(ctrl) / sizeof(ctrl[0]); i++)
		expect_bad(spa_validate_username, "username", ctrl[i],
			   SPA_E_USERNAME);
	assert_true(spa_validate_username(NULL) < 0);
}

static void test_ipv4(void **state)
{
	static const char *ok[] = { "1.2.3.4", "0.0.0.0", "255.255.255.255",
				    "10.0.0.1", "192.168.100.200" };
	static const char *bad[] = {
		"", "1.2.3", "1.2.3.4.5", "1..2.3", "a.b.c.d", "1.2.3.4 ",
		" 1.2.3.4", "256.1.1.1", "1.2.3.256", "1.2.3.999", "1.2.3.-4",
		"1.2.3.4/24", "0x1.2.3.4", "1234.1.1.1", "1.2.3.1234567",
		"1.2.3.", ".1.2.3", "1,2,3,4", "1.2.3.4\n", "::1",
		"1111.2222.3333.4444", "1.2.3.4:80",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_ok(spa_validate_ipv4, "ipv4", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = spa_validate_ipv4(bad[i]);

		if (rc >= 0)
			fail_msg("ipv4(\"%s\") accepted", bad[i]);
	}
	assert_true(spa_validate_ipv4(NULL) < 0);
}

static void test_access_msg(void **state)
{
	static const char *ok[] = {
		"10.0.0.1,tcp/22", "0.0.0.0,udp/53", "1.2.3.4,tcp/1",
		"255.255.255.255,tcp/65535", "1.2.3.4,tcp/22,udp/53,tcp/443",
		"10.1.2.3,tcp/22,udp/1194",
	};
	/* the 11.1 negative list, then more of the same kind */
	static const char *bad[] = {
		"10.1.2.3,icmp/1", "10.1.2.3,none/0", "10.1.2.3,tcp/0",
		"10.1.2.3,tcp/65536", "10.1.2.3,TCP/22", "10.1.2.3,tcpx/22",
		"1.2.3,tcp/22", "1.2.3.999,tcp/22", "10.1.2.3,tcp/22,",
		"", "1.2.3.4", "1.2.3.4,", "1.2.3.4,tcp/", "1.2.3.4,tcp",
		"1.2.3.4,/22", "1.2.3.4,tcp/22 ", " 1.2.3.4,tcp/22",
		"1.2.3.4, tcp/22", "1.2.3.4,tcp/ 22", "1.2.3.4,tcp/123456",
		"1.2.3.4,tcp/-1", "1.2.3.4,tcp/2a", "1.2.3.4,udp/0",
		",tcp/22", "1.2.3.4.5,tcp/22", "1.2.3.4,tcp/22,,udp/53",
		"1.2.3.4,tcp/22,icmp/1", "1.2.3.4,Udp/53", "1.2.3.4,tcp:22",
		"1.2.3.4,tcp/22/33", "1.2.3.4;tcp/22", "host.example,tcp/22",
		"1.2.3.4,sctp/22", "1.2.3.4,tcp/99999",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_ok(spa_validate_access_msg, "access", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad(spa_validate_access_msg, "access", bad[i],
			   SPA_E_MESSAGE);
	assert_true(spa_validate_access_msg(NULL) < 0);
}

static void test_command_msg(void **state)
{
	static const char *ok[] = { "10.1.2.3,echo test", "0.0.0.0,x",
				    "1.2.3.4,/bin/echo hello world",
				    "1.2.3.4,a,b:c" };
	static const char *bad[] = { "10.1.2.3,", "10.1.2.3", "1.2.3,ls",
				     "1.2.3.999,ls", ",ls", "", "ls",
				     "host,ls" };

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_ok(spa_validate_command_msg, "command", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad(spa_validate_command_msg, "command", bad[i],
			   SPA_E_MESSAGE);
	assert_true(spa_validate_command_msg(NULL) < 0);
}

static void test_nat_access(void **state)
{
	static const char *ok[] = { "192.168.10.5,22", "intranet.example,22",
				    "127.0.0.1,65535", "db,1", "a-b.example.org,5432" };
	static const char *bad[] = {
		"1.2.3.4,22,33", "1.2.3.4", "1.2.3.4,", "1.2.3.4,0",
		"1.2.3.4,65536", "host name,22", "a/b,22", "a?b,22",
		"a\"b,22", "a'b,22", "a\\b,22", "1.2.3.4,2x", "1.2.3.4,-1",
		"1.2.3.4,22 ", "", "1.2.3.4,123456",
	};
	char host[100];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_ok(spa_validate_nat_access, "nat", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad(spa_validate_nat_access, "nat", bad[i], SPA_E_NAT);
	/* host at most 70 characters (1.9) */
	memset(host, 'h', 70);
	memcpy(host + 70, ",22", 4);
	expect_ok(spa_validate_nat_access, "nat", host);
	memset(host, 'h', 71);
	memcpy(host + 71, ",22", 4);
	expect_bad(spa_validate_nat_access, "nat", host, SPA_E_NAT);
	assert_true(spa_validate_nat_access(NULL) < 0);
}

static void test_access_parse(void **state)
{
	struct spa_port ports[SPA_MAX_PORTS];
	char ip[16];
	size_t n = 99;

	(void)state;
	memset(ip, 'x', sizeof(ip));
	assert_int_equal(spa_access_parse("10.0.0.1,tcp/22,udp/53,tcp/65535", ip,
					  ports, SPA_MAX_PORTS, &n), 0);
	assert_string_equal(ip, "10.0.0.1");
	assert_int_equal(n, 3);
	assert_int_equal(ports[0].proto, 6);
	assert_int_equal(ports[0].port, 22);
	assert_int_equal(ports[1].proto, 17);
	assert_int_equal(ports[1].port, 53);
	assert_int_equal(ports[2].proto, 6);
	assert_int_equal(ports[2].port, 65535);

	assert_int_equal(spa_access_parse("255.255.255.255,udp/1", ip, ports,
					  SPA_MAX_PORTS, &n), 0);
	assert_string_equal(ip, "255.255.255.255");
	assert_int_equal(n, 1);
	assert_int_equal(ports[0].proto, 17);
	assert_int_equal(ports[0].port, 1);
}

static void test_access_parse_limits(void **state)
{
	struct spa_port ports[4];
	char ip[16], msg[512];
	size_t n = 0;
	int used;

	(void)state;
	assert_int_equal(spa_access_parse("1.2.3.4,tcp/1,tcp/2", ip, ports, 2,
					  &n), 0);
	assert_int_equal(n, 2);
	assert_rc_in(spa_access_parse("1.2.3.4,tcp/1,tcp/2,tcp/3", ip, ports,
				      2, &n),
		     SPA_E_MESSAGE, SPA_E_TOO_LONG, SPA_E_ARG);
	used = snprintf(msg, sizeof(msg), "1.2.3.4");
	for (int i = 1; i <= SPA_MAX_PORTS + 1; i++)
		used += snprintf(msg + used, sizeof(msg) - (size_t)used,
				 ",tcp/%d", i);
	assert_true(spa_access_parse(msg, ip, ports, 4, &n) < 0);

	static const char *bad[] = { "10.1.2.3,icmp/1", "10.1.2.3,tcp/0",
				     "1.2.3.999,tcp/22", "10.1.2.3,tcp/22,",
				     "", "10.1.2.3,TCP/22" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = spa_access_parse(bad[i], ip, ports, 4, &n);

		if (rc != -SPA_E_MESSAGE)
			fail_msg("parse(\"%s\") = %d, want %d", bad[i], rc,
				 -SPA_E_MESSAGE);
	}
	assert_true(spa_access_parse(NULL, ip, ports, 4, &n) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_username_allowed),
		cmocka_unit_test(test_username_refused),
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_access_msg),
		cmocka_unit_test(test_command_msg),
		cmocka_unit_test(test_nat_access),
		cmocka_unit_test(test_access_parse),
		cmocka_unit_test(test_access_parse_limits),
	};

	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
