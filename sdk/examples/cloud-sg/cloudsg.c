/* SPDX-License-Identifier: MIT */
/*
 * cloudsg: an example spad plugin that opens grants as ingress rules of a
 * cloud security group, through the provider's API (simulated by cloud.c).
 * What it shows:
 *  - open creates a rule and keeps the rule id the provider returns as the
 *    grant's token (token_set); close revokes by that id (token_get), the
 *    one thing it could not derive from the grant;
 *  - list reports only the group's rules carrying our description, so that
 *    the engine's reconciliation re-creates what the group lost and
 *    revokes what no grant covers, never touching anybody else's rules;
 *  - failures are classed with op_fail: throttling is worth a retry, a
 *    refused parameter is not;
 *  - a configuration schema, with the API credential a secret that may
 *    come from a file (CLOUDSG_API_TOKEN_FILE);
 *  - open_batch: grants due together are one request (SPA_PLUGIN_CAP_BATCH).
 * It is built out of tree and uses nothing but <spa/plugin.h>.
 */
#include "cloud.h"

#include <spa/plugin.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct cloudsg {
	const struct spa_host_api *host;
	struct cloud api;
	const char *group;            /* config_get's: valid until fini */
	const char *description;
};

/* The schema (ABI 1.3): spad refuses unknown CLOUDSG_ keys, applies the
 * defaults and reads CLOUDSG_API_TOKEN_FILE for the secret. */
static const struct spa_plugin_key cloudsg_keys[] = {
	{ "CLOUDSG_STATE_FILE", SPA_KEY_PATH, SPA_KEY_REQUIRED, NULL, NULL,
	  "the file in which the simulated provider keeps the group" },
	{ "CLOUDSG_GROUP", SPA_KEY_STRING, 0, "sg-spa", NULL, "the security group" },
	{ "CLOUDSG_DESCRIPTION", SPA_KEY_STRING, 0, "spad", NULL,
	  "description of the rules spad creates; the group's other rules are not spad's" },
	{ "CLOUDSG_API_TOKEN", SPA_KEY_STRING, SPA_KEY_REQUIRED | SPA_KEY_SECRET, NULL, NULL,
	  "the provider's API credential (CLOUDSG_API_TOKEN_FILE keeps it out of fwknopd.conf)" },
};

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

/* Says whether a retry can help; an engine older than ABI 1.4 has no
 * op_fail and classes the error code itself. */
__attribute__((format(printf, 4, 5)))
static int fail(struct cloudsg *sg, const struct spa_grant *g, int kind, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (SPA_HOST_HAS(sg->host, op_fail))
		return sg->host->op_fail(sg->host->self, g, kind, "%s", msg);
	sg->host->log(sg->host->self, SPA_LOG_ERR, "%s", msg);
	return kind == SPA_FAIL_TRANSIENT ? SPA_ERR_TRANSIENT : SPA_ERR_PERMANENT;
}

/* The provider's errors (cloud.h): only throttling and a request that did
 * not get through are worth a retry. */
static int api_fail(struct cloudsg *sg, const struct spa_grant *g, const char *call, int err)
{
	switch (err) {
	case -EAGAIN:
		return fail(sg, g, SPA_FAIL_TRANSIENT, "%s: throttled", call);
	case -EINVAL:
		return fail(sg, g, SPA_FAIL_PERMANENT, "%s: a parameter was refused", call);
	case -EDQUOT:
		return fail(sg, g, SPA_FAIL_PERMANENT, "%s: the group holds %d rules, its quota",
			    call, CLOUD_QUOTA);
	case -EACCES:
		return fail(sg, g, SPA_FAIL_PERMANENT, "%s: CLOUDSG_API_TOKEN refused", call);
	default:
		return fail(sg, g, SPA_FAIL_TRANSIENT, "%s: %s", call, strerror(-err));
	}
}

static bool ours(const struct cloudsg *sg, const struct cloud_rule *r)
{
	return strcmp(r->description, sg->description) == 0;
}

static void rule_of(const struct cloudsg *sg, const struct spa_grant *g, struct cloud_rule *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->group, sizeof(r->group), "%s", sg->group);
	snprintf(r->proto, sizeof(r->proto), "%s", proto_name(g->proto));
	r->port = g->port;
	snprintf(r->cidr, sizeof(r->cidr), "%s/%d", g->src.text, g->family == AF_INET6 ? 128 : 32);
	snprintf(r->description, sizeof(r->description), "%s", sg->description);
}

