/* SPDX-License-Identifier: MIT */
/*
 * spa_etcd_json.c - what the etcd module says to and reads from etcd
 * v3's JSON gateway (README.md, "Transport"): keys and values travel as
 * padded base64, int64 fields as JSON strings, and fields holding their
 * default value are left out of answers. Nothing here trusts an answer:
 * every field read is checked for type, encoding and size.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "spa_etcd.h"

/* ---- endpoints ---------------------------------------------------------- */

static int host_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
}

static int v6_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F') ||
	       (ch >= '0' && ch <= '9') || ch == ':' || ch == '.';
}

/* One endpoint, s[0..len), into out. */
static int endpoint_one(const char *s, size_t len, char *out, size_t cap,
			char *why, size_t why_len)
{
	static const char scheme[] = "https://";
	const char *p = s + sizeof(scheme) - 1, *end = s + len, *host, *port = NULL;
	size_t host_len, port_len = 0;
	unsigned long pn = 0;

	if (len < sizeof(scheme) - 1 || strncmp(s, scheme, sizeof(scheme) - 1) != 0) {
		snprintf(why, why_len, "'%.*s' is not an https:// URL (etcd is reached "
			 "over TLS only)", (int)(len > 80 ? 80 : len), s);
		return -EINVAL;
	}
	if (end > p && end[-1] == '/')
		end--;
	host = p;
	if (p < end && *p == '[') {
		host = ++p;
		while (p < end && v6_char_ok(*p))
			p++;
		if (p >= end || *p != ']' || p == host)
			goto bad;
		host_len = (size_t)(p - host);
		p++;
	} else {
		while (p < end && host_char_ok(*p))
			p++;
		host_len = (size_t)(p - host);
		if (host_len == 0)
			goto bad;
	}
	if (p < end && *p == ':') {
		port = ++p;
		while (p < end && *p >= '0' && *p <= '9' && port_len < 6) {
			pn = pn * 10 + (unsigned long)(*p - '0');
			p++;
			port_len++;
		}
		if (port_len == 0 || pn == 0 || pn > 65535)
			goto bad;
	}
	if (p != end)
		goto bad;
	if (host[-1] == '[')
		snprintf(out, cap, "https://[%.*s]:%lu", (int)host_len, host, port ? pn : 2379ul);
	else
		snprintf(out, cap, "https://%.*s:%lu", (int)host_len, host, port ? pn : 2379ul);
	return 0;
bad:
	snprintf(why, why_len, "'%.*s' is not https://host:port (an IPv6 address in "
		 "brackets, no path)", (int)(len > 80 ? 80 : len), s);
	return -EINVAL;
}

int spa_etcd_endpoints_parse(const char *list, struct spa_etcd_conf *c,
			     char *why, size_t why_len)
{
	const char *p = list;

	c->n_url = 0;
	if (!list || !*list) {
		snprintf(why, why_len, "no endpoint");
		return -EINVAL;
	}
	for (;;) {
		const char *e;
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		e = p;
		while (*e && *e != ',')
			e++;
		len = (size_t)(e - p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0) {
			snprintf(why, why_len, "an empty endpoint in the list");
			return -EINVAL;
		}
		if (c->n_url == SPA_ETCD_ENDPOINTS_MAX) {
			snprintf(why, why_len, "more than %d endpoints", SPA_ETCD_ENDPOINTS_MAX);
			return -EINVAL;
		}
		if (endpoint_one(p, len, c->url[c->n_url], sizeof(c->url[0]), why, why_len) < 0)
			return -EINVAL;
		c->n_url++;
		if (!*e)
			return 0;
		p = e + 1;
	}
}

/* ---- base64 ------------------------------------------------------------- */

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int spa_etcd_b64_encode(const void *in, size_t len, char *out, size_t cap)
{
	const unsigned char *s = in;
	size_t o = 0;

	if (cap == 0 || (len + 2) / 3 > (cap - 1) / 4)
		return -ENOSPC;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)s[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < len)
			v |= s[i + 2];
		out[o++] = b64_alpha[(v >> 18) & 63];
		out[o++] = b64_alpha[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_alpha[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64_alpha[v & 63] : '=';
	}
	out[o] = '\0';
	return 0;
}

