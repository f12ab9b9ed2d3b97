/* SPDX-License-Identifier: MIT */
/*
 * test_gpg_pipeline.c - spad's GnuPG decision without gpg (docs/GNUPG.md,
 * "spad"): the budget and the waiting packets on a fake clock, the stanza
 * loop with the helper's replies made up here, the signature rules, the
 * replay digests of both kinds, the monitor's re-check of GnuPG records and
 * the checks on the helper's records. The packets are well-framed OpenPGP
 * made here, so they pass spa_gpg_precheck without any gpg.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine_helpers.h"
#include "spa_config.h"
#include "spa_gpgd.h"
#include "spa_gpgq.h"
#include "spa_privsep.h"

#define NOW 1800000000LL
#define HMAC_KEY "gpg-hmac-key"
#define FPR_A "0123456789ABCDEF0123456789ABCDEF01234567"
#define FPR_B "89ABCDEF0123456789ABCDEF0123456789ABCDEF"

struct ctx {
	char dir[64];
	struct spa_config c;
	struct spa_replay *r;
	struct spa_keys *rijndael;     /* stanza 2's key, for the Rijndael knock */
};

static struct spa_stanza_gpg *gpg_of(struct spa_stanza *s, bool hmac)
{
	struct spa_stanza_gpg *g = calloc(1, sizeof(*g));
	struct spa_key_spec ks = { .enc_mode = SPA_MODE_ASYMMETRIC,
				   .hmac_key = (const uint8_t *)HMAC_KEY,
				   .hmac_key_len = strlen(HMAC_KEY) };

	assert_non_null(g);
	g->enabled = true;
	g->allow_no_pw = true;
	g->require_sig = true;
	snprintf(g->fingerprints[0], sizeof(g->fingerprints[0]), FPR_A);
	g->n_fingerprints = 1;
	if (hmac)
		assert_int_equal(spa_keys_new(&ks, &g->hmac_keys), 0);
	/* GnuPG only: the Rijndael key the parser needed goes */
	spa_keys_free(s->keys);
	s->keys = NULL;
	s->has_key = false;
	s->gpg = g;
	return g;
}

