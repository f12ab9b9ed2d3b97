/* SPDX-License-Identifier: MIT */
/*
 * spa_message_encode/decode: the plaintext E ":" D (docs/ARCHITECTURE.md).
 * Expected strings are either copied from the spec or assembled here with
 * the OpenSSL oracle, never taken from the library's own output.
 */
#include "unit_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEC1_D "Btl+731bOt14GLXwsWicZJ7bbm3SikltxSk+U5TAEEA"

static int encode(struct spa_message *m, char *out, size_t cap, size_t *len)
{
	int rc = spa_message_encode(m, out, cap, len);

	if (rc == 0 && strlen(out) != *len)
		fail_msg("out_len %zu but strlen %zu", *len, strlen(out));
	return rc;
}

static int decode_exact(const char *p, size_t len, struct spa_message *m)
{
	char *copy = ut_dup_exact(p, len);
	int rc;

	memset(m, 0x5a, sizeof(*m));
	rc = spa_message_decode(copy, len, m);
	free(copy);
	return rc;
}

/* Splits P at its last colon into E and D. */
static void split_p(const char *p, char *e, size_t e_cap, const char **d)
{
	const char *colon = strrchr(p, ':');

	assert_non_null(colon);
	assert_true((size_t)(colon - p) < e_cap);
	memcpy(e, p, (size_t)(colon - p));
	e[colon - p] = '\0';
	*d = colon + 1;
}

static void test_init(void **state)
{
	struct spa_message a, b;

	(void)state;
	assert_int_equal(spa_message_init(&a), 0);
	assert_int_equal(spa_message_init(&b), 0);
	assert_int_equal(strlen(a.rand_val), SPA_RAND_LEN);
	for (size_t i = 0; i < SPA_RAND_LEN; i++)
		assert_true(a.rand_val[i] >= '0' && a.rand_val[i] <= '9');
	/* 10^16 possible values: equal twice in a row means no CSPRNG */
	assert_string_not_equal(a.rand_val, b.rand_val);
	assert_string_equal(a.version, SPA_PROTOCOL_VERSION);
	assert_int_equal(a.digest_type, SPA_DIGEST_SHA256);
	assert_int_equal(a.type, SPA_MSG_ACCESS);
	assert_int_equal(a.client_timeout, 0);
	assert_string_equal(a.nat_access, "");
	assert_string_equal(a.server_auth, "");
	assert_true(spa_message_init(NULL) < 0);
}

static void test_kat_encoded_strings(void **state)
{
	(void)state;
	for (size_t i = 0; i < kat_vector_count; i++) {
		const struct kat_vector *v = &kat_vectors[i];
		struct spa_message m;
		char out[1024], want[1024], e[1024];
		const char *d;
		size_t len = 0;
		int rc;

		ut_kat_message(v, &m);
		rc = encode(&m, out, sizeof(out), &len);
		if (rc != 0)
			fail_msg("vector %d: encode = %d (%s)", v->id, rc,
				 spa_strerror(rc));
		split_p(out, e, sizeof(e), &d);
		if (strcmp(e, v->e) != 0)
			fail_msg("vector %d: E\n got  %s\n want %s", v->id, e,
				 v->e);
		assert_true(ut_plaintext(v->e, v->digest, want, sizeof(want)) > 0);
		if (strcmp(out, want) != 0)
			fail_msg("vector %d: P\n got  %s\n want %s", v->id, out,
				 want);
		assert_int_equal(m.type, v->type);
	}
}

static void test_kat_vector1_digest(void **state)
{
	struct spa_message m;
	char out[512], e[512];
	const char *d;
	size_t len = 0;

	(void)state;
	ut_kat_message(&kat_vectors[0], &m);
	assert_int_equal(encode(&m, out, sizeof(out), &len), 0);
	split_p(out, e, sizeof(e), &d);
	assert_string_equal(d, VEC1_D);
	/* 108 bytes per 11.1 */
	assert_int_equal(len, 108);
}

