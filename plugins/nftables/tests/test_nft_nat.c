/* SPDX-License-Identifier: MIT */
/*
 * The nftables plugin's NAT grants against the fake host: the elements of
 * each form (set, key, value, timeout, the grant's comment), the chains
 * and their rules in libnftables' JSON, the forms it refuses (leaving a
 * document as it was), close declaring first, a re-knock that changes the
 * form removing the old elements, the chains written with the first NAT
 * open only, and the listing read back into grants with their form.
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

#include "fake_host.h"
#include "plugin_case.h"
#include "spa_nft.h"
#include "nft_json.h"

extern const struct spa_plugin_descriptor spa_plugin_descriptor;
#define OPS (spa_plugin_descriptor.ops)

#define FAR_FUTURE 4000000000LL
#define POISON "} ; flush ruleset"

static void set_addr(struct spa_grant_addr *a, int af, const char *text)
{
	memset(a, 0, sizeof(*a));
	a->family = af;
	assert_int_equal(inet_pton(af, text, &a->bin), 1);
	/* as the source: commands come from the binary form */
	snprintf(a->text, sizeof(a->text), "%s", POISON);
}

static struct spa_grant nat_grant(int af, const char *src, int port, uint32_t flags,
				  const char *to, int to_port, const char *snat)
{
	struct spa_grant g = fake_host_grant(af, src, NULL, 6, port, 0, FAR_FUTURE, POISON);

	g.nat_flags = flags;
	if (to)
		set_addr(&g.nat_addr, af, to);
	g.nat_port = (uint16_t)to_port;
	if (snat)
		set_addr(&g.snat_addr, af, snat);
	return g;
}

static int setup(void **tstate)
{
	struct plugin_case *c = plugin_case_new();

	fake_host_reply(&c->h, "/nft", "", 0);
	fake_host_set(&c->h, "NFT_TRANSPORT", "exec");
	*tstate = c;
	return 0;
}

/* The "add element" commands of doc with a timeout (the grant's own, not
 * the add + delete that clears the way), as "set elem-json" lines. */
static char *added(json_t *cmds)
{
	size_t i, len = 0;
	json_t *cmd;
	char *out = calloc(1, 8192);

	assert_non_null(out);
	json_array_foreach(cmds, i, cmd) {
		json_t *body = json_object_get(json_object_get(cmd, "add"), "element");
		json_t *e = json_array_get(json_object_get(body, "elem"), 0);
		json_t *inner = json_is_array(e) ? json_array_get(e, 0) : e;
		char *text;

		if (!body || !json_object_get(json_object_get(inner, "elem"), "timeout"))
			continue;
		text = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
		assert_non_null(text);
		len += (size_t)snprintf(out + len, 8192 - len, "%s %s\n",
					json_string_value(json_object_get(body, "name")), text);
		free(text);
	}
	return out;
}

static void test_descriptor(void **tstate)
{
	(void)tstate;
	assert_true(spa_plugin_descriptor.capabilities & SPA_PLUGIN_CAP_NAT);
}

#define TAG(t) "\"timeout\":30,\"comment\":\"" t "\""

