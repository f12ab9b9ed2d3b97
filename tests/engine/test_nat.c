/* SPDX-License-Identifier: MIT */
/*
 * test_nat.c - the NAT form of a knock (engine/spa_nat.c): every message
 * type and FORCE_* combination through the real pipeline, the monitor's
 * re-check of a NAT record, and the grant store and journal carrying the
 * form (identity, round trip, a version 4 journal without it).
 */
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

#include "engine_helpers.h"
#include "spa_config.h"
#include "spa_grants.h"
#include "spa_pipeline.h"
#include "spa_privsep.h"

#define NOW 1800000000LL

/* Every stanza takes any source; the key picks the stanza. */
#define ACCESS                                                                  \
	"SOURCE ANY\nKEY k-plain\n"                                             \
	"SOURCE ANY\nKEY k-force\nFORCE_NAT 192.0.2.10 2222\nFORCE_SNAT 203.0.113.5\n" \
	"SOURCE ANY\nKEY k-masq\nFORCE_NAT 192.0.2.10 22\nFORCE_MASQUERADE Y\nFORCE_SNAT 203.0.113.5\n" \
	"SOURCE ANY\nKEY k-all\nFORWARD_ALL Y\nDISABLE_DNAT Y\n"                \
	"SOURCE ANY\nKEY k-alltarget\nFORWARD_ALL Y\nFORCE_NAT 192.0.2.11 80\n"

/* a configuration without any NAT switch cannot have FORCE_NAT stanzas */
#define PLAIN_ACCESS "SOURCE ANY\nKEY k-plain\n"

#define FULL "ENABLE_IPT_FORWARDING Y\nENABLE_IPT_LOCAL_NAT Y\nENABLE_IPT_SNAT Y\n" \
	     "SNAT_TRANSLATE_IP 203.0.113.1\n"

struct nat_case {
	const char *server;     /* fwknopd.conf */
	const char *key;        /* picks the stanza */
	int type;
	const char *message;
	const char *nat;        /* the NAT field, "" none */
	uint32_t client_timeout;
	/* the outcome */
	int verdict;
	const char *reason;     /* a substring of it */
	uint32_t flags;
	const char *to;         /* "addr,port" or "" (no target) */
	const char *snat;       /* "" none */
	size_t n_ports;
};

#define F SPA_NAT_FORWARD
#define L SPA_NAT_LOCAL