/* The grant a rule of one address stands for; false for a wider rule. */
static bool grant_of(const struct cloud_rule *r, struct spa_grant *g)
{
	char addr[CLOUD_CIDR_LEN];
	const char *slash = strchr(r->cidr, '/');

	memset(g, 0, sizeof(*g));
	g->struct_size = sizeof(*g);
	if (!slash)
		return false;
	snprintf(addr, sizeof(addr), "%.*s", (int)(slash - r->cidr), r->cidr);
	if (inet_pton(AF_INET, addr, &g->src.bin) == 1 && strcmp(slash, "/32") == 0)
		g->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &g->src.bin) == 1 && strcmp(slash, "/128") == 0)
		g->family = AF_INET6;
	else
		return false;
	g->src.family = g->family;
	inet_ntop(g->family, &g->src.bin, g->src.text, sizeof(g->src.text));
	g->proto = strcmp(r->proto, "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
	g->port = r->port;
	return true;
}

static bool same_hole(const struct spa_grant *a, const struct spa_grant *b)
{
	return a->family == b->family && a->proto == b->proto && a->port == b->port &&
	       memcmp(&a->src.bin, &b->src.bin,
		      a->family == AF_INET6 ? sizeof(struct in6_addr) : sizeof(struct in_addr)) == 0;
}

static bool valid_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n < CLOUD_NAME_LEN &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") == n;
}

/* The one parser of check and init; the provider is not called. */
static int load_config(const struct spa_host_api *host, struct cloudsg *sg)
{
	const char *path = host->config_get(host->self, "CLOUDSG_STATE_FILE");

	sg->host = host;
	sg->api.path = path;
	sg->api.token = host->config_get(host->self, "CLOUDSG_API_TOKEN");
	sg->group = host->config_get(host->self, "CLOUDSG_GROUP");
	sg->description = host->config_get(host->self, "CLOUDSG_DESCRIPTION");
	if (!path || path[0] != '/') {
		host->log(host->self, SPA_LOG_ERR, "CLOUDSG_STATE_FILE '%s': not an absolute path",
			  path ? path : "(unset)");
		return -EINVAL;
	}
	if (!sg->api.token || !*sg->api.token) {
		host->log(host->self, SPA_LOG_ERR, "CLOUDSG_API_TOKEN (or _FILE) is required");
		return -EINVAL;
	}
	if (!valid_name(sg->group) || !valid_name(sg->description)) {
		host->log(host->self, SPA_LOG_ERR, "CLOUDSG_GROUP '%s', CLOUDSG_DESCRIPTION '%s': "
			  "letters, digits, '_', '.', ':', '-' only", sg->group ? sg->group : "",
			  sg->description ? sg->description : "");
		return -EINVAL;
	}
	return 0;
}

/* ABI 1.2: stateless; no per-stanza keys, so a stanza probe is fine. */
static int cloudsg_check(const struct spa_host_api *host, const struct spa_grant *probe)
{
	struct cloudsg scratch;

	return probe ? 0 : load_config(host, &scratch);
}

static int cloudsg_init(const struct spa_host_api *host, void **state)
{
	struct cloudsg *sg;
	int rc;

	if (!SPA_HOST_HAS(host, token_set) || !SPA_HOST_HAS(host, token_get)) {
		host->log(host->self, SPA_LOG_ERR, "needs an engine with tokens (ABI 1.3)");
		return -ENOTSUP;
	}
	sg = calloc(1, sizeof(*sg));
	if (!sg)
		return -ENOMEM;
	rc = load_config(host, sg);
	if (rc < 0) {
		free(sg);
		return rc;
	}
	host->log(host->self, SPA_LOG_INFO, "group %s, rules described '%s'", sg->group,
		  sg->description);
	*state = sg;
	return 0;
}

/* One request for the n grants. The provider answers a rule it already
 * holds with that rule's id, so an open repeated at a restart creates
 * nothing twice. */
