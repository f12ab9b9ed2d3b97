/* SPDX-License-Identifier: MIT */
/*
 * GnuPG mode (docs/GNUPG.md) with the real gpg and throwaway keys: round
 * trips with and without signature and HMAC, and each refusal the
 * receiver must tell apart.
 */
#include "unit_helpers.h"
#include "gpg_home.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct gpg_env env;
static const char *gpg_path;
static struct spa_keys *hmac_keys, *hmac_other;

struct pw {
	const char *value;   /* NULL: refuse */
	int calls;
};

static int pw_cb(void *arg, const char *hint, bool retry, char *buf, size_t cap)
{
	struct pw *p = arg;

	(void)hint;
	(void)retry;
	p->calls++;
	if (!p->value || strlen(p->value) >= cap)
		return -1;
	strcpy(buf, p->value);
	return 0;
}

static struct pw server_pw = { GH_SERVER_PW, 0 };
static struct pw client_pw = { GH_CLIENT_PW, 0 };

static struct spa_gpg_opts server_opts(void)
{
	return (struct spa_gpg_opts){ .home_dir = env.server, .gpg_exe = env.gpg,
				      .passphrase = pw_cb,
				      .passphrase_arg = &server_pw };
}

static struct spa_gpg_opts client_opts(void)
{
	return (struct spa_gpg_opts){ .home_dir = env.client, .gpg_exe = env.gpg,
				      .passphrase = pw_cb,
				      .passphrase_arg = &client_pw };
}

/* A GnuPG key set: an HMAC key and no Rijndael key. */
static struct spa_keys *hmac_set(const char *key)
{
	return ut_keys("", SPA_MODE_ASYMMETRIC, key, SPA_DIGEST_SHA256);
}

static int group_setup(void **state)
{
	int rc = gh_setup(&env, gpg_path, true);

	(void)state;
	if (rc == 77)
		exit(77);
	if (rc < 0) {
		fprintf(stderr, "gpg key setup failed\n");
		return -1;
	}
	hmac_keys = hmac_set(KAT_HMAC_KEY);
	hmac_other = hmac_set("another hmac key");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	spa_keys_free(hmac_keys);
	spa_keys_free(hmac_other);
	gh_teardown(&env);
	return 0;
}

static void sample(struct spa_message *m)
{
	assert_int_equal(spa_message_init(m), 0);
	strcpy(m->username, "alice");
	strcpy(m->message, "10.1.2.3,tcp/22");
	m->timestamp = KAT_TS;
}

/* Builds from the client home; fails the test unless it works. */
static size_t build(const char *recipient, const char *signer,
		    const struct spa_keys *k, struct spa_message *m, char *wire)
{
	struct spa_gpg_opts o = client_opts();
	size_t len = 0;
	int rc;

	sample(m);
	rc = spa_gpg_build(&o, recipient, signer, m, k, wire, SPA_WIRE_CAP, &len, NULL);
	if (rc != 0)
		fail_msg("build: %s", spa_strerror(rc));
	assert_int_equal(strlen(wire), len);
	return len;
}

static int open_as_server(const char *wire, size_t len, const struct spa_keys *k,
			  struct spa_message *m, struct spa_gpg_result *r)
{
	struct spa_gpg_opts o = server_opts();
	char *copy = ut_dup_exact(wire, len);
	int rc = spa_gpg_open(&o, copy, len, k, m, r);
	int pre = spa_gpg_precheck(copy, len, k);

	free(copy);
	/* what the precheck passes is what reached gpg, and what it refuses
	 * is refused the same way by the whole open */
	if (pre < 0)
		assert_int_equal(rc, pre);
	return rc;
}

/* A packet to the server, opened there with the same key set. */
static int knock(const char *signer, const struct spa_keys *k,
		 struct spa_message *m, struct spa_message *back,
		 struct spa_gpg_result *r)
{
	char wire[SPA_WIRE_CAP];
	size_t len = build(env.server_fpr, signer, k, m, wire);

