/* SPDX-License-Identifier: MIT */
/* Internal declarations shared by the wire library's modules. */
#ifndef SPA_INTERNAL_H
#define SPA_INTERNAL_H

#include "spa_wire.h"
#include <openssl/evp.h>

#define SPA_SALT_LEN 8
#define SPA_AES_KEY_LEN 32
#define SPA_AES_BLOCK 16
#define SPA_MAX_PLAINTEXT 1500  /* decrypted P: 36 <= len < 1500 */
#define SPA_MAX_MD_LEN 64

struct spa_digest_info {
	int id;
	const char *name;   /* option value, lower case */
	const char *label;  /* as printed by -v */
	const char *evp;    /* OpenSSL algorithm name */
	size_t raw_len;
	size_t b64_len;
};

/* NULL when the id is unknown. */
const struct spa_digest_info *spa_digest_info(int id);
/* One-shot hash; out must hold SPA_MAX_MD_LEN bytes. */
int spa_digest_raw(int id, const void *data, size_t len, uint8_t *out,
		   size_t *out_len);
/* b64(hash(data)) stripped; out must hold 128 bytes. */
int spa_digest_b64(int id, const void *data, size_t len, char *out);

/* fwknop's AES layer: key/IV from passphrase+salt, PKCS#7 padding in
 * every mode. out must hold len + 32 bytes. ctx is reused scratch state. */
int spa_cipher_encrypt(EVP_CIPHER_CTX *ctx, int mode, const uint8_t *pw, size_t pw_len,
		       const uint8_t salt[SPA_SALT_LEN], const uint8_t *in,
		       size_t len, uint8_t *out, size_t *out_len);
/*
 * in is the whole "Salted__" container (header + ciphertext). Padding that
 * does not verify is -SPA_E_DECRYPT, unless unpadded is non-NULL: then the
 * whole decrypted body is returned with *unpadded = true, and the caller
 * decides (spa_packet_open does so for legacy mode only).
 */
int spa_cipher_decrypt(EVP_CIPHER_CTX *ctx, int mode, const uint8_t *pw, size_t pw_len,
		       const uint8_t *in, size_t len, uint8_t *out,
		       size_t *out_len, bool *unpadded);
int spa_cipher_derive(int mode, const uint8_t *pw, size_t pw_len,
		      const uint8_t salt[SPA_SALT_LEN],
		      uint8_t key[SPA_AES_KEY_LEN], uint8_t iv[SPA_AES_BLOCK]);

/*
 * Strict base64 for the ciphertext: no '=', no impossible length, no
 * non-zero leftover bits, so each byte string has exactly one spelling
 * (the lenient fwknop rules give a no-HMAC packet many texts, and each
 * would dodge the replay cache: fwknop's weakness 12.7).
 */
int spa_b64_decode_canonical(const char *in, size_t in_len, uint8_t *out,
			     size_t out_cap, size_t *out_len);
/* Every byte is of the alphabet or '='. */
bool spa_b64_text_ok(const char *s, size_t len);

/* HMAC of the prefixed ciphertext text; b64 (stripped) into out[128]. */
int spa_keys_hmac_b64(const struct spa_keys *k, const char *prefix,
		      const char *ct, size_t ct_len, char *out, size_t *out_len);
/*
 * The receiver's MAC layer: splits the HMAC text off data (len bytes),
 * checks it in constant time over prefix || the rest, and sets *ct_len to
 * the length of the rest. -SPA_E_TOO_SHORT when fewer than 36 characters
 * would remain, -SPA_E_HMAC on mismatch. k NULL or without an HMAC layer:
 * the whole of data is ciphertext.
 */
int spa_keys_hmac_verify(const struct spa_keys *k, const char *prefix,
			 const char *data, size_t len, size_t *ct_len);
/*
 * The sender's: out = ct[prefix_len:] || b64(HMAC(ct)) (no MAC when k has
 * no HMAC layer); ct carries its prefix, which the MAC covers and the wire
 * leaves out. mac (128 bytes, may be NULL) gets the MAC text.
 */
int spa_keys_seal(const struct spa_keys *k, const char *ct, size_t ct_len,
		  size_t prefix_len, char *out, size_t cap, size_t *out_len,
		  char *mac);
/* Fills the -v pieces of a build from the plaintext P and the MAC text. */
void spa_build_info_fill(struct spa_build_info *info, const char *plain,
			 const char *mac);
/* Raw access to the encryption passphrase for the cipher layer. */
const uint8_t *spa_keys_enc(const struct spa_keys *k, size_t *len);
/* The key set's reusable cipher context (no allocation per packet). */
EVP_CIPHER_CTX *spa_keys_cipher_ctx(const struct spa_keys *k);

#endif
