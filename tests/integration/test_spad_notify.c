/* SPDX-License-Identifier: MIT */
/*
 * test_spad_notify.c - spad under systemd's Type=notify protocol, spoken to
 * a socket of the test's own (what systemd does, without needing it as
 * pid 1): READY=1 only once the journal's grants are back in the backend
 * and spad listens, RELOADING=1 then READY=1 around a SIGHUP, WATCHDOG=1
 * from the event loop while WATCHDOG_USEC asks for it (and not when
 * WATCHDOG_PID names another process), STOPPING=1 at a stop.
 * argv[1]: spad, argv[2]: directory of recorder.so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "spad_fixture.h"

static const char *spad_bin, *plugin_dir;

struct nx {
	struct fx *f;
	int sock;
	char path[4200];
};

static int setup(void **state)
{
	struct nx *n = calloc(1, sizeof(*n));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (!n || !(n->f = fx_new(spad_bin, plugin_dir)))
		return -1;
	snprintf(n->path, sizeof(n->path), "%s/notify", n->f->dir);
	if (strlen(n->path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, n->path, strlen(n->path) + 1);
	n->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->sock < 0 || bind(n->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	setenv("NOTIFY_SOCKET", n->path, 1);
	*state = n;
	return 0;
}

static int teardown(void **state)
{
	struct nx *n = *state;

	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	close(n->sock);
	fx_delete(n->f);
	free(n);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The next message holding `want`, skipping WATCHDOG=1 pings unless they
 * are what is wanted; NULL (and no message) after timeout_ms. */
static const char *next_msg(struct nx *n, const char *want, int timeout_ms)
{
	static char msg[1024];
	int64_t end = now_ms() + timeout_ms;

	for (int64_t left; (left = end - now_ms()) > 0;) {
		struct pollfd p = { .fd = n->sock, .events = POLLIN };
		ssize_t len;

		if (poll(&p, 1, (int)left) <= 0)
			continue;
		len = recv(n->sock, msg, sizeof(msg) - 1, 0);
		if (len <= 0)
			continue;
		msg[len] = '\0';
		if (strstr(msg, want))
			return msg;
		if (strcmp(msg, "WATCHDOG=1\n") != 0)
			print_message("notify (skipped): %s", msg);
	}
	return NULL;
}

static const char *knock(struct fx *f, const char *msg)
{
	char pkt[2048];
	size_t len = fx_build(f, f->keys, "alice", msg, 0, 300, pkt);

	return fx_send(f, pkt, len, false);
}

/* READY=1 comes after the start's reconciliation: a grant journaled by a
 * spad killed with -9 is already re-opened when it arrives. */
static void test_ready_after_reconcile(void **state)
{
	struct nx *n = *state;
	struct fx *f = n->f;
	const char *m;

	assert_true(fx_start(f));
	m = next_msg(n, "READY=1", FX_WAIT_MS);
	assert_non_null(m);
	assert_non_null(strstr(m, "STATUS=1 stanza, 0 grants"));
	assert_non_null(strstr(knock(f, "127.0.0.1,tcp/22"), "opened"));
	assert_int_equal(fx_count(f->calls, "open id=1 "), 1);
	assert_int_equal(fx_stop(f, SIGKILL), 128 + SIGKILL);

	assert_true(fx_start(f));
	m = next_msg(n, "READY=1", FX_WAIT_MS);
	assert_non_null(m);
	/* no wait here: the re-open must already be done */
	assert_int_equal(fx_count(f->calls, "open id=1 "), 2);
	assert_non_null(strstr(m, "1 grant"));
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	assert_non_null(next_msg(n, "STOPPING=1", FX_WAIT_MS));
}

static void test_reload(void **state)
{
	struct nx *n = *state;
	struct fx *f = n->f;
	const char *m;

	assert_true(fx_start(f));
	assert_non_null(next_msg(n, "READY=1", FX_WAIT_MS));
	assert_int_equal(kill(f->pid, SIGHUP), 0);
	m = next_msg(n, "RELOADING=1", FX_WAIT_MS);
	assert_non_null(m);
	assert_non_null(strstr(m, "MONOTONIC_USEC="));
	assert_non_null(next_msg(n, "READY=1", FX_WAIT_MS));
	assert_true(fx_wait_for(f->log, "configuration reloaded", 1, FX_WAIT_MS));
	/* a refused reload ends too: systemctl reload must not hang */
	fx_write_access(f, "NO_SUCH_VARIABLE Y\n");
	assert_int_equal(kill(f->pid, SIGHUP), 0);
	assert_non_null(next_msg(n, "RELOADING=1", FX_WAIT_MS));
	assert_non_null(next_msg(n, "READY=1", FX_WAIT_MS));
	assert_true(fx_wait_for(f->log, "reload refused", 1, FX_WAIT_MS));
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

static void test_watchdog(void **state)
{
	struct nx *n = *state;
	struct fx *f = n->f;
	char pid[32];

	/* a ping every 100 ms: ten arrive long before this deadline */
	setenv("WATCHDOG_USEC", "200000", 1);
	assert_true(fx_start(f));
	assert_non_null(next_msg(n, "READY=1", FX_WAIT_MS));
	for (int i = 0; i < 10; i++)
		assert_non_null(next_msg(n, "WATCHDOG=1", FX_WAIT_MS));
	assert_int_equal(fx_stop(f, SIGTERM), 0);

	/* meant for another process: spad must not answer it */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_true(fx_start(f));
	assert_non_null(next_msg(n, "READY=1", FX_WAIT_MS));
	assert_null(next_msg(n, "WATCHDOG=1", 1500));
	assert_int_equal(fx_stop(f, SIGTERM), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ready_after_reconcile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchdog, setup, teardown),
	};

	if (argc < 3) {
		fprintf(stderr, "usage: test_spad_notify spad plugin-dir\n");
		return 1;
	}
	spad_bin = argv[1];
	plugin_dir = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