	return open_as_server(wire, len, k, back, r);
}

static void assert_same_message(const struct spa_message *a,
				const struct spa_message *b)
{
	assert_string_equal(a->rand_val, b->rand_val);
	assert_string_equal(a->username, b->username);
	assert_string_equal(a->message, b->message);
	assert_int_equal(a->timestamp, b->timestamp);
	assert_int_equal(a->type, b->type);
}

static void test_encrypt_only(void **state)
{
	char wire[SPA_WIRE_CAP];
	struct spa_message m, back;
	struct spa_gpg_result r;
	size_t len;

	(void)state;
	len = build(env.server_fpr, NULL, NULL, &m, wire);
	/* what fwknopd sees: GnuPG size, passes its prefilter, no "hQ" */
	assert_int_equal(spa_packet_enc_type(wire, len), SPA_ENC_GPG);
	assert_int_equal(spa_packet_prefilter(wire, len), 0);
	assert_true(strncmp(wire, "hQ", 2) != 0);
	assert_int_equal(open_as_server(wire, len, NULL, &back, &r), 0);
	assert_same_message(&m, &back);
	assert_int_equal(r.sig, SPA_GPG_SIG_NONE);
	assert_string_equal(r.fingerprint, "");
	assert_rc(spa_gpg_sig_error(&r), SPA_E_GPG_NOSIG);
	/* the Rijndael decoder does not take it */
	assert_rc_in(spa_packet_open(wire, len, hmac_keys, &back), SPA_E_MODE);
}

static void test_signed(void **state)
{
	struct spa_message m, back;
	struct spa_gpg_result r;

	(void)state;
	assert_int_equal(knock(env.client_fpr, NULL, &m, &back, &r), 0);
	assert_same_message(&m, &back);
	assert_int_equal(r.sig, SPA_GPG_SIG_GOOD);
	assert_true(r.validity >= SPA_GPG_VALIDITY_MARGINAL);
	assert_string_equal(r.fingerprint, env.client_fpr);
	assert_string_equal(r.key_id, env.client_fpr + 24);
	assert_string_equal(r.short_id, env.client_fpr + 32);
	assert_int_equal(spa_gpg_sig_error(&r), 0);
}

static void test_hmac(void **state)
{
	char wire[SPA_WIRE_CAP], ct[SPA_WIRE_CAP + 2], mac[128];
	struct spa_message m, back;
	struct spa_gpg_result r;
	size_t len, mac_len = 43;

	(void)state;
	len = build(env.server_fpr, env.client_fpr, hmac_keys, &m, wire);
	/* the MAC covers "hQ" || the wire ciphertext (OpenSSL as the oracle) */
	snprintf(ct, sizeof(ct), "hQ%.*s", (int)(len - mac_len), wire);
	assert_int_equal(ut_hmac_b64(SPA_DIGEST_SHA256, KAT_HMAC_KEY,
				     strlen(KAT_HMAC_KEY), ct, strlen(ct), mac), 43);
	assert_memory_equal(mac, wire + len - mac_len, mac_len);

	assert_int_equal(open_as_server(wire, len, hmac_keys, &back, &r), 0);
	assert_same_message(&m, &back);
	assert_int_equal(spa_gpg_sig_error(&r), 0);
	assert_rc(open_as_server(wire, len, hmac_other, &back, &r), SPA_E_HMAC);
	/* a stanza without HMAC reads the MAC as ciphertext: bytes after the
	 * OpenPGP message, which gpg alone would skip */
	assert_rc_in(open_as_server(wire, len, NULL, &back, &r),
		     SPA_E_BASE64, SPA_E_GPG_BADDATA);
	assert_rc_in(spa_gpg_open(&(struct spa_gpg_opts){ .gpg_exe = "/nonexistent/gpg" },
				  wire, len, NULL, &back, &r),
		     SPA_E_BASE64, SPA_E_GPG_BADDATA);
}

