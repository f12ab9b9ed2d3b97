/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the SPA-over-HTTP request parser (spa_http.c),
 * which reads bytes from any TCP client (ENABLE_SPA_OVER_HTTP). The input
 * is copied to a buffer of exactly its size, so ASan sees a read past the
 * request. A parsed request must give SPA text of the SPA alphabet within
 * the wire limit, a printable X-Forwarded-For address of its family, and
 * must have been a whole header block; a refusal must name its reason.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_fixture.h"
#include "spa_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct spa_http_req req;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for (int want_xff = 0; want_xff < 2; want_xff++) {
		const char *why = NULL;
		unsigned char bin[16];
		int rc = spa_http_parse(buf, size, want_xff, &req, &why);

		if (rc < 0) {
			if (!why || !why[0])
				fuzz_fail("request refused without a reason", NULL);
			continue;
		}
		if (rc > 0)
			fuzz_fail("parser returned a positive code", NULL);
		if (!spa_http_is_request(buf, size) || !spa_http_is_complete(buf, size))
			fuzz_fail("accepted a request that is not a whole GET", NULL);
		if (req.spa_len == 0 || req.spa_len >= SPA_MAX_WIRE_LEN ||
		    strlen(req.spa) != req.spa_len)
			fuzz_fail("SPA text length", NULL);
		if (strspn(req.spa, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				    "0123456789+/") != req.spa_len)
			fuzz_fail("SPA text outside the alphabet", req.spa);
		if (!want_xff && req.xff_family)
			fuzz_fail("X-Forwarded-For read without being asked for", NULL);
		if (req.xff_family && (memchr(req.xff, '\0', sizeof(req.xff)) == NULL ||
				       inet_pton(req.xff_family, req.xff, bin) != 1 ||
				       memcmp(bin, req.xff_bin,
					      req.xff_family == AF_INET ? 4 : 16) != 0))
			fuzz_fail("X-Forwarded-For address", NULL);
	}
	free(buf);
	return 0;
}
