/* SPDX-License-Identifier: MIT */
/*
 * spa_etcd_http.c - HTTPS to etcd's JSON gateway through libcurl, from
 * several threads at once. Easy handles live in a small pool (each keeps
 * its connections alive) and share TLS sessions and DNS answers, so a
 * claim costs no handshake. A request starts at the endpoint that last
 * answered and goes on to the next only on failures another member may
 * not have, within a budget of 2 x ETCD_TIMEOUT (README.md, "Failures").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "spa_etcd.h"

#define POOL_MAX 32

struct spa_etcd_http {
	const struct spa_host_api *host;
	const struct spa_etcd_conf *conf;
	CURLSH *share;
	pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
	struct curl_slist *headers;
	struct curl_slist *watch_headers;
	pthread_mutex_t pool_lock;
	CURL *pool[POOL_MAX];
	size_t n_pool;
	atomic_uint current;          /* the endpoint that last answered */
	/* when each endpoint last failed a request the way a dead or hung
	 * member does: a watch on it gives up (see stream_run) */
	_Atomic int64_t failed_ms[SPA_ETCD_ENDPOINTS_MAX];
	struct spa_etcd_ratelog down; /* "no endpoint answered" */
	struct spa_etcd_ratelog refused; /* a member's refusal */
	pthread_mutex_t watch_lock;
	CURLM *watch_multi;           /* of the running watch, for its wakeup */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

/* libcurl's global state is never torn down: spad may load the module
 * again, and another library of the process may use libcurl too. */
static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int64_t spa_etcd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void spa_etcd_ratelog(struct spa_etcd_ratelog *r, const struct spa_host_api *host,
		      int level, const char *fmt, ...)
{
	int64_t now = spa_etcd_now_ms();
	unsigned long n = 0;
	char line[1024];
	va_list ap;
	int say = 0;

	pthread_mutex_lock(&r->lock);
	if (r->last_ms == 0 || now - r->last_ms >= 1000) {
		say = 1;
		n = r->suppressed;
		r->suppressed = 0;
		r->last_ms = now;
	} else {
		r->suppressed++;
	}
	pthread_mutex_unlock(&r->lock);
	if (!say)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n)
		host->log(host->self, level, "%s (and %lu more like it in the last second)",
			  line, n);
	else
		host->log(host->self, level, "%s", line);
}

static void share_lock(CURL *e, curl_lock_data data, curl_lock_access a, void *u)
{
	struct spa_etcd_http *h = u;

	(void)e;
	(void)a;
	if (data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&h->share_lock[data]);
}

static void share_unlock(CURL *e, curl_lock_data data, void *u)
{
	struct spa_etcd_http *h = u;

	(void)e;
	if (data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&h->share_lock[data]);
}

int spa_etcd_http_new(const struct spa_host_api *host, const struct spa_etcd_conf *c,
		      struct spa_etcd_http **out)
{
	struct spa_etcd_http *h;

	*out = NULL;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		host->log(host->self, SPA_LOG_ERR, "libcurl: %s", curl_easy_strerror(global_rc));
		return -ENOTRECOVERABLE;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->host = host;
	h->conf = c;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&h->share_lock[i], NULL);
	pthread_mutex_init(&h->pool_lock, NULL);
	pthread_mutex_init(&h->down.lock, NULL);
	pthread_mutex_init(&h->refused.lock, NULL);
	pthread_mutex_init(&h->watch_lock, NULL);
	h->share = curl_share_init();
	h->headers = curl_slist_append(NULL, "Content-Type: application/json");
	/* no "Expect: 100-continue" round trip before a larger put */
	if (h->headers) {
		struct curl_slist *l = curl_slist_append(h->headers, "Expect:");

		if (!l)
			curl_slist_free_all(h->headers);
		h->headers = l;
	}
	h->watch_headers = curl_slist_append(NULL, "Content-Type: application/json");
	/* gRPC metadata "hasleader": a member cut off from its cluster ends
	 * the watch instead of streaming silence (etcd's WithRequireLeader) */
	if (h->watch_headers) {
		struct curl_slist *l = curl_slist_append(h->watch_headers,
							 "Grpc-Metadata-hasleader: true");

		if (!l)
			curl_slist_free_all(h->watch_headers);
		h->watch_headers = l;
	}
	if (!h->share || !h->headers || !h->watch_headers ||
	    curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
	    curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
	    curl_share_setopt(h->share, CURLSHOPT_USERDATA, h) != CURLSHE_OK ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK) {
		spa_etcd_http_free(h);
		return -ENOMEM;
	}
	*out = h;
	return 0;
}