static int setup(void **state)
{
	struct ctx *x = calloc(1, sizeof(*x));
	struct spa_key_spec ks = { .enc_key = (const uint8_t *)"key-three", .enc_key_len = 9 };
	char err[SPA_CONF_ERR_LEN], path[4096];

	th_tmpdir(x->dir, sizeof(x->dir));
	/* 1: GnuPG without HMAC; 4: GnuPG with HMAC; 7: Rijndael; all for
	 * the same source */
	th_write(x->dir, "access.conf",
		 "SOURCE 198.51.100.0/24\nKEY unused-1\nOPEN_PORTS tcp/22\n"
		 "SOURCE 198.51.100.0/24\nKEY unused-2\nOPEN_PORTS tcp/22\n"
		 "SOURCE 198.51.100.0/24\nKEY key-three\nOPEN_PORTS tcp/22\n",
		 path, sizeof(path));
	spa_config_init(&x->c);
	if (spa_config_load_access(&x->c, path, false, err, sizeof(err)) < 0 ||
	    spa_config_finish(&x->c, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	gpg_of(&x->c.stanzas[0], false);
	gpg_of(&x->c.stanzas[1], true);
	if (spa_replay_open(NULL, NOW, 0, &x->r) < 0 || spa_keys_new(&ks, &x->rijndael) < 0)
		return -1;
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *x = *state;

	for (size_t i = 0; i < x->c.n_stanzas; i++) {
		if (!x->c.stanzas[i].gpg)
			continue;
		spa_keys_free(x->c.stanzas[i].gpg->hmac_keys);
		free(x->c.stanzas[i].gpg);
		x->c.stanzas[i].gpg = NULL;
	}
	spa_config_free(&x->c);
	spa_replay_close(x->r);
	spa_keys_free(x->rijndael);
	th_rmrf(x->dir);
	free(x);
	return 0;
}

static size_t b64(const uint8_t *bin, size_t n, char *out)
{
	size_t len = (size_t)EVP_EncodeBlock((unsigned char *)out, bin, (int)n);

	while (len && out[len - 1] == '=')
		out[--len] = '\0';
	return len;
}

/*
 * A well-framed GnuPG wire text: an RSA session key packet (old format,
 * two-byte length: "hQ") and an integrity-protected data packet ending at
 * the end, the first two characters dropped, the MAC appended with an
 * HMAC. salt changes the bytes (another packet); gpg would refuse it, the
 * precheck cannot tell.
 */
static size_t gpg_wire(uint8_t salt, bool hmac, char *out)
{
	uint8_t bin[372];
	char text[600], ct[600], mac_b64[64];
	unsigned char mac[32];
	unsigned int mac_len = 0;
	size_t n;

	memset(bin, 0, sizeof(bin));
	bin[0] = 0x85;
	bin[1] = 0x01;
	bin[2] = 0x0c;                 /* 268 bytes of session key packet */
	bin[3] = 3;                    /* version 3 */
	bin[12] = 1;                   /* RSA */
	for (size_t i = 13; i < 3 + 268; i++)
		bin[i] = (uint8_t)(i * 7 + salt);
	bin[271] = 0xd2;               /* new format, tag 18 */
	bin[272] = 99;                 /* to the end */
	for (size_t i = 273; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 13 + salt);
	n = b64(bin, sizeof(bin), text);
	assert_int_equal(strncmp(text, "hQ", 2), 0);
	snprintf(out, SPA_WIRE_CAP, "%s", text + 2);
	if (!hmac)
		return n - 2;
	snprintf(ct, sizeof(ct), "%s", text);
	HMAC(EVP_sha256(), HMAC_KEY, (int)strlen(HMAC_KEY), (const unsigned char *)ct, strlen(ct),
	     mac, &mac_len);
	b64(mac, mac_len, mac_b64);
	strcat(out, mac_b64);
	return strlen(out);
}

static void mkpkt(struct spa_pkt *p, const char *data, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->data = data;
	p->len = len;
	p->family = AF_INET;
	inet_pton(AF_INET, "198.51.100.7", p->src_bin);
	snprintf(p->src, sizeof(p->src), "198.51.100.7");
	p->sport = 40000;
	p->dport = 62201;
	p->proto = 17;
	p->now = NOW;
}

/* What the helper would say for a good knock signed by fpr. */
static void good_outcome(struct spa_gpg_outcome *out, const char *fpr, char digest_salt)
{
	memset(out, 0, sizeof(*out));
	assert_int_equal(spa_message_init(&out->msg), 0);
	snprintf(out->msg.username, sizeof(out->msg.username), "alice");
	out->msg.timestamp = (uint64_t)NOW;
	out->msg.type = SPA_MSG_ACCESS;
	snprintf(out->msg.message, sizeof(out->msg.message), "198.51.100.7,tcp/22");
	out->res.sig = SPA_GPG_SIG_GOOD;
	out->res.validity = SPA_GPG_VALIDITY_FULL;
	if (fpr) {
		snprintf(out->res.fingerprint, sizeof(out->res.fingerprint), "%s", fpr);
		snprintf(out->res.key_id, sizeof(out->res.key_id), "%s", fpr + strlen(fpr) - 16);
		snprintf(out->res.short_id, sizeof(out->res.short_id), "%s", fpr + strlen(fpr) - 8);
	} else {
		out->res.sig = SPA_GPG_SIG_NONE;
		out->res.validity = 0;
	}
	memset(out->res.msg_digest, 'A', 43);
	out->res.msg_digest[42] = digest_salt;
}

static void run(struct ctx *x, const char *w, size_t len, struct spa_pkt *p,
		struct spa_decision *d)
{
	struct spa_pipeline_opts o = { 0 };

	mkpkt(p, w, len);
	spa_pipeline_run(&x->c, x->r, p, &o, d);
}

static void resume(struct ctx *x, const struct spa_pkt *p, const struct spa_gpg_outcome *out,
		   struct spa_decision *d)
{
	struct spa_pipeline_opts o = { 0 };

	spa_pipeline_gpg_resume(&x->c, x->r, p, &o, out, d);
}

static void want(const struct spa_decision *d, enum spa_verdict v, const char *reason)
{
	if (d->verdict != v || (reason && !strstr(d->reason, reason)))
		fail_msg("want verdict %d (%s), got %d: %s", v, reason ? reason : "", d->verdict,
			 d->reason);
}

/* Without an HMAC: deferred, granted by the reply, both digests spent; a
 * copy never reaches gpg, another spelling of the same message is refused
 * by the plaintext digest. */
static void test_unvouched_grant_and_replays(void **state)
{
	struct ctx *x = *state;
	char w[SPA_WIRE_CAP], w2[SPA_WIRE_CAP];
	size_t len = gpg_wire(1, false, w), len2 = gpg_wire(2, false, w2);
	struct spa_gpg_outcome out;
	struct spa_decision d;
	struct spa_pkt p;

	assert_true(len >= SPA_GPG_MIN_LEN);
	run(x, w, len, &p, &d);
	want(&d, SPA_DEFERRED, NULL);
	assert_int_equal(d.resume.gpg_stanza, 0);
	assert_false(d.resume.gpg_vouched);
	assert_false(d.authenticated);
	assert_false(d.spent);
	good_outcome(&out, FPR_A, 'B');
	resume(x, &p, &out, &d);
	want(&d, SPA_GRANT, "access granted");
	assert_ptr_equal(d.stanza, &x->c.stanzas[0]);
	assert_true(d.authenticated && d.gpg && d.spent && d.msg_spent);
	assert_string_equal(d.msg_digest, out.res.msg_digest);
	assert_string_equal(d.gpg_res.fingerprint, FPR_A);

	/* the same bytes: the wire digest, before any gpg run */
	run(x, w, len, &p, &d);
	want(&d, SPA_REJECT, "replay");
	assert_true(d.replayed);

	/* the same message re-spelled: only the plaintext digest tells */
	run(x, w2, len2, &p, &d);
	want(&d, SPA_DEFERRED, NULL);
	resume(x, &p, &out, &d);
	want(&d, SPA_REJECT, "replay");
	assert_true(d.replayed);
}

/* The signature rules of stanza 1 (FINGERPRINT_ID FPR_A, REQUIRE_SIG). */
static void sig_case(struct ctx *x, uint8_t salt, void (*tweak)(struct spa_gpg_outcome *),
		     enum spa_verdict v, const char *reason)
{
	char w[SPA_WIRE_CAP];
	size_t len = gpg_wire(salt, false, w);
	struct spa_gpg_outcome out;
	struct spa_decision d;
	struct spa_pkt p;

	run(x, w, len, &p, &d);
	want(&d, SPA_DEFERRED, NULL);
	good_outcome(&out, FPR_A, (char)('a' + salt % 26));
	out.res.msg_digest[41] = (char)('a' + salt / 26);
	tweak(&out);
	resume(x, &p, &out, &d);
	want(&d, v, reason);
}

static void unsigned_(struct spa_gpg_outcome *o)
{
	o->res.sig = SPA_GPG_SIG_NONE;
	o->res.fingerprint[0] = o->res.key_id[0] = o->res.short_id[0] = '\0';
}
static void other_signer(struct spa_gpg_outcome *o)
{
	snprintf(o->res.fingerprint, sizeof(o->res.fingerprint), FPR_B);
}
static void expired(struct spa_gpg_outcome *o)
{
	o->res.sig = SPA_GPG_SIG_EXPIRED;
}
static void untrusted(struct spa_gpg_outcome *o)
{
	o->res.validity = SPA_GPG_VALIDITY_UNKNOWN;
}
static void nothing(struct spa_gpg_outcome *o)
{
	(void)o;
}
static void lower_case(struct spa_gpg_outcome *o)
{
	for (char *c = o->res.fingerprint; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'F' ? *c + 32 : *c);
}

static void test_signature_rules(void **state)
{
	struct ctx *x = *state;
	struct spa_stanza_gpg *g = x->c.stanzas[0].gpg;

	sig_case(x, 10, unsigned_, SPA_REJECT, "not signed");
	sig_case(x, 11, other_signer, SPA_REJECT, "not in GPG_FINGERPRINT_ID");
	sig_case(x, 12, expired, SPA_REJECT, "expired");
	sig_case(x, 13, untrusted, SPA_REJECT, "GnuPG signature by " FPR_A);
	sig_case(x, 14, lower_case, SPA_GRANT, NULL);
	/* GPG_IGNORE_SIG_VERIFY_ERROR: a verify error passes, the signer
	 * list still applies */
	g->ignore_sig_verify_error = true;
	sig_case(x, 15, expired, SPA_GRANT, NULL);
	sig_case(x, 16, unsigned_, SPA_REJECT, "not signed");
	g->ignore_sig_verify_error = false;
	/* GPG_REMOTE_ID: the last 8 or 16 digits; both lists must match */
	snprintf(g->remote_ids[0], sizeof(g->remote_ids[0]), "%s", &FPR_A[32]);
	g->n_remote_ids = 1;
	sig_case(x, 17, nothing, SPA_GRANT, NULL);
	snprintf(g->remote_ids[0], sizeof(g->remote_ids[0]), "%s", &FPR_B[24]);
	sig_case(x, 18, nothing, SPA_REJECT, "not in GPG_REMOTE_ID");
	g->n_fingerprints = 0;
	sig_case(x, 19, other_signer, SPA_GRANT, NULL);
	g->n_remote_ids = 0;
	g->n_fingerprints = 1;
	/* GPG_DISABLE_SIG (or REQUIRE_SIG N): nothing about the signature */
	g->disable_sig = true;
	sig_case(x, 20, unsigned_, SPA_GRANT, NULL);
	g->disable_sig = false;
	g->require_sig = false;
	sig_case(x, 21, other_signer, SPA_GRANT, NULL);
	g->require_sig = true;
}

/* gpg failing for one stanza moves on to the next GnuPG stanza; with an
 * HMAC the MAC decides before any gpg run and spends the digest. */
static void test_stanza_order_and_hmac(void **state)
{
	struct ctx *x = *state;
	char w[SPA_WIRE_CAP], bad[SPA_WIRE_CAP];
	size_t len = gpg_wire(30, true, w);
	struct spa_gpg_outcome out = { .rc = -SPA_E_HMAC };
	struct spa_decision d;
	struct spa_pkt p;

	/* stanza 0 has no HMAC: its precheck sees the MAC as more base64 and
	 * the framing fails (no gpg), stanza 1's MAC passes */
	run(x, w, len, &p, &d);
	want(&d, SPA_DEFERRED, NULL);
	assert_int_equal(d.resume.gpg_stanza, 1);
	assert_true(d.resume.gpg_vouched && d.authenticated && d.spent);
	good_outcome(&out, FPR_A, 'H');
	resume(x, &p, &out, &d);
	want(&d, SPA_GRANT, NULL);
	assert_ptr_equal(d.stanza, &x->c.stanzas[1]);
	/* a copy: refused by the digest spent at the MAC, no gpg run */
	run(x, w, len, &p, &d);
	want(&d, SPA_REJECT, "replay");

	/* a flipped byte: no stanza reads it, nothing deferred */
	memcpy(bad, w, len + 1);
	bad[len / 2] = bad[len / 2] == 'A' ? 'B' : 'A';
	run(x, bad, len, &p, &d);
	want(&d, SPA_REJECT, NULL);
	assert_false(d.authenticated);

	/* without an HMAC: stanza 0 fails in gpg, stanza 1 (HMAC) refuses */
	len = gpg_wire(31, false, w);
	run(x, w, len, &p, &d);
	want(&d, SPA_DEFERRED, NULL);
	memset(&out, 0, sizeof(out));
	out.rc = -SPA_E_GPG_NOSECKEY;
	resume(x, &p, &out, &d);
	want(&d, SPA_REJECT, NULL);
	assert_false(d.authenticated);
	/* and the budget's "not tried" is a stanza's refusal like gpg's */
	run(x, w, len, &p, &d);
	out.not_tried = "GnuPG budget reached: not tried";
	resume(x, &p, &out, &d);
	want(&d, SPA_REJECT, NULL);
}

/* Rijndael-sized packets never reach a GnuPG-only stanza; GnuPG-sized
 * ones never a Rijndael-only one. */
static void test_classes(void **state)
{
	struct ctx *x = *state;
	struct spa_message m;
	char w[SPA_WIRE_CAP];
	struct spa_decision d;
	struct spa_pkt p;
	size_t len;

	assert_int_equal(spa_message_init(&m), 0);
	snprintf(m.username, sizeof(m.username), "bob");
	m.timestamp = (uint64_t)NOW;
	snprintf(m.message, sizeof(m.message), "198.51.100.7,tcp/22");
	assert_int_equal(spa_packet_build(&m, x->rijndael, NULL, w, sizeof(w), &len), 0);
	run(x, w, len, &p, &d);
	want(&d, SPA_GRANT, NULL);
	assert_ptr_equal(d.stanza, &x->c.stanzas[2]);
	assert_false(d.gpg);
}

/* The waiting packets and the budget, on a fake clock. */
static void test_budget(void **state)
{
	struct spa_gpgq q;
	struct spa_decision d;
	struct spa_pkt p;
	struct spa_gpg_job *j[8];
	const char *why = NULL;
	unsigned long n = 0;
	char w[SPA_WIRE_CAP];

	(void)state;
	memset(&d, 0, sizeof(d));
	memset(w, 'A', 600);
	mkpkt(&p, w, 600);
	assert_int_equal(spa_gpgq_init(&q, 2, 3), 0);
	/* two at once, not a third */
	j[0] = spa_gpgq_admit(&q, &p, &d, NOW, (NOW) * 1000, &why);
	j[1] = spa_gpgq_admit(&q, &p, &d, NOW, (NOW) * 1000, &why);
	assert_non_null(j[0]);
	assert_non_null(j[1]);
	assert_ptr_not_equal(j[0]->pkt.data, w);
	assert_memory_equal(j[0]->pkt.data, w, 600);
	assert_true(j[0]->id != j[1]->id);
	assert_ptr_equal(spa_gpgq_find(&q, j[1]->id), j[1]);
	assert_null(spa_gpgq_admit(&q, &p, &d, NOW, (NOW) * 1000, &why));
	assert_string_equal(why, "GnuPG budget reached: not tried");
	assert_int_equal(spa_gpgq_oldest(&q), NOW);
	/* one back: a third token, then the second is empty */
	spa_gpgq_release(&q, j[0]);
	assert_null(spa_gpgq_find(&q, 1));
	j[2] = spa_gpgq_admit(&q, &p, &d, NOW, (NOW) * 1000, &why);
	assert_non_null(j[2]);
	spa_gpgq_release(&q, j[1]);
	spa_gpgq_release(&q, j[2]);
	assert_false(spa_gpgq_busy(&q));
	assert_null(spa_gpgq_admit(&q, &p, &d, NOW, (NOW) * 1000, &why));
	assert_int_equal(q.refused, 2);
	assert_int_equal(spa_gpgq_oldest(&q), 0);
	/* the next second earns three again */
	j[3] = spa_gpgq_admit(&q, &p, &d, NOW + 1, (NOW + 1) * 1000, &why);
	assert_non_null(j[3]);
	assert_int_equal(spa_gpgq_oldest(&q), NOW + 1);
	spa_gpgq_release(&q, j[3]);
	/* HMAC-vouched packets: neither budget, only the bound on waiting */
	d.resume.gpg_vouched = true;
	for (unsigned i = 0; i < SPA_GPGQ_VOUCHED_MAX(2); i++)
		assert_non_null(spa_gpgq_admit(&q, &p, &d, NOW + 1, (NOW + 1) * 1000, &why));
	assert_null(spa_gpgq_admit(&q, &p, &d, NOW + 1, (NOW + 1) * 1000, &why));
	assert_string_equal(why, "too many GnuPG packets waiting for gpg: not tried");
	/* ...which leaves the unvouched their own slots */
	d.resume.gpg_vouched = false;
	assert_non_null(spa_gpgq_admit(&q, &p, &d, NOW + 2, (NOW + 2) * 1000, &why));
	/* the report: at once, then not for a minute */
	assert_true(spa_gpgq_report_due(&q, NOW + 2, &n));
	assert_int_equal(n, 3);
	assert_false(spa_gpgq_report_due(&q, NOW + 3, &n));
	d.resume.gpg_vouched = true;
	assert_null(spa_gpgq_admit(&q, &p, &d, NOW + 3, (NOW + 3) * 1000, &why));
	assert_false(spa_gpgq_report_due(&q, NOW + 61, &n));
	assert_true(spa_gpgq_report_due(&q, NOW + 62, &n));
	assert_int_equal(n, 1);
	assert_false(spa_gpgq_report_due(&q, NOW + 200, &n));
	spa_gpgq_free(&q);

	/* GPG_MAX_PER_SECOND 0: no per-second limit */
	assert_int_equal(spa_gpgq_init(&q, 1, 0), 0);
	d.resume.gpg_vouched = false;
	for (int i = 0; i < 50; i++) {
		j[0] = spa_gpgq_admit(&q, &p, &d, NOW, (NOW) * 1000, &why);
		assert_non_null(j[0]);
		spa_gpgq_release(&q, j[0]);
	}
	spa_gpgq_free(&q);
}

/* GPG_MAX_BUSY_PERCENT: each unvouched run's duration is paid back at that
 * share of the clock before the next unvouched run; vouched ones are free. */
static void test_busy_share(void **state)
{
	struct spa_gpgq q;
	struct spa_decision d;
	struct spa_pkt p;
	struct spa_gpg_job *j, *v;
	const char *why = NULL;
	char w[SPA_WIRE_CAP];
	const int64_t t = NOW * 1000;

	(void)state;
	memset(&d, 0, sizeof(d));
	memset(w, 'A', 600);
	mkpkt(&p, w, 600);
	assert_int_equal(spa_gpgq_init(&q, 2, 1000), 0);
	spa_gpgq_set_busy_percent(&q, 25);
	/* a 400 ms run: 1.6 s at 25% before the next */
	j = spa_gpgq_admit(&q, &p, &d, NOW, t, &why);
	assert_non_null(j);
	spa_gpgq_ran(&q, j, t + 400);
	spa_gpgq_release(&q, j);
	assert_null(spa_gpgq_admit(&q, &p, &d, NOW + 1, t + 400, &why));
	assert_string_equal(why, "GnuPG budget reached: not tried");
	assert_null(spa_gpgq_admit(&q, &p, &d, NOW + 1, t + 1900, &why));
	/* a packet an HMAC vouched for is neither charged nor held back */
	d.resume.gpg_vouched = true;
	v = spa_gpgq_admit(&q, &p, &d, NOW + 1, t + 1900, &why);
	assert_non_null(v);
	spa_gpgq_ran(&q, v, t + 9900);
	spa_gpgq_release(&q, v);
	d.resume.gpg_vouched = false;
	/* paid back at 400 + 1600 ms */
	j = spa_gpgq_admit(&q, &p, &d, NOW + 2, t + 2000, &why);
	assert_non_null(j);
	spa_gpgq_release(&q, j);
	spa_gpgq_free(&q);

	/* 100%: no time share (the default of spa_gpgq_init too) */
	assert_int_equal(spa_gpgq_init(&q, 1, 1000), 0);
	spa_gpgq_set_busy_percent(&q, 100);
	for (int i = 0; i < 5; i++) {
		j = spa_gpgq_admit(&q, &p, &d, NOW, t + i, &why);
		assert_non_null(j);
		spa_gpgq_ran(&q, j, t + i + 1000);
		spa_gpgq_release(&q, j);
	}
	spa_gpgq_free(&q);
}

/* A granted GnuPG decision as the packet process packs it. */
static void granted_record(struct ctx *x, uint8_t salt, struct spa_ps_decision *rec)
{
	char w[SPA_WIRE_CAP];
	size_t len = gpg_wire(salt, false, w);
	struct spa_gpg_outcome out;
	struct spa_decision d;
	struct spa_pkt p;

	run(x, w, len, &p, &d);
	good_outcome(&out, FPR_A, (char)('a' + salt % 26));
	resume(x, &p, &out, &d);
	want(&d, SPA_GRANT, NULL);
	spa_privsep_pack_decision(&x->c, &p, &d, 0, rec);
}

static int judge(struct ctx *x, const struct spa_ps_decision *m, struct spa_decision *d)
{
	struct spa_hostaddrs host;
	struct spa_pkt pkt;
	char why[128] = "";
	int rc = spa_privsep_decode(m, sizeof(*m), why, sizeof(why));

	memset(&host, 0, sizeof(host));
	if (rc < 0)
		return rc;
	return spa_privsep_recheck(&x->c, &host, m, &pkt, d);
}

static void test_monitor_recheck(void **state)
{
	struct ctx *x = *state;
	struct spa_ps_decision good, m;
	struct spa_decision d;

	granted_record(x, 40, &good);
	assert_int_equal(good.gpg, 1);
	assert_int_equal(good.msg_spent, 1);
	assert_int_equal(judge(x, &good, &d), 0);
	want(&d, SPA_GRANT, NULL);
	assert_true(d.gpg && d.msg_spent && d.spent);

	/* a signer the stanza does not list, an unsigned grant, a bad
	 * signature: the monitor's own rules refuse them */
	m = good;
	snprintf(m.gpg_fpr, sizeof(m.gpg_fpr), FPR_B);
	snprintf(m.gpg_key_id, sizeof(m.gpg_key_id), "%s", &FPR_B[24]);
	assert_int_equal(judge(x, &m, &d), 0);
	want(&d, SPA_REJECT, "not in GPG_FINGERPRINT_ID");
	m = good;
	m.gpg_sig = SPA_GPG_SIG_NONE;
	assert_int_equal(judge(x, &m, &d), 0);
	want(&d, SPA_REJECT, "not signed");
	m = good;
	m.gpg_sig = SPA_GPG_SIG_BAD;
	assert_int_equal(judge(x, &m, &d), 0);
	want(&d, SPA_REJECT, "refused by the monitor");
	/* a Rijndael grant for a GnuPG-only stanza */
	m = good;
	m.gpg = 0;
	m.msg_spent = 0;
	assert_int_equal(judge(x, &m, &d), 0);
	want(&d, SPA_REJECT, "no Rijndael key");
	/* a GnuPG grant for the Rijndael-only stanza */
	m = good;
	m.stanza = 2;
	assert_int_equal(judge(x, &m, &d), 0);
	want(&d, SPA_REJECT, "no GnuPG key");

	/* malformed GnuPG fields never reach the policy */
	m = good;
	m.gpg_fpr[3] = 'a';
	assert_int_equal(judge(x, &m, &d), -EBADMSG);
	m = good;
	m.gpg_fpr[20] = '\0';
	assert_int_equal(judge(x, &m, &d), -EBADMSG);
	m = good;
	m.gpg_key_id[0] = '0';
	assert_int_equal(judge(x, &m, &d), -EBADMSG);
	m = good;
	memset(m.gpg_fpr, 'A', sizeof(m.gpg_fpr));
	assert_int_equal(judge(x, &m, &d), -EBADMSG);
	m = good;
	m.gpg_sig = 6;
	assert_int_equal(judge(x, &m, &d), -EBADMSG);
	m = good;
	m.gpg_validity = -1;
	assert_int_equal(judge(x, &m, &d), -EBADMSG);
	m = good;
	m.msg_digest[5] = '*';
	assert_int_equal(judge(x, &m, &d), -EBADMSG);
	m = good;
	m.gpg = 0;
	assert_int_equal(judge(x, &m, &d), -EBADMSG);   /* msg_spent without gpg */
	m = good;
	m.gpg = 2;
	assert_int_equal(judge(x, &m, &d), -EBADMSG);
	m = good;
	m.h.magic = 0x53505331u;   /* the layout before GnuPG */
	assert_int_equal(judge(x, &m, &d), -EBADMSG);
}

/* The helper's records, both directions. */
static void test_helper_records(void **state)
{
	struct ctx *x = *state;
	struct spa_gpgd_req q, bq;
	struct spa_gpgd_rep rep, b;
	struct spa_gpg_outcome out;
	struct spa_message m;
	struct spa_gpg_result r;
	char w[SPA_WIRE_CAP], why[128];
	size_t len = gpg_wire(50, false, w);

	assert_true(spa_gpgd_pack_req(7, x->c.generation, 0, w, len, &q));
	assert_int_equal(spa_gpgd_check_req(&x->c, &q, sizeof(q), why, sizeof(why)), 0);
	assert_false(spa_gpgd_pack_req(7, x->c.generation, 0, w, SPA_MAX_WIRE_LEN, &bq));
	assert_int_equal(spa_gpgd_check_req(&x->c, &q, sizeof(q) - 1, why, sizeof(why)), -EBADMSG);
	bq = q;
	bq.stanza = 2;   /* Rijndael only */
	assert_int_equal(spa_gpgd_check_req(&x->c, &bq, sizeof(bq), why, sizeof(why)), -EBADMSG);
	bq = q;
	bq.stanza = 3;
	assert_int_equal(spa_gpgd_check_req(&x->c, &bq, sizeof(bq), why, sizeof(why)), -EBADMSG);
	bq = q;
	bq.generation++;
	assert_int_equal(spa_gpgd_check_req(&x->c, &bq, sizeof(bq), why, sizeof(why)), -EBADMSG);
	bq = q;
	bq.len = SPA_MAX_WIRE_LEN;
	assert_int_equal(spa_gpgd_check_req(&x->c, &bq, sizeof(bq), why, sizeof(why)), -EBADMSG);
	bq = q;
	bq.type = SPA_GPGD_REP;
	assert_int_equal(spa_gpgd_check_req(&x->c, &bq, sizeof(bq), why, sizeof(why)), -EBADMSG);

	good_outcome(&out, FPR_A, 'R');
	spa_gpgd_pack_rep(&q, 0, &out.msg, &out.res, &rep);
	assert_int_equal(spa_gpgd_check_rep(&rep, sizeof(rep), &m, &r, why, sizeof(why)), 0);
	assert_string_equal(m.username, "alice");
	assert_string_equal(m.message, "198.51.100.7,tcp/22");
	assert_string_equal(r.fingerprint, FPR_A);
	assert_string_equal(r.short_id, &FPR_A[32]);
	assert_string_equal(r.msg_digest, out.res.msg_digest);
	/* a failure carries nothing else */
	spa_gpgd_pack_rep(&q, -SPA_E_GPG_NOSECKEY, NULL, NULL, &b);
	assert_int_equal(spa_gpgd_check_rep(&b, sizeof(b), &m, &r, why, sizeof(why)), 0);
	/* and what a broken helper could send */
	assert_int_equal(spa_gpgd_check_rep(&rep, sizeof(rep) + 1, &m, &r, why, sizeof(why)),
			 -EBADMSG);
	b = rep;
	b.rc = 1;
	assert_int_equal(spa_gpgd_check_rep(&b, sizeof(b), &m, &r, why, sizeof(why)), -EBADMSG);
	b = rep;
	b.rc = -SPA_E__COUNT;
	assert_int_equal(spa_gpgd_check_rep(&b, sizeof(b), &m, &r, why, sizeof(why)), -EBADMSG);
	b = rep;
	memset(b.msg.username, 'a', sizeof(b.msg.username));
	assert_int_equal(spa_gpgd_check_rep(&b, sizeof(b), &m, &r, why, sizeof(why)), -EBADMSG);
	b = rep;
	b.msg.message[3] = '\n';
	assert_int_equal(spa_gpgd_check_rep(&b, sizeof(b), &m, &r, why, sizeof(why)), -EBADMSG);
	b = rep;
	b.key_id[15] = 'x';
	assert_int_equal(spa_gpgd_check_rep(&b, sizeof(b), &m, &r, why, sizeof(why)), -EBADMSG);
	b = rep;
	b.msg_digest[0] = '\0';
	assert_int_equal(spa_gpgd_check_rep(&b, sizeof(b), &m, &r, why, sizeof(why)), -EBADMSG);
	b = rep;
	b.sig = 9;
	assert_int_equal(spa_gpgd_check_rep(&b, sizeof(b), &m, &r, why, sizeof(why)), -EBADMSG);
	b = rep;
	b.magic++;
	assert_int_equal(spa_gpgd_check_rep(&b, sizeof(b), &m, &r, why, sizeof(why)), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unvouched_grant_and_replays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signature_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stanza_order_and_hmac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_classes, setup, teardown),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_busy_share),
		cmocka_unit_test_setup_teardown(test_monitor_recheck, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_records, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
