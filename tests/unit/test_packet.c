/* SPDX-License-Identifier: MIT */
/*
 * spa_packet_build/open against fwknop's fixed-salt vectors (docs/ARCHITECTURE.md),
 * key derivation (2.1) checked with OpenSSL as the oracle, and the replay
 * digest (6.4).
 */
#include "unit_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static int open_exact(const char *wire, size_t len, const struct spa_keys *k,
		      struct spa_message *m)
{
	char *copy = ut_dup_exact(wire, len);
	int rc;

	memset(m, 0x5a, sizeof(*m));
	rc = spa_packet_open(copy, len, k, m);
	free(copy);
	return rc;
}

static void test_oracle_matches_vectors(void **state)
{
	/* guards the oracle itself: it must decrypt every spec vector */
	(void)state;
	for (size_t i = 0; i < kat_vector_count; i++) {
		const struct kat_vector *v = &kat_vectors[i];
		char p[1024], want[1024];
		int n = ut_decrypt(v->mode, v->key, v->wire, strlen(v->wire),
				   v->hmac, KAT_HMAC_KEY, p, sizeof(p));

		if (n < 0)
			fail_msg("oracle cannot open vector %d", v->id);
		assert_true(ut_plaintext(v->e, v->digest, want, sizeof(want)) > 0);
		assert_string_equal(p, want);
	}
}

static void test_build_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < kat_vector_count; i++) {
		const struct kat_vector *v = &kat_vectors[i];
		struct spa_keys *k = ut_kat_keys(v);
		struct spa_message m;
		char *out = malloc(SPA_WIRE_CAP);
		size_t len = 0;
		int rc;

		assert_non_null(out);
		ut_kat_message(v, &m);
		rc = spa_packet_build(&m, k, kat_salt, out, SPA_WIRE_CAP, &len);
		if (rc != 0)
			fail_msg("vector %d: build = %d (%s)", v->id, rc,
				 spa_strerror(rc));
		if (strcmp(out, v->wire) != 0)
			fail_msg("vector %d: WIRE\n got  %s\n want %s", v->id,
				 out, v->wire);
		assert_int_equal(len, strlen(v->wire));
		spa_keys_free(k);
		free(out);
	}
}

static void test_open_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < kat_vector_count; i++) {
		const struct kat_vector *v = &kat_vectors[i];
		struct spa_keys *k = ut_kat_keys(v);
		struct spa_message m;
		int rc = open_exact(v->wire, strlen(v->wire), k, &m);

		if (rc != 0)
			fail_msg("vector %d: open = %d (%s)", v->id, rc,
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
		spa_keys_free(k);
	}
}

static void test_build_ex_info(void **state)
{
	const struct kat_vector *v = &kat_vectors[0];
	struct spa_keys *k = ut_kat_keys(v);
	struct spa_build_info info;
	struct spa_message m;
	char out[SPA_WIRE_CAP];
	size_t len = 0;

	(void)state;
	ut_kat_message(v, &m);
	assert_int_equal(spa_packet_build_ex(&m, k, kat_salt, out, sizeof(out),
					     &len, &info), 0);
	assert_string_equal(out, v->wire);
	assert_string_equal(info.encoded, v->e);
	assert_string_equal(info.digest, "Btl+731bOt14GLXwsWicZJ7bbm3SikltxSk+U5TAEEA");
	assert_string_equal(info.hmac, "EpfHIyQfiZSbRgy6kpBF88Q93SLPbKILOCxTNf6Fg2c");
	spa_keys_free(k);

	/* no HMAC layer: empty hmac text */
	v = &kat_vectors[1];
	k = ut_kat_keys(v);
	ut_kat_message(v, &m);
	assert_int_equal(spa_packet_build_ex(&m, k, kat_salt, out, sizeof(out),
					     &len, &info), 0);
	assert_string_equal(out, v->wire);
	assert_string_equal(info.hmac, "");
	spa_keys_free(k);
	/* info may be NULL */
	k = ut_kat_keys(v);
	assert_int_equal(spa_packet_build_ex(&m, k, kat_salt, out, sizeof(out),
					     &len, NULL), 0);
	assert_string_equal(out, v->wire);
	spa_keys_free(k);
}

