/* SPDX-License-Identifier: MIT */
/*
 * GnuPG packets, sending side: encode -> gpg encrypt (and sign) -> base64
 * -> MAC -> drop "hQ". The receiver restores "hQ" blindly, so a message
 * that does not start with it cannot be sent at all (docs/GNUPG.md).
 */
#include "spa_gpg_internal.h"
#include <string.h>

/* Fetches the one key name stands for; the usability checks are gpg's
 * own flags, checked here so the error names the key, not gpg. A key
 * listing rather than gpgme_get_key, which takes only fingerprints and
 * key ids: fwknop's users also name keys by user id (e-mail). */
static int spa_gpg_key(gpgme_ctx_t ctx, const char *name, bool secret,
		       gpgme_key_t *out)
{
	gpgme_key_t key = NULL, next;
	gpgme_error_t e;
	size_t n = 0;

	if (!name || !*name)
		return -SPA_E_GPG_KEY;
	e = gpgme_op_keylist_start(ctx, name, secret);
	/* The listing is read to its end: GPGME 1.18 leaks the keys still
	 * queued when it is ended early. */
	while (!e) {
		gpgme_error_t ne = gpgme_op_keylist_next(ctx, &next);

		if (ne) {
			if (gpgme_err_code(ne) != GPG_ERR_EOF)
				e = ne;
			break;
		}
		if (n++ == 0)
			key = next;
		else
			gpgme_key_unref(next);
	}
	gpgme_op_keylist_end(ctx);
	if (!e && n == 0)
		e = gpgme_error(GPG_ERR_EOF);
	/* a name matching two keys is refused, not resolved by list order */
	if (!e && n > 1)
		e = gpgme_error(GPG_ERR_AMBIGUOUS_NAME);
	if (e) {
		if (key)
			gpgme_key_unref(key);
		return spa_gpg_error(e) == -SPA_E_GPG ? -SPA_E_GPG : -SPA_E_GPG_KEY;
	}
	if (key->revoked || key->expired || key->disabled || key->invalid ||
	    !(secret ? key->can_sign : key->can_encrypt)) {
		gpgme_key_unref(key);
		return -SPA_E_GPG_KEY;
	}
	*out = key;
	return 0;
}

/* gpg's binary output for P, in sink. */
static int spa_gpg_encrypt(const struct spa_gpg_opts *o, const char *recipient,
			   const char *signer, const char *plain, size_t plain_len,
			   struct spa_gpg_sink *sink)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t rcpt[2] = { NULL, NULL }, sign_key = NULL;
	gpgme_data_t in = NULL, out = NULL;
	gpgme_encrypt_result_t er;
	gpgme_error_t e;
	/* As fwknop's client: the recipient is the key the user named, so it
	 * is trusted as given; no encrypt-to keys from gpg.conf, which would
	 * add a session key packet per key and overflow the datagram. */
	const gpgme_encrypt_flags_t flags = GPGME_ENCRYPT_ALWAYS_TRUST |
					    GPGME_ENCRYPT_NO_ENCRYPT_TO;
	int rc = spa_gpg_ctx_new(o, &ctx);

	if (rc < 0)
		return rc;
	rc = spa_gpg_key(ctx, recipient, false, &rcpt[0]);
	if (rc == 0 && signer) {
		rc = spa_gpg_key(ctx, signer, true, &sign_key);
		if (rc == 0 && gpgme_signers_add(ctx, sign_key))
			rc = -SPA_E_GPG_KEY;
	}
	if (rc < 0)
		goto out;
	/* copy 0: gpgme reads P in place, no copy to wipe */
	if (gpgme_data_new_from_mem(&in, plain, plain_len, 0) ||
	    spa_gpg_sink_data(sink, &out) < 0) {
		rc = -SPA_E_NOMEM;
		goto out;
	}
	e = signer ? gpgme_op_encrypt_sign(ctx, rcpt, flags, in, out)
		   : gpgme_op_encrypt(ctx, rcpt, flags, in, out);
	er = gpgme_op_encrypt_result(ctx);
	if (sink->overflow)
		rc = -SPA_E_TOO_LONG;
	else if (er && er->invalid_recipients)
		rc = -SPA_E_GPG_KEY;
	else if (signer && gpgme_op_sign_result(ctx) &&
		 gpgme_op_sign_result(ctx)->invalid_signers)
		rc = -SPA_E_GPG_KEY;
	else
		rc = spa_gpg_error(e);
out:
	gpgme_data_release(in);
	gpgme_data_release(out);
	if (rcpt[0])
		gpgme_key_unref(rcpt[0]);
	if (sign_key)
		gpgme_key_unref(sign_key);
	gpgme_release(ctx);
	return rc;
}

int spa_gpg_build(const struct spa_gpg_opts *o, const char *recipient,
		  const char *signer, struct spa_message *m,
		  const struct spa_keys *hmac, char *out, size_t cap,
		  size_t *out_len, struct spa_build_info *info)
{
	char plain[SPA_MAX_PLAINTEXT + 1];
	uint8_t bin[SPA_GPG_MAX_BIN];
	char ct[SPA_GPG_MAX_BIN / 3 * 4 + 8];
	char mac[128] = "";
	struct spa_gpg_sink sink = { .buf = bin, .cap = sizeof(bin) };
	size_t plain_len = 0, ct_len;
	bool has_hmac = hmac && spa_keys_hmac_type(hmac) != SPA_HMAC_NONE;
	int rc;

	if (!o || !recipient || !m || !out || !out_len)
		return -SPA_E_ARG;
	rc = spa_message_encode(m, plain, sizeof(plain), &plain_len);
	if (rc < 0)
		goto out;
	rc = spa_gpg_encrypt(o, recipient, signer, plain, plain_len, &sink);
	if (rc < 0)
		goto out;
	ct_len = spa_b64_encode(bin, sink.len, ct);
	if (ct_len < SPA_GPG_PREFIX_LEN ||
	    memcmp(ct, SPA_GPG_PREFIX, SPA_GPG_PREFIX_LEN) != 0) {
		rc = -SPA_E_GPG_KEYTYPE;
		goto out;
	}
	/* libfko's size class, measured as the receiver will (docs/GNUPG.md) */
	if ((has_hmac ? ct_len : ct_len - SPA_GPG_PREFIX_LEN) < SPA_GPG_MIN_LEN) {
		rc = -SPA_E_TOO_SHORT;
		goto out;
	}
	rc = spa_keys_seal(hmac, ct, ct_len, SPA_GPG_PREFIX_LEN, out, cap,
			   out_len, mac);
	if (rc == 0 && *out_len >= SPA_MAX_WIRE_LEN)
		rc = -SPA_E_TOO_LONG;
	if (rc < 0)
		goto out;
	spa_build_info_fill(info, plain, mac);
out:
	if (rc < 0 && out && cap)
		out[0] = '\0';
	spa_wipe(plain, sizeof(plain));
	return rc;
}
