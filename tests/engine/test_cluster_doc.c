/* SPDX-License-Identifier: MIT */
/* test_cluster_doc.c - the cluster grant document (engine/spa_cluster_doc.h):
 * round trips of every form a node publishes, and malformed documents,
 * each refused with a reason naming what is wrong. */
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

#include "spa/plugin.h"
#include "spa/store.h"
#include "spa_cluster_doc.h"

#define POLICY "0123456789abcdef"

static struct spa_cluster_doc plain(void)
{
	struct spa_cluster_doc d;

	memset(&d, 0, sizeof(d));
	d.version = SPA_CLUSTER_DOC_VERSION;
	strcpy(d.node, "gw-1.example");
	d.family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "198.51.100.7", d.src_bin), 1);
	d.proto = 6;
	d.port = 22;
	d.expires = 1900000000;
	d.timeout = 30;
	strcpy(d.user, "alice");
	strcpy(d.policy, POLICY);
	strcpy(d.stanza, "access.conf:12");
	return d;
}

/* Encodes d, decodes the text, and checks every field came back. */
static void round_trip(const struct spa_cluster_doc *d, const char *want_src)
{
	struct spa_cluster_doc back;
	char *json = NULL, why[160];

	assert_int_equal(spa_cluster_doc_encode(d, &json), 0);
	assert_non_null(json);
	assert_true(strlen(json) <= SPA_STORE_VALUE_MAX);
	assert_int_equal(spa_cluster_doc_decode(json, &back, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(back.version, SPA_CLUSTER_DOC_VERSION);
	assert_string_equal(back.node, d->node);
	assert_int_equal(back.family, d->family);
	assert_memory_equal(back.src_bin, d->src_bin, d->family == AF_INET ? 4 : 16);
	assert_string_equal(back.src, want_src);
	assert_int_equal(back.proto, d->proto);
	assert_int_equal(back.port, d->port);
	assert_true(back.expires == d->expires);
	assert_int_equal(back.timeout, d->timeout);
	assert_string_equal(back.user, d->user);
	assert_string_equal(back.policy, d->policy);
	assert_string_equal(back.stanza, d->stanza);
	assert_int_equal(back.nat_flags, d->nat_flags);
	assert_int_equal(back.nat_family, d->nat_family);
	if (d->nat_family) {
		assert_memory_equal(back.nat_bin, d->nat_bin, 4);
		assert_int_equal(back.nat_port, d->nat_port);
		assert_true(back.nat_addr[0] != '\0');
	} else {
		assert_string_equal(back.nat_addr, "");
		assert_int_equal(back.nat_port, 0);
	}
	if (d->nat_flags & SPA_NAT_SNAT) {
		assert_memory_equal(back.snat_bin, d->snat_bin, 4);
		assert_true(back.snat_addr[0] != '\0');
	} else {
		assert_string_equal(back.snat_addr, "");
	}
	free(json);
}

static void test_round_trip_plain(void **state)
{
	struct spa_cluster_doc d = plain();
	(void)state;

	round_trip(&d, "198.51.100.7");
	d.proto = 17;
	d.port = 65535;
	d.timeout = INT32_MAX;
	d.expires = INT32_MAX * 4LL;
	strcpy(d.user, "a.user-with_48_chars_______________________xyz!!");
	round_trip(&d, "198.51.100.7");
}

static void test_round_trip_ipv6(void **state)
{
	struct spa_cluster_doc d = plain();
	(void)state;

	d.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::42", d.src_bin), 1);
	round_trip(&d, "2001:db8::42");
}

static void test_round_trip_nat(void **state)
{
	struct spa_cluster_doc d = plain();
	(void)state;

	/* forward to a target */
	d.nat_flags = SPA_NAT_FORWARD;
	d.nat_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "203.0.113.9", d.nat_bin), 1);
	d.nat_port = 2222;
	round_trip(&d, "198.51.100.7");
	/* ... with SNAT */
	d.nat_flags = SPA_NAT_FORWARD | SPA_NAT_SNAT;
	assert_int_equal(inet_pton(AF_INET, "203.0.113.1", d.snat_bin), 1);
	round_trip(&d, "198.51.100.7");
	/* ... with MASQUERADE and no DNAT */
	d.nat_flags = SPA_NAT_FORWARD | SPA_NAT_NO_DNAT | SPA_NAT_MASQUERADE;
	round_trip(&d, "198.51.100.7");
	/* local NAT */
	d.nat_flags = SPA_NAT_LOCAL;
	round_trip(&d, "198.51.100.7");
	/* FORWARD_ALL needs no target */
	d.nat_flags = SPA_NAT_FORWARD | SPA_NAT_FORWARD_ALL;
	d.nat_family = 0;
	d.nat_port = 0;
	round_trip(&d, "198.51.100.7");
}

