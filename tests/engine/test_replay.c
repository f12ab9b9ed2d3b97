/* SPDX-License-Identifier: MIT */
/* test_replay.c - the persistent replay cache. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "engine_helpers.h"
#include "spa_replay.h"
#include "spa_wire.h"

static void make_entry(struct spa_replay_entry *e, unsigned i, int64_t t)
{
	char data[64];

	memset(e, 0, sizeof(*e));
	snprintf(data, sizeof(data), "packet-%u", i);
	assert_int_equal(spa_replay_digest(data, strlen(data), e->digest), 0);
	e->proto = 17;
	snprintf(e->src, sizeof(e->src), "198.51.100.%u", i % 250);
	e->sport = (uint16_t)(1000 + i);
	snprintf(e->dst, sizeof(e->dst), "0.0.0.0");
	e->dport = 62201;
	e->created = t;
}

static void test_persist_and_find(void **state)
{
	char dir[64], path[4096];
	struct spa_replay *r;
	struct spa_replay_entry e;
	const struct spa_replay_entry *hit;
	struct stat st;
	char *text;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/digest.cache", dir);
	assert_int_equal(spa_replay_open(path, 1000, 0, &r), 0);
	for (unsigned i = 0; i < 300; i++) {
		make_entry(&e, i, 1000);
		assert_null(spa_replay_find(r, e.digest));
		assert_int_equal(spa_replay_add(r, &e), 0);
	}
	assert_int_equal(spa_replay_count(r), 300);
	make_entry(&e, 234, 0);
	hit = spa_replay_find(r, e.digest);
	assert_non_null(hit);
	assert_string_equal(hit->src, "198.51.100.234");
	assert_int_equal(hit->sport, 1234);
	spa_replay_close(r);

	/* fwknop's line format, 0600, survives a reopen */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	text = th_read(path);
	assert_non_null(text);
	assert_int_equal(strncmp(text, "# <digest> <proto> <src_ip>", 27), 0);
	assert_non_null(strstr(text, " 17 198.51.100.0 1000 0.0.0.0 62201 1000\n"));
	free(text);
	assert_int_equal(spa_replay_open(path, 1100, 0, &r), 0);
	assert_int_equal(spa_replay_count(r), 300);
	assert_non_null(spa_replay_find(r, e.digest));
	make_entry(&e, 99999, 0);
	assert_null(spa_replay_find(r, e.digest));
	spa_replay_close(r);
	th_rmrf(dir);
}

static void test_prune_and_garbage(void **state)
{
	char dir[64], path[4096];
	struct spa_replay *r;
	struct spa_replay_entry e, old, young;
	char *text;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	make_entry(&old, 1, 100);
	make_entry(&young, 2, 900);
	{
		char content[1024];
		snprintf(content, sizeof(content),
			 "# header\n%s 17 198.51.100.1 1 0.0.0.0 62201 100\nnot a line at all\n"
			 "short 17 1.2.3.4 1 0.0.0.0 2 3\n%s 17 198.51.100.2 2 0.0.0.0 62201 900\n",
			 old.digest, young.digest);
		th_write(dir, "digest.cache", content, path, sizeof(path));
	}
	/* now 1000, keep 300 s: the entry from t=100 goes */
	assert_int_equal(spa_replay_open(path, 1000, 300, &r), 0);
	assert_int_equal(spa_replay_count(r), 1);
	assert_null(spa_replay_find(r, old.digest));
	assert_non_null(spa_replay_find(r, young.digest));
	make_entry(&e, 3, 1000);
	assert_int_equal(spa_replay_add(r, &e), 0);
	spa_replay_close(r);
	text = th_read(path);
	assert_null(strstr(text, old.digest));
	assert_non_null(strstr(text, young.digest));
	assert_non_null(strstr(text, e.digest));
	free(text);

	assert_int_equal(spa_replay_rotate(path), 0);
	assert_int_equal(spa_replay_open(path, 1000, 0, &r), 0);
	assert_int_equal(spa_replay_count(r), 0);
	spa_replay_close(r);
	th_rmrf(dir);
}

static void test_memory_only(void **state)
{
	struct spa_replay *r;
	struct spa_replay_entry e;
	(void)state;

	assert_int_equal(spa_replay_open(NULL, 0, 0, &r), 0);
	make_entry(&e, 7, 5);
	assert_int_equal(spa_replay_add(r, &e), 0);
	assert_non_null(spa_replay_find(r, e.digest));
	spa_replay_close(r);
}

