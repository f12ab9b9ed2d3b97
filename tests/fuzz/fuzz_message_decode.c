/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the plaintext side: spa_message_decode on the raw
 * bytes (not NUL-terminated, so ASan sees any over-read), a decode/encode/
 * decode round trip, and the field validators and access-request parser
 * on the same bytes as a C string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encodes into exact-size heap buffers: cap len + 1 must reproduce p,
 * any smaller cap must fail cleanly. Caps just past each ':' catch a
 * field writer that checks its room but then writes a little more. */
static void fuzz_encode_tight(const struct spa_message *m, const char *p,
			      size_t len)
{
	size_t caps[64], n_caps = 0;

	caps[n_caps++] = len + 1;
	caps[n_caps++] = len;
	for (size_t i = 0; i < len && n_caps + 3 <= 64; i++)
		if (p[i] == ':')
			for (size_t d = 1; d <= 3; d++)
				caps[n_caps++] = i + d;
	for (size_t c = 0; c < n_caps; c++) {
		struct spa_message again = *m;
		char *buf = malloc(caps[c]);
		size_t out_len = 0;
		int rc;

		if (buf == NULL)
			return;
		rc = spa_message_encode(&again, buf, caps[c], &out_len);
		if (caps[c] > len) {
			if (rc != 0 || out_len != len || memcmp(buf, p, len + 1))
				fuzz_fail("encode into an exact buffer differs",
					  p);
		} else if (rc == 0) {
			fuzz_fail("encode succeeded in a too small buffer", p);
		}
		free(buf);
	}
}

static void fuzz_reencode(const struct spa_message *m)
{
	struct spa_message again = *m, back;
	char p[2048];
	size_t len = 0;
	int rc = spa_message_encode(&again, p, sizeof(p), &len);

	/* The sender may be stricter than the receiver (e.g. it insists on
	 * its own limits), so only a successful encode must read back. */
	if (rc != 0)
		return;
	if (len >= sizeof(p) || strlen(p) != len)
		fuzz_fail("encode returned a bad length", NULL);
	memset(&back, 0, sizeof(back));
	rc = spa_message_decode(p, len, &back);
	if (rc != 0)
		fuzz_fail("decode refused what encode produced",
			  spa_strerror(rc));
	fuzz_check_same(&again, &back, "decode/encode/decode");
	fuzz_encode_tight(m, p, len);
}

static void fuzz_access_parse(const char *s)
{
	struct spa_port ports[SPA_MAX_PORTS];
	char ip[16];
	size_t n = 0;
	const size_t caps[] = { SPA_MAX_PORTS, 1 };

	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		if (spa_access_parse(s, ip, ports, caps[c], &n) != 0)
			continue;
		if (n == 0 || n > caps[c])
			fuzz_fail("access parse port count out of range", s);
		if (strnlen(ip, sizeof(ip)) == sizeof(ip) ||
		    spa_validate_ipv4(ip) != 0)
			fuzz_fail("access parse produced a bad IP", s);
		for (size_t i = 0; i < n; i++)
			if ((ports[i].proto != 6 && ports[i].proto != 17) ||
			    ports[i].port == 0)
				fuzz_fail("access parse produced a bad port", s);
		if (spa_validate_access_msg(s) != 0)
			fuzz_fail("parser accepts what the validator refuses", s);
	}
}

/* Checks the base64 layer against its documented buffer contract:
 * encode into exactly spa_b64_encoded_len() + 1 heap bytes, decode back. */
static void fuzz_b64(const uint8_t *data, size_t size)
{
	uint8_t out[1024], key[SPA_MAX_HMAC_KEY_LEN];
	size_t n = 0, elen = spa_b64_encoded_len(size);
	char *enc;
	int rc = spa_b64_decode((const char *)data, size, out, sizeof(out), &n);

	if (rc == 0 && n > sizeof(out))
		fuzz_fail("b64 decode wrote past its capacity", NULL);

	enc = malloc(elen + 1);
	if (enc == NULL)
		return;
	if (spa_b64_encode(data, size, enc) != elen || strlen(enc) != elen)
		fuzz_fail("b64 encode length differs from b64_encoded_len", NULL);
	if (size <= sizeof(out)) {
		rc = spa_b64_decode(enc, elen, out, sizeof(out), &n);
		if (rc != 0 || n != size || (size && memcmp(out, data, size)))
			fuzz_fail("b64 encode/decode round trip", NULL);
	}
	free(enc);

	enc = fuzz_strndup(data, size);
	if (enc == NULL)
		return;
	rc = spa_key_from_base64(enc, key, sizeof(key), &n);
	if (rc == 0 && n > sizeof(key))
		fuzz_fail("key decode wrote past its capacity", NULL);
	spa_wipe(key, sizeof(key));
	free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spa_message m;
	char *s;

	memset(&m, 0, sizeof(m));
	if (spa_message_decode((const char *)data, size, &m) == 0) {
		fuzz_check_message(&m);
		fuzz_reencode(&m);
	}

	s = fuzz_strndup(data, size);
	if (s == NULL)
		return 0;
	(void)spa_validate_username(s);
	(void)spa_validate_command_msg(s);
	(void)spa_validate_nat_access(s);
	if (spa_validate_ipv4(s) == 0 && strlen(s) > 15)
		fuzz_fail("ipv4 validator accepted more than 15 characters", s);
	(void)spa_validate_access_msg(s);
	fuzz_access_parse(s);
	free(s);
	fuzz_b64(data, size);
	return 0;
}
