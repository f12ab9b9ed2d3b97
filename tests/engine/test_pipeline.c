/* SPDX-License-Identifier: MIT */
/* test_pipeline.c - the validation pipeline, without sockets or plugins. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "engine_helpers.h"
#include "spa_config.h"
#include "spa_log.h"
#include "spa_pipeline.h"

#define NOW 1800000000LL

struct ctx {
	char dir[64];
	struct spa_config c;
	struct spa_replay *r;
	struct spa_keys *k1, *k2, *k3, *k4;
};

static struct spa_keys *keys(const char *key, const char *hmac)
{
	struct spa_key_spec s = { .enc_key = (const uint8_t *)key, .enc_key_len = strlen(key),
				  .hmac_key = (const uint8_t *)hmac,
				  .hmac_key_len = strlen(hmac) };
	struct spa_keys *k = NULL;

	assert_int_equal(spa_keys_new(&s, &k), 0);
	return k;
}

static int setup(void **state)
{
	struct ctx *x = calloc(1, sizeof(*x));
	char err[SPA_CONF_ERR_LEN], path[4096];

	th_tmpdir(x->dir, sizeof(x->dir));
	th_write(x->dir, "access.conf",
		 /* 1: expired stanza with the same keys as 3 */
		 "SOURCE ANY\nKEY key-one\nHMAC_KEY hmac-one\nACCESS_EXPIRE_EPOCH 1700000000\n"
		 /* 5: other keys, only for 198.51.100.0/24 */
		 "SOURCE 198.51.100.0/24\nKEY key-two\nHMAC_KEY hmac-two\nREQUIRE_SOURCE_ADDRESS Y\n"
		 "FW_ACCESS_TIMEOUT 90\n"
		 /* 10: catch-all with key one */
		 "SOURCE 198.51.100.0/24, 2001:db8::/32\nKEY key-one\nHMAC_KEY hmac-one\n"
		 "DESTINATION 203.0.113.0/24, 2001:db8::/32\nMAX_FW_TIMEOUT 100\n"
		 /* 15: the allow IP must be the source */
		 "SOURCE 127.0.0.0/8, 192.0.2.128/26\nKEY key-three\nHMAC_KEY hmac-three\n"
		 "REQUIRE_ALLOW_IP_IS_SOURCE Y\n"
		 /* 19: three knocks a minute */
		 "SOURCE 192.0.2.192/26\nKEY key-four\nHMAC_KEY hmac-four\n"
		 "MAX_KNOCKS_PER_MINUTE 3\n",
		 path, sizeof(path));
	spa_config_init(&x->c);
	if (spa_config_load_access(&x->c, path, false, err, sizeof(err)) < 0 ||
	    spa_config_finish(&x->c, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (spa_replay_open(NULL, NOW, 0, &x->r) < 0)
		return -1;
	x->k1 = keys("key-one", "hmac-one");
	x->k2 = keys("key-two", "hmac-two");
	x->k3 = keys("key-three", "hmac-three");
	x->k4 = keys("key-four", "hmac-four");
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *x = *state;

	spa_config_free(&x->c);
	spa_replay_close(x->r);
	spa_keys_free(x->k1);
	spa_keys_free(x->k2);
	spa_keys_free(x->k3);
	spa_keys_free(x->k4);
	th_rmrf(x->dir);
	free(x);
	return 0;
}

static size_t build(const struct spa_keys *k, const char *msg, int64_t ts, uint32_t to, char *out)
{
	struct spa_message m;
	size_t len;

	assert_int_equal(spa_message_init(&m), 0);
	snprintf(m.username, sizeof(m.username), "alice");
	m.timestamp = (uint64_t)ts;
	snprintf(m.message, sizeof(m.message), "%s", msg);
	m.client_timeout = to;
	assert_int_equal(spa_packet_build(&m, k, NULL, out, SPA_WIRE_CAP, &len), 0);
	return len;
}

static void mkpkt(struct spa_pkt *p, const char *data, size_t len, const char *src,
		  const char *dst)
{
	memset(p, 0, sizeof(*p));
	p->data = data;
	p->len = len;
	p->family = strchr(src, ':') ? AF_INET6 : AF_INET;
	inet_pton(p->family, src, p->src_bin);
	snprintf(p->src, sizeof(p->src), "%s", src);
	inet_pton(p->family, dst, p->dst_bin);
	snprintf(p->dst, sizeof(p->dst), "%s", dst);
	p->proto = 17;
	p->now = NOW;
}

static void test_stanza_order_and_policy(void **state)
{
	struct ctx *x = *state;
	struct spa_pipeline_opts o = { 0 };
	struct spa_decision d;
	struct spa_pkt p;
	char w[SPA_WIRE_CAP];
	size_t len;

	/* key one from inside the /24: stanza 1 expired, 2 wrong key, 3 grants */
	len = build(x->k1, "198.51.100.7,tcp/22", NOW, 500, w);
	mkpkt(&p, w, len, "198.51.100.7", "203.0.113.1");
	spa_pipeline_run(&x->c, x->r, &p, &o, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	assert_string_equal(d.stanza->label, "access.conf:10");
	assert_int_equal(d.timeout, 100);           /* capped by MAX_FW_TIMEOUT */
	assert_string_equal(d.allow, "198.51.100.7");
	assert_int_equal(d.n_ports, 1);
	assert_int_equal(d.ports[0].port, 22);

	/* DESTINATION outside 203.0.113.0/24: stanza 3 is not a candidate */
	len = build(x->k1, "198.51.100.7,tcp/22", NOW, 0, w);
	mkpkt(&p, w, len, "198.51.100.7", "192.0.2.1");
	spa_pipeline_run(&x->c, x->r, &p, &o, &d);
	assert_int_equal(d.verdict, SPA_REJECT);
	assert_non_null(strstr(d.reason, "HMAC"));    /* last tried: stanza 2 */

	/* only the expired stanza matches this source */
	len = build(x->k1, "192.0.2.9,tcp/22", NOW, 0, w);
	mkpkt(&p, w, len, "192.0.2.9", "203.0.113.1");
	spa_pipeline_run(&x->c, x->r, &p, &o, &d);
	assert_int_equal(d.verdict, SPA_REJECT);
	assert_string_equal(d.reason, "stanza expired");

	/* key two, 0.0.0.0 allow IP: stanza 2 requires a source address */
	len = build(x->k2, "0.0.0.0,tcp/22", NOW, 0, w);
	mkpkt(&p, w, len, "198.51.100.8", "203.0.113.1");
	spa_pipeline_run(&x->c, x->r, &p, &o, &d);
	assert_int_equal(d.verdict, SPA_REJECT);
	assert_string_equal(d.stanza->label, "access.conf:5");
	assert_non_null(strstr(d.reason, "REQUIRE_SOURCE_ADDRESS"));

	/* key two with an address: default timeout of stanza 2 */
	len = build(x->k2, "198.51.100.8,udp/53,tcp/443", NOW + 100, 0, w);
	mkpkt(&p, w, len, "198.51.100.8", "203.0.113.1");
	spa_pipeline_run(&x->c, x->r, &p, &o, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	assert_int_equal(d.timeout, 90);
	assert_int_equal(d.n_ports, 2);

	/* IPv6 source with 0.0.0.0: the grant is for the v6 packet source */
	len = build(x->k1, "0.0.0.0,tcp/22", NOW, 0, w);
	mkpkt(&p, w, len, "2001:db8::77", "2001:db8::1");
	spa_pipeline_run(&x->c, x->r, &p, &o, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	assert_int_equal(d.allow_family, AF_INET6);
	assert_string_equal(d.allow, "2001:db8::77");
}

static void test_replay_and_test_mode(void **state)
{
	struct ctx *x = *state;
	struct spa_pipeline_opts test = { .test_mode = true }, real = { 0 };
	struct spa_decision d;
	struct spa_pkt p;
	char w[SPA_WIRE_CAP];
	size_t len = build(x->k1, "198.51.100.9,tcp/22", NOW, 0, w);
	size_t before = spa_replay_count(x->r);

	mkpkt(&p, w, len, "198.51.100.9", "203.0.113.1");
	spa_pipeline_run(&x->c, x->r, &p, &test, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	assert_int_equal(spa_replay_count(x->r), before);   /* -t records nothing */
	spa_pipeline_run(&x->c, x->r, &p, &real, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	spa_pipeline_run(&x->c, x->r, &p, &real, &d);
	assert_int_equal(d.verdict, SPA_REJECT);
	assert_non_null(strstr(d.reason, "replay"));

	/* an authenticated but stale packet still spends its digest */
	len = build(x->k1, "198.51.100.9,tcp/22", NOW - 500, 0, w);
	mkpkt(&p, w, len, "198.51.100.9", "203.0.113.1");
	spa_pipeline_run(&x->c, x->r, &p, &real, &d);
	assert_non_null(strstr(d.reason, "packet age"));
	x->c.packet_aging = false;
	spa_pipeline_run(&x->c, x->r, &p, &real, &d);
	x->c.packet_aging = true;
	assert_non_null(strstr(d.reason, "replay"));

	/* ENABLE_DIGEST_PERSISTENCE N keeps the cache in memory, still checked */
	x->c.digest_persistence = false;
	len = build(x->k1, "198.51.100.9,tcp/22", NOW, 0, w);
	mkpkt(&p, w, len, "198.51.100.9", "203.0.113.1");
	spa_pipeline_run(&x->c, x->r, &p, &real, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	spa_pipeline_run(&x->c, x->r, &p, &real, &d);
	x->c.digest_persistence = true;
	assert_int_equal(d.verdict, SPA_REJECT);
	assert_non_null(strstr(d.reason, "replay"));
	assert_true(d.replayed);
}

/* One packet of key k asking for `msg` from src at time `at`. */
static void knock(struct ctx *x, const struct spa_keys *k, const char *msg, const char *src,
		  int64_t at, struct spa_hostaddrs *host, struct spa_decision *d)
{
	struct spa_pipeline_opts o = { .host = host };
	char w[SPA_WIRE_CAP];
	size_t len = build(k, msg, at, 0, w);
	struct spa_pkt p;

	mkpkt(&p, w, len, src, strchr(src, ':') ? "2001:db8::1" : "203.0.113.1");
	p.now = at;
	spa_pipeline_run(&x->c, x->r, &p, &o, d);
}

static void add_host(struct spa_hostaddrs *h, bool bcast, const char *ip)
{
	uint8_t bin[16] = { 0 };
	int family = strchr(ip, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, ip, bin), 1);
	assert_int_equal(spa_hostaddrs_add(h, bcast, family, bin), 0);
}

/* The allow IP is never one that is not a single remote host. */
static void test_allow_ip_classes(void **state)
{
	struct ctx *x = *state;
	static struct spa_hostaddrs host;
	struct spa_decision d;
	static const struct { const char *msg, *why; } refused[] = {
		{ "127.0.0.1,tcp/22", "allow IP 127.0.0.1 is loopback and not the packet's source" },
		{ "127.9.9.9,tcp/22", "loopback" },
		{ "224.0.0.1,tcp/22", "allow IP 224.0.0.1 is multicast" },
		{ "239.255.255.250,tcp/22", "multicast" },
		{ "255.255.255.255,tcp/22", "allow IP 255.255.255.255 is broadcast" },
		{ "0.1.2.3,tcp/22", "unspecified" },
		{ "198.51.100.255,tcp/22", "a broadcast address of this host" },
		{ "198.51.100.50,tcp/22", "allow IP 198.51.100.50 is an address of this host and "
					  "not the packet's source" },
	};

	memset(&host, 0, sizeof(host));
	add_host(&host, false, "198.51.100.50");
	add_host(&host, false, "2001:db8::50");
	add_host(&host, true, "198.51.100.255");
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		knock(x, x->k1, refused[i].msg, "198.51.100.7", NOW, &host, &d);
		assert_int_equal(d.verdict, SPA_REJECT);
		assert_true(d.authenticated);
		assert_non_null(strstr(d.reason, refused[i].why));
	}
	/* another remote address is still fine: fwknop's default */
	knock(x, x->k1, "198.51.100.9,tcp/22", "198.51.100.7", NOW, &host, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	/* the host's own address asking for itself, explicitly or by 0.0.0.0 */
	knock(x, x->k1, "198.51.100.50,tcp/22", "198.51.100.50", NOW, &host, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	knock(x, x->k1, "0.0.0.0,tcp/22", "2001:db8::50", NOW, &host, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	assert_string_equal(d.allow, "2001:db8::50");
	/* ...but a broadcast or unspecified source gets nothing by 0.0.0.0 */
	knock(x, x->k1, "0.0.0.0,tcp/22", "198.51.100.255", NOW, &host, &d);
	assert_int_equal(d.verdict, SPA_REJECT);
	assert_non_null(strstr(d.reason, "broadcast address of this host"));
	knock(x, x->k1, "0.0.0.0,tcp/22", "::", NOW, &host, &d);
	assert_int_equal(d.verdict, SPA_REJECT);
	/* ("::" is in no SOURCE list: refused before any key is tried) */

	/* a packet from loopback asking for itself: the local client case */
	knock(x, x->k3, "127.0.0.1,tcp/22", "127.0.0.1", NOW, &host, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	knock(x, x->k3, "0.0.0.0,tcp/22", "127.0.0.1", NOW, &host, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	assert_string_equal(d.allow, "127.0.0.1");
	knock(x, x->k3, "127.0.0.2,tcp/22", "127.0.0.1", NOW, &host, &d);
	assert_int_equal(d.verdict, SPA_REJECT);
	assert_non_null(strstr(d.reason, "loopback"));
	/* REQUIRE_ALLOW_IP_IS_SOURCE: only the sender's own address */
	knock(x, x->k3, "198.51.100.9,tcp/22", "192.0.2.130", NOW, &host, &d);
	assert_int_equal(d.verdict, SPA_REJECT);
	assert_string_equal(d.stanza->label, "access.conf:15");
	assert_string_equal(d.reason, "allow IP 198.51.100.9 is not the packet's source but "
			    "REQUIRE_ALLOW_IP_IS_SOURCE is set");
	knock(x, x->k3, "192.0.2.130,tcp/22", "192.0.2.130", NOW, &host, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	knock(x, x->k3, "0.0.0.0,tcp/22", "192.0.2.131", NOW, &host, &d);
	assert_int_equal(d.verdict, SPA_GRANT);

	/* without a host table, address classes are still refused */
	knock(x, x->k1, "224.0.0.5,tcp/22", "198.51.100.7", NOW, NULL, &d);
	assert_non_null(strstr(d.reason, "multicast"));
}

/* The real interfaces: loopback is always one of the host's addresses. */
static void test_host_addresses(void **state)
{
	static struct spa_hostaddrs h;
	uint8_t lo[16] = { 127, 0, 0, 1 }, other[16] = { 198, 51, 100, 99 };
	(void)state;

	assert_int_equal(spa_hostaddrs_refresh(&h, NOW, 1), 0);
	assert_true(spa_hostaddrs_is_own(&h, AF_INET, lo));
	assert_false(spa_hostaddrs_is_own(&h, AF_INET, other));
	/* cached: a second call within the TTL and generation reads nothing */
	h.n_own = 0;
	assert_int_equal(spa_hostaddrs_refresh(&h, NOW + 1, 1), 0);
	assert_false(spa_hostaddrs_is_own(&h, AF_INET, lo));
	/* a new configuration (a reload) or an old table: read again */
	assert_int_equal(spa_hostaddrs_refresh(&h, NOW + 1, 2), 0);
	assert_true(spa_hostaddrs_is_own(&h, AF_INET, lo));
	h.n_own = 0;
	assert_int_equal(spa_hostaddrs_refresh(&h, NOW + 1 + SPA_HOSTADDR_TTL, 2), 0);
	assert_true(spa_hostaddrs_is_own(&h, AF_INET, lo));
}

/* MAX_KNOCKS_PER_MINUTE 3: a bucket of three, one more every 20 s. */
static void test_knock_rate(void **state)
{
	struct ctx *x = *state;
	struct spa_pipeline_opts o = { 0 };
	struct spa_decision d;
	struct spa_pkt p;
	char w[SPA_WIRE_CAP];
	size_t len;

	/* replays of a spent packet cost no token: an eavesdropper cannot
	 * drain the budget of the key holder */
	len = build(x->k4, "192.0.2.200,tcp/22", NOW, 0, w);
	mkpkt(&p, w, len, "192.0.2.200", "203.0.113.1");
	spa_pipeline_run(&x->c, x->r, &p, &o, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	for (int i = 0; i < 10; i++) {
		spa_pipeline_run(&x->c, x->r, &p, &o, &d);
		assert_true(d.replayed);
		assert_false(d.rate_limited);
	}
	/* a refused knock (wrong allow IP class) still counts */
	knock(x, x->k4, "224.0.0.1,tcp/22", "192.0.2.200", NOW, NULL, &d);
	assert_int_equal(d.verdict, SPA_REJECT);
	assert_false(d.rate_limited);
	knock(x, x->k4, "192.0.2.200,tcp/22", "192.0.2.200", NOW, NULL, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	knock(x, x->k4, "192.0.2.200,tcp/22", "192.0.2.200", NOW + 19, NULL, &d);
	assert_int_equal(d.verdict, SPA_REJECT);
	assert_true(d.rate_limited);
	assert_string_equal(d.stanza->label, "access.conf:19");
	assert_string_equal(d.reason, "stanza access.conf:19: MAX_KNOCKS_PER_MINUTE 3 reached; "
			    "knock refused");
	/* 20 s after the first knock one token is back, and only one */
	knock(x, x->k4, "192.0.2.200,tcp/22", "192.0.2.200", NOW + 20, NULL, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	knock(x, x->k4, "192.0.2.200,tcp/22", "192.0.2.200", NOW + 20, NULL, &d);
	assert_true(d.rate_limited);
	/* a minute of silence fills the bucket, never past three */
	for (int i = 0; i < 3; i++) {
		knock(x, x->k4, "192.0.2.200,tcp/22", "192.0.2.200", NOW + 600, NULL, &d);
		assert_int_equal(d.verdict, SPA_GRANT);
	}
	knock(x, x->k4, "192.0.2.200,tcp/22", "192.0.2.200", NOW + 600, NULL, &d);
	assert_true(d.rate_limited);
	/* other stanzas have no limit */
	for (int i = 0; i < 5; i++) {
		knock(x, x->k3, "192.0.2.130,tcp/22", "192.0.2.130", NOW + 600, NULL, &d);
		assert_int_equal(d.verdict, SPA_GRANT);
	}
}

/* Random and mutated input must never crash, leak or grant. */
static void test_garbage(void **state)
{
	struct ctx *x = *state;
	struct spa_pipeline_opts o = { .test_mode = true };
	struct spa_decision d;
	struct spa_pkt p;
	char w[SPA_WIRE_CAP], buf[2048];
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
	size_t len = build(x->k1, "198.51.100.9,tcp/22", NOW, 0, w);
	unsigned seed = 12345;

	for (int i = 0; i < 3000; i++) {
		size_t n = (size_t)(rand_r(&seed) % 1600);
		if (i % 3 == 0) {
			/* valid alphabet, random content */
			for (size_t k = 0; k < n; k++)
				buf[k] = alphabet[rand_r(&seed) % 65];
		} else if (i % 3 == 1) {
			for (size_t k = 0; k < n; k++)
				buf[k] = (char)rand_r(&seed);
		} else {
			/* a real packet with a few bytes changed */
			memcpy(buf, w, len);
			n = len;
			for (int k = 0; k < 3; k++)
				buf[rand_r(&seed) % len] = alphabet[rand_r(&seed) % 65];
			if (memcmp(buf, w, len) == 0)
				continue;
		}
		mkpkt(&p, buf, n, "198.51.100.9", "203.0.113.1");
		spa_pipeline_run(&x->c, x->r, &p, &o, &d);
		assert_int_equal(d.verdict, SPA_REJECT);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stanza_order_and_policy),
		cmocka_unit_test(test_replay_and_test_mode),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_allow_ip_classes),
		cmocka_unit_test(test_host_addresses),
		cmocka_unit_test(test_knock_rate),
	};
	spa_log_setup("test", false, false, 0);
	return cmocka_run_group_tests(tests, setup, teardown);
}
