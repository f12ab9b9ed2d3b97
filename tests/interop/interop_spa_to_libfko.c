/* SPDX-License-Identifier: MIT */
/*
 * interop_spa_to_libfko - us -> fwknop. TEST-ONLY, never installed.
 *
 * Builds packets with spa_packet_build_ex() for the whole matrix (modes x
 * digests x HMAC x message types, plus server auth fields the stock client
 * never sends) and lets Debian's libfko decode them: every field libfko
 * reports must equal what we encoded, and a copy with one character
 * changed must be refused by libfko.
 *
 * libfko's mode/digest/HMAC/message-type enums use the same numbers as ours
 * (checked at compile time below), so values pass straight through.
 *
 * Usage: interop_spa_to_libfko [--seed N] [--limit N] [--stride N]
 * Exit: 0 all passed, 1 failures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "interop_fko.h"
#include "interop_util.h"
#include "spa_wire.h"

_Static_assert((int)FKO_ENC_MODE_CBC == SPA_MODE_CBC &&
	       (int)FKO_ENC_MODE_ECB == SPA_MODE_ECB &&
	       (int)FKO_ENC_MODE_CFB == SPA_MODE_CFB &&
	       (int)FKO_ENC_MODE_OFB == SPA_MODE_OFB &&
	       (int)FKO_ENC_MODE_CTR == SPA_MODE_CTR &&
	       (int)FKO_ENC_MODE_CBC_LEGACY_IV == SPA_MODE_CBC_LEGACY_IV,
	       "libfko encryption mode numbering changed");
_Static_assert((int)FKO_DIGEST_MD5 == SPA_DIGEST_MD5 &&
	       (int)FKO_DIGEST_SHA3_512 == SPA_DIGEST_SHA3_512 &&
	       (int)FKO_HMAC_MD5 == SPA_DIGEST_MD5 &&
	       (int)FKO_HMAC_SHA3_512 == SPA_DIGEST_SHA3_512,
	       "libfko digest/HMAC numbering changed");
_Static_assert((int)FKO_COMMAND_MSG == SPA_MSG_COMMAND &&
	       (int)FKO_CLIENT_TIMEOUT_LOCAL_NAT_ACCESS_MSG ==
		       SPA_MSG_CLIENT_TIMEOUT_LOCAL_NAT_ACCESS,
	       "libfko message type numbering changed");

#define IO_RANDOM_MUTATIONS 8

struct oracle {
	struct io_tally t;
	uint64_t seed;
	unsigned built, refused, decoded;
	unsigned long mutations, equivalents, equivalents_accepted;
};

static const char *nz(const char *s)
{
	return s ? s : "";
}

static void check_str(struct oracle *o, const char *desc, const char *what,
		      int rc, const char *got, const char *want)
{
	io_check(&o->t, rc == FKO_SUCCESS && strcmp(nz(got), want) == 0,
		 "%s: libfko %s: want '%s', got '%s' (rc %d %s)", desc, what, want,
		 nz(got), rc, fko_errstr(rc));
}

static void check_fields(struct oracle *o, fko_ctx_t ctx, const struct spa_message *m,
			 const struct io_case *c, const struct spa_build_info *info,
			 const char *desc)
{
	char *s = NULL;
	time_t ts = 0;
	short sh = -1;
	int iv = -1, rc;

	rc = fko_get_rand_value(ctx, &s);
	check_str(o, desc, "rand", rc, s, m->rand_val);
	rc = fko_get_username(ctx, &s);
	check_str(o, desc, "username", rc, s, m->username);
	rc = fko_get_version(ctx, &s);
	check_str(o, desc, "version", rc, s, m->version);
	rc = fko_get_spa_message(ctx, &s);
	check_str(o, desc, "message", rc, s, m->message);
	s = NULL;
	rc = fko_get_spa_nat_access(ctx, &s);
	check_str(o, desc, "NAT access", rc, s, m->nat_access);
	s = NULL;
	rc = fko_get_spa_server_auth(ctx, &s);
	check_str(o, desc, "server auth", rc, s, m->server_auth);
	rc = fko_get_encoded_data(ctx, &s);
	check_str(o, desc, "encoded data", rc, s, info->encoded);
	rc = fko_get_spa_digest(ctx, &s);
	check_str(o, desc, "digest", rc, s, info->digest);

	rc = fko_get_timestamp(ctx, &ts);
	io_check(&o->t, rc == FKO_SUCCESS && (uint64_t)ts == m->timestamp,
		 "%s: libfko timestamp: want %llu got %lld", desc,
		 (unsigned long long)m->timestamp, (long long)ts);
	rc = fko_get_spa_message_type(ctx, &sh);
	io_check(&o->t, rc == FKO_SUCCESS && sh == m->type && sh == c->type,
		 "%s: libfko type: want %d (asked %d) got %d", desc, m->type, c->type, sh);
	rc = fko_get_spa_client_timeout(ctx, &iv);
	io_check(&o->t, rc == FKO_SUCCESS && (uint32_t)iv == m->client_timeout &&
			 m->client_timeout == c->timeout,
		 "%s: libfko client timeout: want %u got %d", desc,
		 (unsigned)m->client_timeout, iv);
	rc = fko_get_spa_digest_type(ctx, &sh);
	io_check(&o->t, rc == FKO_SUCCESS && sh == c->digest,
		 "%s: libfko digest type: want %d got %d", desc, c->digest, sh);
	rc = fko_get_spa_encryption_mode(ctx, &iv);
	io_check(&o->t, rc == FKO_SUCCESS && iv == c->mode,
		 "%s: libfko mode: want %d got %d", desc, c->mode, iv);
	if (c->hmac) {
		rc = fko_get_spa_hmac_type(ctx, &sh);
		io_check(&o->t, rc == FKO_SUCCESS && sh == c->hmac,
			 "%s: libfko HMAC type: want %d got %d", desc, c->hmac, sh);
	}
}

static void check_mutations(struct oracle *o, const struct io_case *c,
			    const char *wire, size_t len, const char *desc)
{
	bool sweep = c->type == SPA_MSG_ACCESS && c->digest == SPA_DIGEST_SHA256 &&
		     (c->hmac == 0 || c->hmac == SPA_DIGEST_SHA256);
	size_t npos = sweep ? len * 2 : IO_RANDOM_MUTATIONS + 2;
	char mut[SPA_WIRE_CAP];
	struct io_rng r;

	io_rng_seed(&r, o->seed ^ (0xe7037ed1a0b428dbULL * (c->index + 3)));
	for (size_t i = 0; i < npos; i++) {
		fko_ctx_t ctx;
		size_t pos;
		bool low;
		int rc;

		if (sweep) {
			pos = i / 2;
			low = (i % 2) == 0;
		} else if (i < 2) {
			pos = i == 0 ? 0 : len - 1;
			low = i == 1;
		} else {
			pos = io_rng_below(&r, (uint32_t)len);
			low = io_rng_below(&r, 2) == 0;
		}
		memcpy(mut, wire, len + 1);
		mut[pos] = io_mutant_char(wire[pos], low, &r);
		if (!c->hmac && io_mutation_is_equivalent(wire, mut, len)) {
			/* Nobody can be required to notice; just record it. */
			o->equivalents++;
			rc = io_fko_open(c, mut, &ctx);
			io_fko_close(ctx);
			if (rc == FKO_SUCCESS)
				o->equivalents_accepted++;
			continue;
		}
		o->mutations++;
		rc = io_fko_open(c, mut, &ctx);
		io_fko_close(ctx);
		if (c->hmac)
			io_check(&o->t, rc == FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL,
				 "%s: libfko on copy mutated at %zu: want HMAC_COMPAREFAIL, got %d (%s)",
				 desc, pos, rc, fko_errstr(rc));
		else
			io_check(&o->t, rc != FKO_SUCCESS,
				 "%s: libfko accepted a copy mutated at %zu ('%c'->'%c')\n  %s",
				 desc, pos, wire[pos], mut[pos], mut);
	}
}

