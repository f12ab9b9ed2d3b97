/* SPDX-License-Identifier: MIT */
/* test_plugin.c - plugin loader checks, host API, command runner.
 * argv[1]: recorder.so, argv[2]: badabi.so */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "spa_config.h"
#include "spa_log.h"
#include "spa_plugin.h"
#include "spa_run.h"

static const char *recorder_so, *badabi_so;

static void copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[8192];
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	size_t n;

	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
	assert_int_equal(chmod(to, mode), 0);
}

static void test_refusals(void **state)
{
	char dir[64], path[4096], err[512] = "";
	struct spa_plugin *p = NULL;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	assert_int_equal(spa_plugin_load(badabi_so, &p, err, sizeof(err)), -EINVAL);
	assert_null(p);
	assert_non_null(strstr(err, "ABI 2.0"));

	snprintf(path, sizeof(path), "%s/recorder.so", dir);
	copy_file(recorder_so, path, 0757);
	assert_int_equal(spa_plugin_load(path, &p, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "world-writable"));
	assert_int_equal(chmod(path, 0775), 0);
	assert_int_equal(spa_plugin_load(path, &p, err, sizeof(err)), -EPERM);

	/* a file named after another backend must not be taken for it */
	snprintf(path, sizeof(path), "%s/iptables.so", dir);
	copy_file(recorder_so, path, 0755);
	assert_int_equal(spa_plugin_load_named(dir, "iptables", &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "calls itself 'recorder'"));

	assert_int_equal(spa_plugin_load_named(dir, "absent", &p, err, sizeof(err)), -ENOENT);
	snprintf(path, sizeof(path), "%s/garbage.so", dir);
	th_write(dir, "garbage.so", "not an ELF file", NULL, 0);
	assert_int_equal(spa_plugin_load(path, &p, err, sizeof(err)), -EINVAL);
	th_rmrf(dir);
}

static void test_recorder_host_api(void **state)
{
	char dir[64], rec[4096], conf[4096], err[512] = "";
	struct spa_config c;
	struct spa_plugin *p = NULL;
	struct spa_grant g = { .struct_size = sizeof(g), .id = 7, .family = AF_INET,
			       .proto = 6, .port = 22, .timeout = 30 };
	char *text;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	snprintf(rec, sizeof(rec), "%s/calls.log", dir);
	{
		char body[4200];
		snprintf(body, sizeof(body), "RECORDER_FILE %s\n", rec);
		th_write(dir, "fwknopd.conf", body, conf, sizeof(conf));
	}
	spa_config_init(&c);
	assert_int_equal(spa_config_load_server(&c, conf, err, sizeof(err)), 0);
	assert_int_equal(spa_plugin_load(recorder_so, &p, err, sizeof(err)), 0);
	assert_string_equal(p->d->name, "recorder");
	assert_true(p->d->capabilities & SPA_PLUGIN_CAP_IPV6);
	/* only its own namespace is visible */
	assert_int_equal(spa_plugin_init(p, &c), 0);
	assert_null(p->host.config_get(p->host.self, "IPT_INPUT_ACCESS"));
	snprintf(g.src.text, sizeof(g.src.text), "198.51.100.3");
	snprintf(g.stanza, sizeof(g.stanza), "access.conf:1");
	snprintf(g.username, sizeof(g.username), "bob");
	assert_int_equal(p->d->ops.open(p->state, &g), 0);
	assert_int_equal(p->d->ops.close(p->state, &g), 0);
	spa_plugin_unload(p);
	text = th_read(rec);
	assert_non_null(text);
	assert_string_equal(text,
		"init run=0 out=runner-ok\n"
		"open id=7 family=4 src=198.51.100.3 proto=6 port=22 timeout=30 stanza=access.conf:1 user=bob tag=- plugin=recorder\n"
		"close id=7 family=4 src=198.51.100.3 proto=6 port=22 timeout=30 stanza=access.conf:1 user=bob tag=- plugin=recorder\n"
		"fini\n");
	free(text);
	spa_config_free(&c);
	th_rmrf(dir);
}

