/* SPDX-License-Identifier: MIT */
/*
 * Whole packets: WIRE = b64(Salted__|salt|AES(P))[10:] || b64(HMAC(C)).
 * Building is encode -> encrypt -> MAC -> strip prefix; opening is the
 * reverse, and nothing is decrypted before the MAC has been verified.
 */
#include "spa_internal.h"
#include <stdio.h>
#include <string.h>

#define SPA_PREFIX_LEN 10
/*
 * libfko takes ciphertext text of 400 characters or more for GnuPG. It
 * measures the text it holds at that point: prefixed when an HMAC was
 * verified (the MAC input carries the prefix), bare otherwise. So the
 * longest Rijndael ciphertext text on the wire is 389 characters with an
 * HMAC and 399 without one.
 */
#define SPA_RIJNDAEL_MAX_TEXT(has_hmac) \
	((size_t)(SPA_GPG_MIN_LEN - 1 - ((has_hmac) ? SPA_PREFIX_LEN : 0)))
/* any wire length: spa_packet_open_any_size reads past the split */
#define SPA_MAX_CT_B64 (SPA_PREFIX_LEN + SPA_MAX_WIRE_LEN - 1)
#define SPA_MAX_RAW ((SPA_MAX_CT_B64 / 4 + 1) * 3)

int spa_packet_prefilter(const char *data, size_t len)
{
	if (!data)
		return -SPA_E_ARG;
	if (len < SPA_MIN_WIRE_LEN)
		return -SPA_E_TOO_SHORT;
	if (len >= SPA_MAX_WIRE_LEN)
		return -SPA_E_TOO_LONG;
	/* fwknop's client never sends the prefixes: a packet that has one is
	 * a captured packet re-encoded to dodge the replay cache. */
	if (memcmp(data, SPA_RIJNDAEL_PREFIX, SPA_PREFIX_LEN) == 0 ||
	    (len >= SPA_GPG_MIN_LEN && memcmp(data, SPA_GPG_PREFIX, 2) == 0))
		return -SPA_E_PREFIX;
	if (!spa_b64_text_ok(data, len))
		return -SPA_E_CHARSET;
	return 0;
}

int spa_packet_build_ex(struct spa_message *m, const struct spa_keys *k,
			const uint8_t *salt, char *out, size_t cap,
			size_t *out_len, struct spa_build_info *info)
{
	char plain[SPA_MAX_PLAINTEXT + 1];
	uint8_t raw[SPA_MAX_PLAINTEXT + 2 * SPA_AES_BLOCK];
	uint8_t salt_buf[SPA_SALT_LEN];
	char ct[sizeof(raw) / 3 * 4 + 8];
	char mac[128] = "";
	size_t plain_len = 0, raw_len = 0, ct_len, enc_len;
	const uint8_t *enc;
	int rc;

	if (!m || !k || !out || !out_len)
		return -SPA_E_ARG;
	if (spa_keys_enc_mode(k) == SPA_MODE_ASYMMETRIC)
		return -SPA_E_MODE;
	rc = spa_message_encode(m, plain, sizeof(plain), &plain_len);
	if (rc < 0)
		goto out;
	if (!salt) {
		rc = spa_random_bytes(salt_buf, sizeof(salt_buf));
		if (rc < 0)
			goto out;
		salt = salt_buf;
	}
	enc = spa_keys_enc(k, &enc_len);
	rc = spa_cipher_encrypt(spa_keys_cipher_ctx(k), spa_keys_enc_mode(k), enc, enc_len, salt,
				(const uint8_t *)plain, plain_len, raw, &raw_len);
	if (rc < 0)
		goto out;
	ct_len = spa_b64_encode(raw, raw_len, ct);
	/* Longer and fwknopd would take it for a GnuPG packet. */
	if (ct_len - SPA_PREFIX_LEN >
	    SPA_RIJNDAEL_MAX_TEXT(spa_keys_hmac_type(k) != SPA_HMAC_NONE)) {
		rc = -SPA_E_TOO_LONG;
		goto out;
	}
	/* the MAC covers the prefix that the wire leaves out */
	rc = spa_keys_seal(k, ct, ct_len, SPA_PREFIX_LEN, out, cap, out_len, mac);
	if (rc < 0)
		goto out;
	spa_build_info_fill(info, plain, mac);
out:
	spa_wipe(plain, sizeof(plain));
	spa_wipe(raw, sizeof(raw));
	return rc;
}

