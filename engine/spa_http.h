/* SPDX-License-Identifier: MIT */
/*
 * spa_http.h - SPA over HTTP (fwknop's client -P http, fwknopd.conf
 * ENABLE_SPA_OVER_HTTP): the SPA data is the path of a GET request, with
 * '+' sent as '-' and '/' as '_'. A strict, bounded parser of that one
 * request: no allocation, no state, every length checked. Runs in the
 * sandboxed packet process on bytes from the network.
 */
#ifndef SPA_HTTP_H
#define SPA_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spa_wire.h"

/* The whole request, headers included: a GnuPG knock (up to 1499
 * characters) and a proxy's headers fit with room to spare. */
#define SPA_HTTP_MAX_REQUEST 4096
#define SPA_HTTP_MAX_LINE 1024     /* one header line, its end included */
#define SPA_HTTP_MAX_HEADERS 32

struct spa_http_req {
	char spa[SPA_MAX_WIRE_LEN];    /* the SPA text, '-' and '_' translated back */
	size_t spa_len;
	/* The last address of the last X-Forwarded-For header (the one the
	 * proxy nearest to us added), only when asked for; family 0: none. */
	int xff_family;
	uint8_t xff_bin[16];
	char xff[46];
};

/* Whether buf starts like a request this parser takes ("GET ", any case,
 * as fwknopd): such bytes are never SPA data (a space is not base64). */
bool spa_http_is_request(const char *buf, size_t len);

/* Whether buf holds a whole header block (a blank line), so a connection
 * need not wait for more. */
bool spa_http_is_complete(const char *buf, size_t len);

/*
 * Parses one request: "GET <target> HTTP/1.0|1.1", header lines, a blank
 * line, nothing after it (lines end in CRLF or LF). The target is
 * "/<spa>" or a proxy's "http://<host>/<spa>"; <spa> is the SPA alphabet
 * with '-' and '_' ([A-Za-z0-9+/_-], at most SPA_MAX_WIRE_LEN - 1
 * characters). Header names are tokens, values printable; no line folding.
 * With want_xff, X-Forwarded-For entries must be IPv4 or IPv6 addresses.
 * 0, or -EBADMSG with *why naming the problem (a static string).
 */
int spa_http_parse(const char *buf, size_t len, bool want_xff, struct spa_http_req *out,
		   const char **why);

#endif
