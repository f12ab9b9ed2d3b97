/* SPDX-License-Identifier: MIT */
/*
 * Legacy-mode packets without a padding block.
 *
 * Pre-2.5 clients (old mobile ones among them) in legacy IV mode sent a
 * plaintext that ends exactly on a block boundary without the 16-byte
 * padding block; fwknopd accepts them because libfko keeps the plaintext
 * whole when its padding does not verify. spa_packet_open does the same in
 * legacy mode only, and only when the whole plaintext is an SPA message
 * whose digest verifies. The oracle builds these packets with EVP and its
 * padding switched off.
 */
#include "unit_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEGACY_KEY "short"

static int open_exact(const char *wire, size_t len, const struct spa_keys *k,
		      struct spa_message *m)
{
	char *copy = ut_dup_exact(wire, len);
	int rc = spa_packet_open(copy, len, k, m);

	free(copy);
	return rc;
}

/*
 * A plaintext P = E ":" digest whose length is a multiple of 16; the
 * username and port are varied until one fits. Fills user and access.
 */
static int aligned_plaintext(int digest, char *p, size_t cap, char *user,
			     char *access)
{
	static const unsigned ports[] = { 22, 222, 2222, 22222, 2 };

	for (size_t ulen = 1; ulen < 40; ulen++) {
		for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
			char ub[64], ab[64], e[256];
			int pn;

			memset(user, 'u', ulen);
			user[ulen] = '\0';
			snprintf(access, 32, "10.1.2.3,tcp/%u", ports[i]);
			ut_b64(user, ulen, ub, false);
			ut_b64(access, strlen(access), ab, false);
			snprintf(e, sizeof(e), "%s:%s:%u:3.0.0:1:%s", KAT_RAND,
				 ub, KAT_TS, ab);
			pn = ut_plaintext(e, digest, p, cap);
			if (pn > 0 && pn % 16 == 0)
				return pn;
		}
	}
	fail_msg("no block-aligned plaintext found");
	return -1;
}

static void test_unpadded_legacy_accepted(void **state)
{
	static const int digests[] = { SPA_DIGEST_MD5, SPA_DIGEST_SHA1,
				       SPA_DIGEST_SHA256, SPA_DIGEST_SHA512 };
	char p[512], wire[SPA_WIRE_CAP], user[64], access[32];
	struct spa_message m;

	(void)state;
	for (size_t i = 0; i < sizeof(digests) / sizeof(digests[0]); i++) {
		struct spa_keys *k = ut_keys(LEGACY_KEY, SPA_MODE_CBC_LEGACY_IV,
					     NULL, 0);
		int pn = aligned_plaintext(digests[i], p, sizeof(p), user, access);
		int wn = ut_encrypt_nopad(SPA_MODE_CBC_LEGACY_IV, LEGACY_KEY,
					  kat_salt, p, (size_t)pn, SPA_HMAC_NONE,
					  NULL, wire, sizeof(wire));

		assert_true(wn > 0);
		assert_int_equal(open_exact(wire, (size_t)wn, k, &m), 0);
		assert_string_equal(m.username, user);
		assert_string_equal(m.message, access);
		assert_int_equal(m.timestamp, KAT_TS);
		assert_int_equal(m.digest_type, digests[i]);
		spa_keys_free(k);
	}
}

static void test_unpadded_legacy_with_hmac(void **state)
{
	/* fwknopd verifies a stanza's HMAC before anything else, whatever
	 * the mode; the fallback happens after that, so it holds there too. */
	char p[512], wire[SPA_WIRE_CAP], user[64], access[32];
	struct spa_message m;
	struct spa_keys *k = ut_keys(LEGACY_KEY, SPA_MODE_CBC_LEGACY_IV,
				     KAT_HMAC_KEY, SPA_DIGEST_SHA256);
	int pn = aligned_plaintext(SPA_DIGEST_SHA256, p, sizeof(p), user, access);
	int wn = ut_encrypt_nopad(SPA_MODE_CBC_LEGACY_IV, LEGACY_KEY, kat_salt, p,
				  (size_t)pn, SPA_DIGEST_SHA256, KAT_HMAC_KEY,
				  wire, sizeof(wire));

	(void)state;
	assert_true(wn > 0);
	assert_int_equal(open_exact(wire, (size_t)wn, k, &m), 0);
	assert_string_equal(m.message, access);
	spa_keys_free(k);
}

static void test_unpadded_bad_digest_refused(void **state)
{
	char p[512], wire[SPA_WIRE_CAP], user[64], access[32];
	struct spa_message m;
	struct spa_keys *k = ut_keys(LEGACY_KEY, SPA_MODE_CBC_LEGACY_IV, NULL, 0);
	int pn = aligned_plaintext(SPA_DIGEST_SHA256, p, sizeof(p), user, access);
	int wn;

	(void)state;
	/* a digest that does not match E: the fallback must not take it */
	p[pn - 1] = p[pn - 1] == 'A' ? 'B' : 'A';
	wn = ut_encrypt_nopad(SPA_MODE_CBC_LEGACY_IV, LEGACY_KEY, kat_salt, p,
			      (size_t)pn, SPA_HMAC_NONE, NULL, wire, sizeof(wire));
	assert_true(wn > 0);
	assert_rc(open_exact(wire, (size_t)wn, k, &m), SPA_E_DECRYPT);
	spa_keys_free(k);
}

