/* SPDX-License-Identifier: MIT */
/*
 * Test helper for the shell tests: opens one wire string read from a file
 * with the given keys (CBC, HMAC sha256) and prints the message field, so
 * a script can check that captured bytes are a valid SPA packet.
 * Usage: client_wire_open <enc key> <hmac key> <file>
 */
#include <stdio.h>
#include <string.h>

#include "spa_wire.h"

int main(int argc, char **argv)
{
	struct spa_key_spec spec = { 0 };
	struct spa_keys *k = NULL;
	struct spa_message m;
	char wire[SPA_WIRE_CAP];
	size_t len;
	FILE *f;
	int rc = 1;

	if (argc != 4)
		return 2;
	f = fopen(argv[3], "rb");
	if (!f)
		return 2;
	len = fread(wire, 1, sizeof(wire) - 1, f);
	fclose(f);
	wire[len] = '\0';
	spec.enc_key = (const uint8_t *)argv[1];
	spec.enc_key_len = strlen(argv[1]);
	spec.hmac_key = (const uint8_t *)argv[2];
	spec.hmac_key_len = strlen(argv[2]);
	spec.hmac_type = SPA_DIGEST_SHA256;
	spec.enc_mode = SPA_MODE_CBC;
	if (spa_keys_new(&spec, &k) < 0)
		return 2;
	if (spa_packet_open(wire, len, k, &m) == 0) {
		printf("%s\n", m.message);
		rc = 0;
	} else {
		fprintf(stderr, "client_wire_open: not a valid SPA packet\n");
	}
	spa_keys_free(k);
	return rc;
}
