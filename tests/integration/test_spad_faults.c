/* SPDX-License-Identifier: MIT */
/*
 * test_spad_faults.c - the plugin runtime's fault paths that need a fault
 * placed at one moment, through the real daemon and the flaky test plugin
 * (tests/plugins/flaky): a re-knock while the grant's close is with the
 * backend (the grant ends open, or closed when spad stops at that moment);
 * a backend whose listing fails (reconciliation changes nothing, and the
 * next one with a listing does the job); the journal refusing a plugin's
 * token on a full disk (the open is failed and closed again, and the
 * grant's record survives for the next start). The full disk is a small
 * tmpfs in a mount namespace of the test's own: root only, else SKIP.
 * argv[1]: spad, argv[2]: directory of recorder.so, argv[3]: directory of
 * flaky.so and flakyb.so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "flaky_fixture.h"

#define MAX_CALLS 32

static const char *spad_bin, *plugin_dir;
static bool in_own_ns; /* a tmpfs we mount is seen by our spad children only */

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
	umount2(f->run, MNT_DETACH); /* if the test mounted one */
	fx_delete(f);
	return 0;
}

/* The calls on one grant, in order: "o" an open that went through, "c" a
 * close that did, "h" a call that met the hang file, "t" / "T" a token
 * the journal took / refused; with the token each close was handed. */
struct history {
	uint64_t id;
	char seq[MAX_CALLS + 1];
	char close_token[64];
};

static void note_call(const struct ff_op *o, void *ctx)
{
	struct history *h = ctx;
	size_t n = strlen(h->seq);
	char c = 0;

	if (o->id != h->id || n == MAX_CALLS)
		return;
	if (strcmp(o->op, "open") == 0 && o->ok)
		c = 'o';
	else if (strcmp(o->op, "close") == 0 && o->ok)
		c = 'c';
	else if (strcmp(o->op, "hang") == 0)
		c = 'h';
	else if (strcmp(o->op, "token") == 0)
		c = o->ok ? 't' : 'T';
	if (strcmp(o->op, "close") == 0)
		snprintf(h->close_token, sizeof(h->close_token), "%s", o->token);
	if (c)
		h->seq[n] = c;
}

static void history_of(const char *ops, uint64_t id, struct history *h)
{
	memset(h, 0, sizeof(*h));
	h->id = id;
	ff_each_op(ops, note_call, h);
}

/* ops.log lines of open and close calls so far. */
static int opens_and_closes(const char *ops)
{
	return fx_count(ops, "\nopen ") + fx_count(ops, "\nclose ");
}

static void journal_path(struct fx *f, char *out, size_t cap)
{
	snprintf(out, cap, "%s/grants.json", f->run);
}

/* A knock for 198.51.100.<src> asking for `timeout` s, sent without
 * waiting: its decision line waits for its ops. */
static void knock_raw(struct fx *f, int src, uint32_t timeout)
{
	char pkt[SPA_WIRE_CAP], msg[64];
	size_t len;

	snprintf(msg, sizeof(msg), "198.51.100.%d,tcp/22", src);
	len = fx_build(f, f->keys, "alice", msg, 0, timeout, pkt);
	assert_true(fx_send_raw(f, pkt, len, false));
}

/* spad on a flaky backend whose calls hang while <dir>/hang exists (its
 * path into hang); grant 1 (2 s of life) is opened; its expiry's close
 * meets the hung backend; a re-knock comes while that close is with the
 * backend, asking for 30 s, and is journaled (its new expiry) before this
 * returns. */
static void reknock_during_close(struct fx *f, struct ff_backend *b, char *hang, size_t cap)
{
	char journal[4200], extra[4400];

	snprintf(hang, cap, "%s/hang", f->dir);
	snprintf(extra, sizeof(extra), "FLAKY_HANG_FILE %s\n", hang);
	ff_prepare(f, "flaky", extra, 2, b);
	assert_true(fx_start(f));
	journal_path(f, journal, sizeof(journal));
	assert_non_null(strstr(ff_knock(f, f->keys, 1), "decision=grant"));
	th_write(f->dir, "hang", "", NULL, 0);
	assert_true(fx_wait_for(b->ops, "hang close id=1\n", 1, 2000 + FX_WAIT_MS));
	knock_raw(f, 1, 30);
	assert_true(fx_wait_for(journal, "\"update\"", 1, FX_WAIT_MS));
}

