/* SPDX-License-Identifier: MIT */
/*
 * The SPA plaintext: E = rand:user:ts:version:type:msg[:nat][:auth][:timeout]
 * and P = E ":" digest(E). Encoding and decoding with every length and
 * charset rule of fwknop's format (docs/ARCHITECTURE.md).
 */
#include "spa_internal.h"
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#define SPA_MAX_TIMESTAMP 2147483647ULL  /* fwknopd parses into a C int */

int spa_message_init(struct spa_message *m)
{
	uint8_t rnd[SPA_RAND_LEN];
	int rc;

	if (!m)
		return -SPA_E_ARG;
	memset(m, 0, sizeof(*m));
	rc = spa_random_bytes(rnd, sizeof(rnd));
	if (rc < 0)
		return rc;
	/* 250 is the largest multiple of 10 below 256: reject above it so every
	 * digit is uniform. Rejections are rare, so refill one byte at a time. */
	for (size_t i = 0; i < SPA_RAND_LEN; i++) {
		while (rnd[i] >= 250) {
			rc = spa_random_bytes(&rnd[i], 1);
			if (rc < 0)
				return rc;
		}
		m->rand_val[i] = (char)('0' + rnd[i] % 10);
	}
	strcpy(m->version, SPA_PROTOCOL_VERSION);
	m->type = SPA_MSG_ACCESS;
	m->digest_type = SPA_DIGEST_SHA256;
	return 0;
}

static bool spa_is_nat_type(int t)
{
	return t == SPA_MSG_NAT_ACCESS || t == SPA_MSG_CLIENT_TIMEOUT_NAT_ACCESS ||
	       t == SPA_MSG_LOCAL_NAT_ACCESS ||
	       t == SPA_MSG_CLIENT_TIMEOUT_LOCAL_NAT_ACCESS;
}

static bool spa_is_timeout_type(int t)
{
	return t == SPA_MSG_CLIENT_TIMEOUT_ACCESS ||
	       t == SPA_MSG_CLIENT_TIMEOUT_NAT_ACCESS ||
	       t == SPA_MSG_CLIENT_TIMEOUT_LOCAL_NAT_ACCESS;
}

/* fwknop picks the timeout variant of a type from the timeout value. */
static int spa_effective_type(int type, uint32_t timeout)
{
	static const int with_timeout[] = { 0, 3, 4, 3, 4, 6, 6 };
	static const int without_timeout[] = { 0, 1, 2, 1, 2, 5, 5 };

	return timeout > 0 ? with_timeout[type] : without_timeout[type];
}

