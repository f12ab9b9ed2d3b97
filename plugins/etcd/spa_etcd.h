/* SPDX-License-Identifier: MIT */
/*
 * spa_etcd.h - the etcd state-store module (README.md in this directory):
 * its configuration, the JSON of etcd v3's gRPC gateway (pure functions,
 * spa_etcd_json.c) and the HTTPS transport with endpoint failover
 * (spa_etcd_http.c).
 */
#ifndef SPA_ETCD_H
#define SPA_ETCD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <spa/plugin.h>
#include <spa/store.h>

#define SPA_ETCD_ENDPOINTS_MAX 8
#define SPA_ETCD_URL_MAX       272   /* "https://" + [host]:port */
#define SPA_ETCD_PREFIX_MAX    128
#define SPA_ETCD_TIMEOUT_MIN   100u
#define SPA_ETCD_TIMEOUT_MAX   60000u
/* a whole etcd key: ETCD_PREFIX + a store key */
#define SPA_ETCD_FULLKEY_MAX   (SPA_ETCD_PREFIX_MAX + SPA_STORE_KEY_MAX)

/* ---- configuration (ETCD_* keys) ---------------------------------------- */

struct spa_etcd_conf {
	char url[SPA_ETCD_ENDPOINTS_MAX][SPA_ETCD_URL_MAX]; /* "https://h:p" */
	size_t n_url;
	const char *ca_file, *cert_file, *key_file;   /* NULL when unset */
	char prefix[SPA_ETCD_PREFIX_MAX + 1];
	uint32_t timeout_ms;
};

/* ETCD_ENDPOINTS: a comma list of https://host[:port] (IPv6 in brackets,
 * port 2379 when absent, an optional trailing "/"), at most
 * SPA_ETCD_ENDPOINTS_MAX. 0, or -EINVAL with why filled. */
int spa_etcd_endpoints_parse(const char *list, struct spa_etcd_conf *c,
			     char *why, size_t why_len);

/* ---- base64 (RFC 4648, padded: what protobuf's JSON mapping uses) -------- */

/* Encodes len bytes into out (NUL-terminated); -ENOSPC when cap is short. */
int spa_etcd_b64_encode(const void *in, size_t len, char *out, size_t cap);
/* Decodes canonical padded base64 into out (NUL-terminated, *out_len
 * bytes); -EBADMSG when malformed, -ENOSPC when cap is short. */
int spa_etcd_b64_decode(const char *in, size_t in_len, char *out, size_t cap,
			size_t *out_len);

/* The range end of a prefix: the prefix with its last byte below 0xff
 * plus one (bytes after it dropped); "\0" (every key) when all are 0xff.
 * *out_len bytes; -ENOSPC, -EINVAL for an empty prefix. */
int spa_etcd_range_end(const char *prefix, size_t len, char *out, size_t cap,
		       size_t *out_len);

/* Whether key is a store key the contract allows: printable ASCII, no
 * spaces, 1..SPA_STORE_KEY_MAX bytes. */
int spa_etcd_key_ok(const char *key, size_t len);

/* ---- requests: JSON text (free()) or NULL when out of memory ------------- */

char *spa_etcd_req_range(const char *key, size_t klen, const char *end, size_t elen);
char *spa_etcd_req_delete(const char *key, size_t klen);
/* the watch's liveness probe: a linearizable count_only range of one key */
char *spa_etcd_req_probe(const char *key, size_t klen);
char *spa_etcd_req_lease_grant(int64_t ttl_s);
char *spa_etcd_req_put(const char *key, size_t klen, const char *value, size_t vlen,
		       int64_t lease);
/* txn: if the key's create revision is 0, put it (value "1", lease) */
char *spa_etcd_req_claim(const char *key, size_t klen, int64_t lease);
char *spa_etcd_req_watch(const char *key, size_t klen, const char *end, size_t elen,
			 int64_t start_rev);

/* ---- responses ---------------------------------------------------------- */

/* gRPC codes the gateway passes on (google.golang.org/grpc/codes) */
#define SPA_ETCD_GRPC_DEADLINE     4
#define SPA_ETCD_GRPC_NOT_FOUND    5
#define SPA_ETCD_GRPC_EXHAUSTED    8
#define SPA_ETCD_GRPC_UNAVAILABLE  14

/* The error a gateway answer carries: 1 with *code (gRPC code, -1 when
 * absent) and msg filled, 0 when the body is no error object (or no
 * JSON at all: the caller's parser says what is wrong). */