/* Each form's elements: set, key, value and the grant's comment. */
static void test_forms(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g;
	json_t *doc;

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	g = nat_grant(AF_INET, "203.0.113.2", 5555, SPA_NAT_FORWARD | SPA_NAT_MASQUERADE,
		      "198.51.100.10", 22, NULL);
	doc = spa_nft_batch_new();
	assert_int_equal(spa_nft_batch_open(c->state, &g, FAR_FUTURE - 30, doc), 0);
	{
		char *got = added(json_object_get(doc, "nftables"));

		assert_string_equal(got,
			"fwd4 {\"elem\":{\"val\":{\"concat\":[\"203.0.113.2\",\"198.51.100.10\",\"tcp\",22]},"
			TAG("spa-nat 33 tcp 5555 198.51.100.10 22 -") "}}\n"
			"dnat_addr4 [{\"elem\":{\"val\":{\"concat\":[\"203.0.113.2\",\"tcp\",5555]},"
			TAG("spa-nat 33 tcp 5555 198.51.100.10 22 -") "}},\"198.51.100.10\"]\n"
			"dnat_port4 [{\"elem\":{\"val\":{\"concat\":[\"203.0.113.2\",\"tcp\",5555]},"
			TAG("spa-nat 33 tcp 5555 198.51.100.10 22 -") "}},22]\n"
			"masq4 {\"elem\":{\"val\":{\"concat\":[\"203.0.113.2\",\"198.51.100.10\",\"tcp\",22]},"
			TAG("spa-nat 33 tcp 5555 198.51.100.10 22 -") "}}\n");
		free(got);
	}
	{
		char *text = json_dumps(doc, 0);

		assert_null(strstr(text, POISON));
		free(text);
	}
	json_decref(doc);

	/* local: accept of the real port in the input chain's set, DNAT */
	g = nat_grant(AF_INET, "203.0.113.2", 5555, SPA_NAT_LOCAL, "203.0.113.1", 2222, NULL);
	doc = spa_nft_batch_new();
	assert_int_equal(spa_nft_batch_open(c->state, &g, FAR_FUTURE - 30, doc), 0);
	{
		char *got = added(json_object_get(doc, "nftables"));

		assert_non_null(strstr(got, "local4 {\"elem\":{\"val\":{\"concat\":"
					    "[\"203.0.113.2\",\"tcp\",2222]}"));
		assert_non_null(strstr(got, "dnat_port4 "));
		assert_null(strstr(got, "fwd4"));
		free(got);
	}
	json_decref(doc);

	/* forward all, DNAT of everything, SNAT: keyed by the source only */
	g = nat_grant(AF_INET6, "2001:db8:2::2", 1, SPA_NAT_FORWARD | SPA_NAT_FORWARD_ALL |
		      SPA_NAT_SNAT, "2001:db8:1::10", 0, "2001:db8:1::5");
	doc = spa_nft_batch_new();
	assert_int_equal(spa_nft_batch_open(c->state, &g, FAR_FUTURE - 30, doc), 0);
	{
		char *got = added(json_object_get(doc, "nftables"));

		assert_string_equal(got,
			"fwd_all6 {\"elem\":{\"val\":\"2001:db8:2::2\","
			TAG("spa-nat 21 tcp 1 2001:db8:1::10 0 2001:db8:1::5") "}}\n"
			"dnat_all6 [{\"elem\":{\"val\":\"2001:db8:2::2\","
			TAG("spa-nat 21 tcp 1 2001:db8:1::10 0 2001:db8:1::5") "}},\"2001:db8:1::10\"]\n"
			"snat_all6 [{\"elem\":{\"val\":\"2001:db8:2::2\","
			TAG("spa-nat 21 tcp 1 2001:db8:1::10 0 2001:db8:1::5") "}},\"2001:db8:1::5\"]\n");
		free(got);
	}
	json_decref(doc);

	/* no DNAT: the forward accept alone */
	g = nat_grant(AF_INET, "203.0.113.2", 5555, SPA_NAT_FORWARD | SPA_NAT_NO_DNAT,
		      "198.51.100.10", 22, NULL);
	doc = spa_nft_batch_new();
	assert_int_equal(spa_nft_batch_open(c->state, &g, FAR_FUTURE - 30, doc), 0);
	{
		char *got = added(json_object_get(doc, "nftables"));

		assert_int_equal(strncmp(got, "fwd4 ", 5), 0);
		assert_null(strstr(got, "dnat"));
		free(got);
	}
	json_decref(doc);
}

/* Forms that say nothing or contradict themselves: refused, the document
 * left as it was. */
