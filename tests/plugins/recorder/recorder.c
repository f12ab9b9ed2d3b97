/* SPDX-License-Identifier: MIT */
/*
 * recorder - a test-only backend that opens nothing and writes every call it
 * receives, one line each, to RECORDER_FILE. Integration tests read that
 * file to check exactly what the engine asked for, through the real loader.
 *
 * It also holds the engine to its SDK promises: it keeps the pointers
 * config_get returned at init and uses them at every call (the engine owns
 * them until fini: under ASan a reload that freed them is caught), records
 * the stanza variable <PREFIX>TAG of each grant (the policy it was granted
 * under), and fails every close while the file named by <PREFIX>FAIL_CLOSE_IF
 * exists (a backend that refuses to close). With <PREFIX>TOKENS Y it attaches
 * a token "rule-<id>-<port>" to each grant it opens (ABI 1.3 token_set) and
 * records the token the engine hands back with every call, and what
 * token_set answers to a token too long and to a set at close. Built
 * twice, as "recorder" and
 * "recorder2" (prefix RECORDER2_), so one config can use two plugins.
 * "recorder" declares SPA_PLUGIN_CAP_NAT and records a NAT grant's form
 * (" nat=forward+snat to=ADDR,PORT snat=ADDR", only on NAT grants);
 * "recorder2" has no NAT, for the engine's refusals.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spa/plugin.h"

#ifndef RECORDER_NAME
#define RECORDER_NAME "recorder"
#define RECORDER_PREFIX "RECORDER_"
#define RECORDER_NAT 1
#endif
#ifndef RECORDER_NAT
#define RECORDER_NAT 0
#endif

struct recorder {
	const struct spa_host_api *host;
	const char *path;       /* config_get's, kept: valid until fini */
	const char *fail_if;    /* likewise; NULL: closes never fail */
	bool tokens;            /* <PREFIX>TOKENS Y */
};

