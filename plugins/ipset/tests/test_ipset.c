/* SPDX-License-Identifier: MIT */
/*
 * Commands of the ipset plugin against a fake host (exec transport), and,
 * when built with libipset and run as root, the library transport against
 * the kernel in a network namespace of this process's own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fake_host.h"
#include "plugin_case.h"
#include "spa_ipset.h"

extern const struct spa_plugin_descriptor spa_plugin_descriptor;
#define OPS (spa_plugin_descriptor.ops)

static struct spa_grant make_grant(int af, const char *src, const char *dst, int proto,
				   int port, int64_t expires)
{
	return fake_host_grant(af, src, dst, proto, port, 0, expires,
			       "-F");
}

/* fake_host_set keeps the first value of a key: replace it instead. */
static void set_key(struct plugin_case *c, const char *key, const char *value)
{
	for (unsigned int i = 0; i < c->h.nkeys; i++) {
		if (strcmp(c->h.keys[i], key) == 0) {
			c->h.values[i] = value;
			return;
		}
	}
	fake_host_set(&c->h, key, value);
}

static int setup(void **tstate)
{
	struct plugin_case *c = plugin_case_new();

	fake_host_reply(&c->h, "/ipset", "", 0);
	/* the library, if built in, is the default: these tests are about
	 * the commands, which both transports share */
	fake_host_set(&c->h, "IPSET_TRANSPORT", "exec");
	*tstate = c;
	return 0;
}

static void test_init_creates_sets(void **tstate)
{
	struct plugin_case *c = *tstate;

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(c->h.ncalls, 4);
	assert_string_equal(c->h.calls[0].argv,
			    "/usr/sbin/ipset -exist create spa4 hash:ip,port family inet timeout 0");
	assert_string_equal(c->h.calls[1].argv,
			    "/usr/sbin/ipset -exist create spa6 hash:ip,port family inet6 timeout 0");
	assert_string_equal(c->h.calls[3].argv,
			    "/usr/sbin/ipset -exist create spa6d hash:ip,port,ip family inet6 timeout 0");
}

static void test_open_close(void **tstate)
{
	struct plugin_case *c = *tstate;
	int64_t exp = (int64_t)time(NULL) + 3600;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", NULL, 6, 22, exp);
	struct spa_grant g6 = make_grant(AF_INET6, "2001:db8:1::2", "2001:db8:1::1", 17, 53, exp);

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 1);
	/* the timeout is what is left until the absolute expiry */
	assert_true(strncmp(c->h.calls[0].argv,
			    "/usr/sbin/ipset -exist add spa4 198.51.100.2,tcp:22 timeout 3", 61) == 0);
	assert_int_equal(OPS.close(c->state, &g6), 0);
	assert_string_equal(c->h.calls[1].argv,
			    "/usr/sbin/ipset -exist del spa6d 2001:db8:1::2,udp:53,2001:db8:1::1");
	g.expires = (int64_t)time(NULL) - 1;
	assert_int_not_equal(OPS.open(c->state, &g), 0);
	g.expires = exp;
	g.proto = 1;
	assert_int_not_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 2);
}

/* A del that fails (the set was destroyed) creates the set again and
 * retries once; when ipset keeps failing the close fails. */
static void test_close_recreates_set(void **tstate)
{
	struct plugin_case *c = *tstate;
	int64_t exp = (int64_t)time(NULL) + 3600;
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", NULL, 6, 22, exp);

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	fake_host_reply(&c->h, "/ipset", "", 1);
	assert_int_not_equal(OPS.close(c->state, &g), 0);
	assert_int_equal(c->h.ncalls, 2);
	assert_string_equal(c->h.calls[0].argv, "/usr/sbin/ipset -exist del spa4 198.51.100.2,tcp:22");
	assert_string_equal(c->h.calls[1].argv,
			    "/usr/sbin/ipset -exist create spa4 hash:ip,port family inet timeout 0");
}

