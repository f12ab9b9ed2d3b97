/* SPDX-License-Identifier: MIT */
#include "fake_host.h"
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct fake_host *from_self(void *self)
{
	return self;
}

static void fake_log(void *self, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fake_log(void *self, int level, const char *fmt, ...)
{
	struct fake_host *h = from_self(self);
	va_list ap;

	if (level <= SPA_LOG_ERR) {
		h->nerrors++;
		va_start(ap, fmt);
		vsnprintf(h->last_err, sizeof(h->last_err), fmt, ap);
		va_end(ap);
	}
	if (getenv("FAKE_HOST_VERBOSE")) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

static const char *fake_config_get(void *self, const char *key)
{
	struct fake_host *h = from_self(self);

	for (unsigned int i = 0; i < h->nkeys; i++)
		if (strcmp(h->keys[i], key) == 0)
			return h->values[i];
	return NULL;
}

static const char *fake_stanza_get(void *self, const struct spa_grant *g, const char *key)
{
	struct fake_host *h = from_self(self);

	if (!g)
		return NULL;
	for (unsigned int i = h->nskeys; i-- > 0;)
		if (strcmp(h->skeys[i], key) == 0)
			return h->svalues[i];
	return NULL;
}

char *fake_host_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = calloc(1, (size_t)len + 1);
		if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Records argv and answers with the canned reply for argv[0]; NULL when
 * the call table is full. */
static struct fake_call *record(struct fake_host *h, const char *const argv[],
				struct spa_run_result *res)
{
	struct fake_call *c;
	size_t off = 0;

	memset(res, 0, sizeof(*res));
	res->out = "";
	res->err = "";
	if (h->ncalls >= FAKE_MAX_CALLS)
		return NULL;
	c = &h->calls[h->ncalls++];
	for (unsigned int n = 0; argv[n]; n++) {
		int w = snprintf(c->argv + off, sizeof(c->argv) - off, "%s%s",
				 n ? " " : "", argv[n]);
		if (w < 0 || (size_t)w >= sizeof(c->argv) - off)
			break;
		off += (size_t)w;
	}
	for (unsigned int i = 0; i < h->nreplies; i++) {
		if (ends_with(argv[0], h->reply_suffix[i])) {
			res->out = h->reply_out[i];
			res->out_len = strlen(res->out);
			res->exit_status = h->reply_status[i];
			break;
		}
	}
	return c;
}

static int fake_run(void *self, const char *const argv[], int timeout_ms,
		    struct spa_run_result *res)
{
	struct fake_host *h = from_self(self);
	struct fake_call *c = record(h, argv, res);
	unsigned int n = 0;

	(void)timeout_ms;
	if (!c)
		return -1;
	while (argv[n])
		n++;
	if (n > 1 && strncmp(argv[n - 1], "/tmp/", 5) == 0)
		c->file = fake_host_slurp(argv[n - 1]);
	return 0;
}

static int fake_run_input(void *self, const char *const argv[], const void *input,
			  size_t input_len, int timeout_ms, struct spa_run_result *res)
{
	struct fake_host *h = from_self(self);
	struct fake_call *c = record(h, argv, res);

	(void)timeout_ms;
	if (!c)
		return -1;
	c->file = malloc(input_len + 1);
	if (!c->file)
		return -ENOMEM;
	memcpy(c->file, input, input_len);
	c->file[input_len] = '\0';
	c->from_stdin = 1;
	return 0;
}

void fake_host_init(struct fake_host *h)
{
	memset(h, 0, sizeof(*h));
	h->api.struct_size = sizeof(h->api);
	h->api.self = h;
	h->api.log = fake_log;
	h->api.config_get = fake_config_get;
	h->api.run = fake_run;
	h->api.run_input = fake_run_input;
	h->api.stanza_get = fake_stanza_get;
}

void fake_host_reset_calls(struct fake_host *h)
{
	for (unsigned int i = 0; i < h->ncalls; i++)
		free(h->calls[i].file);
	memset(h->calls, 0, sizeof(h->calls));
	h->ncalls = 0;
}

void fake_host_free(struct fake_host *h)
{
	fake_host_reset_calls(h);
}

void fake_host_set(struct fake_host *h, const char *key, const char *value)
{
	if (h->nkeys < FAKE_MAX_KEYS) {
		h->keys[h->nkeys] = key;
		h->values[h->nkeys++] = value;
	}
}

void fake_host_reply(struct fake_host *h, const char *suffix, const char *out, int status)
{
	for (unsigned int i = 0; i < h->nreplies; i++) {
		if (strcmp(h->reply_suffix[i], suffix) == 0) {
			h->reply_out[i] = out;
			h->reply_status[i] = status;
			return;
		}
	}
	if (h->nreplies < 4) {
		h->reply_suffix[h->nreplies] = suffix;
		h->reply_out[h->nreplies] = out;
		h->reply_status[h->nreplies++] = status;
	}
}

int fake_host_find(const struct fake_host *h, const char *prefix)
{
	for (unsigned int i = 0; i < h->ncalls; i++)
		if (strncmp(h->calls[i].argv, prefix, strlen(prefix)) == 0)
			return (int)i;
	return -1;
}

void fake_host_set_stanza(struct fake_host *h, const char *key, const char *value)
{
	if (h->nskeys < FAKE_MAX_KEYS) {
		h->skeys[h->nskeys] = key;
		h->svalues[h->nskeys++] = value;
	}
}

void fake_host_seen(void *ctx, const struct spa_grant *g)
{
	struct fake_seen *s = ctx;

	if (s->n < FAKE_SEEN_MAX)
		snprintf(s->text[s->n++], sizeof(s->text[0]), "%s %u/%u %lld", g->src.text,
			 g->proto, g->port, (long long)g->expires);
}

void fake_host_collect(void *ctx, const struct spa_grant *g)
{
	struct fake_listed *l = ctx;

	if (l->n < FAKE_SEEN_MAX)
		l->g[l->n++] = *g;
}

struct spa_grant fake_host_grant(int af, const char *src, const char *dst,
				 int proto, int port, uint32_t timeout,
				 int64_t expires, const char *poison)
{
	struct spa_grant g;

	memset(&g, 0, sizeof(g));
	g.struct_size = sizeof(g);
	g.family = af;
	g.src.family = af;
	if (inet_pton(af, src, &g.src.bin) != 1)
		abort();
	snprintf(g.src.text, sizeof(g.src.text), "%s", poison);
	if (dst) {
		g.dst.family = af;
		if (inet_pton(af, dst, &g.dst.bin) != 1)
			abort();
	}
	g.proto = (uint8_t)proto;
	g.port = (uint16_t)port;
	g.timeout = timeout;
	g.expires = expires;
	return g;
}

struct spa_grant fake_host_probe(const char *stanza)
{
	struct spa_grant g;

	memset(&g, 0, sizeof(g));
	g.struct_size = sizeof(g);
	snprintf(g.stanza, sizeof(g.stanza), "%s", stanza);
	return g;
}
