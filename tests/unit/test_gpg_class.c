/* SPDX-License-Identifier: MIT */
/*
 * GnuPG mode without gpg (docs/GNUPG.md): the size classification, the
 * checks spa_gpg_open makes before gpg would be started, key sets and the
 * signature verdicts. The options name a gpg that does not exist, so any
 * input that reached gpg would show as -SPA_E_GPG.
 */
#include "unit_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct spa_gpg_opts no_gpg = { .gpg_exe = "/nonexistent/gpg" };

/* A GnuPG key set: an HMAC key and no Rijndael key. */
static struct spa_keys *hmac_set(const char *key)
{
	return ut_keys("", SPA_MODE_ASYMMETRIC, key, SPA_DIGEST_SHA256);
}

/* n characters of the wire alphabet. */
static char *text(size_t n, char c)
{
	char *p = malloc(n + 1);

	assert_non_null(p);
	memset(p, c, n);
	p[n] = '\0';
	return p;
}

static int open_nogpg(const char *wire, size_t len, const struct spa_keys *k)
{
	struct spa_message m;
	struct spa_gpg_result r;
	char *copy = ut_dup_exact(wire, len);
	int rc = spa_gpg_open(&no_gpg, copy, len, k, &m, &r);
	int pre = spa_gpg_precheck(copy, len, k);

	free(copy);
	if (rc == -SPA_E_GPG)
		fail_msg("a %zu-character input reached gpg", len);
	/* the precheck is exactly the part before gpg: same verdict */
	assert_int_equal(pre, rc);
	return rc;
}

static void test_enc_type(void **state)
{
	char *t = text(SPA_MAX_WIRE_LEN, 'A');

	(void)state;
	assert_rc(spa_packet_enc_type(t, 35), SPA_E_TOO_SHORT);
	assert_int_equal(spa_packet_enc_type(t, 36), SPA_ENC_RIJNDAEL);
	assert_int_equal(spa_packet_enc_type(t, 399), SPA_ENC_RIJNDAEL);
	assert_int_equal(spa_packet_enc_type(t, 400), SPA_ENC_GPG);
	assert_int_equal(spa_packet_enc_type(t, 1499), SPA_ENC_GPG);
	assert_rc(spa_packet_enc_type(t, 1500), SPA_E_TOO_LONG);
	assert_rc(spa_packet_enc_type(NULL, 400), SPA_E_ARG);
	free(t);
}

/* libfko's measure without an HMAC: the bare wire text. */
static void test_class_without_hmac(void **state)
{
	char *t = text(SPA_MAX_WIRE_LEN, 'A');

	(void)state;
	assert_rc(open_nogpg(t, 399, NULL), SPA_E_ENCTYPE);
	/* "hQ" + 400 'A's: valid base64, not a session key packet */
	assert_rc(open_nogpg(t, 400, NULL), SPA_E_GPG_BADDATA);
	assert_rc(open_nogpg(t, 35, NULL), SPA_E_TOO_SHORT);
	assert_rc(open_nogpg(t, 1500, NULL), SPA_E_TOO_LONG);
	/* '=' and leftover bits: one packet, one spelling */
	t[200] = '=';
	assert_rc(open_nogpg(t, 400, NULL), SPA_E_BASE64);
	t[200] = 'A';
	t[400] = 'B';
	assert_rc(open_nogpg(t, 401, NULL), SPA_E_BASE64);
	free(t);
}

/* With an HMAC the text is measured with "hQ" put back: 398 characters of
 * ciphertext before the MAC are the shortest GnuPG packet. */
static void test_class_with_hmac(void **state)
{
	struct spa_keys *k = hmac_set(KAT_HMAC_KEY);
	char wire[SPA_WIRE_CAP], ct[SPA_WIRE_CAP];

	(void)state;
	for (size_t n = 396; n <= 399; n++) {
		char *t = text(n, 'A');
		int rc;

		snprintf(ct, sizeof(ct), "hQ%s", t);
		snprintf(wire, sizeof(wire), "%s", t);
		assert_int_equal(ut_hmac_b64(SPA_DIGEST_SHA256, KAT_HMAC_KEY,
					     strlen(KAT_HMAC_KEY), ct, strlen(ct),
					     wire + n), 43);
		rc = open_nogpg(wire, n + 43, k);
		if (n < 398)
			assert_rc(rc, SPA_E_ENCTYPE);
		else
			assert_rc_in(rc, SPA_E_GPG_BADDATA, SPA_E_BASE64);
		/* the MAC is checked first, whatever the size */
		wire[0] = 'B';
		assert_rc(open_nogpg(wire, n + 43, k), SPA_E_HMAC);
		free(t);
	}
	spa_keys_free(k);
}

/* Random data of GnuPG size never gets to gpg unless its first bytes are
 * a plausible RSA/Elgamal session key packet header. */
