/* SPDX-License-Identifier: MIT */
/* test_grants_token.c - what the store keeps beside a grant for its plugin:
 * a per-grant token (ABI 1.3), why its close fails (journal version 4), and
 * the runtime's in-memory marks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "engine_helpers.h"
#include "spa_grants.h"

static void set_addr(struct spa_grant_addr *a, const char *text)
{
	a->family = strchr(text, ':') ? AF_INET6 : AF_INET;
	inet_pton(a->family, text, &a->bin);
	snprintf(a->text, sizeof(a->text), "%s", text);
}

static void make(struct spa_grant_rec *r, const char *src, uint8_t proto, uint16_t port,
		 int64_t exp)
{
	memset(r, 0, sizeof(*r));
	r->g.struct_size = sizeof(r->g);
	set_addr(&r->g.src, src);
	r->g.family = r->g.src.family;
	r->g.proto = proto;
	r->g.port = port;
	r->g.timeout = 30;
	r->g.expires = exp;
	snprintf(r->g.stanza, sizeof(r->g.stanza), "access.conf:1");
	snprintf(r->g.username, sizeof(r->g.username), "alice");
	snprintf(r->plugin, sizeof(r->plugin), "recorder");
}

/* A plugin's token (ABI 1.3): kept out of line, journaled with the grant
 * and by token lines, back after a reload and a rewrite; an unchanged
 * token writes nothing; clearing it gives its extra back. */
static void test_token(void **state)
{
	char dir[64], path[4096], big[SPA_GRANT_TOKEN_MAX + 1];
	struct spa_grants gs;
	struct spa_grant_rec a, b, r;
	const void *t;
	size_t len, lines;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/grants.json", dir);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	make(&a, "198.51.100.9", 6, 22, 1000);
	make(&b, "198.51.100.9", 6, 80, 1000);
	set_addr(&b.g.dst, "192.0.2.1");
	assert_int_equal(spa_grants_add(&gs, &a), 0);
	assert_int_equal(spa_grants_add(&gs, &b), 0);
	assert_null(spa_grants_token(&gs, a.g.id, &len));
	assert_int_equal(len, 0);
	assert_int_equal(gs.n_extras, 1); /* b's dst; a costs nothing */

	/* bytes, not text: a NUL and high bytes survive */
	assert_int_equal(spa_grants_set_token(&gs, a.g.id, "rule\0\xff", 6), 0);
	assert_int_equal(spa_grants_set_token(&gs, b.g.id, "acl-7", 5), 0);
	memset(big, 'x', sizeof(big));
	assert_int_equal(spa_grants_set_token(&gs, b.g.id, big, sizeof(big)), -E2BIG);
	assert_int_equal(spa_grants_set_token(&gs, 99, "x", 1), -ENOENT);
	t = spa_grants_token(&gs, a.g.id, &len);
	assert_int_equal(len, 6);
	assert_memory_equal(t, "rule\0\xff", 6);
	assert_true(spa_grants_by_id(&gs, b.g.id, &r));
	assert_int_equal(r.token_len, 5);
	assert_memory_equal(r.token, "acl-7", 5);
	assert_string_equal(r.g.dst.text, "192.0.2.1");
	/* the same token again: no journal line */
	lines = gs.jlines;
	assert_int_equal(spa_grants_set_token(&gs, b.g.id, "acl-7", 5), 0);
	assert_int_equal(gs.jlines, lines);
	assert_int_equal(spa_grants_set_token(&gs, a.g.id, big, SPA_GRANT_TOKEN_MAX), 0);
	spa_grants_close(&gs);

	/* the log replays them */
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 2);
	t = spa_grants_token(&gs, a.g.id, &len);
	assert_int_equal(len, SPA_GRANT_TOKEN_MAX);
	assert_memory_equal(t, big, SPA_GRANT_TOKEN_MAX);
	/* a snapshot writes them with the grants */
	assert_int_equal(spa_grants_save(&gs), 0);
	spa_grants_close(&gs);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_true(spa_grants_by_id(&gs, b.g.id, &r));
	assert_int_equal(r.token_len, 5);
	assert_memory_equal(r.token, "acl-7", 5);
	assert_int_equal(spa_grants_token(&gs, a.g.id, &len) != NULL, 1);
	assert_int_equal(len, SPA_GRANT_TOKEN_MAX);
	/* cleared: a's extra is given back, b keeps its dst */
	assert_int_equal(spa_grants_set_token(&gs, a.g.id, NULL, 0), 0);
	assert_int_equal(spa_grants_set_token(&gs, b.g.id, NULL, 0), 0);
	assert_int_not_equal(gs.free_extra, 0);
	assert_true(spa_grants_by_id(&gs, b.g.id, &r));
	assert_int_equal(r.token_len, 0);
	assert_string_equal(r.g.dst.text, "192.0.2.1");
	/* a grant with a token goes, its token with it */
	assert_int_equal(spa_grants_set_token(&gs, a.g.id, "gone", 4), 0);
	assert_int_equal(spa_grants_remove(&gs, a.g.id), 0);
	assert_null(spa_grants_token(&gs, a.g.id, &len));
	spa_grants_close(&gs);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 1);
	assert_null(spa_grants_token(&gs, b.g.id, &len));
	assert_true(spa_grants_by_id(&gs, b.g.id, &r));
	assert_string_equal(r.g.dst.text, "192.0.2.1");
	spa_grants_close(&gs);
	th_rmrf(dir);
}

