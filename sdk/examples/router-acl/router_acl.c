/* SPDX-License-Identifier: MIT */
/*
 * router-acl: an example spad plugin that opens grants in a router's
 * access list through the router's line-based management session (the
 * protocol is in README.md). What it shows:
 *  - open asks the router for an entry and keeps the sequence number the
 *    router answers as the grant's token (token_set); close deletes by that
 *    number (token_get), the one thing it could not derive from the grant;
 *  - list reports only the entries carrying our remark, so that the
 *    engine's reconciliation re-opens what the router lost and removes
 *    what no grant covers, never touching the admin's entries;
 *  - failures are classed with op_fail: a busy router, a timeout or a
 *    dropped session is worth a retry, a refused request is not.
 * Each op may take a few router round trips; the engine runs it on the
 * plugin's own thread, so nothing else waits for the router.
 */
#include "session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RACL_REMARK_MAX  32
#define RACL_ENTRIES_MAX 65536
#define RACL_SEQ_DIGITS  10

struct racl {
	const struct spa_host_api *host;
	struct session s;
	const char *remark;          /* config_get's: valid until fini */
};

struct config {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	const char *password;
	const char *remark;
	int timeout_ms;
};

/* One line of `show`: acl <seq> permit <proto> <src> <port> <remark> */
struct entry {
	unsigned seq;
	uint8_t proto;
	struct spa_grant_addr src;
	uint16_t port;
};

/* The schema (ABI 1.3): spad refuses unknown ROUTER_ACL_ keys, applies the
 * defaults and reads ROUTER_ACL_PASSWORD_FILE for the secret. */
static const struct spa_plugin_key racl_keys[] = {
	{ "ROUTER_ACL_HOST", SPA_KEY_STRING, SPA_KEY_REQUIRED, NULL, NULL,
	  "address (IPv4 or IPv6, not a name) of the router's management service" },
	{ "ROUTER_ACL_PORT", SPA_KEY_UINT, 0, "2601", NULL, "its TCP port" },
	{ "ROUTER_ACL_PASSWORD", SPA_KEY_STRING, SPA_KEY_REQUIRED | SPA_KEY_SECRET, NULL, NULL,
	  "login password (ROUTER_ACL_PASSWORD_FILE keeps it out of fwknopd.conf)" },
	{ "ROUTER_ACL_REMARK", SPA_KEY_STRING, 0, "spa", NULL,
	  "remark on the entries spad adds; entries without it are the admin's" },
	{ "ROUTER_ACL_TIMEOUT_MS", SPA_KEY_UINT, 0, "3000", NULL,
	  "longest wait for one answer of the router" },
};

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

/* Says whether a retry can help; an engine older than ABI 1.4 has no
 * op_fail and classes the error code itself. */
__attribute__((format(printf, 4, 5)))
static int fail(struct racl *st, const struct spa_grant *g, int kind, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (SPA_HOST_HAS(st->host, op_fail))
		return st->host->op_fail(st->host->self, g, kind, "%s", msg);
	st->host->log(st->host->self, SPA_LOG_ERR, "%s", msg);
	return kind == SPA_FAIL_TRANSIENT ? SPA_ERR_TRANSIENT : SPA_ERR_PERMANENT;
}

static int transport_fail(struct racl *st, const struct spa_grant *g, int rc)
{
	if (rc == -EACCES)
		return fail(st, g, SPA_FAIL_PERMANENT, "the router refused the password");
	return fail(st, g, SPA_FAIL_TRANSIENT, "router session: %s", strerror(-rc));
}

static int answer_fail(struct racl *st, const struct spa_grant *g, const char *cmd,
		       const char *reply)
{
	if (strcmp(reply, "err busy") == 0)
		return fail(st, g, SPA_FAIL_TRANSIENT, "%s: router busy", cmd);
	if (strncmp(reply, "err invalid", 11) == 0 || strncmp(reply, "err denied", 10) == 0)
		return fail(st, g, SPA_FAIL_PERMANENT, "%s: refused: %s", cmd, reply);
	return fail(st, g, SPA_FAIL_TRANSIENT, "%s: unexpected answer '%s'", cmd, reply);
}