/* What the other nodes would refuse is not written. */
static void test_encode_refuses(void **state)
{
	struct spa_cluster_doc d;
	char *json = (char *)"x";
	(void)state;

	d = plain();
	d.version = 2;
	assert_int_equal(spa_cluster_doc_encode(&d, &json), -EINVAL);
	assert_null(json);
	d = plain();
	d.family = 0;
	assert_int_equal(spa_cluster_doc_encode(&d, &json), -EINVAL);
	d = plain();
	d.timeout = 0;
	assert_int_equal(spa_cluster_doc_encode(&d, &json), -EINVAL);
	d = plain();
	strcpy(d.user, "bad/user");
	assert_int_equal(spa_cluster_doc_encode(&d, &json), -EINVAL);
	d = plain();
	d.nat_flags = SPA_NAT_LOCAL;    /* no target */
	assert_int_equal(spa_cluster_doc_encode(&d, &json), -EINVAL);
	d = plain();
	d.proto = 1;
	assert_int_equal(spa_cluster_doc_encode(&d, &json), -EINVAL);
	d = plain();
	strcpy(d.node, "\xc3");         /* not UTF-8: jansson refuses it */
	assert_int_equal(spa_cluster_doc_encode(&d, &json), -EINVAL);
	assert_null(json);
}

/* A valid document's fields, with one replaced (or removed: "-"). */
#define BASE_V      "\"v\":1"
#define BASE_REST   "\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22," \
		    "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\"," \
		    "\"policy\":\"" POLICY "\",\"stanza\":\"access.conf:1\""

struct bad_case {
	const char *json;
	const char *why;              /* a part of the reason */
};