static bool spa_rand_ok(const char *r, size_t len)
{
	if (len != SPA_RAND_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (r[i] < '0' || r[i] > '9')
			return false;
	return true;
}

static bool spa_version_ok(const char *v, size_t len)
{
	if (len < 1 || len > 8)
		return false;
	for (size_t i = 0; i < len; i++)
		if (v[i] <= 0x20 || v[i] > 0x7e || v[i] == ':')
			return false;
	return true;
}

/* Appends ":" b64(s) (or just s when raw) to out at *pos. */
static int spa_append(char *out, size_t cap, size_t *pos, const char *s,
		      bool b64, bool colon)
{
	size_t len = strlen(s);
	size_t need = (colon ? 1 : 0) + (b64 ? spa_b64_encoded_len(len) : len);

	if (*pos + need + 1 > cap)
		return -SPA_E_TOO_LONG;
	if (colon)
		out[(*pos)++] = ':';
	if (b64)
		*pos += spa_b64_encode((const uint8_t *)s, len, out + *pos);
	else {
		memcpy(out + *pos, s, len + 1);
		*pos += len;
	}
	return 0;
}

static int spa_message_check(const struct spa_message *m)
{
	size_t auth_len = strlen(m->server_auth);

	if (!spa_rand_ok(m->rand_val, strnlen(m->rand_val, sizeof(m->rand_val))))
		return -SPA_E_RAND;
	if (spa_validate_username(m->username) < 0)
		return -SPA_E_USERNAME;
	if (m->timestamp > SPA_MAX_TIMESTAMP)
		return -SPA_E_TIMESTAMP;
	if (!spa_version_ok(m->version, strnlen(m->version, sizeof(m->version))))
		return -SPA_E_VERSION;
	if (m->type < 0 || m->type > SPA_MSG_TYPE_MAX)
		return -SPA_E_MSGTYPE;
	if (m->client_timeout > SPA_MAX_CLIENT_TIMEOUT)
		return -SPA_E_TIMEOUT;
	if (m->type == SPA_MSG_COMMAND ? spa_validate_command_msg(m->message) < 0
				       : spa_validate_access_msg(m->message) < 0)
		return -SPA_E_MESSAGE;
	if (spa_is_nat_type(m->type) ? spa_validate_nat_access(m->nat_access) < 0
				     : m->nat_access[0] != '\0')
		return -SPA_E_NAT;
	if (auth_len >= SPA_MAX_AUTH_LEN)
		return -SPA_E_SERVER_AUTH;
	for (size_t i = 0; i < auth_len; i++)
		if (m->server_auth[i] < 0x20 || m->server_auth[i] > 0x7e)
			return -SPA_E_SERVER_AUTH;
	if (!spa_digest_info(m->digest_type))
		return -SPA_E_DIGEST_TYPE;
	return 0;
}

int spa_message_encode(struct spa_message *m, char *out, size_t cap,
		       size_t *out_len)
{
	char num[24];
	char digest[128];
	size_t pos = 0;
	int rc;

	if (!m || !out || !out_len)
		return -SPA_E_ARG;
	if (m->type < 0 || m->type > SPA_MSG_TYPE_MAX)
		return -SPA_E_MSGTYPE;
	if (m->type != SPA_MSG_COMMAND)
		m->type = spa_effective_type(m->type, m->client_timeout);
	rc = spa_message_check(m);
	if (rc < 0)
		return rc;

	if (cap < 1)
		return -SPA_E_TOO_LONG;
	out[0] = '\0';
	rc = spa_append(out, cap, &pos, m->rand_val, false, false);
	if (rc == 0)
		rc = spa_append(out, cap, &pos, m->username, true, true);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)m->timestamp);
	if (rc == 0)
		rc = spa_append(out, cap, &pos, num, false, true);
	if (rc == 0)
		rc = spa_append(out, cap, &pos, m->version, false, true);
	snprintf(num, sizeof(num), "%d", m->type);
	if (rc == 0)
		rc = spa_append(out, cap, &pos, num, false, true);
	if (rc == 0)
		rc = spa_append(out, cap, &pos, m->message, true, true);
	if (rc == 0 && spa_is_nat_type(m->type))
		rc = spa_append(out, cap, &pos, m->nat_access, true, true);
	if (rc == 0 && m->server_auth[0])
		rc = spa_append(out, cap, &pos, m->server_auth, true, true);
	if (rc == 0 && spa_is_timeout_type(m->type)) {
		snprintf(num, sizeof(num), "%u", m->client_timeout);
		rc = spa_append(out, cap, &pos, num, false, true);
	}
	if (rc < 0)
		return rc;

	rc = spa_digest_b64(m->digest_type, out, pos, digest);
	if (rc == 0)
		rc = spa_append(out, cap, &pos, digest, false, true);
	if (rc < 0)
		return rc;
	if (pos >= SPA_MAX_PLAINTEXT)
		return -SPA_E_TOO_LONG;
	*out_len = pos;
	return 0;
}

/* ---- decoding ------------------------------------------------------------ */

struct spa_span {
	const char *p;
	size_t len;
};

/* Decodes a base64 field into a NUL-terminated string of printable bytes. */
static int spa_field_b64(struct spa_span f, size_t max_b64, char *out,
			 size_t cap, int err)
{
	size_t n;

	if (f.len == 0 || f.len > max_b64)
		return -err;
	if (spa_b64_decode(f.p, f.len, (uint8_t *)out, cap - 1, &n) < 0)
		return -err;
	out[n] = '\0';
	if (n == 0 || strlen(out) != n)   /* embedded NUL */
		return -err;
	return 0;
}

