/* SPDX-License-Identifier: MIT */
/*
 * The nftables plugin against the fake host: the JSON documents it builds
 * (parsed and checked command by command), both transports' plumbing,
 * refusal of hostile config, and parsing of the kernel's JSON listing.
 * The libnftables transport is also run for real in a private network
 * namespace when the test runs as root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fake_host.h"
#include "plugin_case.h"
#include "spa_nft.h"
#include "nft_json.h"

extern const struct spa_plugin_descriptor spa_plugin_descriptor;
#define OPS (spa_plugin_descriptor.ops)

#define FAR_FUTURE 4000000000LL
#define POISON "} ; flush ruleset"

static struct spa_grant make_grant(int af, const char *src, const char *dst, int proto,
				   int port, int64_t expires)
{
	return fake_host_grant(af, src, dst, proto, port, 0, expires, POISON);
}

/* A runner whose stdin nft cannot open (a socket: ENXIO on /dev/stdin) */
static int run_input_status1(void *self, const char *const argv[], const void *input,
			     size_t input_len, int timeout_ms, struct spa_run_result *res)
{
	(void)self, (void)argv, (void)input, (void)input_len, (void)timeout_ms;
	memset(res, 0, sizeof(*res));
	res->exit_status = 1;
	res->out = res->err = "";
	return 0;
}

static int run_input_cannot_start(void *self, const char *const argv[], const void *input,
				  size_t input_len, int timeout_ms, struct spa_run_result *res)
{
	(void)self, (void)argv, (void)input, (void)input_len, (void)timeout_ms;
	memset(res, 0, sizeof(*res));
	return -ENOENT;
}

/* A test's own keys must come before any set here: the first value of a
 * key wins. */
static int setup_bare(void **tstate)
{
	struct plugin_case *c = plugin_case_new();

	fake_host_reply(&c->h, "/nft", "", 0);
	*tstate = c;
	return 0;
}

/* The exec transport against the fake runner: the default (library)
 * would reach this machine's own ruleset. */
static int setup(void **tstate)
{
	setup_bare(tstate);
	fake_host_set(&((struct plugin_case *)*tstate)->h, "NFT_TRANSPORT", "exec");
	return 0;
}