static void test_kat_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < kat_vector_count; i++) {
		const struct kat_vector *v = &kat_vectors[i];
		struct spa_message m;
		char p[1024];
		int n = ut_plaintext(v->e, v->digest, p, sizeof(p));
		int rc;

		assert_true(n > 0);
		rc = decode_exact(p, (size_t)n, &m);
		if (rc != 0)
			fail_msg("vector %d: decode = %d (%s)", v->id, rc,
				 spa_strerror(rc));
		assert_string_equal(m.rand_val, KAT_RAND);
		assert_string_equal(m.username, KAT_USER);
		assert_int_equal(m.timestamp, KAT_TS);
		assert_string_equal(m.version, "3.0.0");
		assert_int_equal(m.type, v->type);
		assert_string_equal(m.message, v->msg);
		assert_string_equal(m.nat_access, v->nat);
		assert_string_equal(m.server_auth, v->auth);
		assert_int_equal(m.client_timeout, v->timeout);
		assert_int_equal(m.digest_type, v->digest);
	}
}

struct rt_case {
	int type;
	const char *msg;
	const char *nat;
	const char *auth;
	uint32_t timeout;
};

static const struct rt_case rt_cases[] = {
	{ SPA_MSG_COMMAND, "10.0.0.1,/bin/echo hello world", "", "", 0 },
	{ SPA_MSG_COMMAND, "10.0.0.1,touch /tmp/x", "", "srvauth", 0 },
	{ SPA_MSG_ACCESS, "10.0.0.1,tcp/22", "", "", 0 },
	{ SPA_MSG_ACCESS, "0.0.0.0,tcp/22,udp/53,tcp/443", "", "a:b", 0 },
	{ SPA_MSG_NAT_ACCESS, "10.0.0.1,tcp/22", "192.168.1.2,22", "", 0 },
	{ SPA_MSG_NAT_ACCESS, "10.0.0.1,tcp/22", "db.example,5432", "x", 0 },
	{ SPA_MSG_CLIENT_TIMEOUT_ACCESS, "10.0.0.1,udp/53", "", "", 60 },
	{ SPA_MSG_CLIENT_TIMEOUT_ACCESS, "10.0.0.1,udp/53", "", "au", 65536 },
	{ SPA_MSG_CLIENT_TIMEOUT_NAT_ACCESS, "10.0.0.1,tcp/22", "192.168.1.2,22", "", 45 },
	{ SPA_MSG_CLIENT_TIMEOUT_NAT_ACCESS, "10.0.0.1,tcp/22", "192.168.1.2,22", "q", 1 },
	{ SPA_MSG_LOCAL_NAT_ACCESS, "10.0.0.1,tcp/5555", "127.0.0.1,22", "", 0 },
	{ SPA_MSG_CLIENT_TIMEOUT_LOCAL_NAT_ACCESS, "10.0.0.1,tcp/5555", "127.0.0.1,22", "", 30 },
};

/* The E the spec says this message must produce (section 1.1 order). */
static void oracle_e(const struct rt_case *c, const char *user, char *e,
		     size_t cap)
{
	char ub[128], mb[400], nb[400], ab[128];
	int n;

	ut_b64(user, strlen(user), ub, false);
	ut_b64(c->msg, strlen(c->msg), mb, false);
	n = snprintf(e, cap, "%s:%s:%u:3.0.0:%d:%s", KAT_RAND, ub, KAT_TS,
		     c->type, mb);
	if (c->nat[0]) {
		ut_b64(c->nat, strlen(c->nat), nb, false);
		n += snprintf(e + n, cap - (size_t)n, ":%s", nb);
	}
	if (c->auth[0]) {
		ut_b64(c->auth, strlen(c->auth), ab, false);
		n += snprintf(e + n, cap - (size_t)n, ":%s", ab);
	}
	if (c->timeout)
		snprintf(e + n, cap - (size_t)n, ":%u", c->timeout);
}