static void test_unpadded_bit_flips_refused(void **state)
{
	char p[512], wire[SPA_WIRE_CAP], w2[SPA_WIRE_CAP], user[64], access[32];
	uint8_t raw[600];
	size_t raw_len = 0;
	struct spa_message m;
	struct spa_keys *k = ut_keys(LEGACY_KEY, SPA_MODE_CBC_LEGACY_IV, NULL, 0);
	int pn = aligned_plaintext(SPA_DIGEST_SHA256, p, sizeof(p), user, access);
	int wn = ut_encrypt_nopad(SPA_MODE_CBC_LEGACY_IV, LEGACY_KEY, kat_salt, p,
				  (size_t)pn, SPA_HMAC_NONE, NULL, wire,
				  sizeof(wire));
	char ct[SPA_WIRE_CAP + 16];

	(void)state;
	assert_true(wn > 0);
	/* back to the raw container: "Salted__" || salt || ciphertext */
	snprintf(ct, sizeof(ct), "U2FsdGVkX1%s", wire);
	assert_int_equal(ut_unb64(ct, strlen(ct), raw, sizeof(raw), &raw_len), 0);
	assert_int_equal(raw_len, 16 + (size_t)pn);
	/* every bit of the salt and of the ciphertext */
	for (size_t i = 8; i < raw_len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			int n, rc;

			raw[i] ^= (uint8_t)(1u << bit);
			n = ut_wrap_raw(raw, raw_len, SPA_HMAC_NONE, NULL, w2,
					sizeof(w2));
			raw[i] ^= (uint8_t)(1u << bit);
			assert_true(n > 0);
			rc = open_exact(w2, (size_t)n, k, &m);
			if (rc == 0)
				fail_msg("flip of byte %zu bit %d accepted", i, bit);
		}
	}
	spa_keys_free(k);
}

static void test_unpadded_garbage_refused(void **state)
{
	uint8_t r[16 + 128];
	char wire[SPA_WIRE_CAP];
	struct spa_message m;
	struct spa_keys *k = ut_keys(LEGACY_KEY, SPA_MODE_CBC_LEGACY_IV, NULL, 0);
	int wn;

	(void)state;
	memcpy(r, "Salted__", 8);
	memcpy(r + 8, kat_salt, 8);
	for (size_t i = 16; i < sizeof(r); i++)
		r[i] = (uint8_t)(i * 29 + 7);
	wn = ut_wrap_raw(r, sizeof(r), SPA_HMAC_NONE, NULL, wire, sizeof(wire));
	assert_true(wn > 0);
	assert_rc(open_exact(wire, (size_t)wn, k, &m), SPA_E_DECRYPT);

	/* Printable, block-aligned, right prefix, but no digest field that
	 * verifies: still refused. */
	{
		char p[65];

		memset(p, 'A', 64);
		memcpy(p, KAT_RAND ":", 17);
		p[64] = '\0';
		wn = ut_encrypt_nopad(SPA_MODE_CBC_LEGACY_IV, LEGACY_KEY, kat_salt,
				      p, 64, SPA_HMAC_NONE, NULL, wire,
				      sizeof(wire));
		assert_true(wn > 0);
		assert_rc(open_exact(wire, (size_t)wn, k, &m), SPA_E_DECRYPT);
	}
	spa_keys_free(k);
}

static void test_unpadded_other_modes_refused(void **state)
{
	/* The fallback is for legacy mode only: a current client always
	 * pads, so an unpadded CBC packet stays a decryption failure. */
	char p[512], wire[SPA_WIRE_CAP], user[64], access[32];
	struct spa_message m;
	struct spa_keys *k = ut_keys(KAT_KEY, SPA_MODE_CBC, NULL, 0);
	int pn = aligned_plaintext(SPA_DIGEST_SHA256, p, sizeof(p), user, access);
	int wn = ut_encrypt_nopad(SPA_MODE_CBC, KAT_KEY, kat_salt, p, (size_t)pn,
				  SPA_HMAC_NONE, NULL, wire, sizeof(wire));

	(void)state;
	assert_true(wn > 0);
	assert_rc(open_exact(wire, (size_t)wn, k, &m), SPA_E_DECRYPT);
	spa_keys_free(k);
}

static void test_padded_legacy_still_works(void **state)
{
	/* The same aligned plaintext with its full padding block. */
	char p[512], wire[SPA_WIRE_CAP], user[64], access[32];
	struct spa_message m;
	struct spa_keys *k = ut_keys(LEGACY_KEY, SPA_MODE_CBC_LEGACY_IV, NULL, 0);
	int pn = aligned_plaintext(SPA_DIGEST_SHA256, p, sizeof(p), user, access);
	int wn = ut_encrypt(SPA_MODE_CBC_LEGACY_IV, LEGACY_KEY, kat_salt, p,
			    (size_t)pn, SPA_HMAC_NONE, NULL, wire, sizeof(wire));

	(void)state;
	assert_true(wn > 0);
	assert_int_equal(open_exact(wire, (size_t)wn, k, &m), 0);
	assert_string_equal(m.message, access);
	spa_keys_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unpadded_legacy_accepted),
		cmocka_unit_test(test_unpadded_legacy_with_hmac),
		cmocka_unit_test(test_unpadded_bad_digest_refused),
		cmocka_unit_test(test_unpadded_bit_flips_refused),
		cmocka_unit_test(test_unpadded_garbage_refused),
		cmocka_unit_test(test_unpadded_other_modes_refused),
		cmocka_unit_test(test_padded_legacy_still_works),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