int spa_etcd_parse_error(const char *body, size_t len, int *code, char *msg,
			 size_t msg_len);
/* Whether an error (gRPC code and message) means "this member cannot
 * answer now, another may": unavailable, deadline, leader lost, timeout. */
int spa_etcd_error_failover(int code, const char *msg);

/* Parsers: 0, or -EBADMSG for a malformed answer (why says what). */
int spa_etcd_parse_txn(const char *body, size_t len, int *succeeded,
		       char *why, size_t why_len);
int spa_etcd_parse_lease(const char *body, size_t len, int64_t *id, int64_t *ttl,
			 char *why, size_t why_len);
int spa_etcd_parse_ok(const char *body, size_t len, char *why, size_t why_len);

/* Where listed or watched keys go: keys are reported relative to strip
 * (ETCD_PREFIX). A key outside strip, or that the store contract does
 * not allow, or a value too long or not text, is skipped and counted. */
struct spa_etcd_sink {
	const char *strip;
	size_t strip_len;
	spa_store_watch_cb cb;
	void *ctx;
	unsigned long skipped;
	char last_skip[96];           /* why the last skip, for the log */
};

/* A range answer: every kv to sink as SPA_STORE_EV_PUT, *revision from
 * its header. */
int spa_etcd_parse_range(const char *body, size_t len, struct spa_etcd_sink *s,
			 int64_t *revision, char *why, size_t why_len);

/* One line of the watch stream: events to sink. Returns 0 (go on),
 * -ECANCELED when the server ended the watch (why: compaction...),
 * -ECONNRESET for an error object (why: its message), -EBADMSG for a
 * malformed line. *created is set to
 * 1 by the line acknowledging the watch. */
int spa_etcd_parse_watch_line(const char *line, size_t len, struct spa_etcd_sink *s,
			      int *created, char *why, size_t why_len);

/* ---- transport (spa_etcd_http.c) ---------------------------------------- */

struct spa_etcd_http;

/* Why a request failed, at most one log line per second for a flood. */
struct spa_etcd_ratelog {
	pthread_mutex_t lock;
	int64_t last_ms;
	unsigned long suppressed;
};

int spa_etcd_http_new(const struct spa_host_api *host, const struct spa_etcd_conf *c,
		      struct spa_etcd_http **out);
void spa_etcd_http_free(struct spa_etcd_http *h);

/* The deadline of an op starting now: 2 x ETCD_TIMEOUT (monotonic ms). */
int64_t spa_etcd_http_deadline(const struct spa_etcd_http *h);

/* POSTs body to path on the endpoints, starting at the last that
 * answered and going on to the next on failures another member may not
 * have, until one answers or the deadline (spa_etcd_http_deadline, shared
 * by the requests of one op) has passed. On 0, *resp
 * (free()) holds the answer's JSON (*resp_len bytes, NUL-terminated).
 * SPA_ERR_TRANSIENT when no member could answer (logged, rate-limited),
 * another negative error for a refusal (logged). */
int spa_etcd_http_post(struct spa_etcd_http *h, const char *path, const char *body,
		       int64_t deadline, size_t max_resp, char **resp, size_t *resp_len);

/* Streams POST /v3/watch of body: each complete line to on_line, until
 * on_line returns nonzero (returned), the server ends the stream, an error
 * (negative), the member fails another request or the probe
 * (SPA_ERR_TRANSIENT), or stop becomes nonzero (0; spa_etcd_http_wake
 * makes that immediate). probe (NULL: none) is POSTed to
 * /v3/kv/range on the stream's member every max(1 s, ETCD_TIMEOUT), each
 * within ETCD_TIMEOUT: a hung member streams silence, a probe finds it. */
typedef int (*spa_etcd_line_fn)(void *ctx, const char *line, size_t len);
int spa_etcd_http_stream(struct spa_etcd_http *h, const char *path, const char *body,
			 const char *probe, size_t max_line, spa_etcd_line_fn on_line,
			 void *ctx, const atomic_int *stop);

/* Wakes the running stream, if any, to look at its stop flag now. */
void spa_etcd_http_wake(struct spa_etcd_http *h);

void spa_etcd_ratelog(struct spa_etcd_ratelog *r, const struct spa_host_api *host,
		      int level, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int64_t spa_etcd_now_ms(void);

#endif