static void test_passphrases(void **state)
{
	struct spa_gpg_opts o = client_opts();
	struct pw wrong = { "not the passphrase", 0 };
	char wire[SPA_WIRE_CAP];
	struct spa_message m, back;
	struct spa_gpg_result r;
	size_t len = 0;

	(void)state;
	/* signing key with a passphrase: asked through the callback */
	client_pw.calls = 0;
	len = build(env.server_fpr, env.client_pw_fpr, hmac_keys, &m, wire);
	assert_true(client_pw.calls > 0);
	assert_int_equal(open_as_server(wire, len, hmac_keys, &back, &r), 0);
	assert_int_equal(r.sig, SPA_GPG_SIG_GOOD);
	assert_string_equal(r.fingerprint, env.client_pw_fpr);
	/* not certified by the server: below marginal, as fwknopd refuses */
	assert_true(r.validity < SPA_GPG_VALIDITY_MARGINAL);
	assert_rc(spa_gpg_sig_error(&r), SPA_E_GPG_UNTRUSTED);

	o.passphrase_arg = &wrong;
	sample(&m);
	assert_rc(spa_gpg_build(&o, env.server_fpr, env.client_pw_fpr, &m, NULL,
				wire, sizeof(wire), &len, NULL), SPA_E_GPG_PASSPHRASE);
	o.passphrase = NULL;
	assert_rc(spa_gpg_build(&o, env.server_fpr, env.client_pw_fpr, &m, NULL,
				wire, sizeof(wire), &len, NULL), SPA_E_GPG_PASSPHRASE);

	/* the server's decryption key, wrong and missing passphrase */
	len = build(env.server_fpr, NULL, NULL, &m, wire);
	o = server_opts();
	o.passphrase_arg = &wrong;
	assert_rc(spa_gpg_open(&o, wire, len, NULL, &back, &r), SPA_E_GPG_PASSPHRASE);
	o.passphrase = NULL;
	assert_rc(spa_gpg_open(&o, wire, len, NULL, &back, &r), SPA_E_GPG_PASSPHRASE);
}

static void test_wrong_recipient(void **state)
{
	char wire[SPA_WIRE_CAP];
	struct spa_message m, back;
	struct spa_gpg_result r;
	size_t len;

	(void)state;
	len = build(env.other_fpr, env.client_fpr, NULL, &m, wire);
	assert_rc(open_as_server(wire, len, NULL, &back, &r), SPA_E_GPG_NOSECKEY);
	len = build(env.other_fpr, NULL, hmac_keys, &m, wire);
	assert_rc(open_as_server(wire, len, hmac_keys, &back, &r), SPA_E_GPG_NOSECKEY);
}

/* Replaces the base64 character at i by another one of the alphabet. */
static void flip(char *wire, size_t i)
{
	wire[i] = wire[i] == 'A' ? 'B' : 'A';
}

static void test_corrupted(void **state)
{
	char wire[SPA_WIRE_CAP], bad[SPA_WIRE_CAP];
	struct spa_message m, back;
	struct spa_gpg_result r;
	struct spa_gpg_opts no_gpg = { .gpg_exe = "/nonexistent/gpg" };
	size_t len;

	(void)state;
	/* with an HMAC: refused by the MAC, before gpg could be started */
	len = build(env.server_fpr, env.client_fpr, hmac_keys, &m, wire);
	memcpy(bad, wire, len + 1);
	flip(bad, len / 2);
	assert_rc(open_as_server(bad, len, hmac_keys, &back, &r), SPA_E_HMAC);
	assert_rc(spa_gpg_open(&no_gpg, bad, len, hmac_keys, &back, &r), SPA_E_HMAC);
	assert_rc(spa_gpg_precheck(bad, len, hmac_keys), SPA_E_HMAC);
	assert_int_equal(spa_gpg_precheck(wire, len, hmac_keys), 0);

	/* without: gpg's integrity checks, in the session key packet and in
	 * the encrypted data */
	len = build(env.server_fpr, env.client_fpr, NULL, &m, wire);
	memcpy(bad, wire, len + 1);
	flip(bad, 100);
	assert_rc(open_as_server(bad, len, NULL, &back, &r), SPA_E_GPG_BADDATA);
	memcpy(bad, wire, len + 1);
	flip(bad, len - 40);
	assert_rc(open_as_server(bad, len, NULL, &back, &r), SPA_E_GPG_BADDATA);
	assert_int_equal(back.username[0], '\0');
}