/* Decimal digits only (no sign, no spaces), at most max_digits. */
static int spa_field_uint(struct spa_span f, size_t max_digits, uint64_t max,
			  uint64_t *out)
{
	uint64_t v = 0;

	if (f.len == 0 || f.len > max_digits)
		return -1;
	for (size_t i = 0; i < f.len; i++) {
		if (f.p[i] < '0' || f.p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(f.p[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* The digest is the text after the last colon; its length names the
 * algorithm (two candidates share 43 and 86 characters). */
static int spa_verify_digest(const char *p, size_t e_len, const char *d,
			     size_t d_len, int *type)
{
	char calc[128];

	for (int id = SPA_DIGEST_MD5; id <= SPA_DIGEST_MAX; id++) {
		if (spa_digest_b64_len(id) != d_len)
			continue;
		if (spa_digest_b64(id, p, e_len, calc) < 0)
			return -SPA_E_CRYPTO;
		if (CRYPTO_memcmp(calc, d, d_len) == 0) {
			*type = id;
			return 0;
		}
	}
	return -SPA_E_DIGEST;
}

#define SPA_MAX_FIELDS 10

int spa_message_decode(const char *p, size_t len, struct spa_message *m)
{
	struct spa_span f[SPA_MAX_FIELDS];
	size_t nf = 0, start = 0, e_len, rest;
	const char *last;
	uint64_t v;
	int rc;

	if (!p || !m)
		return -SPA_E_ARG;
	memset(m, 0, sizeof(*m));
	if (len < SPA_MIN_ENCODED_LEN || len >= SPA_MAX_PLAINTEXT)
		return -SPA_E_PLAINTEXT;
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return -SPA_E_PLAINTEXT;

	last = memrchr(p, ':', len);
	if (!last)
		return -SPA_E_FIELDS;
	e_len = (size_t)(last - p);
	rc = spa_verify_digest(p, e_len, last + 1, len - e_len - 1,
			       &m->digest_type);
	if (rc < 0)
		return rc;

	for (size_t i = 0; i <= e_len; i++) {
		if (i < e_len && p[i] != ':')
			continue;
		if (nf == SPA_MAX_FIELDS)
			return -SPA_E_FIELDS;
		f[nf++] = (struct spa_span){ p + start, i - start };
		start = i + 1;
	}
	/* rand user ts version type msg, then up to three optional fields */
	if (nf < 6)
		return -SPA_E_FIELDS;

	if (!spa_rand_ok(f[0].p, f[0].len))
		return -SPA_E_RAND;
	memcpy(m->rand_val, f[0].p, SPA_RAND_LEN);
	if (spa_field_b64(f[1], 64, m->username, sizeof(m->username),
			  SPA_E_USERNAME) < 0 ||
	    spa_validate_username(m->username) < 0)
		return -SPA_E_USERNAME;
	if (spa_field_uint(f[2], 12, SPA_MAX_TIMESTAMP, &m->timestamp) < 0)
		return -SPA_E_TIMESTAMP;
	if (!spa_version_ok(f[3].p, f[3].len))
		return -SPA_E_VERSION;
	memcpy(m->version, f[3].p, f[3].len);
	if (spa_field_uint(f[4], 2, SPA_MSG_TYPE_MAX, &v) < 0)
		return -SPA_E_MSGTYPE;
	m->type = (int)v;

	/* Fields after the message: nat (NAT types), auth (optional),
	 * timeout (timeout types), in that order. */
	rest = nf - 6;
	if (rest > (size_t)(spa_is_nat_type(m->type) + 1 +
			    spa_is_timeout_type(m->type)))
		return -SPA_E_FIELDS;
	if (spa_field_b64(f[5], SPA_MAX_FIELD_LEN, m->message,
			  sizeof(m->message), SPA_E_MESSAGE) < 0)
		return -SPA_E_MESSAGE;
	rc = m->type == SPA_MSG_COMMAND ? spa_validate_command_msg(m->message)
					: spa_validate_access_msg(m->message);
	if (rc < 0)
		return -SPA_E_MESSAGE;

	size_t next = 6, end = nf;
	if (spa_is_timeout_type(m->type)) {
		if (end == next)
			return -SPA_E_TIMEOUT;
		if (spa_field_uint(f[end - 1], 5, SPA_MAX_CLIENT_TIMEOUT, &v) < 0)
			return -SPA_E_TIMEOUT;
		m->client_timeout = (uint32_t)v;
		end--;
	}
	if (spa_is_nat_type(m->type)) {
		if (end == next)
			return -SPA_E_NAT;
		if (spa_field_b64(f[next], SPA_MAX_FIELD_LEN, m->nat_access,
				  sizeof(m->nat_access), SPA_E_NAT) < 0 ||
		    spa_validate_nat_access(m->nat_access) < 0)
			return -SPA_E_NAT;
		next++;
	}
	if (next < end &&
	    spa_field_b64(f[next], SPA_MAX_FIELD_LEN, m->server_auth,
			  sizeof(m->server_auth), SPA_E_SERVER_AUTH) < 0)
		return -SPA_E_SERVER_AUTH;
	return 0;
}
