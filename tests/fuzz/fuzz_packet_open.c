/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the receive path: prefilter, replay digest and
 * spa_packet_open against several prepared key sets. Inputs starting with
 * FUZZ_ROUNDTRIP_MARK instead describe a message that is built and then
 * opened again, which checks that everything the sender accepts the
 * receiver reads back unchanged.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct spa_keys *fuzz_keys[FUZZ_N_KEYSETS];

static void fuzz_check_rc(int rc, const char *what)
{
	if (rc > 0 || rc <= -SPA_E__COUNT)
		fuzz_fail("return code outside the error enum", what);
}

static void fuzz_open_raw(const uint8_t *data, size_t size)
{
	const char *wire = (const char *)data;
	char digest[44];
	int rc = spa_packet_prefilter(wire, size);

	fuzz_check_rc(rc, "prefilter");
	if (rc == 0 && (size < SPA_MIN_WIRE_LEN || size >= SPA_MAX_WIRE_LEN))
		fuzz_fail("prefilter passed a packet of bad length", NULL);

	rc = spa_replay_digest(wire, size, digest);
	fuzz_check_rc(rc, "replay digest");
	if (rc == 0 && strnlen(digest, sizeof(digest)) != 43)
		fuzz_fail("replay digest is not 43 characters", NULL);

	/* Every key set sees every input, prefiltered or not: open must be
	 * safe on its own, whatever the caller checked first. */
	for (size_t i = 0; i < FUZZ_N_KEYSETS; i++) {
		struct spa_message m;

		memset(&m, 0, sizeof(m));
		rc = spa_packet_open(wire, size, fuzz_keys[i], &m);
		fuzz_check_rc(rc, "open");
		if (rc == 0)
			fuzz_check_message(&m);
	}
}

/* Errors a successful build may still meet on open: they are size and
 * field limits where the receiver is stricter than the sender, exactly as
 * fwknop's client and server differ (docs/ARCHITECTURE.md). */
static bool fuzz_open_may_refuse(int rc)
{
	switch (-rc) {
	case SPA_E_ENCTYPE:
	case SPA_E_TOO_LONG:
	case SPA_E_USERNAME:
	case SPA_E_MESSAGE:
	case SPA_E_NAT:
	case SPA_E_SERVER_AUTH:
	case SPA_E_PLAINTEXT:
		return true;
	default:
		return false;
	}
}

/* Copies the next '\n'-terminated field; false if it does not fit or
 * contains a NUL (C strings cannot carry one). */
static bool fuzz_take_field(const uint8_t **p, const uint8_t *end, char *dst,
			    size_t cap)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = (size_t)((nl ? nl : end) - *p);

	if (n >= cap || memchr(*p, '\0', n) != NULL)
		return false;
	memcpy(dst, *p, n);
	dst[n] = '\0';
	*p = nl ? nl + 1 : end;
	return true;
}

#define FUZZ_RT_HEADER 13

static void fuzz_roundtrip(const uint8_t *data, size_t size)
{
	struct spa_message m, back;
	char wire[SPA_WIRE_CAP];
	size_t wire_len = 0;
	const uint8_t *p, *end = data + size;
	const struct spa_keys *k;
	int rc;

	if (size < FUZZ_RT_HEADER)
		return;
	if (spa_message_init(&m) != 0)
		fuzz_fail("spa_message_init failed", NULL);
	k = fuzz_keys[data[0] % FUZZ_N_KEYSETS];
	m.type = data[9] % (SPA_MSG_TYPE_MAX + 1);
	m.client_timeout = (uint32_t)data[10] << 8 | data[11];
	m.digest_type = data[12] % (SPA_DIGEST_MAX + 1);
	p = data + FUZZ_RT_HEADER;
	if (!fuzz_take_field(&p, end, m.username, sizeof(m.username)) ||
	    !fuzz_take_field(&p, end, m.message, sizeof(m.message)) ||
	    !fuzz_take_field(&p, end, m.nat_access, sizeof(m.nat_access)) ||
	    !fuzz_take_field(&p, end, m.server_auth, sizeof(m.server_auth)))
		return;

	rc = spa_packet_build(&m, k, data + 1, wire, sizeof(wire), &wire_len);
	fuzz_check_rc(rc, "build");
	if (rc != 0)
		return;
	if (wire_len >= sizeof(wire) || strlen(wire) != wire_len)
		fuzz_fail("build returned a bad length", NULL);
	if (wire_len >= SPA_MIN_WIRE_LEN && wire_len < SPA_MAX_WIRE_LEN &&
	    spa_packet_prefilter(wire, wire_len) != 0)
		fuzz_fail("prefilter refused a freshly built packet", wire);

	memset(&back, 0, sizeof(back));
	rc = spa_packet_open(wire, wire_len, k, &back);
	fuzz_check_rc(rc, "open after build");
	if (rc != 0) {
		if (!fuzz_open_may_refuse(rc))
			fuzz_fail("open refused a freshly built packet",
				  spa_strerror(rc));
		return;
	}
	fuzz_check_message(&back);
	fuzz_check_same(&m, &back, "build/open round trip");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool loaded;

	/* Key schedules are prepared once, as the engine does at load. */
	if (!loaded) {
		fuzz_keys_load(fuzz_keys);
		loaded = true;
	}
	if (size > 0 && data[0] == FUZZ_ROUNDTRIP_MARK)
		fuzz_roundtrip(data + 1, size - 1);
	else
		fuzz_open_raw(data, size);
	return 0;
}
