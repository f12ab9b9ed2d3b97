/* SPDX-License-Identifier: MIT */
/* test_nfq.c - ENABLE_NFQ_CAPTURE, the NFQ_* variables (file:line errors),
 * the NFQUEUE rule spad installs, the VERDICT record's checks, and
 * ENABLE_PCAP_ANY_DIRECTION with the --pcap-any-direction flag and -D.
 * The queue itself is tested in a namespace (e2e.spad_nfq). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_helpers.h"
#include "spa_config.h"
#include "spa_daemon.h"
#include "spa_nfq.h"
#include "spa_privsep.h"

#define GOOD_ACCESS "SOURCE ANY\nKEY testkey12345\n"

/* Loads fwknopd.conf text (and a good access.conf) the way spad does,
 * with the command-line options o (NULL: none). */
static int load(const char *server, const struct spa_options *o, struct spa_config *c,
		char *err, size_t errlen)
{
	struct spa_options none = { 0 };
	char dir[64], spath[4096], apath[4096];
	int rc;

	th_tmpdir(dir, sizeof(dir));
	th_write(dir, "fwknopd.conf", server, spath, sizeof(spath));
	th_write(dir, "access.conf", GOOD_ACCESS, apath, sizeof(apath));
	none = o ? *o : none;
	none.config_file = spath;
	none.access_file = apath;
	rc = spa_daemon_load_config(&none, c, err, errlen);
	th_rmrf(dir);
	return rc;
}

struct bad_case {
	const char *text;
	unsigned line;
	const char *expect;
};

