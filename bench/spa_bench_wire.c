/* SPDX-License-Identifier: MIT */
/*
 * Per-packet cost of the wire library as the engine pays it: prefilter,
 * HMAC verification, decryption and decoding, for a valid packet and for
 * random garbage, against one key set and against many (where every
 * non-matching key set costs one failing HMAC), plus the sender's build.
 *
 *   spa_bench_wire [MIN_SECONDS_PER_CASE] [N_KEY_SETS]
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "spa_wire.h"

#define BENCH_DEFAULT_KEYS 1000
#define BENCH_N_GARBAGE 64

struct bench_ctx {
	struct spa_keys **keys;      /* n_keys HMAC+CBC sets; the last matches */
	size_t n_keys;
	struct spa_keys *plain_key;  /* CBC without HMAC */
	struct spa_message msg;
	char valid[SPA_WIRE_CAP];
	size_t valid_len;
	char valid_plain[SPA_WIRE_CAP];
	size_t valid_plain_len;
	/* Random wire-alphabet strings as long as valid / valid_plain, so
	 * they pass the prefilter and the length checks before the MAC. */
	char garbage[BENCH_N_GARBAGE][SPA_WIRE_CAP];
	char garbage_plain[BENCH_N_GARBAGE][SPA_WIRE_CAP];
	size_t next_garbage;
};

/* One packet's worth of work; returns false when the outcome is not the
 * expected one, which aborts the run (a benchmark of a broken path
 * measures nothing). */
typedef bool (*bench_op)(struct bench_ctx *c);

struct bench_case {
	const char *name;
	bench_op op;
};

static double bench_now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Tries key sets in order as the engine's stanza loop does; a MAC
 * mismatch moves on, anything else ends the search. */
static int bench_try_keys(const char *data, size_t len, struct spa_keys **keys,
			  size_t n, size_t *matched)
{
	struct spa_message m;
	int rc = spa_packet_prefilter(data, len);

	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		rc = spa_packet_open(data, len, keys[i], &m);
		if (rc == 0) {
			*matched = i;
			return 0;
		}
		if (rc != -SPA_E_HMAC && rc != -SPA_E_DECRYPT)
			return rc;
	}
	return -SPA_E_HMAC;
}

static const char *bench_next_garbage(struct bench_ctx *c, bool plain)
{
	const char *g = plain ? c->garbage_plain[c->next_garbage]
			      : c->garbage[c->next_garbage];

	c->next_garbage = (c->next_garbage + 1) % BENCH_N_GARBAGE;
	return g;
}

static bool bench_build(struct bench_ctx *c)
{
	char out[SPA_WIRE_CAP];
	size_t len = 0;

	return spa_packet_build(&c->msg, c->keys[c->n_keys - 1], NULL, out,
				sizeof(out), &len) == 0;
}

static bool bench_valid_1(struct bench_ctx *c)
{
	size_t idx = SIZE_MAX;

	return bench_try_keys(c->valid, c->valid_len, &c->keys[c->n_keys - 1],
			      1, &idx) == 0;
}

static bool bench_valid_n(struct bench_ctx *c)
{
	size_t idx = SIZE_MAX;

	return bench_try_keys(c->valid, c->valid_len, c->keys, c->n_keys,
			      &idx) == 0 && idx == c->n_keys - 1;
}

static bool bench_garbage_1(struct bench_ctx *c)
{
	size_t idx;

	return bench_try_keys(bench_next_garbage(c, false), c->valid_len,
			      &c->keys[c->n_keys - 1], 1, &idx) != 0;
}

static bool bench_garbage_n(struct bench_ctx *c)
{
	size_t idx;

	return bench_try_keys(bench_next_garbage(c, false), c->valid_len, c->keys,
			      c->n_keys, &idx) != 0;
}

static bool bench_valid_nohmac(struct bench_ctx *c)
{
	size_t idx;

	return bench_try_keys(c->valid_plain, c->valid_plain_len,
			      &c->plain_key, 1, &idx) == 0;
}

/* Without a MAC every garbage packet is decrypted; only the rand-value
 * check tells it from a real one. */
static bool bench_garbage_nohmac(struct bench_ctx *c)
{
	size_t idx;

	return bench_try_keys(bench_next_garbage(c, true),
			      c->valid_plain_len, &c->plain_key, 1, &idx) != 0;
}

static int bench_run(const struct bench_case *bc, struct bench_ctx *c,
		     double min_seconds)
{
	uint64_t iters = 1;
	double wall = 0, cpu = 0;

	if (!bc->op(c))
		goto fail;
	for (;;) {
		double w0 = bench_now(CLOCK_MONOTONIC);
		double c0 = bench_now(CLOCK_PROCESS_CPUTIME_ID);

		for (uint64_t i = 0; i < iters; i++)
			if (!bc->op(c))
				goto fail;
		wall = bench_now(CLOCK_MONOTONIC) - w0;
		cpu = bench_now(CLOCK_PROCESS_CPUTIME_ID) - c0;
		if (wall >= min_seconds)
			break;
		/* Aim 20% past the target so the next round usually ends it. */
		if (wall < min_seconds / 100)
			iters *= 10;
		else
			iters = (uint64_t)((double)iters * 1.2 * min_seconds /
					   wall) + 1;
	}
	printf("%-40s %10" PRIu64 " %12.0f %12.2f %12.2f\n", bc->name, iters,
	       (double)iters / wall, wall * 1e6 / (double)iters,
	       cpu * 1e6 / (double)iters);
	return 0;
fail:
	fprintf(stderr, "spa_bench_wire: %s: unexpected result\n", bc->name);
	return -1;
}

