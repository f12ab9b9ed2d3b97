/* SPDX-License-Identifier: MIT */
/*
 * interop_util.h - shared pieces of the fwknop interop tests: the test
 * matrix, a seeded PRNG, an independent base64 codec (deliberately not the
 * one in lib/, so a bug there cannot hide itself) and mutation helpers.
 */
#ifndef INTEROP_UTIL_H
#define INTEROP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- deterministic PRNG (splitmix64): reproducible by seed ---------------- */
struct io_rng {
	uint64_t state;
};

void io_rng_seed(struct io_rng *r, uint64_t seed);
uint64_t io_rng_next(struct io_rng *r);
uint32_t io_rng_below(struct io_rng *r, uint32_t n);
/* Seed from argv "--seed N", env SPA_INTEROP_SEED, else the clock. */
uint64_t io_pick_seed(int argc, char **argv);

/* ---- independent base64 (standard alphabet) ------------------------------- */
extern const char io_b64_alphabet[65];
int io_b64_value(char c);   /* 0..63, or -1 */
/* Padded encoding, NUL-terminated; out needs 4*ceil(len/3)+1 bytes. */
size_t io_b64_encode(const uint8_t *in, size_t len, char *out);
/* Decodes [A-Za-z0-9+/]* (stops at '=' or end), leftover bits dropped.
 * Returns the byte count or -1 on a bad character / overflow. */
long io_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap);

/* ---- the matrix ------------------------------------------------------------- */
/* Modes as fwknop names them for -M; index 5 is "legacy". */
#define IO_N_MODES 6
#define IO_N_DIGESTS 7
#define IO_N_HMACS 8           /* 0 = no HMAC, 1..7 = digest ids */
#define IO_N_TYPES 7

struct io_case {
	unsigned index;
	int mode;                  /* SPA_MODE_* */
	const char *mode_arg;      /* fwknop -M value */
	int digest;                /* SPA_DIGEST_* */
	int hmac;                  /* SPA_DIGEST_* or 0 */
	int type;                  /* SPA_MSG_* requested */
	char user[32];
	bool user_via_env;         /* LOGNAME instead of -U */
	uint8_t key[32];
	size_t key_len;
	bool key_b64;              /* pass --key-base64-rijndael */
	uint8_t hmac_key[128];
	size_t hmac_key_len;
	bool hmac_key_b64;
	bool source_ip;            /* -s: allow IP 0.0.0.0 */
	char allow_ip[16];
	char access[64];           /* "tcp/22,udp/53" (fwknop -A) */
	char nat_arg[80];          /* -N value ("" = none) */
	bool nat_local;            /* --nat-local */
	char command[300];          /* -C value for type 0 */
	uint32_t timeout;          /* -f value (0 = none) */
	char server_auth[48];      /* only our encoder sets it */
	/* What the message should contain, for harness self-checks. */
	char exp_message[320];
	char exp_nat[96];
};

unsigned io_matrix_size(void);
/* Fills c for matrix index idx; random choices come from (seed, idx). */
void io_matrix_case(unsigned idx, uint64_t seed, struct io_case *c);
/* The matrix case with these parameters; -1 if there is none. */
int io_matrix_find(int mode, int digest, int hmac, int type, uint64_t seed,
		   struct io_case *c);
/* "mode=CBC digest=sha256 hmac=none type=1 ..." for failure reports. */
void io_case_describe(const struct io_case *c, char *out, size_t cap);
/* Bytes as printable text for reports: hex. */
void io_hex(const uint8_t *b, size_t len, char *out, size_t cap);

/* ---- mutations ---------------------------------------------------------------- */
/* A different base64 character for position pos: flip_low picks the one
 * whose 6-bit value differs only in its lowest bit (the bit most likely to
 * be ignored by a sloppy decoder), otherwise a random different one. */
char io_mutant_char(char orig, bool flip_low, struct io_rng *r);
/*
 * True when a mutated no-HMAC wire string decodes to the same salt and
 * ciphertext as the original: base64 leftover bits or the unchecked
 * "Salted__" magic. Such a copy cannot be told apart by anybody.
 */
bool io_mutation_is_equivalent(const char *orig, const char *mut, size_t len);

/* ---- tallies -------------------------------------------------------------------- */
struct io_tally {
	unsigned long passed;
	unsigned long failed;
	unsigned long failures_shown;
};
/* Records one check; prints the message (printf-style) when it failed,
 * for the first 60 failures. Returns ok. */
/*
 * Values fwknop accepts that spa refuses on purpose (docs/ARCHITECTURE.md):
 * an allow IP with a leading-zero octet (inet_aton reads it as octal) and a
 * NAT field with an empty host. The tests require that we refuse them.
 */
bool io_stricter_by_design(const char *message, const char *nat);

bool io_check(struct io_tally *t, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
