/* SPDX-License-Identifier: MIT */
/*
 * Key material: a prepared key set per stanza (HMAC state keyed once, so a
 * packet costs one MAC computation, not a key schedule), key decoding,
 * generation and wiping.
 */
#include "spa_internal.h"
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

struct spa_keys {
	uint8_t enc[SPA_MAX_KEY_LEN];
	size_t enc_len;
	int enc_mode;
	int hmac_type;        /* SPA_HMAC_NONE: no MAC layer */
	EVP_MAC_CTX *mac;     /* keyed; re-initialised per packet */
	EVP_CIPHER_CTX *cipher;  /* scratch, reset after each use */
};

void spa_wipe(void *p, size_t len)
{
	if (p && len)
		OPENSSL_cleanse(p, len);
}

int spa_random_bytes(uint8_t *buf, size_t len)
{
	if (!buf && len)
		return -SPA_E_ARG;
	if (len > (size_t)INT32_MAX || RAND_bytes(buf, (int)len) != 1)
		return -SPA_E_RANDOM;
	return 0;
}

static int spa_mac_new(int hmac_type, const uint8_t *key, size_t key_len,
		       EVP_MAC_CTX **out)
{
	const struct spa_digest_info *d = spa_digest_info(hmac_type);
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	int rc = -SPA_E_CRYPTO;

	if (!d)
		return -SPA_E_HMAC_TYPE;
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		goto out;
	ctx = EVP_MAC_CTX_new(mac);
	if (!ctx)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)d->evp, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key, key_len, params) != 1)
		goto out;
	*out = ctx;
	ctx = NULL;
	rc = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rc;
}

int spa_keys_new(const struct spa_key_spec *spec, struct spa_keys **out)
{
	struct spa_keys *k = NULL;
	int mode, rc;

	if (!spec || !out)
		return -SPA_E_ARG;
	*out = NULL;
	mode = spec->enc_mode ? spec->enc_mode : SPA_MODE_CBC;
	/* GnuPG keys live in a keyring: a passphrase here would be unused */
	if (mode == SPA_MODE_ASYMMETRIC && spec->enc_key_len)
		return -SPA_E_KEY;
	if (mode != SPA_MODE_ASYMMETRIC && mode != SPA_MODE_ECB && mode != SPA_MODE_CBC && mode != SPA_MODE_CFB &&
	    mode != SPA_MODE_OFB && mode != SPA_MODE_CTR &&
	    mode != SPA_MODE_CBC_LEGACY_IV)
		return -SPA_E_MODE;
	if (spec->enc_key_len > SPA_MAX_KEY_LEN ||
	    (spec->enc_key_len && !spec->enc_key))
		return -SPA_E_KEY;
	if (spec->hmac_key) {
		if (spec->hmac_key_len < 1 || spec->hmac_key_len > SPA_MAX_HMAC_KEY_LEN)
			return -SPA_E_KEY;
		if (spec->hmac_type && !spa_digest_info(spec->hmac_type))
			return -SPA_E_HMAC_TYPE;
		/* the same secret for both layers defeats the MAC */
		if (spec->hmac_key_len == spec->enc_key_len &&
		    CRYPTO_memcmp(spec->hmac_key, spec->enc_key, spec->enc_key_len) == 0)
			return -SPA_E_KEY;
	}

	k = calloc(1, sizeof(*k));
	if (!k)
		return -SPA_E_NOMEM;
	if (spec->enc_key_len)
		memcpy(k->enc, spec->enc_key, spec->enc_key_len);
	k->enc_len = spec->enc_key_len;
	k->enc_mode = mode;
	k->cipher = EVP_CIPHER_CTX_new();
	if (!k->cipher) {
		spa_keys_free(k);
		return -SPA_E_NOMEM;
	}
	if (spec->hmac_key) {
		k->hmac_type = spec->hmac_type ? spec->hmac_type : SPA_DIGEST_SHA256;
		rc = spa_mac_new(k->hmac_type, spec->hmac_key, spec->hmac_key_len,
				 &k->mac);
		if (rc < 0) {
			spa_keys_free(k);
			return rc;
		}
	}
	*out = k;
	return 0;
}

void spa_keys_free(struct spa_keys *k)
{
	if (!k)
		return;
	EVP_MAC_CTX_free(k->mac);   /* OpenSSL cleanses the HMAC key state */
	EVP_CIPHER_CTX_free(k->cipher);
	spa_wipe(k, sizeof(*k));
	free(k);
}

int spa_keys_hmac_type(const struct spa_keys *k)
{
	return k ? k->hmac_type : SPA_HMAC_NONE;
}

int spa_keys_enc_mode(const struct spa_keys *k)
{
	return k ? k->enc_mode : SPA_MODE_UNKNOWN;
}

const uint8_t *spa_keys_enc(const struct spa_keys *k, size_t *len)
{
	*len = k->enc_len;
	return k->enc;
}

EVP_CIPHER_CTX *spa_keys_cipher_ctx(const struct spa_keys *k)
{
	return k->cipher;
}

