/* SPDX-License-Identifier: MIT */
/*
 * spa_etcd_plugin.c - "etcd", a state-store module (spa/store.h): the
 * replay claims and cluster grants of spad's nodes in an etcd v3 cluster,
 * over the JSON gateway with TLS client certificates. README.md in this
 * directory describes the keys, the lease scheme and what happens when
 * etcd cannot answer.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spa_etcd.h"

#define LEASE_SLOTS      8
#define RESP_MAX         (64 * 1024)         /* an answer to one key's op */
#define LIST_MAX         (64 * 1024 * 1024)  /* a whole listing */
#define WATCH_LINE_MAX   (16 * 1024 * 1024)  /* one answer of the watch stream */

/* The shared lease of one ttl (README.md, "Leases"). */
struct lease_slot {
	uint32_t ttl;            /* 0: free */
	int64_t id;              /* 0: none yet */
	int64_t granted_ms;
	int64_t used_ms;
	int granting;
};

struct etcd_state {
	const struct spa_host_api *host;
	struct spa_etcd_conf conf;
	struct spa_etcd_http *http;
	pthread_mutex_t lease_lock;
	pthread_cond_t lease_done;
	struct lease_slot lease[LEASE_SLOTS];
	unsigned long grant_failures;
	atomic_int stop;
	struct spa_etcd_ratelog bad;  /* malformed answers */
};

static int load_conf(const struct spa_host_api *h, void *vst)
{
	struct etcd_state *st = vst;
	struct spa_etcd_conf *c = &st->conf;
	const char *v, *p;
	char why[200];
	unsigned long t;
	char *end;

	v = h->config_get(h->self, "ETCD_ENDPOINTS");
	if (!v || !*v) {
		h->log(h->self, SPA_LOG_ERR, "ETCD_ENDPOINTS: not set (a comma list of "
		       "https://host:port)");
		return -EINVAL;
	}
	if (spa_etcd_endpoints_parse(v, c, why, sizeof(why)) < 0) {
		h->log(h->self, SPA_LOG_ERR, "ETCD_ENDPOINTS '%s': %s", v, why);
		return -EINVAL;
	}
	c->ca_file = h->config_get(h->self, "ETCD_CA_FILE");
	c->cert_file = h->config_get(h->self, "ETCD_CERT_FILE");
	c->key_file = h->config_get(h->self, "ETCD_KEY_FILE");
	if (c->ca_file && !*c->ca_file)
		c->ca_file = NULL;
	if (c->cert_file && !*c->cert_file)
		c->cert_file = NULL;
	if (c->key_file && !*c->key_file)
		c->key_file = NULL;
	if (!c->cert_file != !c->key_file) {
		h->log(h->self, SPA_LOG_ERR, "%s '%s' is set without %s: a client certificate "
		       "and its key go together", c->cert_file ? "ETCD_CERT_FILE" :
		       "ETCD_KEY_FILE", c->cert_file ? c->cert_file : c->key_file,
		       c->cert_file ? "ETCD_KEY_FILE" : "ETCD_CERT_FILE");
		return -EINVAL;
	}
	v = h->config_get(h->self, "ETCD_PREFIX");
	if (!v || !*v)
		v = "/spa/";
	for (p = v; *p > ' ' && *p <= '~'; p++)
		;
	if (v[0] != '/' || *p || strlen(v) > SPA_ETCD_PREFIX_MAX) {
		h->log(h->self, SPA_LOG_ERR, "ETCD_PREFIX '%s': must start with '/', be printable "
		       "without spaces and at most %d bytes", v, SPA_ETCD_PREFIX_MAX);
		return -EINVAL;
	}
	snprintf(c->prefix, sizeof(c->prefix), "%s", v);
	v = h->config_get(h->self, "ETCD_TIMEOUT");
	if (!v || !*v)
		v = "2000";
	errno = 0;
	t = strtoul(v, &end, 10);
	if (errno || *end || v[0] < '0' || v[0] > '9' || t < SPA_ETCD_TIMEOUT_MIN ||
	    t > SPA_ETCD_TIMEOUT_MAX) {
		h->log(h->self, SPA_LOG_ERR, "ETCD_TIMEOUT '%s': milliseconds between %u and %u",
		       v, SPA_ETCD_TIMEOUT_MIN, SPA_ETCD_TIMEOUT_MAX);
		return -EINVAL;
	}
	c->timeout_ms = (uint32_t)t;
	return 0;
}