static const char *str_at(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

/* The NAT sets and maps (spa_nft_nat.c), per family, after the input
 * chain's sets: name, "set" or "map", and a map's value type. */
static const char *const nat_names[][3] = {
	{ "fwd4", "set", NULL },         { "fwd_all4", "set", NULL },
	{ "dnat_addr4", "map", "ipv4_addr" }, { "dnat_port4", "map", "inet_service" },
	{ "dnat_all4", "map", "ipv4_addr" }, { "snat4", "map", "ipv4_addr" },
	{ "masq4", "set", NULL },        { "snat_all4", "map", "ipv4_addr" },
	{ "masq_all4", "set", NULL },
	{ "fwd6", "set", NULL },         { "fwd_all6", "set", NULL },
	{ "dnat_addr6", "map", "ipv6_addr" }, { "dnat_port6", "map", "inet_service" },
	{ "dnat_all6", "map", "ipv6_addr" }, { "snat6", "map", "ipv6_addr" },
	{ "masq6", "set", NULL },        { "snat_all6", "map", "ipv6_addr" },
	{ "masq_all6", "set", NULL },
};
#define N_NAT_SETS (sizeof(nat_names) / sizeof(nat_names[0]))
#define N_INPUT_SETS 6
/* table, the input chain's sets, the NAT sets and maps */
#define N_DECLARE (1 + N_INPUT_SETS + N_NAT_SETS)

/* The declarations every setup and flush starts with: table, sets, maps. */
static size_t check_declare(json_t *cmds, const char *table)
{
	static const char *const names[] = { "allow4", "allow4d", "allow6", "allow6d",
					     "local4", "local6" };
	static const char *const types[] = {
		"[\"ipv4_addr\", \"inet_proto\", \"inet_service\"]",
		"[\"ipv4_addr\", \"ipv4_addr\", \"inet_proto\", \"inet_service\"]",
		"[\"ipv6_addr\", \"inet_proto\", \"inet_service\"]",
		"[\"ipv6_addr\", \"ipv6_addr\", \"inet_proto\", \"inet_service\"]",
		"[\"ipv4_addr\", \"inet_proto\", \"inet_service\"]",
		"[\"ipv6_addr\", \"inet_proto\", \"inet_service\"]",
	};
	json_t *t = nft_cmd_body(cmds, 0, "add", "table");

	assert_non_null(t);
	assert_string_equal(str_at(t, "family"), "inet");
	assert_string_equal(str_at(t, "name"), table);
	for (size_t i = 0; i < N_INPUT_SETS; i++) {
		json_t *s = nft_cmd_body(cmds, 1 + i, "add", "set");

		assert_non_null(s);
		assert_string_equal(str_at(s, "table"), table);
		assert_string_equal(str_at(s, "name"), names[i]);
		nft_assert_json(json_object_get(s, "type"), types[i]);
		nft_assert_json(json_object_get(s, "flags"), "[\"timeout\"]");
	}
	for (size_t i = 0; i < N_NAT_SETS; i++) {
		json_t *s = nft_cmd_body(cmds, 1 + N_INPUT_SETS + i, "add", nat_names[i][1]);

		assert_non_null(s);
		assert_string_equal(str_at(s, "table"), table);
		assert_string_equal(str_at(s, "name"), nat_names[i][0]);
		nft_assert_json(json_object_get(s, "flags"), "[\"timeout\"]");
		if (nat_names[i][2])
			assert_string_equal(str_at(s, "map"), nat_names[i][2]);
		else
			assert_null(json_object_get(s, "map"));
	}
	return N_DECLARE;
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

static const char *const set_matches[] = {
	"{\"concat\": [{\"payload\": {\"protocol\": \"ip\", \"field\": \"saddr\"}},"
	" {\"meta\": {\"key\": \"l4proto\"}}, {\"payload\": {\"protocol\": \"th\", \"field\": \"dport\"}}]}",
	"{\"concat\": [{\"payload\": {\"protocol\": \"ip\", \"field\": \"saddr\"}},"
	" {\"payload\": {\"protocol\": \"ip\", \"field\": \"daddr\"}},"
	" {\"meta\": {\"key\": \"l4proto\"}}, {\"payload\": {\"protocol\": \"th\", \"field\": \"dport\"}}]}",
	"{\"concat\": [{\"payload\": {\"protocol\": \"ip6\", \"field\": \"saddr\"}},"
	" {\"meta\": {\"key\": \"l4proto\"}}, {\"payload\": {\"protocol\": \"th\", \"field\": \"dport\"}}]}",
	"{\"concat\": [{\"payload\": {\"protocol\": \"ip6\", \"field\": \"saddr\"}},"
	" {\"payload\": {\"protocol\": \"ip6\", \"field\": \"daddr\"}},"
	" {\"meta\": {\"key\": \"l4proto\"}}, {\"payload\": {\"protocol\": \"th\", \"field\": \"dport\"}}]}",
	"{\"concat\": [{\"payload\": {\"protocol\": \"ip\", \"field\": \"saddr\"}},"
	" {\"meta\": {\"key\": \"l4proto\"}}, {\"payload\": {\"protocol\": \"th\", \"field\": \"dport\"}}]}",
	"{\"concat\": [{\"payload\": {\"protocol\": \"ip6\", \"field\": \"saddr\"}},"
	" {\"meta\": {\"key\": \"l4proto\"}}, {\"payload\": {\"protocol\": \"th\", \"field\": \"dport\"}}]}",
};

/* Rules 0..5 match one set each; returns the index after them. */
static size_t check_set_rules(json_t *cmds, size_t at, const char *table, uint32_t mark)
{
	static const char *const refs[] = { "@allow4", "@allow4d", "@allow6", "@allow6d",
					    "@local4", "@local6" };
	char want_mark[160];

	snprintf(want_mark, sizeof(want_mark),
		 "{\"mangle\": {\"key\": {\"meta\": {\"key\": \"mark\"}}, \"value\": "
		 "{\"|\": [{\"meta\": {\"key\": \"mark\"}}, %u]}}}", (unsigned int)mark);
	for (size_t i = 0; i < N_INPUT_SETS; i++) {
		json_t *r = nft_cmd_body(cmds, at + i, "add", "rule");
		json_t *expr = json_object_get(r, "expr");
		json_t *match = json_object_get(json_array_get(expr, 0), "match");

		assert_non_null(r);
		assert_string_equal(str_at(r, "table"), table);
		assert_string_equal(str_at(r, "chain"), "input");
		assert_string_equal(str_at(match, "op"), "==");
		nft_assert_json(json_object_get(match, "left"), set_matches[i]);
		assert_string_equal(str_at(match, "right"), refs[i]);
		assert_int_equal(json_array_size(expr), mark ? 3 : 2);
		if (mark)
			nft_assert_json(json_array_get(expr, 1), want_mark);
		nft_assert_json(json_array_get(expr, mark ? 2 : 1), "{\"accept\": null}");
	}
	return at + N_INPUT_SETS;
}

static void test_init_mark_mode(void **tstate)
{
	struct plugin_case *c = *tstate;
	json_t *doc, *cmds, *chain;
	size_t at;

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	/* an empty transaction tells nft can read stdin here, then the
	 * setup is one transaction on stdin: no temporary file */
	assert_int_equal(c->h.ncalls, 2);
	assert_true(c->h.calls[0].from_stdin);
	assert_string_equal(c->h.calls[0].argv, "/usr/sbin/nft -j -f -");
	doc = nft_parse_doc(c->h.calls[0].file, &cmds);
	assert_int_equal(json_array_size(cmds), 0);
	json_decref(doc);
	assert_true(c->h.calls[1].from_stdin);
	assert_string_equal(c->h.calls[1].argv, "/usr/sbin/nft -j -f -");
	doc = nft_parse_doc(c->h.calls[1].file, &cmds);
	at = check_declare(cmds, "spa");
	chain = nft_cmd_body(cmds, at++, "add", "chain");
	nft_assert_json(chain, "{\"family\": \"inet\", \"table\": \"spa\", \"name\": \"input\","
			   " \"type\": \"filter\", \"hook\": \"input\", \"prio\": -10,"
			   " \"policy\": \"accept\"}");
	nft_assert_json(nft_cmd_body(cmds, at++, "flush", "chain"),
		    "{\"family\": \"inet\", \"table\": \"spa\", \"name\": \"input\"}");
	at = check_set_rules(cmds, at, "spa", 0x5350);
	/* mark mode: no drop of our own */
	assert_int_equal(json_array_size(cmds), at);
	json_decref(doc);
}

static void test_init_standalone(void **tstate)
{
	struct plugin_case *c = *tstate;
	json_t *doc, *cmds;
	size_t at;

	fake_host_set(&c->h, "NFT_PROTECT_PORTS", "tcp/22, udp/53");
	fake_host_set(&c->h, "NFT_MARK", "0");
	fake_host_set(&c->h, "NFT_TABLE", "gate");
	fake_host_set(&c->h, "NFT_PRIORITY", "-50");
	fake_host_set(&c->h, "NFT_EXE", "/opt/nft");
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(c->h.ncalls, 2);
	assert_string_equal(c->h.calls[1].argv, "/opt/nft -j -f -");
	doc = nft_parse_doc(c->h.calls[1].file, &cmds);
	at = check_declare(cmds, "gate");
	assert_int_equal(json_integer_value(json_object_get(nft_cmd_body(cmds, at, "add", "chain"),
							    "prio")), -50);
	at = check_set_rules(cmds, at + 2, "gate", 0);
	nft_assert_json(nft_cmd_body(cmds, at++, "add", "rule"),
		    "{\"family\": \"inet\", \"table\": \"gate\", \"chain\": \"input\", \"expr\": ["
		    "{\"match\": {\"op\": \"in\", \"left\": {\"ct\": {\"key\": \"state\"}},"
		    " \"right\": [\"established\", \"related\"]}}, {\"accept\": null}]}");
	nft_assert_json(nft_cmd_body(cmds, at++, "add", "rule"),
		    "{\"family\": \"inet\", \"table\": \"gate\", \"chain\": \"input\", \"expr\": ["
		    "{\"match\": {\"op\": \"==\", \"left\": {\"concat\": [{\"meta\": {\"key\": \"l4proto\"}},"
		    " {\"payload\": {\"protocol\": \"th\", \"field\": \"dport\"}}]},"
		    " \"right\": {\"set\": [{\"concat\": [\"tcp\", 22]}, {\"concat\": [\"udp\", 53]}]}}},"
		    " {\"drop\": null}]}");
	/* flushing at start is the engine's FLUSH_NFT_AT_INIT, never ours */
	assert_int_equal(json_array_size(cmds), at);
	json_decref(doc);
}

static void expect_refused(struct plugin_case *c, const char *key, const char *value)
{
	unsigned int errors = c->h.nerrors;

	fake_host_set(&c->h, key, value);
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_null(c->state);
	assert_int_equal(c->h.ncalls, 0);
	assert_true(c->h.nerrors > errors);
}

static void test_bad_table(void **tstate)
{
	expect_refused(*tstate, "NFT_TABLE", "spa\", \"name\": \"x");
}

static void test_bad_priority(void **tstate)
{
	expect_refused(*tstate, "NFT_PRIORITY", "-10; flush ruleset");
}

static void test_bad_transport(void **tstate)
{
#ifdef SPA_NFT_HAVE_LIBNFTABLES
	expect_refused(*tstate, "NFT_TRANSPORT", "shell");
#else
	/* asked for explicitly, the library is not silently replaced */
	expect_refused(*tstate, "NFT_TRANSPORT", "library");
#endif
}

static void test_bad_exe(void **tstate)
{
	expect_refused(*tstate, "NFT_EXE", "nft");
}

/* check: the parser of init, no command, the key and value named. */
static void check_refused(const char *key, const char *value, const char *says)
{
	assert_int_equal(plugin_case_check_refused(key, value, says), 0);
}

static void test_check(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant probe = fake_host_probe("access.conf:3");

	/* setup's keys (exec transport, protected ports, table...) are good */
	assert_int_equal(OPS.check(&c->h.api, NULL), 0);
	assert_int_equal(OPS.check(&c->h.api, &probe), 0);
	assert_int_equal(c->h.ncalls, 0);
	assert_int_equal(c->h.nerrors, 0);

	check_refused("NFT_TABLE", "spa;x", "NFT_TABLE");
	check_refused("NFT_PRIORITY", "-1000", "-400..400");
	check_refused("NFT_MARK", "red", "NFT_MARK");
	check_refused("NFT_PROTECT_PORTS", "tcp/0", "tcp/22");
	check_refused("NFT_TRANSPORT", "shell", "NFT_TRANSPORT");
	check_refused("NFT_EXE", "nft", "absolute");
	/* one knob per behaviour: the engine's FLUSH_NFT_AT_INIT/EXIT */
	check_refused("NFT_FLUSH_AT_INIT", "Y", "FLUSH_NFT_AT_INIT");
	check_refused("NFT_FLUSH_AT_EXIT", "N", "FLUSH_NFT_AT_EXIT");
}

static void test_batch_open_close(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", NULL, 6, 22, FAR_FUTURE);
	struct spa_grant g6 = make_grant(AF_INET6, "2001:db8:1::2", "2001:db8:1::1", 17, 53,
					 FAR_FUTURE);
	static const char key4[] = "{\"concat\": [\"198.51.100.2\", \"tcp\", 22]}";
	static const char key6[] =
		"{\"concat\": [\"2001:db8:1::2\", \"2001:db8:1::1\", \"udp\", 53]}";
	json_t *doc, *cmds, *e;
	char *text;

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);

	/* open = add + delete + add with the time left: a refresh never
	 * fails and leaves one element with the new timeout */
	doc = spa_nft_batch_new();
	assert_int_equal(spa_nft_batch_open(c->state, &g, FAR_FUTURE - 30, doc), 0);
	cmds = json_object_get(doc, "nftables");
	assert_int_equal(json_array_size(cmds), 3);
	e = nft_cmd_body(cmds, 0, "add", "element");
	assert_string_equal(str_at(e, "table"), "spa");
	assert_string_equal(str_at(e, "name"), "allow4");
	nft_assert_json(json_object_get(e, "elem"), "[{\"concat\": [\"198.51.100.2\", \"tcp\", 22]}]");
	e = nft_cmd_body(cmds, 1, "delete", "element");
	assert_string_equal(str_at(e, "name"), "allow4");
	nft_assert_json(json_array_get(json_object_get(e, "elem"), 0), key4);
	e = nft_cmd_body(cmds, 2, "add", "element");
	assert_string_equal(str_at(e, "name"), "allow4");
	nft_assert_json(json_object_get(e, "elem"),
		    "[{\"elem\": {\"val\": {\"concat\": [\"198.51.100.2\", \"tcp\", 22]},"
		    " \"timeout\": 30}}]");
	text = json_dumps(doc, 0);
	assert_null(strstr(text, "flush"));
	free(text);

	/* close = table and sets declared (a close after "nft flush ruleset"
	 * succeeds) + add + delete, appended to the same document */
	assert_int_equal(spa_nft_batch_close(c->state, &g6, doc), 0);
	assert_int_equal(json_array_size(cmds), 3 + N_DECLARE + 2);
	assert_non_null(nft_cmd_body(cmds, 3, "add", "table"));
	for (size_t i = 4; i < 4 + N_INPUT_SETS; i++)
		assert_non_null(nft_cmd_body(cmds, i, "add", "set"));
	e = nft_cmd_body(cmds, 3 + N_DECLARE, "add", "element");
	assert_string_equal(str_at(e, "name"), "allow6d");
	nft_assert_json(json_array_get(json_object_get(e, "elem"), 0), key6);
	e = nft_cmd_body(cmds, 3 + N_DECLARE + 1, "delete", "element");
	assert_string_equal(str_at(e, "name"), "allow6d");
	nft_assert_json(json_array_get(json_object_get(e, "elem"), 0), key6);

	/* refused grants leave the document as it was */
	assert_int_equal(spa_nft_batch_open(c->state, &g, FAR_FUTURE, doc), -ETIME);
	g.proto = 1;
	assert_int_equal(spa_nft_batch_open(c->state, &g, 0, doc), -EINVAL);
	assert_int_equal(spa_nft_batch_close(c->state, &g, doc), -EINVAL);
	g.proto = 6;
	g.port = 0;
	assert_int_equal(spa_nft_batch_open(c->state, &g, 0, doc), -EINVAL);
	g6.dst.family = AF_INET;
	assert_int_equal(spa_nft_batch_close(c->state, &g6, doc), -EINVAL);
	assert_int_equal(json_array_size(cmds), 3 + N_DECLARE + 2);
	json_decref(doc);
}

static void test_ops_exec(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g6 = make_grant(AF_INET6, "2001:db8:1::2", "2001:db8:1::1", 17, 53,
					 FAR_FUTURE);
	json_t *doc, *cmds, *e;

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g6), 0);
	assert_int_equal(c->h.ncalls, 1);
	assert_true(c->h.calls[0].from_stdin);
	assert_null(strstr(c->h.calls[0].file, "flush"));
	assert_null(strstr(c->h.calls[0].file, POISON));
	doc = nft_parse_doc(c->h.calls[0].file, &cmds);
	assert_int_equal(json_array_size(cmds), 3);
	e = json_array_get(json_object_get(nft_cmd_body(cmds, 2, "add", "element"), "elem"), 0);
	/* the timeout is what is left of the grant, not its original length */
	assert_true(json_integer_value(json_object_get(json_object_get(e, "elem"),
						       "timeout")) > 1000000);
	json_decref(doc);

	assert_int_equal(OPS.close(c->state, &g6), 0);
	assert_int_equal(c->h.ncalls, 2);
	doc = nft_parse_doc(c->h.calls[1].file, &cmds);
	assert_non_null(nft_cmd_body(cmds, N_DECLARE + 1, "delete", "element"));
	json_decref(doc);
	assert_int_equal(c->h.nerrors, 0);

	/* nft refuses: the op fails and says why */
	fake_host_reply(&c->h, "/nft", "", 1);
	assert_int_equal(OPS.open(c->state, &g6), -EIO);
	assert_int_equal(c->h.nerrors, 1);
	/* nft cannot even start */
	c->h.api.run_input = run_input_cannot_start;
	assert_int_equal(OPS.close(c->state, &g6), -ENOENT);
	assert_int_equal(c->h.nerrors, 2);
	/* an expired grant is refused before any command runs */
	g6.expires = 1;
	fake_host_reset_calls(&c->h);
	assert_int_not_equal(OPS.open(c->state, &g6), 0);
	assert_int_equal(c->h.ncalls, 0);
}