/* a. The re-knock wins: once the close comes back, the open queued behind
 * it makes the grant live again, on the backend and in the store. */
static void test_reknock_during_close(void **state)
{
	struct fx *f = *state;
	char hang[4200], *out;
	struct ff_backend b;
	struct history h;

	reknock_during_close(f, &b, hang, sizeof(hang));
	assert_int_equal(unlink(hang), 0);
	assert_true(fx_wait_for(b.ops, "open ok id=1 ", 2, FX_WAIT_MS));
	/* nothing more comes for it within its 30 s */
	ff_sleep_ms(1000);
	history_of(b.ops, 1, &h);
	assert_string_equal(h.seq, "ohco");
	assert_int_equal(ff_entries(b.dir), 1);
	out = ff_status(f);
	if (!strstr(out, ": 1 grant") || strstr(out, "closing"))
		fail_msg("not one live grant: %s", out);
	free(out);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	assert_int_equal(ff_entries(b.dir), 0);
	ff_assert_journal_empty(f);
}

/* b. The same, with a clean stop under way when that close comes back:
 * the open still runs (it is queued), and one more close after it leaves
 * the backend empty. The recorder's grant shows when the stop's closes
 * have gone out. */
static void test_reknock_during_close_at_stop(void **state)
{
	struct fx *f = *state;
	char hang[4200];
	struct ff_backend b;
	struct history h;

	reknock_during_close(f, &b, hang, sizeof(hang));
	assert_non_null(strstr(ff_knock(f, f->wrong, 50), "decision=grant"));
	assert_int_equal(kill(f->pid, SIGTERM), 0);
	assert_true(fx_wait_for(f->calls, "close id=", 1, FX_WAIT_MS));
	assert_int_equal(unlink(hang), 0);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	history_of(b.ops, 1, &h);
	assert_string_equal(h.seq, "ohcoc");
	assert_int_equal(ff_entries(b.dir), 0);
	ff_assert_journal_empty(f);
}

/* c. A listing that fails: reconciliation calls nothing lost or stale and
 * says why; the next one, with a listing, re-opens the grant the backend
 * lost and removes the entry no grant covers. */
static void test_list_failure_changes_nothing(void **state)
{
	struct fx *f = *state;
	char flag[4200], extra[4400], path[4300];
	struct ff_backend b;
	int calls;

	snprintf(flag, sizeof(flag), "%s/list-fails", f->dir);
	snprintf(extra, sizeof(extra), "FLAKY_FAIL_LIST_FILE %s\n", flag);
	ff_prepare(f, "flaky", extra, 60, &b);
	assert_true(fx_start(f));
	assert_non_null(strstr(ff_knock(f, f->keys, 1), "decision=grant"));
	assert_non_null(strstr(ff_knock(f, f->keys, 2), "decision=grant"));
	/* an admin's flush took grant 1's entry; a stale one is left over */
	snprintf(path, sizeof(path), "%s/198.51.100.1_tcp_22", b.dir);
	assert_int_equal(unlink(path), 0);
	th_write(b.dir, "198.51.100.99_tcp_22", "id=0 exp=0\n", NULL, 0);
	th_write(f->dir, "list-fails", "", NULL, 0);

	calls = opens_and_closes(b.ops);
	assert_int_equal(kill(f->pid, SIGUSR1), 0);
	assert_true(fx_wait_for(f->log, "cannot list its entries", 1, FX_WAIT_MS));
	assert_int_equal(fx_count(f->log, "not reconciled (SIGUSR1)"), 1);
	assert_true(fx_count(f->log, "FAIL_LIST_FILE exists") >= 1);
	/* whatever it would have done has had time */
	ff_sleep_ms(1000);
	assert_int_equal(opens_and_closes(b.ops), calls);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/198.51.100.99_tcp_22", b.dir);
	assert_int_equal(access(path, F_OK), 0);

	assert_int_equal(unlink(flag), 0);
	assert_int_equal(kill(f->pid, SIGUSR1), 0);
	assert_true(fx_wait_for(f->log, "missing from backend flaky (SIGUSR1); re-opened", 1,
				FX_WAIT_MS));
	assert_true(fx_wait_for(f->log, "no grant covers (SIGUSR1); closed", 1, FX_WAIT_MS));
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/198.51.100.1_tcp_22", b.dir);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(ff_entries(b.dir), 2);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	assert_int_equal(ff_entries(b.dir), 0);
}