static bool found(const struct spa_replay *r, const struct spa_replay_entry *e)
{
	return spa_replay_find(r, e->digest) != NULL;
}

/* The loader resynchronises past damaged lines without ever mis-reading
 * one as a record: a record cut short with the next one glued to it keeps
 * both digests (the next one's line would otherwise read as the cut one's
 * digest with the wrong fields), digests of the wrong length or alphabet
 * are refused, and a last line cut short keeps its digest as seen now
 * (its time may be cut short too). */
static void test_resync(void **state)
{
	char dir[64], path[4096], content[4096], la[128], lb[128], lc[128];
	struct spa_replay *r;
	struct spa_replay_entry a, b, c, d, x, y;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	make_entry(&a, 1, 1000);
	make_entry(&b, 2, 1000);
	make_entry(&c, 3, 1000);
	make_entry(&d, 4, 1000);
	make_entry(&x, 5, 1000);
	make_entry(&y, 6, 1000);
	snprintf(la, sizeof(la), "%s 17 198.51.100.1 1001 0.0.0.0 62201 1000\n", a.digest);
	snprintf(lb, sizeof(lb), "%s 17 198.51.100.2 1002 0.0.0.0 62201 1000\n", b.digest);
	snprintf(lc, sizeof(lc), "%s 17 198.51.100.3 1003 0.0.0.0 62201 1000\n", c.digest);
	snprintf(content, sizeof(content),
		 "# header\n%s"
		 "garbage in the middle\n"
		 "%.60s%s"              /* b cut after 60 bytes, c glued to it */
		 "%.42s 17 198.51.100.5 1 0.0.0.0 62201 1000\n"    /* 42 characters */
		 "*%s 17 198.51.100.6 1 0.0.0.0 62201 1000\n"      /* not base64 */
		 "%s 17 198.51.100.4 1004 0.0.0.0 62201 1",       /* cut: time 1... */
		 la, lb, lc, x.digest, y.digest + 1, d.digest);
	th_write(dir, "digest.cache", content, path, sizeof(path));
	/* now 1100, keep 300 s: d's cut time (1) would have pruned it */
	assert_int_equal(spa_replay_open(path, 1100, 300, &r), 0);
	assert_true(found(r, &a));
	assert_true(found(r, &b));
	assert_true(found(r, &c));
	assert_true(found(r, &d));
	assert_false(found(r, &x));
	assert_int_equal(spa_replay_count(r), 4);
	assert_int_equal(spa_replay_find(r, c.digest)->sport, 1003);
	spa_replay_close(r);

	/* rewritten clean: every line whole, every digest still there */
	assert_int_equal(spa_replay_open(path, 1100, 300, &r), 0);
	assert_int_equal(spa_replay_count(r), 4);
	assert_true(found(r, &d));
	spa_replay_close(r);
	th_rmrf(dir);
}

/* Disk full half-way through a line (RLIMIT_FSIZE makes the write short,
 * then fail, like ENOSPC): the add fails (the caller refuses the packet),
 * the digest is still spent in memory, the file is cut back to its last
 * whole line, and the next line after space comes back is whole. */
static void test_short_write(void **state)
{
	char dir[64], path[4096];
	struct spa_replay *r;
	struct spa_replay_entry a, b, c;
	struct rlimit saved, lim;
	struct stat st;
	off_t good;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/digest.cache", dir);
	assert_int_equal(spa_replay_open(path, 1000, 0, &r), 0);
	make_entry(&a, 1, 1000);
	make_entry(&b, 2, 1000);
	make_entry(&c, 3, 1000);
	assert_int_equal(spa_replay_add(r, &a), 0);
	assert_int_equal(stat(path, &st), 0);
	good = st.st_size;

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	lim = saved;
	lim.rlim_cur = (rlim_t)good + 20;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_true(spa_replay_add(r, &b) < 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	assert_true(found(r, &b));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, good);
	assert_int_equal(spa_replay_add(r, &c), 0);
	spa_replay_close(r);

	assert_int_equal(spa_replay_open(path, 1000, 0, &r), 0);
	assert_int_equal(spa_replay_count(r), 2);
	assert_true(found(r, &a));
	assert_true(found(r, &c));
	spa_replay_close(r);
	th_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_persist_and_find),
		cmocka_unit_test(test_prune_and_garbage),
		cmocka_unit_test(test_memory_only),
		cmocka_unit_test(test_resync),
		cmocka_unit_test(test_short_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