/* A command whose answer is one line, "ok[ ...]" on success. */
static int call(struct racl *st, const struct spa_grant *g, const char *cmd, char *reply,
		size_t cap)
{
	int rc = session_cmd(&st->s, cmd, reply, cap);

	if (rc < 0)
		return transport_fail(st, g, rc);
	if (strncmp(reply, "ok", 2) == 0 && (reply[2] == '\0' || reply[2] == ' '))
		return 0;
	return answer_fail(st, g, cmd, reply);
}

static int del_entry(struct racl *st, const struct spa_grant *g, unsigned seq)
{
	char cmd[32], reply[128];

	snprintf(cmd, sizeof(cmd), "del %u", seq);
	return call(st, g, cmd, reply, sizeof(reply));
}

/* Fills e when line is an entry carrying our remark. */
static bool parse_ours(const struct racl *st, const char *line, struct entry *e)
{
	char proto[8], src[SPA_GRANT_ADDR_LEN], remark[RACL_REMARK_MAX + 1];
	unsigned port;
	int end = 0;

	if (sscanf(line, "acl %u permit %7s %45s %u %32s%n", &e->seq, proto, src, &port,
		   remark, &end) != 5 || line[end] != '\0' || strcmp(remark, st->remark) != 0 ||
	    port == 0 || port > 65535)
		return false;
	memset(&e->src, 0, sizeof(e->src));
	if (inet_pton(AF_INET, src, &e->src.bin) == 1)
		e->src.family = AF_INET;
	else if (inet_pton(AF_INET6, src, &e->src.bin) == 1)
		e->src.family = AF_INET6;
	else
		return false;
	/* the engine's spelling: it compares holes by their bytes anyway */
	inet_ntop(e->src.family, &e->src.bin, e->src.text, sizeof(e->src.text));
	e->proto = strcmp(proto, "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
	e->port = (uint16_t)port;
	return strcmp(proto, "udp") == 0 || strcmp(proto, "tcp") == 0;
}

/* Our entries, from `show`, in *out (NULL on error; free it). All or
 * nothing: from half a listing the engine would take the other half for
 * lost grants. */
static int load_ours(struct racl *st, const struct spa_grant *g, struct entry **out, size_t *n)
{
	char line[256];
	struct entry *v = NULL, e;
	size_t cap = 0, k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	for (rc = session_cmd(&st->s, "show", line, sizeof(line)); rc == 0 && strcmp(line, "end");
	     rc = session_line(&st->s, line, sizeof(line))) {
		if (strncmp(line, "err ", 4) == 0) {
			free(v);
			return answer_fail(st, g, "show", line);
		}
		if (strncmp(line, "acl ", 4) != 0 || !parse_ours(st, line, &e))
			continue; /* the admin's entry, or another list's */
		if (k == cap) {
			struct entry *w = NULL;
			cap = cap ? 2 * cap : 16;
			if (cap <= RACL_ENTRIES_MAX)
				w = realloc(v, cap * sizeof(*v));
			if (!w) {
				free(v);
				return fail(st, g, SPA_FAIL_TRANSIENT,
					    "show: out of memory, or over %d entries", RACL_ENTRIES_MAX);
			}
			v = w;
		}
		v[k++] = e;
	}
	if (rc < 0) {
		free(v);
		return transport_fail(st, g, rc);
	}
	*out = v;
	*n = k;
	return 0;
}

static bool same_hole(const struct entry *e, const struct spa_grant *g)
{
	return e->proto == g->proto && e->port == g->port && e->src.family == g->src.family &&
	       memcmp(&e->src.bin, &g->src.bin,
		      g->src.family == AF_INET6 ? sizeof(struct in6_addr)
						: sizeof(struct in_addr)) == 0;
}

static bool valid_remark(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= RACL_REMARK_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") == n;
}

/* Anything printable but a line break, which would start a second command. */
static bool valid_password(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static int parse_uint(const char *v, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	if (!v || *v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(v, &end, 10);
	return errno || *end || *out < min || *out > max ? -EINVAL : 0;
}

static int bad_key(const struct spa_host_api *host, const char *key, const char *value,
		   const char *want)
{
	host->log(host->self, SPA_LOG_ERR, "%s '%s': %s", key, value ? value : "(unset)", want);
	return -EINVAL;
}

/* The one parser of check and init. The address must be numeric: an op
 * must not wait for a resolver. */
static int load_config(const struct spa_host_api *host, struct config *c)
{
	const char *addr = host->config_get(host->self, "ROUTER_ACL_HOST");
	const char *port = host->config_get(host->self, "ROUTER_ACL_PORT");
	const char *tmo = host->config_get(host->self, "ROUTER_ACL_TIMEOUT_MS");
	struct sockaddr_in *a4 = (struct sockaddr_in *)&c->addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&c->addr;
	unsigned long p, ms;

	memset(c, 0, sizeof(*c));
	c->password = host->config_get(host->self, "ROUTER_ACL_PASSWORD");
	c->remark = host->config_get(host->self, "ROUTER_ACL_REMARK");
	if (parse_uint(port, 1, 65535, &p) < 0)
		return bad_key(host, "ROUTER_ACL_PORT", port, "expected a port, 1 to 65535");
	if (parse_uint(tmo, 100, 60000, &ms) < 0)
		return bad_key(host, "ROUTER_ACL_TIMEOUT_MS", tmo, "expected 100 to 60000");
	c->timeout_ms = (int)ms;
	if (addr && inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		c->addr_len = sizeof(*a4);
	} else if (addr && inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		c->addr_len = sizeof(*a6);
	} else {
		return bad_key(host, "ROUTER_ACL_HOST", addr, "expected an IPv4 or IPv6 address");
	}
	if (!c->password || !valid_password(c->password))
		return bad_key(host, "ROUTER_ACL_PASSWORD", c->password ? "<redacted>" : NULL,
			       "1 to 128 printable characters");
	if (!c->remark || !valid_remark(c->remark))
		return bad_key(host, "ROUTER_ACL_REMARK", c->remark,
			       "1 to 32 of letters, digits, '_', '.', ':', '-'");
	return 0;
}

/* ABI 1.2: the configuration only; the router is not contacted. No
 * per-stanza keys, so a stanza probe has nothing to check. */
static int racl_check(const struct spa_host_api *host, const struct spa_grant *probe)
{
	struct config c;

	return probe ? 0 : load_config(host, &c);
}

/* No connection here: a router that is down must not keep spad from
 * starting. The first op connects. */
static int racl_init(const struct spa_host_api *host, void **state)
{
	struct racl *st;
	struct config c;
	int rc;

	if (!SPA_HOST_HAS(host, token_set) || !SPA_HOST_HAS(host, token_get)) {
		host->log(host->self, SPA_LOG_ERR, "needs an engine with tokens (ABI 1.3)");
		return -ENOTSUP;
	}
	rc = load_config(host, &c);
	if (rc < 0)
		return rc;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->host = host;
	st->remark = c.remark;
	session_init(&st->s, host, &c.addr, c.addr_len, c.password, c.timeout_ms);
	*state = st;
	return 0;
}

/* The router answers an add it already holds with that entry's number, so
 * an open retried after a lost answer, or repeated at a restart, adds
 * nothing twice and needs no look first. */
static int racl_open(void *state, const struct spa_grant *g)
{
	struct racl *st = state;
	char cmd[160], reply[128], seq[RACL_SEQ_DIGITS + 1];
	int end = 0, rc;

	if (g->proto != IPPROTO_TCP && g->proto != IPPROTO_UDP)
		return fail(st, g, SPA_FAIL_PERMANENT, "protocol %u: tcp and udp only", g->proto);
	snprintf(cmd, sizeof(cmd), "add permit %s %s %u %s", proto_name(g->proto), g->src.text,
		 g->port, st->remark);
	rc = call(st, g, cmd, reply, sizeof(reply));
	if (rc < 0)
		return rc;
	if (sscanf(reply, "ok %10[0-9]%n", seq, &end) != 1 || reply[end] != '\0')
		return fail(st, g, SPA_FAIL_TRANSIENT, "%s: unexpected answer '%s'", cmd, reply);
	/* journaled with the grant: close gets it back, even after a kill -9 */
	rc = st->host->token_set(st->host->self, g, seq, strlen(seq));
	if (rc < 0)
		return rc;
	st->host->log(st->host->self, SPA_LOG_INFO, "grant %llu: %s %s/%u is acl entry %s",
		      (unsigned long long)g->id, g->src.text, proto_name(g->proto), g->port, seq);
	return 0;
}

/* Without a token: an entry the listing reported that no grant covers,
 * or a grant whose open never got its number (the answer was lost). Only
 * our own entries of that hole go. */
static int close_by_hole(struct racl *st, const struct spa_grant *g)
{
	struct entry *v;
	size_t n, gone = 0;
	int rc = load_ours(st, g, &v, &n);

	for (size_t i = 0; rc == 0 && i < n; i++)
		if (same_hole(&v[i], g) && (rc = del_entry(st, g, v[i].seq)) == 0)
			gone++;
	free(v);
	if (rc == 0)
		st->host->log(st->host->self, SPA_LOG_NOTICE, "%s %s/%u (%s): removed %zu entry(s)",
			      g->src.text, proto_name(g->proto), g->port,
			      g->id ? "its grant has no token" : "no grant covers it", gone);
	return rc;
}

/* Deleting a number the router no longer holds is ok: close is idempotent. */
static int racl_close(void *state, const struct spa_grant *g)
{
	struct racl *st = state;
	size_t len = 0;
	const char *tok = st->host->token_get(st->host->self, g, &len);
	char seq[RACL_SEQ_DIGITS + 1];
	unsigned long n;
	int rc;

	if (!tok || len == 0 || len > RACL_SEQ_DIGITS)
		return close_by_hole(st, g);
	memcpy(seq, tok, len);
	seq[len] = '\0';
	if (parse_uint(seq, 0, 4294967295ul, &n) < 0)
		return close_by_hole(st, g);
	rc = del_entry(st, g, (unsigned)n);
	if (rc == 0)
		st->host->log(st->host->self, SPA_LOG_INFO, "grant %llu: acl entry %s removed",
			      (unsigned long long)g->id, seq);
	return rc;
}

/* The router does not know when an entry expires (the engine's journal
 * does): expires stays 0. */
static int racl_list(void *state, spa_plugin_list_cb cb, void *ctx)
{
	struct racl *st = state;
	struct entry *v;
	size_t n;
	int rc = load_ours(st, NULL, &v, &n);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct spa_grant g;

		memset(&g, 0, sizeof(g));
		g.struct_size = sizeof(g);
		g.family = v[i].src.family;
		g.src = v[i].src;
		g.proto = v[i].proto;
		g.port = v[i].port;
		cb(ctx, &g);
	}
	free(v);
	return rc;
}

/* Every entry with our remark, and nothing of the admin's. */
static int racl_flush(void *state)
{
	struct racl *st = state;
	struct entry *v;
	size_t n;
	int rc = load_ours(st, NULL, &v, &n);

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = del_entry(st, NULL, v[i].seq);
	free(v);
	return rc;
}

static void racl_fini(void *state)
{
	struct racl *st = state;

	if (!st)
		return;
	session_close(&st->s);
	free(st);
}

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.name = "router-acl",
	.version = "1.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6,
	.key_prefix = "ROUTER_ACL_",
	.ops = {
		.init = racl_init,
		.open = racl_open,
		.close = racl_close,
		.list = racl_list,
		.flush = racl_flush,
		.fini = racl_fini,
		.check = racl_check,
	},
	.keys = racl_keys,
	.n_keys = sizeof(racl_keys) / sizeof(racl_keys[0]),
};
