/* SPDX-License-Identifier: MIT */
/*
 * spa_message_decode on malformed plaintexts: every negative vector of
 * fwknop's fixed-salt vectors plus the decoder rules (docs/ARCHITECTURE.md). Each P carries a
 * correct digest (made by the oracle) so that the field under test, not the
 * digest, is what must make the decoder fail.
 */
#include "unit_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F_RAND "1234567890123456"
#define F_USER "YWxpY2U"
#define F_TS   "1500000000"
#define F_VER  "3.0.0"
#define F_MSG  "MTAuMS4yLjMsdGNwLzIy"          /* 10.1.2.3,tcp/22 */
#define F_NAT  "MTkyLjE2OC4xMC41LDIy"          /* 192.168.10.5,22 */
#define F_AUTH "YXV0aA"                        /* auth */

static char *b64s(const char *s)
{
	static char buf[4][1024];
	static int slot;
	char *o = buf[slot++ % 4];

	ut_b64(s, strlen(s), o, false);
	return o;
}

/* Joins the NULL-terminated field list with ':' into E, appends D and
 * decodes an exact-size copy. */
static int decode_fields_v(int digest, struct spa_message *m, va_list ap)
{
	char e[2048] = "", p[2200];
	size_t used = 0;
	const char *f;
	int n, rc;
	char *copy;

	for (int i = 0; (f = va_arg(ap, const char *)) != NULL; i++) {
		size_t fl = strlen(f);

		assert_true(used + fl + 2 < sizeof(e));
		if (i)
			e[used++] = ':';
		memcpy(e + used, f, fl + 1);
		used += fl;
	}
	n = ut_plaintext(e, digest, p, sizeof(p));
	assert_true(n > 0);
	copy = ut_dup_exact(p, (size_t)n);
	rc = spa_message_decode(copy, (size_t)n, m);
	free(copy);
	return rc;
}

static int decode_fields(struct spa_message *m, ...)
{
	va_list ap;
	int rc;

	va_start(ap, m);
	rc = decode_fields_v(SPA_DIGEST_SHA256, m, ap);
	va_end(ap);
	return rc;
}

#define OK(...)                                                              \
	do {                                                                 \
		struct spa_message m_;                                       \
		int rc_ = decode_fields(&m_, __VA_ARGS__, NULL);             \
		if (rc_ != 0)                                                \
			fail_msg("valid P refused: %d (%s)", rc_,            \
				 spa_strerror(rc_));                         \
	} while (0)

/* BAD((codes...), fields...) */
#define BAD(codes, ...)                                                      \
	do {                                                                 \
		struct spa_message m_;                                       \
		int rc_ = decode_fields(&m_, __VA_ARGS__, NULL);             \
		if (rc_ == 0)                                                \
			fail_msg("malformed P accepted (line %d)", __LINE__); \
		assert_rc_in(rc_, UNPAREN codes);                            \
	} while (0)
#define UNPAREN(...) __VA_ARGS__

static void test_baseline_valid(void **state)
{
	struct spa_message m;

	(void)state;
	assert_int_equal(decode_fields(&m, F_RAND, F_USER, F_TS, F_VER, "1",
				       F_MSG, NULL), 0);
	assert_string_equal(m.message, "10.1.2.3,tcp/22");
}

static void test_rand(void **state)
{
	(void)state;
	BAD((SPA_E_RAND, SPA_E_DECRYPT), "123456789012345", F_USER, F_TS, F_VER, "1", F_MSG);
	BAD((SPA_E_RAND, SPA_E_DECRYPT), "12345678901234567", F_USER, F_TS, F_VER, "1", F_MSG);
	BAD((SPA_E_RAND, SPA_E_DECRYPT), "12345678901234a6", F_USER, F_TS, F_VER, "1", F_MSG);
	BAD((SPA_E_RAND, SPA_E_DECRYPT), "a234567890123456", F_USER, F_TS, F_VER, "1", F_MSG);
	BAD((SPA_E_RAND, SPA_E_DECRYPT), " 234567890123456", F_USER, F_TS, F_VER, "1", F_MSG);
	BAD((SPA_E_RAND, SPA_E_DECRYPT, SPA_E_FIELDS), "", F_USER, F_TS, F_VER, "1", F_MSG);
}

