/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the wire-library unit tests.
 *
 * The ut_* crypto helpers are an independent oracle built directly on
 * OpenSSL EVP: the tests compare the library against them, so they must
 * never call into spawire themselves.
 */
#ifndef UNIT_HELPERS_H
#define UNIT_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include "spa_wire.h"

/* Common inputs of fwknop's fixed-salt vectors. */
#define KAT_RAND     "1234567890123456"
#define KAT_USER     "alice"
#define KAT_USER_B64 "YWxpY2U"
#define KAT_TS       1500000000u
#define KAT_KEY      "fwknoptest"
#define KAT_HMAC_KEY "hmackeytest1234"
extern const uint8_t kat_salt[8];

struct kat_vector {
	int id;
	int mode;
	const char *key;
	int digest;
	int hmac;            /* SPA_HMAC_NONE: no HMAC layer */
	int type;            /* the type that must appear on the wire */
	const char *msg;
	const char *nat;
	const char *auth;
	uint32_t timeout;
	const char *e;       /* encoded message E */
	const char *wire;
};
extern const struct kat_vector kat_vectors[];
extern const size_t kat_vector_count;

/* Fills m with the vector's inputs (no CSPRNG, no spa_message_init). */
void ut_kat_message(const struct kat_vector *v, struct spa_message *m);
/* Keys for the vector; fails the test if spa_keys_new refuses them. */
struct spa_keys *ut_kat_keys(const struct kat_vector *v);
struct spa_keys *ut_keys(const char *key, int mode, const char *hmac_key,
			 int hmac_type);

/* ---- the oracle ---- */
/* Base64 of in; '=' kept when pad. out needs 4*((len+2)/3)+1 bytes. */
size_t ut_b64(const void *in, size_t len, char *out, bool pad);
/* Decodes stripped or padded base64; -1 on malformed input. */
int ut_unb64(const char *in, size_t len, uint8_t *out, size_t cap,
	     size_t *out_len);
const char *ut_md_name(int digest_type);
/* b64(H(data)) stripped; out needs 90 bytes. Returns length or -1. */
int ut_digest_b64(int type, const void *data, size_t len, char *out);
int ut_hmac_b64(int type, const void *key, size_t key_len,
		const void *data, size_t len, char *out);
/* EVP_BytesToKey(MD5, 1 iteration), with the legacy '0' padding rule. */
int ut_derive(const char *pw, size_t pw_len, const uint8_t salt[8],
	      bool legacy, uint8_t key[32], uint8_t iv[16]);
/* P -> WIRE as docs/ARCHITECTURE.md describes. Returns length or -1. */
int ut_encrypt(int mode, const char *pw, const uint8_t salt[8],
	       const void *p, size_t p_len, int hmac_type,
	       const char *hmac_key, char *wire, size_t cap);
/* Encrypts raw (already padded or deliberately odd) bytes into R and wraps
 * it; lets tests make ciphertexts of any length. */
int ut_wrap_raw(const uint8_t *r, size_t r_len, int hmac_type,
		const char *hmac_key, char *wire, size_t cap);
/* Like ut_encrypt but without any padding: p_len must already be a whole
 * number of blocks for the block modes (pre-2.5 legacy-mode clients sent
 * block-aligned plaintexts this way). Returns length or -1. */
int ut_encrypt_nopad(int mode, const char *pw, const uint8_t salt[8],
		     const void *p, size_t p_len, int hmac_type,
		     const char *hmac_key, char *wire, size_t cap);
/* WIRE -> P; verifies the HMAC when hmac_type != 0. Returns length or -1. */
int ut_decrypt(int mode, const char *pw, const char *wire, size_t wire_len,
	       int hmac_type, const char *hmac_key, char *p, size_t cap);
/* out = e ":" b64(H(e)); returns length or -1. */
int ut_plaintext(const char *e, int digest_type, char *out, size_t cap);

/* Heap copy of exactly len bytes, no NUL, so sanitizers catch over-reads. */
char *ut_dup_exact(const void *p, size_t len);

void ut_assert_rc_in(int rc, const int *codes, size_t n, const char *expr,
		     const char *file, int line);
/* rc must be -code for one of the listed positive SPA_E_* codes. */
#define assert_rc_in(rc, ...)                                                \
	do {                                                                 \
		const int ut_codes_[] = { __VA_ARGS__ };                     \
		ut_assert_rc_in((rc), ut_codes_,                             \
				sizeof(ut_codes_) / sizeof(ut_codes_[0]),    \
				#rc, __FILE__, __LINE__);                    \
	} while (0)
#define assert_rc(rc, code) assert_rc_in(rc, code)

#endif