/* A store needs only log and config_get of the host (not run: the
 * helpers of spa_pu.h ask for it), so a small driver can load it. */
static int host_ok(const struct spa_host_api *h)
{
	return h && h->struct_size >= offsetof(struct spa_host_api, config_get) +
		    sizeof(h->config_get) && h->log && h->config_get;
}

static int etcd_check(const struct spa_host_api *host, const struct spa_grant *probe)
{
	struct etcd_state *st;
	int rc;

	if (!host_ok(host))
		return -EINVAL;
	if (probe)              /* no stanza keys */
		return 0;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	rc = load_conf(host, st);
	free(st);
	return rc;
}

static void etcd_fini(void *state)
{
	struct etcd_state *st = state;

	if (!st)
		return;
	spa_etcd_http_free(st->http);
	pthread_mutex_destroy(&st->lease_lock);
	pthread_cond_destroy(&st->lease_done);
	pthread_mutex_destroy(&st->bad.lock);
	free(st);
}

static int etcd_init(const struct spa_host_api *host, void **state)
{
	const char *files[3];
	struct etcd_state *st;
	int rc;

	if (!host_ok(host))
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->host = host;
	pthread_mutex_init(&st->lease_lock, NULL);
	pthread_cond_init(&st->lease_done, NULL);
	pthread_mutex_init(&st->bad.lock, NULL);
	rc = load_conf(host, st);
	files[0] = st->conf.ca_file;
	files[1] = st->conf.cert_file;
	files[2] = st->conf.key_file;
	/* said now, once, rather than by every request's TLS error */
	for (int i = 0; rc == 0 && i < 3; i++) {
		if (files[i] && access(files[i], R_OK) < 0) {
			rc = -errno;
			host->log(host->self, SPA_LOG_ERR, "%s '%s': %s", i == 0 ? "ETCD_CA_FILE" :
				  i == 1 ? "ETCD_CERT_FILE" : "ETCD_KEY_FILE", files[i],
				  strerror(errno));
		}
	}
	if (rc == 0)
		rc = spa_etcd_http_new(host, &st->conf, &st->http);
	if (rc < 0) {
		etcd_fini(st);
		return rc;
	}
	*state = st;
	return 0;
}

/* ETCD_PREFIX + key into out; -EINVAL for a key the contract refuses. */
static int full_key(const struct etcd_state *st, const char *key, int empty_ok, char *out,
		    size_t cap, size_t *len)
{
	size_t kl = key ? strlen(key) : 0;

	if (!key || (!(empty_ok && kl == 0) && !spa_etcd_key_ok(key, kl))) {
		st->host->log(st->host->self, SPA_LOG_ERR, "refused key '%.*s': keys are "
			      "printable ASCII without spaces, 1..%d bytes", key ? 64 : 6,
			      key ? key : "(null)", SPA_STORE_KEY_MAX);
		return -EINVAL;
	}
	*len = (size_t)snprintf(out, cap, "%s%s", st->conf.prefix, key);
	return *len < cap ? 0 : -EINVAL;
}

/* A POST whose answer parse checks; malformed answers logged. */
static int post(struct etcd_state *st, const char *path, char *req, int64_t deadline,
		size_t max, char **resp, size_t *len)
{
	int rc;

	if (!req)
		return -ENOMEM;
	rc = spa_etcd_http_post(st->http, path, req, deadline, max, resp, len);
	free(req);
	return rc;
}

static int malformed(struct etcd_state *st, const char *what, const char *why)
{
	spa_etcd_ratelog(&st->bad, st->host, SPA_LOG_ERR, "%s: a malformed answer from etcd: %s",
			 what, why);
	return -EBADMSG;
}