static void test_bad_names(void **tstate)
{
	struct plugin_case *c = *tstate;

	fake_host_set(&c->h, "IPSET_SET4", "-F");
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(c->h.ncalls, 0);
	assert_false(spa_ipset_valid_name("a,b"));
	assert_false(spa_ipset_valid_name("a b"));
	assert_true(spa_ipset_valid_name("spa-allow_4"));
}

static void test_duplicate_names(void **tstate)
{
	struct plugin_case *c = *tstate;

	fake_host_set(&c->h, "IPSET_SET6", "spa4");
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
}

static void test_list(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct fake_listed acc = { 0 };
	static const char save[] =
		"create spa4 hash:ip,port family inet hashsize 1024 maxelem 65536 timeout 0\n"
		"add spa4 198.51.100.2,tcp:22 timeout 89\n"
		"add spa4 198.51.100.3,icmp:0 timeout 5\n"
		"add other 198.51.100.9,tcp:22 timeout 5\n"
		"add spa6d 2001:db8:1::2,udp:53,2001:db8:1::1 timeout 7\n"
		"add spa6 2001:db8:1::2,udp:53,2001:db8:1::1 timeout 7\n";

	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(spa_ipset_list_text(c->state, save, 1000, fake_host_collect, &acc), 0);
	assert_int_equal(acc.n, 2);
	assert_string_equal(acc.g[0].src.text, "198.51.100.2");
	assert_int_equal(acc.g[0].port, 22);
	assert_int_equal(acc.g[0].expires, 1089);
	assert_int_equal(acc.g[1].family, AF_INET6);
	assert_string_equal(acc.g[1].dst.text, "2001:db8:1::1");
	assert_int_equal(acc.g[1].proto, 17);
}

/* The same save text, this time through ops.list and the runner's output. */
static void test_list_op(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct fake_seen seen = { 0 };

	fake_host_reply(&c->h, "/ipset",
			"create spa4 hash:ip,port family inet timeout 0\n"
			"add spa4 198.51.100.2,tcp:22 timeout 89\n", 0);
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	fake_host_reset_calls(&c->h);
	assert_int_equal(OPS.list(c->state, fake_host_seen, &seen), 0);
	assert_int_equal(c->h.ncalls, 4);
	assert_string_equal(c->h.calls[0].argv, "/usr/sbin/ipset save spa4");
	assert_string_equal(c->h.calls[3].argv, "/usr/sbin/ipset save spa6d");
	/* the one canned reply answers each of the four saves */
	assert_int_equal(seen.n, 4);
	assert_non_null(strstr(seen.text[0], "198.51.100.2 6/22"));
	assert_string_equal(seen.text[3], seen.text[0]);
}

static void test_transport_key(void **tstate)
{
	struct plugin_case *c = *tstate;

	set_key(c, "IPSET_TRANSPORT", "shell");
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(c->h.ncalls, 0);
	assert_int_equal(c->h.nerrors, 1);
#ifndef SPA_IPSET_HAVE_LIBIPSET
	/* asked for, but not built in: refused rather than silently exec */
	set_key(c, "IPSET_TRANSPORT", "library");
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_int_equal(c->h.ncalls, 0);
	assert_int_equal(c->h.nerrors, 2);
#endif
}

/* A create that fails fails init, and nothing after it runs. */
static void test_init_failure(void **tstate)
{
	struct plugin_case *c = *tstate;

	fake_host_reply(&c->h, "/ipset", "", 1);
	assert_int_not_equal(OPS.init(&c->h.api, &c->state), 0);
	assert_null(c->state);
	assert_int_equal(c->h.ncalls, 1);
}

/* check: init's parser, no command, the key and value named. */
static void check_refused(const char *key, const char *value, const char *says)
{
	assert_int_equal(plugin_case_check_refused(key, value, says), 0);
}