static uint64_t pick_timestamp(const struct io_case *c)
{
	switch (c->index % 11) {
	case 3:
		return 0;
	case 7:
		return 2147483647ULL;   /* largest value libfko's parser accepts */
	default:
		return (uint64_t)time(NULL);
	}
}

static void run_case(struct oracle *o, const struct io_case *c)
{
	struct spa_key_spec s;
	struct spa_keys *k = NULL;
	struct spa_message m, back;
	struct spa_build_info info;
	char wire[SPA_WIRE_CAP], desc[1024];
	size_t len = 0;
	fko_ctx_t ctx = NULL;
	int err, rc;

	io_case_describe(c, desc, sizeof(desc));
	memset(&s, 0, sizeof(s));
	s.enc_key = c->key;
	s.enc_key_len = c->key_len;
	s.enc_mode = c->mode;
	if (c->hmac) {
		s.hmac_key = c->hmac_key;
		s.hmac_key_len = c->hmac_key_len;
		s.hmac_type = c->hmac;
	}
	err = spa_keys_new(&s, &k);
	if (err != 0 && c->mode == SPA_MODE_CBC_LEGACY_IV && c->hmac) {
		o->refused++;   /* same refusal as the fwknop client's */
		goto out;
	}
	if (!io_check(&o->t, err == 0, "%s: spa_keys_new: %s", desc, spa_strerror(err)))
		goto out;
	err = spa_message_init(&m);
	if (!io_check(&o->t, err == 0, "%s: spa_message_init: %s", desc, spa_strerror(err)))
		goto out;
	snprintf(m.username, sizeof(m.username), "%s", c->user);
	m.timestamp = pick_timestamp(c);
	m.type = c->type;
	snprintf(m.message, sizeof(m.message), "%.255s", c->exp_message);
	snprintf(m.nat_access, sizeof(m.nat_access), "%s", c->exp_nat);
	snprintf(m.server_auth, sizeof(m.server_auth), "%s", c->server_auth);
	m.client_timeout = c->timeout;
	m.digest_type = c->digest;
	memset(&info, 0, sizeof(info));
	err = spa_packet_build_ex(&m, k, NULL, wire, sizeof(wire), &len, &info);
	if (err == -SPA_E_TOO_LONG) {
		o->refused++;
		printf("NOTE: too long for Rijndael, not built: %s\n", desc);
		goto out;
	}
	if (!io_check(&o->t, err == 0, "%s: spa_packet_build_ex: %d (%s)", desc, err,
		      spa_strerror(err)))
		goto out;
	o->built++;
	/* fwknopd drops anything under 140 characters; only a toy timestamp
	 * (our 0 case) can make the smallest packets that short. */
	io_check(&o->t, len == strlen(wire) && strchr("89+/", wire[0]) != NULL &&
			 (len >= SPA_MIN_WIRE_LEN || m.timestamp < 1000000000ULL),
		 "%s: odd wire string (len %zu): %s", desc, len, wire);
	if (c->hmac)
		io_check(&o->t, info.hmac[0] && len > strlen(info.hmac) &&
				 strcmp(wire + len - strlen(info.hmac), info.hmac) == 0,
			 "%s: wire does not end with the reported HMAC '%s'", desc, info.hmac);

	rc = io_fko_open(c, wire, &ctx);
	if (!io_check(&o->t, rc == FKO_SUCCESS,
		      "%s: libfko refused our packet: %d (%s)\n  wire %s\n  E %s\n  D %s",
		      desc, rc, fko_errstr(rc), wire, info.encoded, info.digest))
		goto out;
	o->decoded++;
	check_fields(o, ctx, &m, c, &info, desc);
	io_fko_close(ctx);
	ctx = NULL;

	/* Our own decoder must agree with itself on the same bytes. */
	err = spa_packet_open(wire, len, k, &back);
	io_check(&o->t, err == 0 && strcmp(back.message, m.message) == 0 &&
			 strcmp(back.rand_val, m.rand_val) == 0,
		 "%s: spa_packet_open of our own packet: %s", desc, spa_strerror(err));
	check_mutations(o, c, wire, len, desc);
out:
	io_fko_close(ctx);
	spa_keys_free(k);
}