static void test_signer_states(void **state)
{
	char wire[SPA_WIRE_CAP];
	struct spa_message m, back;
	struct spa_gpg_result r;
	size_t len;

	(void)state;
	assert_int_equal(knock(env.stranger_fpr, NULL, &m, &back, &r), 0);
	assert_int_equal(r.sig, SPA_GPG_SIG_NOPUBKEY);
	assert_string_equal(r.key_id, env.stranger_fpr + 24);
	assert_rc(spa_gpg_sig_error(&r), SPA_E_GPG_NOPUBKEY);

	/* signed while valid, checked once the key has expired */
	len = build(env.server_fpr, env.expiring_fpr, NULL, &m, wire);
	assert_int_equal(gh_expire(&env, env.expiring_fpr), 0);
	assert_int_equal(open_as_server(wire, len, NULL, &back, &r), 0);
	assert_same_message(&m, &back);
	assert_int_equal(r.sig, SPA_GPG_SIG_EXPIRED);
	assert_string_equal(r.fingerprint, env.expiring_fpr);
	assert_rc(spa_gpg_sig_error(&r), SPA_E_GPG_EXPIRED);

	len = build(env.server_fpr, env.revoked_fpr, NULL, &m, wire);
	assert_int_equal(gh_revoke(&env, env.revoked_fpr), 0);
	assert_int_equal(open_as_server(wire, len, NULL, &back, &r), 0);
	assert_int_equal(r.sig, SPA_GPG_SIG_REVOKED);
	assert_rc(spa_gpg_sig_error(&r), SPA_E_GPG_REVOKED);
}

static void test_build_refusals(void **state)
{
	struct spa_gpg_opts o = client_opts();
	struct spa_gpg_opts missing = { .home_dir = env.client,
					.gpg_exe = "/nonexistent/gpg" };
	char wire[SPA_WIRE_CAP];
	struct spa_message m;
	size_t len = 0;

	(void)state;
	sample(&m);
	/* the wire form drops "hQ": ECC session key packets do not have it */
	assert_rc(spa_gpg_build(&o, env.ecc_fpr, NULL, &m, NULL, wire,
				sizeof(wire), &len, NULL), SPA_E_GPG_KEYTYPE);
	assert_rc(spa_gpg_build(&o, "nobody@spa.test", NULL, &m, NULL, wire,
				sizeof(wire), &len, NULL), SPA_E_GPG_KEY);
	/* signing needs the secret key, which the client lacks */
	assert_rc(spa_gpg_build(&o, env.server_fpr, env.server_fpr, &m, NULL,
				wire, sizeof(wire), &len, NULL), SPA_E_GPG_KEY);
	assert_rc(spa_gpg_build(&missing, env.server_fpr, NULL, &m, NULL, wire,
				sizeof(wire), &len, NULL), SPA_E_GPG);
	assert_rc(spa_gpg_build(&o, env.server_fpr, NULL, &m, NULL, wire, 100,
				&len, NULL), SPA_E_TOO_LONG);
	assert_rc(spa_gpg_build(NULL, env.server_fpr, NULL, &m, NULL, wire,
				sizeof(wire), &len, NULL), SPA_E_ARG);
	assert_rc(spa_gpg_build(&o, NULL, NULL, &m, NULL, wire, sizeof(wire),
				&len, NULL), SPA_E_ARG);
}