/* Decrypts the ciphertext part of a wire string with a given AES key/IV. */
static int decrypt_with(const char *wire, size_t ct_chars, const uint8_t *key,
			const uint8_t *iv, char *p, size_t cap)
{
	char c[1024];
	uint8_t r[800], pt[800];
	size_t r_len = 0;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, rc = -1;

	memcpy(c, "U2FsdGVkX1", 10);
	memcpy(c + 10, wire, ct_chars);
	if (!ctx || ut_unb64(c, 10 + ct_chars, r, sizeof(r), &r_len) ||
	    r_len < 32 || memcmp(r, "Salted__", 8) != 0)
		goto out;
	if (!EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv) ||
	    !EVP_DecryptUpdate(ctx, pt, &n1, r + 16, (int)r_len - 16) ||
	    !EVP_DecryptFinal_ex(ctx, pt + n1, &n2))
		goto out;
	if ((size_t)(n1 + n2) + 1 > cap)
		goto out;
	memcpy(p, pt, (size_t)(n1 + n2));
	p[n1 + n2] = '\0';
	rc = n1 + n2;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

static void hex(const char *s, uint8_t *out)
{
	for (size_t i = 0; s[2 * i]; i++) {
		unsigned int b;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

static void test_key_derivation(void **state)
{
	/* 2.1: the documented key/IV, used directly (no KDF in the test) */
	static const struct {
		int mode;
		const char *pw, *key, *iv;
	} kdf[] = {
		{ SPA_MODE_CBC, "fwknoptest",
		  "ebe462fe5be052f4611bbb47b9e7c48bd8b947d85052411f55c16f0e4e04a5ff",
		  "48926d083e8525f9424a6bdaec95c20c" },
		{ SPA_MODE_CBC_LEGACY_IV, "short",
		  "1a93083d5148d7ccc951d98a10c8c25e3ca3f196dc3f32e7258cdebb60f031b6",
		  "cf1e0dbb816c994e4f710ca141d5e213" },
	};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		uint8_t key[32], iv[16], okey[32], oiv[16];
		struct spa_keys *k = ut_keys(kdf[i].pw, kdf[i].mode, NULL, 0);
		struct spa_message m;
		char out[SPA_WIRE_CAP], p[512], e[512];
		size_t len = 0;
		int n;

		hex(kdf[i].key, key);
		hex(kdf[i].iv, iv);
		/* the oracle's KDF agrees with the documented numbers */
		assert_int_equal(ut_derive(kdf[i].pw, strlen(kdf[i].pw), kat_salt,
					   kdf[i].mode == SPA_MODE_CBC_LEGACY_IV,
					   okey, oiv), 0);
		assert_memory_equal(okey, key, 32);
		assert_memory_equal(oiv, iv, 16);

		ut_kat_message(&kat_vectors[0], &m);
		assert_int_equal(spa_packet_build(&m, k, kat_salt, out,
						  sizeof(out), &len), 0);
		n = decrypt_with(out, len, key, iv, p, sizeof(p));
		if (n < 0)
			fail_msg("mode %d: library ciphertext does not decrypt "
				 "with the documented key/IV", kdf[i].mode);
		assert_true(ut_plaintext(kat_vectors[0].e, SPA_DIGEST_SHA256, e,
					 sizeof(e)) > 0);
		assert_string_equal(p, e);
		spa_keys_free(k);
	}
}

static void test_long_key_legacy_truncated(void **state)
{
	/* 2.1: legacy mode truncates keys longer than 16 bytes */
	const char *long_pw = "0123456789abcdefXYZ";
	struct spa_keys *k = ut_keys(long_pw, SPA_MODE_CBC_LEGACY_IV, NULL, 0);
	struct spa_message m;
	char out[SPA_WIRE_CAP], p[512], want[512];
	size_t len = 0;

	(void)state;
	ut_kat_message(&kat_vectors[0], &m);
	assert_int_equal(spa_packet_build(&m, k, kat_salt, out, sizeof(out),
					  &len), 0);
	assert_true(ut_decrypt(SPA_MODE_CBC_LEGACY_IV, "0123456789abcdef", out,
			       len, SPA_HMAC_NONE, NULL, p, sizeof(p)) > 0);
	assert_true(ut_plaintext(kat_vectors[0].e, SPA_DIGEST_SHA256, want,
				 sizeof(want)) > 0);
	assert_string_equal(p, want);
	spa_keys_free(k);
}

static void test_random_salt(void **state)
{
	const struct kat_vector *v = &kat_vectors[0];
	struct spa_keys *k = ut_kat_keys(v);
	char a[SPA_WIRE_CAP], b[SPA_WIRE_CAP];
	struct spa_message m, back;
	size_t la = 0, lb = 0;

	(void)state;
	ut_kat_message(v, &m);
	assert_int_equal(spa_packet_build(&m, k, NULL, a, sizeof(a), &la), 0);
	assert_int_equal(spa_packet_build(&m, k, NULL, b, sizeof(b), &lb), 0);
	assert_int_equal(la, strlen(v->wire));
	assert_string_not_equal(a, b);
	/* 2.3: first wire char is one of 8 9 + / */
	assert_non_null(strchr("89+/", a[0]));
	assert_non_null(strchr("89+/", b[0]));
	assert_int_equal(open_exact(a, la, k, &back), 0);
	assert_string_equal(back.message, v->msg);
	assert_int_equal(open_exact(b, lb, k, &back), 0);
	spa_keys_free(k);
}

static void test_build_capacity(void **state)
{
	const struct kat_vector *v = &kat_vectors[0];
	struct spa_keys *k = ut_kat_keys(v);
	struct spa_message m;
	char out[SPA_WIRE_CAP];
	size_t len = 0;
	int rc;

	(void)state;
	ut_kat_message(v, &m);
	rc = spa_packet_build(&m, k, kat_salt, out, strlen(v->wire), &len);
	assert_rc_in(rc, SPA_E_TOO_LONG, SPA_E_ARG);
	assert_true(spa_packet_build(NULL, k, kat_salt, out, sizeof(out), &len) < 0);
	assert_true(spa_packet_build(&m, NULL, kat_salt, out, sizeof(out), &len) < 0);
	/* invalid message content is refused at build time */
	strcpy(m.message, "10.1.2.3,icmp/1");
	assert_rc(spa_packet_build(&m, k, kat_salt, out, sizeof(out), &len),
		  SPA_E_MESSAGE);
	spa_keys_free(k);
}

static void test_round_trip_all_modes(void **state)
{
	static const int modes[] = { SPA_MODE_ECB, SPA_MODE_CBC, SPA_MODE_CFB,
				     SPA_MODE_OFB, SPA_MODE_CTR,
				     SPA_MODE_CBC_LEGACY_IV };

	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		for (int h = SPA_HMAC_NONE; h <= SPA_DIGEST_MAX; h++) {
			struct spa_keys *k;
			struct spa_message m, back;
			char out[SPA_WIRE_CAP], p[512], want[512];
			size_t len = 0;

			/* fwknop refuses legacy mode together with HMAC */
			if (modes[i] == SPA_MODE_CBC_LEGACY_IV && h)
				continue;
			k = ut_keys("secret-key", modes[i],
				    h ? "another-key" : NULL, h);
			ut_kat_message(&kat_vectors[0], &m);
			m.digest_type = h ? h : SPA_DIGEST_SHA1;
			assert_int_equal(spa_packet_build(&m, k, NULL, out,
							  sizeof(out), &len), 0);
			assert_true(len >= SPA_MIN_WIRE_LEN);
			assert_int_equal(spa_packet_prefilter(out, len), 0);
			/* the oracle decrypts what the library built */
			if (ut_decrypt(modes[i], "secret-key", out, len, h,
				       "another-key", p, sizeof(p)) < 0)
				fail_msg("mode %d hmac %d: oracle cannot open",
					 modes[i], h);
			assert_true(ut_plaintext(kat_vectors[0].e, m.digest_type,
						 want, sizeof(want)) > 0);
			assert_string_equal(p, want);
			assert_int_equal(open_exact(out, len, k, &back), 0);
			assert_string_equal(back.message, kat_vectors[0].msg);
			spa_keys_free(k);
		}
	}
}

