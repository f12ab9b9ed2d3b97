/* SPDX-License-Identifier: MIT */
/*
 * interop_fko.h - thin wrappers over Debian's libfko for the test-only
 * oracles (never installed). libfko is the reference decoder and, for the
 * field-limit tests, the reference encoder.
 */
#ifndef INTEROP_FKO_H
#define INTEROP_FKO_H

#include <fko.h>

#include "interop_util.h"

/* Field values for libfko's encoder; NULL/0 leaves a field unset. */
struct io_fko_fields {
	const char *rand_val;
	const char *user;
	int type;
	const char *message;
	const char *nat;
	const char *server_auth;
	int client_timeout;
};

/* fwknopd hands libfko at most 16 key bytes in legacy mode (PROTOCOL 2.1). */
size_t io_fko_key_len(const struct io_case *c);
/* fko_new_with_data with c's keys, mode and HMAC type. */
int io_fko_open(const struct io_case *c, const char *wire, fko_ctx_t *ctx);
void io_fko_close(fko_ctx_t ctx);
/* Builds a packet with libfko's encoder into out (cap bytes). */
int io_fko_build(const struct io_case *c, const struct io_fko_fields *f,
		 char *out, size_t cap);

#endif