static void test_check(void **tstate)
{
	struct plugin_case *c = *tstate;
	struct spa_grant probe = fake_host_probe("access.conf:7");

	fake_host_set(&c->h, "IPSET_SET4", "knock4");
	fake_host_set(&c->h, "IPSET_EXE", "/sbin/ipset");
	assert_int_equal(OPS.check(&c->h.api, NULL), 0);
	assert_int_equal(OPS.check(&c->h.api, &probe), 0);
	assert_int_equal(c->h.ncalls, 0);
	assert_int_equal(c->h.nerrors, 0);

	check_refused("IPSET_SET4", "-bad", "invalid set name");
	check_refused("IPSET_SET6_DST", "spa4", "used twice");
	check_refused("IPSET_TRANSPORT", "shell", "is not one of");
	check_refused("IPSET_EXE", "ipset", "absolute");
	/* one knob per behaviour: the engine's FLUSH_IPSET_AT_INIT/EXIT */
	check_refused("IPSET_FLUSH_AT_INIT", "Y", "FLUSH_IPSET_AT_INIT");
	check_refused("IPSET_FLUSH_AT_EXIT", "Y", "FLUSH_IPSET_AT_EXIT");
}

#ifdef SPA_IPSET_HAVE_LIBIPSET
static unsigned int listed(struct plugin_case *c, struct fake_listed *acc)
{
	memset(acc, 0, sizeof(*acc));
	assert_int_equal(OPS.list(c->state, fake_host_collect, acc), 0);
	return acc->n;
}

/* Sends fds 1 and 2 to a temporary file until capture_end, which says
 * how many bytes were written to them meanwhile. */
struct capture {
	int saved1, saved2, fd;
};

static void capture_begin(struct capture *cap)
{
	fflush(stdout);
	fflush(stderr);
	cap->saved1 = dup(1);
	cap->saved2 = dup(2);
	cap->fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	assert_true(cap->saved1 >= 0 && cap->saved2 >= 0 && cap->fd >= 0);
	dup2(cap->fd, 1);
	dup2(cap->fd, 2);
}

static ssize_t capture_end(struct capture *cap)
{
	char buf[256];
	ssize_t n;

	fflush(stdout);
	fflush(stderr);
	dup2(cap->saved1, 1);
	dup2(cap->saved2, 2);
	close(cap->saved1);
	close(cap->saved2);
	n = pread(cap->fd, buf, sizeof(buf) - 1, 0);
	close(cap->fd);
	return n;
}

static int xrun(struct plugin_case *c, const char *const args[])
{
	struct spa_ipset_state *st = c->state;

	return st->xport->run(st, args, NULL);
}

/* Netlink sockets of this process, and how many of them would leak into
 * the commands a host runs (no close-on-exec). */
static unsigned int netlink_sockets(unsigned int *inheritable)
{
	unsigned int n = 0;

	*inheritable = 0;
	for (int fd = 0; fd < 1024; fd++) {
		int domain = 0, flags = fcntl(fd, F_GETFD);
		socklen_t len = sizeof(domain);

		if (flags < 0 || getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
		    domain != AF_NETLINK)
			continue;
		n++;
		if (!(flags & FD_CLOEXEC))
			(*inheritable)++;
	}
	return n;
}

/* The in-process transport against a real kernel, in a network namespace
 * of this process's own (never the host's sets). */
