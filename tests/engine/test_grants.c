/* SPDX-License-Identifier: MIT */
/* test_grants.c - the grant store and its journal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
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
	assert_int_equal(spa_grants_close_failed(&gs, (r0 = at(&gs, 0), &r0), 900, false, "busy"), 0);
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

static void set_addr(struct spa_grant_addr *a, const char *text)
{
	a->family = strchr(text, ':') ? AF_INET6 : AF_INET;
	inet_pton(a->family, text, &a->bin);
	snprintf(a->text, sizeof(a->text), "%s", text);
}

/* dst and NAT, kept out of line, come back whole: from the store, after a
 * remove reuses their room, and from the journal. */
static void test_extra(void **state)
{
	char dir[64], path[4096];
	struct spa_grants gs;
	struct spa_grant_rec a, b, c, r;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/grants.json", dir);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	make(&a, "198.51.100.9", 6, 22, 1000);
	set_addr(&a.g.dst, "192.0.2.1");
	make(&b, "2001:db8::9", 6, 22, 1000);
	set_addr(&b.g.nat_addr, "2001:db8::80");
	b.g.nat_port = 8022;
	make(&c, "198.51.100.10", 17, 53, 1000);
	set_addr(&c.g.dst, "2001:db8::1");
	assert_int_equal(spa_grants_add(&gs, &a), 0);
	assert_int_equal(spa_grants_add(&gs, &b), 0);
	assert_int_equal(spa_grants_remove(&gs, a.g.id), 0);
	assert_int_equal(spa_grants_add(&gs, &c), 0);
	assert_true(spa_grants_by_id(&gs, c.g.id, &r));
	assert_string_equal(r.g.dst.text, "2001:db8::1");
	assert_int_equal(r.g.nat_addr.family, 0);
	assert_int_equal(r.g.nat_port, 0);
	spa_grants_close(&gs);

	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 2);
	assert_true(spa_grants_by_id(&gs, b.g.id, &r));
	assert_int_equal(r.g.dst.family, 0);
	assert_int_equal(r.g.nat_addr.family, AF_INET6);
	assert_string_equal(r.g.nat_addr.text, "2001:db8::80");
	assert_memory_equal(&r.g.nat_addr.bin, &b.g.nat_addr.bin, 16);
	assert_int_equal(r.g.nat_port, 8022);
	assert_true(spa_grants_by_id(&gs, c.g.id, &r));
	assert_int_equal(r.g.dst.family, AF_INET6);
	assert_string_equal(r.g.dst.text, "2001:db8::1");
	spa_grants_close(&gs);
	th_rmrf(dir);
}

/* ---- at scale: the store against a model that is obviously right */

#define SCALE_N 10000          /* live grants the test builds up to */
#define KEYS (16 * 2500)       /* refresh keys: 2500 sources x 16 */

/* A grant of the model, by refresh key; id 0: none. */
struct model {
	uint64_t id;
	int64_t expires, retry_at;
	uint32_t timeout;
	unsigned attempts;
	bool closing;
};

struct scale {
	struct spa_grants gs;
	struct model *m;        /* KEYS */
	uint32_t *live, *pos;   /* live keys, and each key's place there */
	size_t n_live;
	const struct spa_policy *pol[2];
	uint64_t rng;
	int64_t now;
};

static uint32_t rnd(struct scale *t, uint32_t below)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	return (uint32_t)(t->rng % below);
}

/* Key k: source k / 16 (every other one IPv6); its low bits choose the
 * proto, backend, policy and port. */
