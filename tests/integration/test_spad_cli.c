/* SPDX-License-Identifier: MIT */
/*
 * test_spad_cli.c - spad's one-shot and control options: -D, -O, -R, -S,
 * -K, --exit-parse-digest-cache, --fw-list-all, -C and --syslog-enable;
 * starting in the background, a second instance, CMD_CYCLE_OPEN stanzas.
 * argv: spad, plugin dir.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
	assert_null(strstr(out, "test-hmac-key"));
	/* a key that is set shows as set, with the defaults that apply */
	assert_non_null(strstr(out, "    HMAC_KEY                 <redacted, "));
	assert_true(has_value(out, "HMAC_DIGEST_TYPE", "sha256"));
	assert_non_null(strstr(out, "    KEY                      <redacted, 32 bytes>"));
	assert_true(has_value(out, "FIREWALL_TYPE", "recorder (the global FIREWALL_TYPE)"));
	assert_true(has_value(out, "SYSLOG_FACILITY", "LOG_DAEMON"));

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
	const char *status[] = { "-S", NULL };
	size_t len;

	/* nothing running, nothing cached yet */
	assert_int_equal(run(f, restart, &out), 1);
	assert_non_null(strstr(out, "not running"));
	assert_int_equal(run(f, digest, &out), 1);

	assert_true(fx_start(f));
	/* 60 s: the grant must outlive the steps below on a loaded machine */
	len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/22", 0, 60, pkt);
	assert_non_null(strstr(fx_send(f, pkt, len, false), "decision=grant"));
	/* -R reaches the running daemon through the pid file: a reload */
	assert_int_equal(run(f, restart, &out), 0);
	assert_true(fx_wait_for(f->log, "configuration reloaded: 1 stanza, 1 grant kept", 1,
				3000));
	assert_int_equal(run(f, digest, &out), 0);
	assert_non_null(strstr(out, "digest cache"));
	assert_non_null(strstr(out, ": 1 entries"));
	/* -S tells what the daemon holds */
	assert_int_equal(run(f, status, &out), 0);
	assert_non_null(strstr(out, "spad is running, pid"));
	if (!strstr(out, "grants.json: 1 grant\n"))
		fail_msg("-S: %s", out);
	/* a crash leaves the grant in the journal, which --fw-list-all shows;
	 * a backend that cannot list makes the answer incomplete: exit 1 */
	fx_stop(f, SIGKILL);
	assert_int_equal(run(f, list_all, &out), 1);
	assert_non_null(strstr(out, "plugin recorder 1.0: cannot list"));
	assert_non_null(strstr(out, ": 1 grant\n"));
	assert_non_null(strstr(out, "[recorder]  127.0.0.1 tcp/22 expires 20"));
	/* local time, how long from now, and the stanza */
	if (!strstr(out, " s ago) stanza access.conf:2") && !strstr(out, " s) stanza access.conf:2"))
		fail_msg("--fw-list-all: %s", out);
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
	/* -f lines carry the local time: "YYYY-MM-DD HH:MM:SS +zzzz spad: " */
	{
		char *log = th_read(f->log), *line = log ? strstr(log, " spad: listening") : NULL;
		assert_non_null(line);
		assert_true(line - log >= 25);
		line -= 25;
		if (line[4] != '-' || line[7] != '-' || line[10] != ' ' || line[13] != ':' ||
		    (line[20] != '+' && line[20] != '-'))
			fail_msg("no time stamp: %.60s", line);
		/* and which plugin serves which stanza, said once at start */
		assert_non_null(strstr(log, "plugin recorder 1.0 ("));
		assert_non_null(strstr(log, "serves: access.conf:2"));
		free(log);
	}
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

