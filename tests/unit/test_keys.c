/* SPDX-License-Identifier: MIT */
/* Key sets, base64 keys and --key-gen (docs/ARCHITECTURE.md, docs/man/spa-client.1). */
#include "unit_helpers.h"

#include <stdlib.h>
#include <string.h>

static uint8_t bytes_a[200], bytes_b[200];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bytes_a); i++) {
		bytes_a[i] = (uint8_t)('A' + i % 26);
		bytes_b[i] = (uint8_t)('a' + i % 26);
	}
	return 0;
}

static int keys_new(size_t enc_len, const uint8_t *hmac, size_t hmac_len,
		    int hmac_type, int mode, struct spa_keys **out)
{
	struct spa_key_spec s = {
		.enc_key = bytes_a, .enc_key_len = enc_len,
		.hmac_key = hmac, .hmac_key_len = hmac_len,
		.hmac_type = hmac_type, .enc_mode = mode,
	};

	*out = NULL;
	return spa_keys_new(&s, out);
}

static void test_keys_defaults(void **state)
{
	struct spa_keys *k;

	(void)state;
	assert_int_equal(keys_new(10, bytes_b, 20, 0, 0, &k), 0);
	assert_non_null(k);
	assert_int_equal(spa_keys_hmac_type(k), SPA_DIGEST_SHA256);
	assert_int_equal(spa_keys_enc_mode(k), SPA_MODE_CBC);
	spa_keys_free(k);

	assert_int_equal(keys_new(10, NULL, 0, 0, 0, &k), 0);
	assert_int_equal(spa_keys_hmac_type(k), SPA_HMAC_NONE);
	spa_keys_free(k);

	for (int t = SPA_DIGEST_MD5; t <= SPA_DIGEST_MAX; t++) {
		assert_int_equal(keys_new(16, bytes_b, 32, t, SPA_MODE_CTR, &k), 0);
		assert_int_equal(spa_keys_hmac_type(k), t);
		assert_int_equal(spa_keys_enc_mode(k), SPA_MODE_CTR);
		spa_keys_free(k);
	}
	static const int modes[] = { SPA_MODE_ECB, SPA_MODE_CBC, SPA_MODE_CFB,
				     SPA_MODE_OFB, SPA_MODE_CTR,
				     SPA_MODE_CBC_LEGACY_IV };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(keys_new(16, NULL, 0, 0, modes[i], &k), 0);
		assert_int_equal(spa_keys_enc_mode(k), modes[i]);
		spa_keys_free(k);
	}
	spa_keys_free(NULL);
}

static void test_keys_lengths(void **state)
{
	struct spa_keys *k;

	(void)state;
	/* 2.4: 0..32 bytes */
	assert_int_equal(keys_new(32, bytes_b, 64, 0, 0, &k), 0);
	spa_keys_free(k);
	assert_int_equal(keys_new(0, bytes_b, 64, 0, 0, &k), 0);
	spa_keys_free(k);
	assert_rc(keys_new(33, bytes_b, 64, 0, 0, &k), SPA_E_KEY);
	assert_null(k);
	assert_rc(keys_new(100, NULL, 0, 0, 0, &k), SPA_E_KEY);
	/* 3.2: 1..128 bytes */
	assert_int_equal(keys_new(16, bytes_b, 128, 0, 0, &k), 0);
	spa_keys_free(k);
	assert_int_equal(keys_new(16, bytes_b, 1, 0, 0, &k), 0);
	spa_keys_free(k);
	assert_rc(keys_new(16, bytes_b, 129, 0, 0, &k), SPA_E_KEY);
	assert_null(k);
	assert_rc(keys_new(16, bytes_b, 0, 0, 0, &k), SPA_E_KEY);
	assert_null(k);
}

static void test_keys_equal_refused(void **state)
{
	struct spa_keys *k;

	(void)state;
	/* 3.2: HMAC key identical to the encryption key is refused */
	assert_rc(keys_new(16, bytes_a, 16, 0, 0, &k), SPA_E_KEY);
	assert_null(k);
	{
		uint8_t copy[32];

		memcpy(copy, bytes_a, sizeof(copy));
		assert_rc(keys_new(32, copy, 32, SPA_DIGEST_SHA512, 0, &k),
			  SPA_E_KEY);
		assert_null(k);
	}
	/* only compared at equal length */
	assert_int_equal(keys_new(16, bytes_a, 17, 0, 0, &k), 0);
	spa_keys_free(k);
	assert_int_equal(keys_new(16, bytes_a + 1, 16, 0, 0, &k), 0);
	spa_keys_free(k);
}

static void test_keys_bad_algorithms(void **state)
{
	struct spa_keys *k;

	(void)state;
	assert_rc(keys_new(16, NULL, 0, 0, SPA_MODE_PCBC, &k), SPA_E_MODE);
	assert_null(k);
	assert_rc(keys_new(16, NULL, 0, 0, 99, &k), SPA_E_MODE);
	assert_rc(keys_new(16, NULL, 0, 0, -1, &k), SPA_E_MODE);
	assert_rc(keys_new(16, NULL, 0, 0, 9, &k), SPA_E_MODE);
	assert_rc(keys_new(16, bytes_b, 20, 8, 0, &k), SPA_E_HMAC_TYPE);
	assert_null(k);
	assert_rc(keys_new(16, bytes_b, 20, 99, 0, &k), SPA_E_HMAC_TYPE);
	assert_rc(keys_new(16, bytes_b, 20, -1, 0, &k), SPA_E_HMAC_TYPE);
}

