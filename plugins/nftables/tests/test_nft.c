/* SPDX-License-Identifier: MIT */
/* Script construction and listing of the nftables plugin, fake host. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_host.h"
#include "spa_nft.h"

extern const struct spa_plugin_descriptor spa_plugin_descriptor;
#define OPS (spa_plugin_descriptor.ops)

static const char decls[] =
	"add table inet spa\n"
	"add set inet spa allow4 { type ipv4_addr . inet_proto . inet_service; flags timeout; }\n"
	"add set inet spa allow4d { type ipv4_addr . ipv4_addr . inet_proto . inet_service; flags timeout; }\n"
	"add set inet spa allow6 { type ipv6_addr . inet_proto . inet_service; flags timeout; }\n"
	"add set inet spa allow6d { type ipv6_addr . ipv6_addr . inet_proto . inet_service; flags timeout; }\n";

static struct spa_grant make_grant(int af, const char *src, const char *dst, int proto,
				   int port, int64_t expires)
{
	return fake_host_grant(af, src, dst, proto, port, 0, expires,
			       "} ; flush ruleset");
}

struct ctx {
	struct fake_host h;
	void *state;
};

static int setup(void **tstate)
{
	struct ctx *c = calloc(1, sizeof(*c));

	fake_host_init(&c->h);
	fake_host_set(&c->h, "NFT_FLUSH_AT_EXIT", "N");
	fake_host_reply(&c->h, "/nft", "", 0);
	*tstate = c;
	return 0;
}

static int teardown(void **tstate)
{
	struct ctx *c = *tstate;

	if (c->state)
		OPS.fini(c->state);
	fake_host_free(&c->h);
	free(c);
	return 0;
}

static void test_descriptor(void **tstate)
{
	(void)tstate;
	assert_int_equal(spa_plugin_descriptor.magic, SPA_PLUGIN_MAGIC);
	assert_string_equal(spa_plugin_descriptor.name, "nftables");
	assert_string_equal(spa_plugin_descriptor.key_prefix, "NFT_");
	assert_true(spa_plugin_descriptor.capabilities & SPA_PLUGIN_CAP_NATIVE_TIMEOUT);
}

static void test_parse_ports(void **tstate)
{
	struct spa_nft_port p[4];
	unsigned int n;

	(void)tstate;
	assert_int_equal(spa_nft_parse_ports("tcp/22, udp/53,tcp/443", p, 4, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(p[0].proto, 6);
	assert_int_equal(p[0].port, 22);
	assert_int_equal(p[1].proto, 17);
	assert_int_equal(p[2].port, 443);
	assert_int_not_equal(spa_nft_parse_ports("tcp/0", p, 4, &n), 0);
	assert_int_not_equal(spa_nft_parse_ports("tcp/65536", p, 4, &n), 0);
	assert_int_not_equal(spa_nft_parse_ports("icmp/1", p, 4, &n), 0);
	assert_int_not_equal(spa_nft_parse_ports("tcp/22 }", p, 4, &n), 0);
	assert_int_not_equal(spa_nft_parse_ports("6/22", p, 4, &n), 0);
	assert_int_not_equal(spa_nft_parse_ports("tcp/1,tcp/2,tcp/3,tcp/4,tcp/5", p, 4, &n), 0);
	assert_true(spa_nft_valid_name("spa_v2"));
	assert_false(spa_nft_valid_name("spa;flush"));
	assert_false(spa_nft_valid_name("1spa"));
	assert_false(spa_nft_valid_name(""));
}

static void test_init_mark_mode(void **tstate)
{
	struct ctx *c = *tstate;
	char want[4096];

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(c->h.ncalls, 1);
	assert_true(fake_host_find(&c->h, "/usr/sbin/nft -f /tmp/spa-batch.") == 0);
	snprintf(want, sizeof(want), "%s%s", decls,
		 "add chain inet spa input { type filter hook input priority -10; policy accept; }\n"
		 "flush chain inet spa input\n"
		 "add rule inet spa input ip saddr . meta l4proto . th dport @allow4 meta mark set meta mark or 0x00005350 accept\n"
		 "add rule inet spa input ip saddr . ip daddr . meta l4proto . th dport @allow4d meta mark set meta mark or 0x00005350 accept\n"
		 "add rule inet spa input ip6 saddr . meta l4proto . th dport @allow6 meta mark set meta mark or 0x00005350 accept\n"
		 "add rule inet spa input ip6 saddr . ip6 daddr . meta l4proto . th dport @allow6d meta mark set meta mark or 0x00005350 accept\n");
	assert_string_equal(c->h.calls[0].file, want);
}

static void test_init_standalone(void **tstate)
{
	struct ctx *c = *tstate;
	const char *f;

	fake_host_set(&c->h, "NFT_PROTECT_PORTS", "tcp/22, udp/53");
	fake_host_set(&c->h, "NFT_MARK", "0");
	fake_host_set(&c->h, "NFT_TABLE", "gate");
	fake_host_set(&c->h, "NFT_PRIORITY", "-50");
	fake_host_set(&c->h, "NFT_FLUSH_AT_INIT", "Y");
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	f = c->h.calls[0].file;
	assert_non_null(strstr(f, "add chain inet gate input { type filter hook input priority -50; policy accept; }\n"));
	assert_non_null(strstr(f, "add rule inet gate input ip saddr . meta l4proto . th dport @allow4 accept\n"));
	assert_null(strstr(f, "mark"));
	assert_non_null(strstr(f, "add rule inet gate input ct state established,related accept\n"
				  "add rule inet gate input meta l4proto . th dport { tcp . 22, udp . 53 } drop\n"));
	assert_non_null(strstr(f, "flush set inet gate allow6d\n"));
}

static void test_bad_config(void **tstate)
{
	struct ctx *c = *tstate;

	fake_host_set(&c->h, "NFT_TABLE", "spa; flush ruleset");
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_null(c->state);
	assert_int_equal(c->h.ncalls, 0);
}

static void test_bad_priority(void **tstate)
{
	struct ctx *c = *tstate;

	fake_host_set(&c->h, "NFT_PRIORITY", "-10; flush ruleset");
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(c->h.ncalls, 0);
}

static void test_open_close(void **tstate)
{
	struct ctx *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 4000000000LL);
	struct spa_grant g6 = make_grant(AF_INET6, "2001:db8:1::2", "2001:db8:1::1", 17, 53,
					 4000000000LL);
	struct spa_pu_buf b;

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	spa_pu_buf_init(&b);
	assert_int_equal(spa_nft_batch_open(c->state, &g, 3999999970LL, &b), 0);
	assert_string_equal(b.data,
			    "add element inet spa allow4 { 198.51.100.2 . tcp . 22 }\n"
			    "delete element inet spa allow4 { 198.51.100.2 . tcp . 22 }\n"
			    "add element inet spa allow4 { 198.51.100.2 . tcp . 22 timeout 30s }\n");
	spa_pu_buf_free(&b);
	assert_int_equal(spa_nft_batch_close(c->state, &g6, &b), 0);
	assert_string_equal(b.data,
			    "add element inet spa allow6d { 2001:db8:1::2 . 2001:db8:1::1 . udp . 53 }\n"
			    "delete element inet spa allow6d { 2001:db8:1::2 . 2001:db8:1::1 . udp . 53 }\n");
	spa_pu_buf_free(&b);
	/* expired: refused, nothing written */
	assert_int_not_equal(spa_nft_batch_open(c->state, &g, 4000000000LL, &b), 0);
	assert_int_equal(b.len, 0);
	g.proto = 1;
	assert_int_not_equal(spa_nft_batch_open(c->state, &g, 0, &b), 0);
	spa_pu_buf_free(&b);

	/* through the ops: one nft -f per operation */
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g6), 0);
	assert_int_equal(c->h.ncalls, 1);
	assert_non_null(strstr(c->h.calls[0].file, "add element inet spa allow6d { 2001:db8:1::2 . "
						   "2001:db8:1::1 . udp . 53 timeout "));
}

