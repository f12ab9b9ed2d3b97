/* SPDX-License-Identifier: MIT */
/*
 * test_spad_privsep.c - privilege separation in the running daemon
 * (docs/SECURITY.md): what /proc says of each process, and that the
 * monitor survives the packet process dying (a crash, or a system call off
 * its allow-list) with every grant intact, starting a new one that serves
 * knocks. The sandbox itself (forbidden calls kill) is test_engine_sandbox;
 * records the policy does not allow are test_engine_privsep.
 * argv[1]: spad, argv[2]: directory of recorder.so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "spad_fixture.h"

static const char *spad_bin, *plugin_dir;

static int setup(void **state)
{
	*state = fx_new(spad_bin, plugin_dir);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	fx_delete(*state);
	return 0;
}

/* The daemon's one child that is spad (the packet process), waiting up to
 * FX_WAIT_MS for one whose pid is not `not` (a restart). */
static pid_t packet_process(const struct fx *f, pid_t not)
{
	for (int i = 0; i < FX_WAIT_MS / 20; i++) {
		char path[64], buf[256];
		FILE *in;
		pid_t found = -1;
		int c;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)f->pid, (int)f->pid);
		in = fopen(path, "r");
		while (in && fscanf(in, "%d", &c) == 1) {
			FILE *comm;
			snprintf(buf, sizeof(buf), "/proc/%d/comm", c);
			comm = fopen(buf, "r");
			if (comm && fgets(buf, sizeof(buf), comm) && strcmp(buf, "spad\n") == 0 &&
			    c != not)
				found = c;
			if (comm)
				fclose(comm);
		}
		if (in)
			fclose(in);
		if (found > 0)
			return found;
		usleep(20000);
	}
	return -1;
}

/* The value of a "Key:" line of /proc/<pid>/status (static buffer). */
static const char *status_of(pid_t pid, const char *key)
{
	static char val[256];

	if (th_proc_status((int)pid, key, val, sizeof(val)) < 0)
		fail_msg("no %s: line in /proc/%d/status", key, (int)pid);
	return val;
}

static const char *knock(struct fx *f, const char *msg)
{
	char pkt[SPA_WIRE_CAP];
	size_t len = fx_build(f, f->keys, "alice", msg, 0, 0, pkt);

	return fx_send(f, pkt, len, false);
}

