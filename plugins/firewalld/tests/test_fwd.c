/* SPDX-License-Identifier: MIT */
/* Command construction and rule recognition of the firewalld plugin,
 * against a fake host. */
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
#include <time.h>

#include "fake_host.h"
#include "plugin_case.h"
#include "spa_fwd.h"

extern const struct spa_plugin_descriptor spa_plugin_descriptor;
#define OPS (spa_plugin_descriptor.ops)

#define R4(a, p, pr) "rule family=\"ipv4\" source address=\"" a "\" port port=\"" p \
	"\" protocol=\"" pr "\" accept"

static const char rich_live[] =
	R4("198.51.100.2", "22", "tcp") "\n"
	/* the admin's: a prefix, a log clause, a service: never ours */
	"rule family=\"ipv4\" source address=\"203.0.113.0/24\" port port=\"22\" protocol=\"tcp\" accept\n"
	"rule family=\"ipv4\" source address=\"198.51.100.9\" port port=\"22\" protocol=\"tcp\" log prefix=\"x\" accept\n"
	"rule family=\"ipv4\" source address=\"198.51.100.9\" service name=\"ssh\" accept\n"
	"rule family=\"ipv4\" source address=\"198.51.100.9\" port port=\"022\" protocol=\"tcp\" accept\n"
	"rule family=\"ipv6\" source address=\"2001:db8::2\" destination address=\"2001:db8::1\" "
	"port port=\"53\" protocol=\"udp\" accept\n"
	R4("198.51.100.3", "22", "tcp");

static struct spa_grant make_grant(int af, const char *src, const char *dst,
				   int proto, int port, int64_t expires)
{
	return fake_host_grant(af, src, dst, proto, port, 30, expires,
			       "1.2.3.4\" accept; rule");
}

static int setup(void **tstate)
{
	struct plugin_case *c = plugin_case_new();

	fake_host_set(&c->h, "FIREWD_EXE", "/opt/fw/firewall-cmd");
	fake_host_reply(&c->h, "firewall-cmd", "", 0);
	*tstate = c;
	return 0;
}

static int setup_live(void **tstate)
{
	struct plugin_case *c;

	setup(tstate);
	c = *tstate;
	c->h.nreplies = 0;
	fake_host_reply(&c->h, "firewall-cmd", rich_live, 0);
	return 0;
}

static void fini_and_clear(struct plugin_case *c)
{
	OPS.fini(c->state);
	c->state = NULL;
}

static void test_descriptor(void **tstate)
{
	(void)tstate;
	assert_int_equal(spa_plugin_descriptor.magic, SPA_PLUGIN_MAGIC);
	assert_int_equal(spa_plugin_descriptor.abi_major, SPA_PLUGIN_ABI_MAJOR);
	assert_int_equal(spa_plugin_descriptor.struct_size, sizeof(struct spa_plugin_descriptor));
	assert_string_equal(spa_plugin_descriptor.name, "firewalld");
	assert_string_equal(spa_plugin_descriptor.key_prefix, "FIREWD_");
	assert_true(spa_plugin_descriptor.capabilities & SPA_PLUGIN_CAP_NATIVE_TIMEOUT);
	assert_true(spa_plugin_descriptor.capabilities & SPA_PLUGIN_CAP_IPV6);
	assert_true(spa_plugin_descriptor.capabilities & SPA_PLUGIN_CAP_NAT);
}

