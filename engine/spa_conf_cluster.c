/* SPDX-License-Identifier: MIT */
/*
 * spa_conf_cluster.c - cluster mode's settings (docs/CLUSTER.md):
 * fwknopd.conf's STATE_STORE, CLUSTER_FAIL_MODE and CLUSTER_NODE_NAME, and
 * access.conf's GRANT_SCOPE. The store module's own keys (ETCD_*) are
 * its schema's, checked like any plugin's (spa_plugin_keys.c).
 */
#include "spa_conf_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void spa_conf_cluster_init(struct spa_conf_cluster *cl)
{
	memset(cl, 0, sizeof(*cl));
	snprintf(cl->store, sizeof(cl->store), "%s", SPA_STORE_FILE);
}

bool spa_conf_cluster_on(const struct spa_config *c)
{
	return strcmp(c->cluster.store, SPA_STORE_FILE) != 0;
}

/* A node name goes into store keys and log lines: a short safe word. */
static bool node_name_ok(const char *v)
{
	size_t n = strlen(v);

	return n > 0 && n < SPA_CLUSTER_NODE_LEN &&
	       strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int spa_conf_cluster_server_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p,
				const char *v)
{
	struct spa_conf_cluster *cl = &x->c->cluster;

	if (strcmp(p->name, "STATE_STORE") == 0) {
		/* a plugin file name, as FIREWALL_TYPE */
		if (!*v || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(v))
			return spa_conf_fail(x, p, "expected 'file' or a store module name [a-z0-9_-]");
		if (spa_conf_copy(v, cl->store, sizeof(cl->store)) < 0)
			return spa_conf_fail(x, p, "value too long (max %zu)", sizeof(cl->store) - 1);
		snprintf(cl->store_where, sizeof(cl->store_where), "%s:%u", p->file, p->line);
		return 0;
	}
	if (strcmp(p->name, "CLUSTER_FAIL_MODE") == 0) {
		if (strcmp(v, "closed") == 0)
			cl->fail_local = false;
		else if (strcmp(v, "local") == 0)
			cl->fail_local = true;
		else
			return spa_conf_fail(x, p, "expected 'closed' or 'local'");
		return 0;
	}
	if (strcmp(p->name, "CLUSTER_NODE_NAME") == 0) {
		if (!node_name_ok(v))
			return spa_conf_fail(x, p, "expected 1 to %d characters [A-Za-z0-9._-]",
					     SPA_CLUSTER_NODE_LEN - 1);
		memcpy(cl->node, v, strlen(v) + 1);
		return 0;
	}
	return 1;
}

int spa_conf_cluster_access_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p,
				const char *v, struct spa_stanza *s)
{
	if (strcmp(p->name, "GRANT_SCOPE") != 0)
		return 1;
	if (strcmp(v, "local") == 0)
		s->grant_cluster = false;
	else if (strcmp(v, "cluster") == 0)
		s->grant_cluster = true;
	else
		return spa_conf_fail(x, p, "expected 'local' or 'cluster'");
	snprintf(s->grant_scope_where, sizeof(s->grant_scope_where), "%s:%u", p->file, p->line);
	return 0;
}

int spa_conf_cluster_finish(struct spa_config *c, char *err, size_t errlen)
{
	struct spa_conf_cluster *cl = &c->cluster;

	for (size_t i = 0; i < c->n_stanzas; i++) {
		const struct spa_stanza *s = &c->stanzas[i];
		if (s->grant_cluster && !spa_conf_cluster_on(c)) {
			snprintf(err, errlen, "%s: GRANT_SCOPE cluster needs a shared store "
				 "(STATE_STORE etcd in the server config)", s->grant_scope_where);
			return -EINVAL;
		}
	}
	if (!spa_conf_cluster_on(c))
		return 0;
	/* The store forgets a digest once no packet carrying it can pass the
	 * age check: without that check there is no such time. */
	if (!c->packet_aging) {
		snprintf(err, errlen, "%s: STATE_STORE %s needs ENABLE_SPA_PACKET_AGING Y (the "
			 "cluster keeps a digest for 2 x MAX_SPA_PACKET_AGE + 60 s)",
			 cl->store_where[0] ? cl->store_where : "STATE_STORE", cl->store);
		return -EINVAL;
	}
	if (!cl->node[0]) {
		char host[256] = "";
		if (gethostname(host, sizeof(host) - 1) < 0 || !node_name_ok(host)) {
			snprintf(err, errlen, "STATE_STORE %s: the host name '%.64s' cannot name "
				 "this node; set CLUSTER_NODE_NAME", cl->store, host);
			return -EINVAL;
		}
		memcpy(cl->node, host, strlen(host) + 1);
	}
	return 0;
}

uint32_t spa_conf_cluster_replay_ttl(const struct spa_config *c)
{
	/* a packet dated up to MAX_SPA_PACKET_AGE ahead passes for twice
	 * that long; 60 s for the clocks of the nodes */
	return 2 * c->max_packet_age + 60;
}