static const struct nat_case cases[] = {
	/* plain access stays plain, every port */
	{ FULL, "k-plain", 1, "198.51.100.7,tcp/22,udp/53", "", 0, SPA_GRANT, "granted", 0, "",
	  "", 2 },
	/* type 2: forward to the field's target; ENABLE_IPT_SNAT with
	 * SNAT_TRANSLATE_IP is an SNAT; only the first port */
	{ FULL, "k-plain", 2, "198.51.100.7,tcp/2222,udp/53", "192.0.2.10,22", 0, SPA_GRANT,
	  "granted", F | SPA_NAT_SNAT, "192.0.2.10,22", "203.0.113.1", 1 },
	{ FULL, "k-plain", 4, "198.51.100.7,tcp/2222", "192.0.2.10,22", 60, SPA_GRANT, "granted",
	  F | SPA_NAT_SNAT, "192.0.2.10,22", "203.0.113.1", 1 },
	/* types 5/6: local NAT, no source translation */
	{ FULL, "k-plain", 5, "198.51.100.7,tcp/5555", "192.0.2.1,22", 0, SPA_GRANT, "granted", L,
	  "192.0.2.1,22", "", 1 },
	{ FULL, "k-plain", 6, "198.51.100.7,tcp/5555", "192.0.2.1,22", 30, SPA_GRANT, "granted",
	  L, "192.0.2.1,22", "", 1 },
	/* FORCE_NAT makes a plain knock a forward, and beats the field */
	{ FULL, "k-force", 1, "198.51.100.7,tcp/22", "", 0, SPA_GRANT, "granted",
	  F | SPA_NAT_SNAT, "192.0.2.10,2222", "203.0.113.5", 1 },
	{ FULL, "k-force", 2, "198.51.100.7,tcp/22", "192.0.2.99,8080", 0, SPA_GRANT, "granted",
	  F | SPA_NAT_SNAT, "192.0.2.10,2222", "203.0.113.5", 1 },
	/* ...and a local knock's target, staying local */
	{ FULL, "k-force", 5, "198.51.100.7,tcp/22", "192.0.2.99,8080", 0, SPA_GRANT, "granted",
	  L, "192.0.2.10,2222", "", 1 },
	/* FORCE_MASQUERADE beats FORCE_SNAT */
	{ FULL, "k-masq", 1, "198.51.100.7,tcp/22", "", 0, SPA_GRANT, "granted",
	  F | SPA_NAT_MASQUERADE, "192.0.2.10,22", "", 1 },
	/* FORWARD_ALL alone: no target, no DNAT; the field is not used */
	{ FULL, "k-all", 1, "198.51.100.7,tcp/22", "", 0, SPA_GRANT, "granted",
	  F | SPA_NAT_FORWARD_ALL | SPA_NAT_NO_DNAT | SPA_NAT_SNAT, "", "203.0.113.1", 1 },
	{ FULL, "k-all", 2, "198.51.100.7,tcp/22", "192.0.2.99,22", 0, SPA_GRANT, "granted",
	  F | SPA_NAT_FORWARD_ALL | SPA_NAT_NO_DNAT | SPA_NAT_SNAT, "", "203.0.113.1", 1 },
	{ FULL, "k-alltarget", 1, "198.51.100.7,tcp/22", "", 0, SPA_GRANT, "granted",
	  F | SPA_NAT_FORWARD_ALL | SPA_NAT_SNAT, "192.0.2.11,80", "203.0.113.1", 1 },
	/* targets no host can be */
	{ FULL, "k-plain", 2, "198.51.100.7,tcp/22", "224.0.0.1,22", 0, SPA_REJECT,
	  "NAT target 224.0.0.1 is multicast", 0, "", "", 1 },
	{ FULL, "k-plain", 2, "198.51.100.7,tcp/22", "0.0.0.0,22", 0, SPA_REJECT,
	  "NAT target 0.0.0.0 is unspecified", 0, "", "", 1 },
	/* names: never resolved on the packet path */
	/* names: never resolved on the packet path; the monitor resolves
	 * them (nat_resolve, checked below) */
	{ FULL, "k-plain", 2, "198.51.100.7,tcp/22", "internal.example,22", 0, SPA_GRANT,
	  "granted", F | SPA_NAT_SNAT, "", "203.0.113.1", 1 },
	{ FULL, "k-plain", 2, "198.51.100.7,tcp/22", "10.1,22", 0, SPA_REJECT,
	  "NAT host '10.1' is not a host name", 0, "", "", 1 },
	{ FULL, "k-plain", 2, "198.51.100.7,tcp/22", "bad-.example,22", 0, SPA_REJECT,
	  "is not a host name", 0, "", "", 1 },
	{ "ENABLE_IPT_FORWARDING Y\nENABLE_NAT_DNS N\n", "k-plain", 2, "198.51.100.7,tcp/22",
	  "internal.example,22", 0, SPA_REJECT,
	  "NAT host 'internal.example' is a name and ENABLE_NAT_DNS is N", 0, "", "", 1 },
	/* the switches: off by default, named in the refusal */
	{ "", "k-plain", 2, "198.51.100.7,tcp/22", "192.0.2.10,22", 0, SPA_REJECT,
	  "NAT access not enabled (ENABLE_IPT_FORWARDING N)", 0, "", "", 1 },
	{ "", "k-plain", 5, "198.51.100.7,tcp/22", "192.0.2.10,22", 0, SPA_REJECT,
	  "local NAT access not enabled (ENABLE_IPT_LOCAL_NAT N)", 0, "", "", 1 },
	{ "ENABLE_FIREWD_FORWARDING N\n", "k-plain", 4, "198.51.100.7,tcp/22", "192.0.2.10,22",
	  9, SPA_REJECT, "NAT access not enabled (ENABLE_FIREWD_FORWARDING N)", 0, "", "", 1 },
	{ "ENABLE_IPT_FORWARDING Y\n", "k-plain", 6, "198.51.100.7,tcp/22", "192.0.2.10,22", 9,
	  SPA_REJECT, "local NAT access not enabled", 0, "", "", 1 },
	/* Y under either family's name; SNAT without an address masquerades */
	{ "ENABLE_IPT_FORWARDING N\nENABLE_FIREWD_FORWARDING Y\nENABLE_FIREWD_SNAT Y\n",
	  "k-plain", 2, "198.51.100.7,tcp/22", "192.0.2.10,22", 0, SPA_GRANT, "granted",
	  F | SPA_NAT_MASQUERADE, "192.0.2.10,22", "", 1 },
	{ "ENABLE_IPT_FORWARDING Y\n", "k-plain", 2, "198.51.100.7,tcp/22", "192.0.2.10,22", 0,
	  SPA_GRANT, "granted", F, "192.0.2.10,22", "", 1 },
};