int main(int argc, char **argv)
{
	struct oracle o;
	unsigned limit = io_matrix_size(), stride = 1, n_run = 0;

	memset(&o, 0, sizeof(o));
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--limit") == 0)
			limit = (unsigned)strtoul(argv[i + 1], NULL, 10);
		if (strcmp(argv[i], "--stride") == 0)
			stride = (unsigned)strtoul(argv[i + 1], NULL, 10);
	}
	if (stride == 0)
		stride = 1;
	o.seed = io_pick_seed(argc, argv);
	printf("spa -> libfko interop: seed %llu (rerun with --seed %llu)\n",
	       (unsigned long long)o.seed, (unsigned long long)o.seed);
	printf("matrix: %u modes (cbc ecb cfb ofb ctr legacy) x %u digests x "
	       "%u HMAC (none + 7) x %u message types = %u combinations%s\n",
	       IO_N_MODES, IO_N_DIGESTS, IO_N_HMACS, IO_N_TYPES,
	       io_matrix_size(), limit < io_matrix_size() || stride > 1 ?
	       " (sampled: --limit/--stride)" : "");
	for (unsigned i = 0; i < io_matrix_size() && n_run < limit;
	     i += stride, n_run++) {
		struct io_case c;

		io_matrix_case(i, o.seed, &c);
		run_case(&o, &c);
	}
	printf("built %u packets (%u combinations refused by our lib), libfko decoded %u\n",
	       o.built, o.refused, o.decoded);
	printf("%lu mutated copies tested against libfko, %lu equivalent "
	       "(undetectable, no-HMAC base64 slack / salt magic) skipped "
	       "(%lu of them accepted by libfko)\n",
	       o.mutations, o.equivalents, o.equivalents_accepted);
	io_check(&o.t, o.built > 0, "nothing was built");
	printf("%lu passed, %lu failed\n", o.t.passed, o.t.failed);
	return o.t.failed ? 1 : 0;
}