static void test_library_netns(void **tstate)
{
	struct plugin_case *c = *tstate;
	int64_t now = (int64_t)time(NULL);
	struct spa_grant g = make_grant(AF_INET, "198.51.100.2", NULL, 6, 22, now + 60);
	struct spa_grant g6 = make_grant(AF_INET6, "2001:db8:1::2", "2001:db8:1::1", 17, 53,
					 now + 60);
	const char *bad[] = { "-exist", "add", "nosuch", "198.51.100.2,tcp:22", NULL };
	const char *junk[] = { "-exist", "add", "spa4", "198.51.100.2,tcp:22", "bogus", NULL };
	const char *destroy[] = { "destroy", "spa4", NULL };
	const char *create[] = { "create", "spa4", "hash:ip,port", "timeout", "0", NULL };
	struct fake_listed acc;
	struct capture cap;
	unsigned int inheritable;
	int rc;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0)
		skip(); /* needs root: covered by e2e.plugin_ipset_library */
	set_key(c, "IPSET_TRANSPORT", "library");
	fake_host_set(&c->h, "IPSET_EXE", "/nonexistent/ipset");
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	/* init twice in one process: the sets exist now, -exist keeps quiet */
	OPS.fini(c->state);
	c->state = NULL;
	assert_int_equal(OPS.init(&c->h.api, &c->state), 0);
	/* one session, kept out of the commands the host runs */
	assert_int_equal(netlink_sockets(&inheritable), 1);
	assert_int_equal(inheritable, 0);

	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(OPS.open(c->state, &g6), 0);
	assert_int_equal(listed(c, &acc), 2);
	/* the fast path stored what the command line would have */
	assert_string_equal(acc.g[0].src.text, "198.51.100.2");
	assert_int_equal(acc.g[0].proto, 6);
	assert_int_equal(acc.g[0].port, 22);
	assert_in_range(acc.g[0].expires, now + 58, now + 60);
	assert_string_equal(acc.g[1].src.text, "2001:db8:1::2");
	assert_string_equal(acc.g[1].dst.text, "2001:db8:1::1");
	assert_int_equal(acc.g[1].proto, 17);
	assert_int_equal(acc.g[1].port, 53);
	/* a re-knock refreshes the one element */
	g.expires = now + 600;
	assert_int_equal(OPS.refresh(c->state, &g), 0);
	assert_int_equal(listed(c, &acc), 2);
	assert_in_range(acc.g[0].expires, now + 598, now + 600);
	assert_int_equal(OPS.close(c->state, &g), 0);
	assert_int_equal(listed(c, &acc), 1);
	/* closing what is gone (e.g. expired) is not an error */
	assert_int_equal(OPS.close(c->state, &g), 0);
	assert_int_equal(c->h.nerrors, 0);

	/* failures go to the host's log, never to our stdout/stderr */
	capture_begin(&cap);
	rc = xrun(c, bad);
	assert_int_equal(capture_end(&cap), 0);
	assert_int_equal(rc, -EIO);
	assert_int_equal(c->h.nerrors, 1);
	capture_begin(&cap);
	rc = xrun(c, junk);
	assert_int_equal(capture_end(&cap), 0);
	assert_int_equal(rc, -EIO);
	assert_int_equal(c->h.nerrors, 2);
	/* the per-grant fast path too, here on a set someone destroyed */
	assert_int_equal(xrun(c, destroy), 0);
	capture_begin(&cap);
	rc = OPS.open(c->state, &g);
	assert_int_equal(capture_end(&cap), 0);
	assert_int_equal(rc, -EIO);
	assert_int_equal(c->h.nerrors, 3);
	/* and the session is still good afterwards */
	assert_int_equal(xrun(c, create), 0);
	assert_int_equal(OPS.open(c->state, &g), 0);
	assert_int_equal(listed(c, &acc), 2);
	assert_int_equal(OPS.flush(c->state), 0);
	assert_int_equal(listed(c, &acc), 0);
	/* nothing ever went through a command */
	assert_int_equal(c->h.ncalls, 0);
	assert_int_equal(c->h.nerrors, 3);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_creates_sets, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_open_close, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_close_recreates_set, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_names, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_list_op, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_transport_key, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_init_failure, setup, plugin_case_teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, plugin_case_teardown),
#ifdef SPA_IPSET_HAVE_LIBIPSET
		/* last: it moves this process into a network namespace of its own */
		cmocka_unit_test_setup_teardown(test_library_netns, setup, plugin_case_teardown),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
