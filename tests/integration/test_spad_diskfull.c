/* SPDX-License-Identifier: MIT */
/*
 * test_spad_diskfull.c - spad's state files under attack and under a full
 * disk. The run directory on a small tmpfs fills up in the middle of a
 * burst of knocks: a knock whose digest or grant cannot be recorded is
 * refused (no hole without a record, no packet accepted twice), the files
 * stay at their last whole record, spad restarts after a kill -9 on the
 * still full disk, and every grant closes on time. Links planted at the
 * state files' names make spad refuse (or, for temp files, replace the
 * link) without touching their target; a group-writable run directory
 * is refused. The tmpfs needs root (else that test says SKIP).
 * argv[1]: spad, argv[2]: directory of recorder.so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "spad_fixture.h"

#define KNOCKS 60
#define GRANT_S 6 /* the knocks' client timeout */

extern char **environ;

static const char *spad_bin, *plugin_dir;
static bool in_own_ns; /* the mounts below are this process's only */

static int setup(void **state)
{
	*state = fx_new(spad_bin, plugin_dir);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->pid > 0)
		fx_stop(f, SIGKILL);
	umount2(f->run, MNT_DETACH); /* if the test mounted it */
	fx_delete(f);
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Fills the file system of dir, then frees `spare` bytes again. */
static void fill(const char *dir, off_t spare)
{
	char path[4200], block[4096];
	off_t size = 0;
	int fd;

	memset(block, 'x', sizeof(block));
	snprintf(path, sizeof(path), "%s/filler", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	for (;;) {
		ssize_t w = write(fd, block, sizeof(block));
		if (w <= 0)
			break;
		size += w;
	}
	assert_true(size > spare);
	assert_int_equal(ftruncate(fd, size - spare), 0);
	close(fd);
}

/* Takes whatever space was freed since. */
static void fill_more(const char *dir)
{
	char path[4200], block[4096];
	int fd;

	memset(block, 'y', sizeof(block));
	snprintf(path, sizeof(path), "%s/filler2", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	assert_true(fd >= 0);
	while (write(fd, block, sizeof(block)) > 0)
		;
	close(fd);
}

static void unfill(const char *dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/filler", dir);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/filler2", dir);
	unlink(path);
}

/* Number of distinct grant ids the recorder saw opened, and whether each
 * of them was closed. */
static void opens_and_closes(const char *calls, int *opened, int *closed)
{
	char *text = th_read(calls);
	unsigned long seen[1024];
	int n = 0;

	*opened = *closed = 0;
	for (const char *p = text; p && (p = strstr(p, "open id=")); p++) {
		unsigned long id = strtoul(p + 8, NULL, 10);
		bool dup = false;
		char needle[64];
		for (int i = 0; i < n; i++)
			dup = dup || seen[i] == id;
		if (dup || n == 1024)
			continue;
		seen[n++] = id;
		(*opened)++;
		snprintf(needle, sizeof(needle), "close id=%lu ", id);
		*closed += th_count(text, needle) > 0;
	}
	free(text);
}

/* How many times the address was granted, over the whole log. */
static int grants_for(struct fx *f, int i)
{
	char needle[64];

	snprintf(needle, sizeof(needle), " for 198.51.100.%d, ", i);
	return fx_count(f->log, needle);
}

static void test_disk_full_burst(void **state)
{
	struct fx *f = *state;
	static char pkts[KNOCKS][SPA_WIRE_CAP];
	size_t lens[KNOCKS];
	int granted = 0, refused = 0, opened, closed;
	char msg[64], opts[4200];

	if (geteuid() != 0 || !in_own_ns) {
		printf("SKIP: the disk-full test needs root and a mount namespace of its own "
		       "(for its tmpfs)\n");
		skip();
	}
	assert_int_equal(mkdir(f->run, 0700), 0);
	snprintf(opts, sizeof(opts), "size=256k,mode=0700");
	assert_int_equal(mount("tmpfs", f->run, "tmpfs", 0, opts), 0);
	assert_true(fx_start(f));

	/* a page left: the journal (~240 bytes a grant) fills it about half-way
	 * through the burst, the replay cache (~90 bytes a digest) its own
	 * page a little later */
	fill(f->run, 4096);
	for (int i = 0; i < KNOCKS; i++) {
		const char *line;
		snprintf(msg, sizeof(msg), "198.51.100.%d,tcp/22", i + 1);
		lens[i] = fx_build(f, f->keys, "alice", msg, 0, GRANT_S, pkts[i]);
		line = fx_send(f, pkts[i], lens[i], false);
		assert_true(line[0] != '\0');
		if (strstr(line, "decision=grant"))
			granted++;
		else
			refused++;
	}
	printf("disk full: %d knocks granted, %d refused\n", granted, refused);
	assert_true(granted > 0);
	assert_true(refused > 0);
	/* both files met the full disk, and each error names its file */
	assert_true(fx_count(f->log, "grant journal ") >= 1);
	assert_true(fx_count(f->log, "/grants.json: append failed (No space left on device)") >= 1);
	assert_true(fx_count(f->log, "/digest.cache: cannot record a digest (No space left") >= 1);
	/* journal first: a refused knock opened nothing */
	opens_and_closes(f->calls, &opened, &closed);
	assert_int_equal(opened, granted);
	/* every packet is spent, granted or not */
	for (int i = 0; i < KNOCKS; i++)
		assert_non_null(strstr(fx_send(f, pkts[i], lens[i], false), "decision=reject"));

	/* killed on the still full disk, restarted on it: spad starts, says
	 * nothing of damage (every failed write was cut back off), and the
	 * grants it recorded close on time */
	assert_int_equal(fx_stop(f, SIGKILL), 128 + SIGKILL);
	/* not a byte left, even for a new pid file */
	snprintf(opts, sizeof(opts), "%s/spad.pid", f->run);
	assert_int_equal(unlink(opts), 0);
	fill_more(f->run);
	assert_true(fx_start(f));
	assert_true(fx_count(f->log, "cannot write the pid") == 1);
	assert_int_equal(fx_count(f->log, "refusing"), 0);
	assert_int_equal(fx_count(f->log, "damaged"), 0);
	assert_int_equal(fx_count(f->log, "cut short"), 0);
	for (int i = 0; i < KNOCKS; i++)
		assert_non_null(strstr(fx_send(f, pkts[i], lens[i], false), "decision=reject"));
	for (int waited = 0; waited < GRANT_S * 1000 + FX_CLOSE_MARGIN_MS; waited += 50) {
		opens_and_closes(f->calls, &opened, &closed);
		if (closed == opened)
			break;
		sleep_ms(50);
	}
	assert_int_equal(closed, opened);

	/* space again: what was granted is still spent (its digest is on
	 * disk, whole); a packet refused for want of space may now be
	 * granted, once */
	unfill(f->run);
	for (int i = 0; i < KNOCKS; i++)
		fx_send(f, pkts[i], lens[i], false);
	for (int i = 0; i < KNOCKS; i++)
		assert_true(grants_for(f, i + 1) <= 1);
	for (int i = 0; i < KNOCKS; i++)
		assert_non_null(strstr(fx_send(f, pkts[i], lens[i], false), "decision=reject"));

	/* a clean stop closes the rest */
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	opens_and_closes(f->calls, &opened, &closed);
	assert_int_equal(closed, opened);
	assert_true(opened >= granted);
}

/* Runs spad -f until it exits (10 s at most, then kills it: a spad that
 * did not refuse); returns its exit status, or -1. */
static int run_briefly(struct fx *f)
{
	const char *argv[] = { f->spad, "-f", "-U", "-c", f->conf, "-a", f->access, NULL };
	posix_spawn_file_actions_t fa;
	int status = -1;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, f->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, f->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (posix_spawn(&pid, f->spad, &fa, NULL, (char *const *)argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	if (pid < 0)
		return -1;
	for (int i = 0; i < 1000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static void plant(struct fx *f, const char *name, char *path, size_t cap)
{
	char victim[4200];

	snprintf(victim, sizeof(victim), "%s/victim", f->dir);
	snprintf(path, cap, "%s/%s", f->run, name);
	assert_int_equal(symlink(victim, path), 0);
}

static void assert_victim_intact(struct fx *f)
{
	char path[4200], *text;

	snprintf(path, sizeof(path), "%s/victim", f->dir);
	text = th_read(path);
	assert_non_null(text);
	assert_string_equal(text, "precious\n");
	free(text);
}

/* A link at the pid file, the journal, the digest cache or the JSON log
 * makes spad refuse to start, naming the file; the target is untouched. */
static void test_links_refused(void **state)
{
	/* in the order spad opens them: each one's link is met first */
	static const char *const names[] = { "spad.pid", "decisions.json", "digest.cache",
					     "grants.json" };
	struct fx *f = *state;
	char path[4200];

	th_write(f->dir, "victim", "precious\n", NULL, 0);
	assert_int_equal(mkdir(f->run, 0700), 0);
	/* the JSON log, in the run directory for this test */
	snprintf(path, sizeof(path), "SPA_JSON_LOG %s/decisions.json\n", f->run);
	fx_append_conf(f, path);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char needle[4300];
		plant(f, names[i], path, sizeof(path));
		assert_int_equal(run_briefly(f), 1);
		snprintf(needle, sizeof(needle), "%s: ", path);
		assert_true(fx_count(f->log, needle) >= 1);
		assert_victim_intact(f);
		assert_int_equal(unlink(path), 0);
	}
	assert_int_equal(fx_count(f->log, "symbolic link"), 4);

	/* a hard link to the victim (protected_hardlinks off, or a victim
	 * its planter owns) is refused the same way */
	snprintf(path, sizeof(path), "%s/decisions.json", f->run);
	unlink(path);
	{
		char victim[4200];
		snprintf(victim, sizeof(victim), "%s/victim", f->dir);
		assert_int_equal(link(victim, path), 0);
	}
	assert_int_equal(run_briefly(f), 1);
	assert_int_equal(fx_count(f->log, "decisions.json: has other hard links"), 1);
	assert_victim_intact(f);
}

/* A link at a temp file's name is removed, never written through: the
 * journal snapshot and the digest cache's rewrite (an expired entry
 * forces one) create their temp files afresh. */
static void test_temp_links_replaced(void **state)
{
	struct fx *f = *state;
	char jtmp[4200], dtmp[4200];
	struct stat st;

	th_write(f->dir, "victim", "precious\n", NULL, 0);
	assert_int_equal(mkdir(f->run, 0700), 0);
	th_write(f->run, "digest.cache",
		 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 17 127.0.0.1 1 0.0.0.0 2 1\n", NULL, 0);
	plant(f, "grants.json.tmp", jtmp, sizeof(jtmp));
	plant(f, "digest.cache.tmp", dtmp, sizeof(dtmp));
	assert_true(fx_start(f));
	assert_victim_intact(f);
	assert_true(lstat(jtmp, &st) < 0 && errno == ENOENT);
	assert_true(lstat(dtmp, &st) < 0 && errno == ENOENT);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	assert_victim_intact(f);
}

/* A run directory others may write to is refused, with why. */
static void test_group_writable_run_dir(void **state)
{
	struct fx *f = *state;
	char needle[4300];

	assert_int_equal(mkdir(f->run, 0700), 0);
	assert_int_equal(chmod(f->run, 0770), 0);
	assert_int_equal(run_briefly(f), 1);
	snprintf(needle, sizeof(needle), "directory %s is group- or world-writable", f->run);
	assert_int_equal(fx_count(f->log, needle), 1);
	assert_int_equal(chmod(f->run, 0700), 0);
	assert_true(fx_start(f));
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

/* The JSON log is written as root too: its directory is checked alike. */
static void test_group_writable_json_log_dir(void **state)
{
	struct fx *f = *state;
	char dir[4200], line[4300], needle[4400];

	snprintf(dir, sizeof(dir), "%s/logs", f->dir);
	assert_int_equal(mkdir(dir, 0770), 0);
	assert_int_equal(chmod(dir, 0770), 0);
	snprintf(line, sizeof(line), "SPA_JSON_LOG %s/decisions.json\n", dir);
	fx_append_conf(f, line);
	assert_int_equal(run_briefly(f), 1);
	snprintf(needle, sizeof(needle), "directory %s is group- or world-writable", dir);
	assert_int_equal(fx_count(f->log, needle), 1);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_true(fx_start(f));
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_disk_full_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_temp_links_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_writable_run_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_writable_json_log_dir, setup, teardown),
	};

	if (argc < 3) {
		fprintf(stderr, "usage: %s SPAD PLUGIN_DIR\n", argv[0]);
		return 2;
	}
	spad_bin = argv[1];
	plugin_dir = argv[2];
	/* our own mount namespace, so a tmpfs we mount is seen by our spad
	 * children only and goes away with us whatever happens */
	if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
		in_own_ns = true;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