#define TOK_GRANT(id, extra)                                                         \
	"{\"add\":{\"id\":" #id ",\"plugin\":\"recorder\",\"src\":\"198.51.100.9\","  \
	"\"dst\":null,\"proto\":6,\"port\":" #id ",\"nat_addr\":null,\"nat_port\":0,"      \
	"\"timeout\":30,\"expires\":1000,\"stanza\":\"access.conf:1\",\"username\":"      \
	"\"alice\",\"policy\":{\"id\":\"\",\"vars\":[]}" extra "}}\n"

/* Journals written before tokens load; a token that is not the one
 * spelling the writer uses (padded base64 of 1 to 256 bytes) makes its
 * record damaged: skipped with a warning, as any other. */
static void test_token_journal_checks(void **state)
{
	char dir[64], path[4096], text[8192], b64[400];
	struct spa_grants gs;
	const void *t;
	size_t len;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/grants.json", dir);
	/* version 3 before tokens, and version 2 */
	th_write(dir, "grants.json", "{\"version\":3,\"next_id\":2}\n" TOK_GRANT(1, ""), NULL, 0);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 1);
	assert_null(spa_grants_token(&gs, 1, &len));
	spa_grants_close(&gs);
	th_write(dir, "grants.json", "{\"version\":2,\"next_id\":2}\n"
		 "{\"add\":{\"id\":1,\"plugin\":\"recorder\",\"src\":\"198.51.100.9\","
		 "\"dst\":null,\"proto\":6,\"port\":22,\"nat_addr\":null,\"nat_port\":0,"
		 "\"timeout\":30,\"expires\":1000,\"stanza\":\"access.conf:1\","
		 "\"username\":\"alice\"}}\n", NULL, 0);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 1);
	assert_null(spa_grants_token(&gs, 1, &len));
	spa_grants_close(&gs);

	/* in an add: only grants 1 ("rule") and 8 (256 bytes) are whole */
	memset(b64, 'A', 344);
	b64[344] = '\0';
	snprintf(text, sizeof(text), "{\"version\":3,\"next_id\":1}\n"
		 TOK_GRANT(1, ",\"token\":\"cnVsZQ==\"")
		 TOK_GRANT(2, ",\"token\":\"cnVsZQ\"")      /* unpadded */
		 TOK_GRANT(3, ",\"token\":\"cnVsZR==\"")    /* stray bits */
		 TOK_GRANT(4, ",\"token\":\"not base64!\"")
		 TOK_GRANT(5, ",\"token\":\"\"")
		 TOK_GRANT(6, ",\"token\":7")
		 TOK_GRANT(7, ",\"token\":\"%sAAAA\"")      /* 259 bytes */
		 TOK_GRANT(8, ",\"token\":\"%.340sAA==\"")  /* 256 bytes */
		 TOK_GRANT(9, ",\"token\":\"cnVsZQ==cnVsZQ==\""), b64, b64);
	th_write(dir, "grants.json", text, NULL, 0);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 2);
	t = spa_grants_token(&gs, 1, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(t, "rule", 4);
	assert_non_null(spa_grants_token(&gs, 8, &len));
	assert_int_equal(len, 256);
	spa_grants_close(&gs);

	/* token lines: set, damaged (skipped), cleared, of no grant */
	th_write(dir, "grants.json", "{\"version\":3,\"next_id\":1}\n"
		 TOK_GRANT(1, "") TOK_GRANT(2, "")
		 "{\"token\":{\"id\":1,\"token\":\"YWNs\"}}\n"
		 "{\"token\":{\"id\":2,\"token\":\"YWNs\"}}\n"
		 "{\"token\":{\"id\":1,\"token\":\"%%%%\"}}\n"
		 "{\"token\":{\"id\":1,\"token\":\"YQ==\",\"x\":1}}\n"
		 "{\"token\":{\"id\":2}}\n"
		 "{\"token\":{\"id\":9,\"token\":\"YQ==\"}}\n"
		 "{\"token\":{\"id\":1,\"token\":\"YWNs\"}}{\"token\":{\"id\":2,\"token\":\"Yg==\"}}\n",
		 NULL, 0);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_int_equal(gs.n, 2);
	t = spa_grants_token(&gs, 1, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(t, "acl", 3);
	/* the record glued after a fragment is kept */
	t = spa_grants_token(&gs, 2, &len);
	assert_int_equal(len, 1);
	assert_memory_equal(t, "b", 1);
	spa_grants_close(&gs);
	th_rmrf(dir);
}

/* A failing close's class and message: kept while the grant is closing,
 * journaled with the attempts at every failure (spad -S reads them), back
 * after a reload from the log and from a snapshot, gone with a re-open or
 * a remove. */
static void test_close_error(void **state)
{
	char dir[64], path[4096];
	struct spa_grants gs;
	struct spa_grant_rec a, b, r;
	size_t lines;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/grants.json", dir);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	make(&a, "198.51.100.9", 6, 22, 1000);
	make(&b, "198.51.100.10", 6, 22, 1000);
	assert_int_equal(spa_grants_add(&gs, &a), 0);
	assert_int_equal(spa_grants_add(&gs, &b), 0);
	assert_int_equal(spa_grants_close_failed(&gs, &a, 1000, false, "router busy"), 0);
	lines = gs.jlines;
	assert_int_equal(spa_grants_close_failed(&gs, &a, 1001, false, "router busy"), 0);
	assert_int_equal(gs.jlines, lines + 1);
	assert_int_equal(spa_grants_close_failed(&gs, &a, 1002, true, "ACL 7 refused"), 0);
	assert_int_equal(gs.jlines, lines + 2);
	/* permanent: the longest wait at once */
	assert_int_equal(a.retry_at, 1002 + 300);
	assert_int_equal(spa_grants_close_failed(&gs, &b, 1000, false, "timeout"), 0);
	assert_true(spa_grants_by_id(&gs, a.g.id, &r));
	assert_true(r.closing && r.permanent);
	assert_string_equal(r.error, "ACL 7 refused");
	assert_int_equal(r.attempts, 3);
	/* b goes live again: its error goes */
	assert_int_equal(spa_grants_reopened(&gs, &b), 0);
	assert_true(spa_grants_by_id(&gs, b.g.id, &r));
	assert_string_equal(r.error, "");
	spa_grants_close(&gs);

	/* from the log */
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_true(spa_grants_by_id(&gs, a.g.id, &r));
	assert_true(r.closing && r.permanent);
	assert_string_equal(r.error, "ACL 7 refused");
	assert_true(spa_grants_by_id(&gs, b.g.id, &r));
	assert_false(r.closing);
	assert_string_equal(r.error, "");
	/* from a snapshot */
	assert_int_equal(spa_grants_save(&gs), 0);
	spa_grants_close(&gs);
	assert_int_equal(spa_grants_open(&gs, path), 0);
	assert_true(spa_grants_by_id(&gs, a.g.id, &r));
	assert_string_equal(r.error, "ACL 7 refused");
	assert_true(r.permanent);
	assert_int_equal(spa_grants_remove(&gs, a.g.id), 0);
	assert_null(spa_grants_error(&gs, a.g.id));
	spa_grants_close(&gs);
}

/* A close with the backend takes the grant off the due heap until it
 * comes back; the marks are memory only. */
static void test_runtime_marks(void **state)
{
	struct spa_grants gs;
	struct spa_grant_rec a, b, r;
	(void)state;

	assert_int_equal(spa_grants_open(&gs, NULL), 0);
	make(&a, "198.51.100.9", 6, 22, 100);
	make(&b, "198.51.100.9", 6, 23, 200);
	assert_int_equal(spa_grants_add(&gs, &a), 0);
	assert_int_equal(spa_grants_add(&gs, &b), 0);
	assert_true(spa_grants_due(&gs, 150, &r));
	assert_int_equal(r.g.id, a.g.id);
	assert_int_equal(spa_grants_set_busy(&gs, a.g.id, true), 0);
	assert_false(spa_grants_due(&gs, 150, &r));
	assert_int_equal(spa_grants_next_expiry(&gs), 200);
	spa_grants_inflight(&gs, a.g.id, +1);
	spa_grants_inflight(&gs, a.g.id, +1);
	assert_int_equal(spa_grants_set_want_open(&gs, a.g.id, true), 0);
	assert_true(spa_grants_by_id(&gs, a.g.id, &r));
	assert_true(r.close_busy && r.want_open);
	assert_int_equal(r.inflight, 2);
	spa_grants_inflight(&gs, a.g.id, -1);
	spa_grants_inflight(&gs, a.g.id, -1);
	spa_grants_inflight(&gs, a.g.id, -1); /* never below 0 */
	assert_int_equal(spa_grants_set_busy(&gs, a.g.id, false), 0);
	assert_true(spa_grants_by_id(&gs, a.g.id, &r));
	assert_int_equal(r.inflight, 0);
	assert_true(spa_grants_due(&gs, 150, &r));
	assert_int_equal(r.g.id, a.g.id);
	assert_int_equal(spa_grants_set_busy(&gs, 999, true), -ENOENT);
	spa_grants_close(&gs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_token_journal_checks),
		cmocka_unit_test(test_close_error),
		cmocka_unit_test(test_runtime_marks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
