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
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

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

/* The i-th grant of the store, as a copy. */
static struct spa_grant_rec at(const struct spa_grants *gs, size_t i)
{
	struct spa_grant_rec r;

	assert_true(i < gs->n);
	spa_grants_at(gs, i, &r);
	return r;
}

static struct spa_grant_rec by_id(const struct spa_grants *gs, uint64_t id)
{
	struct spa_grant_rec r;

	assert_true(spa_grants_by_id(gs, id, &r));
	return r;
}

static void test_store(void **state)
{
	struct spa_grants gs;
	struct spa_grant_rec a, b, c, f;
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
	assert_false(spa_grants_due(&gs, 299, &f));
	assert_true(spa_grants_due(&gs, 300, &f));
	assert_int_equal(f.g.port, 443);

	struct spa_grant_rec probe;
	make(&probe, "198.51.100.1", 6, 22, 0);
	assert_true(spa_grants_find(&gs, &probe, &f));
	assert_int_equal(f.g.id, 1);
	probe.g.proto = 17;
	assert_false(spa_grants_find(&gs, &probe, NULL));
	make(&probe, "198.51.100.2", 6, 22, 0);
	assert_false(spa_grants_find(&gs, &probe, NULL));

	assert_int_equal(spa_grants_update(&gs, &f, 1000, 60), 0);
	assert_int_equal(f.g.expires, 1000);
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
	assert_int_equal(at(&gs, 0).g.id, 2);
	assert_int_equal(at(&gs, 0).g.family, AF_INET6);
	assert_int_equal(at(&gs, 0).g.port, 500);
	assert_int_equal(at(&gs, 0).g.expires, 99);
	assert_string_equal(at(&gs, 0).g.username, "alice");
	assert_string_equal(at(&gs, 0).plugin, "recorder");
	assert_int_equal(gs.next_id, 3);   /* ids never reused */
	spa_grants_close(&gs);

	/* a damaged journal is refused, not guessed at */
	th_write(dir, "grants.json", "{\"version\":1,\"next_id\":1,\"grants\":[{\"id\":\"x\"}]}",
		 NULL, 0);
	assert_true(spa_grants_open(&gs, path) < 0);
	th_write(dir, "grants.json", "not json", NULL, 0);
	assert_true(spa_grants_open(&gs, path) < 0);
	/* a record that does not apply is skipped, with a warning */
	th_write(dir, "grants.json", "{\"version\":2,\"next_id\":1}\n{\"remove\":7}\n", NULL, 0);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 0);
	spa_grants_close(&gs);
	th_rmrf(dir);
}

/* The journal is a log: updates and removes replay in order, a line torn
 * by a crash at the very end is ignored, a damaged line elsewhere is
 * skipped, and a log that is mostly history is compacted. */
static void test_journal_log(void **state)
{
	struct spa_grant_rec r0;
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
	assert_int_equal(spa_grants_update(&gs, (r0 = at(&gs, 0), &r0), 5000, 77), 0);
	assert_int_equal(spa_grants_sync(&gs), 0);
	spa_grants_close(&gs); /* no remove: a kill -9 leaves this file */

	f = fopen(path, "a");
	assert_non_null(f);
	fputs("{\"remove\":", f); /* a write cut short */
	fclose(f);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 2);
	assert_int_equal(at(&gs, 0).g.expires, 5000);
	assert_int_equal(at(&gs, 0).g.timeout, 77);
	assert_int_equal(at(&gs, 1).g.port, 443);
	/* the first change after a restart rewrites the file whole, so the
	 * torn fragment never ends up in the middle of the log */
	assert_int_equal(spa_grants_remove(&gs, at(&gs, 1).g.id), 0);
	spa_grants_close(&gs);
	text = th_read(path);
	assert_null(strstr(text, "remove"));
	free(text);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 1);
	assert_int_equal(at(&gs, 0).g.port, 22);

	/* 300 refreshes of one grant: the log is compacted at a sync */
	for (int i = 0; i < 300; i++)
		assert_int_equal(spa_grants_update(&gs, (r0 = at(&gs, 0), &r0), 6000 + i, 60), 0);
	assert_int_equal(spa_grants_sync(&gs), 0);
	assert_true(gs.jlines < 10);
	spa_grants_close(&gs);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 1);
	assert_int_equal(at(&gs, 0).g.expires, 6299);
	spa_grants_close(&gs);

	/* damage before the last line is skipped, the records after it kept */
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("{\"remove\":\n{\"remove\":1}\n", f);
	fclose(f);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 0);
	spa_grants_close(&gs);
	th_rmrf(dir);
}

/* A journal of three grants (ports 22, 80, 443) and an update of the
 * first (expires 5000), as lines; returns the text (free it). */
static char *three_grants(const char *dir, char *path, size_t cap)
{
	struct spa_grant_rec r0;
	struct spa_grants gs;
	struct spa_grant_rec r;
	static const uint16_t ports[] = { 22, 80, 443 };

	snprintf(path, cap, "%s/grants.json", dir);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	for (size_t i = 0; i < 3; i++) {
		make(&r, "198.51.100.9", 6, ports[i], 1000);
		assert_int_equal(spa_grants_add(&gs, &r), 0);
	}
	assert_int_equal(spa_grants_update(&gs, (r0 = at(&gs, 0), &r0), 5000, 77), 0);
	spa_grants_close(&gs);
	return th_read(path);
}