static int cloudsg_open_batch(void *state, const struct spa_grant *const *g, size_t n, int *rc)
{
	struct cloudsg *sg = state;
	struct cloud_rule *r = calloc(n, sizeof(*r));
	int err;

	if (!r) {
		for (size_t i = 0; i < n; i++)
			rc[i] = -ENOMEM;
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		rule_of(sg, g[i], &r[i]);
	err = cloud_authorize(&sg->api, r, n, rc);
	if (n > 1)
		sg->host->log(sg->host->self, SPA_LOG_INFO, "authorize: %zu rules in one request", n);
	for (size_t i = 0; i < n; i++) {
		if (rc[i] < 0) {
			rc[i] = api_fail(sg, g[i], "authorize", rc[i]);
			continue;
		}
		/* journaled with the grant: close gets it back, even after a kill -9 */
		rc[i] = sg->host->token_set(sg->host->self, g[i], r[i].id, strlen(r[i].id));
		if (rc[i] == 0)
			sg->host->log(sg->host->self, SPA_LOG_INFO, "grant %llu: %s %s/%u is rule %s",
				      (unsigned long long)g[i]->id, g[i]->src.text,
				      proto_name(g[i]->proto), g[i]->port, r[i].id);
	}
	free(r);
	return err < 0 ? rc[0] : 0;
}

static int cloudsg_open(void *state, const struct spa_grant *g)
{
	int rc;

	cloudsg_open_batch(state, &g, 1, &rc);
	return rc;
}

/* Our rules, from the provider; a failure is already classed. */
static int describe_ours(struct cloudsg *sg, const struct spa_grant *g, struct cloud_rule **v,
			 size_t *n)
{
	size_t kept = 0;
	int rc = cloud_describe(&sg->api, sg->group, v, n);

	if (rc < 0)
		return api_fail(sg, g, "describe", rc);
	for (size_t i = 0; i < *n; i++)
		if (ours(sg, &(*v)[i]))
			(*v)[kept++] = (*v)[i];
	*n = kept;
	return 0;
}

/* Revokes, in one request, the rules of v[] that match g (all: no match). */
static int revoke_where(struct cloudsg *sg, const struct spa_grant *g, struct cloud_rule *v,
			size_t n, bool (*match)(const struct cloud_rule *, const struct spa_grant *),
			size_t *gone)
{
	const char **ids = calloc(n ? n : 1, sizeof(*ids));
	int rc;

	*gone = 0;
	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!match || match(&v[i], g))
			ids[(*gone)++] = v[i].id;
	rc = *gone ? cloud_revoke(&sg->api, sg->group, ids, *gone) : 0;
	free(ids);
	return rc < 0 ? api_fail(sg, g, "revoke", rc) : 0;
}

static bool rule_of_hole(const struct cloud_rule *r, const struct spa_grant *g)
{
	struct spa_grant h;

	return grant_of(r, &h) && same_hole(&h, g);
}

/* Without a token: a rule the listing reported that no grant covers, or
 * a grant whose open never got its id. Our rules of that hole go. */
static int close_by_hole(struct cloudsg *sg, const struct spa_grant *g)
{
	struct cloud_rule *v;
	size_t n, gone = 0;
	int rc = describe_ours(sg, g, &v, &n);

	if (rc == 0)
		rc = revoke_where(sg, g, v, n, rule_of_hole, &gone);
	free(v);
	if (rc == 0)
		sg->host->log(sg->host->self, SPA_LOG_NOTICE, "%s %s/%u (%s): revoked %zu rule(s)",
			      g->src.text, proto_name(g->proto), g->port,
			      g->id ? "its grant has no token" : "no grant covers it", gone);
	return rc;
}

/* Revoking an id the group no longer holds is fine: close is idempotent. */
static int cloudsg_close(void *state, const struct spa_grant *g)
{
	struct cloudsg *sg = state;
	size_t len = 0;
	const char *tok = sg->host->token_get(sg->host->self, g, &len);
	char id[CLOUD_ID_LEN];
	const char *ids[] = { id };
	int rc;

	if (!tok || len == 0 || len >= sizeof(id))
		return close_by_hole(sg, g);
	memcpy(id, tok, len);
	id[len] = '\0';
	rc = cloud_revoke(&sg->api, sg->group, ids, 1);
	if (rc < 0)
		return api_fail(sg, g, "revoke", rc);
	sg->host->log(sg->host->self, SPA_LOG_INFO, "grant %llu: rule %s revoked",
		      (unsigned long long)g->id, id);
	return 0;
}

/* The provider does not know when a rule expires (the engine's journal
 * does): expires stays 0. */
static int cloudsg_list(void *state, spa_plugin_list_cb cb, void *ctx)
{
	struct cloudsg *sg = state;
	struct cloud_rule *v;
	struct spa_grant g;
	size_t n;
	int rc = describe_ours(sg, NULL, &v, &n);

	for (size_t i = 0; rc == 0 && i < n; i++)
		if (grant_of(&v[i], &g))
			cb(ctx, &g);
	free(v);
	return rc;
}

/* Every rule of ours in the group, in one request; nobody else's. */
static int cloudsg_flush(void *state)
{
	struct cloudsg *sg = state;
	struct cloud_rule *v;
	size_t n, gone;
	int rc = describe_ours(sg, NULL, &v, &n);

	if (rc == 0)
		rc = revoke_where(sg, NULL, v, n, NULL, &gone);
	free(v);
	return rc;
}

static void cloudsg_fini(void *state)
{
	free(state);
}

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.name = "cloudsg",
	.version = "2.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6 | SPA_PLUGIN_CAP_BATCH,
	.key_prefix = "CLOUDSG_",
	.ops = {
		.init = cloudsg_init,
		.open = cloudsg_open,
		.close = cloudsg_close,
		.list = cloudsg_list,
		.flush = cloudsg_flush,
		.fini = cloudsg_fini,
		.check = cloudsg_check,
	},
	.keys = cloudsg_keys,
	.n_keys = sizeof(cloudsg_keys) / sizeof(cloudsg_keys[0]),
	.open_batch = cloudsg_open_batch,
};