static const struct bad_case bad[] = {
	{ "", "not JSON" },
	{ "{", "not JSON" },
	{ "{" BASE_V "," BASE_REST ",}", "not JSON" },
	{ "[1,2]", "not a JSON object" },
	{ "\"grant\"", "not JSON" },              /* jansson: no bare values at the top */
	{ "{" BASE_V "," BASE_REST ",\"port\":23}", "duplicate" },
	{ "{" BASE_V "," BASE_REST ",\"v\":1}", "duplicate" },
	/* version */
	{ "{\"v\":2," BASE_REST "}", "v: 2 not in 1..1" },
	{ "{\"v\":0," BASE_REST "}", "v: 0" },
	{ "{\"v\":\"1\"," BASE_REST "}", "v: not an integer" },
	{ "{\"v\":1.0," BASE_REST "}", "v: not an integer" },
	{ "{" BASE_REST "}", "v: missing" },
	/* missing fields */
	{ "{" BASE_V ",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,\"expires\":1900000000,"
	  "\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\",\"stanza\":\"s\"}",
	  "node: missing" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\"}",
	  "stanza: missing" },
	/* types */
	{ "{" BASE_V ",\"node\":7,\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "node: not a string" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":null,\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "src: not a string" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":\"tcp\",\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "proto: not an integer" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":true,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "port: not an integer" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1.9e9,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "expires: not an integer" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":[30],\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "timeout: not an integer" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":{},\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "user: not a string" },
	/* ranges */
	{ "{" BASE_V "," BASE_REST ",\"port\":0}", "duplicate" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":0,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "port: 0 not in 1..65535" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":65536,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "port: 65536" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":-6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "proto: -6 not in 0..255" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":1,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "proto: 1 is neither tcp" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":0,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "timeout: 0 not in" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":2147483648,\"user\":\"alice\","
	  "\"policy\":\"" POLICY "\",\"stanza\":\"s\"}", "timeout: 2147483648 not in" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":0,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "expires: 0 not in" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":8589934589,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "expires: 8589934589 not in" },
	/* huge numbers: past json_int_t, jansson refuses the text */
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":99999999999999999999999,\"timeout\":30,\"user\":\"alice\","
	  "\"policy\":\"" POLICY "\",\"stanza\":\"s\"}", "not JSON" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,"
	  "\"port\":9223372036854775807,\"expires\":1900000000,\"timeout\":30,"
	  "\"user\":\"alice\",\"policy\":\"" POLICY "\",\"stanza\":\"s\"}",
	  "port: 9223372036854775807 not in" },
	/* addresses */
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.256\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "src: '198.51.100.256' is not an IPv4 or IPv6 address" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"gw.example.net\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "src: 'gw.example.net' is not" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7 \",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "src: '198.51.100.7 ' is not" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "src: empty" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"2001:0db8:0000:0000:0000:0000:0000:0001:2:3:4:5:6\","
	  "\"proto\":6,\"port\":22,\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\","
	  "\"policy\":\"" POLICY "\",\"stanza\":\"s\"}", "src: longer than 45 bytes" },
	/* over-long strings and charsets */
	{ "{" BASE_V ",\"node\":\"n123456789012345678901234567890123456789012345678901234567890123\","
	  "\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,\"expires\":1900000000,\"timeout\":30,"
	  "\"user\":\"alice\",\"policy\":\"" POLICY "\",\"stanza\":\"s\"}",
	  "node: longer than 63 bytes" },
	{ "{" BASE_V ",\"node\":\"gw 1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "node: 'gw 1' has characters outside" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,"
	  "\"user\":\"u12345678901234567890123456789012345678901234567890\","
	  "\"policy\":\"" POLICY "\",\"stanza\":\"s\"}", "user: longer than 48 bytes" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"al;ice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "user: 'al;ice' is not a valid username" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"al\\nice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "is not a valid username" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "user: empty" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\","
	  "\"policy\":\"0123456789abcdef0\",\"stanza\":\"s\"}", "policy: longer than 16 bytes" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\","
	  "\"policy\":\"0123456789ABCDEF\",\"stanza\":\"s\"}", "policy: '0123456789ABCDEF' is not" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\","
	  "\"policy\":\"0123\",\"stanza\":\"s\"}", "policy: '0123' is not 16" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"a\\u001bb\"}", "stanza: has control characters" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"access.conf:1234567890123456789012345678901234567890123456789012345\"}",
	  "stanza: longer than 63 bytes" },
	/* embedded NUL: jansson refuses \u0000 without JSON_ALLOW_NUL */
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\\u0000x\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"alice\",\"policy\":\"" POLICY "\","
	  "\"stanza\":\"s\"}", "not JSON" },
	{ "{" BASE_V ",\"node\":\"gw1\",\"src\":\"198.51.100.7\",\"proto\":6,\"port\":22,"
	  "\"expires\":1900000000,\"timeout\":30,\"user\":\"ali\\u0000ce\",\"policy\":\"" POLICY
	  "\",\"stanza\":\"s\"}", "not JSON" },
	/* NAT forms */
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":1}", "nat_addr: missing (nat_flags 1 needs" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":2,\"nat_port\":80}",
	  "nat_addr: missing (nat_addr and nat_port" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":1,\"nat_addr\":\"203.0.113.9\"}",
	  "nat_port: missing" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":1,\"nat_addr\":\"203.0.113.9\","
	  "\"nat_port\":0}", "nat_port: 0 not in 1..65535" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":1,\"nat_addr\":\"2001:db8::1\","
	  "\"nat_port\":80}", "nat_addr: '2001:db8::1' is not an IPv4 address" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":1,\"nat_addr\":\"203.0.113.9x\","
	  "\"nat_port\":80}", "nat_addr: '203.0.113.9x' is not" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":1,\"nat_addr\":5,\"nat_port\":80}",
	  "nat_addr: not a string" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":0}", "nat_flags: 0 not in 1..63" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":64}", "nat_flags: 64 not in 1..63" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":\"1\"}", "nat_flags: not an integer" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":3,\"nat_addr\":\"203.0.113.9\","
	  "\"nat_port\":80}", "nat_flags: 3 is neither" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":4}", "nat_flags: 4 is neither" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":18,\"nat_addr\":\"203.0.113.9\","
	  "\"nat_port\":80,\"snat_addr\":\"203.0.113.1\"}", "nat_flags: 18 combines local" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":49,\"nat_addr\":\"203.0.113.9\","
	  "\"nat_port\":80,\"snat_addr\":\"203.0.113.1\"}", "nat_flags: 49 has both" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":17,\"nat_addr\":\"203.0.113.9\","
	  "\"nat_port\":80}", "snat_addr: missing (SNAT in nat_flags)" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":1,\"nat_addr\":\"203.0.113.9\","
	  "\"nat_port\":80,\"snat_addr\":\"203.0.113.1\"}", "snat_addr: given without SNAT" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":17,\"nat_addr\":\"203.0.113.9\","
	  "\"nat_port\":80,\"snat_addr\":\"203.0.113\"}", "snat_addr: '203.0.113' is not" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":17,\"nat_addr\":\"203.0.113.9\","
	  "\"nat_port\":80,\"snat_addr\":\"203.000.113.100\"}", "snat_addr: '203.000.113.100' is not" },
	{ "{" BASE_V "," BASE_REST ",\"nat_flags\":17,\"nat_addr\":\"203.0.113.9\","
	  "\"nat_port\":80,\"snat_addr\":\"203.0000.113.100\"}", "snat_addr: longer than 15" },
	{ "{" BASE_V "," BASE_REST ",\"nat_addr\":\"203.0.113.9\",\"nat_port\":80}",
	  "nat_addr: given without nat_flags" },
	{ "{" BASE_V "," BASE_REST ",\"snat_addr\":\"203.0.113.9\"}",
	  "snat_addr: given without nat_flags" },
};