static void test_keys_null_args(void **state)
{
	struct spa_key_spec s = { .enc_key = bytes_a, .enc_key_len = 8 };
	struct spa_keys *k = NULL;

	(void)state;
	assert_rc(spa_keys_new(NULL, &k), SPA_E_ARG);
	assert_rc(spa_keys_new(&s, NULL), SPA_E_ARG);
	s.enc_key = NULL;
	assert_true(spa_keys_new(&s, &k) < 0);
	assert_null(k);
}

static void test_key_from_base64(void **state)
{
	uint8_t out[200];
	size_t n = 0;

	(void)state;
	assert_int_equal(spa_key_from_base64("c2VjcmV0", out, sizeof(out), &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(out, "secret", 6);
	assert_int_equal(spa_key_from_base64("Zm9vYg==", out, sizeof(out), &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "foob", 4);
	assert_int_equal(spa_key_from_base64("Zm9vYg", out, sizeof(out), &n), 0);
	assert_int_equal(n, 4);
	/* a --key-gen style 44-char key gives 32 bytes */
	{
		uint8_t raw[32];
		char b64[64];

		for (size_t i = 0; i < sizeof(raw); i++)
			raw[i] = (uint8_t)(i * 7 + 3);
		ut_b64(raw, sizeof(raw), b64, true);
		assert_int_equal(strlen(b64), 44);
		assert_int_equal(spa_key_from_base64(b64, out, sizeof(out), &n), 0);
		assert_int_equal(n, 32);
		assert_memory_equal(out, raw, 32);
		assert_rc_in(spa_key_from_base64(b64, out, 31, &n), SPA_E_KEY,
			     SPA_E_TOO_LONG, SPA_E_ARG);
	}
	assert_rc_in(spa_key_from_base64("c2Vj!mV0", out, sizeof(out), &n),
		     SPA_E_KEY, SPA_E_BASE64);
	assert_rc_in(spa_key_from_base64("c2Vj cmV0", out, sizeof(out), &n),
		     SPA_E_KEY, SPA_E_BASE64);
	assert_true(spa_key_from_base64(NULL, out, sizeof(out), &n) < 0);
}

static size_t decoded_len(const char *b64, uint8_t *raw)
{
	size_t n = 0;

	if (ut_unb64(b64, strlen(b64), raw, 256, &n) != 0)
		fail_msg("keygen output \"%s\" is not base64", b64);
	return n;
}

static void check_padded(const char *b64, size_t raw_len)
{
	/* 9.5: output keeps '=' padding */
	assert_int_equal(strlen(b64), (raw_len + 2) / 3 * 4);
}

static void test_keygen_defaults(void **state)
{
	static const struct { int type; size_t len; } def[] = {
		{ SPA_DIGEST_MD5, 16 }, { SPA_DIGEST_SHA1, 20 },
		{ SPA_DIGEST_SHA256, 64 }, { SPA_DIGEST_SHA384, 128 },
		{ SPA_DIGEST_SHA512, 128 },
		/* header contract: block size capped at 128 */
		{ SPA_DIGEST_SHA3_256, 128 }, { SPA_DIGEST_SHA3_512, 72 },
	};
	char key[200], hmac[200];
	uint8_t raw[256];

	(void)state;
	for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++) {
		int rc = spa_keygen(0, 0, def[i].type, key, sizeof(key), hmac,
				    sizeof(hmac));

		if (rc != 0)
			fail_msg("keygen type %d: %d (%s)", def[i].type, rc,
				 spa_strerror(rc));
		assert_int_equal(decoded_len(key, raw), 32);
		assert_int_equal(strlen(key), 44);
		if (decoded_len(hmac, raw) != def[i].len)
			fail_msg("type %d: hmac key %zu bytes, want %zu",
				 def[i].type, decoded_len(hmac, raw), def[i].len);
		check_padded(hmac, def[i].len);
	}
	/* 9.5: sha256 gives 88 chars */
	assert_int_equal(spa_keygen(0, 0, SPA_DIGEST_SHA256, key, sizeof(key),
				    hmac, sizeof(hmac)), 0);
	assert_int_equal(strlen(hmac), 88);
}

static void test_keygen_explicit(void **state)
{
	static const size_t klens[] = { 1, 2, 3, 16, 31, 32 };
	static const size_t hlens[] = { 1, 2, 3, 20, 100, 127, 128 };
	char key[200], hmac[200];
	uint8_t raw[256];

	(void)state;
	for (size_t i = 0; i < sizeof(klens) / sizeof(klens[0]); i++) {
		for (size_t j = 0; j < sizeof(hlens) / sizeof(hlens[0]); j++) {
			assert_int_equal(spa_keygen(klens[i], hlens[j],
						    SPA_DIGEST_SHA256, key,
						    sizeof(key), hmac,
						    sizeof(hmac)), 0);
			assert_int_equal(decoded_len(key, raw), klens[i]);
			check_padded(key, klens[i]);
			assert_int_equal(decoded_len(hmac, raw), hlens[j]);
			check_padded(hmac, hlens[j]);
		}
	}
}

static void test_keygen_refused(void **state)
{
	char key[300], hmac[300];

	(void)state;
	assert_rc_in(spa_keygen(33, 0, SPA_DIGEST_SHA256, key, sizeof(key),
				hmac, sizeof(hmac)), SPA_E_ARG, SPA_E_KEY);
	assert_rc_in(spa_keygen(0, 129, SPA_DIGEST_SHA256, key, sizeof(key),
				hmac, sizeof(hmac)), SPA_E_ARG, SPA_E_KEY);
	assert_rc_in(spa_keygen(0, 0, 99, key, sizeof(key), hmac,
				sizeof(hmac)), SPA_E_ARG, SPA_E_HMAC_TYPE);
	/* 44 chars + NUL do not fit in 44 */
	assert_rc_in(spa_keygen(32, 64, SPA_DIGEST_SHA256, key, 44, hmac,
				sizeof(hmac)), SPA_E_ARG, SPA_E_TOO_LONG);
	assert_rc_in(spa_keygen(32, 64, SPA_DIGEST_SHA256, key, sizeof(key),
				hmac, 88), SPA_E_ARG, SPA_E_TOO_LONG);
	assert_int_equal(spa_keygen(32, 64, SPA_DIGEST_SHA256, key, 45, hmac,
				    89), 0);
	assert_true(spa_keygen(0, 0, SPA_DIGEST_SHA256, NULL, 45, hmac,
			       sizeof(hmac)) < 0);
}

static void test_keygen_random(void **state)
{
	char k1[64], h1[100], k2[64], h2[100];

	(void)state;
	assert_int_equal(spa_keygen(0, 0, SPA_DIGEST_SHA256, k1, sizeof(k1),
				    h1, sizeof(h1)), 0);
	assert_int_equal(spa_keygen(0, 0, SPA_DIGEST_SHA256, k2, sizeof(k2),
				    h2, sizeof(h2)), 0);
	assert_string_not_equal(k1, k2);
	assert_string_not_equal(h1, h2);
	assert_string_not_equal(k1, h1);
}

static void test_keygen_output_is_usable(void **state)
{
	char key[64], hmac[200];
	uint8_t k[64], h[200];
	size_t kn = 0, hn = 0;
	struct spa_keys *ks = NULL;
	struct spa_key_spec s;

	(void)state;
	assert_int_equal(spa_keygen(0, 0, SPA_DIGEST_SHA512, key, sizeof(key),
				    hmac, sizeof(hmac)), 0);
	assert_int_equal(spa_key_from_base64(key, k, sizeof(k), &kn), 0);
	assert_int_equal(spa_key_from_base64(hmac, h, sizeof(h), &hn), 0);
	assert_int_equal(kn, 32);
	assert_int_equal(hn, 128);
	s = (struct spa_key_spec){ .enc_key = k, .enc_key_len = kn,
				   .hmac_key = h, .hmac_key_len = hn,
				   .hmac_type = SPA_DIGEST_SHA512 };
	assert_int_equal(spa_keys_new(&s, &ks), 0);
	spa_keys_free(ks);
}

static void test_random_bytes(void **state)
{
	uint8_t a[64], b[64], zero[64] = { 0 };

	(void)state;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_int_equal(spa_random_bytes(a, sizeof(a)), 0);
	assert_int_equal(spa_random_bytes(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_int_equal(spa_random_bytes(a, 0), 0);
	/* the last byte is written too */
	{
		uint8_t *buf = malloc(33);
		int nonzero = 0;

		assert_non_null(buf);
		for (int round = 0; round < 8; round++) {
			buf[32] = 0;
			assert_int_equal(spa_random_bytes(buf, 33), 0);
			nonzero |= buf[32];
		}
		assert_true(nonzero != 0);
		free(buf);
	}
}

static void test_wipe(void **state)
{
	uint8_t buf[40];

	(void)state;
	memset(buf, 0xaa, sizeof(buf));
	spa_wipe(buf + 4, 32);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], (i >= 4 && i < 36) ? 0 : 0xaa);
	spa_wipe(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_defaults),
		cmocka_unit_test(test_keys_lengths),
		cmocka_unit_test(test_keys_equal_refused),
		cmocka_unit_test(test_keys_bad_algorithms),
		cmocka_unit_test(test_keys_null_args),
		cmocka_unit_test(test_key_from_base64),
		cmocka_unit_test(test_keygen_defaults),
		cmocka_unit_test(test_keygen_explicit),
		cmocka_unit_test(test_keygen_refused),
		cmocka_unit_test(test_keygen_random),
		cmocka_unit_test(test_keygen_output_is_usable),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_wipe),
	};

	return cmocka_run_group_tests_name("keys", tests, setup, NULL);
}