static void test_open_oracle_packets(void **state)
{
	/* packets made by the oracle in every mode open in the library */
	static const int modes[] = { SPA_MODE_ECB, SPA_MODE_CBC, SPA_MODE_CFB,
				     SPA_MODE_OFB, SPA_MODE_CTR };
	const uint8_t salt[8] = { 0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3 };

	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		for (int h = SPA_HMAC_NONE; h <= SPA_DIGEST_MAX; h++) {
			struct spa_keys *k = ut_keys(KAT_KEY, modes[i],
						     h ? KAT_HMAC_KEY : NULL, h);
			char p[512], wire[SPA_WIRE_CAP];
			struct spa_message m;
			int pn = ut_plaintext(kat_vectors[6].e, SPA_DIGEST_SHA384,
					      p, sizeof(p));
			int wn = ut_encrypt(modes[i], KAT_KEY, salt, p,
					    (size_t)pn, h, KAT_HMAC_KEY, wire,
					    sizeof(wire));
			int rc;

			assert_true(wn > 0);
			rc = open_exact(wire, (size_t)wn, k, &m);
			if (rc != 0)
				fail_msg("mode %d hmac %d: open %d (%s)",
					 modes[i], h, rc, spa_strerror(rc));
			assert_int_equal(m.type, 6);
			assert_string_equal(m.nat_access, "127.0.0.1,22");
			assert_int_equal(m.client_timeout, 30);
			spa_keys_free(k);
		}
	}
}