/* A batch (ABI 1.4) is one document, one nft run; when nft refuses it,
 * each grant is tried alone so the refusal lands on the right one. */
static void test_batch_ops(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g4 = make_grant(AF_INET, "198.51.100.2", NULL, 6, 22, FAR_FUTURE);
	struct spa_grant g6 = make_grant(AF_INET6, "2001:db8:1::2", NULL, 17, 53, FAR_FUTURE);
	struct spa_grant old = make_grant(AF_INET, "198.51.100.3", NULL, 6, 22, 1);
	const struct spa_grant *gv[] = { &g4, &old, &g6 };
	int rc[3] = { 1, 1, 1 };
	json_t *doc, *cmds;

	assert_true(spa_plugin_descriptor.capabilities & SPA_PLUGIN_CAP_BATCH);
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(spa_plugin_descriptor.open_batch(c->state, gv, 3, rc), 0);
	assert_int_equal(c->h.ncalls, 1);
	assert_int_equal(rc[0], 0);
	assert_int_not_equal(rc[1], 0); /* expired: nothing to open */
	assert_int_equal(rc[2], 0);
	doc = nft_parse_doc(c->h.calls[0].file, &cmds);
	assert_int_equal(json_array_size(cmds), 6); /* 3 commands per grant */
	assert_non_null(strstr(c->h.calls[0].file, "198.51.100.2"));
	assert_non_null(strstr(c->h.calls[0].file, "2001:db8:1::2"));
	assert_null(strstr(c->h.calls[0].file, "198.51.100.3"));
	json_decref(doc);

	gv[1] = &g6;
	gv[2] = &g4;
	assert_int_equal(spa_plugin_descriptor.close_batch(c->state, gv, 3, rc), 0);
	assert_int_equal(c->h.ncalls, 2);
	assert_int_equal(rc[0] | rc[1] | rc[2], 0);

	/* refused: the whole transaction, then each grant alone */
	fake_host_reset_calls(&c->h);
	fake_host_reply(&c->h, "/nft", "", 1);
	assert_int_equal(spa_plugin_descriptor.close_batch(c->state, gv, 2, rc), 0);
	assert_int_equal(c->h.ncalls, 3);
	assert_int_equal(rc[0], -EIO);
	assert_int_equal(rc[1], -EIO);
}