static int b64_val(char ch)
{
	const char *p = ch ? strchr(b64_alpha, ch) : NULL;

	return p ? (int)(p - b64_alpha) : -1;
}

int spa_etcd_b64_decode(const char *in, size_t in_len, char *out, size_t cap,
			size_t *out_len)
{
	size_t o = 0;

	*out_len = 0;
	if (in_len % 4)
		return -EBADMSG;
	for (size_t i = 0; i < in_len; i += 4) {
		int last = i + 4 == in_len;
		int pad = (last && in[i + 3] == '=') + (last && in[i + 2] == '=');
		int v[4];
		unsigned w;

		for (int k = 0; k < 4; k++) {
			v[k] = k >= 4 - pad ? 0 : b64_val(in[i + (size_t)k]);
			if (v[k] < 0)
				return -EBADMSG;
		}
		if (pad == 1 && in[i + 2] == '=')
			return -EBADMSG;
		w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 |
		    (unsigned)v[3];
		/* canonical: the bits padding drops must be zero */
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			return -EBADMSG;
		if (o + 3 - (size_t)pad >= cap)
			return -ENOSPC;
		out[o++] = (char)(w >> 16);
		if (pad < 2)
			out[o++] = (char)(w >> 8);
		if (pad < 1)
			out[o++] = (char)w;
	}
	if (o >= cap)
		return -ENOSPC;
	out[o] = '\0';
	*out_len = o;
	return 0;
}

int spa_etcd_range_end(const char *prefix, size_t len, char *out, size_t cap,
		       size_t *out_len)
{
	if (len == 0)
		return -EINVAL;
	if (len > cap)
		return -ENOSPC;
	memcpy(out, prefix, len);
	while (len > 0) {
		unsigned char c = (unsigned char)out[len - 1];

		if (c < 0xff) {
			out[len - 1] = (char)(c + 1);
			*out_len = len;
			return 0;
		}
		len--;
	}
	out[0] = '\0';
	*out_len = 1;
	return 0;
}