static void test_bad_documents(void **state)
{
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct spa_cluster_doc d;
		char why[160];
		int rc = spa_cluster_doc_decode(bad[i].json, &d, why, sizeof(why));

		if (rc != -EINVAL || !strstr(why, bad[i].why)) {
			print_error("case %zu: %s\n  rc %d, why '%s', expected '%s'\n", i,
				    bad[i].json, rc, why, bad[i].why);
			fail();
		}
		/* nothing half-filled is left for a careless caller */
		assert_int_equal(d.family, 0);
		assert_int_equal(d.port, 0);
		assert_string_equal(d.src, "");
	}
}

/* Keys this version does not know are ignored (a later version 1 writer
 * may add optional fields), the base case parses, and a NULL document
 * or a NULL `why` is handled. */
static void test_good_documents(void **state)
{
	struct spa_cluster_doc d;
	char why[160];
	(void)state;

	assert_int_equal(spa_cluster_doc_decode("{" BASE_V "," BASE_REST "}", &d, why,
						sizeof(why)), 0);
	assert_string_equal(d.node, "gw1");
	assert_string_equal(d.src, "198.51.100.7");
	assert_int_equal(d.family, AF_INET);
	assert_int_equal(d.nat_flags, 0);
	assert_int_equal(spa_cluster_doc_decode("{" BASE_V "," BASE_REST ",\"comment\":[1,{}],"
						"\"later\":\"x\"}", &d, why, sizeof(why)), 0);
	assert_int_equal(spa_cluster_doc_decode(" {" BASE_V "," BASE_REST "}\n", &d, NULL, 0), 0);
	assert_int_equal(spa_cluster_doc_decode("{" BASE_REST "}", &d, NULL, 0), -EINVAL);
	assert_int_equal(spa_cluster_doc_decode(NULL, &d, why, sizeof(why)), -EINVAL);
	assert_true(why[0] != '\0');
	/* a short `why` is cut, never overrun */
	assert_int_equal(spa_cluster_doc_decode("{}", &d, why, 4), -EINVAL);
	assert_int_equal(strlen(why), 3);
	/* the sender stays known when a later field is refused (for logs) */
	assert_int_equal(spa_cluster_doc_decode("{" BASE_V ",\"node\":\"gw9\",\"src\":\"x\"}",
						&d, why, sizeof(why)), -EINVAL);
	assert_string_equal(d.node, "gw9");
	/* IPv4-mapped and full IPv6 forms are addresses */
	assert_int_equal(spa_cluster_doc_decode("{" BASE_V ",\"node\":\"gw1\",\"src\":"
						"\"::ffff:198.51.100.7\",\"proto\":17,\"port\":1,"
						"\"expires\":1,\"timeout\":1,\"user\":\"u\","
						"\"policy\":\"" POLICY "\",\"stanza\":\"s\"}",
						&d, why, sizeof(why)), 0);
	assert_int_equal(d.family, AF_INET6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_plain),
		cmocka_unit_test(test_round_trip_ipv6),
		cmocka_unit_test(test_round_trip_nat),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_bad_documents),
		cmocka_unit_test(test_good_documents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
