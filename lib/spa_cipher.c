/* SPDX-License-Identifier: MIT */
/*
 * fwknop's AES-256 layer over OpenSSL EVP: the OpenSSL "Salted__"
 * container, EVP_BytesToKey(MD5, 1 round) key/IV derivation, and PKCS#7
 * padding applied in every mode (fwknop pads even the stream modes, so
 * EVP's own padding is switched off and done here).
 */
#include "spa_internal.h"
#include <openssl/evp.h>
#include <string.h>

static const char spa_salted_magic[8] = { 'S', 'a', 'l', 't', 'e', 'd', '_', '_' };

/* Ciphers are fetched once: a fetch per packet costs more than the AES. */
static const EVP_CIPHER *spa_cipher_for(int mode)
{
	static EVP_CIPHER *cache[SPA_MODE_CBC_LEGACY_IV + 1];
	const char *name;

	switch (mode) {
	case SPA_MODE_ECB: name = "AES-256-ECB"; break;
	case SPA_MODE_CBC:
	case SPA_MODE_CBC_LEGACY_IV: name = "AES-256-CBC"; break;
	case SPA_MODE_CFB: name = "AES-256-CFB"; break;
	case SPA_MODE_OFB: name = "AES-256-OFB"; break;
	case SPA_MODE_CTR: name = "AES-256-CTR"; break;
	default: return NULL;
	}
	if (!cache[mode])
		cache[mode] = EVP_CIPHER_fetch(NULL, name, NULL);
	return cache[mode];
}

int spa_cipher_derive(int mode, const uint8_t *pw, size_t pw_len,
		      const uint8_t salt[SPA_SALT_LEN],
		      uint8_t key[SPA_AES_KEY_LEN], uint8_t iv[SPA_AES_BLOCK])
{
	uint8_t legacy[16];
	int rc = 0;

	if (pw_len > SPA_MAX_KEY_LEN || (pw_len > 0 && !pw))
		return -SPA_E_KEY;
	/* Pre-2.5 clients padded short keys with '0' and cut long ones at 16. */
	if (mode == SPA_MODE_CBC_LEGACY_IV) {
		memset(legacy, '0', sizeof(legacy));
		if (pw_len > sizeof(legacy))
			pw_len = sizeof(legacy);
		if (pw_len)
			memcpy(legacy, pw, pw_len);
		pw = legacy;
		pw_len = sizeof(legacy);
	}
	/* EVP_BytesToKey wants a non-NULL data pointer even for empty keys. */
	if (EVP_BytesToKey(EVP_aes_256_cbc(), EVP_md5(), salt,
			   pw_len ? pw : (const uint8_t *)"", (int)pw_len, 1,
			   key, iv) != SPA_AES_KEY_LEN)
		rc = -SPA_E_CRYPTO;
	spa_wipe(legacy, sizeof(legacy));
	return rc;
}

static int spa_cipher_run(EVP_CIPHER_CTX *ctx, int mode, const uint8_t key[SPA_AES_KEY_LEN],
			  const uint8_t iv[SPA_AES_BLOCK], int enc,
			  const uint8_t *in, size_t len, uint8_t *out)
{
	const EVP_CIPHER *c = spa_cipher_for(mode);
	int n1 = 0, n2 = 0, rc = -SPA_E_CRYPTO;

	if (!c)
		return -SPA_E_MODE;
	if (EVP_CipherInit_ex2(ctx, c, key, mode == SPA_MODE_ECB ? NULL : iv,
			       enc, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n1, in, (int)len) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + n1, &n2) != 1)
		goto out;
	if ((size_t)(n1 + n2) == len)
		rc = 0;
out:
	EVP_CIPHER_CTX_reset(ctx);   /* drops the expanded key */
	return rc;
}

int spa_cipher_encrypt(EVP_CIPHER_CTX *ctx, int mode, const uint8_t *pw, size_t pw_len,
		       const uint8_t salt[SPA_SALT_LEN], const uint8_t *in,
		       size_t len, uint8_t *out, size_t *out_len)
{
	uint8_t key[SPA_AES_KEY_LEN], iv[SPA_AES_BLOCK];
	uint8_t *body = out + 16;
	size_t pad = SPA_AES_BLOCK - len % SPA_AES_BLOCK;   /* 1..16 */
	int rc;

	rc = spa_cipher_derive(mode, pw, pw_len, salt, key, iv);
	if (rc < 0)
		goto out;
	memcpy(out, spa_salted_magic, 8);
	memcpy(out + 8, salt, SPA_SALT_LEN);
	/* encrypt in place over a padded copy in the output buffer */
	memmove(body, in, len);
	memset(body + len, (int)pad, pad);
	rc = spa_cipher_run(ctx, mode, key, iv, 1, body, len + pad, body);
	if (rc == 0)
		*out_len = 16 + len + pad;
out:
	spa_wipe(key, sizeof(key));
	spa_wipe(iv, sizeof(iv));
	return rc;
}

int spa_cipher_decrypt(EVP_CIPHER_CTX *ctx, int mode, const uint8_t *pw, size_t pw_len,
		       const uint8_t *in, size_t len, uint8_t *out,
		       size_t *out_len, bool *unpadded)
{
	uint8_t key[SPA_AES_KEY_LEN], iv[SPA_AES_BLOCK];
	size_t body = len - 16;
	uint8_t pad;
	int rc;

	if (unpadded)
		*unpadded = false;

	if (len < 32 || (len - 16) % SPA_AES_BLOCK != 0)
		return -SPA_E_CIPHERLEN;
	if (memcmp(in, spa_salted_magic, 8) != 0)
		return -SPA_E_DECRYPT;
	rc = spa_cipher_derive(mode, pw, pw_len, in + 8, key, iv);
	if (rc < 0)
		goto out;
	rc = spa_cipher_run(ctx, mode, key, iv, 0, in + 16, body, out);
	if (rc < 0)
		goto out;
	/* fwknop always pads 1..16 bytes: anything else is a wrong key, a
	 * forged block, or (when the caller allows it) an old client's
	 * block-aligned plaintext sent without a padding block. */
	pad = out[body - 1];
	rc = -SPA_E_DECRYPT;
	if (pad < 1 || pad > SPA_AES_BLOCK)
		goto unpadded;
	for (size_t i = body - pad; i < body; i++)
		if (out[i] != pad)
			goto unpadded;
	*out_len = body - pad;
	rc = 0;
	goto out;
unpadded:
	if (unpadded) {
		*unpadded = true;
		*out_len = body;
		rc = 0;
	}
out:
	spa_wipe(key, sizeof(key));
	spa_wipe(iv, sizeof(iv));
	return rc;
}