void spa_etcd_http_free(struct spa_etcd_http *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n_pool; i++)
		curl_easy_cleanup(h->pool[i]);
	if (h->share)
		curl_share_cleanup(h->share);
	curl_slist_free_all(h->headers);
	curl_slist_free_all(h->watch_headers);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&h->share_lock[i]);
	pthread_mutex_destroy(&h->pool_lock);
	pthread_mutex_destroy(&h->down.lock);
	pthread_mutex_destroy(&h->refused.lock);
	pthread_mutex_destroy(&h->watch_lock);
	free(h);
}

/* What every request of a handle has in common. */
static CURL *handle_new(struct spa_etcd_http *h)
{
	const struct spa_etcd_conf *c = h->conf;
	long connect_ms = c->timeout_ms < 1000 ? (long)c->timeout_ms : 1000;
	CURL *e = curl_easy_init();
	int bad = 0;

	if (!e)
		return NULL;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_SHARE, h->share) != CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK;
#else
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS) != CURLE_OK;
#endif
	bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	/* the gateway speaks JSON over HTTP/1.1; h2 on etcd's port means gRPC */
	bad |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 10L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 5L) != CURLE_OK;
	if (c->ca_file)
		bad |= curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) != CURLE_OK;
	if (c->cert_file) {
		bad |= curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert_file) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_SSLKEY, c->key_file) != CURLE_OK;
	}
	if (bad) {
		curl_easy_cleanup(e);
		return NULL;
	}
	return e;
}

static CURL *pool_get(struct spa_etcd_http *h)
{
	CURL *e = NULL;

	pthread_mutex_lock(&h->pool_lock);
	if (h->n_pool)
		e = h->pool[--h->n_pool];
	pthread_mutex_unlock(&h->pool_lock);
	return e ? e : handle_new(h);
}

static void pool_put(struct spa_etcd_http *h, CURL *e)
{
	pthread_mutex_lock(&h->pool_lock);
	if (h->n_pool < POOL_MAX) {
		h->pool[h->n_pool++] = e;
		e = NULL;
	}
	pthread_mutex_unlock(&h->pool_lock);
	curl_easy_cleanup(e);
}

/* An answer's body, at most max bytes. */
struct body {
	char *data;
	size_t len, cap, max;
	int too_big;
};