/* The start of line n (0: the header) in text. */
static char *line_at(char *text, int n)
{
	while (n-- > 0) {
		text = strchr(text, '\n');
		assert_non_null(text);
		text++;
	}
	return text;
}

static bool has_port(const struct spa_grants *gs, uint16_t port)
{
	for (size_t i = 0; i < gs->n; i++)
		if (at(gs, i).g.port == port)
			return true;
	return false;
}

/* The loader resynchronises past a damaged record: one in the middle, a
 * record cut short with the next glued to it, a torn last line; a record
 * of an unknown op or with a key too many is damaged too. */
static void test_journal_resync(void **state)
{
	char dir[64], path[4096], *text, *l2, *l3, damaged[16384];
	struct spa_grants gs;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	text = three_grants(dir, path, sizeof(path));
	assert_non_null(text);
	l2 = line_at(text, 2);
	l3 = line_at(text, 3);

	/* garbage between the add of port 80 and the add of port 443 */
	snprintf(damaged, sizeof(damaged), "%.*s{\"add\":{\"id\":9\n%s", (int)(l3 - text), text,
		 l3);
	th_write(dir, "grants.json", damaged, NULL, 0);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 3);
	assert_int_equal(by_id(&gs, 1).g.expires, 5000);
	spa_grants_close(&gs);

	/* the add of port 80 cut half-way, the add of port 443 glued to it:
	 * 80 is lost (its record never completed), 443 and the update kept */
	snprintf(damaged, sizeof(damaged), "%.*s%s", (int)(l2 - text + (l3 - l2) / 2), text, l3);
	th_write(dir, "grants.json", damaged, NULL, 0);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 2);
	assert_true(has_port(&gs, 22));
	assert_true(has_port(&gs, 443));
	assert_false(has_port(&gs, 80));
	assert_int_equal(by_id(&gs, 1).g.expires, 5000);
	assert_int_equal(gs.next_id, 4);
	spa_grants_close(&gs);

	/* an unknown op, a known op with an unknown key, a bad expiry */
	snprintf(damaged, sizeof(damaged), "%s{\"open\":{\"id\":1}}\n"
		 "{\"update\":{\"id\":1,\"expires\":9,\"timeout\":1,\"x\":1}}\n"
		 "{\"update\":{\"id\":1,\"expires\":-9,\"timeout\":1}}\n"
		 "{\"remove\":2} x\n"
		 "{\"remove\":2}\n{\"remove\":3", text);
	th_write(dir, "grants.json", damaged, NULL, 0);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 2); /* 2 removed; the torn remove of 3 ignored */
	assert_true(has_port(&gs, 22));
	assert_true(has_port(&gs, 443));
	assert_int_equal(by_id(&gs, 1).g.expires, 5000);
	/* the next change rewrites the file whole: no fragment left behind */
	assert_int_equal(spa_grants_remove(&gs, 3), 0);
	spa_grants_close(&gs);
	free(text);
	text = th_read(path);
	assert_null(strstr(text, "\"open\""));
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 1);
	spa_grants_close(&gs);
	free(text);
	th_rmrf(dir);
}

/* Disk full half-way through an append (RLIMIT_FSIZE makes the write
 * short, then fail, like ENOSPC): the append fails, the file is cut back
 * to its last complete record, and the next append after space comes
 * back lands on a line of its own. */
static void test_journal_short_write(void **state)
{
	struct spa_grant_rec r0;
	char dir[64], path[4096], *text;
	struct spa_grants gs;
	struct spa_grant_rec a, b;
	struct rlimit saved, lim;
	struct stat st;
	off_t good;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/grants.json", dir);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	make(&a, "198.51.100.9", 6, 22, 1000);
	assert_int_equal(spa_grants_add(&gs, &a), 0);
	assert_int_equal(spa_grants_close_failed(&gs, (r0 = at(&gs, 0), &r0), 900), 0);
	assert_int_equal(stat(path, &st), 0);
	good = st.st_size;

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	lim = saved;
	lim.rlim_cur = (rlim_t)good + 40; /* room for 40 bytes of a ~400 byte line */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	make(&b, "198.51.100.9", 6, 443, 2000);
	assert_true(spa_grants_add(&gs, &b) < 0);
	assert_int_equal(gs.n, 1); /* not in the store: the grant is refused */
	assert_true(spa_grants_update(&gs, (r0 = at(&gs, 0), &r0), 3000, 60) < 0);
	assert_int_equal(at(&gs, 0).g.expires, 1000);
	/* a re-knock of the closing grant that cannot be journaled leaves it
	 * closing, its close still retried */
	assert_true(spa_grants_reopened(&gs, (r0 = at(&gs, 0), &r0)) < 0);
	assert_true(at(&gs, 0).closing);
	assert_int_equal(at(&gs, 0).attempts, 1);
	assert_int_equal(at(&gs, 0).retry_at, 901);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, good);

	make(&b, "198.51.100.9", 6, 80, 2500);
	assert_int_equal(spa_grants_add(&gs, &b), 0);
	spa_grants_close(&gs);
	text = th_read(path);
	assert_int_equal(th_count(text, "\n"), 4); /* header, add, closing, add */
	free(text);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 2);
	assert_true(by_id(&gs, 1).closing);
	assert_true(has_port(&gs, 22));
	assert_true(has_port(&gs, 80));
	spa_grants_close(&gs);
	th_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_journal),
		cmocka_unit_test(test_journal_log),
		cmocka_unit_test(test_journal_resync),
		cmocka_unit_test(test_journal_short_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