static int lease_grant(struct etcd_state *st, int64_t ttl, int64_t deadline, int64_t *id)
{
	char *resp = NULL, why[160];
	int64_t got_ttl;
	size_t len;
	int rc;

	rc = post(st, "/v3/lease/grant", spa_etcd_req_lease_grant(ttl), deadline, RESP_MAX,
		  &resp, &len);
	if (rc == 0 && spa_etcd_parse_lease(resp, len, id, &got_ttl, why, sizeof(why)) < 0)
		rc = malformed(st, "lease grant", why);
	free(resp);
	return rc;
}

static struct lease_slot *slot_of(struct etcd_state *st, uint32_t ttl, int64_t now)
{
	struct lease_slot *victim = NULL;

	for (int i = 0; i < LEASE_SLOTS; i++)
		if (st->lease[i].ttl == ttl)
			return &st->lease[i];
	for (int i = 0; i < LEASE_SLOTS; i++) {
		struct lease_slot *s = &st->lease[i];

		if (!s->granting && (!victim || s->used_ms < victim->used_ms))
			victim = s;
	}
	if (victim)
		*victim = (struct lease_slot){ .ttl = ttl, .used_ms = now };
	return victim;
}

/* The shared lease for claims of ttl_s seconds: TTL ttl + bucket, replaced
 * once older than bucket, so a key put under it lives at least ttl. One
 * thread grants while the others wait; if that grant fails, the waiters
 * fail too rather than each waiting for a timeout of its own. */
static int shared_lease(struct etcd_state *st, uint32_t ttl, int64_t deadline, int64_t *id)
{
	int64_t bucket_ms = (ttl / 8 > 1 ? ttl / 8 : 1) * 1000LL;
	int rc = SPA_ERR_TRANSIENT;

	pthread_mutex_lock(&st->lease_lock);
	for (;;) {
		int64_t now = spa_etcd_now_ms(), got = 0;
		struct lease_slot *s = slot_of(st, ttl, now);
		unsigned long failures = st->grant_failures;

		if (!s) {       /* every slot busy granting: a burst of odd ttls */
			pthread_cond_wait(&st->lease_done, &st->lease_lock);
			continue;
		}
		s->used_ms = now;
		if (s->id && now - s->granted_ms < bucket_ms) {
			*id = s->id;
			rc = 0;
			break;
		}
		if (s->granting) {
			pthread_cond_wait(&st->lease_done, &st->lease_lock);
			if (st->grant_failures != failures)
				break;
			continue;
		}
		s->granting = 1;
		pthread_mutex_unlock(&st->lease_lock);
		rc = lease_grant(st, (int64_t)ttl + bucket_ms / 1000, deadline, &got);
		pthread_mutex_lock(&st->lease_lock);
		s->granting = 0;
		if (rc == 0) {
			s->id = got;
			s->granted_ms = now;
			*id = got;
		} else {
			st->grant_failures++;
		}
		pthread_cond_broadcast(&st->lease_done);
		break;
	}
	pthread_mutex_unlock(&st->lease_lock);
	/* a lease that cannot be had is etcd's state, not the key's */
	return rc == 0 ? 0 : rc == -ENOMEM ? rc : SPA_ERR_TRANSIENT;
}

/* A lease etcd no longer knows (revoked, or a cluster restored from a
 * snapshot): forgotten, so the next claim grants a new one. */
static void lease_forget(struct etcd_state *st, uint32_t ttl, int64_t id)
{
	pthread_mutex_lock(&st->lease_lock);
	for (int i = 0; i < LEASE_SLOTS; i++)
		if (st->lease[i].ttl == ttl && st->lease[i].id == id)
			st->lease[i].id = 0;
	pthread_mutex_unlock(&st->lease_lock);
}