void spa_build_info_fill(struct spa_build_info *info, const char *plain,
			 const char *mac)
{
	const char *last;
	size_t e_len;

	if (!info)
		return;
	last = strrchr(plain, ':');
	e_len = last ? (size_t)(last - plain) : strlen(plain);
	if (e_len >= sizeof(info->encoded))
		e_len = sizeof(info->encoded) - 1;
	memcpy(info->encoded, plain, e_len);
	info->encoded[e_len] = '\0';
	snprintf(info->digest, sizeof(info->digest), "%s", last ? last + 1 : "");
	snprintf(info->hmac, sizeof(info->hmac), "%s", mac);
}

int spa_packet_enc_type(const char *data, size_t len)
{
	if (!data)
		return -SPA_E_ARG;
	if (len < SPA_MIN_ENCODED_LEN)
		return -SPA_E_TOO_SHORT;
	if (len >= SPA_MAX_WIRE_LEN)
		return -SPA_E_TOO_LONG;
	return len >= SPA_GPG_MIN_LEN ? SPA_ENC_GPG : SPA_ENC_RIJNDAEL;
}

int spa_packet_build(struct spa_message *m, const struct spa_keys *k,
		     const uint8_t *salt, char *out, size_t cap,
		     size_t *out_len)
{
	return spa_packet_build_ex(m, k, salt, out, cap, out_len, NULL);
}

static bool spa_plain_prefix_ok(const uint8_t *p, size_t len)
{
	if (len <= SPA_RAND_LEN || p[SPA_RAND_LEN] != ':')
		return false;
	for (size_t i = 0; i < SPA_RAND_LEN; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

static int packet_open(const char *data, size_t len, const struct spa_keys *k,
		       struct spa_message *m, bool any_size)
{
	char ct[SPA_MAX_CT_B64 + 1];
	uint8_t raw[SPA_MAX_RAW];
	uint8_t plain[SPA_MAX_RAW];
	size_t ct_text_len = 0, ct_len, raw_len = 0, plain_len = 0, enc_len;
	int hmac_type, rc;

	if (!data || !k || !m)
		return -SPA_E_ARG;
	memset(m, 0, sizeof(*m));
	if (len >= SPA_MAX_WIRE_LEN)
		return -SPA_E_TOO_LONG;

	if (spa_keys_enc_mode(k) == SPA_MODE_ASYMMETRIC)
		return -SPA_E_MODE;
	hmac_type = spa_keys_hmac_type(k);
	rc = spa_keys_hmac_verify(k, SPA_RIJNDAEL_PREFIX, data, len, &ct_text_len);
	if (rc < 0)
		return rc;

	if (!any_size && ct_text_len > SPA_RIJNDAEL_MAX_TEXT(hmac_type != SPA_HMAC_NONE))
		return -SPA_E_ENCTYPE;
	ct_len = SPA_PREFIX_LEN + ct_text_len;
	memcpy(ct, SPA_RIJNDAEL_PREFIX, SPA_PREFIX_LEN);
	memcpy(ct + SPA_PREFIX_LEN, data, ct_text_len);
	rc = spa_b64_decode_canonical(ct, ct_len, raw, sizeof(raw), &raw_len);
	if (rc < 0)
		return rc;

	const uint8_t *enc = spa_keys_enc(k, &enc_len);
	bool unpadded = false;
	int mode = spa_keys_enc_mode(k);

	/* Legacy mode only: see "Unpadded legacy packets" in spa_wire.h. */
	rc = spa_cipher_decrypt(spa_keys_cipher_ctx(k), mode, enc, enc_len, raw, raw_len,
				plain, &plain_len,
				mode == SPA_MODE_CBC_LEGACY_IV ? &unpadded : NULL);
	if (rc < 0)
		goto out;
	/* the cheap wrong-key test fwknop relies on when there is no MAC */
	if (!spa_plain_prefix_ok(plain, plain_len)) {
		rc = -SPA_E_DECRYPT;
		goto out;
	}
	rc = spa_message_decode((const char *)plain, plain_len, m);
	/* An unpadded plaintext that is not a whole, digest-verified message
	 * was not decrypted: say so rather than name a field of the garbage. */
	if (rc < 0 && unpadded) {
		memset(m, 0, sizeof(*m));
		rc = -SPA_E_DECRYPT;
	}
out:
	spa_wipe(plain, sizeof(plain));
	return rc;
}

int spa_packet_open(const char *data, size_t len, const struct spa_keys *k,
		    struct spa_message *m)
{
	return packet_open(data, len, k, m, false);
}

int spa_packet_open_any_size(const char *data, size_t len, const struct spa_keys *k,
			     struct spa_message *m)
{
	return packet_open(data, len, k, m, true);
}
