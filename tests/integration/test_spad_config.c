/* SPDX-License-Identifier: MIT */
/*
 * test_spad_config.c - spad --exit-parse-config over the malformed-config
 * table: each must exit 2 naming file:line and the offending value.
 * argv: spad, plugin dir.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spa/plugin.h>

#include "conf_cases.h"
#include "engine_helpers.h"

static const char *spad_path, *plugin_dir;

/* Runs spad with args; returns its exit status, output in out (malloc'd). */
static int run_spad(const char *dir, const char *const *args, char **out)
{
	char log[4096];
	const char *argv[16] = { spad_path };
	int status, n = 1;
	pid_t pid;

	for (; args[n - 1] && n < 15; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	snprintf(log, sizeof(log), "%s/out.txt", dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(spad_path, (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	*out = th_read(log);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_pair(const char *dir, const char *server_extra, const char *access,
		       char *conf, char *acc)
{
	char body[8192];

	snprintf(body, sizeof(body), "ENABLE_UDP_SERVER Y\nFIREWALL_TYPE recorder\nPLUGIN_DIR %s\n"
		 "FWKNOP_RUN_DIR %s/run\nRECORDER_FILE %s/calls\n%s", plugin_dir, dir, dir,
		 server_extra);
	th_write(dir, "fwknopd.conf", body, conf, 4096);
	th_write(dir, "access.conf", access, acc, 4096);
}

static void test_table_exits_2(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_CONF_CASES; i++) {
		const struct conf_case *k = &conf_cases[i];
		char dir[64], conf[4096], acc[4096], where[64], *out = NULL;
		const char *args[] = { "--exit-parse-config", "-c", conf, "-a", acc, NULL };
		int rc;
		unsigned line = k->line;

		th_tmpdir(dir, sizeof(dir));
		/* server cases sit after the five fixed lines write_pair puts first */
		if (k->server)
			line += 5;
		write_pair(dir, k->server ? k->text : "", k->server ? GOOD_ACCESS : k->text, conf,
			   acc);
		snprintf(where, sizeof(where), "%s:%u:", k->server ? "fwknopd.conf" : "access.conf",
			 line);
		rc = run_spad(dir, args, &out);
		if (rc != 2 || !out || !strstr(out, where) || !strstr(out, k->expect))
			fail_msg("case %zu: exit %d, output '%s' (want 2, '%s', '%s')", i, rc,
				 out ? out : "", where, k->expect);
		free(out);
		th_rmrf(dir);
	}
}

static void test_good_and_cli(void **state)
{
	char dir[64], conf[4096], acc[4096], abi[64], *out = NULL;
	const char *parse[] = { "--exit-parse-config", "-c", conf, "-a", acc, NULL };
	const char *version[] = { "-V", NULL };
	const char *bogus[] = { "--no-such-option", NULL };
	const char *rel[] = { "--exit-parse-config", "-c", conf, "-a", "relative.conf", NULL };
	const char *status[] = { "-S", "-c", conf, "-a", acc, NULL };
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	write_pair(dir, "", GOOD_ACCESS, conf, acc);
	assert_int_equal(run_spad(dir, parse, &out), 0);
	assert_non_null(strstr(out, "configuration OK: 1 stanza, 1 plugin\n"));
	/* which plugin serves which stanza, and why */
	assert_non_null(strstr(out, "plugin recorder 1.0 ("));
	assert_non_null(strstr(out, "serves: access.conf:1"));
	free(out);
	assert_int_equal(run_spad(dir, version, &out), 0);
	snprintf(abi, sizeof(abi), "plugin ABI %u.%u", SPA_PLUGIN_ABI_MAJOR, SPA_PLUGIN_ABI_MINOR);
	assert_non_null(strstr(out, abi));
	free(out);
	assert_int_equal(run_spad(dir, bogus, &out), 2);
	free(out);
	assert_int_equal(run_spad(dir, rel, &out), 2);
	free(out);
	assert_int_equal(run_spad(dir, status, &out), 1);
	assert_non_null(strstr(out, "not running"));
	free(out);

	/* --fw-flush / --fw-list go to the backends and exit */
	{
		const char *flush[] = { "--fw-flush", "-c", conf, "-a", acc, NULL };
		const char *list[] = { "--fw-list", "-c", conf, "-a", acc, NULL };
		char calls[4200], *rec;
		snprintf(calls, sizeof(calls), "%s/calls", dir);
		assert_int_equal(run_spad(dir, flush, &out), 0);
		free(out);
		rec = th_read(calls);
		assert_non_null(rec);
		assert_non_null(strstr(rec, "flush\nfini\n"));
		free(rec);
		/* a backend that cannot list is not a complete answer */
		assert_int_equal(run_spad(dir, list, &out), 1);
		assert_non_null(strstr(out, "plugin recorder 1.0: cannot list"));
		free(out);
	}

	/* a plugin nobody ships is refused up front; pcap mode is accepted */
	write_pair(dir, "", "SOURCE ANY\nKEY k\nFIREWALL_TYPE nosuch\n", conf, acc);
	assert_int_equal(run_spad(dir, parse, &out), 2);
	assert_non_null(strstr(out, "nosuch.so"));
	/* named where it was set, with what PLUGIN_DIR does hold */
	assert_non_null(strstr(out, "access.conf:3: FIREWALL_TYPE 'nosuch'"));
	assert_non_null(strstr(out, "plugins installed in"));
	assert_non_null(strstr(out, "recorder"));
	free(out);
	write_pair(dir, "FIREWALL_TYPE nosuch\n", GOOD_ACCESS, conf, acc);
	assert_int_equal(run_spad(dir, parse, &out), 2);
	assert_non_null(strstr(out, "fwknopd.conf:6: FIREWALL_TYPE 'nosuch'"));
	free(out);
	write_pair(dir, "ENABLE_UDP_SERVER N\nPCAP_INTF lo\n", GOOD_ACCESS, conf, acc);
	assert_int_equal(run_spad(dir, parse, &out), 0);
	assert_non_null(strstr(out, "configuration OK"));
	free(out);
	th_rmrf(dir);
}

/* An fwknopd.conf as fwknopd's Debian package installs it: no
 * FIREWALL_TYPE (iptables is the default), no PLUGIN_DIR. */
static void test_stock_fwknopd_conf(void **state)
{
	char dir[64], conf[4096], acc[4096], body[4096], *out = NULL;
	const char *parse[] = { "--exit-parse-config", "-c", conf, "-a", acc, NULL };
	const char *dump[] = { "-D", "-c", conf, "-a", acc, NULL };
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	/* only the recorder dir: the default plugin is looked for there */
	snprintf(body, sizeof(body), "PCAP_INTF lo;\n#GPG_HOME_DIR /root/.gnupg;\n"
		 "GPG_HOME_DIR /root/.gnupg;\nENABLE_SPA_OVER_HTTP N;\nPLUGIN_DIR %s\n",
		 plugin_dir);
	th_write(dir, "fwknopd.conf", body, conf, sizeof(conf));
	th_write(dir, "access.conf", GOOD_ACCESS, acc, sizeof(acc));
	assert_int_equal(run_spad(dir, parse, &out), 2);
	assert_non_null(strstr(out, "FIREWALL_TYPE unset (default 'iptables')"));
	assert_non_null(strstr(out, "iptables.so"));
	assert_null(strstr(out, "no FIREWALL_TYPE"));
	/* settings of a feature left off are not worth a warning */
	assert_null(strstr(out, "not supported yet"));
	free(out);
	assert_int_equal(run_spad(dir, dump, &out), 2);
	free(out);
	th_rmrf(dir);
}

/* A typo in a variable name is itself the error, even when the plugin
 * the config names would not load either. */
static void test_unknown_variable_before_plugins(void **state)
{
	char dir[64], conf[4096], acc[4096], *out = NULL;
	const char *parse[] = { "--exit-parse-config", "-c", conf, "-a", acc, NULL };
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	write_pair(dir, "FIREWALL_TYPE nosuch\nFIREWAL_TYPE recorder\n", GOOD_ACCESS, conf, acc);
	assert_int_equal(run_spad(dir, parse, &out), 2);
	if (!strstr(out, "fwknopd.conf:7: FIREWAL_TYPE 'recorder': unknown variable"))
		fail_msg("output: %s", out);
	free(out);
	/* a plugin's own keys are not mistaken for typos meanwhile */
	write_pair(dir, "FIREWALL_TYPE nosuch\nNOSUCH_SETTING 1\n", GOOD_ACCESS, conf, acc);
	assert_int_equal(run_spad(dir, parse, &out), 2);
	assert_non_null(strstr(out, "FIREWALL_TYPE 'nosuch'"));
	free(out);
	th_rmrf(dir);
}

/* --exit-parse-config runs the plugins' own checks too. */
static void test_plugin_check(void **state)
{
	char dir[64], conf[4096], acc[4096], *out = NULL;
	const char *parse[] = { "--exit-parse-config", "-c", conf, "-a", acc, NULL };
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	write_pair(dir, "", GOOD_ACCESS "RECORDER_TAG invalid\n", conf, acc);
	assert_int_equal(run_spad(dir, parse, &out), 2);
	if (!strstr(out, "plugin recorder refuses the configuration") ||
	    !strstr(out, "RECORDER_TAG 'invalid'"))
		fail_msg("output: %s", out);
	free(out);
	th_rmrf(dir);
}

/* Without -a, access.conf is the one beside the -c file; relative -c and
 * -a are taken against the cwd. */
static void test_access_beside_config_and_relative(void **state)
{
	char dir[64], conf[4096], acc[4096], *out = NULL, cwd[4096], want[4200];
	const char *parse[] = { "--exit-parse-config", "-c", conf, NULL };
	const char *rel[] = { "--exit-parse-config", "-c", "fwknopd.conf", "-a", "access.conf",
			      NULL };
	const char *dump[] = { "-D", "-c", "fwknopd.conf", NULL };
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	write_pair(dir, "", GOOD_ACCESS, conf, acc);
	assert_int_equal(run_spad(dir, parse, &out), 0);
	free(out);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(run_spad(dir, rel, &out), 0);
	free(out);
	assert_int_equal(run_spad(dir, dump, &out), 0);
	assert_int_equal(chdir(cwd), 0);
	snprintf(want, sizeof(want), "    %-24s %s\n", "ACCESS_FILE", acc);
	if (!strstr(out, want))
		fail_msg("want '%s' in: %s", want, out);
	free(out);
	th_rmrf(dir);
}

/* A config file others may write is refused (exit 2, naming the file and
 * the fix); one others may only read loads with a warning. */
static void test_writable_config_refused(void **state)
{
	char dir[64], conf[4096], acc[4096], want[4300], *out = NULL;
	const char *parse[] = { "--exit-parse-config", "-c", conf, "-a", acc, NULL };
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	write_pair(dir, "", GOOD_ACCESS, conf, acc);
	assert_int_equal(chmod(acc, 0664), 0);
	assert_int_equal(run_spad(dir, parse, &out), 2);
	snprintf(want, sizeof(want), "refusing %s: writable by group (mode 0664); chmod g-w",
		 acc);
	if (!strstr(out, want))
		fail_msg("want '%s' in: %s", want, out);
	free(out);
	assert_int_equal(chmod(acc, 0600), 0);
	assert_int_equal(chmod(conf, 0646), 0);
	assert_int_equal(run_spad(dir, parse, &out), 2);
	snprintf(want, sizeof(want), "refusing %s: writable by others (mode 0646); chmod o-w",
		 conf);
	if (!strstr(out, want))
		fail_msg("want '%s' in: %s", want, out);
	free(out);
	assert_int_equal(chmod(conf, 0644), 0);
	assert_int_equal(chmod(acc, 0640), 0);
	assert_int_equal(run_spad(dir, parse, &out), 0);
	assert_non_null(strstr(out, "permissions 644"));
	assert_non_null(strstr(out, "permissions 640"));
	free(out);
	th_rmrf(dir);
}

/* An access.conf in fwknop's test suite style for GnuPG (a short signer id,
 * a passphrase, the stanza's own home dir) loads; -D shows it without the
 * passphrase, and the short id is warned about. */
static void test_gnupg_stanza(void **state)
{
	char dir[64], conf[4096], acc[4096], home[128], body[1024], *out = NULL;
	const char *parse[] = { "--exit-parse-config", "-c", conf, "-a", acc, NULL };
	const char *dump[] = { "-D", "-c", conf, "-a", acc, NULL };
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	snprintf(home, sizeof(home), "%s/gpg", dir);
	assert_int_equal(mkdir(home, 0700), 0);
	snprintf(body, sizeof(body), "SOURCE ANY\nGPG_REMOTE_ID 6A3FAD56\nGPG_DECRYPT_ID 361BBAD4\n"
		 "GPG_DECRYPT_PW fwknoptest\nGPG_HOME_DIR %s\nFW_ACCESS_TIMEOUT 3\n", home);
	/* gpg's path is checked: /bin/sh stands in where gpg is not installed */
	write_pair(dir, access("/usr/bin/gpg", X_OK) == 0 ? "" : "GPG_EXE /bin/sh\n", body, conf,
		   acc);
	assert_int_equal(run_spad(dir, parse, &out), 0);
	if (!strstr(out, "configuration OK: 1 stanza") ||
	    !strstr(out, "access.conf:2: GPG_REMOTE_ID 6A3FAD56: a short key id can be forged"))
		fail_msg("output: %s", out);
	free(out);
	assert_int_equal(run_spad(dir, dump, &out), 0);
	if (strstr(out, "fwknoptest") || !strstr(out, "<redacted, 10 bytes>") ||
	    !strstr(out, "GnuPG                    enabled") || !strstr(out, home))
		fail_msg("output: %s", out);
	free(out);
	/* without the signer list fwknopd would not start: neither does spad */
	snprintf(body, sizeof(body), "SOURCE ANY\nGPG_DECRYPT_PW fwknoptest\nGPG_HOME_DIR %s\n",
		 home);
	th_write(dir, "access.conf", body, acc, sizeof(acc));
	assert_int_equal(run_spad(dir, parse, &out), 2);
	if (!strstr(out, "access.conf:1: GnuPG stanza needs GPG_FINGERPRINT_ID or GPG_REMOTE_ID"))
		fail_msg("output: %s", out);
	free(out);
	th_rmrf(dir);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_exits_2),
		cmocka_unit_test(test_good_and_cli),
		cmocka_unit_test(test_stock_fwknopd_conf),
		cmocka_unit_test(test_unknown_variable_before_plugins),
		cmocka_unit_test(test_plugin_check),
		cmocka_unit_test(test_access_beside_config_and_relative),
		cmocka_unit_test(test_writable_config_refused),
		cmocka_unit_test(test_gnupg_stanza),
	};
	if (argc < 3) {
		fprintf(stderr, "usage: test_spad_config spad plugin-dir\n");
		return 1;
	}
	spad_path = argv[1];
	plugin_dir = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