static void test_each_process_holds_what_it_needs(void **state)
{
	struct fx *f = *state;
	char root[PATH_MAX], link[64], want[PATH_MAX], line[64];
	pid_t w;
	ssize_t n;

	fx_write_access(f, "");
	assert_true(fx_start(f));
	w = packet_process(f, -1);
	assert_true(w > 0);
	/* its first line is written once the sandbox is entered */
	snprintf(line, sizeof(line), "packet process %d: uid ", (int)w);
	assert_true(fx_wait_for(f->log, line, 1, FX_WAIT_MS));
	/* the packet process: no way back to power */
	assert_string_equal(status_of(w, "NoNewPrivs"), "1");
	assert_string_equal(status_of(w, "Seccomp"), "2");
	assert_string_equal(status_of(w, "CapEff"), "0000000000000000");
	assert_string_equal(status_of(w, "CapPrm"), "0000000000000000");
	assert_string_equal(status_of(w, "CapAmb"), "0000000000000000");
	if (geteuid() == 0) {
		/* Uid: real effective saved fs, all the unprivileged user */
		const char *uid = status_of(w, "Uid");
		unsigned r, e, s, fs;
		assert_int_equal(sscanf(uid, "%u %u %u %u", &r, &e, &s, &fs), 4);
		assert_true(r != 0 && r == e && e == s && s == fs);
		assert_int_not_equal(status_of(f->pid, "Uid")[0], '\0');
		assert_int_equal(strncmp(status_of(f->pid, "Uid"), "0\t", 2), 0);
		/* its root is the empty directory in the run dir */
		snprintf(link, sizeof(link), "/proc/%d/root", (int)w);
		n = readlink(link, root, sizeof(root) - 1);
		assert_true(n > 0);
		root[n] = '\0';
		assert_non_null(realpath(f->run, want));
		strncat(want, "/empty", sizeof(want) - strlen(want) - 1);
		assert_string_equal(root, want);
	} else {
		printf("NOTE: not root: the packet process keeps uid %u (no user drop, no chroot); "
		       "capabilities, NO_NEW_PRIVS and seccomp are still checked\n",
		       (unsigned)geteuid());
	}
	/* the monitor: plugins need root, it has no seccomp filter */
	assert_string_equal(status_of(f->pid, "Seccomp"), "0");
	/* and the pair works: a knock is decided and granted */
	assert_non_null(strstr(knock(f, "127.0.0.1,tcp/22"), "opened"));
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

/* A crash of the packet process costs nothing but the packets it had in
 * hand: grants stay and close on time, a new process serves knocks. */
static void test_crash_is_survived(void **state)
{
	struct fx *f = *state;
	char crashed[128];
	pid_t w, w2, w3;

	fx_write_access(f, "");
	assert_true(fx_start(f));
	w = packet_process(f, -1);
	assert_true(w > 0);
	assert_non_null(strstr(knock(f, "127.0.0.1,tcp/22"), "opened"));
	/* our own spad's child: a crash, as a bug in a parser would cause */
	assert_int_equal(kill(w, SIGSEGV), 0);
	/* 11, or 31 under ASan: its report needs calls the sandbox forbids */
	snprintf(crashed, sizeof(crashed), "packet process %d killed by signal", (int)w);
	assert_true(fx_wait_for(f->log, crashed, 1, FX_WAIT_MS));
	w2 = packet_process(f, w);
	assert_true(w2 > 0);
	assert_non_null(strstr(knock(f, "127.0.0.1,tcp/80"), "opened"));
	/* SIGSYS is how the kernel ends a call off the allow-list: named so */
	assert_int_equal(kill(w2, SIGSYS), 0);
	snprintf(crashed, sizeof(crashed), "packet process %d killed by signal 31 (a system call "
		 "outside its allow-list)", (int)w2);
	assert_true(fx_wait_for(f->log, crashed, 1, FX_WAIT_MS));
	w3 = packet_process(f, w2);
	assert_true(w3 > 0);
	assert_non_null(strstr(knock(f, "127.0.0.1,tcp/443"), "opened"));
	/* the grants made before the crashes close on time (FW_ACCESS_TIMEOUT 2) */
	assert_true(fx_wait_for(f->calls, "close id=", 3, 2000 + FX_CLOSE_MARGIN_MS));
	assert_int_equal(fx_count(f->calls, "close id=1 "), 1);
	assert_int_equal(fx_count(f->calls, "close id=2 "), 1);
	assert_int_equal(fx_count(f->calls, "close id=3 "), 1);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

/* A packet replayed to a new packet process is still refused: it starts
 * with the monitor's cache, not the dead one's. */
static void test_replay_across_restart(void **state)
{
	struct fx *f = *state;
	char pkt[SPA_WIRE_CAP];
	size_t len;
	pid_t w;

	fx_write_access(f, "");
	assert_true(fx_start(f));
	len = fx_build(f, f->keys, "alice", "127.0.0.1,tcp/22", 0, 0, pkt);
	assert_non_null(strstr(fx_send(f, pkt, len, false), "opened"));
	w = packet_process(f, -1);
	assert_true(w > 0);
	assert_int_equal(kill(w, SIGKILL), 0);
	assert_true(packet_process(f, w) > 0);
	assert_non_null(strstr(fx_send(f, pkt, len, false), "replay of a packet first seen"));
	assert_int_equal(fx_count(f->calls, "open "), 1);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_each_process_holds_what_it_needs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crash_is_survived, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_across_restart, setup, teardown),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: %s spad plugin-dir\n", argv[0]);
		return 2;
	}
	spad_bin = argv[1];
	plugin_dir = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
