/* SPDX-License-Identifier: MIT */
/* test_conf.c - the fwknopd.conf / access.conf parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf_cases.h"
#include "engine_helpers.h"
#include "spa_config.h"
#include "spa_log.h"

static const char *const prefixes[] = { "RECORDER_" };

/* Loads server text (may be NULL) and access text from a fresh dir. */
static int load(const char *server, const char *access, struct spa_config *c, char *err,
		size_t errlen, char *dir, size_t dircap)
{
	char spath[4096], apath[4096];
	int rc = 0;

	th_tmpdir(dir, dircap);
	spa_config_init(c);
	if (server) {
		th_write(dir, "fwknopd.conf", server, spath, sizeof(spath));
		rc = spa_config_load_server(c, spath, err, errlen);
	}
	if (rc == 0 && access) {
		th_write(dir, "access.conf", access, apath, sizeof(apath));
		rc = spa_config_load_access(c, apath, false, err, errlen);
		if (rc == 0)
			rc = spa_config_finish(c, err, errlen);
	}
	/* as spad does once the plugins are loaded */
	if (rc == 0)
		rc = spa_config_check_keys(c, prefixes, 1, err, errlen);
	return rc;
}

static void test_malformed_table(void **state)
{
	(void)state;
	assert_true(N_CONF_CASES >= 30);
	for (size_t i = 0; i < N_CONF_CASES; i++) {
		const struct conf_case *k = &conf_cases[i];
		struct spa_config c;
		char err[SPA_CONF_ERR_LEN] = "", dir[64], where[64];
		int rc = load(k->server ? k->text : "ENABLE_UDP_SERVER Y\n",
			      k->server ? GOOD_ACCESS : k->text, &c, err, sizeof(err), dir,
			      sizeof(dir));

		snprintf(where, sizeof(where), "%s:%u:", k->server ? "fwknopd.conf" : "access.conf",
			 k->line);
		if (rc >= 0 || !strstr(err, where) || !strstr(err, k->expect))
			fail_msg("case %zu: rc=%d err='%s' (want '%s' and '%s')", i, rc, err, where,
				 k->expect);
		spa_config_free(&c);
		th_rmrf(dir);
	}
}

static void test_good_config(void **state)
{
	struct spa_config c;
	char err[SPA_CONF_ERR_LEN] = "", dir[64];
	uint8_t a[4];
	const char *server =
		"# comment\n"
		"FWKNOP_RUN_DIR   /tmp/spa-run;  trailing comment\n"
		"DIGEST_FILE $FWKNOP_RUN_DIR/d.cache\n"
		"ENABLE_UDP_SERVER y\n"
		"UDPSERV_PORT 40001\n"
		"MAX_SPA_PACKET_AGE 60\n"
		"FIREWALL_TYPE recorder\n"
		"RECORDER_FILE /tmp/x\n"
		"IPT_INPUT_ACCESS ACCEPT, filter, INPUT, 1, FWKNOP_INPUT, 1\n";
	const char *access =
		"SOURCE: 198.51.100.0/24, 203.0.113.7, 2001:db8::/32\n"
		"KEY  rawkey \n"
		"HMAC_KEY_BASE64 aG1hY2tleWhtYWNrZXk=\n"
		"HMAC_DIGEST_TYPE sha512\n"
		"OPEN_PORTS tcp/22, udp/53\n"
		"RESTRICT_PORTS tcp/23\n"
		"FW_ACCESS_TIMEOUT 0\n"
		"MAX_FW_TIMEOUT 600\n"
		"REQUIRE_USERNAME alice\n"
		"REQUIRE_SOURCE_ADDRESS Y\n"
		"ACCESS_EXPIRE_EPOCH 4102444800\n"
		"ENABLE_CMD_EXEC N\n"
		"\n"
		"SOURCE ANY\n"
		"KEY_BASE64 c2Vjb25ka2V5\n"
		"ENCRYPTION_MODE legacy\n"
		"FIREWALL_TYPE other\n";
	(void)state;

	assert_int_equal(load(server, access, &c, err, sizeof(err), dir, sizeof(dir)), 0);
	assert_string_equal(c.digest_file, "/tmp/spa-run/d.cache");
	assert_string_equal(c.run_dir, "/tmp/spa-run");
	assert_true(c.udp_server);
	assert_int_equal(c.udp_port, 40001);
	assert_int_equal(c.max_packet_age, 60);
	assert_string_equal(c.firewall_type, "recorder");
	assert_string_equal(spa_config_kv_get(&c, "RECORDER_FILE"), "/tmp/x");
	assert_non_null(spa_config_kv_get(&c, "IPT_INPUT_ACCESS"));
	assert_null(spa_config_kv_get(&c, "NOPE"));
	assert_int_equal(c.n_stanzas, 2);

	struct spa_stanza *s = &c.stanzas[0];
	assert_string_equal(s->label, "access.conf:1");
	inet_pton(AF_INET, "198.51.100.77", a);
	assert_true(spa_addr_list_match(&s->source, AF_INET, a));
	inet_pton(AF_INET, "198.51.101.1", a);
	assert_false(spa_addr_list_match(&s->source, AF_INET, a));
	assert_true(spa_addr_list_has_v6(&s->source));
	/* the raw bytes are wiped once the prepared key set holds them */
	assert_int_equal(s->key_len, 0);
	assert_non_null(s->keys);
	assert_int_equal(spa_keys_hmac_type(s->keys), SPA_DIGEST_SHA512);
	assert_int_equal(s->open_ports.n, 2);
	assert_int_equal(s->open_ports.items[1].proto, 17);
	assert_int_equal(s->open_ports.items[1].port, 53);
	assert_int_equal(s->restrict_ports.items[0].port, 23);
	assert_int_equal(s->fw_access_timeout, SPA_DEFAULT_FW_TIMEOUT);
	assert_int_equal(s->max_fw_timeout, 600);
	assert_string_equal(s->require_username, "alice");
	assert_true(s->require_source_address);
	assert_int_equal(s->access_expire, 4102444800LL);
	s = &c.stanzas[1];
	assert_string_equal(s->label, "access.conf:14");
	assert_true(s->source.any);
	assert_string_equal(s->firewall_type, "other");
	assert_int_equal(spa_keys_enc_mode(s->keys), SPA_MODE_CBC_LEGACY_IV);
	spa_config_free(&c);
	th_rmrf(dir);
}

