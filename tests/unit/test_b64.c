/* SPDX-License-Identifier: MIT */
/* spa_b64_*: fwknop's base64 rules (docs/ARCHITECTURE.md). */
#include "unit_helpers.h"

#include <stdlib.h>
#include <string.h>

struct b64_vec {
	const char *raw;
	const char *padded;
	const char *stripped;
};

/* RFC 4648 section 10 */
static const struct b64_vec rfc4648[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

/* Output buffers are sized exactly as the header promises so that ASan and
 * valgrind see any write past them: spa_b64_encoded_len(len) + 1 for the
 * stripped form, the padded length + 1 for the padded one. */
static char *exact_out(size_t len)
{
	return malloc(spa_b64_encoded_len(len) + 1);
}

static char *exact_out_padded(size_t len)
{
	return malloc((len + 2) / 3 * 4 + 1);
}

static void test_encode_rfc4648(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		const struct b64_vec *v = &rfc4648[i];
		size_t len = strlen(v->raw);
		char *out = exact_out(len);
		size_t n;

		assert_non_null(out);
		n = spa_b64_encode((const uint8_t *)v->raw, len, out);
		assert_int_equal(n, strlen(v->stripped));
		assert_string_equal(out, v->stripped);
		free(out);
	}
}

static void test_encode_padded_rfc4648(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		const struct b64_vec *v = &rfc4648[i];
		size_t len = strlen(v->raw);
		char *out = exact_out_padded(len);
		size_t n;

		assert_non_null(out);
		n = spa_b64_encode_padded((const uint8_t *)v->raw, len, out);
		assert_int_equal(n, strlen(v->padded));
		assert_string_equal(out, v->padded);
		free(out);
	}
}

static void test_encode_stays_in_bounds(void **state)
{
	uint8_t raw[64];
	char buf[128];

	(void)state;
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i * 29 + 1);
	for (size_t len = 0; len <= sizeof(raw); len++) {
		size_t room = spa_b64_encoded_len(len) + 1;
		size_t proom = (len + 2) / 3 * 4 + 1;

		/* the stripped length is what the header calls the length */
		assert_true(spa_b64_encoded_len(len) >= (len * 4 + 2) / 3);
		memset(buf, 0xa5, sizeof(buf));
		spa_b64_encode(raw, len, buf);
		for (size_t j = room; j < sizeof(buf); j++)
			if ((unsigned char)buf[j] != 0xa5)
				fail_msg("spa_b64_encode(%zu bytes) wrote byte %zu, "
					 "past spa_b64_encoded_len()+1 = %zu",
					 len, j, room);
		memset(buf, 0xa5, sizeof(buf));
		spa_b64_encode_padded(raw, len, buf);
		for (size_t j = proom; j < sizeof(buf); j++)
			if ((unsigned char)buf[j] != 0xa5)
				fail_msg("spa_b64_encode_padded(%zu bytes) wrote "
					 "byte %zu, past %zu", len, j, proom);
	}
}

static void test_encode_all_bytes(void **state)
{
	uint8_t raw[256];
	char *out = exact_out_padded(sizeof(raw));
	char ref[400];
	size_t n, rn;

	(void)state;
	assert_non_null(out);
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)i;
	for (size_t len = 0; len <= sizeof(raw); len += 7) {
		n = spa_b64_encode(raw, len, out);
		rn = ut_b64(raw, len, ref, false);
		assert_int_equal(n, rn);
		assert_string_equal(out, ref);
		n = spa_b64_encode_padded(raw, len, out);
		rn = ut_b64(raw, len, ref, true);
		assert_int_equal(n, rn);
		assert_string_equal(out, ref);
	}
	free(out);
}

static void check_decode(const char *in, const char *want, size_t want_len)
{
	size_t in_len = strlen(in);
	char *src = ut_dup_exact(in, in_len);
	uint8_t out[300];
	size_t out_len = 12345;
	int rc = spa_b64_decode(src, in_len, out, sizeof(out), &out_len);

	if (rc != 0)
		fail_msg("decode(\"%s\") = %d (%s)", in, rc, spa_strerror(rc));
	assert_int_equal(out_len, want_len);
	assert_memory_equal(out, want, want_len);
	free(src);
}

static void test_decode_rfc4648(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		const struct b64_vec *v = &rfc4648[i];

		check_decode(v->padded, v->raw, strlen(v->raw));
		check_decode(v->stripped, v->raw, strlen(v->raw));
	}
}

static void test_decode_stops_at_equals(void **state)
{
	(void)state;
	check_decode("cm9vdA==", "root", 4);
	check_decode("cm9vdA", "root", 4);
	/* everything after the first '=' is ignored, even invalid bytes */
	check_decode("cm9vdA==AAAA", "root", 4);
	check_decode("cm9vdA=!!!", "root", 4);
	check_decode("Zm9v=Zm9v", "foo", 3);
	check_decode("=Zm9v", "", 0);
}

