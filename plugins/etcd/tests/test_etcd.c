/* SPDX-License-Identifier: MIT */
/* test_etcd.c - the etcd module's pure parts (plugins/etcd/README.md):
 * endpoint lists, base64, range ends, the JSON it sends to etcd's gateway
 * and how it reads answers, malformed ones included. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "spa_etcd.h"

static void test_endpoints(void **state)
{
	struct spa_etcd_conf c;
	char why[200];

	(void)state;
	assert_int_equal(spa_etcd_endpoints_parse("https://198.51.100.1:2379, https://e2.example:"
						  "12379/ ,https://[2001:db8::1]:2379,https://h",
						  &c, why, sizeof(why)), 0);
	assert_int_equal(c.n_url, 4);
	assert_string_equal(c.url[0], "https://198.51.100.1:2379");
	assert_string_equal(c.url[1], "https://e2.example:12379");
	assert_string_equal(c.url[2], "https://[2001:db8::1]:2379");
	assert_string_equal(c.url[3], "https://h:2379");
}

static void test_endpoints_refused(void **state)
{
	static const char *const bad[] = {
		"", "http://198.51.100.1:2379", "198.51.100.1:2379", "https://",
		"https://:2379", "https://h:0", "https://h:65536", "https://h:99999999",
		"https://h:2379/v3", "https://h:2379,", "https://h:2379,,https://g:1",
		"https://[2001:db8::1:2379", "https://[]:1", "https://h a:1",
		"https://user@h:1", "https://h:1x",
		("https://a:1,https://b:1,https://c:1,https://d:1,https://e:1,https://f:1,"
		 "https://g:1,https://h:1,https://i:1"),
	};
	struct spa_etcd_conf c;
	char why[200];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (spa_etcd_endpoints_parse(bad[i], &c, why, sizeof(why)) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_true(why[0] != '\0');
	}
	spa_etcd_endpoints_parse("http://h:1", &c, why, sizeof(why));
	assert_non_null(strstr(why, "https"));
}

static void test_b64(void **state)
{
	static const char *const vec[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "/spa/replay/x", "L3NwYS9yZXBsYXkveA==" },
	};
	char out[64];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		assert_int_equal(spa_etcd_b64_encode(vec[i][0], strlen(vec[i][0]), out,
						     sizeof(out)), 0);
		assert_string_equal(out, vec[i][1]);
		assert_int_equal(spa_etcd_b64_decode(vec[i][1], strlen(vec[i][1]), out,
						     sizeof(out), &len), 0);
		assert_int_equal(len, strlen(vec[i][0]));
		assert_memory_equal(out, vec[i][0], len);
	}
	assert_int_equal(spa_etcd_b64_encode("foo", 3, out, 4), -ENOSPC);
	assert_int_equal(spa_etcd_b64_encode("foo", 3, out, 5), 0);
	assert_int_equal(spa_etcd_b64_decode("Zm9v", 4, out, 3, &len), -ENOSPC);
	assert_int_equal(spa_etcd_b64_decode("Zm9v", 4, out, 4, &len), 0);
	/* binary, NUL included */
	assert_int_equal(spa_etcd_b64_decode("AP8=", 4, out, sizeof(out), &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal((unsigned char)out[0], 0);
	assert_int_equal((unsigned char)out[1], 0xff);
}

static void test_b64_malformed(void **state)
{
	static const char *const bad[] = {
		"Zg=", "Zg", "Z===", "====", "Zh==", "Zm9=", "Zm9v!A==", "Zg==Zg==",
		"Zm 9", "Zm9v\n", "=Zm9",
	};
	char out[64];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (spa_etcd_b64_decode(bad[i], strlen(bad[i]), out, sizeof(out), &len) != -EBADMSG)
			fail_msg("decoded '%s'", bad[i]);
}

static void test_range_end(void **state)
{
	char out[16];
	size_t len;

	(void)state;
	assert_int_equal(spa_etcd_range_end("/spa/grants/", 12, out, sizeof(out), &len), 0);
	assert_int_equal(len, 12);
	assert_memory_equal(out, "/spa/grants0", 12);
	assert_int_equal(spa_etcd_range_end("a\xff\xff", 3, out, sizeof(out), &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(out[0], 'b');
	assert_int_equal(spa_etcd_range_end("\xff\xff", 2, out, sizeof(out), &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(out[0], '\0');
	assert_int_equal(spa_etcd_range_end("", 0, out, sizeof(out), &len), -EINVAL);
	assert_int_equal(spa_etcd_range_end("0123456789abcdefg", 17, out, sizeof(out), &len),
			 -ENOSPC);
}

static void test_key_ok(void **state)
{
	char longkey[SPA_STORE_KEY_MAX + 2];

	(void)state;
	assert_true(spa_etcd_key_ok("replay/ab+/=", 12));
	assert_false(spa_etcd_key_ok("", 0));
	assert_false(spa_etcd_key_ok("a b", 3));
	assert_false(spa_etcd_key_ok("a\x7f", 2));
	assert_false(spa_etcd_key_ok("a\n", 2));
	memset(longkey, 'k', sizeof(longkey));
	assert_true(spa_etcd_key_ok(longkey, SPA_STORE_KEY_MAX));
	assert_false(spa_etcd_key_ok(longkey, SPA_STORE_KEY_MAX + 1));
}

/* The JSON of a request, parsed back. */
static json_t *parsed(char *text)
{
	json_t *j;

	assert_non_null(text);
	j = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(j);
	return j;
}

static const char *str_at(json_t *j, const char *path)
{
	char buf[128], *save = NULL;
	json_t *cur = j;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = strtok_r(buf, ".", &save); p; p = strtok_r(NULL, ".", &save))
		cur = (*p >= '0' && *p <= '9') ? json_array_get(cur, (size_t)atoi(p))
					      : json_object_get(cur, p);
	return json_is_string(cur) ? json_string_value(cur) : NULL;
}

static void test_requests(void **state)
{
	json_t *j;

	(void)state;
	j = parsed(spa_etcd_req_claim("/spa/replay/x", 13, 7587869283958261000LL));
	assert_string_equal(str_at(j, "compare.0.target"), "CREATE");
	assert_string_equal(str_at(j, "compare.0.key"), "L3NwYS9yZXBsYXkveA==");
	assert_string_equal(str_at(j, "compare.0.create_revision"), "0");
	assert_string_equal(str_at(j, "success.0.request_put.key"), "L3NwYS9yZXBsYXkveA==");
	assert_string_equal(str_at(j, "success.0.request_put.value"), "MQ==");
	assert_string_equal(str_at(j, "success.0.request_put.lease"), "7587869283958261000");
	assert_null(json_object_get(j, "failure"));
	json_decref(j);

	j = parsed(spa_etcd_req_put("/k", 2, "{\"a\":1}", 7, 5));
	assert_string_equal(str_at(j, "value"), "eyJhIjoxfQ==");
	assert_string_equal(str_at(j, "lease"), "5");
	json_decref(j);

	j = parsed(spa_etcd_req_lease_grant(68));
	assert_string_equal(str_at(j, "TTL"), "68");
	json_decref(j);

	j = parsed(spa_etcd_req_delete("/k", 2));
	assert_string_equal(str_at(j, "key"), "L2s=");
	assert_null(json_object_get(j, "range_end"));
	json_decref(j);

	j = parsed(spa_etcd_req_range("/a/", 3, "/a0", 3));
	assert_string_equal(str_at(j, "key"), "L2Ev");
	assert_string_equal(str_at(j, "range_end"), "L2Ew");
	json_decref(j);

	j = parsed(spa_etcd_req_probe("/a/", 3));
	assert_string_equal(str_at(j, "key"), "L2Ev");
	assert_string_equal(str_at(j, "limit"), "1");
	assert_true(json_is_true(json_object_get(j, "count_only")));
	assert_null(json_object_get(j, "serializable"));
	assert_null(json_object_get(j, "range_end"));
	json_decref(j);

	j = parsed(spa_etcd_req_watch("/a/", 3, "/a0", 3, 42));
	assert_string_equal(str_at(j, "create_request.key"), "L2Ev");
	assert_string_equal(str_at(j, "create_request.range_end"), "L2Ew");
	assert_string_equal(str_at(j, "create_request.start_revision"), "42");
	assert_true(json_is_true(json_object_get(json_object_get(j, "create_request"),
						 "progress_notify")));
	json_decref(j);
}

#define HDR "\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"9\",\"raft_term\":\"2\"}"

static void test_txn(void **state)
{
	char why[160];
	int ok;
	const char *yes = "{" HDR ",\"succeeded\":true,\"responses\":[]}";

	(void)state;
	assert_int_equal(spa_etcd_parse_txn(yes, strlen(yes), &ok, why, sizeof(why)), 0);
	assert_int_equal(ok, 1);
	/* false is protobuf's default: left out */
	assert_int_equal(spa_etcd_parse_txn("{" HDR "}", strlen("{" HDR "}"), &ok, why,
					    sizeof(why)), 0);
	assert_int_equal(ok, 0);
	static const char *const bad[] = {
		"{" HDR ",\"succeeded\":\"true\"}", "{\"succeeded\":true}", "[]", "", "{",
		"{\"header\":{\"revision\":\"x\"},\"succeeded\":true}",
		"{\"header\":{\"revision\":-3},\"succeeded\":true}",
		"{\"header\":[],\"succeeded\":true}", "null", "{" HDR ",\"succeeded\":1}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok = 7;
		if (spa_etcd_parse_txn(bad[i], strlen(bad[i]), &ok, why, sizeof(why)) != -EBADMSG)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(ok, 0);
	}
	assert_int_equal(spa_etcd_parse_ok("{" HDR ",\"deleted\":\"1\"}", strlen("{" HDR
					   ",\"deleted\":\"1\"}"), why, sizeof(why)), 0);
	assert_int_equal(spa_etcd_parse_ok("{}", 2, why, sizeof(why)), -EBADMSG);
}

static void test_lease(void **state)
{
	const char *good = "{" HDR ",\"ID\":\"7339638444915095814\",\"TTL\":\"10\"}";
	char why[160];
	int64_t id, ttl;

	(void)state;
	assert_int_equal(spa_etcd_parse_lease(good, strlen(good), &id, &ttl, why, sizeof(why)), 0);
	assert_true(id == 7339638444915095814LL);
	assert_true(ttl == 10);
	static const char *const bad[] = {
		"{" HDR ",\"TTL\":\"10\"}", "{" HDR ",\"ID\":\"12a\",\"TTL\":\"10\"}",
		"{" HDR ",\"ID\":\"99999999999999999999\",\"TTL\":\"10\"}",
		"{" HDR ",\"ID\":\"9223372036854775808\",\"TTL\":\"10\"}",
		"{" HDR ",\"ID\":\"\",\"TTL\":\"10\"}", "{" HDR ",\"ID\":\"-5\",\"TTL\":\"10\"}",
		"{" HDR ",\"ID\":\"5\",\"TTL\":\"0\"}", "{" HDR ",\"ID\":true,\"TTL\":\"1\"}",
		"{" HDR ",\"ID\":\"5\",\"ID\":\"6\",\"TTL\":\"1\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (spa_etcd_parse_lease(bad[i], strlen(bad[i]), &id, &ttl, why,
					 sizeof(why)) != -EBADMSG)
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(spa_etcd_parse_lease("{" HDR ",\"ID\":9223372036854775807,\"TTL\":3}",
					      strlen("{" HDR ",\"ID\":9223372036854775807,"
						     "\"TTL\":3}"), &id, &ttl, why, sizeof(why)), 0);
	assert_true(id == INT64_MAX);
}

static void test_errors(void **state)
{
	const char *unary = "{\"error\":\"etcdserver: request timed out\",\"message\":"
			    "\"etcdserver: request timed out\",\"code\":14}";
	const char *stream = "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
			     "\"etcdserver: no leader\",\"http_status\":\"Service Unavailable\"}}";
	const char *nf = "{\"error\":\"etcdserver: requested lease not found\",\"code\":5}";
	char msg[100];
	int code;

	(void)state;
	assert_int_equal(spa_etcd_parse_error(unary, strlen(unary), &code, msg, sizeof(msg)), 1);
	assert_int_equal(code, 14);
	assert_string_equal(msg, "etcdserver: request timed out");
	assert_true(spa_etcd_error_failover(code, msg));
	assert_int_equal(spa_etcd_parse_error(stream, strlen(stream), &code, msg, sizeof(msg)), 1);
	assert_int_equal(code, 14);
	assert_string_equal(msg, "etcdserver: no leader");
	assert_int_equal(spa_etcd_parse_error(nf, strlen(nf), &code, msg, sizeof(msg)), 1);
	assert_int_equal(code, 5);
	assert_false(spa_etcd_error_failover(code, msg));
	assert_true(spa_etcd_error_failover(-1, "etcdserver: leader changed"));
	assert_int_equal(spa_etcd_parse_error("{" HDR "}", strlen("{" HDR "}"), &code, msg,
					      sizeof(msg)), 0);
	assert_int_equal(spa_etcd_parse_error("<html>", 6, &code, msg, sizeof(msg)), 0);
	/* odd types: still an error, without a code; control bytes masked */
	assert_int_equal(spa_etcd_parse_error("{\"error\":7,\"code\":\"x\"}", 22, &code, msg,
					      sizeof(msg)), 1);
	assert_int_equal(code, -1);
	assert_int_equal(spa_etcd_parse_error("{\"error\":\"a\\u001bb\"}", 20, &code, msg,
					      sizeof(msg)), 1);
	assert_string_equal(msg, "a?b");
}

struct seen {
	char text[2048];
	int n;
};

static void record(void *ctx, int event, const char *key, const char *value)
{
	struct seen *s = ctx;
	size_t o = strlen(s->text);

	snprintf(s->text + o, sizeof(s->text) - o, "%s%d:%s=%s", s->n++ ? " " : "", event,
		 key ? key : "-", value ? value : "-");
}

static struct spa_etcd_sink sink_for(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	return (struct spa_etcd_sink){ .strip = "/spa/", .strip_len = 5, .cb = record, .ctx = s };
}

static void test_range(void **state)
{
	/* /spa/grants/a = "v1"; /spa/grants/b, value left out; /other/x
	 * (outside); /spa/a b (a space) */
	const char *body = "{" HDR ",\"kvs\":["
		"{\"key\":\"L3NwYS9ncmFudHMvYQ==\",\"create_revision\":\"3\",\"value\":\"djE=\"},"
		"{\"key\":\"L3NwYS9ncmFudHMvYg==\"},"
		"{\"key\":\"L290aGVyL3g=\",\"value\":\"eA==\"},"
		"{\"key\":\"L3NwYS9hIGI=\",\"value\":\"eA==\"},"
		"{\"key\":\"L3NwYS9j\",\"value\":\"AA==\"}],\"count\":\"5\"}";
	struct seen s;
	struct spa_etcd_sink k = sink_for(&s);
	char why[160];
	int64_t rev;

	(void)state;
	assert_int_equal(spa_etcd_parse_range(body, strlen(body), &k, &rev, why, sizeof(why)), 0);
	assert_true(rev == 9);
	assert_string_equal(s.text, "1:grants/a=v1 1:grants/b=");
	assert_int_equal(k.skipped, 3);
	/* nothing listed: no kvs at all */
	k = sink_for(&s);
	assert_int_equal(spa_etcd_parse_range("{" HDR "}", strlen("{" HDR "}"), &k, &rev, why,
					      sizeof(why)), 0);
	assert_int_equal(s.n, 0);
}

static void test_range_malformed(void **state)
{
	static const char *const bad[] = {
		"{" HDR ",\"kvs\":{}}", "{" HDR ",\"kvs\":[7]}", "{" HDR ",\"kvs\":[{}]}",
		"{" HDR ",\"kvs\":[{\"key\":\"L3NwYS9h!!==\"}]}",
		"{" HDR ",\"kvs\":[{\"key\":\"L3NwYS9h\",\"value\":\"x\"}]}",
		"{" HDR ",\"kvs\":[{\"key\":5}]}", "{" HDR ",\"kvs\":[],\"more\":true}",
		"{\"kvs\":[]}", "", "[" HDR "]",
	};
	struct seen s;
	char why[160];
	int64_t rev;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct spa_etcd_sink k = sink_for(&s);

		if (spa_etcd_parse_range(bad[i], strlen(bad[i]), &k, &rev, why, sizeof(why)) !=
		    -EBADMSG)
			fail_msg("accepted '%s'", bad[i]);
		assert_true(why[0] != '\0');
	}
}

static void test_range_oversized(void **state)
{
	/* a key and a value beyond the contract's sizes: skipped, not fatal */
	size_t big = SPA_STORE_VALUE_MAX + 10, klen = 5 + SPA_STORE_KEY_MAX + 1;
	char *val = malloc(big), *key = malloc(klen), *b64v = malloc(big * 2), *b64k = malloc(klen * 2);
	char *body = malloc(big * 3 + klen * 3), why[160];
	struct seen s;
	struct spa_etcd_sink k = sink_for(&s);
	int64_t rev;

	(void)state;
	memset(val, 'v', big);
	memcpy(key, "/spa/", 5);
	memset(key + 5, 'k', klen - 5);
	assert_int_equal(spa_etcd_b64_encode(val, big, b64v, big * 2), 0);
	assert_int_equal(spa_etcd_b64_encode(key, klen, b64k, klen * 2), 0);
	sprintf(body, "{" HDR ",\"kvs\":[{\"key\":\"L3NwYS9h\",\"value\":\"%s\"},"
		"{\"key\":\"%s\",\"value\":\"eA==\"},{\"key\":\"L3NwYS9i\",\"value\":\"eA==\"}]}",
		b64v, b64k);
	assert_int_equal(spa_etcd_parse_range(body, strlen(body), &k, &rev, why, sizeof(why)), 0);
	assert_string_equal(s.text, "1:b=x");
	assert_int_equal(k.skipped, 2);
	free(val);
	free(key);
	free(b64v);
	free(b64k);
	free(body);
}

static int watch_line(struct spa_etcd_sink *k, const char *line, int *created, char *why)
{
	return spa_etcd_parse_watch_line(line, strlen(line), k, created, why, 160);
}

static void test_watch(void **state)
{
	struct seen s;
	struct spa_etcd_sink k = sink_for(&s);
	char why[160];
	int created = 0;

	(void)state;
	assert_int_equal(watch_line(&k, "{\"result\":{" HDR ",\"created\":true}}", &created,
				    why), 0);
	assert_int_equal(created, 1);
	assert_int_equal(watch_line(&k, "{\"result\":{" HDR ",\"events\":["
				    "{\"kv\":{\"key\":\"L3NwYS9ncmFudHMvYQ==\",\"value\":\"djI=\"}},"
				    "{\"type\":\"DELETE\",\"kv\":{\"key\":\"L3NwYS9ncmFudHMvYQ==\","
				    "\"mod_revision\":\"12\"}},"
				    "{\"type\":\"PUT\",\"kv\":{\"key\":\"L3NwYS9i\",\"value\":\"eA==\"}}"
				    "]}}", &created, why), 0);
	assert_string_equal(s.text, "1:grants/a=v2 2:grants/a=- 1:b=x");
	/* a progress notification: a header and nothing else */
	assert_int_equal(watch_line(&k, "{\"result\":{" HDR "}}", &created, why), 0);

	assert_int_equal(watch_line(&k, "{\"result\":{\"header\":{},\"canceled\":true,"
				    "\"compact_revision\":\"6\"}}", &created, why), -ECANCELED);
	assert_non_null(strstr(why, "compacted"));
	assert_int_equal(watch_line(&k, "{\"result\":{\"canceled\":true,\"cancel_reason\":"
				    "\"mvcc: required revision is a future revision\"}}", &created,
				    why), -ECANCELED);
	assert_non_null(strstr(why, "future"));
	assert_int_equal(watch_line(&k, "{\"error\":{\"grpc_code\":14,\"message\":\"etcdserver: "
				    "no leader\"}}", &created, why), -ECONNRESET);
	assert_string_equal(why, "etcdserver: no leader");
}

static void test_watch_malformed(void **state)
{
	static const char *const bad[] = {
		"{}", "{\"result\":7}", "{\"result\":{\"events\":{}}}",
		"{\"result\":{\"events\":[7]}}",
		"{\"result\":{\"events\":[{\"type\":\"MOVE\",\"kv\":{\"key\":\"L3NwYS9i\"}}]}}",
		"{\"result\":{\"events\":[{\"type\":1,\"kv\":{\"key\":\"L3NwYS9i\"}}]}}",
		"{\"result\":{\"events\":[{}]}}",
		"{\"result\":{\"events\":[{\"kv\":{\"value\":\"eA==\"}}]}}",
		"{\"result\":{\"created\":\"yes\"}}", "{\"result\":{\"canceled\":1}}",
		"{\"result\":{\"compact_revision\":\"x\"}}", "{\"result\":{", "nonsense",
	};
	struct seen s;
	char why[160];
	int created = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct spa_etcd_sink k = sink_for(&s);

		if (watch_line(&k, bad[i], &created, why) != -EBADMSG)
			fail_msg("accepted '%s'", bad[i]);
	}
	assert_int_equal(created, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_endpoints_refused),
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_b64_malformed),
		cmocka_unit_test(test_range_end),
		cmocka_unit_test(test_key_ok),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_txn),
		cmocka_unit_test(test_lease),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_range_malformed),
		cmocka_unit_test(test_range_oversized),
		cmocka_unit_test(test_watch),
		cmocka_unit_test(test_watch_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
