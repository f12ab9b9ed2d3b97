/* SPDX-License-Identifier: MIT */
/*
 * interop_libfko_fields - field limits and validators, both directions,
 * with Debian's libfko as the reference encoder and decoder. TEST-ONLY.
 *
 * For each field variant (usernames of every length and character, odd
 * access/NAT/command strings, server-auth and timeout values, command
 * messages growing up to the Rijndael size limit) we build the packet with
 * our library and with libfko's encoder, then require:
 *   - whatever we build, libfko reads back with the same fields;
 *   - whatever libfko can build and read back, we build too (we can say
 *     everything fwknop can say) and spa_packet_open() reads libfko's
 *     packet with the same fields;
 *   - what libfko writes but cannot read back, spa_packet_open() refuses.
 * Building something libfko's encoder refuses but its decoder accepts is
 * allowed (counted as "more lenient").
 *
 * Usage: interop_libfko_fields [--seed N] [--family NAME]
 * Exit: 0 all passed, 1 failures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "interop_fko.h"
#include "interop_util.h"
#include "spa_wire.h"

struct fields_ctx {
	struct io_tally t;
	uint64_t seed;
	const char *only;
	unsigned variants, both_ok, both_refuse, ours_lenient, fko_write_only,
		 stricter;
	unsigned notes;
};

struct variant {
	const char *family;
	int type;
	const char *user;
	const char *message;
	const char *nat;
	const char *auth;
	int timeout;
};

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* Printable rendering of a field for reports (bytes as \xNN). */
static const char *show(const char *s, char *buf, size_t cap)
{
	size_t o = 0;

	for (; *s && o + 5 < cap; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch >= 0x20 && ch < 0x7f)
			buf[o++] = (char)ch;
		else
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", ch);
	}
	buf[o] = '\0';
	return buf;
}