static int etcd_claim(void *state, const char *key, uint32_t ttl_s)
{
	struct etcd_state *st = state;
	char full[SPA_ETCD_FULLKEY_MAX + 1], *resp = NULL, why[160];
	int rc, succeeded = 0;
	int64_t lease = 0, deadline = spa_etcd_http_deadline(st->http);
	size_t len, rlen;

	rc = full_key(st, key, 0, full, sizeof(full), &len);
	if (ttl_s == 0)
		ttl_s = 1;
	for (int attempt = 0; rc == 0 && attempt < 2; attempt++) {
		rc = shared_lease(st, ttl_s, deadline, &lease);
		if (rc < 0)
			break;
		rc = post(st, "/v3/kv/txn", spa_etcd_req_claim(full, len, lease), deadline,
			  RESP_MAX, &resp, &rlen);
		if (rc != -ENOENT)
			break;
		lease_forget(st, ttl_s, lease);
		if (attempt == 0)
			rc = 0;         /* once more, under a new lease */
	}
	if (rc == -ENOENT)
		rc = SPA_ERR_TRANSIENT;
	if (rc == 0 && spa_etcd_parse_txn(resp, rlen, &succeeded, why, sizeof(why)) < 0)
		rc = malformed(st, "claim", why);
	free(resp);
	if (rc < 0)
		return rc;
	return succeeded ? SPA_STORE_NEW : SPA_STORE_SEEN;
}

static int etcd_put(void *state, const char *key, const char *value, uint32_t ttl_s)
{
	struct etcd_state *st = state;
	char full[SPA_ETCD_FULLKEY_MAX + 1], *resp = NULL, why[160];
	size_t len, vlen = value ? strlen(value) : 0, rlen;
	int64_t lease = 0, deadline = spa_etcd_http_deadline(st->http);
	int rc;

	rc = full_key(st, key, 0, full, sizeof(full), &len);
	if (rc < 0)
		return rc;
	if (!value || vlen > SPA_STORE_VALUE_MAX) {
		st->host->log(st->host->self, SPA_LOG_ERR, "put %s: %s", key,
			      value ? "a value longer than SPA_STORE_VALUE_MAX" : "no value");
		return -EINVAL;
	}
	rc = lease_grant(st, ttl_s ? ttl_s : 1, deadline, &lease);
	if (rc == 0)
		rc = post(st, "/v3/kv/put", spa_etcd_req_put(full, len, value, vlen, lease),
			  deadline, RESP_MAX, &resp, &rlen);
	if (rc == -ENOENT)     /* the lease expired between grant and put */
		rc = SPA_ERR_TRANSIENT;
	if (rc == 0 && spa_etcd_parse_ok(resp, rlen, why, sizeof(why)) < 0)
		rc = malformed(st, "put", why);
	free(resp);
	return rc;
}

static int etcd_del(void *state, const char *key)
{
	struct etcd_state *st = state;
	char full[SPA_ETCD_FULLKEY_MAX + 1], *resp = NULL, why[160];
	size_t len, rlen;
	int rc;

	rc = full_key(st, key, 0, full, sizeof(full), &len);
	if (rc == 0)
		rc = post(st, "/v3/kv/deleterange", spa_etcd_req_delete(full, len),
			  spa_etcd_http_deadline(st->http), RESP_MAX, &resp, &rlen);
	if (rc == 0 && spa_etcd_parse_ok(resp, rlen, why, sizeof(why)) < 0)
		rc = malformed(st, "del", why);
	free(resp);
	return rc;
}

struct watch_ctx {
	struct etcd_state *st;
	struct spa_etcd_sink sink;
	int created;
	char why[200];
};

static int watch_line(void *u, const char *line, size_t len)
{
	struct watch_ctx *w = u;
	int rc = spa_etcd_parse_watch_line(line, len, &w->sink, &w->created, w->why,
					   sizeof(w->why));

	if (rc == -ECANCELED) {
		w->st->host->log(w->st->host->self, SPA_LOG_NOTICE, "%s", w->why);
		return SPA_ERR_TRANSIENT;
	}
	if (rc == -ECONNRESET) {
		w->st->host->log(w->st->host->self, SPA_LOG_WARNING, "watch: the stream broke: %s",
				 w->why);
		return SPA_ERR_TRANSIENT;
	}
	if (rc < 0)
		return malformed(w->st, "watch", w->why);
	return 0;
}

static void log_skipped(struct etcd_state *st, struct spa_etcd_sink *s, unsigned long *said)
{
	if (s->skipped == *said)
		return;
	st->host->log(st->host->self, SPA_LOG_WARNING, "watch: %lu keys skipped (last: %s)",
		      s->skipped - *said, s->last_skip);
	*said = s->skipped;
}

