/* SPDX-License-Identifier: MIT */
#include "spa_ipset.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *key;
	const char *def;
	const char *type;
	const char *family;
} kinds[SPA_IPSET_NSETS] = {
	[SPA_IPSET_V4] = { "IPSET_SET4", "spa4", "hash:ip,port", "inet" },
	[SPA_IPSET_V6] = { "IPSET_SET6", "spa6", "hash:ip,port", "inet6" },
	[SPA_IPSET_V4D] = { "IPSET_SET4_DST", "spa4d", "hash:ip,port,ip", "inet" },
	[SPA_IPSET_V6D] = { "IPSET_SET6_DST", "spa6d", "hash:ip,port,ip", "inet6" },
};

const char *spa_ipset_type(enum spa_ipset_kind k)
{
	return kinds[k].type;
}

const char *spa_ipset_family(enum spa_ipset_kind k)
{
	return kinds[k].family;
}

/* Set names are ipset arguments: no leading '-', no separators. */
int spa_ipset_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= SPA_IPSET_NAME_LEN || !isalpha((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

#ifdef SPA_IPSET_HAVE_LIBIPSET
#define SPA_IPSET_XPORT_DEFAULT (&spa_ipset_xport_lib)
#define SPA_IPSET_XPORT_NAMES "library, exec"
#else
#define SPA_IPSET_XPORT_DEFAULT (&spa_ipset_xport_exec)
#define SPA_IPSET_XPORT_NAMES "exec (built without libipset)"
#endif

/* IPSET_TRANSPORT: the library when built in, else the ipset command;
 * "exec" forces the command (e.g. to test it where the library exists). */
static int pick_transport(const struct spa_host_api *host, struct spa_ipset_state *st)
{
	const char *v = host->config_get(host->self, "IPSET_TRANSPORT");

	if (!v || !*v)
		st->xport = SPA_IPSET_XPORT_DEFAULT;
	else if (strcmp(v, spa_ipset_xport_exec.name) == 0)
		st->xport = &spa_ipset_xport_exec;
#ifdef SPA_IPSET_HAVE_LIBIPSET
	else if (strcmp(v, spa_ipset_xport_lib.name) == 0)
		st->xport = &spa_ipset_xport_lib;
#endif
	else {
		host->log(host->self, SPA_LOG_ERR,
			  "IPSET_TRANSPORT: '%s' is not one of: " SPA_IPSET_XPORT_NAMES, v);
		return -EINVAL;
	}
	return 0;
}

int spa_ipset_load_config(const struct spa_host_api *host, struct spa_ipset_state *st)
{
	int rc;

	st->host = host;
	st->exe = spa_pu_config_exe(host, "IPSET_EXE", "/usr/sbin/ipset");
	if (!st->exe)
		return -EINVAL;
	rc = pick_transport(host, st);
	if (rc < 0)
		return rc;
	for (int k = 0; k < SPA_IPSET_NSETS; k++) {
		const char *v = host->config_get(host->self, kinds[k].key);

		if (!v || !*v)
			v = kinds[k].def;
		if (!spa_ipset_valid_name(v)) {
			host->log(host->self, SPA_LOG_ERR, "%s: invalid set name '%s'",
				  kinds[k].key, v);
			return -EINVAL;
		}
		memcpy(st->sets[k], v, strlen(v) + 1);
		for (int j = 0; j < k; j++) {
			if (strcmp(st->sets[j], st->sets[k]) == 0) {
				host->log(host->self, SPA_LOG_ERR, "%s: set '%s' used twice",
					  kinds[k].key, v);
				return -EINVAL;
			}
		}
	}
	/* One knob per behaviour: the engine's FLUSH_IPSET_AT_INIT/EXIT (it
	 * calls ops.flush, in daemon mode only, never for --fw-list). */
	rc = spa_pu_config_replaced(host, "IPSET_FLUSH_AT_INIT", "FLUSH_IPSET_AT_INIT");
	if (rc == 0)
		rc = spa_pu_config_replaced(host, "IPSET_FLUSH_AT_EXIT", "FLUSH_IPSET_AT_EXIT");
	return rc;
}

int spa_ipset_element(const struct spa_ipset_state *st, const struct spa_grant *g,
		      const char **set, char *elem, size_t len)
{
	char src[SPA_GRANT_ADDR_LEN], dst[SPA_GRANT_ADDR_LEN];
	const char *proto = spa_pu_proto_name(g->proto);
	int v6 = g->family == AF_INET6;
	int n, rc;

	if (!proto || g->port == 0 || (g->family != AF_INET && !v6) ||
	    g->src.family != g->family || (g->dst.family && g->dst.family != g->family))
		return -EINVAL;
	rc = spa_pu_addr_text(&g->src, src, sizeof(src));
	if (rc < 0)
		return rc;
	if (g->dst.family) {
		rc = spa_pu_addr_text(&g->dst, dst, sizeof(dst));
		if (rc < 0)
			return rc;
		*set = st->sets[v6 ? SPA_IPSET_V6D : SPA_IPSET_V4D];
		n = snprintf(elem, len, "%s,%s:%u,%s", src, proto, g->port, dst);
	} else {
		*set = st->sets[v6 ? SPA_IPSET_V6 : SPA_IPSET_V4];
		n = snprintf(elem, len, "%s,%s:%u", src, proto, g->port);
	}
	return n < 0 || (size_t)n >= len ? -E2BIG : 0;
}

static int fill_addr(struct spa_grant_addr *a, int af, const char *s)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(af, s, &a->bin) != 1)
		return -EINVAL;
	a->family = af;
	return spa_pu_addr_text(a, a->text, sizeof(a->text));
}