static void test_runner(void **state)
{
	struct spa_run_buf *buf = calloc(1, sizeof(*buf));
	const char *echo[] = { "/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	const char *env[] = { "/usr/bin/env", NULL };
	const char *slow[] = { "/bin/sleep", "5", NULL };
	const char *rel[] = { "sh", NULL };
	const char *missing[] = { "/nonexistent/binary", NULL };
	int status, to;
	(void)state;

	assert_non_null(buf);
	assert_int_equal(spa_run(echo, 2000, buf, &status, &to), 0);
	assert_int_equal(status, 3);
	assert_int_equal(to, 0);
	assert_string_equal(buf->out, "out\n");
	assert_string_equal(buf->err, "err\n");
	/* the child gets an empty environment */
	assert_int_equal(spa_run(env, 2000, buf, &status, &to), 0);
	assert_int_equal(status, 0);
	assert_int_equal(buf->out_len, 0);
	assert_int_equal(spa_run(slow, 200, buf, &status, &to), 0);
	assert_int_equal(to, 1);
	assert_int_equal(status, -1);
	assert_int_equal(spa_run(rel, 200, buf, &status, &to), -EINVAL);
	/* a wide limit: under valgrind on a busy machine the failed exec alone
	 * has outlived 200 ms (then it counts as timed out, not missing) */
	assert_true(spa_run(missing, 10000, buf, &status, &to) < 0 || status == 127);
	spa_run_buf_free(buf);
	free(buf);
}

static void test_run_input(void **state)
{
	struct spa_run_buf *buf = calloc(1, sizeof(*buf));
	const char *cat[] = { "/bin/cat", NULL };
	const char *wc[] = { "/usr/bin/wc", "-c", NULL };
	const char *deaf[] = { "/bin/true", NULL };
	static const char bin[] = "add spa_set\0x\n";
	size_t big_len = 300 * 1024;
	char *big = malloc(SPA_RUN_IN_MAX + 1);
	int status, to;
	(void)state;

	assert_non_null(buf);
	assert_non_null(big);
	memset(big, 'a', SPA_RUN_IN_MAX + 1);
	/* bytes arrive as given, NULs included, then EOF */
	assert_int_equal(spa_run_input(cat, bin, sizeof(bin) - 1, 2000, buf, &status, &to), 0);
	assert_int_equal(status, 0);
	assert_int_equal(buf->out_len, sizeof(bin) - 1);
	assert_memory_equal(buf->out, bin, sizeof(bin) - 1);
	/* more than a pipe buffer: written as the child reads */
	assert_int_equal(spa_run_input(wc, big, big_len, 5000, buf, &status, &to), 0);
	assert_int_equal(status, 0);
	assert_int_equal(strtoul(buf->out, NULL, 10), big_len);
	/* a child that never reads must not take the caller down (SIGPIPE) */
	assert_int_equal(spa_run_input(deaf, big, big_len, 5000, buf, &status, &to), 0);
	assert_int_equal(status, 0);
	assert_int_equal(to, 0);
	/* no input: /dev/null, as for run */
	assert_int_equal(spa_run_input(cat, NULL, 0, 2000, buf, &status, &to), 0);
	assert_int_equal(buf->out_len, 0);
	assert_int_equal(spa_run_input(cat, big, SPA_RUN_IN_MAX + 1, 2000, buf, &status, &to),
			 -E2BIG);
	assert_int_equal(spa_run_input(cat, NULL, 3, 2000, buf, &status, &to), -EINVAL);
	/* stdin is a pipe (tools that open /dev/stdin by name need one) */
	{
		const char *kind[] = { "/usr/bin/stat", "-L", "-c", "%F", "/dev/stdin", NULL };
		assert_int_equal(spa_run_input(kind, "x", 1, 2000, buf, &status, &to), 0);
		assert_string_equal(buf->out, "fifo\n");
	}
	/* the child starts clean: no inherited descriptor past 2, no blocked
	 * or ignored signal, whatever the caller (spad) has */
	{
		const char *fds[] = { "/bin/ls", "/proc/self/fd", NULL };
		const char *sigs[] = { "/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status",
				       NULL };
		char leaked[16];
		int fd = open("/dev/null", O_RDONLY); /* no O_CLOEXEC on purpose */
		sigset_t block, old;
		void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);

		assert_true(fd > 3);
		snprintf(leaked, sizeof(leaked), "\n%d\n", fd);
		sigemptyset(&block);
		sigaddset(&block, SIGTERM);
		sigprocmask(SIG_BLOCK, &block, &old);
		assert_int_equal(spa_run(fds, 2000, buf, &status, &to), 0);
		assert_null(strstr(buf->out, leaked));
		assert_non_null(strstr(buf->out, "2\n"));
		assert_int_equal(spa_run(sigs, 2000, buf, &status, &to), 0);
		assert_non_null(strstr(buf->out, "SigBlk:\t0000000000000000"));
		/* glibc's posix_spawn itself ignores its two internal signals
		 * (32, 33) in every child: only signals 1-31 (bits 0-30) are ours */
		assert_non_null(strstr(buf->out, "SigIgn:\t"));
		assert_int_equal(strtoull(strstr(buf->out, "SigIgn:\t") + 8, NULL, 16) & 0x7fffffffu,
				 0);
		sigprocmask(SIG_SETMASK, &old, NULL);
		signal(SIGPIPE, old_pipe);
		close(fd);
	}
	/* a listing bigger than any fixed buffer arrives whole... */
	assert_int_equal(spa_run_input(cat, big, SPA_RUN_IN_MAX, 5000, buf, &status, &to), 0);
	assert_int_equal(buf->out_len, SPA_RUN_IN_MAX);
	assert_int_equal(buf->out[SPA_RUN_IN_MAX - 1], 'a');
	assert_int_equal(buf->out[SPA_RUN_IN_MAX], '\0');
	/* ...and one past the limit is reported cut, never passed off as whole */
	buf->out_limit = 100000;
	assert_int_equal(spa_run_input(cat, big, big_len, 5000, buf, &status, &to), -EFBIG);
	assert_int_equal(buf->out_len, 100000);
	assert_int_equal(status, 0);
	free(big);
	spa_run_buf_free(buf);
	free(buf);
}

