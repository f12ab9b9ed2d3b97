/* SPDX-License-Identifier: MIT */
/*
 * flaky - a test-only backend that misbehaves on demand: slow, failing
 * (transiently or permanently, at a rate or every close), or hung. Its
 * "firewall" is FLAKY_STATE_DIR, one file per entry it holds (named
 * <src>_<proto>_<port>, and for a NAT grant (SPA_PLUGIN_CAP_NAT) then
 * _nat<flags>_<addr>_<port>_<snat addr>, the file holding the form that
 * list reports), so a test sees exactly what is open; every call is
 * a line of FLAKY_STATE_DIR/ops.log, written with one write() on an
 * O_APPEND descriptor so that a kill -9 never leaves half a line.
 *
 * Keys (the schema at the end): STATE_DIR (required), DELAY_MS, FAIL_PCT
 * with FAIL_OPS, FAIL_KIND, FAIL_MAX and SEED (which calls fail:
 * flaky_fail.h, the same for a seed whatever the timing), HANG_FILE,
 * FAIL_CLOSE_FILE, FAIL_LIST_FILE, TOKENS (a token "flaky-<id>" set at
 * each open, ABI 1.3, and the one handed back logged with every call). An
 * injected failure changes nothing and goes through host->op_fail when the
 * engine has it (-EAGAIN or -EINVAL otherwise). Opening a held entry
 * rewrites it, closing a missing one succeeds, list reports the entries
 * and flush removes them, as a real backend's must.
 *
 * ops.log lines (the tests and bench/runtime.sh parse them):
 *   <op> <ok|err=N> id=<id> src=<src> <proto>/<port> n=<batch size>
 *        exp=<expires> t0=<start> t=<end> wall=<end>
 *        [token=<the grant's token, - for none>]   (TOKENS Y)
 *   <op>_batch <ok|err=N> n=<size> t0=<start> t=<end> wall=<end>
 *   list|flush <ok|err=N> n=<entries> t0=... t=... wall=...
 *   token <ok|err=N> id=<id>      (TOKENS Y: what token_set answered)
 *   hang <op> id=<id>             (a call that met HANG_FILE, as it starts
 *                                  waiting: the op is with the backend)
 *   init ok | fini ok
 * t0 and t are CLOCK_MONOTONIC milliseconds (comparable across processes),
 * wall is CLOCK_REALTIME milliseconds (comparable with a grant's expiry).
 *
 * Built twice: "flaky" (prefix FLAKY_) and "flakyb" (prefix FLAKYB_), which
 * declares SPA_PLUGIN_CAP_BATCH and takes grants through open_batch and
 * close_batch, delaying once per call as one round trip to an API would.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spa/plugin.h"
#include "flaky_fail.h"

#ifndef FLAKY_NAME
#define FLAKY_NAME "flaky"
#define FLAKY_PREFIX "FLAKY_"
#define FLAKY_BATCH 0
#endif

#define OPS_LOG "ops.log"
#define HANG_POLL_MS 50
/* Grants whose calls are counted for flaky_fails (more share a counter). */
#define CALL_SLOTS 4096

struct calls {
	uint64_t id;
	uint32_t n[2];             /* open and close calls so far */
};

struct flaky {
	const struct spa_host_api *host;
	const char *dir;           /* config_get's: valid until fini */
	const char *hang_file, *fail_close_file, *fail_list_file;
	bool tokens;
	int dir_fd, log_fd;
	uint32_t delay_ms, fail_pct, fail_max, seed, overflow;
	int fail_kind;             /* SPA_FAIL_TRANSIENT or SPA_FAIL_PERMANENT */
	bool pct_open, pct_close;  /* FLAKY_FAIL_OPS */
	struct calls calls[CALL_SLOTS];
};