static void test_bad_values(void **state)
{
	static const struct bad_case cases[] = {
		{ "NFQ_PORT 0\n", 1, "NFQ_PORT '0': expected a port number 1..65535" },
		{ "# c\nNFQ_PORT 70000\n", 2, "NFQ_PORT '70000'" },
		{ "NFQ_PORT 22x\n", 1, "expected a port number" },
		{ "NFQ_QUEUE_NUMBER 65536\n", 1, "NFQ_QUEUE_NUMBER '65536': expected a queue number" },
		{ "NFQ_QUEUE_NUMBER -1\n", 1, "expected a queue number 0..65535" },
		{ "NFQ_TABLE nat\n", 1, "NFQ_TABLE 'nat': expected mangle, filter or security" },
		{ "NFQ_TABLE raw\n", 1, "an INPUT chain" },
		{ "NFQ_CHAIN INPUT\n", 1, "NFQ_CHAIN 'INPUT': a chain of spad's own" },
		{ "NFQ_CHAIN FWKNOP NFQ\n", 1, "expected a chain name [A-Za-z0-9_-]" },
		{ "NFQ_CHAIN -j\n", 1, "expected a chain name" },
		{ "NFQ_CHAIN ABCDEFGHIJKLMNOPQRSTUVWXYZ0123\n", 1, "1 to 28 characters" },
		{ "NFQ_INTERFACE eth0/x\n", 1, "NFQ_INTERFACE 'eth0/x': expected an interface name" },
		{ "NFQ_INTERFACE a+b\n", 1, "optionally ending in +" },
		{ "NFQ_INTERFACE -i\n", 1, "expected an interface name" },
		{ "NFQ_INTERFACE abcdefghijklmnop\n", 1, "too long (max 15" },
		{ "\nENABLE_NFQ_CAPTURE maybe\n", 2, "ENABLE_NFQ_CAPTURE 'maybe': expected Y or N" },
		{ "NFQ_SOMETHING 1\n", 1, "unknown variable" },
		{ "ENABLE_PCAP_ANY_DIRECTION sure\n", 1,
		  "ENABLE_PCAP_ANY_DIRECTION 'sure': expected Y or N" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spa_config c;
		char err[SPA_CONF_ERR_LEN] = "", where[64];
		int rc = load(cases[i].text, NULL, &c, err, sizeof(err));

		/* unknown variables are found once the plugins are known */
		if (rc == 0)
			rc = spa_config_check_keys(&c, NULL, 0, err, sizeof(err));
		snprintf(where, sizeof(where), "fwknopd.conf:%u:", cases[i].line);
		if (rc >= 0 || !strstr(err, where) || !strstr(err, cases[i].expect))
			fail_msg("case %zu: rc=%d err='%s' (want '%s' and '%s')", i, rc, err, where,
				 cases[i].expect);
		spa_config_free(&c);
	}
}

static void test_enable(void **state)
{
	struct spa_config c;
	char err[SPA_CONF_ERR_LEN] = "";
	const char *text = "ENABLE_NFQ_CAPTURE Y\nNFQ_INTERFACE eth+\nNFQ_PORT 40001\n"
			   "NFQ_TABLE filter\nNFQ_CHAIN SPA_NFQ\nNFQ_QUEUE_NUMBER 0\n"
			   "NFQ_LOOP_SLEEP 500000\n";
	int rc = load(text, NULL, &c, err, sizeof(err));
	(void)state;

	if (!spa_nfq_available()) {
		/* refused with its line, saying why */
		assert_int_not_equal(rc, 0);
		assert_non_null(strstr(err, "fwknopd.conf:1: ENABLE_NFQ_CAPTURE 'Y'"));
		assert_non_null(strstr(err, "not in this build"));
		spa_config_free(&c);
		return;
	}
	if (rc != 0)
		fail_msg("%s", err);
	assert_true(c.nfq.enable);
	assert_string_equal(c.nfq.intf, "eth+");
	assert_int_equal(c.nfq.port, 40001);
	assert_string_equal(c.nfq.table, "filter");
	assert_string_equal(c.nfq.chain, "SPA_NFQ");
	assert_int_equal(c.nfq.queue, 0);
	spa_config_free(&c);

	/* two capture modes at once: refused */
	rc = load("ENABLE_NFQ_CAPTURE Y\nENABLE_UDP_SERVER Y\n", NULL, &c, err, sizeof(err));
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(err, "two capture modes"));
	spa_config_free(&c);
	{
		struct spa_options o = { .udp_server = true };
		rc = load("ENABLE_NFQ_CAPTURE Y\n", &o, &c, err, sizeof(err));
		assert_int_not_equal(rc, 0);
		spa_config_free(&c);
	}
	/* --pcap-file reads the file, whatever the config says */
	{
		struct spa_options o = { .pcap_file = "/nonexistent.pcap" };
		rc = load("ENABLE_NFQ_CAPTURE Y\n", &o, &c, err, sizeof(err));
		if (rc != 0)
			fail_msg("%s", err);
		assert_false(c.nfq.enable);
		spa_config_free(&c);
	}
}

static void test_defaults_and_rule(void **state)
{
	struct spa_config c;
	char err[SPA_CONF_ERR_LEN] = "", text[512];
	(void)state;

	assert_int_equal(load("PCAP_INTF lo\n", NULL, &c, err, sizeof(err)), 0);
	/* fwknopd's defaults */
	assert_false(c.nfq.enable);
	assert_string_equal(c.nfq.intf, "");
	assert_int_equal(c.nfq.port, 62201);
	assert_string_equal(c.nfq.table, "mangle");
	assert_string_equal(c.nfq.chain, "FWKNOP_NFQ");
	assert_int_equal(c.nfq.queue, 1);
	assert_true(spa_nfq_rules_text(&c.nfq, text, sizeof(text)) > 0);
	assert_string_equal(text, "*mangle\n"
				  ":FWKNOP_NFQ - [0:0]\n"
				  "-A FWKNOP_NFQ -p udp -m udp --dport 62201 -j NFQUEUE --queue-num 1\n"
				  "-I INPUT 1 -j FWKNOP_NFQ\n"
				  "COMMIT\n");
	snprintf(c.nfq.intf, sizeof(c.nfq.intf), "spa0");
	c.nfq.queue = 7;
	assert_true(spa_nfq_rules_text(&c.nfq, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "-A FWKNOP_NFQ -i spa0 -p udp -m udp --dport 62201 "
				     "-j NFQUEUE --queue-num 7\n"));
	assert_int_equal(spa_nfq_rules_text(&c.nfq, text, 40), -ENOSPC);
	spa_config_free(&c);
}