/* -S, -K and -R need the pid file, not a working access.conf. */
static void test_control_without_access_conf(void **state)
{
	struct fx *f = *state;
	const char *status[] = { "-S", NULL };
	const char *kill_it[] = { "-K", NULL };
	const char *reload[] = { "-R", NULL };
	const char *list[] = { "--fw-list", NULL };
	char *out = NULL;

	assert_true(fx_start(f));
	th_write(f->dir, "access.conf", "SOURCE 300.1.1.1\nKEY k\n", f->access,
		 sizeof(f->access));
	assert_int_equal(run(f, status, &out), 0);
	assert_non_null(strstr(out, "300.1.1.1"));       /* the problem is said */
	assert_non_null(strstr(out, "ignored for -S"));
	assert_non_null(strstr(out, "spad is running"));
	/* a reload would be refused: -R says so, and still signals */
	assert_int_equal(run(f, reload, &out), 0);
	assert_non_null(strstr(out, "will refuse this reload"));
	assert_true(fx_wait_for(f->log, "reload refused", 1, 3000));
	/* --fw-list asks FIREWALL_TYPE's plugin (the recorder cannot list) */
	assert_int_equal(run(f, list, &out), 1);
	assert_non_null(strstr(out, "plugin recorder 1.0: cannot list"));
	unlink(f->access);
	assert_int_equal(run(f, kill_it, &out), 0);
	assert_int_equal(fx_stop(f, 0), 0); /* signal 0: just wait for the exit */
	assert_int_equal(run(f, status, &out), 1);
	assert_non_null(strstr(out, "not running"));
	free(out);
}

/* A second instance says who holds the pid file and touches nothing. */
static void test_second_instance(void **state)
{
	struct fx *f = *state;
	const char *again[] = { "-f", "-U", NULL };
	char want[128], *out = NULL;

	assert_true(fx_start(f));
	assert_int_equal(run(f, again, &out), 1);
	snprintf(want, sizeof(want), "another spad (pid %d) holds ", (int)f->pid);
	if (!strstr(out, want))
		fail_msg("want '%s': %s", want, out);
	free(out);
	/* the first one is unharmed */
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

static pid_t pid_in(const struct fx *f)
{
	char path[4200], *text;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/spad.pid", f->run);
	text = th_read(path);
	pid = text ? (pid_t)atoi(text) : -1;
	free(text);
	return pid;
}

/* In the background, a failed start is an exit status and a message on
 * stderr, not a success and a line in a syslog nobody reads. */
static void test_background_start(void **state)
{
	struct fx *f = *state;
	const char *bg[] = { "-U", NULL };
	const char *kill_it[] = { "-K", NULL };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(f->port) };
	int busy = socket(AF_INET, SOCK_DGRAM, 0), rc;
	char *out = NULL;
	pid_t pid;

	assert_true(busy >= 0);
	assert_int_equal(bind(busy, (struct sockaddr *)&a, sizeof(a)), 0);
	rc = run(f, bg, &out);
	close(busy);
	if (rc == 0 || !out || !strstr(out, "spad: "))
		fail_msg("exit %d, output '%s'", rc, out ? out : "");
	/* and a good start returns once the daemon listens */
	assert_int_equal(run(f, bg, &out), 0);
	pid = pid_in(f);
	assert_true(pid > 0);
	assert_int_equal(kill(pid, 0), 0);
	assert_int_equal(run(f, kill_it, &out), 0);
	for (int i = 0; i < 300 && kill(pid, 0) == 0; i++)
		usleep(10000);
	if (kill(pid, 0) == 0) {
		kill(pid, SIGKILL);
		fail_msg("spad %d did not stop", (int)pid);
	}
	free(out);
}

/* As for fwknopd, CMD_CYCLE_OPEN in a stanza means the command cycle, not
 * the firewall: no FIREWALL_TYPE needed. */
