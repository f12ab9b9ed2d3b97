/* SPDX-License-Identifier: MIT */
#include "spa_wire.h"

static const char *const spa_error_text[SPA_E__COUNT] = {
	[SPA_OK] = "success",
	[SPA_E_NOMEM] = "out of memory",
	[SPA_E_ARG] = "invalid argument",
	[SPA_E_TOO_SHORT] = "data too short",
	[SPA_E_TOO_LONG] = "data too long",
	[SPA_E_CHARSET] = "invalid character in SPA data",
	[SPA_E_PREFIX] = "forbidden prefix in SPA data (replay attempt)",
	[SPA_E_BASE64] = "malformed base64",
	[SPA_E_HMAC] = "HMAC mismatch",
	[SPA_E_CIPHERLEN] = "ciphertext length not a multiple of the block size",
	[SPA_E_DECRYPT] = "decryption failed (wrong key or corrupt data)",
	[SPA_E_PLAINTEXT] = "decrypted data has a bad length or unprintable bytes",
	[SPA_E_FIELDS] = "wrong number of fields in SPA data",
	[SPA_E_RAND] = "invalid random value field",
	[SPA_E_USERNAME] = "invalid username",
	[SPA_E_TIMESTAMP] = "invalid timestamp",
	[SPA_E_VERSION] = "invalid version field",
	[SPA_E_MSGTYPE] = "invalid message type",
	[SPA_E_MESSAGE] = "invalid access request or command message",
	[SPA_E_NAT] = "invalid NAT access field",
	[SPA_E_SERVER_AUTH] = "invalid server auth field",
	[SPA_E_TIMEOUT] = "invalid or missing client timeout",
	[SPA_E_DIGEST] = "embedded digest mismatch",
	[SPA_E_DIGEST_TYPE] = "unknown digest type",
	[SPA_E_HMAC_TYPE] = "unknown HMAC digest type",
	[SPA_E_MODE] = "unknown or unsupported encryption mode",
	[SPA_E_KEY] = "invalid key",
	[SPA_E_ENCTYPE] = "not a Rijndael SPA packet (GnuPG size class)",
	[SPA_E_CRYPTO] = "cryptographic library failure",
	[SPA_E_RANDOM] = "no secure random bytes available",
	[SPA_E_UNSUPPORTED] = "not supported",
	[SPA_E_GPG] = "GnuPG failure (gpg missing or not working)",
	[SPA_E_GPG_KEY] = "GnuPG key not found, ambiguous or not usable",
	[SPA_E_GPG_KEYTYPE] = "GnuPG recipient key must be RSA or Elgamal (fwknop's wire form)",
	[SPA_E_GPG_PASSPHRASE] = "GnuPG passphrase missing or wrong",
	[SPA_E_GPG_NOSECKEY] = "no GnuPG secret key for the packet's recipient",
	[SPA_E_GPG_BADDATA] = "GnuPG data malformed or corrupted",
	[SPA_E_GPG_NOSIG] = "GnuPG packet is not signed",
	[SPA_E_GPG_BADSIG] = "GnuPG signature does not verify",
	[SPA_E_GPG_NOPUBKEY] = "GnuPG signer's public key not in the keyring",
	[SPA_E_GPG_EXPIRED] = "GnuPG signing key or signature expired",
	[SPA_E_GPG_REVOKED] = "GnuPG signing key revoked",
	[SPA_E_GPG_UNTRUSTED] = "GnuPG signing key validity below marginal",
};

const char *spa_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= SPA_E__COUNT || !spa_error_text[err])
		return "unknown error";
	return spa_error_text[err];
}
