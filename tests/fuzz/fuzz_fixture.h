/* SPDX-License-Identifier: MIT */
/*
 * Fixed key sets and sample messages shared by the fuzz harnesses, the
 * seed generator and the replay driver. The seed generator builds packets
 * with exactly these keys so that fuzzing starts from inputs that get past
 * the HMAC and decrypt layers of at least one key set.
 */
#ifndef SPA_FUZZ_FIXTURE_H
#define SPA_FUZZ_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "spa_wire.h"

#define FUZZ_N_KEYSETS 7

/* First byte of a packet-harness input that selects the build/open
 * round-trip mode; '!' is outside the wire alphabet, so real packets
 * never take this path. */
#define FUZZ_ROUNDTRIP_MARK '!'

/* Creates all key sets once; aborts on failure because a harness
 * without its keys would fuzz nothing useful. */
void fuzz_keys_load(struct spa_keys *out[FUZZ_N_KEYSETS]);
void fuzz_keys_free(struct spa_keys *ks[FUZZ_N_KEYSETS]);

struct fuzz_sample {
	int type;
	const char *user;
	const char *message;
	const char *nat;          /* NULL: none */
	const char *server_auth;  /* NULL: none */
	uint32_t client_timeout;
	int digest_type;
};

extern const struct fuzz_sample fuzz_samples[];
extern const size_t fuzz_n_samples;

/* Fills m from a sample (spa_message_init first, so rand_val is fresh). */
int fuzz_sample_to_message(const struct fuzz_sample *s, struct spa_message *m);

/* Invariants every successfully decoded message must satisfy; aborts
 * (which libFuzzer reports as a crash) with a note on the first one
 * that does not hold. */
void fuzz_check_message(const struct spa_message *m);

/* Aborts unless a and b carry the same fields; used for round trips.
 * The client timeout is compared only for the timeout-carrying types
 * because the encoder drops it for the others. */
void fuzz_check_same(const struct spa_message *a, const struct spa_message *b,
		     const char *what);

/* Reports an invariant violation and aborts. */
void fuzz_fail(const char *what, const char *detail) __attribute__((noreturn));

/* Copies src into a NUL-terminated heap buffer of exactly len + 1 bytes so
 * that ASan catches any read past the terminator. NULL on ENOMEM. */
char *fuzz_strndup(const uint8_t *src, size_t len);

#endif