struct list_acc {
	unsigned int n;
	struct spa_grant g[8];
};

static void list_cb(void *ctx, const struct spa_grant *g)
{
	struct list_acc *a = ctx;

	if (a->n < 8)
		a->g[a->n++] = *g;
}

static void test_list_json(void **tstate)
{
	struct list_acc acc = { 0 };
	static const char json[] =
		"{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}},"
		"{\"table\": {\"family\": \"inet\", \"name\": \"spa\"}},"
		"{\"set\": {\"name\": \"allow4\", \"elem\": ["
		"{\"elem\": {\"val\": {\"concat\": [\"198.51.100.2\", \"tcp\", 22]}, \"timeout\": 60, \"expires\": 42}},"
		"{\"elem\": {\"val\": {\"concat\": [\"not-an-ip\", \"tcp\", 22]}, \"expires\": 1}},"
		"{\"elem\": {\"val\": {\"concat\": [\"198.51.100.3\", \"icmp\", 22]}, \"expires\": 1}}]}},"
		"{\"set\": {\"name\": \"allow6d\", \"elem\": ["
		"{\"elem\": {\"val\": {\"concat\": [\"2001:db8:1::2\", \"2001:db8:1::1\", \"udp\", 53]}, \"expires\": 7}}]}},"
		"{\"set\": {\"name\": \"admin_set\", \"elem\": [{\"concat\": [\"198.51.100.9\", \"tcp\", 22]}]}}"
		"]}";

	(void)tstate;
	assert_int_equal(spa_nft_list_json(json, 1000, list_cb, &acc), 0);
	assert_int_equal(acc.n, 2);
	assert_string_equal(acc.g[0].src.text, "198.51.100.2");
	assert_int_equal(acc.g[0].family, AF_INET);
	assert_int_equal(acc.g[0].proto, 6);
	assert_int_equal(acc.g[0].port, 22);
	assert_int_equal(acc.g[0].expires, 1042);
	assert_int_equal(acc.g[0].timeout, 60);
	assert_int_equal(acc.g[1].family, AF_INET6);
	assert_string_equal(acc.g[1].dst.text, "2001:db8:1::1");
	assert_int_equal(acc.g[1].proto, 17);
	assert_int_equal(acc.g[1].expires, 1007);
	assert_int_not_equal(spa_nft_list_json("not json", 0, list_cb, &acc), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptor),
		cmocka_unit_test(test_parse_ports),
		cmocka_unit_test_setup_teardown(test_init_mark_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_standalone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_priority, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_close, setup, teardown),
		cmocka_unit_test(test_list_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