static size_t body_write(char *ptr, size_t size, size_t n, void *u)
{
	struct body *b = u;
	size_t add = size * n;

	if (add > b->max - b->len) {
		b->too_big = 1;
		return 0;
	}
	if (b->len + add + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *p;

		while (cap < b->len + add + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return 0;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, add);
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

/* Whether an answer other than 200 says its member cannot answer now
 * (another may): an HTTP 5xx, none, or a gRPC error of that kind. code
 * and msg say what the answer said. */
static int answer_unwell(long status, const struct body *b, int *code, char *msg,
			 size_t msg_len)
{
	*code = -1;
	if (!b->len || !spa_etcd_parse_error(b->data, b->len, code, msg, msg_len))
		snprintf(msg, msg_len, "%s", b->len ? "an answer that is no error object"
			 : "an empty answer");
	return status >= 500 || status == 0 || spa_etcd_error_failover(*code, msg);
}

/* One request to endpoint i. 0 with *b the answer, 1 when another member
 * should be tried (why says why), or a negative refusal (logged). */
static int try_one(struct spa_etcd_http *h, CURL *e, size_t i, const char *path,
		   const char *req, long timeout_ms, struct body *b, char *why, size_t why_len)
{
	char url[SPA_ETCD_URL_MAX + 32], msg[200], err[CURL_ERROR_SIZE];
	long status = 0;
	CURLcode cc;
	int code;

	snprintf(url, sizeof(url), "%s%s", h->conf->url[i], path);
	b->len = 0;
	b->too_big = 0;
	if (b->data)
		b->data[0] = '\0';
	if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDS, req) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(req)) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, body_write) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, b) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, err) != CURLE_OK)
		return -ENOMEM;
	err[0] = '\0';
	cc = curl_easy_perform(e);
	/* the handle outlives err: a pooled handle must not point at it */
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
	if (cc == CURLE_WRITE_ERROR && b->too_big) {
		spa_etcd_ratelog(&h->refused, h->host, SPA_LOG_ERR,
				 "%s: an answer larger than %zu bytes", url, b->max);
		return -EMSGSIZE;
	}
	if (cc != CURLE_OK) {
		/* the error buffer has the detail (which certificate check), but
		 * it keeps the transfer's first complaint, not always the fatal
		 * one: both are said */
		snprintf(why, why_len, "%s: %s%s%s", h->conf->url[i], curl_easy_strerror(cc),
			 err[0] ? ": " : "", err);
		atomic_store(&h->failed_ms[i], spa_etcd_now_ms());
		return 1;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200 && b->len)
		return 0;
	if (answer_unwell(status, b, &code, msg, sizeof(msg))) {
		snprintf(why, why_len, "%s: HTTP %ld: %s", h->conf->url[i], status, msg);
		atomic_store(&h->failed_ms[i], spa_etcd_now_ms());
		return 1;
	}
	spa_etcd_ratelog(&h->refused, h->host, SPA_LOG_ERR, "%s: HTTP %ld: %s", url, status, msg);
	if (code == SPA_ETCD_GRPC_NOT_FOUND)
		return -ENOENT;
	if (code == SPA_ETCD_GRPC_EXHAUSTED)
		return SPA_ERR_TRANSIENT;
	return status == 401 || status == 403 ? -EACCES : -EPROTO;
}

int64_t spa_etcd_http_deadline(const struct spa_etcd_http *h)
{
	return spa_etcd_now_ms() + 2 * (int64_t)h->conf->timeout_ms;
}

int spa_etcd_http_post(struct spa_etcd_http *h, const char *path, const char *req,
		       int64_t deadline, size_t max_resp, char **resp, size_t *resp_len)
{
	const struct spa_etcd_conf *c = h->conf;
	size_t first = atomic_load(&h->current) % c->n_url, tried = 0;
	struct body b = { .max = max_resp };
	char why[300] = "", list[900];
	CURL *e = pool_get(h);
	int rc = SPA_ERR_TRANSIENT;

	*resp = NULL;
	*resp_len = 0;
	if (!e)
		return -ENOMEM;
	list[0] = '\0';
	for (size_t k = 0; k < c->n_url; k++) {
		size_t i = (first + k) % c->n_url;
		int64_t left = deadline - spa_etcd_now_ms();

		/* at least one attempt, however late: an op that waited for a
		 * lease still gets its answer when the store is well */
		if (left <= 0 && k > 0)
			break;
		if (left < (int64_t)c->timeout_ms / 2)
			left = (int64_t)c->timeout_ms / 2;
		tried++;
		rc = try_one(h, e, i, path, req,
			     left < (int64_t)c->timeout_ms ? (long)left : (long)c->timeout_ms,
			     &b, why, sizeof(why));
		if (rc == 0) {
			if (i != first)
				atomic_store(&h->current, (unsigned)i);
			*resp = b.data;
			*resp_len = b.len;
			b.data = NULL;
			break;
		}
		if (rc < 0)
			break;
		rc = SPA_ERR_TRANSIENT;
		/* each member's own reason: a certificate refused by one and a
		 * timeout of another are different problems */
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%.200s",
			 list[0] ? "; " : "", why);
	}
	if (rc == SPA_ERR_TRANSIENT && list[0])
		spa_etcd_ratelog(&h->down, h->host, SPA_LOG_WARNING,
				 "no etcd endpoint answered (tried %zu of %zu): %s", tried,
				 c->n_url, list);
	/* a handle that failed may hold a broken connection: curl drops
	 * those itself, and keeps the good ones */
	pool_put(h, e);
	free(b.data);
	return rc;
}