static void test_raw_key_keeps_blanks(void **state)
{
	struct spa_config c;
	char err[SPA_CONF_ERR_LEN] = "", dir[64], apath[4096];
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	spa_config_init(&c);
	th_write(dir, "access.conf", "SOURCE ANY\nKEY abc  ;comment\n", apath, sizeof(apath));
	assert_int_equal(spa_config_load_access(&c, apath, false, err, sizeof(err)), 0);
	assert_int_equal(c.stanzas[0].key_len, 5);
	assert_memory_equal(c.stanzas[0].key, "abc  ", 5);
	spa_config_free(&c);
	th_rmrf(dir);
}

static void test_includes(void **state)
{
	struct spa_config c;
	char err[SPA_CONF_ERR_LEN] = "", dir[64], sub[128], apath[4096];
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	snprintf(sub, sizeof(sub), "%s/stanzas", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	th_write(sub, "b.conf", "SOURCE 203.0.113.2\nKEY bkey\n", NULL, 0);
	th_write(sub, "a.conf", "SOURCE 203.0.113.1\nKEY akey\n", NULL, 0);
	th_write(sub, "ignored.txt", "SOURCE 203.0.113.3\nKEY ckey\n", NULL, 0);
	th_write(dir, "keys", "KEY_BASE64 a2V5ZnJvbWZpbGU=\nHMAC_KEY hmackey\n", NULL, 0);
	th_write(dir, "one.conf", "SOURCE 198.51.100.1\n%include_keys keys\n", NULL, 0);
	th_write(dir, "access.conf",
		 "%include one.conf\n%include_folder stanzas\nSOURCE ANY\nKEY last\n", apath,
		 sizeof(apath));
	spa_config_init(&c);
	assert_int_equal(spa_config_load_access(&c, apath, false, err, sizeof(err)), 0);
	assert_int_equal(spa_config_finish(&c, err, sizeof(err)), 0);
	assert_int_equal(c.n_stanzas, 4);
	assert_string_equal(c.stanzas[0].label, "one.conf:1");
	assert_string_equal(c.stanzas[1].label, "a.conf:1");   /* sorted */
	assert_string_equal(c.stanzas[2].label, "b.conf:1");
	assert_string_equal(c.stanzas[3].label, "access.conf:3");
	assert_int_equal(spa_keys_hmac_type(c.stanzas[0].keys), SPA_DIGEST_SHA256);
	spa_config_free(&c);

	/* root + two nested levels is the limit */
	th_write(dir, "l3.conf", "SOURCE ANY\nKEY k\n", NULL, 0);
	th_write(dir, "l2.conf", "%include l3.conf\n", NULL, 0);
	th_write(dir, "l1.conf", "%include l2.conf\n", NULL, 0);
	th_write(dir, "access.conf", "%include l1.conf\n", apath, sizeof(apath));
	spa_config_init(&c);
	assert_int_equal(spa_config_load_access(&c, apath, false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "l2.conf:1:"));
	assert_non_null(strstr(err, "nested"));
	spa_config_free(&c);

	/* only key material in %include_keys */
	th_write(dir, "keys", "KEY k\nOPEN_PORTS tcp/22\n", NULL, 0);
	th_write(dir, "access.conf", "SOURCE ANY\n%include_keys keys\n", apath, sizeof(apath));
	spa_config_init(&c);
	assert_int_equal(spa_config_load_access(&c, apath, false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "keys:2:"));
	spa_config_free(&c);
	th_rmrf(dir);
}

static void test_folder_and_empty(void **state)
{
	struct spa_config c;
	char err[SPA_CONF_ERR_LEN] = "", dir[64], apath[4096];
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	th_write(dir, "access.conf", "# nothing here\n", apath, sizeof(apath));
	spa_config_init(&c);
	assert_int_equal(spa_config_load_access(&c, apath, false, err, sizeof(err)), 0);
	assert_int_equal(spa_config_finish(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no access stanza"));
	spa_config_free(&c);

	th_write(dir, "x.conf", "SOURCE ANY\nKEY k\n", NULL, 0);
	spa_config_init(&c);
	assert_int_equal(spa_config_load_access(&c, dir, true, err, sizeof(err)), 0);
	/* access.conf holds no stanza, x.conf one */
	assert_int_equal(c.n_stanzas, 1);
	assert_string_equal(c.stanzas[0].label, "x.conf:1");
	spa_config_free(&c);
	th_rmrf(dir);
}

static void test_ports_and_addrs(void **state)
{
	struct spa_addr_list l;
	struct spa_port_list pl;
	struct spa_port p = { 6, 22 };
	char err[128];
	uint8_t a6[16], a4[4];
	(void)state;

	assert_int_equal(spa_addr_list_parse("198.51.100.0/255.255.255.0", &l, err, sizeof(err)), 0);
	inet_pton(AF_INET, "198.51.100.200", a4);
	assert_true(spa_addr_list_match(&l, AF_INET, a4));
	inet_pton(AF_INET6, "2001:db8::1", a6);
	assert_false(spa_addr_list_match(&l, AF_INET6, a6));
	spa_addr_list_free(&l);
	assert_int_equal(spa_addr_list_parse("2001:db8:1::/48", &l, err, sizeof(err)), 0);
	assert_false(spa_addr_list_match(&l, AF_INET6, a6));
	inet_pton(AF_INET6, "2001:db8:1:ffff::9", a6);
	assert_true(spa_addr_list_match(&l, AF_INET6, a6));
	spa_addr_list_free(&l);
	assert_int_equal(spa_port_list_parse("udp/53,tcp/22", &pl, err, sizeof(err)), 0);
	assert_true(spa_port_list_has(&pl, &p));
	p.proto = 17;
	assert_false(spa_port_list_has(&pl, &p));
	spa_port_list_free(&pl);
	assert_true(spa_port_list_parse("tcp/0", &pl, err, sizeof(err)) < 0);
	assert_true(spa_port_list_parse("tcp/", &pl, err, sizeof(err)) < 0);
}

/* Epoch of local midnight starting y-m-d. */
static int64_t local_midnight(int y, int m, int d)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_isdst = -1 };

	return (int64_t)mktime(&tm);
}

/* What fwknopd's access.conf files hold in the wild: one-digit months and
 * days, two-digit years, far dates, SHA-512-sized HMAC keys. */
static void test_fwknop_spellings(void **state)
{
	struct spa_config c;
	char err[SPA_CONF_ERR_LEN] = "", dir[64];
	char access[1024];
	uint8_t hmac[SPA_MAX_HMAC_KEY_LEN + 1];
	char b64[256];
	(void)state;

	/* 128 bytes: fwknop --key-gen's SHA-512 HMAC key */
	for (size_t i = 0; i < sizeof(hmac); i++)
		hmac[i] = (uint8_t)(i + 1);
	assert_true(spa_b64_encode_padded(hmac, SPA_MAX_HMAC_KEY_LEN, b64) > 0);
	snprintf(access, sizeof(access),
		 "SOURCE ANY\nKEY k\nACCESS_EXPIRE 3/10/2500\nHMAC_KEY_BASE64 %s\n"
		 "HMAC_DIGEST_TYPE sha512\n"
		 "SOURCE ANY\nKEY k\nACCESS_EXPIRE 3/10/01\n"
		 "SOURCE ANY\nKEY k\nACCESS_EXPIRE 12/31/99\n", b64);
	assert_int_equal(load("SYSLOG_FACILITY LOG_LOCAL3\n", access, &c, err, sizeof(err), dir,
			      sizeof(dir)), 0);
	assert_int_equal(c.stanzas[0].access_expire, local_midnight(2500, 3, 10));
	assert_int_equal(c.stanzas[0].hmac_key_bytes, SPA_MAX_HMAC_KEY_LEN);
	assert_int_equal(c.stanzas[1].access_expire, local_midnight(2001, 3, 10));
	assert_int_equal(c.stanzas[2].access_expire, local_midnight(1999, 12, 31));
	assert_int_equal(c.syslog_facility, 19 << 3); /* LOG_LOCAL3 */
	spa_config_free(&c);
	th_rmrf(dir);

	/* one byte more than the wire library takes is named as such */
	assert_true(spa_b64_encode_padded(hmac, sizeof(hmac), b64) > 0);
	snprintf(access, sizeof(access), "SOURCE ANY\nKEY k\nHMAC_KEY_BASE64 %s\n", b64);
	assert_int_equal(load(NULL, access, &c, err, sizeof(err), dir, sizeof(dir)), -EINVAL);
	assert_non_null(strstr(err, "access.conf:3:"));
	assert_non_null(strstr(err, "more than 128 bytes"));
	spa_config_free(&c);
	th_rmrf(dir);
}

/* The plugin a stanza gets, as fwknopd would act. */
static void test_stanza_type(void **state)
{
	struct spa_config c;
	char err[SPA_CONF_ERR_LEN] = "", dir[64];
	(void)state;

	assert_int_equal(load(NULL,
			      "SOURCE ANY\nKEY k\n"
			      "SOURCE ANY\nKEY k\nCMD_CYCLE_OPEN /bin/true\nCMD_CYCLE_CLOSE NONE\n"
			      "SOURCE ANY\nKEY k\nCMD_CYCLE_OPEN /bin/true\nFIREWALL_TYPE recorder\n",
			      &c, err, sizeof(err), dir, sizeof(dir)), 0);
	/* no FIREWALL_TYPE anywhere: fwknopd's Debian build is iptables */
	assert_string_equal(spa_config_stanza_type(&c, &c.stanzas[0]), "iptables");
	assert_string_equal(c.firewall_type_where, "");
	assert_string_equal(spa_config_stanza_type(&c, &c.stanzas[1]), "cmdcycle");
	/* an explicit stanza FIREWALL_TYPE still wins */
	assert_string_equal(spa_config_stanza_type(&c, &c.stanzas[2]), "recorder");
	assert_non_null(strstr(c.stanzas[2].firewall_type_where, "access.conf:10"));
	spa_config_free(&c);
	th_rmrf(dir);
}

/* Loads path as fwknopd.conf (server) or access.conf; the error in err. */
static int load_one(const char *path, int server, bool folder, char *err, size_t errlen)
{
	struct spa_config c;
	int rc;

	spa_config_init(&c);
	rc = server ? spa_config_load_server(&c, path, err, errlen)
		    : spa_config_load_access(&c, path, folder, err, errlen);
	spa_config_free(&c);
	return rc;
}

static void expect_refused(const char *path, int server, bool folder, const char *named,
			   const char *why)
{
	char err[SPA_CONF_ERR_LEN] = "", want[4200];

	snprintf(want, sizeof(want), "refusing %s: %s", named, why);
	if (load_one(path, server, folder, err, sizeof(err)) != -EPERM || !strstr(err, want))
		fail_msg("%s: err='%s' (want '%s')", path, err, want);
}

/* Config files define keys and commands run as root: one that others may
 * write, or that someone else owns, is refused, whichever file it is; a
 * file only others may read still loads (with a warning). */
static void test_permissions(void **state)
{
	char err[SPA_CONF_ERR_LEN] = "", dir[64], sub[128], spath[4096], apath[4096],
	     inc[4096], link[4200];
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	th_write(dir, "fwknopd.conf", "ENABLE_UDP_SERVER Y\n", spath, sizeof(spath));
	th_write(dir, "access.conf", GOOD_ACCESS, apath, sizeof(apath));
	assert_int_equal(load_one(spath, 1, false, err, sizeof(err)), 0);
	assert_int_equal(load_one(apath, 0, false, err, sizeof(err)), 0);

	assert_int_equal(chmod(spath, 0664), 0);
	expect_refused(spath, 1, false, spath, "writable by group (mode 0664); chmod g-w");
	assert_int_equal(chmod(apath, 0602), 0);
	expect_refused(apath, 0, false, apath, "writable by others (mode 0602); chmod o-w");
	assert_int_equal(chmod(apath, 0666), 0);
	expect_refused(apath, 0, false, apath,
		       "writable by group and others (mode 0666); chmod go-w");
	/* readable by others: the warning fwknopd gives, no refusal */
	assert_int_equal(chmod(spath, 0644), 0);
	assert_int_equal(load_one(spath, 1, false, err, sizeof(err)), 0);
	assert_int_equal(chmod(apath, 0640), 0);
	assert_int_equal(load_one(apath, 0, false, err, sizeof(err)), 0);

	/* the file behind a symlink is what counts, not the link's 0777 */
	snprintf(link, sizeof(link), "%s/link.conf", dir);
	assert_int_equal(symlink(apath, link), 0);
	assert_int_equal(load_one(link, 0, false, err, sizeof(err)), 0);
	assert_int_equal(chmod(apath, 0660), 0);
	expect_refused(link, 0, false, link, "writable by group (mode 0660)");

	/* every included file, whichever directive brought it in */
	th_write(dir, "inc.conf", "SOURCE ANY\nKEY k\n", inc, sizeof(inc));
	assert_int_equal(chmod(inc, 0620), 0);
	th_write(dir, "access.conf", "%include inc.conf\n", apath, sizeof(apath));
	expect_refused(apath, 0, false, inc, "writable by group (mode 0620)");
	th_write(dir, "fwknopd.conf", "%include inc.conf\n", spath, sizeof(spath));
	expect_refused(spath, 1, false, inc, "writable by group (mode 0620)");
	th_write(dir, "keys", "KEY k\n", inc, sizeof(inc));
	assert_int_equal(chmod(inc, 0606), 0);
	th_write(dir, "access.conf", "SOURCE ANY\n%include_keys keys\n", apath, sizeof(apath));
	expect_refused(apath, 0, false, inc, "writable by others (mode 0606)");
	snprintf(sub, sizeof(sub), "%s/stanzas", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	th_write(sub, "a.conf", "SOURCE ANY\nKEY k\n", NULL, 0);
	th_write(sub, "b.conf", "SOURCE ANY\nKEY k\n", inc, sizeof(inc));
	assert_int_equal(chmod(inc, 0664), 0);
	th_write(dir, "access.conf", "%include_folder stanzas\n", apath, sizeof(apath));
	expect_refused(apath, 0, false, inc, "writable by group (mode 0664)");
	/* and each file of an access folder */
	expect_refused(sub, 0, true, inc, "writable by group (mode 0664)");
	assert_int_equal(chmod(inc, 0600), 0);
	assert_int_equal(load_one(sub, 0, true, err, sizeof(err)), 0);
	/* and the folder itself: whoever may add a file there decides what is
	 * read; listing it (0755) is fine */
	assert_int_equal(chmod(sub, 0775), 0);
	expect_refused(sub, 0, true, sub, "writable by group (mode 0775)");
	expect_refused(apath, 0, false, sub, "writable by group (mode 0775)");
	assert_int_equal(chmod(sub, 01777), 0);
	expect_refused(sub, 0, true, sub, "writable by group and others (mode 1777)");
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(load_one(sub, 0, true, err, sizeof(err)), 0);

	/* owned by someone else: root when we are root, else our own uid */
	if (geteuid() == 0) {
		assert_int_equal(chown(inc, 1, 0), 0);
		expect_refused(sub, 0, true, inc, "owned by uid 1, not root; chown root");
	} else {
		char want[64];
		snprintf(want, sizeof(want), "owned by uid 0, not by uid %u",
			 (unsigned)geteuid());
		expect_refused("/etc/passwd", 0, false, "/etc/passwd", want);
	}
	th_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed_table),
		cmocka_unit_test(test_good_config),
		cmocka_unit_test(test_raw_key_keeps_blanks),
		cmocka_unit_test(test_includes),
		cmocka_unit_test(test_folder_and_empty),
		cmocka_unit_test(test_ports_and_addrs),
		cmocka_unit_test(test_fwknop_spellings),
		cmocka_unit_test(test_stanza_type),
		cmocka_unit_test(test_permissions),
	};
	spa_log_setup("test", false, false, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
