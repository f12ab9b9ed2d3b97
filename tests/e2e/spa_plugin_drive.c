/* SPDX-License-Identifier: MIT */
/*
 * Test driver: loads one firewall plugin the way spad does (checked
 * descriptor, RTLD_NOW | RTLD_LOCAL) and runs a sequence of operations
 * against the real firewall, with the engine's argv-only command runner. It lets
 * the e2e tests exercise a plugin inside a network namespace without the
 * engine.
 *
 *   spa_plugin_drive [-o KEY=VALUE]... [-s KEY=VALUE]... PLUGIN.so OP [ARGS] [-- OP [ARGS]]...
 *   -o: a global key (config_get); -s: a variable of the one stanza
 *   ("drive:0") every grant comes from (stanza_get)
 *   OPs: open|close|refresh SRC PROTO PORT EXPIRES [DST] [NAT]; list; flush;
 *        NAT (ABI 1.5 grant fields): nat=FORM[+FORM] with FORM one of
 *        forward, local, all, nodnat, snat, masq (SPA_NAT_*);
 *        to=ADDR[,PORT] (nat_addr, nat_port); snat=ADDR (snat_addr);
 *        list prints a NAT grant with the same words after EXPIRES [DST]
 *        admin /ABS/PROG [ARGS]: runs a command between two ops, as an
 *        admin would behind the plugin's back (after init, so init cannot
 *        repair it); fails unless it exits 0;
 *        batch open|close FILE [MAX]: the grants of FILE, one "SRC PROTO
 *        PORT EXPIRES [DST]" a line, through open_batch/close_batch (ABI
 *        1.4) MAX at a time (default: all in one call), or one op each
 *        for a plugin without them; prints "batch OP: N grants, C calls,
 *        T ms, slowest S ms" and, for each grant that failed, "batch OP:
 *        SRC PROTO PORT failed (RC)"
 * The host has op_fail (ABI 1.4): each call prints "op_fail: transient|
 * permanent: SRC: MESSAGE" (SRC "-" for list) on stderr.
 * As spad does, ops.check runs before init (global keys, then the stanza):
 * a refused configuration exits 1 with "check failed" and nothing done.
 * FLUSH_<prefix>AT_INIT / AT_EXIT set to Y are honoured as the engine
 * does (flush after init / before fini); unlike the engine's default Y,
 * unset means N here, so that state survives between driver runs.
 * A failing op prints "<op> failed (<rc>)" and the driver exits 1.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <spa/plugin.h>

#include "spa_run.h"

#define MAX_KEYS 32

struct drive_host {
	struct spa_host_api api;
	const char *keys[MAX_KEYS];
	const char *values[MAX_KEYS];
	unsigned int nkeys;
	const char *skeys[MAX_KEYS];
	const char *svalues[MAX_KEYS];
	unsigned int nskeys;
	const char *prefix; /* the plugin's key_prefix: stanza_get shows only those */
	struct spa_run_buf buf;
};