static void fill(struct spa_message *m, const struct rt_case *c, int digest)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->rand_val, KAT_RAND);
	strcpy(m->username, "bob smith");
	m->timestamp = KAT_TS;
	strcpy(m->version, "3.0.0");
	m->type = c->type;
	snprintf(m->message, sizeof(m->message), "%s", c->msg);
	snprintf(m->nat_access, sizeof(m->nat_access), "%s", c->nat);
	snprintf(m->server_auth, sizeof(m->server_auth), "%s", c->auth);
	m->client_timeout = c->timeout;
	m->digest_type = digest;
}

static void test_round_trip_all_types(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rt_cases) / sizeof(rt_cases[0]); i++) {
		for (int dg = SPA_DIGEST_MD5; dg <= SPA_DIGEST_MAX; dg++) {
			const struct rt_case *c = &rt_cases[i];
			struct spa_message m, back;
			char out[1024], e[1024], want[1024];
			size_t len = 0;
			int rc;

			fill(&m, c, dg);
			rc = encode(&m, out, sizeof(out), &len);
			if (rc != 0)
				fail_msg("case %zu digest %d: encode %d (%s)", i,
					 dg, rc, spa_strerror(rc));
			oracle_e(c, "bob smith", e, sizeof(e));
			assert_true(ut_plaintext(e, dg, want, sizeof(want)) > 0);
			if (strcmp(out, want) != 0)
				fail_msg("case %zu digest %d:\n got  %s\n want %s",
					 i, dg, out, want);
			rc = decode_exact(out, len, &back);
			if (rc != 0)
				fail_msg("case %zu digest %d: decode %d (%s)", i,
					 dg, rc, spa_strerror(rc));
			assert_string_equal(back.rand_val, KAT_RAND);
			assert_string_equal(back.username, "bob smith");
			assert_int_equal(back.timestamp, KAT_TS);
			assert_string_equal(back.version, "3.0.0");
			assert_int_equal(back.type, c->type);
			assert_string_equal(back.message, c->msg);
			assert_string_equal(back.nat_access, c->nat);
			assert_string_equal(back.server_auth, c->auth);
			assert_int_equal(back.client_timeout, c->timeout);
			assert_int_equal(back.digest_type, dg);
		}
	}
}

struct promo {
	int in_type;
	uint32_t timeout;
	int out_type;
	const char *nat;
};