static void test_garbage(void **state)
{
	struct spa_keys *k = hmac_set(KAT_HMAC_KEY);
	uint8_t bin[1100];
	char b64[1500];

	(void)state;
	for (int i = 0; i < 300; i++) {
		size_t n, len;
		int rc;

		assert_int_equal(spa_random_bytes(bin, sizeof(bin)), 0);
		len = 300 + bin[0] % 800;
		bin[0] = 0x85;
		bin[1] &= 0x0f;   /* keeps "hQ" */
		bin[3] = 4;       /* never a version 3 packet */
		n = ut_b64(bin, len, b64, false);
		rc = open_nogpg(b64 + 2, n - 2, NULL);
		assert_rc_in(rc, SPA_E_GPG_BADDATA, SPA_E_ENCTYPE, SPA_E_TOO_LONG);
		assert_rc_in(open_nogpg(b64 + 2, n - 2, k), SPA_E_HMAC,
			     SPA_E_TOO_LONG);
		/* a wire text that itself starts "hQ" is fwknopd's replay trick */
		assert_rc_in(spa_packet_prefilter(b64 + 2, n - 2), SPA_E_TOO_LONG,
			     SPA_E_PREFIX, 0);
	}
	spa_keys_free(k);
}

static void test_keys_and_args(void **state)
{
	struct spa_key_spec s = { .enc_key = (const uint8_t *)"pw",
				  .enc_key_len = 2,
				  .enc_mode = SPA_MODE_ASYMMETRIC };
	struct spa_keys *k = NULL, *h;
	struct spa_message m;
	struct spa_gpg_result r;
	char wire[SPA_WIRE_CAP];
	size_t len;

	(void)state;
	assert_rc(spa_gpg_precheck(NULL, 400, NULL), SPA_E_ARG);
	/* a GnuPG key set has no Rijndael key */
	assert_rc(spa_keys_new(&s, &k), SPA_E_KEY);
	s.enc_key = NULL;
	s.enc_key_len = 0;
	assert_int_equal(spa_keys_new(&s, &k), 0);
	assert_int_equal(spa_keys_enc_mode(k), SPA_MODE_ASYMMETRIC);
	assert_int_equal(spa_keys_hmac_type(k), SPA_HMAC_NONE);
	assert_int_equal(spa_message_init(&m), 0);
	strcpy(m.username, "alice");
	strcpy(m.message, "10.1.2.3,tcp/22");
	assert_rc(spa_packet_build(&m, k, NULL, wire, sizeof(wire), &len), SPA_E_MODE);
	h = hmac_set(KAT_HMAC_KEY);
	assert_int_equal(spa_keys_hmac_type(h), SPA_DIGEST_SHA256);
	assert_rc(spa_packet_open(wire, 200, h, &m), SPA_E_MODE);

	memset(wire, 'A', 500);
	assert_rc(spa_gpg_open(NULL, wire, 500, NULL, &m, &r), SPA_E_ARG);
	assert_rc(spa_gpg_open(&no_gpg, NULL, 500, NULL, &m, &r), SPA_E_ARG);
	assert_rc(spa_gpg_open(&no_gpg, wire, 500, NULL, NULL, &r), SPA_E_ARG);
	assert_rc(spa_gpg_open(&no_gpg, wire, 500, NULL, &m, NULL), SPA_E_ARG);
	spa_keys_free(k);
	spa_keys_free(h);
}

static void test_sig_verdicts(void **state)
{
	static const struct { int sig, validity, err; } cases[] = {
		{ SPA_GPG_SIG_NONE, 0, SPA_E_GPG_NOSIG },
		{ SPA_GPG_SIG_GOOD, SPA_GPG_VALIDITY_ULTIMATE, 0 },
		{ SPA_GPG_SIG_GOOD, SPA_GPG_VALIDITY_FULL, 0 },
		{ SPA_GPG_SIG_GOOD, SPA_GPG_VALIDITY_MARGINAL, 0 },
		{ SPA_GPG_SIG_GOOD, SPA_GPG_VALIDITY_NEVER, SPA_E_GPG_UNTRUSTED },
		{ SPA_GPG_SIG_GOOD, SPA_GPG_VALIDITY_UNKNOWN, SPA_E_GPG_UNTRUSTED },
		{ SPA_GPG_SIG_BAD, SPA_GPG_VALIDITY_FULL, SPA_E_GPG_BADSIG },
		{ SPA_GPG_SIG_NOPUBKEY, 0, SPA_E_GPG_NOPUBKEY },
		{ SPA_GPG_SIG_EXPIRED, SPA_GPG_VALIDITY_FULL, SPA_E_GPG_EXPIRED },
		{ SPA_GPG_SIG_REVOKED, SPA_GPG_VALIDITY_FULL, SPA_E_GPG_REVOKED },
		{ 99, SPA_GPG_VALIDITY_FULL, SPA_E_GPG_BADSIG },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spa_gpg_result r = { .sig = cases[i].sig,
					    .validity = cases[i].validity };

		assert_int_equal(spa_gpg_sig_error(&r), -cases[i].err);
	}
	assert_rc(spa_gpg_sig_error(NULL), SPA_E_ARG);
	for (int e = SPA_E_GPG; e < SPA_E__COUNT; e++)
		assert_string_not_equal(spa_strerror(-e), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enc_type),
		cmocka_unit_test(test_class_without_hmac),
		cmocka_unit_test(test_class_with_hmac),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_keys_and_args),
		cmocka_unit_test(test_sig_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
