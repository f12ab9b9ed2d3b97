/* SPDX-License-Identifier: MIT */
/*
 * test_spad.c - spad end to end over loopback UDP with the recorder plugin:
 * what a packet opens, what is refused and why, expiry, refresh, reload,
 * crash recovery, clean exit. argv: spad, plugin dir.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "spad_fixture.h"

static const char *spad_path, *plugin_dir;

static int setup(void **state)
{
	struct fx *f = fx_new(spad_path, plugin_dir);

	if (!f)
		return -1;
	if (!fx_start(f)) {
		char *log = th_read(f->log);
		fprintf(stderr, "spad did not start:\n%s\n", log ? log : "(no log)");
		free(log);
		fx_delete(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_delete(*state);
	return 0;
}

static void test_valid_packet_opens_one_grant(void **state)
{
	struct fx *f = *state;
	char pkt[SPA_WIRE_CAP];
	size_t len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/22", 0, 0, pkt);
	const char *line = fx_send(f, pkt, len, false);

	assert_non_null(strstr(line, "decision=grant src=127.0.0.1"));
	assert_non_null(strstr(line, "stanza=access.conf:2"));
	assert_true(fx_wait_for(f->calls, "open ", 1, FX_WAIT_MS));
	assert_int_equal(fx_count(f->calls, "open "), 1);
	assert_int_equal(fx_count(f->calls,
		"open id=1 family=4 src=127.0.0.1 proto=6 port=22 timeout=2 "
		"stanza=access.conf:2 user=alice tag=- plugin=recorder\n"), 1);
	assert_int_equal(fx_count(f->calls, "init run=0 out=runner-ok\n"), 1);
	/* the same decision as a JSON line */
	assert_int_equal(fx_count(f->json, "\"decision\":\"grant\""), 1);
	assert_int_equal(fx_count(f->json, "\"ports\":[{\"proto\":\"tcp\",\"port\":22}]"), 1);
	assert_int_equal(fx_count(f->json, "\"stanza\":\"access.conf:2\""), 1);
	assert_int_equal(fx_count(f->json, "}\n"), 1);

	/* the same bytes again: a replay, nothing new opened */
	line = fx_send(f, pkt, len, false);
	assert_non_null(strstr(line, "decision=reject"));
	assert_non_null(strstr(line, "replay of a packet first seen from 127.0.0.1"));
	assert_int_equal(fx_count(f->calls, "open "), 1);
	assert_int_equal(fx_count(f->json, "\"decision\":\"reject\""), 1);

	/* expiry closes exactly that grant, without any further packet, within
	 * its timeout (FW_ACCESS_TIMEOUT 2) and a margin for a loaded machine */
	assert_true(fx_wait_for(f->calls, "close id=1 family=4 src=127.0.0.1 proto=6 port=22", 1,
				2000 + FX_CLOSE_MARGIN_MS));
}

static void test_rejections(void **state)
{
	struct fx *f = *state;
	char pkt[SPA_WIRE_CAP];
	size_t len;
	const char *line;
	int opens = fx_count(f->calls, "open ");

	len = fx_build(f, f->wrong, "alice", "127.0.0.1,tcp/22", 0, 0, pkt);
	line = fx_send(f, pkt, len, false);
	assert_non_null(strstr(line, "decision=reject src=127.0.0.1"));
	assert_non_null(strstr(line, "HMAC mismatch"));

	len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/22", -1000, 0, pkt);
	line = fx_send(f, pkt, len, false);
	assert_non_null(strstr(line, "packet age"));

	len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/22", +1000, 0, pkt);
	line = fx_send(f, pkt, len, false);
	assert_non_null(strstr(line, "packet age"));

	len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/22,tcp/23", 0, 0, pkt);
	line = fx_send(f, pkt, len, false);
	assert_non_null(strstr(line, "tcp/23 is in RESTRICT_PORTS"));

	len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/8080", 0, 0, pkt);
	line = fx_send(f, pkt, len, false);
	assert_non_null(strstr(line, "tcp/8080 is not in OPEN_PORTS"));

	/* tampering: flip one base64 character in the middle */
	len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/22", 0, 0, pkt);
	pkt[len / 2] = pkt[len / 2] == 'A' ? 'B' : 'A';
	line = fx_send(f, pkt, len, false);
	assert_non_null(strstr(line, "decision=reject"));
	assert_non_null(strstr(line, "HMAC mismatch"));

	line = fx_send(f, "garbage that is not SPA\n", 24, false);
	assert_non_null(strstr(line, "not SPA data"));

	assert_int_equal(fx_count(f->calls, "open "), opens);
}

