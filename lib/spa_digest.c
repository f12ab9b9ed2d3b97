/* SPDX-License-Identifier: MIT */
/* Embedded digests and the replay digest, through OpenSSL EVP. */
#include "spa_internal.h"
#include <openssl/evp.h>

/* Fetched once per algorithm: EVP_MD_fetch per packet would dominate the
 * cost of short messages. spad and spa-client are single-threaded; a
 * threaded user must call each function once before starting threads. */
static EVP_MD *spa_digest_md(int id)
{
	static EVP_MD *cache[SPA_DIGEST_MAX + 1];
	const struct spa_digest_info *d = spa_digest_info(id);

	if (!d)
		return NULL;
	if (!cache[id])
		cache[id] = EVP_MD_fetch(NULL, d->evp, NULL);
	return cache[id];
}

int spa_digest_raw(int id, const void *data, size_t len, uint8_t *out,
		   size_t *out_len)
{
	EVP_MD *md = spa_digest_md(id);
	unsigned int n = 0;

	if (!md)
		return spa_digest_info(id) ? -SPA_E_CRYPTO : -SPA_E_DIGEST_TYPE;
	if (EVP_Digest(data, len, out, &n, md, NULL) != 1)
		return -SPA_E_CRYPTO;
	*out_len = n;
	return 0;
}

int spa_digest_b64(int id, const void *data, size_t len, char *out)
{
	uint8_t raw[SPA_MAX_MD_LEN];
	size_t n;
	int rc = spa_digest_raw(id, data, len, raw, &n);

	if (rc < 0)
		return rc;
	spa_b64_encode(raw, n, out);
	return 0;
}

int spa_replay_digest(const char *data, size_t len, char out[44])
{
	if (!data || !out)
		return -SPA_E_ARG;
	return spa_digest_b64(SPA_DIGEST_SHA256, data, len, out);
}