static int record(struct recorder *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int record(struct recorder *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return -EOVERFLOW;
	line[n++] = '\n';
	fd = open(r->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, line, (size_t)n) != n) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

static int rec_grant(struct recorder *r, const char *op, const struct spa_grant *g)
{
	const char *tag = r->host->stanza_get(r->host->self, g, RECORDER_PREFIX "TAG");
	char token[SPA_GRANT_TOKEN_MAX + 16] = "", nat[160] = "";

	/* the tokens this plugin sets are text; printed as such */
	if (r->tokens) {
		size_t len;
		const char *t = r->host->token_get(r->host->self, g, &len);
		snprintf(token, sizeof(token), " token=%.*s", t ? (int)len : 1, t ? t : "-");
	}
	if (SPA_GRANT_HAS(g, nat_flags) && g->nat_flags) {
		uint32_t f = g->nat_flags;
		snprintf(nat, sizeof(nat), " nat=%s%s%s%s%s to=%s,%u snat=%s",
			 f & SPA_NAT_LOCAL ? "local" : f & SPA_NAT_FORWARD ? "forward" : "none",
			 f & SPA_NAT_FORWARD_ALL ? "+all" : "", f & SPA_NAT_NO_DNAT ? "+nodnat" : "",
			 f & SPA_NAT_SNAT ? "+snat" : "", f & SPA_NAT_MASQUERADE ? "+masq" : "",
			 g->nat_addr.family ? g->nat_addr.text : "-", g->nat_port,
			 g->snat_addr.family ? g->snat_addr.text : "-");
	}
	return record(r, "%s id=%llu family=%d src=%s proto=%u port=%u timeout=%u stanza=%s "
		      "user=%s tag=%s plugin=" RECORDER_NAME "%s%s",
		      op, (unsigned long long)g->id, g->family == AF_INET6 ? 6 : 4, g->src.text,
		      g->proto, g->port, g->timeout, g->stanza, g->username, tag ? tag : "-",
		      token, nat);
}

static int rec_init(const struct spa_host_api *host, void **state)
{
	const char *path = host->config_get(host->self, RECORDER_PREFIX "FILE");
	const char *argv[] = { "/bin/echo", "runner-ok", NULL };
	struct spa_run_result res;
	const char *token;
	struct recorder *r;
	int rc;

	if (!path || strlen(path) >= 4096) {
		host->log(host->self, SPA_LOG_ERR, RECORDER_PREFIX "FILE is not set");
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->host = host;
	r->path = path;
	r->fail_if = host->config_get(host->self, RECORDER_PREFIX "FAIL_CLOSE_IF");
	token = host->config_get(host->self, RECORDER_PREFIX "TOKENS");
	r->tokens = token && (token[0] == 'Y' || token[0] == 'y');
	if (r->tokens && (!SPA_HOST_HAS(host, token_set) || !SPA_HOST_HAS(host, token_get))) {
		host->log(host->self, SPA_LOG_ERR, "this engine keeps no grant tokens");
		free(r);
		return -ENOTSUP;
	}
	/* exercise the host's command runner so tests cover it end to end */
	rc = host->run(host->self, argv, 2000, &res);
	if (rc == 0)
		rc = record(r, "init run=%d out=%.*s", res.exit_status,
			    (int)strcspn(res.out, "\n"), res.out);
	/* the schema's tests: a secret (maybe from RECORDER_TOKEN_FILE) and a
	 * default reach the plugin through config_get */
	token = host->config_get(host->self, RECORDER_PREFIX "TOKEN");
	if (rc == 0 && token)
		rc = record(r, "keys token=%s mode=%s", token,
			    host->config_get(host->self, RECORDER_PREFIX "MODE"));
	if (rc < 0) {
		free(r);
		return rc;
	}
	*state = r;
	return 0;
}

static int rec_open(void *state, const struct spa_grant *g)
{
	struct recorder *r = state;
	char big[SPA_GRANT_TOKEN_MAX + 1], token[64];
	int rc = rec_grant(r, "open", g);

	if (rc < 0 || !r->tokens)
		return rc;
	/* one byte too many is refused; the grant keeps what it had */
	memset(big, 'x', sizeof(big));
	rc = r->host->token_set(r->host->self, g, big, sizeof(big));
	record(r, "token %zu bytes id=%llu: rc=%d", sizeof(big), (unsigned long long)g->id, rc);
	/* what a cloud backend would keep: the id of the rule it made */
	snprintf(token, sizeof(token), "rule-%llu-%u", (unsigned long long)g->id, g->port);
	return r->host->token_set(r->host->self, g, token, strlen(token));
}

static int rec_close(void *state, const struct spa_grant *g)
{
	struct recorder *r = state;
	int rc;

	if (r->fail_if && access(r->fail_if, F_OK) == 0) {
		rec_grant(r, "close-failed", g);
		return -EIO;
	}
	rc = rec_grant(r, "close", g);
	/* at close a token may only be cleared */
	if (rc == 0 && r->tokens)
		record(r, "token set at close id=%llu: rc=%d", (unsigned long long)g->id,
		       r->host->token_set(r->host->self, g, "x", 1));
	return rc;
}

static int rec_refresh(void *state, const struct spa_grant *g)
{
	return rec_grant(state, "refresh", g);
}

static int rec_flush(void *state)
{
	return record(state, "flush");
}

/* Refuses <PREFIX>TAG "invalid" in a stanza, like a plugin's bad key. */
static int rec_check(const struct spa_host_api *host, const struct spa_grant *probe)
{
	const char *tag;

	if (!probe)
		return 0;
	tag = host->stanza_get(host->self, probe, RECORDER_PREFIX "TAG");
	if (tag && strcmp(tag, "invalid") == 0) {
		host->log(host->self, SPA_LOG_ERR, "%s: " RECORDER_PREFIX "TAG 'invalid'",
			  probe->stanza);
		return -EINVAL;
	}
	return 0;
}

static void rec_fini(void *state)
{
	record(state, "fini");
	free(state);
}

/* Its keys (ABI 1.3): the engine checks them before the plugin sees any. */
static const struct spa_plugin_key recorder_keys[] = {
	{ RECORDER_PREFIX "FILE", SPA_KEY_PATH, SPA_KEY_REQUIRED, NULL, NULL,
	  "where every call is recorded" },
	{ RECORDER_PREFIX "FAIL_CLOSE_IF", SPA_KEY_PATH, 0, NULL, NULL,
	  "close fails while this file exists" },
	{ RECORDER_PREFIX "TOKEN", SPA_KEY_STRING, SPA_KEY_SECRET, NULL, NULL,
	  "a secret, recorded at init (tests of _FILE and -D)" },
	{ RECORDER_PREFIX "MODE", SPA_KEY_STRING, 0, "fast", "fast|slow", "a choice" },
	{ RECORDER_PREFIX "LIMIT", SPA_KEY_UINT, 0, "5", NULL, "a number" },
	{ RECORDER_PREFIX "TAG", SPA_KEY_STRING, SPA_KEY_STANZA, NULL, NULL,
	  "recorded with each grant of the stanza" },
	{ RECORDER_PREFIX "TOKENS", SPA_KEY_BOOL, 0, "N", NULL,
	  "attach a token to each grant and record the one handed back" },
};

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.keys = recorder_keys,
	.n_keys = sizeof(recorder_keys) / sizeof(recorder_keys[0]),
	.name = RECORDER_NAME,
	.version = "1.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6 | (RECORDER_NAT ? SPA_PLUGIN_CAP_NAT : 0),
	.key_prefix = RECORDER_PREFIX,
	.ops = {
		.init = rec_init,
		.open = rec_open,
		.close = rec_close,
		.refresh = rec_refresh,
		.flush = rec_flush,
		.fini = rec_fini,
		.check = rec_check,
	},
};