static void test_source_outside_source_list(void **state)
{
	struct fx *f = *state;
	char pkt[SPA_WIRE_CAP];
	size_t len = fx_build(f, f->keys, "alice", "0.0.0.0,tcp/22", 0, 0, pkt);
	const char *line = fx_send(f, pkt, len, true);

	if (!line[0]) {
		printf("SKIP: no IPv6 loopback to send from\n");
		return;
	}
	assert_non_null(strstr(line, "decision=reject src=::1"));
	assert_non_null(strstr(line, "no access stanza for this source"));
}

static void test_refresh_on_reknock(void **state)
{
	struct fx *f = *state;
	char pkt[SPA_WIRE_CAP];
	size_t len;
	const char *line;

	len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/80", 0, 30, pkt);
	line = fx_send(f, pkt, len, false);
	assert_non_null(strstr(line, "decision=grant"));
	assert_non_null(strstr(line, "30 s, opened"));
	len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/80", 0, 45, pkt);
	line = fx_send(f, pkt, len, false);
	assert_non_null(strstr(line, "45 s, refreshed"));
	assert_int_equal(fx_count(f->calls, "proto=6 port=80 timeout=30"), 1);
	assert_int_equal(fx_count(f->calls, "refresh id="), 1);
	assert_int_equal(fx_count(f->calls, "port=80 timeout=45"), 1);
	/* client timeouts are capped at MAX_FW_TIMEOUT (60) */
	len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/443", 0, 5000, pkt);
	line = fx_send(f, pkt, len, false);
	assert_non_null(strstr(line, "60 s, opened"));
}

static void test_username_and_reload(void **state)
{
	struct fx *f = *state;
	char pkt[SPA_WIRE_CAP];
	size_t len;
	const char *line;
	int reloads = fx_count(f->log, "configuration reloaded");

	fx_write_access(f, "REQUIRE_USERNAME alice\nREQUIRE_SOURCE_ADDRESS Y\n");
	kill(f->pid, SIGHUP);
	assert_true(fx_wait_for(f->log, "configuration reloaded", reloads + 1, FX_WAIT_MS));
	len = fx_build(f, f->keys, "alice", "0.0.0.0,udp/53", 0, 0, pkt);
	line = fx_send(f, pkt, len, false);
	assert_non_null(strstr(line, "REQUIRE_SOURCE_ADDRESS"));
	len = fx_build(f, f->keys, "mallory", "127.0.0.1,udp/53", 0, 0, pkt);
	line = fx_send(f, pkt, len, false);
	assert_non_null(strstr(line, "username 'mallory' not allowed"));
	len = fx_build(f, f->keys, "alice", "127.0.0.1,udp/53", 0, 0, pkt);
	line = fx_send(f, pkt, len, false);
	assert_non_null(strstr(line, "decision=grant"));
	assert_int_equal(fx_count(f->calls, "proto=17 port=53"), 1);

	/* a broken file is refused and the running config kept */
	fx_write_access(f, "OPEN_PORTS tcp/99999\n");
	kill(f->pid, SIGHUP);
	assert_true(fx_wait_for(f->log, "reload refused", 1, FX_WAIT_MS));
	assert_true(fx_wait_for(f->log, "access.conf:9: OPEN_PORTS", 1, FX_WAIT_MS));
	len = fx_build(f, f->keys, "mallory", "127.0.0.1,udp/53", 0, 0, pkt);
	line = fx_send(f, pkt, len, false);
	assert_non_null(strstr(line, "username 'mallory' not allowed"));
	fx_write_access(f, "");
}

static void test_crash_and_restart(void **state)
{
	struct fx *f = *state;
	char live[SPA_WIRE_CAP], brief[SPA_WIRE_CAP], id_open[64];
	size_t llen, blen;
	const char *line;
	int opens;

	/* one grant that outlives the crash, one that expires while down */
	llen = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/22", 0, 40, live);
	line = fx_send(f, live, llen, false);
	if (!strstr(line, "40 s, opened"))
		fail_msg("%s", line);
	blen = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/8443", 0, 1, brief);
	(void)fx_send(f, brief, blen, false);
	assert_int_equal(fx_stop(f, SIGKILL), 128 + SIGKILL);
	sleep(2);
	opens = fx_count(f->calls, "open id=");
	assert_true(fx_start(f));
	/* expired ones are closed at start, live ones opened again */
	assert_true(fx_wait_for(f->calls, "close id=", 1, FX_WAIT_MS));
	assert_true(fx_wait_for(f->log, "grants from the journal re-armed", 1, FX_WAIT_MS));
	assert_true(fx_count(f->calls, "open id=") > opens);
	snprintf(id_open, sizeof(id_open), "port=22 timeout=40");
	assert_int_equal(fx_count(f->calls, id_open), 2);
	assert_true(fx_wait_for(f->log, "closed (expired): src=127.0.0.1 tcp/8443", 1, FX_WAIT_MS));
	/* the replay cache survived the crash */
	line = fx_send(f, live, llen, false);
	assert_non_null(strstr(line, "replay of a packet"));
}

