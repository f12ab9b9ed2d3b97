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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_persist_and_find),
		cmocka_unit_test(test_prune_and_garbage),
		cmocka_unit_test(test_memory_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