static void test_cmd_cycle_stanza(void **state)
{
	struct fx *f = *state;
	char dir[4200], src[4200], dst[4400], opened[4200], extra[8500], pkt[SPA_WIRE_CAP], *log;
	size_t len;

	/* the build puts plugins/ three levels above the recorder's dir */
	snprintf(src, sizeof(src), "%s/../../../plugins/cmdcycle.so", plugin_dir);
	if (access(src, R_OK) < 0)
		skip();
	snprintf(dir, sizeof(dir), "%s/plugins", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(dst, sizeof(dst), "%s/cmdcycle.so", dir);
	assert_non_null(realpath(src, opened));
	assert_int_equal(symlink(opened, dst), 0);
	snprintf(src, sizeof(src), "%s/recorder.so", plugin_dir);
	snprintf(dst, sizeof(dst), "%s/recorder.so", dir);
	assert_non_null(realpath(src, opened));
	assert_int_equal(symlink(opened, dst), 0);
	/* no RECORDER_FILE: nothing loads the recorder, so its key would be
	 * an unknown variable */
	snprintf(extra, sizeof(extra), "ENABLE_UDP_SERVER Y\nUDPSERV_PORT %u\nFIREWALL_TYPE recorder\n"
		 "PLUGIN_DIR %s\nFWKNOP_RUN_DIR %s\n", f->port, dir, f->run);
	th_write(f->dir, "fwknopd.conf", extra, f->conf, sizeof(f->conf));
	snprintf(opened, sizeof(opened), "%s/opened", f->dir);
	snprintf(extra, sizeof(extra), "CMD_CYCLE_OPEN /bin/touch %s\nCMD_CYCLE_CLOSE NONE\n",
		 opened);
	fx_write_access(f, extra);
	assert_true(fx_start(f));
	log = th_read(f->log);
	assert_non_null(strstr(log, "plugin cmdcycle"));
	assert_non_null(strstr(log, "serves: access.conf:2 (CMD_CYCLE_OPEN)"));
	free(log);
	len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/22", 0, 0, pkt);
	assert_non_null(strstr(fx_send(f, pkt, len, false), "decision=grant"));
	for (int i = 0; i < 300 && access(opened, F_OK) < 0; i++)
		usleep(10000);
	assert_int_equal(access(opened, F_OK), 0);
	/* the firewall (the recorder here) was not even loaded */
	assert_int_equal(access(f->calls, F_OK), -1);
	fx_stop(f, SIGTERM);
}

/* Runs argv[0] with argv; its stdout+stderr in *out; the exit status. */
static int run_argv(const struct fx *f, const char *const *argv, char **out)
{
	char path[4200];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status;

	snprintf(path, sizeof(path), "%s/argv.out", f->dir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	if (posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	free(*out);
	*out = th_read(path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A spad installed under another prefix than the configured one (cmake
 * --install --prefix X) looks for its plugins under X, not the prefix it
 * was built for. The layout is rebuilt from what the build's spad says. */
static void test_staged_install_plugin_dir(void **state)
{
	struct fx *f = *state;
	const char *v[] = { spad_path, "-V", NULL };
	char *out = NULL, *line, dflt[4096], stage[4200], path[8400], want[8400];
	const char *staged[] = { path, "-V", NULL };
	int in, outfd;
	ssize_t n;
	char buf[65536];

	assert_int_equal(run_argv(f, v, &out), 0);
	line = strstr(out, "default PLUGIN_DIR ");
	assert_non_null(line);
	assert_int_equal(sscanf(line, "default PLUGIN_DIR %4095s", dflt), 1);
	/* every suffix of the compiled dir, since where the prefix ends is
	 * not said; sbin is CMake's default SBINDIR */
	snprintf(stage, sizeof(stage), "%s/stage", f->dir);
	assert_int_equal(mkdir(stage, 0700), 0);
	for (char *p = dflt; (p = strchr(p, '/')); p++) {
		snprintf(path, sizeof(path), "%s%s", stage, p);
		for (char *q = path + strlen(stage) + 1; (q = strchr(q, '/')); q++) {
			*q = '\0';
			mkdir(path, 0700);
			*q = '/';
		}
		mkdir(path, 0700);
	}
	snprintf(path, sizeof(path), "%s/sbin", stage);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/sbin/spad", stage);
	in = open(spad_path, O_RDONLY);
	outfd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0700);
	assert_true(in >= 0 && outfd >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(outfd, buf, (size_t)n), n);
	close(in);
	close(outfd);
	assert_int_equal(run_argv(f, staged, &out), 0);
	snprintf(want, sizeof(want), "default PLUGIN_DIR %s/", stage);
	if (!strstr(out, want))
		fail_msg("want '%s...' in: %s", want, out);
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
		cmocka_unit_test_setup_teardown(test_control_without_access_conf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_instance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_background_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmd_cycle_stanza, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staged_install_plugin_dir, setup, teardown),
	};
	if (argc < 3) {
		fprintf(stderr, "usage: test_spad_cli spad plugin-dir\n");
		return 1;
	}
	spad_path = argv[1];
	plugin_dir = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