/* A packet from Debian's fwknop 2.6.10 client, the peer we must accept. */
static void test_debian_fwknop_client(void **state)
{
	struct fx *f = *state;
	char port[16], home[4200], cmd_out[4200];
	const char *fwknop = "/usr/bin/fwknop";
	int before = fx_count(f->log, "decision="), status;
	pid_t pid;

	if (access(fwknop, X_OK) < 0) {
		printf("SKIP: %s not installed\n", fwknop);
		return;
	}
	snprintf(port, sizeof(port), "%u", f->port);
	snprintf(home, sizeof(home), "HOME=%s", f->dir);
	snprintf(cmd_out, sizeof(cmd_out), "%s/fwknop.out", f->dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *env[] = { home, NULL };
		int fd = open(cmd_out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execle(fwknop, fwknop, "-A", "tcp/2222", "-a", "127.0.0.1", "-D", "127.0.0.1",
		       "-p", port, "-U", "alice", "--key-base64-rijndael", FX_KEY_B64,
		       "--key-base64-hmac", FX_HMAC_B64, "-f", "30", "--no-save-args", (char *)NULL, env);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(fx_wait_for(f->log, "decision=", before + 1, FX_WAIT_MS));
	assert_true(fx_wait_for(f->calls,
		"proto=6 port=2222 timeout=30 stanza=access.conf:2 user=alice", 1, FX_WAIT_MS));
	assert_int_equal(fx_count(f->calls, "port=2222"), 1);
}

static void test_clean_exit(void **state)
{
	struct fx *f = *state;
	char pid_file[4200];
	struct stat st;
	pid_t pid = f->pid;
	int status = -1;

	snprintf(pid_file, sizeof(pid_file), "%s/spad.pid", f->run);
	assert_int_equal(stat(pid_file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(fx_cli(f, "-S"), 0);
	assert_true(fx_wait_for(f->log, "spad is running, pid", 1, 100));
	/* -K signals the instance holding the pid lock; it exits cleanly */
	assert_int_equal(fx_cli(f, "-K"), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	f->pid = -1;
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* a clean stop closes what is still open and finalises the plugin */
	assert_true(fx_count(f->calls, "close id=") >= 1);
	assert_int_equal(fx_count(f->calls, "fini\n"), 1);   /* kill -9 ran none */
	assert_int_equal(stat(pid_file, &st), -1);
	assert_int_equal(fx_cli(f, "-S"), 1);
}

/* With nothing pending the daemon must not wake up at all. */
static void test_idle_daemon_sleeps(void **state)
{
	struct fx *f = *state;
	long before, after;

	assert_true(fx_start(f));
	before = fx_wakeups(f);
	if (before < 0) {
		printf("SKIP: no /proc/<pid>/status\n");
		return;
	}
	/* let start-up settle (slow under ASan on a loaded machine): no
	 * wakeup for half a second, within a generous deadline */
	for (int waited = 0; waited < FX_WAIT_MS; waited += 500) {
		usleep(500000);
		after = fx_wakeups(f);
		if (after == before)
			break;
		before = after;
	}
	sleep(2);
	after = fx_wakeups(f);
	assert_int_equal(after, before);
}

/* The journal is written whole at start, so the first grant after it
 * only appends a line (no fsync+rename on the way to opening). */
static void test_journal_written_at_start(void **state)
{
	struct fx *f = *state;
	char path[4200];
	char *text;

	if (f->pid > 0)
		fx_stop(f, SIGTERM);
	snprintf(path, sizeof(path), "%s/grants.json", f->run);
	unlink(path);
	assert_true(fx_start(f));
	text = th_read(path);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"version\":5"));
	free(text);
}

/* A UDP server never captures: libpcap (and the libraries it pulls in)
 * must not be mapped at all. */
static void test_udp_server_does_not_map_libpcap(void **state)
{
	struct fx *f = *state;
	char path[64], line[512];
	bool crypto = false, pcap = false;
	FILE *in;

	if (f->pid <= 0)
		assert_true(fx_start(f));
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)f->pid);
	in = fopen(path, "r");
	if (!in) {
		printf("SKIP: no /proc/<pid>/maps\n");
		return;
	}
	/* /proc files have no size: line by line */
	while (fgets(line, sizeof(line), in)) {
		crypto = crypto || strstr(line, "libcrypto");
		pcap = pcap || strstr(line, "libpcap");
	}
	fclose(in);
	assert_true(crypto); /* the reading works */
	assert_false(pcap);
}

/* Without -v a flood of packets that do not authenticate, or of replays,
 * gets a budget of log lines and a count, while a grant is always logged. */
static void test_unauthenticated_flood_is_rate_limited(void **state)
{
	struct fx *f = *state;
	char pkt[SPA_WIRE_CAP];
	size_t len;
	int rejects, before = fx_count(f->log, "decision=reject");
	int grants = fx_count(f->log, "decision=grant");

	if (f->pid > 0)
		fx_stop(f, SIGTERM);
	f->quiet = true;
	assert_true(fx_start(f));
	len = fx_build(f, f->wrong, "mallory", "127.0.0.1,tcp/22", 0, 0, pkt);
	for (int i = 0; i < 60; i++)
		assert_true(fx_send_raw(f, pkt, len, false));
	len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/22", 0, 0, pkt);
	assert_true(fx_send_raw(f, pkt, len, false));
	assert_true(fx_wait_for(f->log, "decision=grant", grants + 1, FX_WAIT_MS));
	/* replays of a captured packet are attacker-made too */
	for (int i = 0; i < 60; i++)
		assert_true(fx_send_raw(f, pkt, len, false));
	/* a grant sent after them is logged once they are all decided */
	len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/80", 0, 0, pkt);
	assert_true(fx_send_raw(f, pkt, len, false));
	assert_true(fx_wait_for(f->log, "decision=grant", grants + 2, FX_WAIT_MS));
	rejects = fx_count(f->log, "decision=reject") - before;
	/* 120 lines unlimited; the bursts may straddle second boundaries:
	 * three budgets at most */
	assert_true(rejects >= 1);
	assert_true(rejects <= 3 * 10);
	sleep(2);
	len = fx_build(f, f->wrong, "mallory", "127.0.0.1,tcp/22", 0, 0, pkt);
	assert_true(fx_send_raw(f, pkt, len, false));
	assert_true(fx_wait_for(f->log, "did not authenticate or were replays were not logged", 1,
				FX_WAIT_MS));
	assert_int_equal(fx_count(f->log, "decision=reject") - before, rejects + 1);
	assert_true(fx_stop(f, SIGTERM) >= 0);
	f->quiet = false;
}

/* A paced garbage flood makes the loop coalesce wakeups; a valid knock in
 * the middle of it must still be granted, and every garbage packet still
 * decided (none lost while the loop lets them queue). */
static void test_knock_during_paced_flood(void **state)
{
	struct fx *f = *state;
	char junk[SPA_WIRE_CAP], pkt[SPA_WIRE_CAP];
	size_t jlen, len;
	int grants = fx_count(f->log, "decision=grant");
	int rejects = fx_count(f->log, "decision=reject");

	if (f->pid <= 0)
		assert_true(fx_start(f));
	jlen = fx_build(f, f->wrong, "mallory", "127.0.0.1,tcp/22", 0, 0, junk);
	len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/2222", 0, 0, pkt);
	for (int i = 0; i < 600; i++) {
		assert_true(fx_send_raw(f, junk, jlen, false));
		if (i == 300)
			assert_true(fx_send_raw(f, pkt, len, false));
		usleep(200);
	}
	assert_true(fx_wait_for(f->log, "decision=grant", grants + 1, FX_WAIT_MS));
	/* -v: every rejection is logged, so the count says none was lost */
	assert_true(fx_wait_for(f->log, "decision=reject", rejects + 600, FX_WAIT_MS));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_packet_opens_one_grant),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_source_outside_source_list),
		cmocka_unit_test(test_refresh_on_reknock),
		cmocka_unit_test(test_username_and_reload),
		cmocka_unit_test(test_crash_and_restart),
		cmocka_unit_test(test_debian_fwknop_client),
		cmocka_unit_test(test_clean_exit),
		cmocka_unit_test(test_idle_daemon_sleeps),
		cmocka_unit_test(test_journal_written_at_start),
		cmocka_unit_test(test_udp_server_does_not_map_libpcap),
		cmocka_unit_test(test_knock_during_paced_flood),
		cmocka_unit_test(test_unauthenticated_flood_is_rate_limited),
	};
	if (argc < 3) {
		fprintf(stderr, "usage: test_spad spad plugin-dir\n");
		return 1;
	}
	spad_path = argv[1];
	plugin_dir = argv[2];
	return cmocka_run_group_tests(tests, setup, teardown);
}
