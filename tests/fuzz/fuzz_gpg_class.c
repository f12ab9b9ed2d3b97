/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the GnuPG receive path up to gpg: the size class,
 * the HMAC, canonical base64 and the OpenPGP framing walk. The gpg it
 * names does not exist, so nothing is ever decrypted; what it checks is
 * that every input is classified consistently, that none crashes the
 * framing walk, and that no input reaches gpg (-SPA_E_GPG) or any later
 * stage through an HMAC key set without a valid MAC, checked here
 * independently with OpenSSL.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_GPG_HMAC_KEY "fuzz-gpg-hmac-key-0123456789"
#define FUZZ_MAC_B64 43

static const struct spa_gpg_opts fuzz_no_gpg = { .gpg_exe = "/nonexistent/gpg" };

static void fuzz_check_rc(int rc, const char *what)
{
	if (rc > 0 || rc <= -SPA_E__COUNT)
		fuzz_fail("return code outside the error enum", what);
	if (rc == 0)
		fuzz_fail("opened without gpg", what);
}

/* Is the last 43 characters the HMAC-SHA256 of "hQ" || the rest? */
static bool fuzz_mac_ok(const char *wire, size_t len)
{
	unsigned char mac[EVP_MAX_MD_SIZE], b64[EVP_MAX_MD_SIZE * 2];
	unsigned int n = 0;
	uint8_t buf[2 + SPA_MAX_WIRE_LEN];

	if (len < FUZZ_MAC_B64 + SPA_MIN_ENCODED_LEN || len >= SPA_MAX_WIRE_LEN)
		return false;
	memcpy(buf, "hQ", 2);
	memcpy(buf + 2, wire, len - FUZZ_MAC_B64);
	if (!HMAC(EVP_sha256(), FUZZ_GPG_HMAC_KEY, (int)strlen(FUZZ_GPG_HMAC_KEY),
		  buf, 2 + len - FUZZ_MAC_B64, mac, &n))
		fuzz_fail("HMAC failed", NULL);
	EVP_EncodeBlock(b64, mac, (int)n);
	return memcmp(b64, wire + len - FUZZ_MAC_B64, FUZZ_MAC_B64) == 0;
}

static void fuzz_class(const char *wire, size_t size)
{
	int t = spa_packet_enc_type(wire, size);

	if (size < SPA_MIN_ENCODED_LEN || size >= SPA_MAX_WIRE_LEN) {
		if (t >= 0)
			fuzz_fail("classified a packet of impossible length", NULL);
	} else if (t != (size >= SPA_GPG_MIN_LEN ? SPA_ENC_GPG : SPA_ENC_RIJNDAEL)) {
		fuzz_fail("classification is not the 400-character rule", NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct spa_keys *hmac;
	const char *wire = (const char *)data;
	struct spa_message m;
	struct spa_gpg_result r;
	int rc;

	if (!hmac) {
		struct spa_key_spec s = {
			.hmac_key = (const uint8_t *)FUZZ_GPG_HMAC_KEY,
			.hmac_key_len = strlen(FUZZ_GPG_HMAC_KEY),
			.enc_mode = SPA_MODE_ASYMMETRIC,
		};

		if (spa_keys_new(&s, &hmac) != 0)
			fuzz_fail("HMAC key set refused", NULL);
	}
	fuzz_class(wire, size);

	rc = spa_gpg_open(&fuzz_no_gpg, wire, size, NULL, &m, &r);
	fuzz_check_rc(rc, "open without HMAC");
	if (rc == -SPA_E_GPG && size < SPA_GPG_MIN_LEN)
		fuzz_fail("a Rijndael-sized packet reached gpg", NULL);

	rc = spa_gpg_open(&fuzz_no_gpg, wire, size, hmac, &m, &r);
	fuzz_check_rc(rc, "open with HMAC");
	if (!fuzz_mac_ok(wire, size) && rc != -SPA_E_HMAC &&
	    rc != -SPA_E_TOO_SHORT && rc != -SPA_E_TOO_LONG)
		fuzz_fail("past the HMAC without a valid MAC", spa_strerror(rc));
	return 0;
}