int spa_etcd_key_ok(const char *key, size_t len)
{
	if (len == 0 || len > SPA_STORE_KEY_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (key[i] <= ' ' || key[i] > '~')
			return 0;
	return 1;
}

/* ---- requests ------------------------------------------------------------ */

/* A base64 JSON string of len bytes, or NULL. */
static json_t *b64_str(const char *s, size_t len)
{
	size_t cap = (len + 2) / 3 * 4 + 1;
	char *buf = malloc(cap);
	json_t *j = NULL;

	if (buf && spa_etcd_b64_encode(s, len, buf, cap) == 0)
		j = json_string(buf);
	free(buf);
	return j;
}

static json_t *int64_str(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return json_string(buf);
}

/* Dumps and frees root; NULL when any part failed (jansson's "new"
 * setters take NULL values as failures, so one check suffices). */
static char *dump(json_t *root, int ok)
{
	char *s = NULL;

	if (root && ok)
		s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return s;
}

char *spa_etcd_req_range(const char *key, size_t klen, const char *end, size_t elen)
{
	json_t *r = json_object();
	int ok = r && !json_object_set_new(r, "key", b64_str(key, klen)) &&
		 !json_object_set_new(r, "range_end", b64_str(end, elen));

	return dump(r, ok);
}

char *spa_etcd_req_probe(const char *key, size_t klen)
{
	json_t *r = json_object();
	/* no "serializable": a linearizable read needs the member's leader
	 * to confirm it, so a member cut off from its quorum fails it too */
	int ok = r && !json_object_set_new(r, "key", b64_str(key, klen)) &&
		 !json_object_set_new(r, "limit", json_string("1")) &&
		 !json_object_set_new(r, "count_only", json_true());

	return dump(r, ok);
}

char *spa_etcd_req_delete(const char *key, size_t klen)
{
	json_t *r = json_object();
	int ok = r && !json_object_set_new(r, "key", b64_str(key, klen));

	return dump(r, ok);
}

char *spa_etcd_req_lease_grant(int64_t ttl_s)
{
	json_t *r = json_object();
	int ok = r && !json_object_set_new(r, "TTL", int64_str(ttl_s));

	return dump(r, ok);
}

static json_t *put_obj(const char *key, size_t klen, const char *value, size_t vlen,
		       int64_t lease)
{
	json_t *p = json_object();

	if (p && !json_object_set_new(p, "key", b64_str(key, klen)) &&
	    !json_object_set_new(p, "value", b64_str(value, vlen)) &&
	    !json_object_set_new(p, "lease", int64_str(lease)))
		return p;
	json_decref(p);
	return NULL;
}

char *spa_etcd_req_put(const char *key, size_t klen, const char *value, size_t vlen,
		       int64_t lease)
{
	return dump(put_obj(key, klen, value, vlen, lease), 1);
}

char *spa_etcd_req_claim(const char *key, size_t klen, int64_t lease)
{
	json_t *r = json_object(), *cmp = json_object(), *op = json_object();
	int ok = r && cmp && op &&
		 /* result EQUAL is the default (0): the gateway reads it absent */
		 !json_object_set_new(cmp, "target", json_string("CREATE")) &&
		 !json_object_set_new(cmp, "key", b64_str(key, klen)) &&
		 !json_object_set_new(cmp, "create_revision", json_string("0")) &&
		 !json_object_set_new(op, "request_put", put_obj(key, klen, "1", 1, lease)) &&
		 !json_object_set_new(r, "compare", json_pack("[O]", cmp)) &&
		 !json_object_set_new(r, "success", json_pack("[O]", op));

	json_decref(cmp);
	json_decref(op);
	return dump(r, ok);
}

char *spa_etcd_req_watch(const char *key, size_t klen, const char *end, size_t elen,
			 int64_t start_rev)
{
	json_t *r = json_object(), *c = json_object();
	int ok = r && c && !json_object_set_new(c, "key", b64_str(key, klen)) &&
		 !json_object_set_new(c, "range_end", b64_str(end, elen)) &&
		 !json_object_set_new(c, "start_revision", int64_str(start_rev)) &&
		 !json_object_set_new(c, "progress_notify", json_true()) &&
		 !json_object_set(r, "create_request", c);

	json_decref(c);
	return dump(r, ok);
}

/* ---- responses ----------------------------------------------------------- */

/* An int64 field: a JSON string of decimal digits (or a plain integer);
 * absent means 0 (the default). -1 when malformed or negative. */
static int get_int64(const json_t *obj, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(obj, name);
	const char *s;
	int64_t n = 0;

	*out = 0;
	if (!v)
		return 0;
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return -1;
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	if (!*s || strlen(s) > 19)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		n = n * 10 + (*s - '0');
	}
	*out = n;
	return 0;
}

/* A bool field, absent meaning false. */
static int get_bool(const json_t *obj, const char *name, int *out)
{
	const json_t *v = json_object_get(obj, name);

	*out = 0;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return -1;
	*out = json_is_true(v);
	return 0;
}

static json_t *load(const char *body, size_t len, char *why, size_t why_len)
{
	json_error_t err;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);

	if (!j) {
		snprintf(why, why_len, "not JSON: %s", err.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		snprintf(why, why_len, "not a JSON object");
		json_decref(j);
		return NULL;
	}
	return j;
}

int spa_etcd_parse_error(const char *body, size_t len, int *code, char *msg,
			 size_t msg_len)
{
	json_t *j = json_loadb(body, len, 0, NULL), *e, *c, *m;
	int rc = 0;

	*code = -1;
	if (msg_len)
		msg[0] = '\0';
	if (!json_is_object(j) || !(e = json_object_get(j, "error")))
		goto out;
	rc = 1;
	/* unary answers: {"error": text, "message": text, "code": n};
	 * the watch stream: {"error": {"grpc_code": n, "message": text, ...}} */
	if (json_is_object(e)) {
		c = json_object_get(e, "grpc_code");
		m = json_object_get(e, "message");
	} else {
		c = json_object_get(j, "code");
		m = json_object_get(j, "message");
		if (!json_is_string(m))
			m = e;
	}
	if (json_is_integer(c) && json_integer_value(c) >= 0 && json_integer_value(c) < 100)
		*code = (int)json_integer_value(c);
	snprintf(msg, msg_len, "%s", json_is_string(m) ? json_string_value(m) : "(no message)");
	/* the message is the server's: keep only printable characters */
	for (char *p = msg; *p; p++)
		if (*p < ' ' || *p > '~')
			*p = '?';
out:
	json_decref(j);
	return rc;
}