/* A 1.0 engine has no run_input: the same document goes through a
 * private file instead. */
static void test_exec_without_run_input(void **tstate)
{
	struct plugin_case *c = *tstate;
	json_t *doc, *cmds;

	c->h.api.struct_size = offsetof(struct spa_host_api, run_input);
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(c->h.ncalls, 1);
	assert_false(c->h.calls[0].from_stdin);
	assert_int_equal(fake_host_find(&c->h, "/usr/sbin/nft -j -f /tmp/spa-batch."), 0);
	doc = nft_parse_doc(c->h.calls[0].file, &cmds);
	check_declare(cmds, "spa");
	json_decref(doc);
}

/* nft fails on the runner's stdin: every document goes through a
 * private file, and no error is logged for the probe. */
static void test_exec_stdin_unusable(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", NULL, 6, 22, FAR_FUTURE);
	json_t *doc, *cmds;

	c->h.api.run_input = run_input_status1;
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(c->h.nerrors, 0);
	assert_int_equal(c->h.ncalls, 1);
	assert_int_equal(fake_host_find(&c->h, "/usr/sbin/nft -j -f /tmp/spa-batch."), 0);
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 2);
	assert_false(c->h.calls[1].from_stdin);
	doc = nft_parse_doc(c->h.calls[1].file, &cmds);
	assert_int_equal(json_array_size(cmds), 3);
	json_decref(doc);
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