static void test_replay_digest(void **state)
{
	(void)state;
	/* out is 44 bytes: nothing may land after it (canary for the plain
	 * build; ASan sees it anyway) */
	{
		char buf[44 + 16];

		memset(buf, 0xa5, sizeof(buf));
		assert_int_equal(spa_replay_digest(kat_vectors[0].wire,
						   strlen(kat_vectors[0].wire),
						   buf), 0);
		assert_int_equal(strlen(buf), 43);
		for (size_t j = 44; j < sizeof(buf); j++)
			if ((unsigned char)buf[j] != 0xa5)
				fail_msg("spa_replay_digest wrote byte %zu of a "
					 "44-byte buffer", j);
	}
	for (size_t i = 0; i < kat_vector_count; i++) {
		const char *w = kat_vectors[i].wire;
		size_t wl = strlen(w);
		char want[64], out[44], *copy = ut_dup_exact(w, wl);

		assert_int_equal(ut_digest_b64(SPA_DIGEST_SHA256, w, wl, want), 43);
		memset(out, 'x', sizeof(out));
		assert_int_equal(spa_replay_digest(copy, wl, out), 0);
		assert_string_equal(out, want);
		free(copy);
	}
	/* the raw text counts: a trailing '=' changes the digest (12.7) */
	{
		const char *w = kat_vectors[1].wire;
		char buf[400], a[44], b[44];

		snprintf(buf, sizeof(buf), "%s=", w);
		assert_int_equal(spa_replay_digest(w, strlen(w), a), 0);
		assert_int_equal(spa_replay_digest(buf, strlen(buf), b), 0);
		assert_string_not_equal(a, b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oracle_matches_vectors),
		cmocka_unit_test(test_build_vectors),
		cmocka_unit_test(test_open_vectors),
		cmocka_unit_test(test_build_ex_info),
		cmocka_unit_test(test_key_derivation),
		cmocka_unit_test(test_long_key_legacy_truncated),
		cmocka_unit_test(test_random_salt),
		cmocka_unit_test(test_build_capacity),
		cmocka_unit_test(test_round_trip_all_modes),
		cmocka_unit_test(test_open_oracle_packets),
		cmocka_unit_test(test_replay_digest),
	};

	return cmocka_run_group_tests_name("packet", tests, NULL, NULL);
}
