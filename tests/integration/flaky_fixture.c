/* SPDX-License-Identifier: MIT */
/* flaky_fixture.c - see flaky_fixture.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "flaky_fixture.h"

static char plugin_dir[64];

void ff_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

uint64_t ff_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void link_plugin(const char *from_dir, const char *name)
{
	char from[4200], to[4200], *abs = realpath(from_dir, NULL);

	snprintf(from, sizeof(from), "%s/%s.so", abs ? abs : from_dir, name);
	free(abs);
	snprintf(to, sizeof(to), "%s/%s.so", plugin_dir, name);
	if (symlink(from, to) < 0) {
		perror(to);
		exit(1);
	}
}

const char *ff_link_plugins(const char *recorder_dir, const char *flaky_dir)
{
	th_tmpdir(plugin_dir, sizeof(plugin_dir));
	link_plugin(recorder_dir, "recorder");
	link_plugin(flaky_dir, "flaky");
	link_plugin(flaky_dir, "flakyb");
	return plugin_dir;
}

void ff_unlink_plugins(void)
{
	th_rmrf(plugin_dir);
}

static void use_backend(struct fx *f, const char *name, const char *extra)
{
	char prefix[16], lines[8192];
	size_t i;

	for (i = 0; name[i] && i < sizeof(prefix) - 2; i++)
		prefix[i] = (char)toupper((unsigned char)name[i]);
	prefix[i++] = '_';
	prefix[i] = '\0';
	snprintf(lines, sizeof(lines), "%sSTATE_DIR %s/%s\nFLUSH_%sAT_INIT N\nFLUSH_%sAT_EXIT N\n%s",
		 prefix, f->dir, name, prefix, prefix, extra);
	fx_append_conf(f, lines);
}

/* access.conf: a stanza for `backend` (the fixture's keys), and one for
 * the recorder (KEY2, the fixture's "wrong" keys): the fixture configures
 * the recorder, and its keys are refused unless a stanza uses it. */
static void write_stanzas(struct fx *f, const char *backend, unsigned timeout,
			  unsigned recorder_timeout)
{
	char body[4096], path[4096];

	snprintf(body, sizeof(body),
		 "SOURCE 127.0.0.0/8\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\n"
		 "OPEN_PORTS tcp/22, tcp/80\nFW_ACCESS_TIMEOUT %u\nFIREWALL_TYPE %s\n\n"
		 "SOURCE 127.0.0.0/8\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\n"
		 "OPEN_PORTS tcp/22, tcp/80\nFW_ACCESS_TIMEOUT %u\nFIREWALL_TYPE recorder\n",
		 FX_KEY_B64, FX_HMAC_B64, timeout, backend, FF_KEY2_B64, FF_HMAC2_B64,
		 recorder_timeout);
	th_write(f->dir, "access.conf", body, path, sizeof(path));
}

void ff_prepare(struct fx *f, const char *name, const char *extra, unsigned timeout,
		struct ff_backend *b)
{
	use_backend(f, name, extra);
	write_stanzas(f, name, timeout, 30);
	snprintf(b->dir, sizeof(b->dir), "%s/%s", f->dir, name);
	snprintf(b->ops, sizeof(b->ops), "%s/ops.log", b->dir);
}

size_t ff_packet(struct fx *f, const struct spa_keys *k, int src, char *out)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "198.51.100.%d,tcp/22", src);
	return fx_build(f, k, "alice", msg, 0, 0, out);
}

const char *ff_knock(struct fx *f, const struct spa_keys *k, int src)
{
	char pkt[SPA_WIRE_CAP];
	size_t len = ff_packet(f, k, src, pkt);

	return fx_send(f, pkt, len, false);
}

void ff_burst(struct fx *f, const struct spa_keys *k, int first, int n)
{
	static char pkts[64][SPA_WIRE_CAP];
	size_t len[64];

	assert_true(n <= 64);
	for (int i = 0; i < n; i++)
		len[i] = ff_packet(f, k, first + i, pkts[i]);
	for (int i = 0; i < n; i++)
		assert_true(fx_send_raw(f, pkts[i], len[i], false));
}

int ff_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.' && strcmp(e->d_name, "ops.log") != 0;
	closedir(d);
	return n;
}

bool ff_wait_entries(const char *dir, int want, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 50) {
		if (ff_entries(dir) == want)
			return true;
		ff_sleep_ms(50);
	}
	return false;
}

void ff_each_op(const char *path, void (*fn)(const struct ff_op *, void *), void *ctx)
{
	char *text = th_read(path), *line, *save = NULL;

	assert_non_null(text);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct ff_op o = { 0 };
		const char *p;

		if (sscanf(line, "%15s %15s", o.op, o.arg) != 2)
			fail_msg("ops.log: '%s'", line);
		o.ok = strcmp(o.arg, "ok") == 0;
		if ((p = strstr(line, " id=")))
			o.id = strtoull(p + 4, NULL, 10);
		if ((p = strstr(line, " src=")))
			sscanf(p + 5, "%47s", o.src);
		if ((p = strstr(line, " n=")))
			o.n = (unsigned)strtoul(p + 3, NULL, 10);
		if ((p = strstr(line, " exp=")))
			o.exp = strtoll(p + 5, NULL, 10);
		if ((p = strstr(line, " wall=")))
			o.wall = strtoull(p + 6, NULL, 10);
		if ((p = strstr(line, " token=")))
			sscanf(p + 7, "%63s", o.token);
		fn(&o, ctx);
	}
	free(text);
}

char *ff_status(struct fx *f)
{
	char *out = fx_cli_out(f, "-S", NULL);

	assert_non_null(out);
	return out;
}

void ff_assert_journal_empty(struct fx *f)
{
	char *out = ff_status(f);

	if (!strstr(out, ": 0 grants"))
		fail_msg("journal not empty: %s", out);
	free(out);
}
