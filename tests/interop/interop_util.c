/* SPDX-License-Identifier: MIT */
#include "interop_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spa_wire.h"

/* ---- PRNG ---------------------------------------------------------------- */

void io_rng_seed(struct io_rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t io_rng_next(struct io_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t io_rng_below(struct io_rng *r, uint32_t n)
{
	return n ? (uint32_t)(io_rng_next(r) % n) : 0;
}

uint64_t io_pick_seed(int argc, char **argv)
{
	const char *s = NULL;
	struct timespec ts;

	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--seed") == 0)
			s = argv[i + 1];
	if (!s)
		s = getenv("SPA_INTEROP_SEED");
	if (s && *s)
		return strtoull(s, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000003ULL ^ (uint64_t)ts.tv_nsec;
}

/* ---- base64 ---------------------------------------------------------------- */

const char io_b64_alphabet[65] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int io_b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t io_b64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;

		if (n > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (n > 2)
			v |= in[i + 2];
		out[o++] = io_b64_alphabet[(v >> 18) & 63];
		out[o++] = io_b64_alphabet[(v >> 12) & 63];
		out[o++] = n > 1 ? io_b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = n > 2 ? io_b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

long io_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < len && in[i] != '='; i++) {
		int v = io_b64_value(in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (long)o;
}

/* ---- matrix ---------------------------------------------------------------- */

static const struct {
	int id;
	const char *arg;
} io_modes[IO_N_MODES] = {
	{ SPA_MODE_CBC, "cbc" }, { SPA_MODE_ECB, "ecb" }, { SPA_MODE_CFB, "cfb" },
	{ SPA_MODE_OFB, "ofb" }, { SPA_MODE_CTR, "ctr" },
	{ SPA_MODE_CBC_LEGACY_IV, "legacy" },
};

static const int io_types[IO_N_TYPES] = {
	SPA_MSG_ACCESS, SPA_MSG_CLIENT_TIMEOUT_ACCESS, SPA_MSG_NAT_ACCESS,
	SPA_MSG_CLIENT_TIMEOUT_NAT_ACCESS, SPA_MSG_LOCAL_NAT_ACCESS,
	SPA_MSG_CLIENT_TIMEOUT_LOCAL_NAT_ACCESS, SPA_MSG_COMMAND,
};

/* fwknop's -U buffer holds 29 characters; all of these are valid names. */
static const char *const io_users[] = {
	"alice", "bob smith", "x_y-z.user@host", "root", "a",
	"O'Brien (ops)", "~tilde{x}$%&^!", "svc.account-01",
	"abcdefghijklmnopqrstuvwxyz012",
};
static const char *const io_ips[] = {
	"203.0.113.5", "198.51.100.23", "203.0.113.250", "198.51.100.1",
};
static const char *const io_access_multi[] = {
	"tcp/22", "udp/53", "tcp/22,udp/53", "tcp/443,tcp/8443,udp/1194",
	"tcp/1", "tcp/65535",
};
static const char *const io_access_single[] = {
	"tcp/22", "udp/5353", "tcp/8080",
};
static const char *const io_nats[] = {
	"198.51.100.7:2222", "198.51.100.200,22", "intranet.example:22",
};
static const char *const io_commands[] = {
	"echo hello world", "/usr/bin/id", "touch /tmp/a b c", "ls -la /var/tmp",
};
static const char *const io_auths[] = {
	"auth", "s3cr3t token", "x",
};

#define IO_PICK(r, arr) ((arr)[io_rng_below((r), sizeof(arr) / sizeof((arr)[0]))])

unsigned io_matrix_size(void)
{
	return IO_N_HMACS * IO_N_DIGESTS * IO_N_MODES * IO_N_TYPES;
}

/* Key text safe on a command line and never taken for an option. */
static void io_make_key(struct io_rng *r, uint8_t *k, size_t len, bool binary)
{
	static const char safe[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		"!#%&()*+,./:;<=>?@^_{}~-";

	for (size_t i = 0; i < len; i++) {
		if (binary)
			k[i] = (uint8_t)io_rng_next(r);
		else
			k[i] = (uint8_t)safe[io_rng_below(r, (uint32_t)(sizeof(safe) - 1 -
							  (i == 0 ? 1 : 0)))];
	}
}

static void io_nat_to_field(const char *arg, char *out, size_t cap)
{
	snprintf(out, cap, "%s", arg);
	for (char *p = out; *p; p++)
		if (*p == ':')
			*p = ',';
}

void io_matrix_case(unsigned idx, uint64_t seed, struct io_case *c)
{
	struct io_rng r;
	unsigned v = idx;
	const char *port;

	memset(c, 0, sizeof(*c));
	io_rng_seed(&r, seed ^ (0x632be59bd9b4e019ULL * (idx + 1)));
	c->index = idx;
	c->hmac = (int)(v % IO_N_HMACS);
	v /= IO_N_HMACS;
	c->digest = (int)(v % IO_N_DIGESTS) + 1;
	v /= IO_N_DIGESTS;
	c->mode = io_modes[v % IO_N_MODES].id;
	c->mode_arg = io_modes[v % IO_N_MODES].arg;
	v /= IO_N_MODES;
	c->type = io_types[v % IO_N_TYPES];

	snprintf(c->user, sizeof(c->user), "%s", IO_PICK(&r, io_users));
	c->user_via_env = io_rng_below(&r, 5) == 0;

	c->key_b64 = io_rng_below(&r, 3) == 0;
	c->key_len = 1 + io_rng_below(&r, 32);
	io_make_key(&r, c->key, c->key_len, c->key_b64);
	if (c->hmac) {
		c->hmac_key_b64 = io_rng_below(&r, 3) == 0;
		do {
			c->hmac_key_len = 1 + io_rng_below(&r, 128);
			io_make_key(&r, c->hmac_key, c->hmac_key_len,
				    c->hmac_key_b64);
		} while (c->hmac_key_len == c->key_len &&
			 memcmp(c->hmac_key, c->key, c->key_len) == 0);
	}

	c->source_ip = io_rng_below(&r, 6) == 0;
	snprintf(c->allow_ip, sizeof(c->allow_ip), "%s",
		 c->source_ip ? "0.0.0.0" : IO_PICK(&r, io_ips));

	switch (c->type) {
	case SPA_MSG_COMMAND:
		snprintf(c->command, sizeof(c->command), "%s",
			 IO_PICK(&r, io_commands));
		snprintf(c->exp_message, sizeof(c->exp_message), "%s,%s",
			 c->allow_ip, c->command);
		break;
	case SPA_MSG_LOCAL_NAT_ACCESS:
	case SPA_MSG_CLIENT_TIMEOUT_LOCAL_NAT_ACCESS:
		snprintf(c->access, sizeof(c->access), "%s",
			 IO_PICK(&r, io_access_single));
		c->nat_local = true;
		if (io_rng_below(&r, 2)) {
			snprintf(c->nat_arg, sizeof(c->nat_arg), "%s",
				 IO_PICK(&r, io_nats));
			io_nat_to_field(c->nat_arg, c->exp_nat, sizeof(c->exp_nat));
		} else {
			/* Without -N the client names the -D host and -A port. */
			port = strchr(c->access, '/') + 1;
			snprintf(c->exp_nat, sizeof(c->exp_nat), "127.0.0.1,%s",
				 port);
		}
		break;
	case SPA_MSG_NAT_ACCESS:
	case SPA_MSG_CLIENT_TIMEOUT_NAT_ACCESS:
		snprintf(c->access, sizeof(c->access), "%s",
			 IO_PICK(&r, io_access_multi));
		snprintf(c->nat_arg, sizeof(c->nat_arg), "%s", IO_PICK(&r, io_nats));
		io_nat_to_field(c->nat_arg, c->exp_nat, sizeof(c->exp_nat));
		break;
	default:
		snprintf(c->access, sizeof(c->access), "%s",
			 IO_PICK(&r, io_access_multi));
		break;
	}
	if (c->type != SPA_MSG_COMMAND)
		snprintf(c->exp_message, sizeof(c->exp_message), "%s,%s",
			 c->allow_ip, c->access);
	if (c->type == SPA_MSG_CLIENT_TIMEOUT_ACCESS ||
	    c->type == SPA_MSG_CLIENT_TIMEOUT_NAT_ACCESS ||
	    c->type == SPA_MSG_CLIENT_TIMEOUT_LOCAL_NAT_ACCESS)
		c->timeout = 1 + io_rng_below(&r, SPA_MAX_CLIENT_TIMEOUT);
	if (io_rng_below(&r, 3) == 0)
		snprintf(c->server_auth, sizeof(c->server_auth), "%s",
			 IO_PICK(&r, io_auths));
}

int io_matrix_find(int mode, int digest, int hmac, int type, uint64_t seed,
		   struct io_case *c)
{
	unsigned mi = IO_N_MODES, ti = IO_N_TYPES;

	for (unsigned i = 0; i < IO_N_MODES; i++)
		if (io_modes[i].id == mode)
			mi = i;
	for (unsigned i = 0; i < IO_N_TYPES; i++)
		if (io_types[i] == type)
			ti = i;
	if (mi == IO_N_MODES || ti == IO_N_TYPES || digest < 1 ||
	    digest > IO_N_DIGESTS || hmac < 0 || hmac >= IO_N_HMACS)
		return -1;
	io_matrix_case((unsigned)hmac + IO_N_HMACS * ((unsigned)digest - 1 +
		       IO_N_DIGESTS * (mi + IO_N_MODES * ti)), seed, c);
	return 0;
}

void io_hex(const uint8_t *b, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	if (cap == 0)
		return;
	for (size_t i = 0; i < len && o + 3 <= cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%02x", b[i]);
	out[o < cap ? o : cap - 1] = '\0';
}

void io_case_describe(const struct io_case *c, char *out, size_t cap)
{
	char key[65], hkey[257];

	io_hex(c->key, c->key_len, key, sizeof(key));
	io_hex(c->hmac_key, c->hmac_key_len, hkey, sizeof(hkey));
	snprintf(out, cap,
		 "case#%u mode=%s digest=%s hmac=%s type=%d user='%s'%s "
		 "msg='%s' nat='%s' timeout=%u auth='%s' key(hex%s)=%s "
		 "hmac_key(hex%s)=%s",
		 c->index, c->mode_arg, spa_digest_name(c->digest),
		 c->hmac ? spa_digest_name(c->hmac) : "none", c->type, c->user,
		 c->user_via_env ? "(LOGNAME)" : "", c->exp_message, c->exp_nat,
		 (unsigned)c->timeout, c->server_auth, c->key_b64 ? ",b64" : "",
		 key, c->hmac_key_b64 ? ",b64" : "", c->hmac ? hkey : "-");
}

/* ---- mutations ----------------------------------------------------------- */

char io_mutant_char(char orig, bool flip_low, struct io_rng *r)
{
	int v = io_b64_value(orig);
	int n;

	if (v < 0)
		return 'A';
	if (flip_low)
		return io_b64_alphabet[v ^ 1];
	n = (v + 1 + (int)io_rng_below(r, 63)) % 64;
	return io_b64_alphabet[n];
}

bool io_mutation_is_equivalent(const char *orig, const char *mut, size_t len)
{
	char a[SPA_WIRE_CAP + 16], b[SPA_WIRE_CAP + 16];
	uint8_t da[SPA_WIRE_CAP], db[SPA_WIRE_CAP];
	long na, nb;

	if (len + sizeof(SPA_RIJNDAEL_PREFIX) > sizeof(a))
		return false;
	snprintf(a, sizeof(a), "%s%.*s", SPA_RIJNDAEL_PREFIX, (int)len, orig);
	snprintf(b, sizeof(b), "%s%.*s", SPA_RIJNDAEL_PREFIX, (int)len, mut);
	na = io_b64_decode(a, strlen(a), da, sizeof(da));
	nb = io_b64_decode(b, strlen(b), db, sizeof(db));
	if (na < 16 || na != nb)
		return false;
	/* Bytes 0..7 are the "Salted__" magic, which receivers do not check. */
	return memcmp(da + 8, db + 8, (size_t)na - 8) == 0;
}

/* ---- tallies ----------------------------------------------------------------- */

bool io_check(struct io_tally *t, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		t->passed++;
		return true;
	}
	t->failed++;
	if (t->failures_shown < 60) {
		t->failures_shown++;
		fputs("FAIL: ", stdout);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		fputc('\n', stdout);
	} else if (t->failures_shown == 60) {
		t->failures_shown++;
		puts("FAIL: (further failures not shown)");
	}
	return false;
}

bool io_stricter_by_design(const char *message, const char *nat)
{
	if (nat && nat[0] == ',')
		return true;
	if (!message)
		return false;
	/* an octet that starts with 0 and has more digits, before the comma */
	for (const char *p = message; *p && *p != ','; p++) {
		bool octet_start = p == message || p[-1] == '.';

		if (octet_start && p[0] == '0' && p[1] >= '0' && p[1] <= '9')
			return true;
	}
	return false;
}