static void load(const char *server, const char *access, struct spa_config *c, char *dir)
{
	char err[SPA_CONF_ERR_LEN], path[4096];

	th_tmpdir(dir, 64);
	spa_config_init(c);
	th_write(dir, "fwknopd.conf", server[0] ? server : "ENABLE_UDP_SERVER Y\n", path,
		 sizeof(path));
	if (spa_config_load_server(c, path, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	th_write(dir, "access.conf", access, path, sizeof(path));
	if (spa_config_load_access(c, path, false, err, sizeof(err)) < 0 ||
	    spa_config_finish(c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static size_t build(const struct nat_case *k, char *out)
{
	struct spa_key_spec spec = { .enc_key = (const uint8_t *)k->key,
				     .enc_key_len = strlen(k->key) };
	struct spa_keys *keys = NULL;
	struct spa_message m;
	size_t len;

	assert_int_equal(spa_keys_new(&spec, &keys), 0);
	assert_int_equal(spa_message_init(&m), 0);
	snprintf(m.username, sizeof(m.username), "alice");
	m.timestamp = (uint64_t)NOW;
	m.type = k->type;
	snprintf(m.message, sizeof(m.message), "%s", k->message);
	snprintf(m.nat_access, sizeof(m.nat_access), "%s", k->nat);
	m.client_timeout = k->client_timeout;
	assert_int_equal(spa_packet_build(&m, keys, NULL, out, SPA_WIRE_CAP, &len), 0);
	spa_keys_free(keys);
	return len;
}

static void mkpkt(struct spa_pkt *p, const char *data, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->data = data;
	p->len = len;
	p->family = AF_INET;
	inet_pton(AF_INET, "198.51.100.7", p->src_bin);
	snprintf(p->src, sizeof(p->src), "198.51.100.7");
	inet_pton(AF_INET, "203.0.113.2", p->dst_bin);
	snprintf(p->dst, sizeof(p->dst), "203.0.113.2");
	p->sport = 40000;
	p->dport = 62201;
	p->proto = 17;
	p->now = NOW;
}

static void check(size_t i, const struct nat_case *k, const struct spa_decision *d,
		  const char *who)
{
	char to[80] = "";

	if (d->nat_family)
		snprintf(to, sizeof(to), "%s,%u", d->nat_addr, d->nat_port);
	if ((int)d->verdict != k->verdict || !strstr(d->reason, k->reason))
		fail_msg("%s case %zu: verdict %d '%s' (want %d '%s')", who, i, d->verdict,
			 d->reason, k->verdict, k->reason);
	if (k->verdict != SPA_GRANT)
		return;
	if (d->nat_flags != k->flags || strcmp(to, k->to) != 0 ||
	    strcmp(d->snat_addr, k->snat) != 0 || d->n_ports != k->n_ports)
		fail_msg("%s case %zu: flags 0x%x to '%s' snat '%s' ports %zu (want 0x%x '%s' "
			 "'%s' %zu)", who, i, d->nat_flags, to, d->snat_addr, d->n_ports, k->flags,
			 k->to, k->snat, k->n_ports);
	if (k->client_timeout && d->timeout != k->client_timeout)
		fail_msg("case %zu: timeout %u", i, d->timeout);
	if (d->nat_resolve != (strstr(k->nat, "example") != NULL) ||
	    (d->nat_resolve && (strcmp(d->nat_host, "internal.example") != 0 || d->nat_port != 22)))
		fail_msg("%s case %zu: nat_resolve %d host '%s' port %u", who, i, d->nat_resolve,
			 d->nat_host, d->nat_port);
}

/* Each case through the packet process's pipeline, then its record through
 * the monitor's decode and re-check, which must reach the same form. */
static void test_forms(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct nat_case *k = &cases[i];
		struct spa_pipeline_opts o = { .test_mode = false };
		struct spa_config c;
		struct spa_replay *r = NULL;
		struct spa_decision d, m;
		struct spa_ps_decision rec;
		struct spa_pkt p, mp;
		char dir[64], wire[SPA_WIRE_CAP], why[128] = "";
		size_t len;

		load(k->server, strstr(k->server, "LOCAL_NAT Y") ? ACCESS : PLAIN_ACCESS, &c, dir);
		assert_int_equal(spa_replay_open(NULL, NOW, 0, &r), 0);
		len = build(k, wire);
		mkpkt(&p, wire, len);
		spa_pipeline_run(&c, r, &p, &o, &d);
		check(i, k, &d, "packet process");
		spa_privsep_pack_decision(&c, &p, &d, 0, &rec);
		if (spa_privsep_decode(&rec, sizeof(rec), why, sizeof(why)) != SPA_PS_DECISION)
			fail_msg("case %zu: record refused: %s", i, why);
		assert_int_equal(spa_privsep_recheck(&c, NULL, &rec, &mp, &m), 0);
		if (k->verdict == SPA_GRANT)
			check(i, k, &m, "monitor");
		spa_replay_close(r);
		spa_config_free(&c);
		th_rmrf(dir);
	}
}

/* A record whose NAT field the decoder would never have produced. */
static void test_record_nat_field(void **state)
{
	const struct nat_case *k = &cases[1];
	struct spa_pipeline_opts o = { .test_mode = false };
	struct spa_config c;
	struct spa_replay *r = NULL;
	struct spa_decision d;
	struct spa_ps_decision rec;
	struct spa_pkt p;
	char dir[64], wire[SPA_WIRE_CAP], why[128] = "";

	(void)state;
	load(k->server, ACCESS, &c, dir);
	assert_int_equal(spa_replay_open(NULL, NOW, 0, &r), 0);
	mkpkt(&p, wire, build(k, wire));
	spa_pipeline_run(&c, r, &p, &o, &d);
	assert_int_equal(d.verdict, SPA_GRANT);
	spa_privsep_pack_decision(&c, &p, &d, 0, &rec);
	snprintf(rec.msg.nat_access, sizeof(rec.msg.nat_access), "192.0.2.10/x,22");
	assert_int_equal(spa_privsep_decode(&rec, sizeof(rec), why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "NAT field"));
	memset(rec.msg.nat_access, 'a', sizeof(rec.msg.nat_access));
	assert_int_equal(spa_privsep_decode(&rec, sizeof(rec), why, sizeof(why)), -EBADMSG);
	spa_replay_close(r);
	spa_config_free(&c);
	th_rmrf(dir);
}

static void make(struct spa_grant_rec *r, uint32_t flags, const char *to, uint16_t to_port,
		 const char *snat)
{
	memset(r, 0, sizeof(*r));
	r->g.struct_size = sizeof(r->g);
	r->g.family = AF_INET;
	r->g.src.family = AF_INET;
	inet_pton(AF_INET, "198.51.100.7", &r->g.src.bin);
	snprintf(r->g.src.text, sizeof(r->g.src.text), "198.51.100.7");
	r->g.proto = 6;
	r->g.port = 2222;
	r->g.timeout = 30;
	r->g.expires = NOW + 30;
	snprintf(r->g.stanza, sizeof(r->g.stanza), "access.conf:1");
	snprintf(r->g.username, sizeof(r->g.username), "alice");
	snprintf(r->plugin, sizeof(r->plugin), "recorder");
	r->g.nat_flags = flags;
	if (to) {
		r->g.nat_addr.family = AF_INET;
		inet_pton(AF_INET, to, &r->g.nat_addr.bin);
		snprintf(r->g.nat_addr.text, sizeof(r->g.nat_addr.text), "%s", to);
	}
	r->g.nat_port = to_port;
	if (snat) {
		r->g.snat_addr.family = AF_INET;
		inet_pton(AF_INET, snat, &r->g.snat_addr.bin);
		snprintf(r->g.snat_addr.text, sizeof(r->g.snat_addr.text), "%s", snat);
	}
}

/* A re-knock refreshes the grant of the same form only. */
static void test_store_identity(void **state)
{
	struct spa_grants gs;
	struct spa_grant_rec a, b, c, plain, out;

	(void)state;
	assert_int_equal(spa_grants_open(&gs, NULL), 0);
	make(&a, SPA_NAT_FORWARD | SPA_NAT_SNAT, "192.0.2.10", 22, "203.0.113.1");
	make(&b, SPA_NAT_FORWARD | SPA_NAT_SNAT, "192.0.2.11", 22, "203.0.113.1");
	make(&c, SPA_NAT_FORWARD | SPA_NAT_MASQUERADE, "192.0.2.10", 22, NULL);
	make(&plain, 0, NULL, 0, NULL);
	assert_int_equal(spa_grants_add(&gs, &a), 0);
	assert_false(spa_grants_find(&gs, &b, NULL));
	assert_false(spa_grants_find(&gs, &c, NULL));
	assert_false(spa_grants_find(&gs, &plain, NULL));
	assert_int_equal(spa_grants_add(&gs, &plain), 0);
	assert_int_equal(spa_grants_add(&gs, &b), 0);
	make(&c, SPA_NAT_FORWARD | SPA_NAT_SNAT, "192.0.2.11", 22, "203.0.113.1");
	assert_true(spa_grants_find(&gs, &c, &out));
	assert_int_equal(out.g.id, b.g.id);
	assert_true(spa_grants_find(&gs, &plain, &out));
	assert_int_equal(out.g.id, plain.g.id);
	assert_int_equal(out.g.nat_flags, 0);
	assert_int_equal(out.g.nat_addr.family, 0);
	/* a removal moves the last record: the index follows */
	assert_int_equal(spa_grants_remove(&gs, a.g.id), 0);
	assert_true(spa_grants_find(&gs, &c, &out));
	assert_string_equal(out.g.snat_addr.text, "203.0.113.1");
	spa_grants_close(&gs);
}

static void test_journal(void **state)
{
	struct spa_grants gs;
	struct spa_grant_rec a, l, out;
	char dir[64], path[4096], *text;

	(void)state;
	th_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/grants.json", dir);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	make(&a, SPA_NAT_FORWARD | SPA_NAT_FORWARD_ALL | SPA_NAT_SNAT, "192.0.2.10", 22,
	     "203.0.113.1");
	make(&l, SPA_NAT_LOCAL, "192.0.2.1", 22, NULL);
	l.g.port = 5555;
	assert_int_equal(spa_grants_add(&gs, &a), 0);
	assert_int_equal(spa_grants_add(&gs, &l), 0);
	assert_int_equal(spa_grants_sync(&gs), 0);
	spa_grants_close(&gs);
	/* restart: the same forms */
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 2);
	assert_true(spa_grants_by_id(&gs, a.g.id, &out));
	assert_int_equal(out.g.nat_flags, SPA_NAT_FORWARD | SPA_NAT_FORWARD_ALL | SPA_NAT_SNAT);
	assert_string_equal(out.g.nat_addr.text, "192.0.2.10");
	assert_int_equal(out.g.nat_port, 22);
	assert_string_equal(out.g.snat_addr.text, "203.0.113.1");
	assert_true(spa_grants_by_id(&gs, l.g.id, &out));
	assert_int_equal(out.g.nat_flags, SPA_NAT_LOCAL);
	assert_int_equal(out.g.snat_addr.family, 0);
	a.policy = NULL;     /* the closed store's: "" is the same policy */
	assert_true(spa_grants_find(&gs, &a, NULL));
	/* a snapshot writes them too */
	assert_int_equal(spa_grants_save(&gs), 0);
	spa_grants_close(&gs);
	text = th_read(path);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"version\":5"));
	assert_non_null(strstr(text, "\"nat_flags\":21"));
	assert_non_null(strstr(text, "\"snat_addr\":\"203.0.113.1\""));
	free(text);
	th_rmrf(dir);
}

