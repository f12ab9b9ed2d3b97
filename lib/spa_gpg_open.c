/* SPDX-License-Identifier: MIT */
/*
 * GnuPG packets, receiving side: HMAC (before anything else) -> size class
 * -> restore "hQ" -> canonical base64 -> OpenPGP framing check -> gpg
 * decrypt+verify -> message decoder. Every check that needs no gpg comes
 * first: a gpg run costs a process and a public-key operation.
 */
#include "spa_gpg_internal.h"
#include <ctype.h>
#include <string.h>

/* OpenPGP packet tags (RFC 4880 4.3, RFC 9580 5) */
#define SPA_PGP_PKESK 1     /* public-key encrypted session key */
#define SPA_PGP_SEIPD 18    /* integrity-protected encrypted data */
#define SPA_PGP_AEAD 20     /* gpg 2.3+ AEAD encrypted data */
#define SPA_PKESK_MIN 10    /* version, key id, algorithm */

/* One packet header at bin[*off]: its tag and the end of its body.
 * Partial lengths are followed chunk by chunk; false on anything
 * malformed or running past len. */
static bool spa_pgp_next(const uint8_t *bin, size_t len, size_t *off,
			 int *tag, size_t *body, size_t *end)
{
	size_t o = *off, n, first = 0;
	uint8_t h;

	if (o >= len || !(bin[o] & 0x80))
		return false;
	h = bin[o++];
	if (!(h & 0x40)) {   /* old format: the length type is in the tag byte */
		static const uint8_t width[4] = { 1, 2, 4, 0 };
		size_t w = width[h & 3];

		*tag = (h >> 2) & 0x0f;
		if (w == 0 || len - o < w)
			return false;   /* indeterminate length: never gpg's */
		for (n = 0; w--; )
			n = n << 8 | bin[o++];
		*body = o;
		*end = o + n;
		*off = o;
		return n <= len - o;
	}
	*tag = h & 0x3f;
	for (;;) {
		uint8_t c;

		if (o >= len)
			return false;
		c = bin[o++];
		if (c < 192) {
			n = c;
		} else if (c < 224) {
			if (o >= len)
				return false;
			n = ((size_t)(c - 192) << 8) + bin[o++] + 192;
		} else if (c == 255) {
			if (len - o < 4)
				return false;
			n = (size_t)bin[o] << 24 | (size_t)bin[o + 1] << 16 |
			    (size_t)bin[o + 2] << 8 | bin[o + 3];
			o += 4;
		} else {            /* partial body: a chunk, then more length */
			n = (size_t)1 << (c & 0x1f);
			if (n > len - o)
				return false;
			if (!first)
				first = o;
			o += n;
			continue;
		}
		if (n > len - o)
			return false;
		*body = first ? first : o;
		*end = o + n;
		*off = *body;
		return true;
	}
}

/*
 * The message must be what gpg writes for SPA and nothing else: session
 * key packets for RSA or Elgamal keys (the only ones whose size gives the
 * "hQ" header), then one encrypted data packet ending exactly at the end.
 * gpg itself would skip data appended after the message, so a captured
 * packet with junk added would decrypt again under a new replay digest;
 * and garbage of GnuPG size almost never gets past this without a gpg run.
 */
static bool spa_gpg_frame_ok(const uint8_t *bin, size_t len)
{
	size_t off = 0, body, end;
	int tag, n_pkesk = 0;

	while (spa_pgp_next(bin, len, &off, &tag, &body, &end)) {
		if (tag == SPA_PGP_SEIPD || tag == SPA_PGP_AEAD)
			return n_pkesk > 0 && end == len;
		if (tag != SPA_PGP_PKESK || end - body < SPA_PKESK_MIN ||
		    bin[body] != 3)
			return false;
		switch (bin[body + 9]) {
		case 1:  /* RSA */
		case 2:  /* RSA encrypt-only */
		case 16: /* Elgamal */
		case 20: /* Elgamal, formerly sign+encrypt */
			break;
		default:
			return false;
		}
		n_pkesk++;
		off = end;
	}
	return false;
}