static void test_decode_ignores_leftover_bits(void **state)
{
	(void)state;
	/* one char carries 6 bits: no whole byte */
	check_decode("Q", "", 0);
	/* "QR": 12 bits, one byte 'A' and 4 leftover bits (non-zero) */
	check_decode("QR", "A", 1);
	check_decode("QUJDRA", "ABCD", 4);
	check_decode("QUJDRB", "ABCD", 4);
}

static void test_decode_all_bytes(void **state)
{
	uint8_t raw[256], out[256];
	char enc[400];
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(255 - i);
	ut_b64(raw, sizeof(raw), enc, false);
	assert_int_equal(spa_b64_decode(enc, strlen(enc), out, sizeof(out), &n), 0);
	assert_int_equal(n, sizeof(raw));
	assert_memory_equal(out, raw, sizeof(raw));
}

static void test_decode_rejects_alphabet(void **state)
{
	/* url-safe, whitespace, punctuation, NUL and high bytes are all out */
	static const char bad[] = { '-', '_', ' ', '\n', '\r', '\t', '.', '!',
				    '*', '~', ':', '@', '\0', '\x7f',
				    (char)0x80, (char)0xc3, (char)0xff };

	(void)state;
	for (size_t i = 0; i < sizeof(bad); i++) {
		for (size_t pos = 0; pos < 8; pos += 3) {
			char in[9] = "Zm9vYmFy";
			char *src;
			uint8_t out[16];
			size_t n = 0;
			int rc;

			in[pos] = bad[i];
			src = ut_dup_exact(in, 8);
			rc = spa_b64_decode(src, 8, out, sizeof(out), &n);
			if (rc != -SPA_E_BASE64)
				fail_msg("byte 0x%02x at %zu: rc %d, want %d",
					 (unsigned char)bad[i], pos, rc,
					 -SPA_E_BASE64);
			free(src);
		}
	}
}

static void test_decode_respects_in_len(void **state)
{
	uint8_t out[16];
	size_t n = 0;

	(void)state;
	/* only the first 4 characters belong to the input */
	assert_int_equal(spa_b64_decode("Zm9v!!!!", 4, out, sizeof(out), &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "foo", 3);
}

static void test_decode_capacity(void **state)
{
	uint8_t *out;
	size_t n = 0;
	int rc;

	(void)state;
	/* exactly enough: 6 bytes, no NUL terminator promised */
	out = malloc(6);
	assert_non_null(out);
	assert_int_equal(spa_b64_decode("Zm9vYmFy", 8, out, 6, &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(out, "foobar", 6);
	free(out);

	out = malloc(5);
	assert_non_null(out);
	rc = spa_b64_decode("Zm9vYmFy", 8, out, 5, &n);
	assert_rc_in(rc, SPA_E_TOO_LONG, SPA_E_ARG);
	free(out);

	out = malloc(1);
	assert_non_null(out);
	rc = spa_b64_decode("Zm9vYmFy", 8, out, 0, &n);
	assert_rc_in(rc, SPA_E_TOO_LONG, SPA_E_ARG);
	free(out);
}

static void test_decode_null_args(void **state)
{
	uint8_t out[8];
	size_t n;

	(void)state;
	assert_true(spa_b64_decode(NULL, 4, out, sizeof(out), &n) < 0);
	assert_true(spa_b64_decode("Zm9v", 4, NULL, sizeof(out), &n) < 0);
	assert_true(spa_b64_decode("Zm9v", 4, out, sizeof(out), NULL) < 0);
}

static void test_round_trip_lengths(void **state)
{
	uint8_t raw[100], back[100];
	char *enc;

	(void)state;
	for (size_t len = 0; len <= sizeof(raw); len++) {
		size_t n = 0, elen;

		for (size_t i = 0; i < len; i++)
			raw[i] = (uint8_t)(i * 37 + len);
		enc = exact_out(len);
		assert_non_null(enc);
		elen = spa_b64_encode(raw, len, enc);
		assert_int_equal(elen, (len * 4 + 2) / 3);
		assert_null(strchr(enc, '='));
		assert_int_equal(spa_b64_decode(enc, elen, back, len, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(back, raw, len);
		free(enc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_rfc4648),
		cmocka_unit_test(test_encode_padded_rfc4648),
		cmocka_unit_test(test_encode_stays_in_bounds),
		cmocka_unit_test(test_encode_all_bytes),
		cmocka_unit_test(test_decode_rfc4648),
		cmocka_unit_test(test_decode_stops_at_equals),
		cmocka_unit_test(test_decode_ignores_leftover_bits),
		cmocka_unit_test(test_decode_all_bytes),
		cmocka_unit_test(test_decode_rejects_alphabet),
		cmocka_unit_test(test_decode_respects_in_len),
		cmocka_unit_test(test_decode_capacity),
		cmocka_unit_test(test_decode_null_args),
		cmocka_unit_test(test_round_trip_lengths),
	};

	return cmocka_run_group_tests_name("b64", tests, NULL, NULL);
}