static void key_rec(struct scale *t, uint32_t k, struct spa_grant_rec *r)
{
	char src[64];
	uint32_t a = k / 16;

	if (a % 2)
		snprintf(src, sizeof(src), "2001:db8::%x:%x", a >> 8, a & 0xff);
	else
		snprintf(src, sizeof(src), "10.%u.%u.%u", a >> 16, (a >> 8) & 0xff, a & 0xff);
	make(r, src, k & 1 ? 17 : 6, k & 8 ? 443 : 22, 0);
	/* as the daemon writes it: the store renders addresses from bytes */
	inet_ntop(r->g.family, &r->g.src.bin, r->g.src.text, sizeof(r->g.src.text));
	snprintf(r->plugin, sizeof(r->plugin), "%s", k & 2 ? "nft" : "recorder");
	snprintf(r->g.username, sizeof(r->g.username), "user%u", (k * 7919u) % 97);
	snprintf(r->g.stanza, sizeof(r->g.stanza), "access.conf:%u", k % 7);
	r->policy = t->pol[(k >> 2) & 1];
}

static void check_key(struct scale *t, uint32_t k)
{
	struct spa_grant_rec like, r;
	const struct model *m = &t->m[k];

	key_rec(t, k, &like);
	if (!m->id) {
		assert_false(spa_grants_find(&t->gs, &like, NULL));
		return;
	}
	assert_true(spa_grants_find(&t->gs, &like, &r));
	assert_int_equal(r.g.id, m->id);
	assert_true(spa_grants_by_id(&t->gs, m->id, &r));
	assert_string_equal(r.g.src.text, like.g.src.text);
	assert_int_equal(r.g.family, like.g.family);
	assert_int_equal(r.g.port, like.g.port);
	assert_int_equal(r.g.proto, like.g.proto);
	assert_string_equal(r.plugin, like.plugin);
	assert_string_equal(r.g.username, like.g.username);
	assert_string_equal(r.g.stanza, like.g.stanza);
	assert_ptr_equal(r.policy, like.policy);
	assert_ptr_equal(spa_grants_policy(&t->gs, m->id), like.policy);
	assert_int_equal(r.g.expires, m->expires);
	assert_int_equal(r.g.timeout, m->timeout);
	assert_int_equal(r.closing, m->closing);
	assert_int_equal(r.attempts, m->attempts);
	assert_int_equal(r.retry_at, m->retry_at);
}

static int64_t model_due(const struct model *m)
{
	return m->closing ? m->retry_at : m->expires;
}

static bool model_before(const struct model *a, const struct model *b)
{
	return model_due(a) < model_due(b) || (model_due(a) == model_due(b) && a->id < b->id);
}

static int64_t model_next(const struct scale *t)
{
	int64_t next = INT64_MAX;

	for (size_t i = 0; i < t->n_live; i++)
		if (model_due(&t->m[t->live[i]]) < next)
			next = model_due(&t->m[t->live[i]]);
	return next;
}

static void model_drop(struct scale *t, uint32_t k)
{
	uint32_t last = t->live[--t->n_live];

	t->live[t->pos[k]] = last;
	t->pos[last] = t->pos[k];
	memset(&t->m[k], 0, sizeof(t->m[k]));
}

/* A knock for key k, as spa_daemon_apply_port does it. */
static void knock(struct scale *t, uint32_t k)
{
	struct spa_grant_rec rec, old;
	struct model *m = &t->m[k];
	uint32_t timeout = 10 + rnd(t, 3000);

	key_rec(t, k, &rec);
	rec.g.timeout = timeout;
	rec.g.expires = t->now + timeout;
	if (spa_grants_find(&t->gs, &rec, &old)) {
		assert_int_equal(old.g.id, m->id);
		if (!old.closing && rec.g.expires < old.g.expires)
			return;
		assert_int_equal(spa_grants_update(&t->gs, &old, rec.g.expires, timeout), 0);
		assert_int_equal(old.g.expires, rec.g.expires);
		if (old.closing)
			assert_int_equal(spa_grants_reopened(&t->gs, &old), 0);
		assert_false(old.closing);
		m->expires = rec.g.expires;
		m->timeout = timeout;
		m->closing = false;
		m->attempts = 0;
		m->retry_at = 0;
		return;
	}
	assert_int_equal(m->id, 0);
	assert_int_equal(spa_grants_add(&t->gs, &rec), 0);
	m->id = rec.g.id;
	m->expires = rec.g.expires;
	m->timeout = timeout;
	t->pos[k] = (uint32_t)t->n_live;
	t->live[t->n_live++] = k;
}

