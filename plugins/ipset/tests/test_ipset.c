/* SPDX-License-Identifier: MIT */
/* Commands of the ipset plugin, against a fake host. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_host.h"
#include "spa_ipset.h"

extern const struct spa_plugin_descriptor spa_plugin_descriptor;
#define OPS (spa_plugin_descriptor.ops)

static struct spa_grant make_grant(int af, const char *src, const char *dst, int proto,
				   int port, int64_t expires)
{
	return fake_host_grant(af, src, dst, proto, port, 0, expires,
			       "-F");
}

struct ctx {
	struct fake_host h;
	void *state;
};

static int setup(void **tstate)
{
	struct ctx *c = calloc(1, sizeof(*c));

	fake_host_init(&c->h);
	fake_host_reply(&c->h, "/ipset", "", 0);
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

static void test_init_creates_sets(void **tstate)
{
	struct ctx *c = *tstate;

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(c->h.ncalls, 4);
	assert_string_equal(c->h.calls[0].argv,
			    "/usr/sbin/ipset -exist create spa4 hash:ip,port family inet timeout 0");
	assert_string_equal(c->h.calls[1].argv,
			    "/usr/sbin/ipset -exist create spa6 hash:ip,port family inet6 timeout 0");
	assert_string_equal(c->h.calls[3].argv,
			    "/usr/sbin/ipset -exist create spa6d hash:ip,port,ip family inet6 timeout 0");
}

static void test_open_close(void **tstate)
{
	struct ctx *c = *tstate;
	int64_t exp = (int64_t)time(NULL) + 3600;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", NULL, 6, 22, exp);
	struct spa_grant g6 = make_grant(AF_INET6, "2001:db8:1::2", "2001:db8:1::1", 17, 53, exp);

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 1);
	/* the timeout is what is left until the absolute expiry */
	assert_true(strncmp(c->h.calls[0].argv,
			    "/usr/sbin/ipset -exist add spa4 198.51.100.2,tcp:22 timeout 3", 61) == 0);
	assert_int_equal(OPS.close(c->state, &g6), 0);
	assert_string_equal(c->h.calls[1].argv,
			    "/usr/sbin/ipset -exist del spa6d 2001:db8:1::2,udp:53,2001:db8:1::1");
	g.expires = (int64_t)time(NULL) - 1;
	assert_int_not_equal(OPS.open(c->state, &g), 0);
	g.expires = exp;
	g.proto = 1;
	assert_int_not_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 2);
}

static void test_bad_names(void **tstate)
{
	struct ctx *c = *tstate;

	fake_host_set(&c->h, "IPSET_SET4", "-F");
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(c->h.ncalls, 0);
	assert_false(spa_ipset_valid_name("a,b"));
	assert_false(spa_ipset_valid_name("a b"));
	assert_true(spa_ipset_valid_name("spa-allow_4"));
}

static void test_duplicate_names(void **tstate)
{
	struct ctx *c = *tstate;

	fake_host_set(&c->h, "IPSET_SET6", "spa4");
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
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

static void test_list(void **tstate)
{
	struct ctx *c = *tstate;
	struct list_acc acc = { 0 };
	static const char save[] =
		"create spa4 hash:ip,port family inet hashsize 1024 maxelem 65536 timeout 0\n"
		"add spa4 198.51.100.2,tcp:22 timeout 89\n"
		"add spa4 198.51.100.3,icmp:0 timeout 5\n"
		"add other 198.51.100.9,tcp:22 timeout 5\n"
		"add spa6d 2001:db8:1::2,udp:53,2001:db8:1::1 timeout 7\n"
		"add spa6 2001:db8:1::2,udp:53,2001:db8:1::1 timeout 7\n";

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(spa_ipset_list_text(c->state, save, 1000, list_cb, &acc), 0);
	assert_int_equal(acc.n, 2);
	assert_string_equal(acc.g[0].src.text, "198.51.100.2");
	assert_int_equal(acc.g[0].port, 22);
	assert_int_equal(acc.g[0].expires, 1089);
	assert_int_equal(acc.g[1].family, AF_INET6);
	assert_string_equal(acc.g[1].dst.text, "2001:db8:1::1");
	assert_int_equal(acc.g[1].proto, 17);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_creates_sets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