/* A process counts as gone once it is a zombie: in a container nobody
 * may reap the grandchildren we orphan, but a zombie holds nothing. */
static bool th_pid_gone(pid_t pid, int wait_ms)
{
	for (int waited = 0;; waited += 20) {
		char path[64], *stat;
		bool gone;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		stat = th_read(path);
		gone = !stat || !strrchr(stat, ')') || strrchr(stat, ')')[2] == 'Z';
		free(stat);
		if (gone || waited >= wait_ms)
			return gone;
		usleep(20000);
	}
}

static pid_t th_read_pid(const char *path)
{
	char *text = th_read(path);
	long pid = text ? strtol(text, NULL, 10) : 0;

	free(text);
	assert_true(pid > 1);
	return (pid_t)pid;
}

static int64_t th_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The timeout covers the whole run, reaping included: a child that closes
 * its output and keeps running is killed at the deadline, as is everything
 * it started. Margins are wide so a loaded machine passes. The alarm turns
 * a runner that hangs into a failure instead of a stuck suite. */
static void test_runner_hung_child(void **state)
{
	struct spa_run_buf *buf = calloc(1, sizeof(*buf));
	char dir[64], pidfile[4200], script[4400];
	const char *quiet[] = { "/bin/sh", "-c",
				"exec >&- 2>&- </dev/null; exec /bin/sleep 1000", NULL };
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	int status, to;
	int64_t t0;
	(void)state;

	assert_non_null(buf);
	th_tmpdir(dir, sizeof(dir));
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	alarm(60);
	t0 = th_mono_ms();
	assert_int_equal(spa_run(quiet, 500, buf, &status, &to), 0);
	assert_true(th_mono_ms() - t0 < 10000);
	assert_int_equal(to, 1);
	assert_int_equal(status, -1);
	/* the same with input still to write: the deadline holds for stdin */
	t0 = th_mono_ms();
	assert_int_equal(spa_run_input(quiet, "x", 1, 500, buf, &status, &to), 0);
	assert_true(th_mono_ms() - t0 < 10000);
	assert_int_equal(to, 1);
	/* a timed-out child takes its own children with it */
	snprintf(script, sizeof(script), "/bin/sleep 1000 & echo $! > %s; wait", pidfile);
	t0 = th_mono_ms();
	assert_int_equal(spa_run(argv, 500, buf, &status, &to), 0);
	assert_true(th_mono_ms() - t0 < 10000);
	assert_int_equal(to, 1);
	assert_int_equal(status, -1);
	assert_true(th_pid_gone(th_read_pid(pidfile), 5000));
	alarm(0);
	th_rmrf(dir);
	spa_run_buf_free(buf);
	free(buf);
}