static int bench_new_keys(size_t i, bool hmac, struct spa_keys **out)
{
	char enc[40], mac[80];
	struct spa_key_spec spec = { 0 };

	/* Distinct keys per set so no two sets could accept the same packet. */
	snprintf(enc, sizeof(enc), "bench-enc-key-%06zu", i);
	snprintf(mac, sizeof(mac), "bench-hmac-key-%06zu-0123456789abcdef", i);
	spec.enc_key = (const uint8_t *)enc;
	spec.enc_key_len = strlen(enc);
	if (hmac) {
		spec.hmac_key = (const uint8_t *)mac;
		spec.hmac_key_len = strlen(mac);
		spec.hmac_type = SPA_DIGEST_SHA256;
	}
	spec.enc_mode = SPA_MODE_CBC;
	return spa_keys_new(&spec, out);
}

static int bench_make_garbage(char set[BENCH_N_GARBAGE][SPA_WIRE_CAP],
			      size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t rnd[SPA_WIRE_CAP];
	int rc = 0;

	for (size_t g = 0; g < BENCH_N_GARBAGE; g++) {
		char *s = set[g];

		do {
			rc = spa_random_bytes(rnd, len);
			if (rc != 0)
				return rc;
			for (size_t i = 0; i < len; i++)
				s[i] = alphabet[rnd[i] & 63];
			s[len] = '\0';
		} while (spa_packet_prefilter(s, len) != 0);
	}
	return 0;
}

static int bench_setup(struct bench_ctx *c, size_t n_keys)
{
	int rc;

	c->n_keys = n_keys;
	c->keys = calloc(n_keys, sizeof(*c->keys));
	if (c->keys == NULL)
		return -SPA_E_NOMEM;
	for (size_t i = 0; i < n_keys; i++) {
		rc = bench_new_keys(i, true, &c->keys[i]);
		if (rc != 0)
			return rc;
	}
	rc = bench_new_keys(n_keys, false, &c->plain_key);
	if (rc != 0)
		return rc;

	rc = spa_message_init(&c->msg);
	if (rc != 0)
		return rc;
	c->msg.timestamp = (uint64_t)time(NULL);
	snprintf(c->msg.username, sizeof(c->msg.username), "bench");
	snprintf(c->msg.message, sizeof(c->msg.message),
		 "198.51.100.7,tcp/22");
	rc = spa_packet_build(&c->msg, c->keys[n_keys - 1], NULL, c->valid,
			      sizeof(c->valid), &c->valid_len);
	if (rc != 0)
		return rc;
	rc = spa_packet_build(&c->msg, c->plain_key, NULL, c->valid_plain,
			      sizeof(c->valid_plain), &c->valid_plain_len);
	if (rc != 0)
		return rc;
	rc = bench_make_garbage(c->garbage, c->valid_len);
	if (rc != 0)
		return rc;
	return bench_make_garbage(c->garbage_plain, c->valid_plain_len);
}

static void bench_teardown(struct bench_ctx *c)
{
	if (c->keys != NULL)
		for (size_t i = 0; i < c->n_keys; i++)
			spa_keys_free(c->keys[i]);
	free(c->keys);
	spa_keys_free(c->plain_key);
}

int main(int argc, char **argv)
{
	static struct bench_ctx ctx;
	char name_valid_n[64], name_garbage_n[64];
	double min_seconds = 0.5;
	size_t n_keys = BENCH_DEFAULT_KEYS;
	int rc, ret = 1;

	if (argc > 1)
		min_seconds = strtod(argv[1], NULL);
	if (argc > 2)
		n_keys = strtoul(argv[2], NULL, 10);
	if (min_seconds <= 0 || n_keys < 1 || n_keys > 1000000) {
		fprintf(stderr,
			"usage: %s [MIN_SECONDS_PER_CASE] [N_KEY_SETS]\n",
			argv[0]);
		return 2;
	}
	rc = bench_setup(&ctx, n_keys);
	if (rc != 0) {
		fprintf(stderr, "spa_bench_wire: setup: %s\n", spa_strerror(rc));
		goto out;
	}
	snprintf(name_valid_n, sizeof(name_valid_n),
		 "valid, %zu key sets (match last)", n_keys);
	snprintf(name_garbage_n, sizeof(name_garbage_n),
		 "garbage, %zu key sets", n_keys);
	const struct bench_case cases[] = {
		{ "build (CBC, HMAC-SHA256)", bench_build },
		{ "valid, 1 key set", bench_valid_1 },
		{ name_valid_n, bench_valid_n },
		{ "garbage, 1 key set", bench_garbage_1 },
		{ name_garbage_n, bench_garbage_n },
		{ "valid, 1 key set, no HMAC", bench_valid_nohmac },
		{ "garbage, 1 key set, no HMAC", bench_garbage_nohmac },
	};

	printf("spa_bench_wire: %s; packet %zu chars (HMAC-SHA256, CBC), "
	       ">= %.2f s per case\n",
	       OpenSSL_version(OPENSSL_VERSION), ctx.valid_len, min_seconds);
	/* "µ" is two bytes in UTF-8, hence the wider fields. */
	printf("%-40s %10s %12s %13s %13s\n", "case", "packets", "packets/s",
	       "µs/packet", "CPU µs/pkt");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (bench_run(&cases[i], &ctx, min_seconds) != 0)
			goto out;
	ret = 0;
out:
	bench_teardown(&ctx);
	return ret;
}
