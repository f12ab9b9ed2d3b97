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
#include <sys/wait.h>
#include <unistd.h>

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
	char dir[64], conf[4096], acc[4096], *out = NULL;
	const char *parse[] = { "--exit-parse-config", "-c", conf, "-a", acc, NULL };
	const char *version[] = { "-V", NULL };
	const char *bogus[] = { "--no-such-option", NULL };
	const char *rel[] = { "--exit-parse-config", "-c", conf, "-a", "relative.conf", NULL };
	const char *status[] = { "-S", "-c", conf, "-a", acc, NULL };
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	write_pair(dir, "", GOOD_ACCESS, conf, acc);
	assert_int_equal(run_spad(dir, parse, &out), 0);
	assert_non_null(strstr(out, "configuration OK: 1 stanzas, 1 plugins"));
	free(out);
	assert_int_equal(run_spad(dir, version, &out), 0);
	assert_non_null(strstr(out, "plugin ABI 1.1"));
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
		assert_int_equal(run_spad(dir, list, &out), 0);
		assert_non_null(strstr(out, "plugin recorder 1.0: cannot list"));
		free(out);
	}

	/* a plugin nobody ships is refused up front; pcap mode is accepted */
	write_pair(dir, "", "SOURCE ANY\nKEY k\nFIREWALL_TYPE nosuch\n", conf, acc);
	assert_int_equal(run_spad(dir, parse, &out), 2);
	assert_non_null(strstr(out, "nosuch.so"));
	free(out);
	write_pair(dir, "ENABLE_UDP_SERVER N\nPCAP_INTF lo\n", GOOD_ACCESS, conf, acc);
	assert_int_equal(run_spad(dir, parse, &out), 0);
	assert_non_null(strstr(out, "configuration OK"));
	free(out);
	th_rmrf(dir);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_exits_2),
		cmocka_unit_test(test_good_and_cli),
	};
	if (argc < 3) {
		fprintf(stderr, "usage: test_spad_config spad plugin-dir\n");
		return 1;
	}
	spad_path = argv[1];
	plugin_dir = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