static void test_refused(void **tstate)
{
	struct plugin_case *c = *tstate;
	static const struct {
		uint32_t flags;
		const char *to;
		int to_port;
		const char *snat;
	} bad[] = {
		{ SPA_NAT_FORWARD, NULL, 22, NULL },                  /* no target */
		{ SPA_NAT_FORWARD, "198.51.100.10", 0, NULL },        /* no port */
		{ SPA_NAT_LOCAL, NULL, 22, NULL },
		{ SPA_NAT_FORWARD | SPA_NAT_LOCAL, "198.51.100.10", 22, NULL },
		{ SPA_NAT_SNAT, "198.51.100.10", 22, "198.51.100.5" }, /* no form */
		{ SPA_NAT_LOCAL | SPA_NAT_FORWARD_ALL, "198.51.100.10", 22, NULL },
		{ SPA_NAT_FORWARD | SPA_NAT_SNAT, "198.51.100.10", 22, NULL },
		{ SPA_NAT_FORWARD | SPA_NAT_SNAT | SPA_NAT_MASQUERADE, "198.51.100.10", 22,
		  "198.51.100.5" },
		{ SPA_NAT_FORWARD | (1u << 20), "198.51.100.10", 22, NULL },
		{ SPA_NAT_FORWARD, "2001:db8:1::10", 22, NULL },      /* other family */
	};
	json_t *doc = spa_nft_batch_new();

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct spa_grant g = nat_grant(AF_INET, "203.0.113.2", 5555, bad[i].flags,
					       NULL, bad[i].to_port, bad[i].snat);

		if (bad[i].to)
			set_addr(&g.nat_addr, strchr(bad[i].to, ':') ? AF_INET6 : AF_INET,
				 bad[i].to);
		assert_int_equal(spa_nft_batch_open(c->state, &g, 0, doc), -EINVAL);
		assert_int_equal(spa_nft_batch_close(c->state, &g, doc), -EINVAL);
	}
	assert_int_equal(json_array_size(json_object_get(doc, "nftables")), 0);
	json_decref(doc);
}

/* The chains: forward accepts and marks, nat_pre DNATs through the two
 * maps, nat_post SNATs and masquerades. */
static void test_chains(void **tstate)
{
	struct plugin_case *c = *tstate;
	json_t *doc = spa_nft_batch_new(), *cmds, *cmd;
	size_t i, rules = 0;

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(spa_nft_nat_chains(c->state, doc), 0);
	cmds = json_object_get(doc, "nftables");
	nft_assert_json(json_object_get(json_object_get(json_array_get(cmds, 0), "add"), "chain"),
		    "{\"family\": \"inet\", \"table\": \"spa\", \"name\": \"forward\","
		    " \"type\": \"filter\", \"hook\": \"forward\", \"prio\": -10,"
		    " \"policy\": \"accept\"}");
	json_array_foreach(cmds, i, cmd) {
		json_t *r = json_object_get(json_object_get(cmd, "add"), "rule");
		json_t *ch = json_object_get(json_object_get(cmd, "add"), "chain");

		rules += r != NULL;
		if (ch && strcmp(json_string_value(json_object_get(ch, "name")), "nat_pre") == 0)
			nft_assert_json(ch, "{\"family\": \"inet\", \"table\": \"spa\", \"name\":"
				    " \"nat_pre\", \"type\": \"nat\", \"hook\": \"prerouting\","
				    " \"prio\": -100, \"policy\": \"accept\"}");
		if (r && strcmp(json_string_value(json_object_get(r, "chain")), "nat_pre") == 0 &&
		    rules == 5)
			nft_assert_json(json_object_get(r, "expr"),
				    "[{\"dnat\": {\"family\": \"ip\", \"addr\": {\"map\": {\"key\":"
				    " {\"concat\": [{\"payload\": {\"protocol\": \"ip\", \"field\": \"saddr\"}},"
				    " {\"meta\": {\"key\": \"l4proto\"}}, {\"payload\": {\"protocol\": \"th\","
				    " \"field\": \"dport\"}}]}, \"data\": \"@dnat_addr4\"}}, \"port\":"
				    " {\"map\": {\"key\": {\"concat\": [{\"payload\": {\"protocol\": \"ip\","
				    " \"field\": \"saddr\"}}, {\"meta\": {\"key\": \"l4proto\"}},"
				    " {\"payload\": {\"protocol\": \"th\", \"field\": \"dport\"}}]},"
				    " \"data\": \"@dnat_port4\"}}}}]");
		if (r && strcmp(json_string_value(json_object_get(r, "chain")), "nat_post") == 0 &&
		    rules == 10)
			nft_assert_json(json_object_get(r, "expr"),
				    "[{\"match\": {\"op\": \"==\", \"left\": {\"concat\": ["
				    "{\"payload\": {\"protocol\": \"ip\", \"field\": \"saddr\"}},"
				    " {\"payload\": {\"protocol\": \"ip\", \"field\": \"daddr\"}},"
				    " {\"meta\": {\"key\": \"l4proto\"}}, {\"payload\": {\"protocol\":"
				    " \"th\", \"field\": \"dport\"}}]}, \"right\": \"@masq4\"}},"
				    " {\"masquerade\": null}]");
	}
	/* forward: 2 per family; nat_pre: 2; nat_post: 4 */
	assert_int_equal(rules, 16);
	json_decref(doc);
}