static bool copy_field(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

/* libfko's view of a decoded packet against the expected values. */
static bool fko_fields_match(fko_ctx_t ctx, const char *user, const char *msg,
			     const char *nat, const char *auth, int timeout,
			     int *type_out)
{
	char *s = NULL;
	short type = -1;
	int to = -1;
	bool ok = true;

	ok &= fko_get_username(ctx, &s) == FKO_SUCCESS && strcmp(nz(s), user) == 0;
	ok &= fko_get_spa_message(ctx, &s) == FKO_SUCCESS && strcmp(nz(s), msg) == 0;
	s = NULL;
	ok &= fko_get_spa_nat_access(ctx, &s) == FKO_SUCCESS && strcmp(nz(s), nat) == 0;
	s = NULL;
	ok &= fko_get_spa_server_auth(ctx, &s) == FKO_SUCCESS && strcmp(nz(s), auth) == 0;
	ok &= fko_get_spa_client_timeout(ctx, &to) == FKO_SUCCESS && to == timeout;
	ok &= fko_get_spa_message_type(ctx, &type) == FKO_SUCCESS;
	*type_out = type;
	return ok;
}

static void run_variant(struct fields_ctx *fc, const struct io_case *c,
			const struct variant *v)
{
	struct spa_key_spec s;
	struct spa_keys *k = NULL;
	struct spa_message m, back;
	struct io_fko_fields f;
	char wire[SPA_WIRE_CAP], fwire[SPA_WIRE_CAP];
	char desc[1600], b1[400], b2[400], b3[200], b4[200];
	size_t wlen = 0;
	fko_ctx_t ctx = NULL;
	int err, rc_enc, rc_dec = -1, ftype = -1;
	bool fko_ok;

	if (fc->only && strcmp(fc->only, v->family) != 0)
		return;
	fc->variants++;
	snprintf(desc, sizeof(desc),
		 "[%s] mode=%s digest=%s hmac=%s type=%d user='%s' msg='%s' nat='%s' "
		 "auth='%s' timeout=%d",
		 v->family, c->mode_arg, spa_digest_name(c->digest),
		 c->hmac ? spa_digest_name(c->hmac) : "none", v->type,
		 show(v->user, b1, sizeof(b1)), show(v->message, b2, sizeof(b2)),
		 show(v->nat, b3, sizeof(b3)), show(v->auth, b4, sizeof(b4)), v->timeout);

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
	if (!io_check(&fc->t, err == 0, "%s: spa_keys_new: %s", desc, spa_strerror(err)))
		return;
	err = spa_message_init(&m);
	if (!io_check(&fc->t, err == 0, "%s: spa_message_init", desc))
		goto out;
	m.timestamp = (uint64_t)time(NULL);
	m.type = v->type;
	m.client_timeout = (uint32_t)v->timeout;
	m.digest_type = c->digest;
	if (copy_field(m.username, sizeof(m.username), v->user) &&
	    copy_field(m.message, sizeof(m.message), v->message) &&
	    copy_field(m.nat_access, sizeof(m.nat_access), v->nat) &&
	    copy_field(m.server_auth, sizeof(m.server_auth), v->auth))
		err = spa_packet_build(&m, k, NULL, wire, sizeof(wire), &wlen);
	else
		err = -SPA_E_TOO_LONG;   /* our message struct cannot hold it */

	memset(&f, 0, sizeof(f));
	f.rand_val = m.rand_val;
	f.user = v->user;
	f.type = v->type;
	f.message = v->message;
	f.nat = v->nat;
	f.server_auth = v->auth;
	f.client_timeout = v->timeout;
	rc_enc = io_fko_build(c, &f, fwire, sizeof(fwire));
	if (rc_enc == FKO_SUCCESS) {
		rc_dec = io_fko_open(c, fwire, &ctx);
		io_fko_close(ctx);
		ctx = NULL;
	}
	fko_ok = rc_enc == FKO_SUCCESS && rc_dec == FKO_SUCCESS;

	if (err == 0) {
		int rc = io_fko_open(c, wire, &ctx), t = -1;

		if (io_check(&fc->t, rc == FKO_SUCCESS,
			     "%s: libfko cannot read the packet we built: %s\n  %s", desc,
			     fko_errstr(rc), wire))
			io_check(&fc->t,
				 fko_fields_match(ctx, m.username, m.message, m.nat_access,
						  m.server_auth, (int)m.client_timeout, &t) &&
					 t == m.type,
				 "%s: libfko decodes our packet to other fields (type %d vs %d)",
				 desc, t, m.type);
		io_fko_close(ctx);
		ctx = NULL;
	}
	if (fko_ok && io_stricter_by_design(v->message, v->nat)) {
		fc->stricter++;
		io_check(&fc->t, err < 0,
			 "%s: must be refused by design (ambiguous value), but we built it",
			 desc);
		err = spa_packet_open(fwire, strlen(fwire), k, &back);
		io_check(&fc->t, err < 0,
			 "%s: must be refused by design (ambiguous value), but we opened it",
			 desc);
	} else if (fko_ok) {
		io_check(&fc->t, err == 0,
			 "%s: libfko builds and reads this, we refuse to build it: %s", desc,
			 spa_strerror(err));
		rc_dec = io_fko_open(c, fwire, &ctx);
		if (rc_dec == FKO_SUCCESS)
			fko_fields_match(ctx, "", "", "", "", 0, &ftype);
		io_fko_close(ctx);
		ctx = NULL;
		err = spa_packet_open(fwire, strlen(fwire), k, &back);
		if (io_check(&fc->t, err == 0,
			     "%s: spa_packet_open refuses libfko's packet: %s\n  %s", desc,
			     spa_strerror(err), fwire))
			io_check(&fc->t,
				 strcmp(back.username, v->user) == 0 &&
					 strcmp(back.message, v->message) == 0 &&
					 strcmp(back.nat_access, v->nat) == 0 &&
					 strcmp(back.server_auth, v->auth) == 0 &&
					 (int)back.client_timeout == v->timeout &&
					 back.type == ftype,
				 "%s: spa_packet_open decodes libfko's packet to user='%s' "
				 "msg='%s' nat='%s' auth='%s' timeout=%u type=%d (libfko type %d)",
				 desc, back.username, back.message, back.nat_access,
				 back.server_auth, (unsigned)back.client_timeout, back.type, ftype);
		fc->both_ok += err == 0;
	} else if (rc_enc == FKO_SUCCESS) {
		/* libfko writes it but cannot read it back: nor may we. */
		fc->fko_write_only++;
		err = spa_packet_open(fwire, strlen(fwire), k, &back);
		io_check(&fc->t, err < 0,
			 "%s: libfko cannot read its own packet (%s) but spa_packet_open "
			 "accepts it\n  %s", desc, fko_errstr(rc_dec), fwire);
	} else if (wlen == 0) {
		fc->both_refuse++;
	}
	if (wlen && !fko_ok) {
		fc->ours_lenient++;
		if (fc->notes++ < 25)
			printf("NOTE: we build what libfko's encoder refuses (%s), libfko "
			       "reads ours: %s\n", fko_errstr(rc_enc ? rc_enc : rc_dec), desc);
	}
out:
	spa_keys_free(k);
}

/* ---- the families -------------------------------------------------------- */

static const char *const access_list[] = {
	"203.0.113.5,tcp/22", "203.0.113.5,udp/53", "203.0.113.5,tcp/0",
	"203.0.113.5,tcp/65535", "203.0.113.5,tcp/65536", "203.0.113.5,icmp/1",
	"203.0.113.5,none/0", "203.0.113.5,TCP/22", "203.0.113.5,tcpx/22",
	"203.0.113.5,tcp/22,", "1.2.3,tcp/22", "1.2.3.999,tcp/22",
	"203.0.113.5,tcp/022", "203.0.113.05,tcp/22", "0.0.0.0,tcp/1",
	"255.255.255.255,tcp/65535", "203.0.113.5,tcp/22/", "203.0.113.5,tcp//22",
	"203.0.113.5,tcp/2 2", " 203.0.113.5,tcp/22", "203.0.113.5, tcp/22",
	"203.0.113.5,tcp/", "203.0.113.5,", "203.0.113.5", "203.0.113.5,tcp/123456",
	"1.2.3.4.5,tcp/22", "203.0.113.5,udp/53,tcp/22,tcp/443",
	"203.0.113.5,tcp/22,,udp/53", "a.b.c.d,tcp/22", "203.0.113.5,tcp/-1",
	"203.0.113.5,tcp/+22", "256.0.0.1,tcp/22", "1.2.3.4 ,tcp/22",
	"203.0.113.5,tcp/22 ", "01.02.03.04,tcp/22", "203.0.113.5,udp/0",
	"203.0.113.5,tcp/22,udp/53,tcp/80,tcp/443,udp/1194,tcp/8080",
	"203.0.113.5,tcp/22:udp/53", "203.0.113.5;tcp/22",
};
static const char *const nat_list[] = {
	"198.51.100.7,22", "intranet.example,2222", "a,1", "host name,22",
	"h/x,22", "h?x,22", "h\"x,22", "h'x,22", "h\\x,22", "1.2.3.4,22,33",
	"1.2.3.4,0", "1.2.3.4,65535", "1.2.3.4,65536", "1.2.3.4", "1.2.3.4,",
	",22", "1.2.3.4:22", "1.2.3.4,2a", "my_host-1.example.org,8080",
	"1.2.3.4,022", "1.2.3.4, 22",
};
static const char *const cmd_list[] = {
	"203.0.113.5,", "203.0.113.5,a", "203.0.113.5,echo a:b;c|d&e",
	"203.0.113.5,tab\there", "1.2.3,echo", "203.0.113.5 ,echo", "0.0.0.0,x",
	"203.0.113.5,\x7f", "203.0.113.5,caf\xc3\xa9", "203.0.113.5,  spaces  ",
	"203.0.113.5,new\nline",
};
static const int timeout_list[] = {
	1, 2, 59, 65535, 65536, 65537, 100000, 131072, 2147483647,
};

static void family_username(struct fields_ctx *fc, const struct io_case *c)
{
	char user[80];
	struct variant v = { "username", SPA_MSG_ACCESS, user, "203.0.113.5,tcp/22",
			     "", "", 0 };

	for (int n = 1; n <= 66; n++) {
		memset(user, 'u', (size_t)n);
		user[n] = '\0';
		run_variant(fc, c, &v);
	}
	for (int ch = 1; ch < 256; ch++) {
		snprintf(user, sizeof(user), "ab%ccd", ch);
		run_variant(fc, c, &v);
	}
	snprintf(user, sizeof(user), " leading");
	run_variant(fc, c, &v);
	snprintf(user, sizeof(user), "trailing ");
	run_variant(fc, c, &v);
}

static void family_access(struct fields_ctx *fc, const struct io_case *c)
{
	char msg[400];
	struct variant v = { "access", SPA_MSG_ACCESS, "fieldtest", msg, "", "", 0 };
	size_t o;

	for (size_t i = 0; i < sizeof(access_list) / sizeof(access_list[0]); i++) {
		snprintf(msg, sizeof(msg), "%s", access_list[i]);
		run_variant(fc, c, &v);
	}
	/* Growing port lists: the 256-byte message limit and the size split. */
	for (int n = 1; n <= 40; n++) {
		o = (size_t)snprintf(msg, sizeof(msg), "203.0.113.5");
		for (int p = 1; p <= n && o < sizeof(msg) - 12; p++)
			o += (size_t)snprintf(msg + o, sizeof(msg) - o, ",tcp/%d", 10000 + p);
		run_variant(fc, c, &v);
	}
}

static void family_nat(struct fields_ctx *fc, const struct io_case *c)
{
	char nat[200];
	struct variant v = { "nat", SPA_MSG_NAT_ACCESS, "fieldtest", "203.0.113.5,tcp/22",
			     nat, "", 0 };

	for (size_t i = 0; i < sizeof(nat_list) / sizeof(nat_list[0]); i++) {
		snprintf(nat, sizeof(nat), "%s", nat_list[i]);
		run_variant(fc, c, &v);
	}
	for (int n = 1; n <= 80; n++) {
		memset(nat, 'h', (size_t)n);
		snprintf(nat + n, sizeof(nat) - (size_t)n, ",22");
		run_variant(fc, c, &v);
	}
	v.type = SPA_MSG_LOCAL_NAT_ACCESS;
	snprintf(nat, sizeof(nat), "127.0.0.1,22");
	run_variant(fc, c, &v);
}

static void family_command(struct fields_ctx *fc, const struct io_case *c)
{
	char msg[400];
	struct variant v = { "command", SPA_MSG_COMMAND, "fieldtest", msg, "", "", 0 };

	for (size_t i = 0; i < sizeof(cmd_list) / sizeof(cmd_list[0]); i++) {
		snprintf(msg, sizeof(msg), "%s", cmd_list[i]);
		run_variant(fc, c, &v);
	}
}

static void family_auth(struct fields_ctx *fc, const struct io_case *c)
{
	char auth[100];
	struct variant v = { "auth", SPA_MSG_ACCESS, "fieldtest", "203.0.113.5,tcp/22",
			     "", auth, 0 };

	for (int n = 1; n <= 70; n++) {
		memset(auth, 'a', (size_t)n);
		auth[n] = '\0';
		run_variant(fc, c, &v);
	}
	snprintf(auth, sizeof(auth), "a:b c,d");
	run_variant(fc, c, &v);
	/* Server auth combined with NAT and a timeout: the field order. */
	v.type = SPA_MSG_NAT_ACCESS;
	v.nat = "198.51.100.7,22";
	v.timeout = 90;
	snprintf(auth, sizeof(auth), "token");
	run_variant(fc, c, &v);
}

static void family_timeout(struct fields_ctx *fc, const struct io_case *c)
{
	static const int types[] = { SPA_MSG_CLIENT_TIMEOUT_ACCESS,
				     SPA_MSG_CLIENT_TIMEOUT_NAT_ACCESS,
				     SPA_MSG_CLIENT_TIMEOUT_LOCAL_NAT_ACCESS };
	struct variant v = { "timeout", 0, "fieldtest", "203.0.113.5,tcp/22", "", "", 0 };

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		v.type = types[t];
		v.nat = types[t] == SPA_MSG_CLIENT_TIMEOUT_ACCESS ? "" : "198.51.100.7,22";
		for (size_t i = 0; i < sizeof(timeout_list) / sizeof(timeout_list[0]); i++) {
			v.timeout = timeout_list[i];
			run_variant(fc, c, &v);
		}
	}
	/* Plain types with a timeout are promoted by both encoders. */
	v.type = SPA_MSG_ACCESS;
	v.nat = "";
	v.timeout = 30;
	run_variant(fc, c, &v);
}