static const char list_json[] =
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

static void test_list_json(void **tstate)
{
	struct list_acc acc = { 0 };

	(void)tstate;
	assert_int_equal(spa_nft_list_json(list_json, 1000, list_cb, &acc), 0);
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

static void test_list_exec(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct list_acc acc = { 0 };

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	fake_host_reply(&c->h, "/nft", list_json, 0);
	assert_int_equal(OPS.list(c->state, list_cb, &acc), 0);
	assert_int_equal(fake_host_find(&c->h, "/usr/sbin/nft -j list table inet spa"), 0);
	assert_int_equal(acc.n, 2);
	fake_host_reply(&c->h, "/nft", "", 1);
	assert_int_not_equal(OPS.list(c->state, list_cb, &acc), 0);
	assert_int_equal(acc.n, 2);
}

#ifdef SPA_NFT_HAVE_LIBNFTABLES
static unsigned int listed(struct plugin_case *c, struct list_acc *acc)
{
	memset(acc, 0, sizeof(*acc));
	assert_int_equal(OPS.list(c->state, list_cb, acc), 0);
	return acc->n;
}

/* Sockets the process holds that a spawned command would inherit. */
static unsigned int inheritable_sockets(void)
{
	unsigned int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		char path[32], link[64];
		ssize_t len;
		int flags = fcntl(fd, F_GETFD);

		if (flags < 0 || (flags & FD_CLOEXEC))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, link, sizeof(link) - 1);
		if (len > 0 && strncmp(link, "socket:", 7) == 0)
			n++;
	}
	return n;
}