static void test_type_promotion(void **state)
{
	/* 1.6: timeout > 0 promotes 1->3, 2->4, 5->6; 0 demotes back;
	 * type 0 never carries a timeout (1.1 row 9) */
	static const struct promo cases[] = {
		{ 1, 60, 3, "" }, { 2, 60, 4, "1.2.3.4,22" },
		{ 5, 60, 6, "127.0.0.1,22" }, { 3, 0, 1, "" },
		{ 4, 0, 2, "1.2.3.4,22" }, { 6, 0, 5, "127.0.0.1,22" },
		{ 3, 7, 3, "" }, { 4, 7, 4, "1.2.3.4,22" },
		{ 6, 7, 6, "127.0.0.1,22" }, { 1, 0, 1, "" },
		{ 0, 60, 0, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct promo *p = &cases[i];
		struct rt_case c = { p->in_type,
				     p->in_type == 0 ? "10.0.0.1,ls -l" : "10.0.0.1,tcp/22",
				     p->nat, "", p->timeout };
		struct rt_case want_c = c;
		struct spa_message m, back;
		char out[1024], e[1024], want[1024];
		size_t len = 0;

		fill(&m, &c, SPA_DIGEST_SHA256);
		assert_int_equal(encode(&m, out, sizeof(out), &len), 0);
		if (m.type != p->out_type)
			fail_msg("type %d timeout %u: m->type %d, want %d",
				 p->in_type, p->timeout, m.type, p->out_type);
		want_c.type = p->out_type;
		if (p->out_type == 0)
			want_c.timeout = 0;
		oracle_e(&want_c, "bob smith", e, sizeof(e));
		assert_true(ut_plaintext(e, SPA_DIGEST_SHA256, want, sizeof(want)) > 0);
		if (strcmp(out, want) != 0)
			fail_msg("type %d timeout %u:\n got  %s\n want %s",
				 p->in_type, p->timeout, out, want);
		assert_int_equal(decode_exact(out, len, &back), 0);
		assert_int_equal(back.type, p->out_type);
		assert_int_equal(back.client_timeout, want_c.timeout);
	}
}

static void test_encode_capacity(void **state)
{
	struct spa_message m;
	char out[512], *tight;
	size_t len = 0, len2 = 0;
	int rc;

	(void)state;
	ut_kat_message(&kat_vectors[0], &m);
	assert_int_equal(encode(&m, out, sizeof(out), &len), 0);
	/* the NUL needs room too */
	tight = malloc(len);
	assert_non_null(tight);
	rc = spa_message_encode(&m, tight, len, &len2);
	assert_rc_in(rc, SPA_E_TOO_LONG, SPA_E_ARG, SPA_E_NOMEM);
	free(tight);
	tight = malloc(len + 1);
	assert_non_null(tight);
	assert_int_equal(spa_message_encode(&m, tight, len + 1, &len2), 0);
	assert_int_equal(len2, len);
	assert_string_equal(tight, out);
	free(tight);
	assert_true(spa_message_encode(NULL, out, sizeof(out), &len) < 0);
	assert_true(spa_message_encode(&m, NULL, sizeof(out), &len) < 0);
}

static void test_encode_never_writes_past_cap(void **state)
{
	/* every cap below the need fails cleanly and leaves the bytes after
	 * cap alone (a canary, so the plain build sees it too) */
	(void)state;
	for (size_t i = 0; i < kat_vector_count; i++) {
		struct spa_message m;
		char out[1024], buf[1024 + 32];
		size_t len = 0, len2 = 0;

		ut_kat_message(&kat_vectors[i], &m);
		assert_int_equal(encode(&m, out, sizeof(out), &len), 0);
		for (size_t cap = 1; cap <= len; cap++) {
			int rc;

			memset(buf, 0xa5, sizeof(buf));
			ut_kat_message(&kat_vectors[i], &m);
			rc = spa_message_encode(&m, buf, cap, &len2);
			if (rc == 0)
				fail_msg("vector %d: cap %zu < %zu accepted",
					 kat_vectors[i].id, cap, len + 1);
			for (size_t j = cap; j < cap + 32; j++)
				if ((unsigned char)buf[j] != 0xa5)
					fail_msg("vector %d: cap %zu, byte %zu "
						 "written", kat_vectors[i].id,
						 cap, j);
		}
	}
}

static void encode_expect(struct spa_message *m, const char *what,
			  const int *codes, size_t n)
{
	char out[2048];
	size_t len = 0;
	int rc = spa_message_encode(m, out, sizeof(out), &len);

	if (rc == 0)
		fail_msg("encode accepted %s", what);
	ut_assert_rc_in(rc, codes, n, what, __FILE__, __LINE__);
}

#define ENC_BAD(m, what, ...)                                                \
	do {                                                                 \
		const int c_[] = { __VA_ARGS__ };                            \
		encode_expect((m), (what), c_, sizeof(c_) / sizeof(c_[0]));  \
	} while (0)

static void test_encode_refuses_bad_fields(void **state)
{
	const struct kat_vector *v1 = &kat_vectors[0];
	struct spa_message m;

	(void)state;
	ut_kat_message(v1, &m);
	strcpy(m.rand_val, "12345678901234a6");
	ENC_BAD(&m, "rand with a letter", SPA_E_RAND);
	ut_kat_message(v1, &m);
	strcpy(m.rand_val, "123456789012345");
	ENC_BAD(&m, "15-digit rand", SPA_E_RAND);

	ut_kat_message(v1, &m);
	strcpy(m.username, "bob:x");
	ENC_BAD(&m, "username with ':'", SPA_E_USERNAME);
	ut_kat_message(v1, &m);
	m.username[0] = '\0';
	ENC_BAD(&m, "empty username", SPA_E_USERNAME);

	ut_kat_message(v1, &m);
	m.version[0] = '\0';
	ENC_BAD(&m, "empty version", SPA_E_VERSION);

	ut_kat_message(v1, &m);
	m.type = 7;
	ENC_BAD(&m, "type 7", SPA_E_MSGTYPE);
	m.type = -1;
	ENC_BAD(&m, "type -1", SPA_E_MSGTYPE);

	ut_kat_message(v1, &m);
	strcpy(m.message, "10.1.2.3,icmp/1");
	ENC_BAD(&m, "icmp access", SPA_E_MESSAGE);
	strcpy(m.message, "10.1.2.3,tcp/22,");
	ENC_BAD(&m, "trailing comma", SPA_E_MESSAGE);
	m.message[0] = '\0';
	ENC_BAD(&m, "empty message", SPA_E_MESSAGE);

	ut_kat_message(v1, &m);
	m.type = SPA_MSG_COMMAND;
	strcpy(m.message, "10.1.2.3,");
	ENC_BAD(&m, "empty command", SPA_E_MESSAGE);

	ut_kat_message(v1, &m);
	m.type = SPA_MSG_NAT_ACCESS;
	ENC_BAD(&m, "type 2 without NAT", SPA_E_NAT);
	strcpy(m.nat_access, "1.2.3.4,22,33");
	ENC_BAD(&m, "NAT with two commas", SPA_E_NAT);

	/* 1.10: server auth below 64 bytes when set through the library */
	ut_kat_message(v1, &m);
	memset(m.server_auth, 's', 64);
	m.server_auth[64] = '\0';
	ENC_BAD(&m, "64-byte server auth", SPA_E_SERVER_AUTH, SPA_E_TOO_LONG);
	m.server_auth[63] = '\0';
	{
		char out[1024];
		size_t len = 0;

		assert_int_equal(encode(&m, out, sizeof(out), &len), 0);
	}

	ut_kat_message(v1, &m);
	m.digest_type = 99;
	ENC_BAD(&m, "digest 99", SPA_E_DIGEST_TYPE);
	m.digest_type = SPA_DIGEST_NONE;
	ENC_BAD(&m, "digest none", SPA_E_DIGEST_TYPE);
}

static void test_decode_accepts_padded_fields(void **state)
{
	/* 1.13: padded base64 fields decode fine */
	const char *e = "1234567890123456:cm9vdA==:1500000000:3.0.0:1:"
			"MTAuMC4wLjEsdGNwLzIy";
	struct spa_message m;
	char p[512];
	int n = ut_plaintext(e, SPA_DIGEST_SHA256, p, sizeof(p));

	(void)state;
	assert_int_equal(decode_exact(p, (size_t)n, &m), 0);
	assert_string_equal(m.username, "root");
	assert_string_equal(m.message, "10.0.0.1,tcp/22");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_kat_encoded_strings),
		cmocka_unit_test(test_kat_vector1_digest),
		cmocka_unit_test(test_kat_decode),
		cmocka_unit_test(test_round_trip_all_types),
		cmocka_unit_test(test_type_promotion),
		cmocka_unit_test(test_encode_capacity),
		cmocka_unit_test(test_encode_never_writes_past_cap),
		cmocka_unit_test(test_encode_refuses_bad_fields),
		cmocka_unit_test(test_decode_accepts_padded_fields),
	};

	return cmocka_run_group_tests_name("message", tests, NULL, NULL);
}