int spa_etcd_error_failover(int code, const char *msg)
{
	return code == SPA_ETCD_GRPC_UNAVAILABLE || code == SPA_ETCD_GRPC_DEADLINE ||
	       strstr(msg, "request timed out") || strstr(msg, "leader") ||
	       strstr(msg, "no leader");
}

static int header_revision(const json_t *j, int64_t *rev, char *why, size_t why_len)
{
	const json_t *h = json_object_get(j, "header");

	if (!json_is_object(h) || get_int64(h, "revision", rev) < 0 || *rev <= 0) {
		snprintf(why, why_len, "no header revision");
		return -EBADMSG;
	}
	return 0;
}

int spa_etcd_parse_ok(const char *body, size_t len, char *why, size_t why_len)
{
	json_t *j = load(body, len, why, why_len);
	int64_t rev;
	int rc = -EBADMSG;

	if (j)
		rc = header_revision(j, &rev, why, why_len);
	json_decref(j);
	return rc;
}

int spa_etcd_parse_txn(const char *body, size_t len, int *succeeded,
		       char *why, size_t why_len)
{
	json_t *j = load(body, len, why, why_len);
	int64_t rev;
	int rc = -EBADMSG;

	*succeeded = 0;
	if (!j)
		return rc;
	rc = header_revision(j, &rev, why, why_len);
	if (rc == 0 && get_bool(j, "succeeded", succeeded) < 0) {
		snprintf(why, why_len, "\"succeeded\" is not a boolean");
		rc = -EBADMSG;
	}
	json_decref(j);
	return rc;
}

int spa_etcd_parse_lease(const char *body, size_t len, int64_t *id, int64_t *ttl,
			 char *why, size_t why_len)
{
	json_t *j = load(body, len, why, why_len);
	int rc = -EBADMSG;

	*id = *ttl = 0;
	if (!j)
		return rc;
	if (get_int64(j, "ID", id) < 0 || *id <= 0)
		snprintf(why, why_len, "no lease ID");
	else if (get_int64(j, "TTL", ttl) < 0 || *ttl <= 0)
		snprintf(why, why_len, "no lease TTL");
	else
		rc = 0;
	json_decref(j);
	return rc;
}

/* A base64 field of kv into out: 0, 1 when absent, -ENOSPC when longer
 * than out, -EBADMSG when malformed. */
static int get_b64(const json_t *kv, const char *name, char *out, size_t cap, size_t *len)
{
	const json_t *v = json_object_get(kv, name);

	*len = 0;
	out[0] = '\0';
	if (!v)
		return 1;
	if (!json_is_string(v))
		return -EBADMSG;
	return spa_etcd_b64_decode(json_string_value(v), json_string_length(v), out, cap, len);
}

static void skip(struct spa_etcd_sink *s, const char *why)
{
	s->skipped++;
	snprintf(s->last_skip, sizeof(s->last_skip), "%s", why);
}

/* One kv of an answer: reported as event, or skipped (0), or -EBADMSG.
 * Keys and values beyond the contract's sizes are someone else's: skipped,
 * not an error, so one stray key cannot stop every watch. */
static int sink_kv(struct spa_etcd_sink *s, const json_t *kv, int event,
		   char *why, size_t why_len)
{
	char key[SPA_ETCD_FULLKEY_MAX + 1], val[SPA_STORE_VALUE_MAX + 1];
	size_t klen, vlen;
	int rk, rv = 0;

	if (!json_is_object(kv)) {
		snprintf(why, why_len, "an event without kv");
		return -EBADMSG;
	}
	rk = get_b64(kv, "key", key, sizeof(key), &klen);
	if (event == SPA_STORE_EV_PUT)
		rv = get_b64(kv, "value", val, sizeof(val), &vlen);
	if (rk == 1 || rk == -EBADMSG || rv == -EBADMSG) {
		snprintf(why, why_len, "a kv whose %s is %s", rk ? "key" : "value",
			 rk == 1 ? "absent" : "not base64");
		return -EBADMSG;
	}
	if (rk == -ENOSPC || klen <= s->strip_len || memcmp(key, s->strip, s->strip_len) != 0 ||
	    !spa_etcd_key_ok(key + s->strip_len, klen - s->strip_len)) {
		skip(s, "a key outside the prefix or not a store key");
		return 0;
	}
	if (event == SPA_STORE_EV_DEL) {
		s->cb(s->ctx, SPA_STORE_EV_DEL, key + s->strip_len, NULL);
		return 0;
	}
	if (rv == -ENOSPC) {
		skip(s, "a value longer than SPA_STORE_VALUE_MAX");
		return 0;
	}
	/* absent (rv 1) is the empty value: protobuf leaves defaults out */
	if (memchr(val, '\0', vlen)) {
		skip(s, "a value that is not text");
		return 0;
	}
	s->cb(s->ctx, SPA_STORE_EV_PUT, key + s->strip_len, val);
	return 0;
}