static uint64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void oplog(struct flaky *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void oplog(struct flaky *f, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return;
	line[n++] = '\n';
	/* one write: a reader or a kill -9 sees the whole line or none */
	if (write(f->log_fd, line, (size_t)n) != n)
		f->host->log(f->host->self, SPA_LOG_ERR, "%s: %s", OPS_LOG, strerror(errno));
}

static const char *result(int rc, char *buf, size_t cap)
{
	if (rc == 0)
		return "ok";
	snprintf(buf, cap, "err=%d", rc);
	return buf;
}

static void log_grant(struct flaky *f, const char *op, int rc, const struct spa_grant *g,
		      size_t n, uint64_t t0)
{
	char res[24], token[SPA_GRANT_TOKEN_MAX + 16] = "";

	/* the tokens this plugin sets are text */
	if (f->tokens) {
		size_t len = 0;
		const char *t = f->host->token_get(f->host->self, g, &len);
		snprintf(token, sizeof(token), " token=%.*s", t ? (int)len : 1, t ? t : "-");
	}
	oplog(f, "%s %s id=%llu src=%s %s/%u n=%zu exp=%lld t0=%llu t=%llu wall=%llu%s", op,
	      result(rc, res, sizeof(res)), (unsigned long long)g->id, g->src.text,
	      g->proto == IPPROTO_TCP ? "tcp" : "udp", g->port, n, (long long)g->expires,
	      (unsigned long long)t0, (unsigned long long)clock_ms(CLOCK_MONOTONIC),
	      (unsigned long long)clock_ms(CLOCK_REALTIME), token);
}

static void log_count(struct flaky *f, const char *op, int rc, size_t n, uint64_t t0)
{
	char res[24];

	oplog(f, "%s %s n=%zu t0=%llu t=%llu wall=%llu", op, result(rc, res, sizeof(res)), n,
	      (unsigned long long)t0, (unsigned long long)clock_ms(CLOCK_MONOTONIC),
	      (unsigned long long)clock_ms(CLOCK_REALTIME));
}

/* What every call goes through first: a hung backend, then a slow one.
 * op and g (may be NULL) name the call in the hang line. */
static uint64_t busy(struct flaky *f, const char *op, const struct spa_grant *g)
{
	uint64_t t0 = clock_ms(CLOCK_MONOTONIC);

	if (f->hang_file && access(f->hang_file, F_OK) == 0)
		oplog(f, "hang %s id=%llu", op, g ? (unsigned long long)g->id : 0ull);
	while (f->hang_file && access(f->hang_file, F_OK) == 0)
		sleep_ms(HANG_POLL_MS);
	if (f->delay_ms)
		sleep_ms(f->delay_ms);
	return t0;
}

/* Call number (from 0) of this kind on grant id. */
static uint32_t next_call(struct flaky *f, uint64_t id, enum flaky_kind kind)
{
	size_t i = (size_t)(id % CALL_SLOTS);

	for (size_t probe = 0; probe < CALL_SLOTS; probe++, i = (i + 1) % CALL_SLOTS) {
		struct calls *c = &f->calls[i];
		if (c->id == 0)
			c->id = id;
		if (c->id == id)
			return c->n[kind]++;
	}
	return f->overflow++;
}

/* 0, or the error this call is to fail with (before any change of state). */
static int injected(struct flaky *f, const struct spa_grant *g, enum flaky_kind kind)
{
	const char *what = NULL;
	bool pct = kind == FLAKY_OPEN ? f->pct_open : f->pct_close;
	uint32_t call;

	if (kind == FLAKY_CLOSE && f->fail_close_file && access(f->fail_close_file, F_OK) == 0) {
		what = FLAKY_PREFIX "FAIL_CLOSE_FILE exists";
	} else if (pct) {
		call = next_call(f, g->id, kind);
		if ((!f->fail_max || call < f->fail_max) &&
		    flaky_fails(f->seed, kind, g->id, call, f->fail_pct))
			what = FLAKY_PREFIX "FAIL_PCT";
	}
	if (!what)
		return 0;
	if (SPA_HOST_HAS(f->host, op_fail))
		return f->host->op_fail(f->host->self, g, f->fail_kind,
					"injected %s failure of %s %s %s/%u (%s)",
					f->fail_kind == SPA_FAIL_TRANSIENT ? "transient" : "permanent",
					kind == FLAKY_OPEN ? "open" : "close", g->src.text,
					g->proto == IPPROTO_TCP ? "tcp" : "udp", g->port, what);
	return f->fail_kind == SPA_FAIL_TRANSIENT ? -EAGAIN : -EINVAL;
}

static bool has_nat(const struct spa_grant *g)
{
	return SPA_GRANT_HAS(g, nat_flags) && g->nat_flags;
}

static void entry_name(const struct spa_grant *g, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s_%s_%u", g->src.text,
			 g->proto == IPPROTO_TCP ? "tcp" : "udp", g->port);

	/* another NAT form of the same port is another entry */
	if (has_nat(g) && n > 0 && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n, "_nat%u_%s_%u_%s", g->nat_flags,
			 g->nat_addr.family ? g->nat_addr.text : "-", g->nat_port,
			 g->snat_addr.family ? g->snat_addr.text : "-");
}