/* The chains come with the first NAT open only; a NAT open reads the
 * table first (for a changed form); a plain open does neither. */
static void test_ops(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = nat_grant(AF_INET, "203.0.113.2", 5555, SPA_NAT_FORWARD,
				       "198.51.100.10", 22, NULL);
	struct spa_grant plain = fake_host_grant(AF_INET, "203.0.113.2", NULL, 6, 22, 0,
						 FAR_FUTURE, POISON);

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &plain), 0);
	assert_int_equal(c->h.ncalls, 1);
	assert_null(strstr(c->h.calls[0].file, "nat_pre"));
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 2);
	assert_string_equal(c->h.calls[0].argv, "/usr/sbin/nft -j list table inet spa");
	assert_non_null(strstr(c->h.calls[1].file, "\"nat_pre\""));
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 2);
	assert_null(strstr(c->h.calls[1].file, "\"nat_pre\""));
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.close(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 2);
	assert_non_null(strstr(c->h.calls[1].file, "\"delete\""));
	assert_int_equal(c->h.nerrors, 0);
}

/* What the table holds: one grant as masquerade, to 22. A re-knock as
 * SNAT to 2222 removes those elements, with the DNAT value they have, in
 * the transaction that adds the new ones. */
#define OLD_TAG "\"comment\": \"spa-nat 33 tcp 5555 198.51.100.10 22 -\""
#define ELEM(val, tag) "{\"elem\": {\"val\": " val ", \"timeout\": 60, \"expires\": 50, " tag "}}"
#define SPP "{\"concat\": [\"203.0.113.2\", \"tcp\", 5555]}"
#define SDPP "{\"concat\": [\"203.0.113.2\", \"198.51.100.10\", \"tcp\", 22]}"
static const char held[] =
	"{\"nftables\": [{\"table\": {\"family\": \"inet\", \"name\": \"spa\"}},"
	"{\"set\": {\"name\": \"fwd4\", \"elem\": [" ELEM(SDPP, OLD_TAG) "]}},"
	"{\"map\": {\"name\": \"dnat_addr4\", \"elem\": [[" ELEM(SPP, OLD_TAG) ", \"198.51.100.10\"]]}},"
	"{\"map\": {\"name\": \"dnat_port4\", \"elem\": [[" ELEM(SPP, OLD_TAG) ", 22]]}},"
	"{\"set\": {\"name\": \"masq4\", \"elem\": [" ELEM(SDPP, OLD_TAG) "]}}]}";

/* The table after that re-knock: the DNAT key is the new form's. */
#define NEW_TAG "\"comment\": \"spa-nat 17 tcp 5555 198.51.100.10 2222 198.51.100.5\""
static const char taken_over[] =
	"{\"nftables\": [{\"map\": {\"name\": \"dnat_addr4\", \"elem\": [[" ELEM(SPP, NEW_TAG)
	", \"198.51.100.10\"]]}}, {\"map\": {\"name\": \"dnat_port4\", \"elem\": [["
	ELEM(SPP, NEW_TAG) ", 2222]]}}]}";