int spa_etcd_parse_range(const char *body, size_t len, struct spa_etcd_sink *s,
			 int64_t *revision, char *why, size_t why_len)
{
	json_t *j = load(body, len, why, why_len), *kvs;
	int rc = -EBADMSG;
	size_t i;

	*revision = 0;
	if (!j)
		return rc;
	rc = header_revision(j, revision, why, why_len);
	kvs = json_object_get(j, "kvs");
	if (rc == 0 && kvs && !json_is_array(kvs)) {
		snprintf(why, why_len, "\"kvs\" is not an array");
		rc = -EBADMSG;
	}
	if (rc == 0 && json_object_get(j, "more") && json_is_true(json_object_get(j, "more"))) {
		snprintf(why, why_len, "a partial listing (\"more\")");
		rc = -EBADMSG;
	}
	for (i = 0; rc == 0 && i < json_array_size(kvs); i++)
		rc = sink_kv(s, json_array_get(kvs, i), SPA_STORE_EV_PUT, why, why_len);
	json_decref(j);
	return rc;
}

int spa_etcd_parse_watch_line(const char *line, size_t len, struct spa_etcd_sink *s,
			      int *created, char *why, size_t why_len)
{
	json_t *j, *res, *evs, *ev;
	int rc = -EBADMSG, code, flag;
	int64_t compact;
	size_t i;

	/* the gateway's word for a broken stream (a member going away) */
	if (spa_etcd_parse_error(line, len, &code, why, why_len))
		return -ECONNRESET;
	j = load(line, len, why, why_len);
	if (!j)
		return rc;
	res = json_object_get(j, "result");
	if (!json_is_object(res)) {
		snprintf(why, why_len, "a watch answer without result");
		goto out;
	}
	if (get_bool(res, "created", &flag) < 0)
		goto malformed;
	if (flag)
		*created = 1;
	if (get_bool(res, "canceled", &flag) < 0 ||
	    get_int64(res, "compact_revision", &compact) < 0)
		goto malformed;
	if (flag) {
		const json_t *r = json_object_get(res, "cancel_reason");

		if (compact > 0)
			snprintf(why, why_len, "watch canceled: revisions up to %lld compacted",
				 (long long)compact);
		else
			snprintf(why, why_len, "watch canceled: %.80s",
				 json_is_string(r) ? json_string_value(r) : "(no reason)");
		rc = -ECANCELED;
		goto out;
	}
	evs = json_object_get(res, "events");
	if (evs && !json_is_array(evs))
		goto malformed;
	rc = 0;
	json_array_foreach(evs, i, ev) {
		const json_t *t = json_is_object(ev) ? json_object_get(ev, "type") : NULL;
		int event = SPA_STORE_EV_PUT;

		if (!json_is_object(ev) || (t && !json_is_string(t)))
			goto malformed;
		if (t && strcmp(json_string_value(t), "DELETE") == 0)
			event = SPA_STORE_EV_DEL;
		else if (t && strcmp(json_string_value(t), "PUT") != 0)
			goto malformed;
		rc = sink_kv(s, json_object_get(ev, "kv"), event, why, why_len);
		if (rc < 0)
			goto out;
	}
	goto out;
malformed:
	snprintf(why, why_len, "a malformed watch answer");
	rc = -EBADMSG;
out:
	json_decref(j);
	return rc;
}