static void drive_log(void *self, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void drive_log(void *self, int level, const char *fmt, ...)
{
	va_list ap;

	(void)self;
	fprintf(stderr, "plugin[%d]: ", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *drive_config_get(void *self, const char *key)
{
	struct drive_host *h = self;

	for (unsigned int i = 0; i < h->nkeys; i++)
		if (strcmp(h->keys[i], key) == 0)
			return h->values[i];
	return NULL;
}

static const char *drive_stanza_get(void *self, const struct spa_grant *g, const char *key)
{
	struct drive_host *h = self;

	if (!g || !h->prefix || strncmp(key, h->prefix, strlen(h->prefix)) != 0)
		return NULL;
	for (unsigned int i = 0; i < h->nskeys; i++)
		if (strcmp(h->skeys[i], key) == 0)
			return h->svalues[i];
	return NULL;
}

/* FLUSH_<prefix><what> explicitly Y. */
static int flush_wanted(struct drive_host *h, const char *prefix, const char *what)
{
	char key[96];
	const char *v;

	snprintf(key, sizeof(key), "FLUSH_%s%s", prefix ? prefix : "", what);
	v = drive_config_get(h, key);
	return v && (v[0] == 'Y' || v[0] == 'y');
}

/* ops.check as spad calls it before init: the global keys, then the
 * stanza. */
static int run_check(const struct spa_plugin_descriptor *d, struct drive_host *h)
{
	struct spa_grant probe;
	int rc;

	if (!d->ops.check)
		return 0;
	rc = d->ops.check(&h->api, NULL);
	if (rc == 0) {
		memset(&probe, 0, sizeof(probe));
		probe.struct_size = sizeof(probe);
		snprintf(probe.stanza, sizeof(probe.stanza), "drive:0");
		rc = d->ops.check(&h->api, &probe);
	}
	return rc;
}

/* The engine's own runner (engine/spa_run.c): the plugin sees exactly
 * what it would under spad, stdin batches included. */
static int drive_run_input(void *self, const char *const argv[], const void *input,
			   size_t input_len, int timeout_ms, struct spa_run_result *res)
{
	struct drive_host *h = self;
	int status = -1, timed_out = 0;
	int rc = spa_run_input(argv, input, input_len, timeout_ms, &h->buf, &status, &timed_out);

	memset(res, 0, sizeof(*res));
	res->exit_status = status;
	res->timed_out = timed_out;
	res->out = h->buf.out ? h->buf.out : "";
	res->out_len = h->buf.out_len;
	res->err = h->buf.err;
	res->err_len = h->buf.err_len;
	if (getenv("SPA_DRIVE_TRACE")) {
		fprintf(stderr, "run:");
		for (int i = 0; argv[i]; i++)
			fprintf(stderr, " %s", argv[i]);
		fprintf(stderr, "%s -> %d\n", input_len ? " <stdin" : "", res->exit_status);
	}
	return rc;
}

static int drive_run(void *self, const char *const argv[], int timeout_ms,
		     struct spa_run_result *res)
{
	return drive_run_input(self, argv, NULL, 0, timeout_ms, res);
}

static int drive_op_fail(void *self, const struct spa_grant *g, int kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int drive_op_fail(void *self, const struct spa_grant *g, int kind, const char *fmt, ...)
{
	va_list ap;

	(void)self;
	fprintf(stderr, "op_fail: %s: %s: ", kind == SPA_FAIL_PERMANENT ? "permanent" : "transient",
		g ? g->src.text : "-");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return kind == SPA_FAIL_PERMANENT ? SPA_ERR_PERMANENT : SPA_ERR_TRANSIENT;
}

/* A NAT grant's fields as the open op takes them: " nat=FORMS
 * [to=ADDR[,PORT]] [snat=ADDR]" (forms in SPA_NAT_* bit order). */
static void print_nat(const struct spa_grant *g)
{
	static const char *const forms[] = { "forward", "local", "all", "nodnat", "snat", "masq" };
	const char *sep = " nat=";

	if (!SPA_GRANT_HAS(g, nat_flags) || !g->nat_flags)
		return;
	for (unsigned int i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (g->nat_flags & (1u << i)) {
			printf("%s%s", sep, forms[i]);
			sep = "+";
		}
	if (g->nat_addr.family)
		printf(" to=%s", g->nat_addr.text);
	if (g->nat_addr.family && g->nat_port)
		printf(",%u", g->nat_port);
	if (SPA_GRANT_HAS(g, snat_addr) && g->snat_addr.family)
		printf(" snat=%s", g->snat_addr.text);
}

/* "SRC PROTO PORT EXPIRES [DST]" and the NAT fields, if any. */
static void list_cb(void *ctx, const struct spa_grant *g)
{
	(void)ctx;
	printf("%s %s %u %" PRId64 "%s%s", g->src.text, g->proto == 6 ? "tcp" : "udp", g->port,
	       g->expires, g->dst.family ? " " : "", g->dst.family ? g->dst.text : "");
	print_nat(g);
	putchar('\n');
}

static int parse_addr(const char *s, struct spa_grant_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = strchr(s, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(a->family, s, &a->bin) != 1)
		return -1;
	snprintf(a->text, sizeof(a->text), "%s", s);
	return 0;
}

/* nat=FORM[+FORM...]: forward, local, all, nodnat, snat, masq */
static int parse_nat_forms(const char *v, uint32_t *flags)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} forms[] = {
		{ "forward", SPA_NAT_FORWARD }, { "local", SPA_NAT_LOCAL },
		{ "all", SPA_NAT_FORWARD_ALL }, { "nodnat", SPA_NAT_NO_DNAT },
		{ "snat", SPA_NAT_SNAT },       { "masq", SPA_NAT_MASQUERADE },
	};
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", v);
	for (char *w = strtok_r(buf, "+", &save); w; w = strtok_r(NULL, "+", &save)) {
		size_t i = 0;

		while (i < sizeof(forms) / sizeof(forms[0]) && strcmp(forms[i].name, w) != 0)
			i++;
		if (i == sizeof(forms) / sizeof(forms[0]))
			return -1;
		*flags |= forms[i].flag;
	}
	return 0;
}

/* to=ADDR[,PORT]: the NAT target (ADDR may be IPv6, hence the comma) */
static int parse_nat_to(const char *v, struct spa_grant *g)
{
	char buf[SPA_GRANT_ADDR_LEN + 8];
	char *comma;

	snprintf(buf, sizeof(buf), "%s", v);
	comma = strchr(buf, ',');
	if (comma) {
		*comma = '\0';
		g->nat_port = (uint16_t)atoi(comma + 1);
	}
	return parse_addr(buf, &g->nat_addr);
}

/* The words after EXPIRES: [DST] then NAT settings nat=FORMS, to=ADDR[,PORT]
 * and snat=ADDR (ABI 1.5 grant fields). */
static int parse_grant_extra(char **args, int n, struct spa_grant *g)
{
	for (int i = 0; i < n; i++) {
		const char *a = args[i];

		if (strncmp(a, "nat=", 4) == 0) {
			if (parse_nat_forms(a + 4, &g->nat_flags) < 0)
				return -1;
		} else if (strncmp(a, "to=", 3) == 0) {
			if (parse_nat_to(a + 3, g) < 0)
				return -1;
		} else if (strncmp(a, "snat=", 5) == 0) {
			if (parse_addr(a + 5, &g->snat_addr) < 0)
				return -1;
		} else if (i != 0 || parse_addr(a, &g->dst) < 0) {
			return -1;
		}
	}
	return 0;
}

/* OP SRC PROTO PORT EXPIRES [DST] [nat=FORMS] [to=ADDR[,PORT]] [snat=ADDR] */
static int parse_grant(char **args, int n, struct spa_grant *g)
{
	memset(g, 0, sizeof(*g));
	g->struct_size = sizeof(*g);
	if (n < 4 || parse_addr(args[0], &g->src) < 0)
		return -1;
	g->family = g->src.family;
	g->proto = strcmp(args[1], "udp") == 0 ? 17 : strcmp(args[1], "tcp") == 0 ? 6 : 0;
	g->port = (uint16_t)atoi(args[2]);
	g->expires = strtoll(args[3], NULL, 10);
	g->timeout = (uint32_t)(g->expires > time(NULL) ? g->expires - time(NULL) : 1);
	if (parse_grant_extra(args + 4, n - 4, g) < 0)
		return -1;
	snprintf(g->stanza, sizeof(g->stanza), "drive:0");
	return g->proto ? 0 : -1;
}

/* The grants of a "batch" file, *n of them; NULL (and a message) when a
 * line is not a grant. */
static struct spa_grant *read_grants(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	struct spa_grant *gs = NULL, *grown;
	size_t cap = 0;
	char line[256];

	*n = 0;
	if (!f) {
		perror(path);
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *words[10], *save = NULL;
		int nw = 0;

		for (char *w = strtok_r(line, " \t\n", &save); w && nw < 10;
		     w = strtok_r(NULL, " \t\n", &save))
			words[nw++] = w;
		if (nw == 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			grown = realloc(gs, cap * sizeof(*gs));
			if (!grown)
				goto bad;
			gs = grown;
		}
		if (parse_grant(words, nw, &gs[*n]) < 0) {
			fprintf(stderr, "%s: line %zu is not SRC PROTO PORT EXPIRES [DST]\n", path,
				*n + 1);
			goto bad;
		}
		(*n)++;
	}
	fclose(f);
	return gs;
bad:
	fclose(f);
	free(gs);
	return NULL;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* "batch open|close FILE [MAX]" */
static int run_batch(const struct spa_plugin_descriptor *d, void *state, char **args, int n)
{
	int (*one)(void *, const struct spa_grant *);
	int (*many)(void *, const struct spa_grant *const *, size_t, int *) = NULL;
	const struct spa_grant **gv = NULL;
	struct spa_grant *gs = NULL;
	size_t ng = 0, max, calls = 0, failed = 0;
	double total = 0, slowest = 0;
	int *rc = NULL;
	int has_batch = d->struct_size >= offsetof(struct spa_plugin_descriptor, close_batch) +
						sizeof(d->close_batch);

	if (n < 3 || (strcmp(args[1], "open") && strcmp(args[1], "close")))
		return -EINVAL;
	one = args[1][0] == 'o' ? d->ops.open : d->ops.close;
	if (has_batch)
		many = args[1][0] == 'o' ? d->open_batch : d->close_batch;
	gs = read_grants(args[2], &ng);
	if (!gs)
		return -EINVAL;
	max = n > 3 ? strtoul(args[3], NULL, 10) : ng;
	if (max == 0)
		max = 1;
	gv = calloc(ng ? ng : 1, sizeof(*gv));
	rc = calloc(ng ? ng : 1, sizeof(*rc));
	if (!gv || !rc) {
		failed = ng ? ng : 1;
		goto out;
	}
	for (size_t i = 0; i < ng; i++)
		gv[i] = &gs[i];
	for (size_t i = 0; i < ng; i += max) {
		size_t k = ng - i < max ? ng - i : max;
		struct timespec t0;
		double ms;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (many) {
			int r = many(state, gv + i, k, rc + i);

			for (size_t j = 0; r < 0 && j < k; j++)
				rc[i + j] = r;
		} else {
			for (size_t j = 0; j < k; j++)
				rc[i + j] = one(state, gv[i + j]);
		}
		ms = ms_since(&t0);
		total += ms;
		slowest = ms > slowest ? ms : slowest;
		calls++;
	}
	for (size_t i = 0; i < ng; i++) {
		if (rc[i] == 0)
			continue;
		failed++;
		printf("batch %s: %s %s %u failed (%d)\n", args[1], gs[i].src.text,
		       gs[i].proto == 6 ? "tcp" : "udp", gs[i].port, rc[i]);
	}
	printf("batch %s: %zu grants, %zu calls, %.1f ms, slowest %.1f ms\n", args[1], ng, calls,
	       total, slowest);
out:
	free(gs);
	free(gv);
	free(rc);
	return failed ? -EIO : 0;
}

/* The "admin" op: args[1..n-1] through the same runner. */
static int run_admin(struct drive_host *h, char **args, int n)
{
	const char *argv[32];
	struct spa_run_result res;
	int i, rc;

	if (n < 2 || n > 31)
		return -EINVAL;
	for (i = 1; i < n; i++)
		argv[i - 1] = args[i];
	argv[n - 1] = NULL;
	rc = drive_run(h, argv, 10000, &res);
	if (rc == 0 && res.exit_status != 0) {
		fprintf(stderr, "admin %s: status %d: %s\n", argv[0], res.exit_status,
			res.err ? res.err : "");
		rc = -EIO;
	}
	return rc;
}

static int run_op(const struct spa_plugin_descriptor *d, void *state, struct drive_host *h,
		  char **args, int n)
{
	struct spa_grant g;

	if (strcmp(args[0], "list") == 0)
		return d->ops.list ? d->ops.list(state, list_cb, NULL) : -ENOTSUP;
	if (strcmp(args[0], "flush") == 0)
		return d->ops.flush(state);
	if (strcmp(args[0], "admin") == 0)
		return run_admin(h, args, n);
	if (strcmp(args[0], "batch") == 0)
		return run_batch(d, state, args, n);
	if (parse_grant(args + 1, n - 1, &g) < 0) {
		fprintf(stderr, "bad grant arguments for %s\n", args[0]);
		return -EINVAL;
	}
	if (strcmp(args[0], "open") == 0)
		return d->ops.open(state, &g);
	if (strcmp(args[0], "close") == 0)
		return d->ops.close(state, &g);
	if (strcmp(args[0], "refresh") == 0)
		return d->ops.refresh ? d->ops.refresh(state, &g) : -ENOTSUP;
	fprintf(stderr, "unknown op %s\n", args[0]);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	struct drive_host h = { 0 };
	const struct spa_plugin_descriptor *d;
	void *dl = NULL, *state = NULL;
	int i = 1, rc = 1;

	h.api.struct_size = sizeof(h.api);
	h.api.self = &h;
	h.api.log = drive_log;
	h.api.config_get = drive_config_get;
	h.api.run = drive_run;
	h.api.run_input = drive_run_input;
	h.api.stanza_get = drive_stanza_get;
	h.api.op_fail = drive_op_fail;
	for (; i + 1 < argc && (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "-s") == 0);
	     i += 2) {
		int stanza = argv[i][1] == 's';
		char *eq = strchr(argv[i + 1], '=');

		if (!eq || (stanza ? h.nskeys : h.nkeys) >= MAX_KEYS)
			goto usage;
		*eq = '\0';
		if (stanza) {
			h.skeys[h.nskeys] = argv[i + 1];
			h.svalues[h.nskeys++] = eq + 1;
		} else {
			h.keys[h.nkeys] = argv[i + 1];
			h.values[h.nkeys++] = eq + 1;
		}
	}
	if (i + 1 >= argc)
		goto usage;
	dl = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		goto out;
	}
	d = dlsym(dl, SPA_PLUGIN_SYMBOL);
	if (!d || d->magic != SPA_PLUGIN_MAGIC || d->abi_major != SPA_PLUGIN_ABI_MAJOR ||
	    d->struct_size < sizeof(*d)) {
		fprintf(stderr, "%s: not a compatible plugin\n", argv[i]);
		goto out;
	}
	h.prefix = d->key_prefix;
	if (run_check(d, &h) < 0) {
		fprintf(stderr, "check failed\n");
		goto out;
	}
	if (d->ops.init(&h.api, &state) < 0) {
		fprintf(stderr, "init failed\n");
		goto out;
	}
	rc = 0;
	if (flush_wanted(&h, d->key_prefix, "AT_INIT") && d->ops.flush(state) < 0) {
		fprintf(stderr, "flush at init failed\n");
		rc = 1;
	}
	for (i++; i < argc && rc == 0;) {
		int n = 0;

		while (i + n < argc && strcmp(argv[i + n], "--") != 0)
			n++;
		int r = n > 0 ? run_op(d, state, &h, argv + i, n) : 0;

		if (r < 0) {
			fprintf(stderr, "%s failed (%d)\n", argv[i], r);
			rc = 1;
		}
		i += n + 1;
	}
	if (flush_wanted(&h, d->key_prefix, "AT_EXIT") && d->ops.flush(state) < 0) {
		fprintf(stderr, "flush at exit failed\n");
		rc = 1;
	}
	d->ops.fini(state);
out:
	spa_run_buf_free(&h.buf);
	if (dl)
		dlclose(dl);
	return rc;
usage:
	fprintf(stderr, "usage: spa_plugin_drive [-o KEY=VALUE]... [-s KEY=VALUE]... PLUGIN.so OP [ARGS] "
			"[-- OP ...]\n");
	return 2;
}
