/* SPDX-License-Identifier: MIT */
/*
 * test_spad_cli.c - spad's one-shot and control options: -D, -O, -R,
 * --exit-parse-digest-cache, --fw-list-all, -C and --syslog-enable.
 * argv: spad, plugin dir.
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
#include <sys/wait.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "spad_fixture.h"

extern char **environ;

static const char *spad_path, *plugin_dir;

/* Runs "spad <extra> -c conf -a access"; its output replaces *out. */
static int run(struct fx *f, const char *const *extra, char **out)
{
	const char *argv[24] = { spad_path };
	char path[4200];
	posix_spawn_file_actions_t fa;
	size_t n = 1;
	pid_t pid;
	int status;

	for (; *extra && n < 19; extra++)
		argv[n++] = *extra;
	argv[n++] = "-c";
	argv[n++] = f->conf;
	argv[n++] = "-a";
	argv[n++] = f->access;
	argv[n] = NULL;
	snprintf(path, sizeof(path), "%s/cli.out", f->dir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	if (posix_spawn(&pid, spad_path, &fa, NULL, (char *const *)argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	free(*out);
	*out = th_read(path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	fx_init(f, spad_path, plugin_dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_free(*state);
	free(*state);
	return 0;
}

/* -D prints "    NAME<padded to 24> value" lines. */
static bool has_value(const char *out, const char *name, const char *value)
{
	char line[256];

	snprintf(line, sizeof(line), "    %-24s %s\n", name, value);
	return out && strstr(out, line) != NULL;
}

static void test_dump_config_redacts(void **state)
{
	struct fx *f = *state;
	char *out = NULL, over[4200], bad[4200];
	const char *dump[] = { "-D", NULL };
	const char *dump_o[] = { "--dump-config", "-O", over, NULL };
	const char *dump_bad[] = { "-D", "-O", bad, NULL };

	assert_int_equal(run(f, dump, &out), 0);
	assert_non_null(strstr(out, "access stanzas: 1"));
	assert_non_null(strstr(out, "127.0.0.0/8"));
	assert_non_null(strstr(out, "tcp/22, tcp/80"));
	assert_true(has_value(out, "MAX_SPA_PACKET_AGE", "120"));
	assert_non_null(strstr(out, "<redacted"));
	assert_null(strstr(out, FX_KEY_B64));
	assert_null(strstr(out, FX_HMAC_B64));
	/* the key bytes themselves, not just their base64 */
	assert_null(strstr(out, "test-encryption-key"));

	/* -O files come after the main file, so they win; and two of them */
	th_write(f->dir, "over.conf", "MAX_SPA_PACKET_AGE 77\nPCAP_INTF spa9\n", over,
		 sizeof(over));
	th_write(f->dir, "over2.conf", "MAX_SNIFF_BYTES 900\n", bad, sizeof(bad));
	strcat(over, ",");
	strcat(over, bad);
	assert_int_equal(run(f, dump_o, &out), 0);
	assert_true(has_value(out, "MAX_SPA_PACKET_AGE", "77"));
	assert_true(has_value(out, "PCAP_INTF", "spa9"));
	assert_true(has_value(out, "MAX_SNIFF_BYTES", "900"));
	/* an error in an override names its file and line */
	th_write(f->dir, "bad.conf", "# x\nMAX_SPA_PACKET_AGE never\n", bad, sizeof(bad));
	assert_int_equal(run(f, dump_bad, &out), 2);
	assert_non_null(strstr(out, "bad.conf:2:"));
	/* a stanza's own plugin keys are shown too */
	fx_write_access(f, "RECORDER_TAG alpha\n");
	assert_int_equal(run(f, dump, &out), 0);
	assert_true(has_value(out, "RECORDER_TAG", "alpha"));
	free(out);
}

static void test_restart_digest_cache_and_list_all(void **state)
{
	struct fx *f = *state;
	char *out = NULL, pkt[SPA_WIRE_CAP];
	const char *restart[] = { "-R", NULL };
	const char *digest[] = { "--exit-parse-digest-cache", NULL };
	const char *list_all[] = { "--fw-list-all", NULL };
	size_t len;

	/* nothing running, nothing cached yet */
	assert_int_equal(run(f, restart, &out), 1);
	assert_non_null(strstr(out, "not running"));
	assert_int_equal(run(f, digest, &out), 1);

	assert_true(fx_start(f));
	len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/22", 0, 0, pkt);
	assert_non_null(strstr(fx_send(f, pkt, len, false), "decision=grant"));
	/* -R reaches the running daemon through the pid file: a reload */
	assert_int_equal(run(f, restart, &out), 0);
	assert_true(fx_wait_for(f->log, "configuration reloaded: 1 stanzas, 1 grants kept", 1,
				3000));
	assert_int_equal(run(f, digest, &out), 0);
	assert_non_null(strstr(out, "digest cache"));
	assert_non_null(strstr(out, ": 1 entries"));
	/* a crash leaves the grant in the journal, which --fw-list-all shows */
	fx_stop(f, SIGKILL);
	assert_int_equal(run(f, list_all, &out), 0);
	assert_non_null(strstr(out, "plugin recorder 1.0: cannot list"));
	assert_non_null(strstr(out, ": 1 grants"));
	assert_non_null(strstr(out, "[recorder]  127.0.0.1 tcp/22"));
	free(out);
}

/* Runs spad -f -U in the background with extra options, for -C. */
static pid_t start_bg(struct fx *f, const char *const *extra)
{
	const char *argv[24] = { spad_path, "-f", "-U", "-c", f->conf, "-a", f->access };
	posix_spawn_file_actions_t fa;
	size_t n = 7;
	pid_t pid;

	for (; *extra && n < 23; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, f->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, f->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (posix_spawn(&pid, spad_path, &fa, NULL, (char *const *)argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

static void test_packet_limit_udp_and_syslog(void **state)
{
	struct fx *f = *state;
	const char *extra[] = { "-C", "2", "--syslog-enable", NULL };
	char junk[200];
	int status = -1;
	pid_t pid = start_bg(f, extra);

	assert_true(pid > 0);
	assert_true(fx_wait_for(f->log, "listening on UDP", 1, 5000));
	memset(junk, 'A', sizeof(junk));
	f->pid = pid; /* so fx_free kills it if an assertion fails */
	assert_non_null(strstr(fx_send(f, junk, sizeof(junk), false), "decision=reject"));
	assert_non_null(strstr(fx_send(f, junk, sizeof(junk) - 1, false), "decision=reject"));
	for (int i = 0; i < 300 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(10000);
	f->pid = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(fx_count(f->log, "packet limit 2 reached"), 1);
}

/* Options that are runs of their own exclude each other; counts are
 * numbers, whole. */
static void test_conflicting_and_bad_options(void **state)
{
	struct fx *f = *state;
	const char *dump_kill[] = { "-D", "-K", NULL };
	const char *list_flush[] = { "--fw-list", "--fw-flush", NULL };
	const char *twice[] = { "-D", "-D", NULL };
	const char *count[] = { "-C", "5x", "-D", NULL };
	char *out = NULL;

	assert_int_equal(run(f, dump_kill, &out), 2);
	assert_non_null(strstr(out, "-D and -K cannot be combined"));
	assert_int_equal(run(f, list_flush, &out), 2);
	assert_non_null(strstr(out, "--fw-list and --fw-flush cannot be combined"));
	assert_int_equal(run(f, twice, &out), 0); /* the same one twice is fine */
	assert_int_equal(run(f, count, &out), 2);
	assert_non_null(strstr(out, "-C '5x': expected a positive count"));
	free(out);
}

/* -S/-K/-R only need the pid file: a plugin that does not load any more
 * must not keep an admin from querying or stopping the daemon. */
static void test_signal_without_loadable_plugins(void **state)
{
	struct fx *f = *state;
	const char *status[] = { "-S", NULL };
	const char *check[] = { "--exit-parse-config", NULL };
	char *out = NULL;
	FILE *conf = fopen(f->conf, "a");

	assert_non_null(conf);
	fputs("PLUGIN_DIR /nonexistent/spa-plugins\n", conf);
	fclose(conf);
	assert_int_equal(run(f, check, &out), 2); /* the plugins are gone indeed */
	assert_int_equal(run(f, status, &out), 1);
	assert_non_null(strstr(out, "not running"));
	free(out);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dump_config_redacts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_digest_cache_and_list_all, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_packet_limit_udp_and_syslog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflicting_and_bad_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signal_without_loadable_plugins, setup,
						teardown),
	};
	if (argc < 3) {
		fprintf(stderr, "usage: test_spad_cli spad plugin-dir\n");
		return 1;
	}
	spad_path = argv[1];
	plugin_dir = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