static char *dump(const struct spa_config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	spa_config_dump(c, f);
	fclose(f);
	return buf;
}

static void test_any_direction(void **state)
{
	struct spa_options flag = { .pcap_any_direction = true };
	struct spa_config c;
	char err[SPA_CONF_ERR_LEN] = "", *out;
	(void)state;

	/* off by default, shown by -D */
	assert_int_equal(load("PCAP_INTF lo\n", NULL, &c, err, sizeof(err)), 0);
	assert_false(c.pcap_any_direction);
	out = dump(&c);
	assert_non_null(strstr(out, "ENABLE_PCAP_ANY_DIRECTION N\n"));
	assert_non_null(strstr(out, "NFQ_CHAIN                FWKNOP_NFQ\n"));
	free(out);
	spa_config_free(&c);
	/* the file alone */
	assert_int_equal(load("ENABLE_PCAP_ANY_DIRECTION Y\n", NULL, &c, err, sizeof(err)), 0);
	assert_true(c.pcap_any_direction);
	out = dump(&c);
	assert_non_null(strstr(out, "ENABLE_PCAP_ANY_DIRECTION Y\n"));
	free(out);
	spa_config_free(&c);
	/* the flag wins over the file's N */
	assert_int_equal(load("ENABLE_PCAP_ANY_DIRECTION N\n", &flag, &c, err, sizeof(err)), 0);
	assert_true(c.pcap_any_direction);
	spa_config_free(&c);
}

/* What a packet process may ask the monitor for: a verdict of the two
 * spad gives, in a record of the exact size. */
static void test_verdict_record(void **state)
{
	struct spa_ps_verdict v = { { SPA_PS_MAGIC, SPA_PS_VERDICT, 0 }, 42, SPA_NFQ_DROP };
	char why[128], big[sizeof(v) + 1];
	(void)state;

	assert_int_equal(spa_privsep_decode(&v, sizeof(v), why, sizeof(why)), SPA_PS_VERDICT);
	v.verdict = SPA_NFQ_ACCEPT;
	assert_int_equal(spa_privsep_decode(&v, sizeof(v), why, sizeof(why)), SPA_PS_VERDICT);
	/* NF_STOLEN, NF_QUEUE, NF_REPEAT...: never */
	for (uint32_t bad = 2; bad < 8; bad++) {
		v.verdict = bad;
		assert_int_equal(spa_privsep_decode(&v, sizeof(v), why, sizeof(why)), -EBADMSG);
		assert_non_null(strstr(why, "verdict"));
	}
	v.verdict = 0xffffffffu;
	assert_int_equal(spa_privsep_decode(&v, sizeof(v), why, sizeof(why)), -EBADMSG);
	v.verdict = SPA_NFQ_DROP;
	assert_int_equal(spa_privsep_decode(&v, sizeof(v) - 1, why, sizeof(why)), -EBADMSG);
	memset(big, 0, sizeof(big));
	memcpy(big, &v, sizeof(v));
	assert_int_equal(spa_privsep_decode(big, sizeof(big), why, sizeof(why)), -EBADMSG);
	/* the monitor's side refuses any other value too, without a queue */
	assert_int_equal(spa_nfq_verdict(NULL, 1, SPA_NFQ_DROP), spa_nfq_available() ? -EINVAL
									      : -ENOSYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_enable),
		cmocka_unit_test(test_defaults_and_rule),
		cmocka_unit_test(test_any_direction),
		cmocka_unit_test(test_verdict_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
