/* SPDX-License-Identifier: MIT */
#include "fuzz_fixture.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_keyset_def {
	const char *enc;
	const char *hmac;  /* NULL: no HMAC layer */
	int hmac_type;
	int mode;
};

/* One set per mode and several HMAC types, so every branch of the
 * receiver is reachable; the plain-CBC and no-HMAC sets let mutated
 * ciphertext reach the decrypt and decode stages. */
static const struct fuzz_keyset_def fuzz_keyset_defs[FUZZ_N_KEYSETS] = {
	{ "fuzz-enc-cbc-sha256", "fuzz-hmac-key-for-sha256-0123456789abcdef",
	  SPA_DIGEST_SHA256, SPA_MODE_CBC },
	{ "fuzz-enc-cbc-nohmac", NULL, 0, SPA_MODE_CBC },
	{ "fuzz-enc-ctr-sha512", "fuzz-hmac-key-for-sha512-0123456789abcdef",
	  SPA_DIGEST_SHA512, SPA_MODE_CTR },
	{ "fuzz-enc-cfb-md5", "fuzz-hmac-key-md5", SPA_DIGEST_MD5,
	  SPA_MODE_CFB },
	{ "short", NULL, 0, SPA_MODE_CBC_LEGACY_IV },
	{ "fuzz-enc-ofb-nohmac", NULL, 0, SPA_MODE_OFB },
	{ "fuzz-enc-ecb-sha3", "fuzz-hmac-key-for-sha3-256", SPA_DIGEST_SHA3_256,
	  SPA_MODE_ECB },
};

void fuzz_keys_load(struct spa_keys *out[FUZZ_N_KEYSETS])
{
	for (size_t i = 0; i < FUZZ_N_KEYSETS; i++) {
		const struct fuzz_keyset_def *d = &fuzz_keyset_defs[i];
		struct spa_key_spec spec = {
			.enc_key = (const uint8_t *)d->enc,
			.enc_key_len = strlen(d->enc),
			.hmac_key = (const uint8_t *)d->hmac,
			.hmac_key_len = d->hmac ? strlen(d->hmac) : 0,
			.hmac_type = d->hmac_type,
			.enc_mode = d->mode,
		};
		int rc = spa_keys_new(&spec, &out[i]);

		if (rc != 0) {
			fprintf(stderr, "fuzz: key set %zu: %s\n", i,
				spa_strerror(rc));
			abort();
		}
	}
}

void fuzz_keys_free(struct spa_keys *ks[FUZZ_N_KEYSETS])
{
	for (size_t i = 0; i < FUZZ_N_KEYSETS; i++) {
		spa_keys_free(ks[i]);
		ks[i] = NULL;
	}
}

const struct fuzz_sample fuzz_samples[] = {
	{ SPA_MSG_ACCESS, "alice", "198.51.100.7,tcp/22", NULL, NULL, 0,
	  SPA_DIGEST_SHA256 },
	{ SPA_MSG_ACCESS, "bob smith", "0.0.0.0,tcp/22,udp/53,tcp/443", NULL,
	  NULL, 60, SPA_DIGEST_SHA256 },
	{ SPA_MSG_NAT_ACCESS, "root", "198.51.100.7,tcp/5555", "203.0.113.5,22",
	  NULL, 0, SPA_DIGEST_SHA1 },
	{ SPA_MSG_NAT_ACCESS, "root", "198.51.100.7,tcp/22", "203.0.113.5,22",
	  NULL, 45, SPA_DIGEST_MD5 },
	{ SPA_MSG_LOCAL_NAT_ACCESS, "carol", "198.51.100.9,tcp/2222",
	  "127.0.0.1,22", NULL, 0, SPA_DIGEST_SHA384 },
	{ SPA_MSG_LOCAL_NAT_ACCESS, "carol", "198.51.100.9,udp/1194",
	  "127.0.0.1,1194", NULL, 30, SPA_DIGEST_SHA512 },
	{ SPA_MSG_COMMAND, "dave", "198.51.100.7,/bin/echo hello", NULL, NULL,
	  0, SPA_DIGEST_SHA3_256 },
	{ SPA_MSG_ACCESS, "erin", "198.51.100.11,udp/53", NULL, "s3cr3t-auth",
	  0, SPA_DIGEST_SHA3_512 },
	{ SPA_MSG_ACCESS, "frank", "198.51.100.12,tcp/65535", NULL,
	  "crypt,pw", 65536, SPA_DIGEST_SHA256 },
};
const size_t fuzz_n_samples = sizeof(fuzz_samples) / sizeof(fuzz_samples[0]);

static int fuzz_copy_field(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		return -SPA_E_TOO_LONG;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
	return 0;
}

int fuzz_sample_to_message(const struct fuzz_sample *s, struct spa_message *m)
{
	int rc = spa_message_init(m);

	if (rc != 0)
		goto out;
	/* A fixed time keeps regenerated seeds similar between runs. */
	m->timestamp = 1764000000;
	m->type = s->type;
	m->client_timeout = s->client_timeout;
	m->digest_type = s->digest_type;
	rc = fuzz_copy_field(m->username, sizeof(m->username), s->user);
	if (rc == 0)
		rc = fuzz_copy_field(m->message, sizeof(m->message), s->message);
	if (rc == 0)
		rc = fuzz_copy_field(m->nat_access, sizeof(m->nat_access),
				     s->nat);
	if (rc == 0)
		rc = fuzz_copy_field(m->server_auth, sizeof(m->server_auth),
				     s->server_auth);
out:
	return rc;
}