/* Copies gpg's hex key name; anything else leaves the fields empty. */
static void spa_gpg_set_ids(struct spa_gpg_result *r, const char *fpr)
{
	size_t n = fpr ? strlen(fpr) : 0;

	if (n < 16 || n > SPA_GPG_FPR_MAX)
		return;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)fpr[i]))
			return;
	if (n >= 40) {
		for (size_t i = 0; i < n; i++)
			r->fingerprint[i] = (char)toupper((unsigned char)fpr[i]);
		r->fingerprint[n] = '\0';
	}
	for (size_t i = 0; i < 16; i++)
		r->key_id[i] = (char)toupper((unsigned char)fpr[n - 16 + i]);
	r->key_id[16] = '\0';
	memcpy(r->short_id, r->key_id + 8, 9);
}

static void spa_gpg_result_fill(gpgme_verify_result_t vr,
				struct spa_gpg_result *r)
{
	gpgme_signature_t s = vr ? vr->signatures : NULL;
	gpgme_err_code_t st;

	if (!s)
		return;   /* SPA_GPG_SIG_NONE */
	spa_gpg_set_ids(r, s->fpr);
	r->validity = (int)s->validity;
	st = gpgme_err_code(s->status);
	/* Two signers make "who sent it" ambiguous: never good. */
	if (s->next || st == GPG_ERR_BAD_SIGNATURE || s->wrong_key_usage)
		r->sig = SPA_GPG_SIG_BAD;
	else if (st == GPG_ERR_CERT_REVOKED || (s->summary & GPGME_SIGSUM_KEY_REVOKED))
		r->sig = SPA_GPG_SIG_REVOKED;
	else if (st == GPG_ERR_KEY_EXPIRED || st == GPG_ERR_SIG_EXPIRED ||
		 (s->summary & (GPGME_SIGSUM_KEY_EXPIRED | GPGME_SIGSUM_SIG_EXPIRED)))
		r->sig = SPA_GPG_SIG_EXPIRED;
	else if (st == GPG_ERR_NO_PUBKEY)
		r->sig = SPA_GPG_SIG_NOPUBKEY;
	else if (st == GPG_ERR_NO_ERROR)
		r->sig = SPA_GPG_SIG_GOOD;
	else
		r->sig = SPA_GPG_SIG_BAD;
}

/* A failed decryption with no usable secret key among the recipients is
 * a packet for someone else, not a damaged one. */
static int spa_gpg_decrypt_error(gpgme_ctx_t ctx, gpgme_error_t e)
{
	gpgme_decrypt_result_t dr = gpgme_op_decrypt_result(ctx);
	gpgme_recipient_t rc;
	bool any = false;

	if (dr) {
		for (rc = dr->recipients; rc; rc = rc->next) {
			if (gpgme_err_code(rc->status) != GPG_ERR_NO_SECKEY)
				return spa_gpg_error(e);
			any = true;
		}
	}
	return any ? -SPA_E_GPG_NOSECKEY : spa_gpg_error(e);
}

/* gpg decrypts bin into sink and reports the signature in r. */
static int spa_gpg_decrypt(const struct spa_gpg_opts *o, const uint8_t *bin,
			   size_t bin_len, struct spa_gpg_sink *sink,
			   struct spa_gpg_result *r)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_data_t in = NULL, out = NULL;
	gpgme_decrypt_result_t dr;
	gpgme_error_t e;
	int rc = spa_gpg_ctx_new(o, &ctx);

	if (rc < 0)
		return rc;
	if (gpgme_data_new_from_mem(&in, (const char *)bin, bin_len, 0) ||
	    spa_gpg_sink_data(sink, &out) < 0) {
		rc = -SPA_E_NOMEM;
		goto out;
	}
	e = gpgme_op_decrypt_verify(ctx, in, out);
	dr = gpgme_op_decrypt_result(ctx);
	if (sink->overflow)
		rc = -SPA_E_PLAINTEXT;
	else if (e)
		rc = spa_gpg_decrypt_error(ctx, e);
	/* gpg 2.2 refuses these itself; an older one might not */
	else if (dr && dr->legacy_cipher_nomdc)
		rc = -SPA_E_GPG_BADDATA;
	else
		spa_gpg_result_fill(gpgme_op_verify_result(ctx), r);