/* Command messages growing up to the Rijndael/GnuPG split, where the
 * limit depends on the digest, the HMAC and whether an HMAC is used. */
static void family_size(struct fields_ctx *fc)
{
	static const struct {
		int mode, digest, hmac;
	} cfg[] = {
		{ SPA_MODE_CBC, SPA_DIGEST_SHA512, SPA_DIGEST_SHA512 },
		{ SPA_MODE_CTR, SPA_DIGEST_SHA3_512, 0 },
		{ SPA_MODE_CFB, SPA_DIGEST_MD5, SPA_DIGEST_MD5 },
		{ SPA_MODE_CBC_LEGACY_IV, SPA_DIGEST_SHA256, 0 },
		{ SPA_MODE_ECB, SPA_DIGEST_SHA1, 0 },
	};
	char msg[400];
	struct variant v = { "size", SPA_MSG_COMMAND, "sweep", msg, "", "", 0 };
	struct io_case c;

	for (size_t i = 0; i < sizeof(cfg) / sizeof(cfg[0]); i++) {
		if (io_matrix_find(cfg[i].mode, cfg[i].digest, cfg[i].hmac,
				   SPA_MSG_COMMAND, fc->seed, &c) != 0)
			continue;
		for (int n = 60; n <= 250; n++) {
			memcpy(msg, "203.0.113.5,echo ", 17);
			memset(msg + 17, 'x', (size_t)n);
			msg[17 + n] = '\0';
			run_variant(fc, &c, &v);
		}
	}
}

