/* SPDX-License-Identifier: MIT */
/*
 * test_spad_schema.c - a plugin's key schema (ABI 1.3) through the real
 * daemon, with the recorder plugin's keys (tests/plugins/recorder): a typo
 * is an error naming file:line and the key it resembles, values are typed,
 * a secret comes from <KEY>_FILE (never from a file others may read) and
 * -D never prints it, defaults reach the plugin.
 * argv[1]: spad, argv[2]: directory of recorder.so, argv[3]: of the shipped plugins.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "spad_fixture.h"

static const char *spad_bin, *plugin_dir, *shipped_dir;

static int setup(void **state)
{
	struct fx *f = fx_new(spad_bin, plugin_dir);

	if (f)
		fx_write_access(f, "");
	*state = f;
	return f ? 0 : -1;
}

static int teardown(void **state)
{
	fx_delete(*state);
	return 0;
}

/* --exit-parse-config refuses, with this in the log */
static void refused(struct fx *f, const char *why)
{
	assert_int_not_equal(fx_cli(f, "--exit-parse-config"), 0);
	if (fx_count(f->log, why) < 1) {
		char *log = th_read(f->log);
		fail_msg("want '%s' in: %s", why, log ? log : "(no log)");
	}
}

static void test_typo_named_with_a_suggestion(void **state)
{
	struct fx *f = *state;

	fx_append_conf(f, "RECORDER_FAIL_CLOSE_FI /nonexistent\n");
	refused(f, "fwknopd.conf:9: RECORDER_FAIL_CLOSE_FI: not a fwknopd.conf key of plugin "
		   "recorder (did you mean RECORDER_FAIL_CLOSE_IF?)");
}

static void test_types_and_choices(void **state)
{
	struct fx *f = *state;

	fx_append_conf(f, "RECORDER_LIMIT 12x\n");
	refused(f, "RECORDER_LIMIT '12x': expected a number 0 to 4294967295");
}

static void test_choices(void **state)
{
	struct fx *f = *state;

	fx_append_conf(f, "RECORDER_MODE medium\n");
	refused(f, "RECORDER_MODE 'medium': expected fast|slow");
}

static void test_stanza_keys(void **state)
{
	struct fx *f = *state;

	fx_write_access(f, "RECORDER_TAGG one\n");
	refused(f, "RECORDER_TAGG: not a stanza key of plugin recorder (did you mean "
		   "RECORDER_TAG?)");
	/* a global key is not a stanza key */
	fx_write_access(f, "RECORDER_FILE /tmp/x\n");
	refused(f, "RECORDER_FILE: not a stanza key of plugin recorder");
	fx_write_access(f, "RECORDER_TAG one\n");
	assert_int_equal(fx_cli(f, "--exit-parse-config"), 0);
}

/* -D, captured */
static char *dump(struct fx *f)
{
	char out[4200];
	const char *argv[] = { f->spad, "-D", "-c", f->conf, "-a", f->access, NULL };
	posix_spawn_file_actions_t fa;
	int status;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/dump.txt", f->dir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, out, O_WRONLY | O_CREAT | O_APPEND, 0600);
	assert_int_equal(posix_spawn(&pid, f->spad, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return th_read(out);
}

static void test_secret_from_file(void **state)
{
	struct fx *f = *state;
	char path[4200], line[4400], *text;

	th_write(f->dir, "token", "s3cr3t-v4lue\n", path, sizeof(path));
	snprintf(line, sizeof(line), "RECORDER_TOKEN_FILE %s\n", path);
	fx_append_conf(f, line);
	/* -D: the file's name, never its content */
	text = dump(f);
	assert_non_null(text);
	assert_null(strstr(text, "s3cr3t"));
	assert_non_null(strstr(text, "RECORDER_TOKEN_FILE"));
	free(text);
	/* the plugin gets the value, and the schema's default for MODE */
	assert_true(fx_start(f));
	assert_true(fx_wait_for(f->calls, "keys token=s3cr3t-v4lue mode=fast\n", 1, FX_WAIT_MS));
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	assert_int_equal(fx_count(f->log, "s3cr3t"), 0);

	/* a secret others may read is no secret: refused */
	assert_int_equal(chmod(path, 0644), 0);
	refused(f, "must be a regular file owned by uid");
	assert_int_equal(chmod(path, 0600), 0);
	/* the key and its file at once: which one? refused */
	fx_append_conf(f, "RECORDER_TOKEN inline\n");
	refused(f, "RECORDER_TOKEN_FILE: RECORDER_TOKEN is set too");
}

static void test_secret_inline_redacted(void **state)
{
	struct fx *f = *state;
	char *text;

	fx_append_conf(f, "RECORDER_TOKEN hunter2-inline\n");
	text = dump(f);
	assert_non_null(text);
	assert_null(strstr(text, "hunter2"));
	assert_non_null(strstr(text, "RECORDER_TOKEN"));
	free(text);
}

/*
 * The iptables plugin's schema against Debian's fwknop-server 2.6.10
 * fwknopd.conf with every variable of its backends set (uncommented): an
 * fwknop admin's file loads; a typo in one of its names does not.
 */
static void test_fwknop_conf_with_iptables(void **state)
{
	static const char stock[] = "/etc/fwknop/fwknopd.conf";
	struct fx *f = *state;
	char line[512], extra[8400];
	FILE *in, *out;

	if (access(stock, R_OK) != 0) {
		if (getenv("CI"))
			fail_msg("%s is needed under CI (package fwknop-server)", stock);
		printf("SKIP: no %s\n", stock);
		return;
	}
	in = fopen(stock, "r");
	out = fopen(f->conf, "w");
	assert_non_null(in);
	assert_non_null(out);
	while (fgets(line, sizeof(line), in)) {
		const char *v = line + strspn(line, "# ");
		size_t n = strlen(v);
		/* fwknop's iptables and firewalld variables, as an admin sets
		 * them: "NAME value;" lines, not the prose around them */
		if (n < 3 || v[n - 2] != ';' || v[n - 1] != '\n')
			continue;
		if (strncmp(v, "IPT_", 4) == 0 || strncmp(v, "ENABLE_IPT_", 11) == 0 ||
		    strncmp(v, "FIREWD_", 7) == 0 || strncmp(v, "ENABLE_FIREWD_", 14) == 0 ||
		    strncmp(v, "FLUSH_IPT_", 10) == 0)
			fputs(v, out);
	}
	fclose(in);
	snprintf(extra, sizeof(extra), "FIREWALL_TYPE iptables\nPLUGIN_DIR %s\n"
		 "FWKNOP_RUN_DIR %s\n", shipped_dir, f->run);
	fputs(extra, out);
	fclose(out);
	assert_int_equal(chmod(f->conf, 0600), 0);
	assert_int_equal(fx_cli(f, "--exit-parse-config"), 0);
	fx_append_conf(f, "IPT_INPUT_ACESS ACCEPT, filter, INPUT, 1, FWKNOP_INPUT, 1;\n");
	refused(f, "IPT_INPUT_ACESS: not a fwknopd.conf key of plugin iptables (did you mean "
		   "IPT_INPUT_ACCESS?)");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_typo_named_with_a_suggestion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_types_and_choices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_choices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stanza_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_from_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_inline_redacted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fwknop_conf_with_iptables, setup, teardown),
	};

	if (argc != 4) {
		fprintf(stderr, "usage: %s spad recorder-dir shipped-plugin-dir\n", argv[0]);
		return 2;
	}
	spad_bin = argv[1];
	plugin_dir = argv[2];
	shipped_dir = argv[3];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
