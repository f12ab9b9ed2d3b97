/* SPDX-License-Identifier: MIT */
/* test_grants.c - the grant store and its journal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine_helpers.h"
#include "spa_grants.h"

static void make(struct spa_grant_rec *r, const char *src, uint8_t proto, uint16_t port,
		 int64_t exp)
{
	memset(r, 0, sizeof(*r));
	r->g.struct_size = sizeof(r->g);
	r->g.family = strchr(src, ':') ? AF_INET6 : AF_INET;
	r->g.src.family = r->g.family;
	inet_pton(r->g.family, src, &r->g.src.bin);
	snprintf(r->g.src.text, sizeof(r->g.src.text), "%s", src);
	r->g.proto = proto;
	r->g.port = port;
	r->g.timeout = 30;
	r->g.expires = exp;
	snprintf(r->g.stanza, sizeof(r->g.stanza), "access.conf:1");
	snprintf(r->g.username, sizeof(r->g.username), "alice");
	snprintf(r->plugin, sizeof(r->plugin), "recorder");
}

static void test_store(void **state)
{
	struct spa_grants gs;
	struct spa_grant_rec a, b, c, *f;
	(void)state;

	assert_int_equal(spa_grants_open(&gs, NULL), 0);
	assert_int_equal(spa_grants_next_expiry(&gs), INT64_MAX);
	make(&a, "198.51.100.1", 6, 22, 500);
	make(&b, "198.51.100.1", 6, 443, 300);
	make(&c, "2001:db8::5", 17, 53, 400);
	assert_int_equal(spa_grants_add(&gs, &a), 0);
	assert_int_equal(spa_grants_add(&gs, &b), 0);
	assert_int_equal(spa_grants_add(&gs, &c), 0);
	assert_int_equal(a.g.id, 1);
	assert_int_equal(c.g.id, 3);
	assert_int_equal(spa_grants_next_expiry(&gs), 300);
	assert_null(spa_grants_due(&gs, 299));
	assert_int_equal(spa_grants_due(&gs, 300)->g.port, 443);

	struct spa_grant_rec probe;
	make(&probe, "198.51.100.1", 6, 22, 0);
	f = spa_grants_find(&gs, &probe);
	assert_non_null(f);
	assert_int_equal(f->g.id, 1);
	probe.g.proto = 17;
	assert_null(spa_grants_find(&gs, &probe));
	make(&probe, "198.51.100.2", 6, 22, 0);
	assert_null(spa_grants_find(&gs, &probe));

	assert_int_equal(spa_grants_update(&gs, f, 1000, 60), 0);
	assert_int_equal(spa_grants_remove(&gs, 2), 0);
	assert_int_equal(spa_grants_remove(&gs, 2), -ENOENT);
	assert_int_equal(spa_grants_next_expiry(&gs), 400);
	spa_grants_close(&gs);
}

static void test_journal(void **state)
{
	char dir[64], path[4096];
	struct spa_grants gs;
	struct spa_grant_rec a, b;
	char *text;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/grants.json", dir);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	make(&a, "198.51.100.9", 6, 22, 1234);
	make(&b, "2001:db8::9", 17, 500, 99);
	assert_int_equal(spa_grants_add(&gs, &a), 0);
	assert_int_equal(spa_grants_add(&gs, &b), 0);
	text = th_read(path);
	assert_non_null(strstr(text, "\"2001:db8::9\""));
	free(text);
	assert_int_equal(spa_grants_remove(&gs, a.g.id), 0);
	spa_grants_close(&gs);

	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 1);
	assert_int_equal(gs.recs[0].g.id, 2);
	assert_int_equal(gs.recs[0].g.family, AF_INET6);
	assert_int_equal(gs.recs[0].g.port, 500);
	assert_int_equal(gs.recs[0].g.expires, 99);
	assert_string_equal(gs.recs[0].g.username, "alice");
	assert_string_equal(gs.recs[0].plugin, "recorder");
	assert_int_equal(gs.next_id, 3);   /* ids never reused */
	spa_grants_close(&gs);

	/* a damaged journal is refused, not guessed at */
	th_write(dir, "grants.json", "{\"version\":1,\"next_id\":1,\"grants\":[{\"id\":\"x\"}]}",
		 NULL, 0);
	assert_true(spa_grants_open(&gs, path) < 0);
	th_write(dir, "grants.json", "not json", NULL, 0);
	assert_true(spa_grants_open(&gs, path) < 0);
	th_write(dir, "grants.json", "{\"version\":2,\"next_id\":1}\n{\"remove\":7}\n", NULL, 0);
	assert_true(spa_grants_open(&gs, path) < 0);
	th_rmrf(dir);
}

/* The journal is a log: updates and removes replay in order, a line torn
 * by a crash at the very end is ignored, a damaged line elsewhere is not,
 * and a log that is mostly history is compacted. */
static void test_journal_log(void **state)
{
	char dir[64], path[4096], *text;
	struct spa_grants gs;
	struct spa_grant_rec a, b;
	FILE *f;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/grants.json", dir);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	make(&a, "198.51.100.9", 6, 22, 1234);
	make(&b, "203.0.113.5", 6, 443, 2000);
	assert_int_equal(spa_grants_add(&gs, &a), 0);
	assert_int_equal(spa_grants_add(&gs, &b), 0);
	assert_int_equal(spa_grants_update(&gs, &gs.recs[0], 5000, 77), 0);
	assert_int_equal(spa_grants_sync(&gs), 0);
	spa_grants_close(&gs); /* no remove: a kill -9 leaves this file */

	f = fopen(path, "a");
	assert_non_null(f);
	fputs("{\"remove\":", f); /* a write cut short */
	fclose(f);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 2);
	assert_int_equal(gs.recs[0].g.expires, 5000);
	assert_int_equal(gs.recs[0].g.timeout, 77);
	assert_int_equal(gs.recs[1].g.port, 443);
	/* the first change after a restart rewrites the file whole, so the
	 * torn fragment never ends up in the middle of the log */
	assert_int_equal(spa_grants_remove(&gs, gs.recs[1].g.id), 0);
	spa_grants_close(&gs);
	text = th_read(path);
	assert_null(strstr(text, "remove"));
	free(text);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 1);
	assert_int_equal(gs.recs[0].g.port, 22);

	/* 300 refreshes of one grant: the log is compacted at a sync */
	for (int i = 0; i < 300; i++)
		assert_int_equal(spa_grants_update(&gs, &gs.recs[0], 6000 + i, 60), 0);
	assert_int_equal(spa_grants_sync(&gs), 0);
	assert_true(gs.jlines < 10);
	spa_grants_close(&gs);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 1);
	assert_int_equal(gs.recs[0].g.expires, 6299);
	spa_grants_close(&gs);

	/* damage before the last line is refused */
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("{\"remove\":\n{\"remove\":1}\n", f);
	fclose(f);
	assert_true(spa_grants_open(&gs, path) < 0);
	th_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_journal),
		cmocka_unit_test(test_journal_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