/* A journal of the spad before NAT (version 4, no NAT keys) still loads;
 * a NAT form this spad does not know is a damaged record, skipped. */
static void test_old_journal(void **state)
{
	struct spa_grants gs;
	struct spa_grant_rec out;
	char dir[64], path[4096];

	(void)state;
	th_tmpdir(dir, sizeof(dir));
	th_write(dir, "grants.json",
		 "{\"version\":4,\"next_id\":3}\n"
		 "{\"add\":{\"id\":1,\"plugin\":\"recorder\",\"src\":\"198.51.100.7\",\"dst\":null,"
		 "\"proto\":6,\"port\":22,\"nat_addr\":null,\"nat_port\":0,\"timeout\":30,"
		 "\"expires\":1800000030,\"stanza\":\"access.conf:1\",\"username\":\"alice\","
		 "\"policy\":{\"id\":\"\",\"vars\":[]}}}\n"
		 "{\"add\":{\"id\":2,\"plugin\":\"recorder\",\"src\":\"198.51.100.8\",\"dst\":null,"
		 "\"proto\":6,\"port\":22,\"nat_addr\":\"192.0.2.1\",\"nat_port\":22,\"timeout\":30,"
		 "\"expires\":1800000030,\"stanza\":\"access.conf:1\",\"username\":\"alice\","
		 "\"nat_flags\":64}}\n",
		 path, sizeof(path));
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 1);
	assert_true(spa_grants_by_id(&gs, 1, &out));
	assert_int_equal(out.g.nat_flags, 0);
	assert_int_equal(out.g.nat_addr.family, 0);
	spa_grants_close(&gs);
	th_rmrf(dir);
}