static void test_rule_text(void **tstate)
{
	struct spa_grant g = make_grant(AF_INET, "198.51.100.7", NULL, IPPROTO_TCP, 22, 0);
	char out[SPA_FWD_RULE_LEN];

	(void)tstate;
	assert_int_equal(spa_fwd_rule_text(&g, out, sizeof(out)), 0);
	assert_string_equal(out, R4("198.51.100.7", "22", "tcp"));
	g = make_grant(AF_INET6, "2001:db8:0:0::2", "2001:db8::1", IPPROTO_UDP, 53, 0);
	assert_int_equal(spa_fwd_rule_text(&g, out, sizeof(out)), 0);
	assert_string_equal(out, "rule family=\"ipv6\" source address=\"2001:db8::2\" "
			    "destination address=\"2001:db8::1\" port port=\"53\" "
			    "protocol=\"udp\" accept");
	/* too small a buffer is an error, never a truncated rule */
	assert_int_not_equal(spa_fwd_rule_text(&g, out, 40), 0);
	g.port = 0;
	assert_int_not_equal(spa_fwd_rule_text(&g, out, sizeof(out)), 0);
	g = make_grant(AF_INET, "198.51.100.7", NULL, IPPROTO_ICMP, 1, 0);
	assert_int_equal(spa_fwd_rule_text(&g, out, sizeof(out)), -EPROTONOSUPPORT);
	g = make_grant(AF_INET, "198.51.100.7", NULL, IPPROTO_TCP, 22, 0);
	g.family = AF_INET6; /* inconsistent with src */
	assert_int_not_equal(spa_fwd_rule_text(&g, out, sizeof(out)), 0);
}

static void test_rule_parse(void **tstate)
{
	struct spa_grant g;
	const char *l;
	char buf[128];

	(void)tstate;
	l = R4("198.51.100.2", "22", "tcp");
	assert_int_equal(spa_fwd_rule_parse(l, strlen(l), &g), 0);
	assert_int_equal(g.family, AF_INET);
	assert_string_equal(g.src.text, "198.51.100.2");
	assert_int_equal(g.port, 22);
	assert_int_equal(g.proto, IPPROTO_TCP);
	assert_int_equal(g.dst.family, 0);
	assert_int_equal(g.expires, 0);
	/* length-bounded: a longer buffer holding more after the rule */
	snprintf(buf, sizeof(buf), "%s\ntrailing", l);
	assert_int_equal(spa_fwd_rule_parse(buf, strlen(l), &g), 0);
	assert_int_not_equal(spa_fwd_rule_parse(buf, strlen(buf), &g), 0);
	/* not ours */
	l = R4("198.51.100.0/24", "22", "tcp");
	assert_int_equal(spa_fwd_rule_parse(l, strlen(l), &g), -ENOENT);
	l = R4("198.51.100.2", "0", "tcp");
	assert_int_equal(spa_fwd_rule_parse(l, strlen(l), &g), -ENOENT);
	l = R4("198.51.100.2", "65536", "tcp");
	assert_int_equal(spa_fwd_rule_parse(l, strlen(l), &g), -ENOENT);
	l = R4("198.51.100.2", "22", "sctp");
	assert_int_equal(spa_fwd_rule_parse(l, strlen(l), &g), -ENOENT);
	l = R4("2001:db8::2", "22", "tcp"); /* family mismatch */
	assert_int_equal(spa_fwd_rule_parse(l, strlen(l), &g), -ENOENT);
	l = "rule family=\"ipv4\" source address=\"198.51.100.2\" port port=\"22\" protocol=\"tcp\" drop";
	assert_int_equal(spa_fwd_rule_parse(l, strlen(l), &g), -ENOENT);
	l = "rule family=\"ipv4\" source NOT address=\"198.51.100.2\" port port=\"22\" protocol=\"tcp\" accept";
	assert_int_equal(spa_fwd_rule_parse(l, strlen(l), &g), -ENOENT);
	assert_int_equal(spa_fwd_rule_parse("", 0, &g), -ENOENT);
	l = "rule family=\"ipv4";
	assert_int_equal(spa_fwd_rule_parse(l, strlen(l), &g), -ENOENT);
}

static void test_zone_and_timeout(void **tstate)
{
	struct spa_grant g = make_grant(AF_INET, "198.51.100.7", NULL, IPPROTO_TCP, 22, 0);

	(void)tstate;
	assert_true(spa_fwd_valid_zone("public"));
	assert_true(spa_fwd_valid_zone("spa_knock-1"));
	assert_false(spa_fwd_valid_zone(""));
	assert_false(spa_fwd_valid_zone("-public"));
	assert_false(spa_fwd_valid_zone("pub lic"));
	assert_false(spa_fwd_valid_zone("a_zone_name_too_long"));
	assert_int_equal(spa_fwd_timeout(&g, 1000), 30);
	g.expires = 1100;
	assert_int_equal(spa_fwd_timeout(&g, 1000), 100);
	assert_int_equal(spa_fwd_timeout(&g, 1100), -ETIME);
	g.expires = 0;
	g.timeout = 0;
	assert_int_equal(spa_fwd_timeout(&g, 1000), -ETIME);
}