/* Fills the file system of dir to the last byte. */
static void fill(const char *dir)
{
	char path[4200], block[4096];
	int fd;

	memset(block, 'x', sizeof(block));
	snprintf(path, sizeof(path), "%s/filler", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	while (write(fd, block, sizeof(block)) > 0)
		;
	/* the rest of the last page too */
	while (write(fd, block, 1) > 0)
		;
	close(fd);
}

/* FLAKY_TOKENS N in fwknopd.conf becomes Y, for the next start. */
static void tokens_on(struct fx *f)
{
	char *text = th_read(f->conf), *at;
	FILE *out;

	assert_non_null(text);
	at = strstr(text, "FLAKY_TOKENS N");
	assert_non_null(at);
	at[strlen("FLAKY_TOKENS ")] = 'Y';
	out = fopen(f->conf, "w");
	assert_non_null(out);
	assert_int_equal(fputs(text, out) >= 0, 1);
	assert_int_equal(fclose(out), 0);
	free(text);
}

/* d. The journal refuses a plugin's token: the first change after a start
 * on a full disk is the token flaky sets when the start re-opens a grant
 * of the journal (a journal rewrite, which needs room). The engine fails
 * that open (a close after a restart could not find what it opened) and
 * closes it again, handing it the token kept in memory; spad goes on. The
 * grant's record stays in the journal until a write succeeds (its removal
 * could not be written either); with room again, knocks are granted and
 * their tokens journaled. */
static void test_token_refused_by_full_journal(void **state)
{
	struct fx *f = *state;
	char filler[4300], *out;
	struct ff_backend b;
	struct history h;

	if (geteuid() != 0 || !in_own_ns) {
		printf("SKIP: the full-journal test needs root and a mount namespace of its own "
		       "(for its tmpfs)\n");
		skip();
	}
	assert_int_equal(mkdir(f->run, 0700), 0);
	assert_int_equal(mount("tmpfs", f->run, "tmpfs", 0, "size=256k,mode=0700"), 0);
	ff_prepare(f, "flaky", "FLAKY_TOKENS N\n", 30, &b);
	assert_true(fx_start(f));
	assert_non_null(strstr(ff_knock(f, f->keys, 1), "decision=grant"));
	assert_int_equal(fx_stop(f, SIGKILL), 128 + SIGKILL);

	tokens_on(f);
	fill(f->run);
	assert_true(fx_start(f));
	assert_true(fx_wait_for(b.ops, "close ok id=1 ", 1, FX_WAIT_MS));
	history_of(b.ops, 1, &h);
	assert_string_equal(h.seq, "oToc");
	assert_string_equal(h.close_token, "flaky-1");
	assert_int_equal(ff_entries(b.dir), 0);
	assert_true(fx_count(f->log, "token not journaled") >= 1);
	assert_true(fx_count(f->log, "its token could not be journaled") >= 1);
	out = ff_status(f);
	if (!strstr(out, ": 1 grant"))
		fail_msg("the grant's record is gone from the journal: %s", out);
	free(out);

	/* room again: spad took no harm; a knock's token is journaled, and
	 * the journal now says what the store holds */
	snprintf(filler, sizeof(filler), "%s/filler", f->run);
	assert_int_equal(unlink(filler), 0);
	assert_non_null(strstr(ff_knock(f, f->keys, 2), "decision=grant"));
	history_of(b.ops, 2, &h);
	assert_string_equal(h.seq, "to");
	assert_int_equal(ff_entries(b.dir), 1);
	out = ff_status(f);
	if (!strstr(out, ": 1 grant, 1 with a plugin token"))
		fail_msg("not grant 2 alone: %s", out);
	free(out);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	history_of(b.ops, 2, &h);
	assert_string_equal(h.seq, "toc");
	assert_string_equal(h.close_token, "flaky-2");
	assert_int_equal(ff_entries(b.dir), 0);
	ff_assert_journal_empty(f);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reknock_during_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reknock_during_close_at_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_failure_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_refused_by_full_journal, setup, teardown),
	};
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: test_spad_faults spad recorder-dir flaky-dir\n");
		return 1;
	}
	spad_bin = argv[1];
	plugin_dir = ff_link_plugins(argv[2], argv[3]);
	if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
		in_own_ns = true;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	ff_unlink_plugins();
	return rc;
}