static void fail_close(struct scale *t, uint32_t k)
{
	struct model *m = &t->m[k];
	struct spa_grant_rec r;
	int64_t wait = (int64_t)1 << (m->attempts < 9 ? m->attempts : 9);

	assert_true(spa_grants_by_id(&t->gs, m->id, &r));
	assert_int_equal(spa_grants_close_failed(&t->gs, &r, t->now, false, NULL), 0);
	m->closing = true;
	m->attempts++;
	m->retry_at = t->now + (wait < 300 ? wait : 300);
	assert_true(r.closing);
	assert_int_equal(r.attempts, m->attempts);
	assert_int_equal(r.retry_at, m->retry_at);
}

static int by_due(const void *a, const void *b, void *ctx)
{
	const struct model *m = ctx;
	const struct model *x = &m[*(const uint32_t *)a], *y = &m[*(const uint32_t *)b];

	return model_before(x, y) ? -1 : model_before(y, x) ? 1 : 0;
}

/* Time passes: what is due comes out in (due time, id) order, and is
 * closed or, now and then, fails to close. */
static void expire(struct scale *t)
{
	uint32_t *due = malloc(t->n_live * sizeof(*due) + 1);
	size_t n = 0;
	struct spa_grant_rec r;

	assert_non_null(due);
	t->now += rnd(t, 20);
	for (size_t i = 0; i < t->n_live; i++)
		if (model_due(&t->m[t->live[i]]) <= t->now)
			due[n++] = t->live[i];
	qsort_r(due, n, sizeof(*due), by_due, t->m);
	for (size_t i = 0; i < n; i++) {
		assert_true(spa_grants_due(&t->gs, t->now, &r));
		assert_int_equal(r.g.id, t->m[due[i]].id);
		if (rnd(t, 8) == 0) {
			fail_close(t, due[i]);
		} else {
			assert_int_equal(spa_grants_remove(&t->gs, r.g.id), 0);
			model_drop(t, due[i]);
		}
	}
	assert_false(spa_grants_due(&t->gs, t->now, &r));
	assert_int_equal(spa_grants_next_expiry(&t->gs), model_next(t));
	free(due);
}

/* The whole store against the model: walk, counts, indexes. */
static void check_all(struct scale *t)
{
	size_t closing = 0, of_pol[2] = { 0 }, of_user[97] = { 0 };

	assert_int_equal(t->gs.n, t->n_live);
	for (size_t i = 0; i < t->n_live; i++) {
		uint32_t k = t->live[i];
		check_key(t, k);
		closing += t->m[k].closing;
		of_pol[(k >> 2) & 1]++;
		of_user[(k * 7919u) % 97]++;
	}
	for (size_t i = 0; i < t->gs.n; i++) {
		struct spa_grant_rec r, by;
		spa_grants_at(&t->gs, i, &r);
		assert_true(spa_grants_by_id(&t->gs, r.g.id, &by));
		assert_int_equal(by.g.port, r.g.port);
	}
	assert_int_equal(spa_grants_closing(&t->gs), closing);
	assert_int_equal(spa_grants_of_policy(&t->gs, t->pol[0]), of_pol[0]);
	assert_int_equal(spa_grants_of_policy(&t->gs, t->pol[1]), of_pol[1]);
	for (unsigned u = 0; u < 97; u++) {
		char name[16];
		snprintf(name, sizeof(name), "user%u", u);
		assert_int_equal(spa_grants_of_user(&t->gs, name), of_user[u]);
	}
	assert_int_equal(spa_grants_next_expiry(&t->gs), model_next(t));
}

/* 10,000 live grants under random knocks, refreshes, removes, failed
 * closes and expiries: every answer as the model's. */