static void test_init(void **tstate)
{
	struct plugin_case *c = *tstate;

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(c->h.ncalls, 1);
	assert_string_equal(c->h.calls[0].argv, "/opt/fw/firewall-cmd --state");
}

static void test_init_fails_without_firewalld(void **tstate)
{
	struct plugin_case *c = *tstate;

	c->h.reply_status[0] = 252;
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_null(c->state);
	assert_true(c->h.nerrors > 0);
}

static void test_open_ipv4(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.7", NULL, IPPROTO_TCP, 22,
					(int64_t)time(NULL) + 60);
	char want[512];
	int i;

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 2);
	/* remove first so that a re-knock restarts the timer */
	assert_string_equal(c->h.calls[0].argv, "/opt/fw/firewall-cmd --zone=public "
			    "--remove-rich-rule=" R4("198.51.100.7", "22", "tcp"));
	i = fake_host_find(&c->h, "/opt/fw/firewall-cmd --zone=public --add-rich-rule=");
	assert_int_equal(i, 1);
	/* 59 or 60 seconds depending on a second boundary */
	snprintf(want, sizeof(want), "/opt/fw/firewall-cmd --zone=public --add-rich-rule=%s --timeout=",
		 R4("198.51.100.7", "22", "tcp"));
	assert_memory_equal(c->h.calls[1].argv, want, strlen(want));
	long t = strtol(c->h.calls[1].argv + strlen(want), NULL, 10);
	assert_true(t == 59 || t == 60);
	/* refresh is the same dance */
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.refresh(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 2);
	assert_int_equal(c->h.nerrors, 0);
}

static void test_open_zone_ipv6_dst(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = make_grant(AF_INET6, "2001:db8::2", "2001:db8::1", IPPROTO_UDP,
					53, 0);

	fake_host_set(&c->h, "FIREWD_ZONE", "spa");
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_string_equal(c->h.calls[1].argv,
			    "/opt/fw/firewall-cmd --zone=spa --add-rich-rule=rule family=\"ipv6\" "
			    "source address=\"2001:db8::2\" destination address=\"2001:db8::1\" "
			    "port port=\"53\" protocol=\"udp\" accept --timeout=30");
}

static void test_open_refuses_bad_grants(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.7", NULL, IPPROTO_TCP, 22,
					(int64_t)time(NULL) - 1);

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), -ETIME);
	g = make_grant(AF_INET, "198.51.100.7", NULL, IPPROTO_ICMP, 1, 0);
	assert_int_not_equal(OPS.open(c->state, &g), 0);
	g = make_grant(AF_INET, "198.51.100.7", NULL, IPPROTO_TCP, 22, 0);
	g.struct_size = 8;
	assert_int_equal(OPS.open(c->state, &g), -EINVAL);
	assert_int_not_equal(OPS.open(c->state, NULL), 0);
	assert_int_equal(c->h.ncalls, 0);
}

static void test_open_failure_reported(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.7", NULL, IPPROTO_TCP, 22, 0);

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	c->h.reply_status[0] = 1;
	assert_int_not_equal(OPS.open(c->state, &g), 0);
	assert_true(c->h.nerrors > 0);
}

static void test_close(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.7", NULL, IPPROTO_TCP, 22, 0);

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.close(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 1);
	assert_string_equal(c->h.calls[0].argv, "/opt/fw/firewall-cmd --zone=public "
			    "--remove-rich-rule=" R4("198.51.100.7", "22", "tcp"));
}

struct seen {
	unsigned int n;
	char what[4][160];
};

static void collect(void *ctx, const struct spa_grant *g)
{
	struct seen *s = ctx;

	if (s->n < 4)
		snprintf(s->what[s->n], sizeof(s->what[0]), "%s %s %u %u", g->src.text,
			 g->dst.family ? g->dst.text : "-", g->proto, g->port);
	s->n++;
}