/* A session key packet then an encrypted data packet, random inside:
 * framed as gpg frames SPA, so it passes every check made without gpg. */
static size_t framed_garbage(uint8_t *bin, size_t len)
{
	const size_t pkesk = 3 + 268, seipd = len - pkesk - 3;

	assert_int_equal(spa_random_bytes(bin, len), 0);
	bin[0] = 0x85;                 /* tag 1, two-byte length */
	bin[1] = 268 >> 8;
	bin[2] = 268 & 0xff;
	bin[3] = 3;                    /* version 3 */
	bin[12] = 1;                   /* RSA */
	bin[pkesk] = 0xc0 | 18;        /* tag 18, new format */
	bin[pkesk + 1] = (uint8_t)(((seipd - 192) >> 8) + 192);
	bin[pkesk + 2] = (uint8_t)((seipd - 192) & 0xff);
	bin[pkesk + 3] = 1;
	return len;
}

static void test_garbage_reaches_gpg(void **state)
{
	uint8_t bin[600];
	char b64[1000];
	struct spa_message back;
	struct spa_gpg_result r;
	size_t n;

	(void)state;
	n = ut_b64(bin, framed_garbage(bin, sizeof(bin)), b64, false);
	assert_memory_equal(b64, "hQEM", 4);
	/* proof that it gets that far: a missing gpg is now noticed */
	assert_rc(spa_gpg_open(&(struct spa_gpg_opts){ .gpg_exe = "/nonexistent/gpg" },
			       b64 + 2, n - 2, NULL, &back, &r), SPA_E_GPG);
	assert_rc_in(open_as_server(b64 + 2, n - 2, NULL, &back, &r),
		     SPA_E_GPG_BADDATA, SPA_E_GPG_NOSECKEY);
}

/* Bytes appended to a real packet would still decrypt in gpg, under a new
 * replay digest: refused; and the digest of P identifies the message. */
static void test_appended_and_digest(void **state)
{
	char wire[SPA_WIRE_CAP], longer[SPA_WIRE_CAP + 8], first[44];
	struct spa_message m, back;
	struct spa_gpg_result r;
	size_t len;

	(void)state;
	len = build(env.server_fpr, env.client_fpr, NULL, &m, wire);
	assert_int_equal(open_as_server(wire, len, NULL, &back, &r), 0);
	assert_int_equal(strlen(r.msg_digest), 43);
	memcpy(first, r.msg_digest, sizeof(first));
	assert_int_equal(open_as_server(wire, len, NULL, &back, &r), 0);
	assert_string_equal(r.msg_digest, first);

	for (size_t extra = 4; extra <= 8; extra += 4) {
		snprintf(longer, sizeof(longer), "%s%.*s", wire, (int)extra,
			 "wAAAwAAA");
		assert_rc_in(open_as_server(longer, len + extra, NULL, &back, &r),
			     SPA_E_GPG_BADDATA, SPA_E_TOO_LONG);
	}
	len = build(env.server_fpr, env.client_fpr, NULL, &m, wire);
	assert_int_equal(open_as_server(wire, len, NULL, &back, &r), 0);
	assert_string_not_equal(r.msg_digest, first);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encrypt_only),
		cmocka_unit_test(test_signed),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_passphrases),
		cmocka_unit_test(test_wrong_recipient),
		cmocka_unit_test(test_corrupted),
		cmocka_unit_test(test_signer_states),
		cmocka_unit_test(test_build_refusals),
		cmocka_unit_test(test_garbage_reaches_gpg),
		cmocka_unit_test(test_appended_and_digest),
	};

	if (argc == 3 && strcmp(argv[1], "--gpg") == 0)
		gpg_path = argv[2];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
