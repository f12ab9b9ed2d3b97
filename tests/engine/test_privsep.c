/* SPDX-License-Identifier: MIT */
/*
 * test_privsep.c - the monitor's side of privilege separation
 * (engine/spa_privsep.h): records a compromised packet process could send
 * straight to the monitor. A record the policy does not allow is refused
 * however well-formed; a malformed one is refused before it is read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine_helpers.h"
#include "spa_config.h"
#include "spa_privsep.h"

#define NOW 1800000000LL

struct ctx {
	char dir[64];
	struct spa_config c;
	struct spa_replay *r;
	struct spa_keys *k;
	struct spa_hostaddrs host;
	struct spa_ps_decision good;   /* what the real pipeline sent for a knock */
};

static int setup(void **state)
{
	struct ctx *x = calloc(1, sizeof(*x));
	struct spa_key_spec ks = { .enc_key = (const uint8_t *)"key-one", .enc_key_len = 7,
				   .hmac_key = (const uint8_t *)"hmac-one", .hmac_key_len = 8 };
	char err[SPA_CONF_ERR_LEN], path[4096], w[SPA_WIRE_CAP];
	struct spa_pipeline_opts o = { 0 };
	struct spa_message m;
	struct spa_decision d;
	struct spa_pkt p;
	size_t len;

	th_tmpdir(x->dir, sizeof(x->dir));
	th_write(x->dir, "access.conf",
		 /* 1: alice, tcp/22 only, from 198.51.100.0/24 */
		 "SOURCE 198.51.100.0/24\nKEY key-one\nHMAC_KEY hmac-one\nOPEN_PORTS tcp/22\n"
		 "REQUIRE_USERNAME alice\nMAX_FW_TIMEOUT 100\n"
		 /* 7: another source, other port */
		 "SOURCE 203.0.113.0/24\nKEY key-two\nHMAC_KEY hmac-two\nOPEN_PORTS tcp/443\n",
		 path, sizeof(path));
	spa_config_init(&x->c);
	if (spa_config_load_access(&x->c, path, false, err, sizeof(err)) < 0 ||
	    spa_config_finish(&x->c, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (spa_replay_open(NULL, NOW, 0, &x->r) < 0 || spa_keys_new(&ks, &x->k) < 0)
		return -1;
	/* a real knock through the real pipeline: the record it packs is the
	 * baseline every case below tampers with */
	assert_int_equal(spa_message_init(&m), 0);
	snprintf(m.username, sizeof(m.username), "alice");
	m.timestamp = (uint64_t)NOW;
	snprintf(m.message, sizeof(m.message), "198.51.100.7,tcp/22");
	m.client_timeout = 30;
	assert_int_equal(spa_packet_build(&m, x->k, NULL, w, sizeof(w), &len), 0);
	memset(&p, 0, sizeof(p));
	p.data = w;
	p.len = len;
	p.family = AF_INET;
	inet_pton(AF_INET, "198.51.100.7", p.src_bin);
	snprintf(p.src, sizeof(p.src), "198.51.100.7");
	p.sport = 40000;
	p.dport = 62201;
	p.proto = 17;
	p.now = NOW;
	spa_pipeline_run(&x->c, x->r, &p, &o, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	assert_true(d.spent);
	spa_privsep_pack_decision(&x->c, &p, &d, 0, &x->good);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *x = *state;

	spa_config_free(&x->c);
	spa_replay_close(x->r);
	spa_keys_free(x->k);
	th_rmrf(x->dir);
	free(x);
	return 0;
}

/* decode, then (if it decoded as a decision) the monitor's re-check */
static int judge(struct ctx *x, const struct spa_ps_decision *m, struct spa_decision *d)
{
	struct spa_pkt pkt;
	char why[128] = "";
	int rc = spa_privsep_decode(m, sizeof(*m), why, sizeof(why));

	if (rc < 0)
		return rc;
	assert_int_equal(rc, SPA_PS_DECISION);
	return spa_privsep_recheck(&x->c, &x->host, m, &pkt, d);
}

static void assert_refused(struct ctx *x, const struct spa_ps_decision *m, const char *why)
{
	struct spa_decision d;

	assert_int_equal(judge(x, m, &d), 0);
	if (d.verdict != SPA_REJECT || strncmp(d.reason, "refused by the monitor", 22) != 0 ||
	    !strstr(d.reason, why))
		fail_msg("want refused (%s), got verdict %d: %s", why, d.verdict, d.reason);
}

static void test_good_record_grants(void **state)
{
	struct ctx *x = *state;
	struct spa_decision d;

	assert_int_equal(judge(x, &x->good, &d), 0);
	assert_int_equal(d.verdict, SPA_GRANT);
	assert_string_equal(d.stanza->label, "access.conf:1");
	assert_string_equal(d.allow, "198.51.100.7");
	assert_int_equal(d.n_ports, 1);
	assert_int_equal(d.ports[0].port, 22);
	assert_int_equal(d.timeout, 30);
	assert_true(d.spent);
	assert_int_equal(strlen(d.digest), 43);
}

/* Well-formed records for what the stanza does not allow. */
static void test_policy_refusals(void **state)
{
	struct ctx *x = *state;
	struct spa_ps_decision m;
	struct spa_decision d;

	m = x->good;
	snprintf(m.msg.message, sizeof(m.msg.message), "198.51.100.7,tcp/80");
	assert_refused(x, &m, "not in OPEN_PORTS");

	m = x->good;
	snprintf(m.msg.username, sizeof(m.msg.username), "mallory");
	assert_refused(x, &m, "username 'mallory' not allowed");

	/* the other stanza: its SOURCE is not this packet's */
	m = x->good;
	m.stanza = 1;
	assert_refused(x, &m, "not in the stanza's SOURCE");

	/* this stanza, a source outside it */
	m = x->good;
	inet_pton(AF_INET, "192.0.2.1", m.src_bin);
	assert_refused(x, &m, "not in the stanza's SOURCE");

	/* opening the port to this host itself */
	m = x->good;
	snprintf(m.msg.message, sizeof(m.msg.message), "127.0.0.1,tcp/22");
	assert_refused(x, &m, "loopback");

	m = x->good;
	m.msg.timestamp = (uint64_t)(NOW - 100000);
	assert_refused(x, &m, "packet age");
	/* the ends of the ranges: refused, without overflowing the age (the
	 * privsep fuzzer found that one; UBSan builds check it here) */
	m = x->good;
	m.msg.timestamp = UINT64_MAX;
	assert_refused(x, &m, "packet age");
	m = x->good;
	m.msg.timestamp = (uint64_t)INT64_MAX;
	m.now = INT64_MIN;
	assert_refused(x, &m, "packet age");

	/* the timeout is the monitor's to compute: MAX_FW_TIMEOUT caps it */
	m = x->good;
	m.msg.client_timeout = 86400;
	assert_int_equal(judge(x, &m, &d), 0);
	assert_int_equal(d.verdict, SPA_GRANT);
	assert_int_equal(d.timeout, 100);

	/* a stanza index past the end, a record from another configuration */
	m = x->good;
	m.stanza = 2;
	assert_int_equal(judge(x, &m, &d), -EBADMSG);
	m = x->good;
	m.h.generation++;
	assert_int_equal(judge(x, &m, &d), -ESTALE);
}

/* Records that break the format never reach the policy. */
static void test_malformed_records(void **state)
{
	struct ctx *x = *state;
	struct spa_ps_decision m;
	struct spa_ps_log lg;
	struct spa_decision d;
	char why[128], buf[sizeof(m) + 8];

#define BAD(stmt)                                                              \
	do {                                                                   \
		m = x->good;                                                   \
		stmt;                                                          \
		assert_int_equal(judge(x, &m, &d), -EBADMSG);                  \
	} while (0)
	BAD(m.h.magic ^= 1);
	BAD(m.h.type = 99);
	BAD(m.family = 99);
	BAD(m.proto = 2);
	BAD(m.verdict = 7);
	BAD(m.authenticated = 0);                      /* a grant nobody authenticated */
	BAD(m.stanza = -1);                            /* a grant without a stanza */
	BAD(m.spent = 2);
	BAD(memset(m.msg.username, 'a', sizeof(m.msg.username)));   /* unterminated */
	BAD(snprintf(m.msg.username, sizeof(m.msg.username), "al:ice"));
	BAD(snprintf(m.reason, sizeof(m.reason), "line\nbreak"));
	BAD(snprintf(m.msg.message, sizeof(m.msg.message), "198.51.100.7,tcp/22;rm -rf /"));
	BAD(m.digest[10] = '\0');
	BAD(m.digest[10] = '*');
	BAD(m.n_ports = SPA_MAX_PORTS + 1);
	BAD(m.ports[0].proto = 1; m.n_ports = 1);
#undef BAD
	/* sizes: short, long, a bare header of a decision */
	assert_int_equal(spa_privsep_decode(&x->good, sizeof(x->good) - 1, why, sizeof(why)),
			 -EBADMSG);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &x->good, sizeof(x->good));
	assert_int_equal(spa_privsep_decode(buf, sizeof(buf), why, sizeof(why)), -EBADMSG);
	assert_int_equal(spa_privsep_decode(&x->good, sizeof(struct spa_ps_header), why,
					    sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "bytes"));

	/* log lines: one line of printable text, a syslog level */
	memset(&lg, 0, sizeof(lg));
	lg.h.magic = SPA_PS_MAGIC;
	lg.h.type = SPA_PS_LOG;
	lg.level = 4;
	snprintf(lg.text, sizeof(lg.text), "capture on eth0 failed");
	assert_int_equal(spa_privsep_decode(&lg, sizeof(lg), why, sizeof(why)), SPA_PS_LOG);
	lg.level = 8;
	assert_int_equal(spa_privsep_decode(&lg, sizeof(lg), why, sizeof(why)), -EBADMSG);
	lg.level = 4;
	lg.text[3] = '\033';
	assert_int_equal(spa_privsep_decode(&lg, sizeof(lg), why, sizeof(why)), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_record_grants),
		cmocka_unit_test(test_policy_refusals),
		cmocka_unit_test(test_malformed_records),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