static void test_list(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct seen s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.list(c->state, collect, &s), 0);
	assert_string_equal(c->h.calls[0].argv, "/opt/fw/firewall-cmd --zone=public --list-rich-rules");
	assert_int_equal(s.n, 3);
	assert_string_equal(s.what[0], "198.51.100.2 - 6 22");
	assert_string_equal(s.what[1], "2001:db8::2 2001:db8::1 17 53");
	assert_string_equal(s.what[2], "198.51.100.3 - 6 22");
}

static void test_flush_only_ours(void **tstate)
{
	struct plugin_case *c = *tstate;

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.flush(c->state), 0);
	assert_int_equal(c->h.ncalls, 4);
	assert_string_equal(c->h.calls[1].argv, "/opt/fw/firewall-cmd --zone=public "
			    "--remove-rich-rule=" R4("198.51.100.2", "22", "tcp"));
	assert_string_equal(c->h.calls[3].argv, "/opt/fw/firewall-cmd --zone=public "
			    "--remove-rich-rule=" R4("198.51.100.3", "22", "tcp"));
	assert_int_equal(fake_host_find(&c->h, "/opt/fw/firewall-cmd --zone=public "
					"--remove-rich-rule=rule family=\"ipv4\" source address=\"203."),
			 -1);
	assert_int_equal(fake_host_find(&c->h, "/opt/fw/firewall-cmd --zone=public "
					"--remove-rich-rule=rule family=\"ipv4\" source address=\"198.51.100.9\""),
			 -1);
}

/* The engine reads FLUSH_FIREWD_AT_* and calls ops.flush: init and fini
 * must not flush a second time on their own. */
static void test_no_flush_in_init_and_fini(void **tstate)
{
	struct plugin_case *c = *tstate;

	fake_host_set(&c->h, "FLUSH_FIREWD_AT_INIT", "Y");
	fake_host_set(&c->h, "FLUSH_FIREWD_AT_EXIT", "Y");
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(c->h.ncalls, 1);
	fake_host_reset_calls(&c->h);
	OPS.fini(c->state);
	c->state = NULL;
	assert_int_equal(c->h.ncalls, 0);
}

static void test_old_host_struct_accepted(void **tstate)
{
	struct plugin_case *c = *tstate;

	/* an ABI 1.0 engine's host struct ends at run */
	c->h.api.struct_size = (uint32_t)(offsetof(struct spa_host_api, run) +
					  sizeof(c->h.api.run));
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fini_and_clear(c);
	c->h.api.struct_size -= 1;
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_null(c->state);
}

static void test_bad_config(void **tstate)
{
	struct plugin_case *c = *tstate;

	fake_host_set(&c->h, "FIREWD_ZONE", "--permanent");
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_null(c->state);
	assert_int_equal(c->h.ncalls, 0);
}

static void test_relative_exe_refused(void **tstate)
{
	struct plugin_case *c = *tstate;

	c->h.nkeys = 0; /* fake_host_set appends: drop the absolute one */
	fake_host_set(&c->h, "FIREWD_EXE", "firewall-cmd");
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_null(c->state);
	assert_int_equal(c->h.ncalls, 0);
}

static void test_default_exe(void **tstate)
{
	struct plugin_case *c = *tstate;

	c->h.nkeys = 0; /* drop FIREWD_EXE */
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_string_equal(c->h.calls[0].argv, "/usr/bin/firewall-cmd --state");
}

