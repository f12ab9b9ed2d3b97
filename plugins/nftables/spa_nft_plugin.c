/* SPDX-License-Identifier: MIT */
/*
 * The nftables backend's ops. Each operation is one JSON document applied
 * as one transaction, so it applies completely or not at all. The kernel
 * expires the elements itself (native timeouts); close exists for
 * revocations and early closes the engine decides on.
 */
#include "spa_nft.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*build_fn)(const struct spa_nft_state *st, json_t *doc);

static int run_built(struct spa_nft_state *st, build_fn first, build_fn second)
{
	json_t *doc = spa_nft_batch_new();
	int rc = doc ? first(st, doc) : -ENOMEM;

	if (rc == 0 && second)
		rc = second(st, doc);
	if (rc == 0)
		rc = spa_nft_apply(st, doc);
	json_decref(doc);
	return rc;
}

static int nft_flush(void *state)
{
	return run_built(state, spa_nft_batch_flush, NULL);
}

static void free_state(struct spa_nft_state *st)
{
	if (st && st->xport)
		st->xport->fini(st);
	free(st);
}

static int nft_init(const struct spa_host_api *host, void **state)
{
	struct spa_nft_state *st = NULL;
	int rc;

	st = spa_pu_state_new(host, sizeof(*st), &rc);
	if (!st)
		goto out;
	rc = spa_nft_load_config(host, st);
	if (rc < 0)
		goto out;
	rc = st->xport->init(st);
	if (rc < 0)
		goto out;
	rc = run_built(st, spa_nft_batch_setup, NULL);
	if (rc < 0)
		goto out;
	host->log(host->self, SPA_LOG_DEBUG, "table inet %s ready (transport %s)", st->table,
		  st->xport->name);
	*state = st;
	st = NULL;
out:
	free_state(st);
	return rc;
}

static int load_config(const struct spa_host_api *host, void *st)
{
	return spa_nft_load_config(host, st);
}

/* Only global keys; the transport is chosen but not started. */
static int nft_check(const struct spa_host_api *host, const struct spa_grant *probe)
{
	return spa_pu_check_global(host, probe, sizeof(struct spa_nft_state), load_config);
}

/* The NAT chains join the first NAT open's transaction (a NAT open cannot
 * land without them), so a plugin that never sees a NAT grant adds no
 * forward or NAT hook to the host. *added: they are in doc. */
static int nat_chains_first(const struct spa_nft_state *st, const struct spa_grant *const *g,
			    size_t n, json_t *doc, int *added)
{
	*added = 0;
	if (st->nat_ready)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (g[i] && g[i]->struct_size >= sizeof(*g[i]) && g[i]->nat_flags) {
			*added = 1;
			return spa_nft_nat_chains(st, doc);
		}
	}
	return 0;
}

/* What the table holds of NAT grants, for nat_read. */
struct nat_seen {
	struct spa_grant *g;
	size_t n, cap;
	int oom;
};

static void nat_seen_cb(void *ctx, const struct spa_grant *g)
{
	struct nat_seen *s = ctx;

	if (!g->nat_flags || s->oom)
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct spa_grant *more = realloc(s->g, cap * sizeof(*more));

		if (!more) {
			s->oom = 1;
			return;
		}
		s->g = more;
		s->cap = cap;
	}
	s->g[s->n++] = *g;
}

static int same_addr(const struct spa_grant_addr *a, const struct spa_grant_addr *b)
{
	size_t len = a->family == AF_INET6 ? sizeof(a->bin.v6) : sizeof(a->bin.v4);

	return a->family == b->family && (!a->family || memcmp(&a->bin, &b->bin, len) == 0);
}

/*
 * NAT grants are read back from the table before a batch that has any:
 * a re-knock may change a grant's NAT form (another target, SNAT instead
 * of masquerade), and its new elements would not replace the old ones
 * (a DNAT map refuses a second value for one key, and nft 1.0.6 deletes
 * a map element only given its value): an open removes the old form's
 * elements in its own transaction. A close removes only what the table
 * holds with its grant's comment (st->nat_listing), so the close of a
 * form that a re-knock replaced leaves the new form alone. When the
 * table cannot be read, opens replace nothing and closes remove every
 * element their form has. Plain grants never pay for the read.
 */