static int etcd_watch(void *state, const char *prefix, spa_store_watch_cb cb, void *ctx)
{
	struct etcd_state *st = state;
	char full[SPA_ETCD_FULLKEY_MAX + 1], end[SPA_ETCD_FULLKEY_MAX + 1], *resp = NULL;
	struct watch_ctx w = { .st = state };
	size_t len, elen, rlen;
	unsigned long said = 0;
	int64_t rev = 0;
	int rc;

	if (atomic_load(&st->stop))
		return 0;
	rc = full_key(st, prefix, 1, full, sizeof(full), &len);
	if (rc == 0)
		rc = spa_etcd_range_end(full, len, end, sizeof(end), &elen);
	if (rc < 0)
		return rc;
	w.sink = (struct spa_etcd_sink){ .strip = st->conf.prefix,
					 .strip_len = strlen(st->conf.prefix),
					 .cb = cb, .ctx = ctx };
	rc = post(st, "/v3/kv/range", spa_etcd_req_range(full, len, end, elen),
		  spa_etcd_http_deadline(st->http), LIST_MAX, &resp, &rlen);
	if (rc == 0 && spa_etcd_parse_range(resp, rlen, &w.sink, &rev, w.why, sizeof(w.why)) < 0)
		rc = malformed(st, "watch listing", w.why);
	free(resp);
	if (rc < 0)
		return atomic_load(&st->stop) ? 0 : rc;
	log_skipped(st, &w.sink, &said);
	cb(ctx, SPA_STORE_EV_SYNCED, NULL, NULL);
	{
		char *req = spa_etcd_req_watch(full, len, end, elen, rev + 1);
		char *probe = spa_etcd_req_probe(full, len);

		if (!req || !probe) {
			free(req);
			free(probe);
			return -ENOMEM;
		}
		rc = spa_etcd_http_stream(st->http, "/v3/watch", req, probe, WATCH_LINE_MAX,
					  watch_line, &w, &st->stop);
		free(req);
		free(probe);
	}
	log_skipped(st, &w.sink, &said);
	return atomic_load(&st->stop) ? 0 : rc;
}

static void etcd_watch_stop(void *state)
{
	struct etcd_state *st = state;

	atomic_store(&st->stop, 1);
	spa_etcd_http_wake(st->http);
}

static const struct spa_store_ops etcd_store_ops = {
	.struct_size = sizeof(struct spa_store_ops),
	.claim = etcd_claim,
	.put = etcd_put,
	.del = etcd_del,
	.watch = etcd_watch,
	.watch_stop = etcd_watch_stop,
};

static const struct spa_plugin_key etcd_keys[] = {
	{ "ETCD_ENDPOINTS", SPA_KEY_STRING, SPA_KEY_REQUIRED, NULL, NULL,
	  "comma list of https://host:port of the etcd members (at most 8)" },
	{ "ETCD_CA_FILE", SPA_KEY_PATH, 0, NULL, NULL,
	  "CA certificate(s) etcd's server certificates are checked against" },
	{ "ETCD_CERT_FILE", SPA_KEY_PATH, 0, NULL, NULL,
	  "client certificate (PEM) presented to etcd; needs ETCD_KEY_FILE" },
	{ "ETCD_KEY_FILE", SPA_KEY_PATH, 0, NULL, NULL,
	  "private key (PEM) of ETCD_CERT_FILE" },
	{ "ETCD_PREFIX", SPA_KEY_STRING, 0, "/spa/", NULL,
	  "where spad's keys live in etcd; starts with /" },
	{ "ETCD_TIMEOUT", SPA_KEY_UINT, 0, "2000", NULL,
	  "per-request timeout in milliseconds (100..60000)" },
};

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.name = "etcd",
	.version = "1.0",
	.capabilities = SPA_PLUGIN_CAP_STORE,
	.key_prefix = "ETCD_",
	.ops = {
		.init = etcd_init,
		.fini = etcd_fini,
		.check = etcd_check,
	},
	.keys = etcd_keys,
	.n_keys = sizeof(etcd_keys) / sizeof(etcd_keys[0]),
	.store = &etcd_store_ops,
};
