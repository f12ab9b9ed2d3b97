/* SPDX-License-Identifier: MIT */
/* Algorithm and message-type names (docs/ARCHITECTURE.md). */
#include "unit_helpers.h"

#include <string.h>

struct digest_row {
	int id;
	const char *name;
	const char *label;
	size_t raw_len;
	size_t b64_len;
};

/* 1.12 / 3.1 tables */
static const struct digest_row digests[] = {
	{ SPA_DIGEST_MD5, "md5", "MD5", 16, 22 },
	{ SPA_DIGEST_SHA1, "sha1", "SHA1", 20, 27 },
	{ SPA_DIGEST_SHA256, "sha256", "SHA256", 32, 43 },
	{ SPA_DIGEST_SHA384, "sha384", "SHA384", 48, 64 },
	{ SPA_DIGEST_SHA512, "sha512", "SHA512", 64, 86 },
	{ SPA_DIGEST_SHA3_256, "sha3_256", "SHA3_256", 32, 43 },
	{ SPA_DIGEST_SHA3_512, "sha3_512", "SHA3_512", 64, 86 },
};
#define N_DIGESTS (sizeof(digests) / sizeof(digests[0]))

static void mixed_case(const char *in, char *out, size_t cap, int variant)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < cap; i++) {
		char c = in[i];

		if ((variant == 1) || (variant == 2 && i % 2 == 0))
			c = (char)((c >= 'a' && c <= 'z') ? c - 32 :
				   (c >= 'A' && c <= 'Z') ? c + 32 : c);
		out[i] = c;
	}
	out[i] = '\0';
}

static void test_digest_from_name(void **state)
{
	char buf[32];

	(void)state;
	for (size_t i = 0; i < N_DIGESTS; i++) {
		for (int v = 0; v < 3; v++) {
			mixed_case(digests[i].name, buf, sizeof(buf), v);
			if (spa_digest_from_name(buf) != digests[i].id)
				fail_msg("spa_digest_from_name(\"%s\") = %d, want %d",
					 buf, spa_digest_from_name(buf),
					 digests[i].id);
		}
	}
}

static void test_digest_from_name_unknown(void **state)
{
	static const char *bad[] = { "", "sha", "sha224", "sha3-256", "sha3",
				     "md4", "sha256 ", " sha256", "sha2561",
				     "ripemd160", "sha 256", "md5\n" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = spa_digest_from_name(bad[i]);

		if (rc > 0)
			fail_msg("\"%s\" accepted as %d", bad[i], rc);
		assert_rc_in(rc, SPA_E_DIGEST_TYPE, SPA_E_HMAC_TYPE, SPA_E_ARG);
	}
	assert_true(spa_digest_from_name(NULL) < 0);
}

static void test_digest_names_and_lengths(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_DIGESTS; i++) {
		const struct digest_row *d = &digests[i];

		assert_string_equal(spa_digest_name(d->id), d->name);
		assert_string_equal(spa_digest_label(d->id), d->label);
		assert_int_equal(spa_digest_raw_len(d->id), d->raw_len);
		assert_int_equal(spa_digest_b64_len(d->id), d->b64_len);
		/* the stripped b64 length follows from the raw length */
		assert_int_equal(d->b64_len, (d->raw_len * 4 + 2) / 3);
	}
}

static void test_digest_unknown_ids(void **state)
{
	static const int bad[] = { SPA_DIGEST_NONE, -1, 8, 99, -SPA_E_ARG };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(spa_digest_b64_len(bad[i]), 0);
		assert_int_equal(spa_digest_raw_len(bad[i]), 0);
		assert_non_null(spa_digest_name(bad[i]));
		assert_non_null(spa_digest_label(bad[i]));
	}
	assert_string_equal(spa_digest_name(99), "unknown");
}

struct mode_row {
	int id;
	const char *name;
};

static const struct mode_row modes[] = {
	{ SPA_MODE_ECB, "ECB" }, { SPA_MODE_CBC, "CBC" },
	{ SPA_MODE_CFB, "CFB" }, { SPA_MODE_OFB, "OFB" },
	{ SPA_MODE_CTR, "CTR" }, { SPA_MODE_CBC_LEGACY_IV, "legacy" },
	{ SPA_MODE_ASYMMETRIC, "Asymmetric" },
};

static void test_mode_from_name(void **state)
{
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		for (int v = 0; v < 3; v++) {
			mixed_case(modes[i].name, buf, sizeof(buf), v);
			if (spa_mode_from_name(buf) != modes[i].id)
				fail_msg("spa_mode_from_name(\"%s\") = %d, want %d",
					 buf, spa_mode_from_name(buf),
					 modes[i].id);
		}
		assert_string_equal(spa_mode_name(modes[i].id), modes[i].name);
	}
}

static void test_mode_refused(void **state)
{
	/* PCBC is declared by fwknop but never worked (2.2): refuse it */
	static const char *bad[] = { "PCBC", "pcbc", "Pcbc", "", "cbc ", "GCM",
				     "aes", "unknown", "CBC-legacy", "cbc\n" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = spa_mode_from_name(bad[i]);

		if (rc >= 0)
			fail_msg("mode \"%s\" accepted as %d", bad[i], rc);
		assert_rc_in(rc, SPA_E_MODE, SPA_E_UNSUPPORTED);
	}
	assert_true(spa_mode_from_name(NULL) < 0);
	assert_non_null(spa_mode_name(99));
	assert_non_null(spa_mode_name(-1));
}

static void test_msg_type_names(void **state)
{
	(void)state;
	assert_string_equal(spa_msg_type_name(SPA_MSG_ACCESS), "Access msg");
	for (int t = 0; t <= SPA_MSG_TYPE_MAX; t++) {
		const char *n = spa_msg_type_name(t);

		assert_non_null(n);
		assert_true(strlen(n) > 0);
		for (int u = 0; u < t; u++)
			if (strcmp(n, spa_msg_type_name(u)) == 0)
				fail_msg("types %d and %d share name \"%s\"",
					 u, t, n);
	}
	assert_non_null(spa_msg_type_name(7));
	assert_non_null(spa_msg_type_name(-1));
}

static void test_strerror(void **state)
{
	(void)state;
	for (int e = 0; e <= SPA_E__COUNT + 5; e++) {
		const char *a = spa_strerror(e), *b = spa_strerror(-e);

		assert_non_null(a);
		assert_non_null(b);
		assert_string_equal(a, b);
	}
	/* distinct codes must read differently */
	for (int e = 1; e < SPA_E__COUNT; e++) {
		assert_true(strlen(spa_strerror(-e)) > 0);
		for (int f = 1; f < e; f++)
			if (strcmp(spa_strerror(-e), spa_strerror(-f)) == 0)
				fail_msg("codes %d and %d share message \"%s\"",
					 e, f, spa_strerror(-e));
	}
	assert_non_null(spa_strerror(-100000));
	assert_non_null(spa_strerror(100000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_from_name),
		cmocka_unit_test(test_digest_from_name_unknown),
		cmocka_unit_test(test_digest_names_and_lengths),
		cmocka_unit_test(test_digest_unknown_ids),
		cmocka_unit_test(test_mode_from_name),
		cmocka_unit_test(test_mode_refused),
		cmocka_unit_test(test_msg_type_names),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