/* A command that exits but leaves a background child holding its pipes:
 * the run ends with the command (its exit status, no timeout) and the
 * background child is killed, whether it holds the pipes or not. */
static void test_runner_grandchild(void **state)
{
	struct spa_run_buf *buf = calloc(1, sizeof(*buf));
	char dir[64], pidfile[4200], script[4400];
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	int status, to;
	int64_t t0;
	(void)state;

	assert_non_null(buf);
	th_tmpdir(dir, sizeof(dir));
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	alarm(60);
	snprintf(script, sizeof(script), "/bin/sleep 1000 & echo $! > %s; echo done; exit 4",
		 pidfile);
	t0 = th_mono_ms();
	assert_int_equal(spa_run(argv, 5000, buf, &status, &to), 0);
	/* well before the 5 s deadline: the grace after the exit is short */
	assert_true(th_mono_ms() - t0 < 4000);
	assert_int_equal(to, 0);
	assert_int_equal(status, 4);
	assert_string_equal(buf->out, "done\n");
	assert_true(th_pid_gone(th_read_pid(pidfile), 5000));
	/* one that let go of the pipes is no more welcome to stay */
	snprintf(script, sizeof(script),
		 "/bin/sleep 1000 >/dev/null 2>&1 </dev/null & echo $! > %s; exit 0", pidfile);
	assert_int_equal(spa_run(argv, 5000, buf, &status, &to), 0);
	assert_int_equal(to, 0);
	assert_int_equal(status, 0);
	assert_true(th_pid_gone(th_read_pid(pidfile), 5000));
	/* the run itself is not slowed by the group kill: a short command
	 * keeps returning at once */
	{
		const char *quick[] = { "/bin/true", NULL };
		t0 = th_mono_ms();
		for (int i = 0; i < 20; i++) {
			assert_int_equal(spa_run(quick, 5000, buf, &status, &to), 0);
			assert_int_equal(status, 0);
		}
		assert_true(th_mono_ms() - t0 < 8000);
	}
	alarm(0);
	th_rmrf(dir);
	spa_run_buf_free(buf);
	free(buf);
}

static const struct spa_host_api *cc_host;

static int cc_init(const struct spa_host_api *host, void **st)
{
	cc_host = host;
	*st = NULL;
	return 0;
}

static int cc_grant(void *st, const struct spa_grant *g)
{
	(void)st;
	(void)g;
	return 0;
}

static int cc_flush(void *st)
{
	(void)st;
	return 0;
}

static void cc_fini(void *st)
{
	(void)st;
}

static const struct spa_plugin_descriptor cc_desc = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.name = "cmdcycle",
	.version = "0",
	.key_prefix = "CMD_CYCLE_",
	.ops = { .init = cc_init, .open = cc_grant, .close = cc_grant, .flush = cc_flush,
		 .fini = cc_fini },
};

/* ABI 1.1: stanza_get and run_input through the host API, and which
 * fwknopd.conf keys each plugin may read. */