char *fuzz_strndup(const uint8_t *src, size_t len)
{
	char *s = malloc(len + 1);

	if (s == NULL)
		return NULL;
	if (len > 0)
		memcpy(s, src, len);
	s[len] = '\0';
	return s;
}

void fuzz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz invariant violated: %s (%s)\n", what,
		detail ? detail : "");
	abort();
}

static size_t fuzz_checked_len(const char *s, size_t cap, const char *name)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		fuzz_fail("field not NUL-terminated", name);
	return n;
}

static bool fuzz_type_has_timeout(int type)
{
	return type == SPA_MSG_CLIENT_TIMEOUT_ACCESS ||
	       type == SPA_MSG_CLIENT_TIMEOUT_NAT_ACCESS ||
	       type == SPA_MSG_CLIENT_TIMEOUT_LOCAL_NAT_ACCESS;
}

static bool fuzz_type_has_nat(int type)
{
	return type == SPA_MSG_NAT_ACCESS ||
	       type == SPA_MSG_CLIENT_TIMEOUT_NAT_ACCESS ||
	       type == SPA_MSG_LOCAL_NAT_ACCESS ||
	       type == SPA_MSG_CLIENT_TIMEOUT_LOCAL_NAT_ACCESS;
}

void fuzz_check_message(const struct spa_message *m)
{
	if (fuzz_checked_len(m->rand_val, sizeof(m->rand_val), "rand_val") !=
	    SPA_RAND_LEN)
		fuzz_fail("rand_val is not 16 characters", m->rand_val);
	for (size_t i = 0; i < SPA_RAND_LEN; i++)
		if (m->rand_val[i] < '0' || m->rand_val[i] > '9')
			fuzz_fail("rand_val has a non-digit", m->rand_val);
	if (fuzz_checked_len(m->username, sizeof(m->username), "username") >
	    SPA_MAX_USERNAME_LEN)
		fuzz_fail("username longer than the decoder limit", m->username);
	if (spa_validate_username(m->username) != 0)
		fuzz_fail("decoded username fails its validator", m->username);
	size_t vlen = fuzz_checked_len(m->version, sizeof(m->version), "version");
	if (vlen < 1 || vlen > 8)
		fuzz_fail("version length outside 1..8", m->version);
	if (m->type < 0 || m->type > SPA_MSG_TYPE_MAX)
		fuzz_fail("message type out of range", NULL);
	if (m->timestamp > 2147483647u)
		fuzz_fail("timestamp beyond the 2038 limit", NULL);
	fuzz_checked_len(m->message, sizeof(m->message), "message");
	fuzz_checked_len(m->nat_access, sizeof(m->nat_access), "nat_access");
	fuzz_checked_len(m->server_auth, sizeof(m->server_auth), "server_auth");
	if (m->type == SPA_MSG_COMMAND) {
		if (spa_validate_command_msg(m->message) != 0)
			fuzz_fail("decoded command fails its validator",
				  m->message);
	} else if (spa_validate_access_msg(m->message) != 0) {
		fuzz_fail("decoded access request fails its validator",
			  m->message);
	}
	if (fuzz_type_has_nat(m->type) &&
	    spa_validate_nat_access(m->nat_access) != 0)
		fuzz_fail("decoded NAT field fails its validator", m->nat_access);
	if (m->client_timeout > SPA_MAX_CLIENT_TIMEOUT)
		fuzz_fail("client timeout above 65536", NULL);
	if (m->digest_type < SPA_DIGEST_MD5 || m->digest_type > SPA_DIGEST_MAX)
		fuzz_fail("digest type out of range", NULL);
}

void fuzz_check_same(const struct spa_message *a, const struct spa_message *b,
		     const char *what)
{
	if (strcmp(a->rand_val, b->rand_val) != 0)
		fuzz_fail(what, "rand_val differs");
	if (strcmp(a->username, b->username) != 0)
		fuzz_fail(what, "username differs");
	if (a->timestamp != b->timestamp)
		fuzz_fail(what, "timestamp differs");
	if (strcmp(a->version, b->version) != 0)
		fuzz_fail(what, "version differs");
	if (a->type != b->type)
		fuzz_fail(what, "type differs");
	if (strcmp(a->message, b->message) != 0)
		fuzz_fail(what, "message differs");
	if (strcmp(a->nat_access, b->nat_access) != 0)
		fuzz_fail(what, "nat_access differs");
	if (strcmp(a->server_auth, b->server_auth) != 0)
		fuzz_fail(what, "server_auth differs");
	if (fuzz_type_has_timeout(a->type) &&
	    a->client_timeout != b->client_timeout)
		fuzz_fail(what, "client_timeout differs");
	if (a->digest_type != b->digest_type)
		fuzz_fail(what, "digest_type differs");
}