static void test_check(void **tstate)
{
	struct spa_grant probe = fake_host_probe("access.conf:2");
	struct plugin_case *c = plugin_case_new();

	(void)tstate;
	fake_host_set(&c->h, "FIREWD_ZONE", "internal");
	fake_host_set(&c->h, "FIREWD_EXE", "/usr/bin/firewall-cmd");
	assert_int_equal(OPS.check(&c->h.api, NULL), 0);
	assert_int_equal(OPS.check(&c->h.api, &probe), 0);
	assert_int_equal(c->h.ncalls, 0);
	assert_int_equal(c->h.nerrors, 0);
	plugin_case_teardown((void **)&c);
	assert_int_equal(plugin_case_check_refused("FIREWD_ZONE", "pub lic", "not a zone name"), 0);
	assert_int_equal(plugin_case_check_refused("FIREWD_ZONE", "--panic-on", "FIREWD_ZONE"), 0);
	assert_int_equal(plugin_case_check_refused("FIREWD_EXE", "firewall-cmd", "absolute"), 0);
	assert_int_equal(plugin_case_check_refused("FIREWD_TRANSPORT", "nft", "not one of"), 0);
	assert_int_equal(plugin_case_check_refused("FIREWD_TRANSPORT", "DBUS", "auto"), 0);
#ifndef SPA_FWD_HAVE_SDBUS
	/* a build without libsystemd says so instead of failing at init */
	assert_int_equal(plugin_case_check_refused("FIREWD_TRANSPORT", "dbus", "libsystemd"), 0);
#endif
}

/* The whole binary runs with a system bus that does not exist (main), so
 * auto (every other test) falls back to firewall-cmd; exec never tries. */
static void test_transport_exec(void **tstate)
{
	struct plugin_case *c = *tstate;

	fake_host_set(&c->h, "FIREWD_TRANSPORT", "exec");
	assert_int_equal(OPS.check(&c->h.api, NULL), 0);
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(c->h.ncalls, 1);
	assert_string_equal(c->h.calls[0].argv, "/opt/fw/firewall-cmd --state");
}

static void test_transport_auto_falls_back(void **tstate)
{
	struct plugin_case *c = *tstate;

	fake_host_set(&c->h, "FIREWD_TRANSPORT", "auto");
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(c->h.ncalls, 1);
	assert_string_equal(c->h.calls[0].argv, "/opt/fw/firewall-cmd --state");
	assert_int_equal(c->h.nerrors, 0);
	/* firewall-cmd cannot reach firewalld either: init fails */
	fini_and_clear(c);
	c->h.reply_status[0] = 252;
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_null(c->state);
}

#ifdef SPA_FWD_HAVE_SDBUS
/* dbus asked for explicitly never falls back to a command. */
static void test_transport_dbus_unreachable(void **tstate)
{
	struct plugin_case *c = *tstate;

	fake_host_set(&c->h, "FIREWD_TRANSPORT", "dbus");
	assert_int_equal(OPS.check(&c->h.api, NULL), 0);
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_null(c->state);
	assert_int_equal(c->h.ncalls, 0);
	assert_true(c->h.nerrors > 0);
}
#endif

/* NAT grants (ABI 1.5): rich rules of firewalld's own. */
#define FPORT4(a, p, tp, to) "rule family=\"ipv4\" source address=\"" a "\" forward-port port=\"" \
	p "\" protocol=\"tcp\" to-port=\"" tp "\" to-addr=\"" to "\""
#define MASQ4(a, d) "rule family=\"ipv4\" source address=\"" a "\" destination address=\"" d \
	"\" masquerade"

static struct spa_grant nat_grant(uint32_t flags, const char *to, int to_port)
{
	struct spa_grant g = make_grant(AF_INET, "203.0.113.2", NULL, IPPROTO_TCP, 5555, 0);

	g.nat_flags = flags;
	if (to) {
		g.nat_addr.family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, to, &g.nat_addr.bin), 1);
		/* commands come from the binary form */
		snprintf(g.nat_addr.text, sizeof(g.nat_addr.text), "x\" accept; rule");
	}
	g.nat_port = (uint16_t)to_port;
	return g;
}