static void test_form_change(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = nat_grant(AF_INET, "203.0.113.2", 5555, SPA_NAT_FORWARD | SPA_NAT_SNAT,
				       "198.51.100.10", 2222, "198.51.100.5");
	json_t *doc, *cmds, *cmd;
	size_t i;
	int old_masq = 0, old_dnat = 0;

	fake_host_reply(&c->h, "/nft", held, 0);
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), 0);
	doc = nft_parse_doc(c->h.calls[1].file, &cmds);
	json_array_foreach(cmds, i, cmd) {
		json_t *del = json_object_get(json_object_get(cmd, "delete"), "element");
		json_t *add = json_object_get(json_object_get(cmd, "add"), "element");
		const char *name = json_string_value(json_object_get(del, "name"));
		char *e = add ? json_dumps(json_object_get(add, "elem"), JSON_COMPACT) : NULL;

		old_masq += name && strcmp(name, "masq4") == 0;
		/* the old DNAT value, so that nft can delete it */
		old_dnat += e && strstr(e, "\"tcp\",5555]},22]") != NULL;
		free(e);
	}
	assert_int_equal(old_masq, 1);
	assert_int_equal(old_dnat, 1);
	json_decref(doc);

	/* the old form's close, late: the DNAT key is the new form's now,
	 * so it is left alone (and nothing else of the old form is there) */
	c->h.nreplies = 0;
	fake_host_reply(&c->h, "/nft", taken_over, 0);
	g = nat_grant(AF_INET, "203.0.113.2", 5555, SPA_NAT_FORWARD | SPA_NAT_MASQUERADE,
		      "198.51.100.10", 22, NULL);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.close(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 2);
	assert_null(strstr(c->h.calls[1].file, "\"delete\""));
	/* a table that cannot be read: every element of the form goes */
	c->h.reply_status[0] = 1;
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.close(c->state, &g), -EIO);
	assert_non_null(strstr(c->h.calls[1].file, "\"delete\""));
}

static void test_list(void **tstate)
{
	static const char listing[] =
		"{\"nftables\": [{\"set\": {\"name\": \"fwd_all6\", \"elem\": ["
		"{\"elem\": {\"val\": \"2001:db8:2::2\", \"timeout\": 60, \"expires\": 9,"
		" \"comment\": \"spa-nat 21 udp 53 2001:db8:1::10 0 2001:db8:1::5\"}},"
		"{\"elem\": {\"val\": \"2001:db8:2::3\", \"comment\": \"someone else's\"}},"
		"{\"elem\": {\"val\": \"2001:db8:2::4\", \"comment\": \"spa-nat 2 tcp 1 - 0 -\"}}]}},"
		"{\"set\": {\"name\": \"local4\", \"elem\": [{\"elem\": {\"val\": {\"concat\":"
		" [\"203.0.113.2\", \"tcp\", 2222]}, \"expires\": 5,"
		" \"comment\": \"spa-nat 2 tcp 5555 203.0.113.1 2222 -\"}}]}},"
		"{\"map\": {\"name\": \"dnat_addr4\", \"elem\": [[{\"elem\": {\"val\": {\"concat\":"
		" [\"203.0.113.2\", \"tcp\", 5555]}, \"comment\": \"spa-nat 2 tcp 5555 203.0.113.1 2222 -\"}},"
		" \"203.0.113.1\"]]}}]}";
	struct fake_listed l = { 0 };

	(void)tstate;
	assert_int_equal(spa_nft_list_json(listing, 1000, fake_host_collect, &l), 0);
	/* one grant per primary element; a foreign comment or a form that
	 * does not belong to the set is not ours */
	assert_int_equal(l.n, 2);
	assert_int_equal(l.g[0].family, AF_INET6);
	assert_int_equal(l.g[0].nat_flags, SPA_NAT_FORWARD | SPA_NAT_FORWARD_ALL | SPA_NAT_SNAT);
	assert_int_equal(l.g[0].proto, 17);
	assert_int_equal(l.g[0].port, 53);
	assert_string_equal(l.g[0].nat_addr.text, "2001:db8:1::10");
	assert_string_equal(l.g[0].snat_addr.text, "2001:db8:1::5");
	assert_int_equal(l.g[0].expires, 1009);
	assert_int_equal(l.g[1].nat_flags, SPA_NAT_LOCAL);
	assert_string_equal(l.g[1].src.text, "203.0.113.2");
	assert_int_equal(l.g[1].port, 5555);
	assert_int_equal(l.g[1].nat_port, 2222);
	assert_string_equal(l.g[1].nat_addr.text, "203.0.113.1");
	assert_int_equal(l.g[1].snat_addr.family, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptor),
		cmocka_unit_test_setup_teardown(test_forms, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_chains, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_ops, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_form_change, setup, plugin_case_teardown),
		cmocka_unit_test(test_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