static void test_scale(void **state)
{
	struct scale *t = calloc(1, sizeof(*t));
	(void)state;

	assert_non_null(t);
	t->m = calloc(KEYS, sizeof(*t->m));
	t->live = calloc(KEYS, sizeof(*t->live));
	t->pos = calloc(KEYS, sizeof(*t->pos));
	assert_true(t->m && t->live && t->pos);
	t->rng = 0x9e3779b97f4a7c15ULL;
	t->now = 1000;
	assert_int_equal(spa_grants_open(&t->gs, NULL), 0);
	for (int i = 0; i < 2; i++) {
		static const char *const ids[] = { "00112233445566aa", "00112233445566bb" };
		t->pol[i] = spa_policy_intern(&t->gs.policies, ids[i], "recorder", NULL, 0);
		assert_non_null(t->pol[i]);
	}
	while (t->n_live < SCALE_N)
		knock(t, rnd(t, KEYS));
	check_all(t);
	for (int op = 0; op < 30000; op++) {
		uint32_t c = rnd(t, 100), k = rnd(t, KEYS);
		if (c < 50) {
			knock(t, k);
		} else if (c < 70 && t->n_live) {
			k = t->live[rnd(t, (uint32_t)t->n_live)];
			assert_int_equal(spa_grants_remove(&t->gs, t->m[k].id), 0);
			assert_int_equal(spa_grants_remove(&t->gs, t->m[k].id), -ENOENT);
			model_drop(t, k);
		} else if (c < 80 && t->n_live) {
			fail_close(t, t->live[rnd(t, (uint32_t)t->n_live)]);
		} else if (c < 82) {
			expire(t);
		}
		check_key(t, k);
		if (op % 5000 == 0)
			check_all(t);
	}
	/* everything expires, in order */
	t->now += 4000;
	expire(t);
	while (t->n_live) {
		t->now += 300;
		expire(t);
	}
	check_all(t);
	assert_int_equal(spa_grants_next_expiry(&t->gs), INT64_MAX);
	spa_grants_close(&t->gs);
	free(t->m);
	free(t->live);
	free(t->pos);
	free(t);
}

/* Heap bytes (glibc's count, mmapped blocks included); 0 under an
 * allocator that does not keep it (ASan, valgrind). */
static size_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* What 10,000 live grants cost, all indexes included: 10 stanzas, 100
 * users, one backend; then with a username each. */
static void test_memory(void **state)
{
	const size_t n = 10000;
	(void)state;

	for (int distinct = 0; distinct < 2; distinct++) {
		struct spa_grants gs;
		struct spa_grant_rec r;
		size_t before, after;
		double per;

		before = heap_bytes();
		assert_int_equal(spa_grants_open(&gs, NULL), 0);
		for (size_t i = 0; i < n; i++) {
			char src[32];
			snprintf(src, sizeof(src), "10.0.%zu.%zu", i / 256, i % 256);
			make(&r, src, 6, 22, 1000 + (int64_t)(i % 977));
			snprintf(r.g.stanza, sizeof(r.g.stanza), "/etc/spa/access.conf:%zu", i % 10);
			snprintf(r.g.username, sizeof(r.g.username), "user%zu",
				 distinct ? i : i % 100);
			assert_int_equal(spa_grants_add(&gs, &r), 0);
		}
		after = heap_bytes();
		spa_grants_close(&gs);
		if (before == 0 && after == 0) {
			print_message("memory: allocator without mallinfo2 counts; not measured\n");
			return;
		}
		per = (double)(after - before) / (double)n;
		print_message("memory: %.1f bytes per grant at %zu grants (%s usernames)\n", per, n,
			      distinct ? "all distinct" : "100");
		/* the budget is for the realistic mix; a username per grant
		 * adds its interned copy */
		assert_true(per <= (distinct ? 200.0 : 150.0));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_journal),
		cmocka_unit_test(test_journal_log),
		cmocka_unit_test(test_journal_resync),
		cmocka_unit_test(test_journal_short_write),
		cmocka_unit_test(test_extra),
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