static void test_nat_rules(void **tstate)
{
	struct spa_grant g = nat_grant(SPA_NAT_FORWARD | SPA_NAT_MASQUERADE, "198.51.100.10", 22);
	struct spa_fwd_rule r[SPA_FWD_NAT_MAX];
	const char *why;
	size_t n;

	(void)tstate;
	assert_int_equal(spa_fwd_nat_rules(&g, r, &n, &why), 0);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].text, FPORT4("203.0.113.2", "5555", "22", "198.51.100.10"));
	assert_false(r[0].masq_zone);
	assert_string_equal(r[1].text, MASQ4("203.0.113.2", "198.51.100.10"));
	assert_true(r[1].masq_zone);
	/* local: the forward-port and the access rule of the target port */
	g = nat_grant(SPA_NAT_LOCAL, "203.0.113.1", 2222);
	assert_int_equal(spa_fwd_nat_rules(&g, r, &n, &why), 0);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].text, FPORT4("203.0.113.2", "5555", "2222", "203.0.113.1"));
	assert_string_equal(r[1].text, R4("203.0.113.2", "2222", "tcp"));
	/* what rich rules cannot say, said */
	g = nat_grant(SPA_NAT_FORWARD | SPA_NAT_SNAT, "198.51.100.10", 22);
	assert_int_equal(spa_fwd_nat_rules(&g, r, &n, &why), -EOPNOTSUPP);
	assert_non_null(strstr(why, "SNAT"));
	g = nat_grant(SPA_NAT_FORWARD | SPA_NAT_NO_DNAT, "198.51.100.10", 22);
	assert_int_equal(spa_fwd_nat_rules(&g, r, &n, &why), -EOPNOTSUPP);
	assert_non_null(strstr(why, "DISABLE_DNAT"));
	g = nat_grant(SPA_NAT_FORWARD | SPA_NAT_FORWARD_ALL, "198.51.100.10", 0);
	assert_int_equal(spa_fwd_nat_rules(&g, r, &n, &why), -EOPNOTSUPP);
	assert_non_null(strstr(why, "FORWARD_ALL"));
	g = nat_grant(SPA_NAT_FORWARD, NULL, 22);
	assert_int_equal(spa_fwd_nat_rules(&g, r, &n, &why), -EINVAL);
	g = nat_grant(SPA_NAT_FORWARD | SPA_NAT_LOCAL, "198.51.100.10", 22);
	assert_int_equal(spa_fwd_nat_rules(&g, r, &n, &why), -EINVAL);
	/* ours only in our exact spelling */
	assert_int_equal(spa_fwd_nat_parse(FPORT4("203.0.113.2", "5555", "22", "198.51.100.10"),
					   strlen(FPORT4("203.0.113.2", "5555", "22",
							 "198.51.100.10")), &g), 0);
	assert_int_equal(g.nat_flags, SPA_NAT_FORWARD);
	assert_int_equal(g.nat_port, 22);
	assert_string_equal(g.nat_addr.text, "198.51.100.10");
	assert_int_equal(spa_fwd_nat_parse(FPORT4("203.0.113.2", "5555", "022", "198.51.100.10"),
					   strlen(FPORT4("203.0.113.2", "5555", "022",
							 "198.51.100.10")), &g), -ENOENT);
	assert_int_equal(spa_fwd_masq_parse(MASQ4("203.0.113.0/24", "198.51.100.10"),
					    strlen(MASQ4("203.0.113.0/24", "198.51.100.10")), &g),
			 -ENOENT);
}

static void test_nat_open_close(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant g = nat_grant(SPA_NAT_FORWARD | SPA_NAT_MASQUERADE, "198.51.100.10", 22);

	fake_host_set(&c->h, "FIREWD_MASQ_ZONE", "internal");
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 4);
	assert_string_equal(c->h.calls[0].argv, "/opt/fw/firewall-cmd --zone=public "
			    "--remove-rich-rule=" FPORT4("203.0.113.2", "5555", "22", "198.51.100.10"));
	assert_string_equal(c->h.calls[1].argv, "/opt/fw/firewall-cmd --zone=public "
			    "--add-rich-rule=" FPORT4("203.0.113.2", "5555", "22", "198.51.100.10")
			    " --timeout=30");
	/* masquerade where the traffic leaves */
	assert_string_equal(c->h.calls[3].argv, "/opt/fw/firewall-cmd --zone=internal "
			    "--add-rich-rule=" MASQ4("203.0.113.2", "198.51.100.10") " --timeout=30");
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.close(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 2);
	assert_string_equal(c->h.calls[1].argv, "/opt/fw/firewall-cmd --zone=internal "
			    "--remove-rich-rule=" MASQ4("203.0.113.2", "198.51.100.10"));
	/* refused before any command, with the reason */
	g = nat_grant(SPA_NAT_FORWARD | SPA_NAT_SNAT, "198.51.100.10", 22);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), -EOPNOTSUPP);
	assert_int_equal(c->h.ncalls, 0);
	assert_non_null(strstr(c->h.last_err, "SNAT_TRANSLATE_IP"));
	assert_int_equal(fake_host_find(&c->h, "x\""), -1);
}