static int nat_read(struct spa_nft_state *st, const struct spa_grant *const *g, size_t n,
		    json_t *doc, bool open)
{
	struct nat_seen seen = { NULL, 0, 0, 0 };
	const char *out;
	size_t i;
	int rc = 0;

	for (i = 0; i < n && !(g[i] && g[i]->struct_size >= sizeof(*g[i]) && g[i]->nat_flags); i++)
		;
	if (i == n || st->xport->list(st, &out) < 0)
		return 0;
	st->nat_listing = json_loads(out, 0, NULL);
	if (!st->nat_listing || !open)
		return 0;
	if (spa_nft_list_json(out, 0, nat_seen_cb, &seen) < 0)
		goto out;
	rc = seen.oom ? -ENOMEM : 0;
	for (i = 0; rc == 0 && i < n; i++) {
		const struct spa_grant *a = g[i];

		if (!a || a->struct_size < sizeof(*a) || !a->nat_flags)
			continue;
		for (size_t k = 0; rc == 0 && k < seen.n; k++) {
			const struct spa_grant *b = &seen.g[k];

			if (b->family != a->family || !same_addr(&b->src, &a->src) ||
			    b->proto != a->proto || b->port != a->port)
				continue;
			if (b->nat_flags == a->nat_flags && b->nat_port == a->nat_port &&
			    same_addr(&b->nat_addr, &a->nat_addr) &&
			    same_addr(&b->snat_addr, &a->snat_addr))
				continue;
			rc = spa_nft_nat_close(st, b, doc);
		}
	}
out:
	free(seen.g);
	return rc;
}

static void nat_read_done(struct spa_nft_state *st)
{
	json_decref(st->nat_listing);
	st->nat_listing = NULL;
}

static int nft_open(void *state, const struct spa_grant *g)
{
	struct spa_nft_state *st = state;
	json_t *doc;
	int chains = 0;
	int rc;

	if (!g || g->struct_size < sizeof(*g))
		return -EINVAL;
	doc = spa_nft_batch_new();
	rc = doc ? nat_chains_first(st, &g, 1, doc, &chains) : -ENOMEM;
	if (rc == 0)
		rc = nat_read(st, &g, 1, doc, true);
	nat_read_done(st);
	if (rc == 0)
		rc = spa_nft_batch_open(st, g, (int64_t)time(NULL), doc);
	if (rc == 0) {
		rc = spa_nft_apply(st, doc);
		st->nat_ready |= rc == 0 && chains;
	} else
		st->host->log(st->host->self, SPA_LOG_ERR, "cannot open grant %llu: %s",
			      (unsigned long long)g->id, strerror(-rc));
	json_decref(doc);
	return rc;
}

static int nft_close(void *state, const struct spa_grant *g)
{
	struct spa_nft_state *st = state;
	json_t *doc;
	int rc;

	if (!g || g->struct_size < sizeof(*g))
		return -EINVAL;
	doc = spa_nft_batch_new();
	rc = doc ? nat_read(st, &g, 1, doc, false) : -ENOMEM;
	if (rc == 0)
		rc = spa_nft_batch_close(st, g, doc);
	nat_read_done(st);
	if (rc == 0)
		rc = spa_nft_apply(st, doc);
	json_decref(doc);
	return rc;
}

/*
 * A batch (ABI 1.4) is every grant's commands in one document, so one
 * transaction for the lot. A transaction is all or nothing: when it
 * fails, each grant is tried alone so that the refusal lands on the grant
 * that caused it and the others still go through.
 */