out:
	gpgme_data_release(in);
	gpgme_data_release(out);
	gpgme_release(ctx);
	return rc;
}

/* Every check that needs no gpg; on success bin holds the OpenPGP bytes. */
static int spa_gpg_unwrap(const char *data, size_t len, const struct spa_keys *hmac,
			  uint8_t bin[SPA_GPG_MAX_BIN], size_t *bin_len)
{
	char ct[SPA_GPG_PREFIX_LEN + SPA_MAX_WIRE_LEN];
	bool has_hmac = hmac && spa_keys_hmac_type(hmac) != SPA_HMAC_NONE;
	size_t ct_text_len = 0;
	int rc;

	*bin_len = 0;
	if (len >= SPA_MAX_WIRE_LEN)
		return -SPA_E_TOO_LONG;
	rc = spa_keys_hmac_verify(hmac, SPA_GPG_PREFIX, data, len, &ct_text_len);
	if (rc < 0)
		return rc;
	/* libfko's size class: the text it holds, "hQ" included after an
	 * HMAC check, bare otherwise (docs/GNUPG.md) */
	if ((has_hmac ? ct_text_len + SPA_GPG_PREFIX_LEN : len) < SPA_GPG_MIN_LEN)
		return -SPA_E_ENCTYPE;
	memcpy(ct, SPA_GPG_PREFIX, SPA_GPG_PREFIX_LEN);
	memcpy(ct + SPA_GPG_PREFIX_LEN, data, ct_text_len);
	rc = spa_b64_decode_canonical(ct, SPA_GPG_PREFIX_LEN + ct_text_len, bin,
				      SPA_GPG_MAX_BIN, bin_len);
	if (rc < 0)
		return rc;
	if (!spa_gpg_frame_ok(bin, *bin_len))
		return -SPA_E_GPG_BADDATA;
	return 0;
}

int spa_gpg_precheck(const char *data, size_t len, const struct spa_keys *hmac)
{
	uint8_t bin[SPA_GPG_MAX_BIN];
	size_t bin_len;

	if (!data)
		return -SPA_E_ARG;
	return spa_gpg_unwrap(data, len, hmac, bin, &bin_len);
}

int spa_gpg_open(const struct spa_gpg_opts *o, const char *data, size_t len,
		 const struct spa_keys *hmac, struct spa_message *m,
		 struct spa_gpg_result *r)
{
	uint8_t bin[SPA_GPG_MAX_BIN];
	uint8_t plain[SPA_MAX_PLAINTEXT];
	struct spa_gpg_sink sink = { .buf = plain, .cap = sizeof(plain) };
	size_t bin_len = 0;
	int rc;

	if (!o || !data || !m || !r)
		return -SPA_E_ARG;
	memset(m, 0, sizeof(*m));
	memset(r, 0, sizeof(*r));
	rc = spa_gpg_unwrap(data, len, hmac, bin, &bin_len);
	if (rc < 0)
		return rc;
	rc = spa_gpg_decrypt(o, bin, bin_len, &sink, r);
	if (rc == 0)
		rc = spa_message_decode((const char *)plain, sink.len, m);
	if (rc == 0)
		rc = spa_replay_digest((const char *)plain, sink.len, r->msg_digest);
	if (rc < 0)
		memset(m, 0, sizeof(*m));
	spa_wipe(plain, sizeof(plain));
	return rc;
}

int spa_gpg_sig_error(const struct spa_gpg_result *r)
{
	if (!r)
		return -SPA_E_ARG;
	switch (r->sig) {
	case SPA_GPG_SIG_NONE: return -SPA_E_GPG_NOSIG;
	case SPA_GPG_SIG_NOPUBKEY: return -SPA_E_GPG_NOPUBKEY;
	case SPA_GPG_SIG_EXPIRED: return -SPA_E_GPG_EXPIRED;
	case SPA_GPG_SIG_REVOKED: return -SPA_E_GPG_REVOKED;
	case SPA_GPG_SIG_GOOD:
		return r->validity >= SPA_GPG_VALIDITY_MARGINAL ? 0
								: -SPA_E_GPG_UNTRUSTED;
	default: return -SPA_E_GPG_BADSIG;
	}
}