static void test_username(void **state)
{
	char f64[80] = "", f65[96];

	(void)state;
	/* 64 b64 chars = 48 bytes: the decoder's maximum (1.3) */
	for (int i = 0; i < 16; i++)
		strcat(f64, "YWFh");
	memcpy(f65, f64, 64);
	memcpy(f65 + 64, "Y", 2);
	OK(F_RAND, f64, F_TS, F_VER, "1", F_MSG);
	BAD((SPA_E_USERNAME, SPA_E_TOO_LONG), F_RAND, f65, F_TS, F_VER, "1", F_MSG);
	BAD((SPA_E_USERNAME, SPA_E_TOO_LONG), F_RAND, b64s("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	    F_TS, F_VER, "1", F_MSG);
	BAD((SPA_E_USERNAME), F_RAND, b64s("bob:x"), F_TS, F_VER, "1", F_MSG);
	BAD((SPA_E_USERNAME), F_RAND, b64s("bob/x"), F_TS, F_VER, "1", F_MSG);
	BAD((SPA_E_USERNAME), F_RAND, b64s("bob\tx"), F_TS, F_VER, "1", F_MSG);
	BAD((SPA_E_USERNAME, SPA_E_FIELDS), F_RAND, "", F_TS, F_VER, "1", F_MSG);
	BAD((SPA_E_USERNAME, SPA_E_BASE64), F_RAND, "YW-j", F_TS, F_VER, "1", F_MSG);
	OK(F_RAND, b64s("bob smith"), F_TS, F_VER, "1", F_MSG);
}

static void test_timestamp(void **state)
{
	struct spa_message m;

	(void)state;
	BAD((SPA_E_TIMESTAMP), F_RAND, F_USER, "-5", F_VER, "1", F_MSG);
	BAD((SPA_E_TIMESTAMP), F_RAND, F_USER, "2147483648", F_VER, "1", F_MSG);
	BAD((SPA_E_TIMESTAMP), F_RAND, F_USER, "4294967295", F_VER, "1", F_MSG);
	BAD((SPA_E_TIMESTAMP, SPA_E_TOO_LONG), F_RAND, F_USER, "1500000000000", F_VER, "1", F_MSG);
	BAD((SPA_E_TIMESTAMP), F_RAND, F_USER, "abc", F_VER, "1", F_MSG);
	BAD((SPA_E_TIMESTAMP), F_RAND, F_USER, "15000x0000", F_VER, "1", F_MSG);
	BAD((SPA_E_TIMESTAMP, SPA_E_FIELDS), F_RAND, F_USER, "", F_VER, "1", F_MSG);
	assert_int_equal(decode_fields(&m, F_RAND, F_USER, "2147483647", F_VER,
				       "1", F_MSG, NULL), 0);
	assert_int_equal(m.timestamp, 2147483647u);
	assert_int_equal(decode_fields(&m, F_RAND, F_USER, "0", F_VER, "1",
				       F_MSG, NULL), 0);
	assert_int_equal(m.timestamp, 0);
}

static void test_version(void **state)
{
	struct spa_message m;

	(void)state;
	BAD((SPA_E_VERSION, SPA_E_TOO_LONG), F_RAND, F_USER, F_TS, "123456789", "1", F_MSG);
	BAD((SPA_E_VERSION, SPA_E_FIELDS), F_RAND, F_USER, F_TS, "", "1", F_MSG);
	/* 1..8 characters, content not validated (1.5) */
	assert_int_equal(decode_fields(&m, F_RAND, F_USER, F_TS, "9.9.9", "1",
				       F_MSG, NULL), 0);
	assert_string_equal(m.version, "9.9.9");
	assert_int_equal(decode_fields(&m, F_RAND, F_USER, F_TS, "12345678",
				       "1", F_MSG, NULL), 0);
	assert_string_equal(m.version, "12345678");
	OK(F_RAND, F_USER, F_TS, "2.0", "1", F_MSG);
}

static void test_msg_type(void **state)
{
	struct spa_message m;

	(void)state;
	BAD((SPA_E_MSGTYPE), F_RAND, F_USER, F_TS, F_VER, "7", F_MSG);
	BAD((SPA_E_MSGTYPE), F_RAND, F_USER, F_TS, F_VER, "9", F_MSG);
	BAD((SPA_E_MSGTYPE), F_RAND, F_USER, F_TS, F_VER, "-1", F_MSG);
	BAD((SPA_E_MSGTYPE), F_RAND, F_USER, F_TS, F_VER, "a", F_MSG);
	BAD((SPA_E_MSGTYPE, SPA_E_TOO_LONG), F_RAND, F_USER, F_TS, F_VER, "001", F_MSG);
	BAD((SPA_E_MSGTYPE, SPA_E_FIELDS), F_RAND, F_USER, F_TS, F_VER, "", F_MSG);
	/* "01" is accepted (1.6) */
	assert_int_equal(decode_fields(&m, F_RAND, F_USER, F_TS, F_VER, "01",
				       F_MSG, NULL), 0);
	assert_int_equal(m.type, 1);
}

static void test_field_counts(void **state)
{
	(void)state;
	/* 1.6: colons after the type: 0,1 <= 2; 2,3,5 <= 3; 4,6 <= 4 */
	OK(F_RAND, F_USER, F_TS, F_VER, "1", F_MSG, F_AUTH);
	BAD((SPA_E_FIELDS), F_RAND, F_USER, F_TS, F_VER, "1", F_MSG, F_AUTH, F_AUTH);
	BAD((SPA_E_FIELDS), F_RAND, F_USER, F_TS, F_VER, "0",
	    b64s("10.1.2.3,ls"), F_AUTH, F_AUTH);
	OK(F_RAND, F_USER, F_TS, F_VER, "2", F_MSG, F_NAT, F_AUTH);
	BAD((SPA_E_FIELDS), F_RAND, F_USER, F_TS, F_VER, "2", F_MSG, F_NAT, F_AUTH, F_AUTH);
	BAD((SPA_E_FIELDS), F_RAND, F_USER, F_TS, F_VER, "3", F_MSG, F_AUTH, "30", "30");
	BAD((SPA_E_FIELDS), F_RAND, F_USER, F_TS, F_VER, "5", F_MSG, F_NAT, F_AUTH, F_AUTH);
	OK(F_RAND, F_USER, F_TS, F_VER, "4", F_MSG, F_NAT, F_AUTH, "30");
	BAD((SPA_E_FIELDS), F_RAND, F_USER, F_TS, F_VER, "4", F_MSG, F_NAT, F_AUTH, "30", "30");
	BAD((SPA_E_FIELDS), F_RAND, F_USER, F_TS, F_VER, "6", F_MSG, F_NAT, F_AUTH, "30", "30");
	/* fewer than 6 colons overall (1.13) */
	BAD((SPA_E_FIELDS, SPA_E_MSGTYPE, SPA_E_MESSAGE), F_RAND, F_USER, F_TS, F_VER, "1");
	BAD((SPA_E_FIELDS, SPA_E_PLAINTEXT, SPA_E_TOO_SHORT), F_RAND, F_USER, F_TS);
}

static void test_timeout(void **state)
{
	struct spa_message m;

	(void)state;
	BAD((SPA_E_TIMEOUT), F_RAND, F_USER, F_TS, F_VER, "3", F_MSG);
	BAD((SPA_E_TIMEOUT), F_RAND, F_USER, F_TS, F_VER, "3", F_MSG, "65537");
	BAD((SPA_E_TIMEOUT), F_RAND, F_USER, F_TS, F_VER, "3", F_MSG, "abc");
	BAD((SPA_E_TIMEOUT), F_RAND, F_USER, F_TS, F_VER, "3", F_MSG, "-1");
	BAD((SPA_E_TIMEOUT), F_RAND, F_USER, F_TS, F_VER, "3", F_MSG, "99999999999");
	BAD((SPA_E_TIMEOUT, SPA_E_NAT), F_RAND, F_USER, F_TS, F_VER, "4", F_MSG, F_NAT);
	BAD((SPA_E_TIMEOUT, SPA_E_NAT), F_RAND, F_USER, F_TS, F_VER, "6", F_MSG, F_NAT);
	assert_int_equal(decode_fields(&m, F_RAND, F_USER, F_TS, F_VER, "3",
				       F_MSG, "65536", NULL), 0);
	assert_int_equal(m.client_timeout, 65536);
	assert_int_equal(decode_fields(&m, F_RAND, F_USER, F_TS, F_VER, "3",
				       F_MSG, F_AUTH, "45", NULL), 0);
	assert_int_equal(m.client_timeout, 45);
	assert_string_equal(m.server_auth, "auth");
}

static void test_nat(void **state)
{
	(void)state;
	BAD((SPA_E_NAT, SPA_E_FIELDS), F_RAND, F_USER, F_TS, F_VER, "2", F_MSG);
	BAD((SPA_E_NAT, SPA_E_FIELDS), F_RAND, F_USER, F_TS, F_VER, "5", F_MSG);
	BAD((SPA_E_NAT), F_RAND, F_USER, F_TS, F_VER, "2", F_MSG, b64s("1.2.3.4,22,33"));
	BAD((SPA_E_NAT), F_RAND, F_USER, F_TS, F_VER, "2", F_MSG, b64s("1.2.3.4"));
	BAD((SPA_E_NAT), F_RAND, F_USER, F_TS, F_VER, "2", F_MSG, b64s("1.2.3.4,0"));
	BAD((SPA_E_NAT), F_RAND, F_USER, F_TS, F_VER, "5", F_MSG, b64s("a b,22"));
	OK(F_RAND, F_USER, F_TS, F_VER, "5", F_MSG, b64s("127.0.0.1,22"));
}

static void test_access_message(void **state)
{
	static const char *bad[] = {
		"10.1.2.3,icmp/1", "10.1.2.3,none/0", "10.1.2.3,tcp/0",
		"10.1.2.3,tcp/65536", "10.1.2.3,TCP/22", "10.1.2.3,tcpx/22",
		"1.2.3,tcp/22", "1.2.3.999,tcp/22", "10.1.2.3,tcp/22,",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *m = b64s(bad[i]);

		BAD((SPA_E_MESSAGE), F_RAND, F_USER, F_TS, F_VER, "1", m);
		BAD((SPA_E_MESSAGE), F_RAND, F_USER, F_TS, F_VER, "2", m, F_NAT);
		BAD((SPA_E_MESSAGE), F_RAND, F_USER, F_TS, F_VER, "3", m, "30");
		BAD((SPA_E_MESSAGE), F_RAND, F_USER, F_TS, F_VER, "4", m, F_NAT, "30");
		BAD((SPA_E_MESSAGE), F_RAND, F_USER, F_TS, F_VER, "5", m, F_NAT);
		BAD((SPA_E_MESSAGE), F_RAND, F_USER, F_TS, F_VER, "6", m, F_NAT, "30");
	}
	/* type 0 needs ip,command */
	BAD((SPA_E_MESSAGE), F_RAND, F_USER, F_TS, F_VER, "0", b64s("10.1.2.3,"));
	BAD((SPA_E_MESSAGE), F_RAND, F_USER, F_TS, F_VER, "0", b64s("10.1.2,ls"));
	BAD((SPA_E_MESSAGE, SPA_E_FIELDS), F_RAND, F_USER, F_TS, F_VER, "1", "");
	BAD((SPA_E_MESSAGE, SPA_E_BASE64), F_RAND, F_USER, F_TS, F_VER, "1", "MTAu!S4yLjMsdGNwLzIy");
}

static void test_field_length_caps(void **state)
{
	char cmd[300], big[400];

	(void)state;
	/* 192 decoded bytes = 256 b64 chars: the message cap (1.8) */
	snprintf(cmd, sizeof(cmd), "10.1.2.3,%0183d", 7);
	assert_int_equal(strlen(cmd), 192);
	OK(F_RAND, F_USER, F_TS, F_VER, "0", b64s(cmd));
	snprintf(cmd, sizeof(cmd), "10.1.2.3,%0186d", 7);
	BAD((SPA_E_MESSAGE, SPA_E_TOO_LONG), F_RAND, F_USER, F_TS, F_VER, "0", b64s(cmd));

	memset(big, 'A', 257);
	big[257] = '\0';
	BAD((SPA_E_SERVER_AUTH, SPA_E_TOO_LONG), F_RAND, F_USER, F_TS, F_VER, "1", F_MSG, big);
	BAD((SPA_E_NAT, SPA_E_TOO_LONG), F_RAND, F_USER, F_TS, F_VER, "2", F_MSG, big);
	memset(big, '1', 257);
	BAD((SPA_E_TIMEOUT, SPA_E_TOO_LONG), F_RAND, F_USER, F_TS, F_VER, "3", F_MSG, big);
}

static int decode_raw(const char *p, size_t len)
{
	struct spa_message m;
	char *copy = ut_dup_exact(p, len);
	int rc = spa_message_decode(copy, len, &m);

	free(copy);
	return rc;
}

static void test_digest_checks(void **state)
{
	const char *e = F_RAND ":" F_USER ":" F_TS ":" F_VER ":1:" F_MSG;
	char p[512];
	int n;

	(void)state;
	n = ut_plaintext(e, SPA_DIGEST_SHA256, p, sizeof(p));
	assert_int_equal(decode_raw(p, (size_t)n), 0);
	/* a flipped digest character */
	p[n - 5] = p[n - 5] == 'A' ? 'B' : 'A';
	assert_rc(decode_raw(p, (size_t)n), SPA_E_DIGEST);
	/* a flipped character in E with the original digest */
	n = ut_plaintext(e, SPA_DIGEST_SHA256, p, sizeof(p));
	p[3] = p[3] == '9' ? '8' : '9';
	assert_rc(decode_raw(p, (size_t)n), SPA_E_DIGEST);
	/* digest of an unsupported length (one char short) */
	n = ut_plaintext(e, SPA_DIGEST_SHA256, p, sizeof(p));
	assert_rc_in(decode_raw(p, (size_t)n - 1), SPA_E_DIGEST, SPA_E_DIGEST_TYPE);
	/* digest missing */
	assert_rc_in(decode_raw(e, strlen(e)), SPA_E_DIGEST, SPA_E_DIGEST_TYPE,
		     SPA_E_FIELDS, SPA_E_MESSAGE);
	/* each accepted digest type is recognised by its length (1.12) */
	for (int dg = SPA_DIGEST_MD5; dg <= SPA_DIGEST_MAX; dg++) {
		struct spa_message m;

		n = ut_plaintext(e, dg, p, sizeof(p));
		assert_int_equal(spa_message_decode(p, (size_t)n, &m), 0);
		assert_int_equal(m.digest_type, dg);
	}
}

static void test_plaintext_rules(void **state)
{
	char e[2048], p[2200];
	int n;

	(void)state;
	/* non-printable bytes anywhere (1.13) */
	static const char np[] = { '\t', '\n', '\x01', '\x7f', (char)0x80,
				   (char)0xff };
	for (size_t i = 0; i < sizeof(np); i++) {
		snprintf(e, sizeof(e), "%s:%s:%s:3.0%c0:1:%s", F_RAND, F_USER,
			 F_TS, np[i], F_MSG);
		n = ut_plaintext(e, SPA_DIGEST_SHA256, p, sizeof(p));
		assert_rc_in(decode_raw(p, (size_t)n), SPA_E_PLAINTEXT);
	}
	/* embedded NUL inside len must not end the string early */
	n = ut_plaintext(F_RAND ":" F_USER ":" F_TS ":" F_VER ":1:" F_MSG,
			 SPA_DIGEST_SHA256, p, sizeof(p));
	p[40] = '\0';
	assert_rc_in(decode_raw(p, (size_t)n), SPA_E_PLAINTEXT);
	/* shorter than 36 bytes */
	memcpy(p, "1234567890123456:YQ:1:1:1:MS4x:AAAA", 36);
	assert_rc_in(decode_raw(p, 35), SPA_E_PLAINTEXT, SPA_E_TOO_SHORT);
	/* 1500 bytes or more */
	memset(p, 'A', 1600);
	memcpy(p, F_RAND ":", 17);
	assert_rc_in(decode_raw(p, 1500), SPA_E_PLAINTEXT, SPA_E_TOO_LONG);
	assert_rc_in(decode_raw(p, 0), SPA_E_PLAINTEXT, SPA_E_TOO_SHORT, SPA_E_ARG);
	assert_true(spa_message_decode(NULL, 100, NULL) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baseline_valid),
		cmocka_unit_test(test_rand),
		cmocka_unit_test(test_username),
		cmocka_unit_test(test_timestamp),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_msg_type),
		cmocka_unit_test(test_field_counts),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_nat),
		cmocka_unit_test(test_access_message),
		cmocka_unit_test(test_field_length_caps),
		cmocka_unit_test(test_digest_checks),
		cmocka_unit_test(test_plaintext_rules),
	};

	return cmocka_run_group_tests_name("message_decode", tests, NULL, NULL);
}