int main(int argc, char **argv)
{
	static const struct {
		int mode, digest, hmac;
	} cfg[] = {
		{ SPA_MODE_CBC, SPA_DIGEST_SHA256, SPA_DIGEST_SHA256 },
		{ SPA_MODE_OFB, SPA_DIGEST_SHA1, 0 },
	};
	struct fields_ctx fc;

	memset(&fc, 0, sizeof(fc));
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--family") == 0)
			fc.only = argv[i + 1];
	fc.seed = io_pick_seed(argc, argv);
	printf("libfko field interop: seed %llu (rerun with --seed %llu)\n",
	       (unsigned long long)fc.seed, (unsigned long long)fc.seed);
	for (size_t i = 0; i < sizeof(cfg) / sizeof(cfg[0]); i++) {
		struct io_case c;

		if (io_matrix_find(cfg[i].mode, cfg[i].digest, cfg[i].hmac,
				   SPA_MSG_ACCESS, fc.seed, &c) != 0)
			continue;
		family_username(&fc, &c);
		family_access(&fc, &c);
		family_nat(&fc, &c);
		family_command(&fc, &c);
		family_auth(&fc, &c);
		family_timeout(&fc, &c);
	}
	family_size(&fc);
	printf("%u variants: %u built and read by both, %u refused by both, "
	       "%u written by libfko but unreadable to it, %u built only by us "
	       "(libfko's encoder stricter than its decoder), %u refused by "
	       "design\n",
	       fc.variants, fc.both_ok, fc.both_refuse, fc.fko_write_only,
	       fc.ours_lenient, fc.stricter);
	io_check(&fc.t, fc.variants > 0 && fc.both_ok > 0, "nothing was tested");
	printf("%lu passed, %lu failed\n", fc.t.passed, fc.t.failed);
	return fc.t.failed ? 1 : 0;
}