static int nft_batch(void *state, const struct spa_grant *const *g, size_t n, int *rc,
		     bool open)
{
	struct spa_nft_state *st = state;
	int64_t now = (int64_t)time(NULL);
	json_t *doc = spa_nft_batch_new();
	size_t built = 0;
	int chains = 0;
	int arc;

	if (!doc)
		return -ENOMEM;
	if ((open && nat_chains_first(st, g, n, doc, &chains) < 0) ||
	    nat_read(st, g, n, doc, open) < 0) {
		nat_read_done(st);
		json_decref(doc);
		return -ENOMEM;
	}
	/* an open's own elements are not filtered by the listing */
	if (open)
		nat_read_done(st);
	for (size_t i = 0; i < n; i++) {
		if (!g[i] || g[i]->struct_size < sizeof(*g[i]))
			rc[i] = -EINVAL;
		else
			rc[i] = open ? spa_nft_batch_open(st, g[i], now, doc)
				     : spa_nft_batch_close(st, g[i], doc);
		built += rc[i] == 0;
	}
	nat_read_done(st);
	arc = built ? spa_nft_apply(st, doc) : 0;
	st->nat_ready |= built && arc == 0 && chains;
	json_decref(doc);
	for (size_t i = 0; arc < 0 && i < n; i++)
		if (rc[i] == 0)
			rc[i] = open ? nft_open(st, g[i]) : nft_close(st, g[i]);
	return 0;
}

static int nft_open_batch(void *state, const struct spa_grant *const *g, size_t n, int *rc)
{
	return nft_batch(state, g, n, rc, true);
}

static int nft_close_batch(void *state, const struct spa_grant *const *g, size_t n, int *rc)
{
	return nft_batch(state, g, n, rc, false);
}

static int nft_list(void *state, spa_plugin_list_cb cb, void *ctx)
{
	struct spa_nft_state *st = state;
	const char *out;
	int rc = st->xport->list(st, &out);

	if (rc == 0)
		rc = spa_nft_list_json(out, (int64_t)time(NULL), cb, ctx);
	return rc;
}

static void nft_fini(void *state)
{
	struct spa_nft_state *st = state;

	if (!st)
		return;
	/* FLUSH_NFT_AT_EXIT is the engine's: it calls ops.flush, which
	 * empties the sets and keeps the table (deleting it would also remove
	 * a standalone drop policy and leave the protected ports open). */
	free_state(st);
}

/* Its keys (ABI 1.3): spad refuses any other NFT_ key, naming file:line
 * (a typo must not silently mean "the default"). Values are checked by
 * the plugin's own parser (spa_nft_config.c), which check and init share. */
static const struct spa_plugin_key nft_keys[] = {
	{ "NFT_TRANSPORT", SPA_KEY_STRING, 0, NULL, NULL, "library or exec" },
	{ "NFT_EXE", SPA_KEY_STRING, 0, NULL, NULL, "nft's absolute path (exec transport)" },
	{ "NFT_TABLE", SPA_KEY_STRING, 0, NULL, NULL, "table name (family inet)" },
	{ "NFT_PRIORITY", SPA_KEY_STRING, 0, NULL, NULL, "priority of the input chain" },
	{ "NFT_MARK", SPA_KEY_STRING, 0, NULL, NULL, "packet mark bits on accept" },
	{ "NFT_PROTECT_PORTS", SPA_KEY_STRING, 0, NULL, NULL, "proto/port list to drop" },
	/* old names: accepted here so that the plugin can say what replaced them */
	{ "NFT_FLUSH_AT_INIT", SPA_KEY_STRING, 0, NULL, NULL, "replaced by FLUSH_NFT_AT_INIT" },
	{ "NFT_FLUSH_AT_EXIT", SPA_KEY_STRING, 0, NULL, NULL, "replaced by FLUSH_NFT_AT_EXIT" },
};

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.keys = nft_keys,
	.open_batch = nft_open_batch,
	.close_batch = nft_close_batch,
	.n_keys = sizeof(nft_keys) / sizeof(nft_keys[0]),
	.name = "nftables",
	.version = "0.3.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6 | SPA_PLUGIN_CAP_NATIVE_TIMEOUT |
			SPA_PLUGIN_CAP_BATCH | SPA_PLUGIN_CAP_NAT,
	.key_prefix = "NFT_",
	.ops = {
		.init = nft_init,
		.open = nft_open,
		.close = nft_close,
		/* open replaces the element's timeout */
		.refresh = nft_open,
		.list = nft_list,
		.flush = nft_flush,
		.fini = nft_fini,
		.check = nft_check,
	},
};