/* "nat=<flags> to=<addr|-> toport=<port> snat=<addr|->" of an entry's
 * body back into g; absent: plain access. */
static void read_nat(const char *body, struct spa_grant *g)
{
	const char *p = strstr(body, " nat=");
	char to[SPA_GRANT_ADDR_LEN] = "", snat[SPA_GRANT_ADDR_LEN] = "";
	unsigned flags, port;

	if (!p || sscanf(p, " nat=%u to=%45s toport=%u snat=%45s", &flags, to, &port, snat) != 4)
		return;
	g->nat_flags = flags;
	g->nat_port = (uint16_t)port;
	if (inet_pton(AF_INET, to, &g->nat_addr.bin) == 1) {
		g->nat_addr.family = AF_INET;
		snprintf(g->nat_addr.text, sizeof(g->nat_addr.text), "%s", to);
	}
	if (inet_pton(AF_INET, snat, &g->snat_addr.bin) == 1) {
		g->snat_addr.family = AF_INET;
		snprintf(g->snat_addr.text, sizeof(g->snat_addr.text), "%s", snat);
	}
}

/* Creates or rewrites the entry: opening what is held adds nothing. */
static int put_entry(struct flaky *f, const struct spa_grant *g)
{
	char name[224], body[224];
	int fd, n, rc = 0;

	entry_name(g, name, sizeof(name));
	fd = openat(f->dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	n = snprintf(body, sizeof(body), "id=%llu exp=%lld", (unsigned long long)g->id,
		     (long long)g->expires);
	if (has_nat(g))
		n += snprintf(body + n, sizeof(body) - (size_t)n, " nat=%u to=%s toport=%u snat=%s",
			      g->nat_flags, g->nat_addr.family ? g->nat_addr.text : "-",
			      g->nat_port, g->snat_addr.family ? g->snat_addr.text : "-");
	n += snprintf(body + n, sizeof(body) - (size_t)n, "\n");
	if (write(fd, body, (size_t)n) != n)
		rc = -EIO;
	close(fd);
	return rc;
}

static int do_open(struct flaky *f, const struct spa_grant *g)
{
	char token[32], res[24];
	int rc = injected(f, g, FLAKY_OPEN), trc;

	if (rc == 0)
		rc = put_entry(f, g);
	if (rc < 0 || !f->tokens)
		return rc;
	/* what token_set answers is logged, not returned: the entry is
	 * there, and what a refused token means is the engine's call */
	snprintf(token, sizeof(token), "flaky-%llu", (unsigned long long)g->id);
	trc = f->host->token_set(f->host->self, g, token, strlen(token));
	oplog(f, "token %s id=%llu", result(trc, res, sizeof(res)), (unsigned long long)g->id);
	return 0;
}

/* Removing what is not held succeeds, as a real backend's close must. */
static int do_close(struct flaky *f, const struct spa_grant *g)
{
	char name[224];
	int rc = injected(f, g, FLAKY_CLOSE);

	if (rc < 0)
		return rc;
	entry_name(g, name, sizeof(name));
	if (unlinkat(f->dir_fd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

typedef int (*flaky_op)(struct flaky *, const struct spa_grant *);

/* One grant, one call: busy, the op, its line. */
static int single(void *state, const char *op, flaky_op fn, const struct spa_grant *g)
{
	struct flaky *f = state;
	uint64_t t0 = busy(f, op, g);
	int rc = fn(f, g);

	log_grant(f, op, rc, g, 1, t0);
	return rc;
}

static int fl_open(void *state, const struct spa_grant *g)
{
	return single(state, "open", do_open, g);
}

static int fl_close(void *state, const struct spa_grant *g)
{
	return single(state, "close", do_close, g);
}

/* An open again: the entry takes the new expiry, failures stay off. */
static int fl_refresh(void *state, const struct spa_grant *g)
{
	return single(state, "refresh", put_entry, g);
}

#if FLAKY_BATCH
/* n grants, one call: busy once (one round trip), a line per grant and
 * one for the call. */
static int batch(struct flaky *f, const char *op, flaky_op one, const struct spa_grant *const *g,
		 size_t n, int *rc)
{
	char name[32];
	uint64_t t0 = busy(f, op, n ? g[0] : NULL);

	for (size_t i = 0; i < n; i++) {
		rc[i] = one(f, g[i]);
		log_grant(f, op, rc[i], g[i], n, t0);
	}
	snprintf(name, sizeof(name), "%s_batch", op);
	log_count(f, name, 0, n, t0);
	return 0;
}

static int fl_open_batch(void *state, const struct spa_grant *const *g, size_t n, int *rc)
{
	return batch(state, "open", do_open, g, n, rc);
}

static int fl_close_batch(void *state, const struct spa_grant *const *g, size_t n, int *rc)
{
	return batch(state, "close", do_close, g, n, rc);
}
#endif

/* An entry's grant, from its name and contents; false for other files. */
static bool read_entry(struct flaky *f, const char *name, struct spa_grant *g)
{
	char src[SPA_GRANT_ADDR_LEN], proto[8], body[224] = "", plain[224];
	unsigned port;
	long long exp = 0;
	const char *u2, *u1, *nat = strstr(name, "_nat");
	int fd;

	/* the NAT suffix is read from the body: the name's start is the hole */
	snprintf(plain, sizeof(plain), "%.*s", nat ? (int)(nat - name) : (int)strlen(name), name);
	u2 = strrchr(plain, '_');
	if (!u2 || u2 == plain)
		return false;
	for (u1 = u2 - 1; u1 > plain && *u1 != '_'; u1--)
		;
	if (*u1 != '_' || (size_t)(u1 - plain) >= sizeof(src) || (size_t)(u2 - u1 - 1) >= sizeof(proto))
		return false;
	memcpy(src, plain, (size_t)(u1 - plain));
	src[u1 - plain] = '\0';
	memcpy(proto, u1 + 1, (size_t)(u2 - u1 - 1));
	proto[u2 - u1 - 1] = '\0';
	if (sscanf(u2 + 1, "%u", &port) != 1 || port > 65535)
		return false;
	memset(g, 0, sizeof(*g));
	g->struct_size = sizeof(*g);
	g->family = strchr(src, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(g->family, src, &g->src.bin) != 1)
		return false;
	g->src.family = g->family;
	snprintf(g->src.text, sizeof(g->src.text), "%s", src);
	g->proto = strcmp(proto, "tcp") == 0 ? IPPROTO_TCP : IPPROTO_UDP;
	g->port = (uint16_t)port;
	fd = openat(f->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		ssize_t r = read(fd, body, sizeof(body) - 1);
		body[r > 0 ? r : 0] = '\0';
		close(fd);
	}
	if (sscanf(body, "id=%*u exp=%lld", &exp) == 1)
		g->expires = exp;
	if (nat)
		read_nat(body, g);
	return true;
}

/* Every entry to cb, or (cb NULL) removed; returns how many, or -errno. */
static int each_entry(struct flaky *f, spa_plugin_list_cb cb, void *ctx)
{
	DIR *dir = opendir(f->dir);
	struct dirent *e;
	int n = 0, rc = 0;

	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		struct spa_grant g;

		if (!read_entry(f, e->d_name, &g))
			continue;
		if (cb)
			cb(ctx, &g);
		else if (unlinkat(f->dir_fd, e->d_name, 0) < 0 && errno != ENOENT)
			rc = -errno;
		n++;
	}
	closedir(dir);
	return rc < 0 ? rc : n;
}

static int fl_list(void *state, spa_plugin_list_cb cb, void *ctx)
{
	struct flaky *f = state;
	uint64_t t0 = busy(f, "list", NULL);
	int n;

	if (f->fail_list_file && access(f->fail_list_file, F_OK) == 0) {
		/* before any entry is reported: a listing cut short is the
		 * engine's to refuse too, but this one is plainly missing */
		n = SPA_HOST_HAS(f->host, op_fail)
			    ? f->host->op_fail(f->host->self, NULL, SPA_FAIL_TRANSIENT,
					       "injected list failure (%sFAIL_LIST_FILE exists)",
					       FLAKY_PREFIX)
			    : -EAGAIN;
		log_count(f, "list", n, 0, t0);
		return n;
	}
	n = each_entry(f, cb, ctx);

	log_count(f, "list", n < 0 ? n : 0, n < 0 ? 0 : (size_t)n, t0);
	return n < 0 ? n : 0;
}

static int fl_flush(void *state)
{
	struct flaky *f = state;
	uint64_t t0 = busy(f, "flush", NULL);
	int n = each_entry(f, NULL, NULL);

	log_count(f, "flush", n < 0 ? n : 0, n < 0 ? 0 : (size_t)n, t0);
	return n < 0 ? n : 0;
}

static uint32_t key_uint(const struct spa_host_api *host, const char *key)
{
	const char *v = host->config_get(host->self, key);

	return v ? (uint32_t)strtoul(v, NULL, 10) : 0;
}

/* What the schema cannot say: a percentage. */
static int fl_check(const struct spa_host_api *host, const struct spa_grant *probe)
{
	if (!probe && key_uint(host, FLAKY_PREFIX "FAIL_PCT") > 100) {
		host->log(host->self, SPA_LOG_ERR, FLAKY_PREFIX "FAIL_PCT: at most 100");
		return -EINVAL;
	}
	return 0;
}

static int fl_init(const struct spa_host_api *host, void **state)
{
	const char *ops = host->config_get(host->self, FLAKY_PREFIX "FAIL_OPS");
	const char *kind = host->config_get(host->self, FLAKY_PREFIX "FAIL_KIND");
	const char *tokens = host->config_get(host->self, FLAKY_PREFIX "TOKENS");
	struct flaky *f = calloc(1, sizeof(*f));
	int rc;

	if (!f)
		return -ENOMEM;
	f->host = host;
	f->dir = host->config_get(host->self, FLAKY_PREFIX "STATE_DIR");
	f->hang_file = host->config_get(host->self, FLAKY_PREFIX "HANG_FILE");
	f->fail_close_file = host->config_get(host->self, FLAKY_PREFIX "FAIL_CLOSE_FILE");
	f->fail_list_file = host->config_get(host->self, FLAKY_PREFIX "FAIL_LIST_FILE");
	f->tokens = tokens && (tokens[0] == 'Y' || tokens[0] == 'y');
	if (f->tokens && (!SPA_HOST_HAS(host, token_set) || !SPA_HOST_HAS(host, token_get))) {
		host->log(host->self, SPA_LOG_ERR, "this engine keeps no grant tokens");
		free(f);
		return -ENOTSUP;
	}
	f->delay_ms = key_uint(host, FLAKY_PREFIX "DELAY_MS");
	f->fail_pct = key_uint(host, FLAKY_PREFIX "FAIL_PCT");
	f->fail_max = key_uint(host, FLAKY_PREFIX "FAIL_MAX");
	f->seed = key_uint(host, FLAKY_PREFIX "SEED");
	f->fail_kind = kind && strcmp(kind, "permanent") == 0 ? SPA_FAIL_PERMANENT
							      : SPA_FAIL_TRANSIENT;
	f->pct_open = !ops || strcmp(ops, "close") != 0;
	f->pct_close = !ops || strcmp(ops, "open") != 0;
	f->dir_fd = f->log_fd = -1;
	if (!f->dir || (mkdir(f->dir, 0700) < 0 && errno != EEXIST) ||
	    (f->dir_fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (f->log_fd = openat(f->dir_fd, OPS_LOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
				O_NOFOLLOW, 0600)) < 0) {
		rc = -errno;
		host->log(host->self, SPA_LOG_ERR, FLAKY_PREFIX "STATE_DIR %s: %s",
			  f->dir ? f->dir : "(unset)", strerror(errno));
		if (f->dir_fd >= 0)
			close(f->dir_fd);
		free(f);
		return rc < 0 ? rc : -EINVAL;
	}
	oplog(f, "init ok");
	*state = f;
	return 0;
}

static void fl_fini(void *state)
{
	struct flaky *f = state;

	oplog(f, "fini ok");
	close(f->log_fd);
	close(f->dir_fd);
	free(f);
}

static const struct spa_plugin_key flaky_keys[] = {
	{ FLAKY_PREFIX "STATE_DIR", SPA_KEY_PATH, SPA_KEY_REQUIRED, NULL, NULL,
	  "the fake backend: one file per entry held, and ops.log" },
	{ FLAKY_PREFIX "DELAY_MS", SPA_KEY_UINT, 0, "0", NULL,
	  "every call takes this long (a slow router or cloud API)" },
	{ FLAKY_PREFIX "FAIL_PCT", SPA_KEY_UINT, 0, "0", NULL,
	  "share of open/close calls that fail, before changing anything" },
	{ FLAKY_PREFIX "FAIL_OPS", SPA_KEY_STRING, 0, "both", "open|close|both",
	  "which calls FAIL_PCT applies to" },
	{ FLAKY_PREFIX "FAIL_MAX", SPA_KEY_UINT, 0, "0", NULL,
	  "FAIL_PCT spares a grant's open (close) after this many calls (0: never)" },
	{ FLAKY_PREFIX "FAIL_KIND", SPA_KEY_STRING, 0, "transient", "transient|permanent",
	  "how injected failures are reported (op_fail, or -EAGAIN/-EINVAL)" },
	{ FLAKY_PREFIX "SEED", SPA_KEY_UINT, 0, "1", NULL,
	  "which calls fail (flaky_fail.h): the same seed, the same pattern" },
	{ FLAKY_PREFIX "HANG_FILE", SPA_KEY_PATH, 0, NULL, NULL,
	  "every call blocks while this file exists (a hung backend)" },
	{ FLAKY_PREFIX "FAIL_CLOSE_FILE", SPA_KEY_PATH, 0, NULL, NULL,
	  "every close fails, as FAIL_KIND says, while this file exists" },
	{ FLAKY_PREFIX "FAIL_LIST_FILE", SPA_KEY_PATH, 0, NULL, NULL,
	  "every list fails (transient) while this file exists" },
	{ FLAKY_PREFIX "TOKENS", SPA_KEY_BOOL, 0, "N", NULL,
	  "set a token flaky-<id> at each open and log the one handed back" },
};

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.name = FLAKY_NAME,
	.version = "1.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6 | SPA_PLUGIN_CAP_NAT |
			(FLAKY_BATCH ? SPA_PLUGIN_CAP_BATCH : 0),
	.key_prefix = FLAKY_PREFIX,
	.ops = {
		.init = fl_init,
		.open = fl_open,
		.close = fl_close,
		.refresh = fl_refresh,
		.list = fl_list,
		.flush = fl_flush,
		.fini = fl_fini,
		.check = fl_check,
	},
	.keys = flaky_keys,
	.n_keys = sizeof(flaky_keys) / sizeof(flaky_keys[0]),
#if FLAKY_BATCH
	.open_batch = fl_open_batch,
	.close_batch = fl_close_batch,
#endif
};