/* The in-process transport against a real kernel, in a network namespace
 * of this process's own (never the host's ruleset). */
static void test_library_netns(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", NULL, 6, 22, 0);
	struct list_acc acc;
	json_t *doc;
	char errbuf[256];
	int saved, fd;
	ssize_t n;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0)
		skip(); /* needs root: covered by e2e.plugin_nftables_library */
	fake_host_set(&c->h, "NFT_TRANSPORT", "library");
	fake_host_set(&c->h, "NFT_PROTECT_PORTS", "tcp/22");
	assert_int_equal(inheritable_sockets(), 0);
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	/* libnftables' netlink socket must not leak into spad's commands */
	assert_int_equal(inheritable_sockets(), 0);
	g.expires = (int64_t)time(NULL) + 60;
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(listed(c, &acc), 1);
	assert_true(acc.g[0].expires >= g.expires - 2);
	/* a re-knock: still one element, with the new timeout */
	g.expires += 600;
	assert_int_equal(OPS.refresh(c->state, &g), 0);
	assert_int_equal(listed(c, &acc), 1);
	assert_true(acc.g[0].expires >= g.expires - 2);
	/* what was left at the refresh: 660 s, less any second that passed */
	assert_in_range(acc.g[0].timeout, 650, 660);
	assert_int_equal(OPS.close(c->state, &g), 0);
	assert_int_equal(listed(c, &acc), 0);
	/* closing what the kernel already removed is not an error */
	assert_int_equal(OPS.close(c->state, &g), 0);
	/* nothing ever went through a command */
	assert_int_equal(c->h.ncalls, 0);
	assert_int_equal(c->h.nerrors, 0);

	/* a failing transaction is reported through the log, not stderr */
	fflush(stderr);
	saved = dup(2);
	fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	doc = json_loads("{\"nftables\": [{\"delete\": {\"set\": {\"family\": \"inet\","
			 " \"table\": \"spa\", \"name\": \"no_such_set\"}}}]}", 0, NULL);
	assert_int_equal(spa_nft_apply(c->state, doc), -EIO);
	json_decref(doc);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, errbuf, sizeof(errbuf) - 1, 0);
	close(fd);
	assert_int_equal(n, 0);
	assert_int_equal(c->h.nerrors, 1);
	/* and the context is still usable afterwards */
	g.expires = (int64_t)time(NULL) + 60;
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(listed(c, &acc), 1);
	assert_int_equal(c->h.nerrors, 1);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptor),
		cmocka_unit_test(test_parse_ports),
		cmocka_unit_test_setup_teardown(test_init_mark_mode, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_init_standalone, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_bad_table, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_bad_priority, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_bad_transport, setup_bare, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_bad_exe, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_batch_open_close, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_batch_ops, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_ops_exec, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_exec_without_run_input, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_exec_stdin_unusable, setup, plugin_case_teardown),
		cmocka_unit_test(test_list_json),
		cmocka_unit_test_setup_teardown(test_list_exec, setup, plugin_case_teardown),
#ifdef SPA_NFT_HAVE_LIBNFTABLES
		/* last: it moves the process into a new network namespace */
		cmocka_unit_test_setup_teardown(test_library_netns, setup_bare, plugin_case_teardown),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