static const char rich_nat[] =
	FPORT4("203.0.113.2", "5555", "22", "198.51.100.10") "\n"
	MASQ4("203.0.113.2", "198.51.100.10") "\n"
	FPORT4("203.0.113.3", "6666", "2222", "203.0.113.1") "\n"
	R4("203.0.113.3", "2222", "tcp") "\n"
	R4("203.0.113.4", "22", "tcp") "\n"
	/* an admin's forward-port: not ours */
	"rule family=\"ipv4\" source address=\"203.0.113.0/24\" forward-port port=\"80\" "
	"protocol=\"tcp\" to-port=\"80\" to-addr=\"198.51.100.10\"\n";

static void test_nat_list_flush(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct fake_listed l;

	memset(&l, 0, sizeof(l));
	c->h.nreplies = 0;
	fake_host_reply(&c->h, "firewall-cmd", rich_nat, 0);
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(OPS.list(c->state, fake_host_collect, &l), 0);
	/* the access rule, then one grant per forward-port: masquerade and
	 * the local form's access rule are parts of theirs */
	assert_int_equal(l.n, 3);
	assert_string_equal(l.g[0].src.text, "203.0.113.4");
	assert_int_equal(l.g[0].nat_flags, 0);
	assert_int_equal(l.g[1].nat_flags, SPA_NAT_FORWARD | SPA_NAT_MASQUERADE);
	assert_int_equal(l.g[1].port, 5555);
	assert_int_equal(l.g[1].nat_port, 22);
	assert_string_equal(l.g[1].nat_addr.text, "198.51.100.10");
	assert_int_equal(l.g[2].nat_flags, SPA_NAT_LOCAL);
	assert_string_equal(l.g[2].src.text, "203.0.113.3");
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.flush(c->state), 0);
	/* one listing, five removals: every rule of ours, not the admin's */
	assert_int_equal(c->h.ncalls, 6);
	assert_int_equal(fake_host_find(&c->h, "/opt/fw/firewall-cmd --zone=public "
					"--remove-rich-rule=" MASQ4("203.0.113.2", "198.51.100.10")),
			 5);
	assert_int_equal(fake_host_find(&c->h, "/opt/fw/firewall-cmd --zone=public "
					"--remove-rich-rule=rule family=\"ipv4\" source address=\"203.0.113.0/24\""),
			 -1);
}

int main(void)
{
	/* never the host's bus: sd_bus_open_system reads this, and a bus
	 * that is not there sends auto to firewall-cmd (the fake runner) */
	setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/spa-test-system-bus", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptor),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_rule_text),
		cmocka_unit_test(test_rule_parse),
		cmocka_unit_test(test_zone_and_timeout),
		cmocka_unit_test(test_nat_rules),
		cmocka_unit_test_setup_teardown(test_nat_open_close, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_nat_list_flush, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_init, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_init_fails_without_firewalld, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_open_ipv4, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_open_zone_ipv6_dst, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_bad_grants, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_open_failure_reported, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_close, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_list, setup_live, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_flush_only_ours, setup_live, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_no_flush_in_init_and_fini, setup_live, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_old_host_struct_accepted, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_relative_exe_refused, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_default_exe, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_transport_exec, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_transport_auto_falls_back, setup,
						plugin_case_teardown),
#ifdef SPA_FWD_HAVE_SDBUS
		cmocka_unit_test_setup_teardown(test_transport_dbus_unreachable, setup,
						plugin_case_teardown),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