int spa_keys_hmac_b64(const struct spa_keys *k, const char *prefix,
		      const char *ct, size_t ct_len, char *out, size_t *out_len)
{
	uint8_t raw[SPA_MAX_MD_LEN];
	size_t n = 0;

	if (!k->mac)
		return -SPA_E_HMAC_TYPE;
	/* NULL key: reuse the key schedule prepared by spa_keys_new() */
	if (EVP_MAC_init(k->mac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(k->mac, (const uint8_t *)prefix, strlen(prefix)) != 1 ||
	    EVP_MAC_update(k->mac, (const uint8_t *)ct, ct_len) != 1 ||
	    EVP_MAC_final(k->mac, raw, &n, sizeof(raw)) != 1)
		return -SPA_E_CRYPTO;
	*out_len = spa_b64_encode(raw, n, out);
	spa_wipe(raw, sizeof(raw));
	return 0;
}

int spa_keys_hmac_verify(const struct spa_keys *k, const char *prefix,
			 const char *data, size_t len, size_t *ct_len)
{
	char mac[128];
	size_t mac_len = 0, want;
	int rc;

	if (!k || k->hmac_type == SPA_HMAC_NONE) {
		if (len < SPA_MIN_ENCODED_LEN)
			return -SPA_E_TOO_SHORT;
		*ct_len = len;
		return 0;
	}
	want = spa_digest_b64_len(k->hmac_type);
	if (len < want + SPA_MIN_ENCODED_LEN)
		return -SPA_E_TOO_SHORT;
	rc = spa_keys_hmac_b64(k, prefix, data, len - want, mac, &mac_len);
	if (rc < 0)
		return rc;
	if (mac_len != want || CRYPTO_memcmp(mac, data + len - want, want) != 0)
		return -SPA_E_HMAC;
	*ct_len = len - want;
	return 0;
}

int spa_keys_seal(const struct spa_keys *k, const char *ct, size_t ct_len,
		  size_t prefix_len, char *out, size_t cap, size_t *out_len,
		  char *mac)
{
	char buf[128] = "";
	size_t mac_len = 0, body;
	int rc;

	if (ct_len < prefix_len)
		return -SPA_E_ARG;
	if (k && k->hmac_type != SPA_HMAC_NONE) {
		rc = spa_keys_hmac_b64(k, "", ct, ct_len, buf, &mac_len);
		if (rc < 0)
			return rc;
	}
	body = ct_len - prefix_len;
	if (body + mac_len + 1 > cap)
		return -SPA_E_TOO_LONG;
	memcpy(out, ct + prefix_len, body);
	memcpy(out + body, buf, mac_len + 1);
	*out_len = body + mac_len;
	if (mac)
		memcpy(mac, buf, mac_len + 1);
	return 0;
}

int spa_key_from_base64(const char *b64, uint8_t *out, size_t cap,
			size_t *out_len)
{
	int rc;

	if (!b64 || !out || !out_len)
		return -SPA_E_ARG;
	rc = spa_b64_decode(b64, strlen(b64), out, cap, out_len);
	if (rc == -SPA_E_TOO_LONG)
		return -SPA_E_KEY;
	if (rc < 0 || *out_len == 0)
		return -SPA_E_KEY;
	return 0;
}

/* fwknop's --key-gen HMAC key sizes; SHA3 (which fwknop cannot generate)
 * gets the hash's block size, capped at the protocol's 128-byte limit. */
static size_t spa_keygen_hmac_default(int hmac_type)
{
	switch (hmac_type) {
	case SPA_DIGEST_MD5: return 16;
	case SPA_DIGEST_SHA1: return 20;
	case SPA_DIGEST_SHA256: return 64;
	case SPA_DIGEST_SHA384:
	case SPA_DIGEST_SHA512: return 128;
	case SPA_DIGEST_SHA3_256: return 128;
	case SPA_DIGEST_SHA3_512: return 72;
	default: return 0;
	}
}

int spa_keygen(size_t key_len, size_t hmac_key_len, int hmac_type,
	       char *key_b64, size_t key_cap, char *hmac_b64, size_t hmac_cap)
{
	uint8_t buf[SPA_MAX_HMAC_KEY_LEN];
	int rc;

	if (!key_b64 || !hmac_b64)
		return -SPA_E_ARG;
	if (hmac_type == 0)
		hmac_type = SPA_DIGEST_SHA256;
	if (!spa_digest_info(hmac_type))
		return -SPA_E_HMAC_TYPE;
	if (key_len == 0)
		key_len = SPA_MAX_KEY_LEN;
	if (hmac_key_len == 0)
		hmac_key_len = spa_keygen_hmac_default(hmac_type);
	if (key_len > SPA_MAX_KEY_LEN || hmac_key_len > SPA_MAX_HMAC_KEY_LEN)
		return -SPA_E_KEY;
	if (key_cap < (key_len + 2) / 3 * 4 + 1 ||
	    hmac_cap < (hmac_key_len + 2) / 3 * 4 + 1)
		return -SPA_E_TOO_LONG;

	rc = spa_random_bytes(buf, key_len);
	if (rc == 0) {
		spa_b64_encode_padded(buf, key_len, key_b64);
		rc = spa_random_bytes(buf, hmac_key_len);
	}
	if (rc == 0)
		spa_b64_encode_padded(buf, hmac_key_len, hmac_b64);
	spa_wipe(buf, sizeof(buf));
	return rc;
}
