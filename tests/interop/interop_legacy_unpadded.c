/* SPDX-License-Identifier: MIT */
/*
 * interop_legacy_unpadded - old legacy-mode clients. TEST-ONLY.
 *
 * Pre-2.5 clients in legacy IV mode sent block-aligned plaintexts with no
 * padding block. No current encoder (ours or libfko's) writes such a
 * packet, so this program crafts them with EVP and its padding switched
 * off, then requires that Debian's libfko (what fwknopd runs) and
 * spa_packet_open() both accept them with the same fields, and that
 * spa_packet_open() refuses every single-bit change of the ciphertext.
 *
 * Exit: 0 all passed, 1 failures.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fko.h>

#include "spa_wire.h"

static unsigned failures, checks;

static void check(int ok, const char *what, const char *detail)
{
	checks++;
	if (!ok) {
		failures++;
		fprintf(stderr, "FAIL: %s (%s)\n", what, detail);
	}
}

/* R = "Salted__" || salt || AES-256-CBC(P) with the legacy key rule and
 * no padding; returns the wire string (prefix stripped) length or -1. */
static int craft(const char *pw, const uint8_t salt[8], const char *p,
		 size_t p_len, char *wire, size_t cap)
{
	uint8_t lpw[16], key[32], iv[16], r[1200];
	char ct[1700];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, rc = -1;
	size_t len;

	memset(lpw, '0', sizeof(lpw));
	memcpy(lpw, pw, strlen(pw) < 16 ? strlen(pw) : 16);
	if (!ctx || p_len % 16 || 16 + p_len > sizeof(r) ||
	    EVP_BytesToKey(EVP_aes_256_cbc(), EVP_md5(), salt, lpw, 16, 1, key,
			   iv) != 32)
		goto out;
	memcpy(r, "Salted__", 8);
	memcpy(r + 8, salt, 8);
	if (!EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0) ||
	    !EVP_EncryptUpdate(ctx, r + 16, &n1, (const uint8_t *)p, (int)p_len) ||
	    !EVP_EncryptFinal_ex(ctx, r + 16 + n1, &n2) ||
	    (size_t)(n1 + n2) != p_len)
		goto out;
	len = spa_b64_encode(r, 16 + p_len, ct);
	if (len - 10 + 1 > cap)
		goto out;
	memcpy(wire, ct + 10, len - 10 + 1);
	rc = (int)(len - 10);
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* A message whose plaintext is a whole number of blocks (user varied). */
static int aligned_message(int digest, struct spa_message *m, char *p,
			   size_t cap, size_t *p_len)
{
	for (size_t ulen = 1; ulen < 40; ulen++) {
		if (spa_message_init(m) < 0)
			return -1;
		memset(m->username, 'o', ulen);
		m->username[ulen] = '\0';
		m->timestamp = (uint64_t)time(NULL);
		m->digest_type = digest;
		m->type = SPA_MSG_ACCESS;
		snprintf(m->message, sizeof(m->message), "10.1.2.3,tcp/22");
		if (spa_message_encode(m, p, cap, p_len) == 0 && *p_len % 16 == 0)
			return 0;
	}
	return -1;
}

static void one_digest(int digest)
{
	static const char pw[] = "oldphone";
	static const uint8_t salt[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };
	struct spa_key_spec spec = {
		.enc_key = (const uint8_t *)pw, .enc_key_len = strlen(pw),
		.enc_mode = SPA_MODE_CBC_LEGACY_IV,
	};
	struct spa_message m, got;
	struct spa_keys *k = NULL;
	fko_ctx_t fko = NULL;
	char p[1024], wire[SPA_WIRE_CAP], desc[64];
	char *user = NULL, *msg = NULL;
	size_t p_len = 0;
	int wn, rc;

	snprintf(desc, sizeof(desc), "digest %s", spa_digest_name(digest));
	if (aligned_message(digest, &m, p, sizeof(p), &p_len) < 0 ||
	    (wn = craft(pw, salt, p, p_len, wire, sizeof(wire))) < 0 ||
	    spa_keys_new(&spec, &k) < 0) {
		check(0, "crafting an unpadded legacy packet", desc);
		goto out;
	}
	/* libfko: what fwknopd decides with */
	rc = fko_new_with_data(&fko, wire, pw, (int)strlen(pw),
			       FKO_ENC_MODE_CBC_LEGACY_IV, NULL, 0, FKO_HMAC_UNKNOWN);
	check(rc == FKO_SUCCESS, "libfko accepts the unpadded legacy packet",
	      rc == FKO_SUCCESS ? desc : fko_errstr(rc));
	if (rc == FKO_SUCCESS) {
		check(fko_get_username(fko, &user) == FKO_SUCCESS && user &&
		      strcmp(user, m.username) == 0, "libfko username", desc);
		check(fko_get_spa_message(fko, &msg) == FKO_SUCCESS && msg &&
		      strcmp(msg, m.message) == 0, "libfko message", desc);
	}
	/* and so do we, with the same fields */
	rc = spa_packet_open(wire, (size_t)wn, k, &got);
	check(rc == 0, "spa_packet_open accepts it", rc ? spa_strerror(rc) : desc);
	if (rc == 0)
		check(strcmp(got.username, m.username) == 0 &&
		      strcmp(got.message, m.message) == 0 &&
		      got.timestamp == m.timestamp, "spa fields", desc);
	/* one changed ciphertext character: we refuse every one */
	for (size_t i = 0; i < (size_t)wn; i++) {
		char saved = wire[i];

		wire[i] = saved == 'A' ? 'B' : 'A';
		rc = spa_packet_open(wire, (size_t)wn, k, &got);
		wire[i] = saved;
		if (rc == 0) {
			snprintf(desc, sizeof(desc), "digest %s, char %zu",
				 spa_digest_name(digest), i);
			check(0, "changed packet refused", desc);
		}
	}
out:
	if (fko)
		fko_destroy(fko);
	spa_keys_free(k);
}

int main(void)
{
	static const int digests[] = { SPA_DIGEST_MD5, SPA_DIGEST_SHA1,
				       SPA_DIGEST_SHA256, SPA_DIGEST_SHA384,
				       SPA_DIGEST_SHA512 };

	for (size_t i = 0; i < sizeof(digests) / sizeof(digests[0]); i++)
		one_digest(digests[i]);
	printf("interop_legacy_unpadded: %u checks, %u failed\n", checks, failures);
	return failures ? 1 : 0;
}