static void test_host_abi_1_1(void **state)
{
	char dir[64], conf[4096], acc[4096], err[512] = "", body[4200];
	const char *const prefixes[] = { "RECORDER_", "CMD_CYCLE_" };
	const char *cat[] = { "/bin/cat", NULL };
	struct spa_config c;
	struct spa_plugin *p = NULL, cc = { .d = &cc_desc };
	struct spa_grant g = { .struct_size = sizeof(g) };
	struct spa_run_result res;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	snprintf(body, sizeof(body),
		 "RECORDER_FILE %s/calls.log\nFLUSH_RECORDER_AT_INIT N\nENABLE_RECORDER_X Y\n"
		 "ENABLE_RULE_PREPEND Y\nENABLE_DESTINATION_RULE N\nFLUSH_IPT_AT_INIT Y\n", dir);
	th_write(dir, "fwknopd.conf", body, conf, sizeof(conf));
	th_write(dir, "access.conf",
		 "SOURCE ANY\nKEY k\nRECORDER_SET one\n"
		 "CMD_CYCLE_OPEN /usr/sbin/ipset add s $SRC\nCMD_CYCLE_TIMER 60\n"
		 "SOURCE ANY\nKEY k\nRECORDER_SET two\n", acc, sizeof(acc));
	spa_config_init(&c);
	assert_int_equal(spa_config_load_server(&c, conf, err, sizeof(err)), 0);
	if (spa_config_load_access(&c, acc, false, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(spa_config_finish(&c, err, sizeof(err)), 0);
	assert_int_equal(spa_config_check_keys(&c, prefixes, 2, err, sizeof(err)), 0);
	/* without a plugin claiming them, stanza keys are refused */
	assert_int_equal(spa_config_check_keys(&c, prefixes, 1, err, sizeof(err)), 0);
	{
		size_t n_kv = c.n_kv;
		c.n_kv = 0; /* only the stanzas' keys */
		assert_int_equal(spa_config_check_keys(&c, prefixes + 1, 1, err, sizeof(err)),
				 -EINVAL);
		c.n_kv = n_kv;
	}
	assert_non_null(strstr(err, "access.conf:3: RECORDER_SET 'one': unknown variable"));

	assert_int_equal(spa_plugin_load(recorder_so, &p, err, sizeof(err)), 0);
	assert_int_equal(spa_plugin_init(p, &c), 0);
	assert_int_equal(p->host.struct_size, sizeof(struct spa_host_api));
	assert_true(SPA_HOST_HAS(&p->host, run_input));
	assert_true(SPA_HOST_HAS(&p->host, stanza_get));
	/* fwknop's per-backend switches reach the backend they name */
	assert_string_equal(p->host.config_get(p->host.self, "FLUSH_RECORDER_AT_INIT"), "N");
	assert_string_equal(p->host.config_get(p->host.self, "ENABLE_RECORDER_X"), "Y");
	assert_string_equal(p->host.config_get(p->host.self, "ENABLE_RULE_PREPEND"), "Y");
	assert_string_equal(p->host.config_get(p->host.self, "ENABLE_DESTINATION_RULE"), "N");
	assert_null(p->host.config_get(p->host.self, "FLUSH_IPT_AT_INIT"));
	assert_false(spa_plugin_flush_wanted(p, "AT_INIT"));
	assert_true(spa_plugin_flush_wanted(p, "AT_EXIT")); /* fwknop default Y */

	snprintf(g.stanza, sizeof(g.stanza), "access.conf:1");
	assert_string_equal(p->host.stanza_get(p->host.self, &g, "RECORDER_SET"), "one");
	assert_null(p->host.stanza_get(p->host.self, &g, "CMD_CYCLE_OPEN"));
	assert_null(p->host.stanza_get(p->host.self, &g, "KEY"));
	snprintf(g.stanza, sizeof(g.stanza), "access.conf:6");
	assert_string_equal(p->host.stanza_get(p->host.self, &g, "RECORDER_SET"), "two");
	snprintf(g.stanza, sizeof(g.stanza), "access.conf:99");
	assert_null(p->host.stanza_get(p->host.self, &g, "RECORDER_SET"));
	g.struct_size = 8;
	assert_null(p->host.stanza_get(p->host.self, &g, "RECORDER_SET"));
	g.struct_size = sizeof(g);

	assert_int_equal(p->host.run_input(p->host.self, cat, "batch\n", 6, 2000, &res), 0);
	assert_int_equal(res.exit_status, 0);
	assert_string_equal(res.out, "batch\n");
	assert_int_equal(p->host.run_input(p->host.self, cat, "x", 1, 0, &res), -EINVAL);

	/* CMD_CYCLE_* belong to the plugin claiming that prefix only */
	assert_int_equal(spa_plugin_init(&cc, &c), 0);
	snprintf(g.stanza, sizeof(g.stanza), "access.conf:1");
	assert_string_equal(cc_host->stanza_get(cc_host->self, &g, "CMD_CYCLE_OPEN"),
			    "/usr/sbin/ipset add s $SRC");
	assert_string_equal(cc_host->stanza_get(cc_host->self, &g, "CMD_CYCLE_TIMER"), "60");
	assert_null(cc_host->stanza_get(cc_host->self, &g, "RECORDER_SET"));
	snprintf(g.stanza, sizeof(g.stanza), "access.conf:6");
	assert_null(cc_host->stanza_get(cc_host->self, &g, "CMD_CYCLE_OPEN"));

	spa_plugin_unload(p);
	cc.d->ops.fini(cc.state);
	spa_conf_kv_free(cc.keys, cc.n_keys);
	spa_config_free(&c);
	th_rmrf(dir);
}

/* <dir of recorder.so>/<name>.so */
static void sibling(char *out, size_t cap, const char *name)
{
	const char *slash = strrchr(recorder_so, '/');
	int dirlen = slash ? (int)(slash - recorder_so) : 1;

	snprintf(out, cap, "%.*s/%s.so", dirlen, slash ? recorder_so : ".", name);
}

static void load_conf(struct spa_config *c, const char *dir, const char *server,
		      const char *access)
{
	char conf[4096], acc[4096], err[512] = "";

	th_write(dir, "fwknopd.conf", server, conf, sizeof(conf));
	th_write(dir, "access.conf", access, acc, sizeof(acc));
	spa_config_init(c);
	if (spa_config_load_server(c, conf, err, sizeof(err)) != 0 ||
	    spa_config_load_access(c, acc, false, err, sizeof(err)) != 0 ||
	    spa_config_finish(c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/* Two different plugins in one process: the loader once handed back the
 * first library for the second (a closed descriptor's /proc name reused). */
static void test_two_plugins_load(void **state)
{
	char dir[64], path2[4096], err[512] = "";
	struct spa_plugin *a = NULL, *b = NULL, *c = NULL;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	sibling(path2, sizeof(path2), "recorder2");
	assert_int_equal(spa_plugin_load(recorder_so, &a, err, sizeof(err)), 0);
	if (spa_plugin_load(path2, &b, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(a->d->name, "recorder");
	assert_string_equal(b->d->name, "recorder2");
	assert_string_equal(b->d->key_prefix, "RECORDER2_");
	/* after unloading one, a third load still gets its own library */
	spa_plugin_unload(a);
	sibling(path2, sizeof(path2), "oldabi");
	assert_int_equal(spa_plugin_load(path2, &c, err, sizeof(err)), 0);
	assert_string_equal(c->d->name, "oldabi");
	spa_plugin_unload(b);
	spa_plugin_unload(c);
	th_rmrf(dir);
}

/* A 1.1 plugin (descriptor ending at fini) loads; its absent check op is
 * NULL, never read from past its descriptor. */
static void test_older_minor_loads(void **state)
{
	char dir[64], path[4096], err[512] = "";
	struct spa_plugin *p = NULL;
	struct spa_config c;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	sibling(path, sizeof(path), "oldabi");
	if (spa_plugin_load(path, &p, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(p->d->abi_minor, 1);
	assert_null(p->d->ops.check);
	load_conf(&c, dir, "OLDABI_X 1\n", "SOURCE ANY\nKEY k\n");
	assert_int_equal(spa_plugin_check(p, &c, NULL), 0);
	assert_int_equal(spa_plugin_init(p, &c), 0);
	spa_plugin_unload(p);
	spa_config_free(&c);
	th_rmrf(dir);
}

/* What config_get returned at init stays valid and unchanged after the
 * config it came from is freed (a reload); a change is reported. */
static void test_keys_owned_until_fini(void **state)
{
	char dir[64], err[512] = "", body[4200], key[128] = "";
	struct spa_plugin *p = NULL;
	struct spa_config c1, c2;
	const char *file, *fail_if;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	snprintf(body, sizeof(body), "RECORDER_FILE %s/calls.log\nRECORDER_FAIL_CLOSE_IF %s/x\n",
		 dir, dir);
	load_conf(&c1, dir, body, "SOURCE ANY\nKEY k\n");
	assert_int_equal(spa_plugin_load(recorder_so, &p, err, sizeof(err)), 0);
	assert_int_equal(spa_plugin_init(p, &c1), 0);
	file = p->host.config_get(p->host.self, "RECORDER_FILE");
	fail_if = p->host.config_get(p->host.self, "RECORDER_FAIL_CLOSE_IF");
	assert_non_null(file);
	assert_false(spa_plugin_keys_changed(p, &c1, key, sizeof(key)));
	spa_config_free(&c1);
	snprintf(body, sizeof(body), "RECORDER_FILE %s/calls.log\nRECORDER_FAIL_CLOSE_IF %s/y\n",
		 dir, dir);
	load_conf(&c2, dir, body, "SOURCE ANY\nKEY k\n");
	p->cfg = &c2; /* as reload() does: the daemon's config now says y */
	assert_true(spa_plugin_keys_changed(p, &c2, key, sizeof(key)));
	assert_string_equal(key, "RECORDER_FAIL_CLOSE_IF");
	/* the same pointers, the values the plugin was started with */
	assert_ptr_equal(p->host.config_get(p->host.self, "RECORDER_FILE"), file);
	assert_ptr_equal(p->host.config_get(p->host.self, "RECORDER_FAIL_CLOSE_IF"), fail_if);
	assert_non_null(strstr(fail_if, "/x"));
	spa_plugin_unload(p);
	spa_config_free(&c2);
	th_rmrf(dir);
}

/* The optional check op runs on the global keys and on each stanza. */
static void test_check_op(void **state)
{
	char dir[64], err[512] = "", body[4200];
	struct spa_plugin *p = NULL;
	struct spa_config c;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	snprintf(body, sizeof(body), "RECORDER_FILE %s/calls.log\n", dir);
	load_conf(&c, dir, body, "SOURCE ANY\nKEY k\nRECORDER_TAG fine\n"
		  "SOURCE ANY\nKEY k2\nRECORDER_TAG invalid\n");
	assert_int_equal(spa_plugin_load(recorder_so, &p, err, sizeof(err)), 0);
	assert_int_equal(spa_plugin_check(p, &c, NULL), -EINVAL);
	assert_false(p->initialised);
	spa_plugin_unload(p);
	spa_config_free(&c);
	load_conf(&c, dir, body, "SOURCE ANY\nKEY k\nRECORDER_TAG fine\n");
	assert_int_equal(spa_plugin_load(recorder_so, &p, err, sizeof(err)), 0);
	assert_int_equal(spa_plugin_check(p, &c, NULL), 0);
	spa_plugin_unload(p);
	spa_config_free(&c);
	th_rmrf(dir);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_recorder_host_api),
		cmocka_unit_test(test_runner),
		cmocka_unit_test(test_run_input),
		cmocka_unit_test(test_runner_hung_child),
		cmocka_unit_test(test_runner_grandchild),
		cmocka_unit_test(test_host_abi_1_1),
		cmocka_unit_test(test_two_plugins_load),
		cmocka_unit_test(test_older_minor_loads),
		cmocka_unit_test(test_keys_owned_until_fini),
		cmocka_unit_test(test_check_op),
	};
	if (argc < 3) {
		fprintf(stderr, "usage: test_plugin recorder.so badabi.so\n");
		return 1;
	}
	recorder_so = argv[1];
	badabi_so = argv[2];
	spa_log_setup("test", false, false, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