/* ---- the watch stream ----------------------------------------------------- */

struct stream {
	char *buf;
	size_t len, cap, max;
	spa_etcd_line_fn on_line;
	void *ctx;
	int rc;                 /* on_line's nonzero answer */
	int too_long;
};

/* Appends n bytes to the line being gathered: 0, or -1 when the line
 * would pass max (or memory ran out). */
static int stream_add(struct stream *s, const char *p, size_t n)
{
	if (n > s->max - s->len) {
		s->too_long = 1;
		return -1;
	}
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *b;

		while (cap < s->len + n)
			cap *= 2;
		if (cap > s->max)
			cap = s->max;
		b = realloc(s->buf, cap);
		if (!b)
			return -1;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

/* Chunks split lines anywhere: whole lines go to on_line. */
static size_t stream_write(char *ptr, size_t size, size_t n, void *u)
{
	struct stream *s = u;
	size_t add = size * n, start = 0;

	if (s->rc)
		return 0;
	for (size_t i = 0; i < add; i++) {
		if (ptr[i] != '\n')
			continue;
		if (stream_add(s, ptr + start, i - start) < 0)
			return 0;
		if (s->len)
			s->rc = s->on_line(s->ctx, s->buf, s->len);
		s->len = 0;
		start = i + 1;
		if (s->rc)
			return 0;
	}
	return stream_add(s, ptr + start, add - start) < 0 ? 0 : add;
}

void spa_etcd_http_wake(struct spa_etcd_http *h)
{
	pthread_mutex_lock(&h->watch_lock);
	if (h->watch_multi)
		curl_multi_wakeup(h->watch_multi);
	pthread_mutex_unlock(&h->watch_lock);
}

/* The watch's liveness probe (README.md, "Failures"). TCP keepalive finds
 * a dead host, not a hung member (a stopped process, a wedged disk): its
 * stream just stays silent, and an idle node has no other request to
 * notice it. So a cheap linearizable read goes to the stream's member
 * every max(1 s, ETCD_TIMEOUT), within ETCD_TIMEOUT.
 *
 * It is a second easy handle in the stream's own multi handle, not a
 * thread: one loop waits for both, so the stream is read while a probe
 * waits for its answer, curl_multi_wakeup still interrupts that one wait
 * (watch_stop stays immediate), and there is nothing to join or lock.
 * A probe takes a connection of its own (the stream holds the other),
 * which the multi handle keeps for the next probe. The price of one
 * loop: while the engine's callback holds a line, the probe waits too,
 * and a callback longer than ETCD_TIMEOUT would count as a timeout, at
 * worst one needless listing (spad's callback queues, it does not block).
 * etcd 3.4's progress request is no alternative here: the gateway takes
 * the watch's requests from the POST's body, which ours sends whole. */
struct probe {
	CURL *e;                /* NULL: no probe */
	struct body b;
	int64_t next_ms;        /* when the next one starts */
	int active;             /* in the multi handle */
	char why[300];          /* why the last one failed */
};

/* A finished probe: 0 when its member answered, -1 when it did not
 * (why filled). A refusal is an answer: the member is alive. */
static int probe_done(struct probe *p, CURLcode cc, const char *url)
{
	char msg[200];
	long status = 0;
	int code;

	if (cc != CURLE_OK) {
		snprintf(p->why, sizeof(p->why), "%s: %s", url, curl_easy_strerror(cc));
		return -1;
	}
	curl_easy_getinfo(p->e, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200 && p->b.len)
		return 0;
	if (!answer_unwell(status, &p->b, &code, msg, sizeof(msg)))
		return 0;
	snprintf(p->why, sizeof(p->why), "%s: HTTP %ld: %s", url, status, msg);
	return -1;
}

/* Runs the transfer until it ends (*cc its result, 1 returned), stop is
 * set (0), the member failed another request since start_ms (-1) or the
 * probe (-2, p->why says how). watch_stop's wakeup (spa_etcd_http_wake)
 * ends the wait at once. */
static int stream_run(struct spa_etcd_http *h, CURLM *m, CURL *e, size_t i,
		      struct probe *p, const atomic_int *stop, CURLcode *cc)
{
	int64_t start_ms = spa_etcd_now_ms();
	int64_t every = h->conf->timeout_ms > 1000 ? h->conf->timeout_ms : 1000;
	int rc = 0;

	p->next_ms = start_ms + every;
	pthread_mutex_lock(&h->watch_lock);
	h->watch_multi = m;
	pthread_mutex_unlock(&h->watch_lock);
	while (rc == 0) {
		int running = 0, queued, wait_ms = 1000;
		int64_t now = spa_etcd_now_ms();
		CURLMsg *msg;

		if (atomic_load(stop))
			break;
		/* a claim, put or del that the member failed says it sooner */
		if (atomic_load(&h->failed_ms[i]) > start_ms) {
			rc = -1;
			break;
		}
		if (p->e && !p->active && now >= p->next_ms) {
			p->b.len = 0;
			p->b.too_big = 0;
			if (curl_multi_add_handle(m, p->e) != CURLM_OK) {
				*cc = CURLE_OUT_OF_MEMORY;
				rc = 1;
				break;
			}
			p->active = 1;
		}
		if (curl_multi_perform(m, &running) != CURLM_OK) {
			*cc = CURLE_OUT_OF_MEMORY;
			rc = 1;
			break;
		}
		while (rc == 0 && (msg = curl_multi_info_read(m, &queued))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			if (msg->easy_handle == e) {
				*cc = msg->data.result;
				rc = 1;
			} else if (msg->easy_handle == p->e) {
				CURLcode pcc = msg->data.result;

				curl_multi_remove_handle(m, p->e);
				p->active = 0;
				p->next_ms = spa_etcd_now_ms() + every;
				if (probe_done(p, pcc, h->conf->url[i]) < 0)
					rc = -2;
			}
		}
		if (rc)
			break;
		if (!running) {         /* the stream ended without a word */
			*cc = CURLE_RECV_ERROR;
			rc = 1;
			break;
		}
		if (p->e && !p->active) {
			int64_t left = p->next_ms - spa_etcd_now_ms();

			wait_ms = left < 0 ? 0 : left < wait_ms ? (int)left : wait_ms;
		}
		/* curl shortens the wait to its own timers (the probe's timeout) */
		if (curl_multi_poll(m, NULL, 0, wait_ms, NULL) != CURLM_OK) {
			*cc = CURLE_OUT_OF_MEMORY;
			rc = 1;
			break;
		}
	}
	if (p->active) {
		curl_multi_remove_handle(m, p->e);
		p->active = 0;
	}
	pthread_mutex_lock(&h->watch_lock);
	h->watch_multi = NULL;
	pthread_mutex_unlock(&h->watch_lock);
	return rc;
}

/* The probe's handle: a range on the stream's member, within ETCD_TIMEOUT. */
static int probe_setup(struct spa_etcd_http *h, struct probe *p, size_t i, const char *req)
{
	char url[SPA_ETCD_URL_MAX + 32];

	p->b.max = 64 * 1024;
	p->e = handle_new(h);
	if (!p->e)
		return -ENOMEM;
	snprintf(url, sizeof(url), "%s/v3/kv/range", h->conf->url[i]);
	if (curl_easy_setopt(p->e, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(p->e, CURLOPT_POSTFIELDS, req) != CURLE_OK ||
	    curl_easy_setopt(p->e, CURLOPT_POSTFIELDSIZE, (long)strlen(req)) != CURLE_OK ||
	    curl_easy_setopt(p->e, CURLOPT_WRITEFUNCTION, body_write) != CURLE_OK ||
	    curl_easy_setopt(p->e, CURLOPT_WRITEDATA, &p->b) != CURLE_OK ||
	    curl_easy_setopt(p->e, CURLOPT_TIMEOUT_MS, (long)h->conf->timeout_ms) != CURLE_OK)
		return -ENOMEM;
	return 0;
}

int spa_etcd_http_stream(struct spa_etcd_http *h, const char *path, const char *req,
			 const char *probe, size_t max_line, spa_etcd_line_fn on_line,
			 void *ctx, const atomic_int *stop)
{
	const struct spa_etcd_conf *c = h->conf;
	size_t i = atomic_load(&h->current) % c->n_url;
	struct stream s = { .max = max_line, .on_line = on_line, .ctx = ctx };
	struct probe p = { .e = NULL };
	char url[SPA_ETCD_URL_MAX + 32];
	CURLcode cc = CURLE_OK;
	CURLM *m = NULL;
	long status = 0;
	CURL *e;
	int rc, how;

	e = handle_new(h);
	m = curl_multi_init();
	if (!e || !m || (probe && probe_setup(h, &p, i, probe) < 0)) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(url, sizeof(url), "%s%s", c->url[i], path);
	if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDS, req) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(req)) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, stream_write) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, &s) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->watch_headers) != CURLE_OK ||
	    curl_multi_add_handle(m, e) != CURLM_OK) {
		rc = -ENOMEM;
		goto out;
	}
	how = stream_run(h, m, e, i, &p, stop, &cc);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(m, e);
	/* the last line may lack its newline (an error answer) */
	if (how == 1 && cc == CURLE_OK && !s.rc && s.len && !atomic_load(stop))
		s.rc = on_line(ctx, s.buf, s.len);
	if (how == 0 || atomic_load(stop))
		rc = 0;
	else if (s.rc)
		rc = s.rc;
	else if (how == -1) {
		h->host->log(h->host->self, SPA_LOG_WARNING, "%s: watch: this member failed "
			     "other requests since the watch began; watching from another", url);
		rc = SPA_ERR_TRANSIENT;
	} else if (how == -2) {
		/* a member the probe found hung is one the claims should skip too */
		atomic_store(&h->failed_ms[i], spa_etcd_now_ms());
		h->host->log(h->host->self, SPA_LOG_WARNING, "watch: its member did not answer "
			     "a read within %u ms (%s); watching from another", c->timeout_ms,
			     p.why);
		rc = SPA_ERR_TRANSIENT;
	} else if (s.too_long) {
		h->host->log(h->host->self, SPA_LOG_ERR, "%s: a watch answer longer than %zu "
			     "bytes", url, max_line);
		rc = -EMSGSIZE;
	} else if (cc != CURLE_OK) {
		h->host->log(h->host->self, SPA_LOG_WARNING, "%s: watch: %s", url,
			     curl_easy_strerror(cc));
		rc = SPA_ERR_TRANSIENT;
	} else {
		h->host->log(h->host->self, SPA_LOG_WARNING, "%s: watch: the stream ended "
			     "(HTTP %ld)", url, status);
		rc = SPA_ERR_TRANSIENT;
	}
	/* a broken stream may be this member's fault: the next watch starts
	 * at the next one */
	if (rc < 0)
		atomic_compare_exchange_strong(&h->current, &(unsigned){ (unsigned)i },
					       (unsigned)((i + 1) % c->n_url));
out:
	if (m)
		curl_multi_cleanup(m);
	if (e)
		curl_easy_cleanup(e);
	if (p.e)
		curl_easy_cleanup(p.e);
	free(p.b.data);
	free(s.buf);
	return rc;
}
