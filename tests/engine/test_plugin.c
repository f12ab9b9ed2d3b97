/* SPDX-License-Identifier: MIT */
/* test_plugin.c - plugin loader checks, host API, command runner.
 * argv[1]: recorder.so, argv[2]: badabi.so */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
		"open id=7 family=4 src=198.51.100.3 proto=6 port=22 timeout=30 stanza=access.conf:1 user=bob\n"
		"close id=7 family=4 src=198.51.100.3 proto=6 port=22 timeout=30 stanza=access.conf:1 user=bob\n"
		"fini\n");
	free(text);
	spa_config_free(&c);
	th_rmrf(dir);
}

static void test_runner(void **state)
{
	struct spa_run_buf *buf = malloc(sizeof(*buf));
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
	assert_true(spa_run(missing, 200, buf, &status, &to) < 0 || status == 127);
	free(buf);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_recorder_host_api),
		cmocka_unit_test(test_runner),
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