/* "add SET IP,proto:port[,DST] [timeout N]" */
static void parse_line(const struct spa_ipset_state *st, char *line, int64_t now,
		       spa_plugin_list_cb cb, void *ctx)
{
	char *save = NULL;
	char *verb = strtok_r(line, " ", &save);
	char *name = strtok_r(NULL, " ", &save);
	char *elem = strtok_r(NULL, " ", &save);
	char *opt = strtok_r(NULL, " ", &save);
	char *optval = strtok_r(NULL, " ", &save);
	char *src, *pp, *dst, *colon, *end;
	struct spa_grant g;
	int kind = -1, proto, af;
	long port;

	if (!verb || strcmp(verb, "add") != 0 || !name || !elem)
		return;
	for (int k = 0; k < SPA_IPSET_NSETS; k++)
		if (strcmp(st->sets[k], name) == 0)
			kind = k;
	if (kind < 0)
		return;
	af = kind == SPA_IPSET_V4 || kind == SPA_IPSET_V4D ? AF_INET : AF_INET6;
	src = strtok_r(elem, ",", &save);
	pp = strtok_r(NULL, ",", &save);
	dst = strtok_r(NULL, ",", &save);
	if (!src || !pp || (kind >= SPA_IPSET_V4D) != (dst != NULL))
		return;
	colon = strchr(pp, ':');
	if (!colon)
		return;
	*colon = '\0';
	proto = spa_pu_proto_number(pp);
	port = strtol(colon + 1, &end, 10);
	if (proto < 0 || *end || port <= 0 || port > 65535)
		return;
	memset(&g, 0, sizeof(g));
	g.struct_size = sizeof(g);
	g.family = af;
	if (fill_addr(&g.src, af, src) < 0 || (dst && fill_addr(&g.dst, af, dst) < 0))
		return;
	g.proto = (uint8_t)proto;
	g.port = (uint16_t)port;
	if (opt && optval && strcmp(opt, "timeout") == 0)
		g.expires = now + strtoll(optval, NULL, 10);
	cb(ctx, &g);
}

int spa_ipset_list_text(const struct spa_ipset_state *st, const char *text, int64_t now,
			spa_plugin_list_cb cb, void *ctx)
{
	char line[512];

	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);

		if (len < sizeof(line)) {
			memcpy(line, text, len);
			line[len] = '\0';
			parse_line(st, line, now, cb, ctx);
		}
		text += len + (nl ? 1 : 0);
	}
	return 0;
}