/* -D shows what the engine made of the switches and each stanza's NAT. */
static void test_dump(void **state)
{
	struct spa_config c;
	char dir[64], *text = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	load("ENABLE_IPT_FORWARDING N\nENABLE_FIREWD_FORWARDING Y\nENABLE_NAT_DNS N\n", ACCESS,
	     &c, dir);
	out = open_memstream(&text, &len);
	assert_non_null(out);
	spa_config_dump(&c, out);
	fclose(out);
	assert_non_null(strstr(text, "NAT forwarding           Y (ENABLE_IPT_FORWARDING or "));
	assert_non_null(strstr(text, "NAT local                N"));
	assert_non_null(strstr(text, "SNAT_TRANSLATE_IP        (unset: MASQUERADE)"));
	assert_non_null(strstr(text, "ENABLE_NAT_DNS           N"));
	assert_non_null(strstr(text, "FORCE_NAT                192.0.2.10 2222"));
	assert_non_null(strstr(text, "FORCE_SNAT               203.0.113.5"));
	assert_non_null(strstr(text, "FORWARD_ALL              Y"));
	assert_non_null(strstr(text, "DISABLE_DNAT             Y"));
	free(text);
	spa_config_free(&c);
	th_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_record_nat_field),
		cmocka_unit_test(test_store_identity),
		cmocka_unit_test(test_journal),
		cmocka_unit_test(test_old_journal),
		cmocka_unit_test(test_dump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
