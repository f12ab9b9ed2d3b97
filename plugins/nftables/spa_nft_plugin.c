/* SPDX-License-Identifier: MIT */
/*
 * The nftables backend's ops. Each operation is one `nft -f FILE`
 * transaction, so it applies completely or not at all. The kernel expires
 * the elements itself (native timeouts); close exists for revocations and
 * early closes the engine decides on.
 */
#include "spa_nft.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*batch_fn)(const struct spa_nft_state *st, const struct spa_grant *g,
			struct spa_pu_buf *b);

static int run_nft(struct spa_nft_state *st, struct spa_pu_buf *b)
{
	const char *argv[] = { st->exe, "-f", NULL };

	return spa_pu_run_batch(st->host, argv, b);
}

static int nft_flush(void *state)
{
	struct spa_nft_state *st = state;
	struct spa_pu_buf b;
	int rc;

	spa_pu_buf_init(&b);
	rc = spa_nft_batch_flush(st, &b);
	if (rc == 0)
		rc = run_nft(st, &b);
	spa_pu_buf_free(&b);
	return rc;
}

static int nft_init(const struct spa_host_api *host, void **state)
{
	struct spa_nft_state *st = NULL;
	struct spa_pu_buf b;
	int rc;

	spa_pu_buf_init(&b);
	if (!host || host->struct_size < sizeof(*host) || !host->run || !host->log ||
	    !host->config_get) {
		rc = -EINVAL;
		goto out;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		rc = -ENOMEM;
		goto out;
	}
	rc = spa_nft_load_config(host, st);
	if (rc < 0)
		goto out;
	rc = spa_nft_batch_setup(st, &b);
	if (rc == 0 && st->flush_at_init)
		rc = spa_nft_batch_flush(st, &b);
	if (rc == 0)
		rc = run_nft(st, &b);
	if (rc < 0)
		goto out;
	*state = st;
	st = NULL;
out:
	spa_pu_buf_free(&b);
	free(st);
	return rc;
}

static int nft_open(void *state, const struct spa_grant *g)
{
	struct spa_nft_state *st = state;
	struct spa_pu_buf b;
	int rc;

	if (!g || g->struct_size < sizeof(*g))
		return -EINVAL;
	spa_pu_buf_init(&b);
	rc = spa_nft_batch_open(st, g, (int64_t)time(NULL), &b);
	if (rc == 0)
		rc = run_nft(st, &b);
	else
		st->host->log(st->host->self, SPA_LOG_ERR, "cannot open grant %llu: %s",
			      (unsigned long long)g->id, strerror(-rc));
	spa_pu_buf_free(&b);
	return rc;
}

static int nft_close(void *state, const struct spa_grant *g)
{
	struct spa_nft_state *st = state;
	struct spa_pu_buf b;
	int rc;

	if (!g || g->struct_size < sizeof(*g))
		return -EINVAL;
	spa_pu_buf_init(&b);
	rc = spa_nft_batch_close(st, g, &b);
	if (rc == 0)
		rc = run_nft(st, &b);
	spa_pu_buf_free(&b);
	return rc;
}

static int nft_list(void *state, spa_plugin_list_cb cb, void *ctx)
{
	struct spa_nft_state *st = state;
	const char *argv[] = { st->exe, "-j", "list", "table", "inet", st->table, NULL };
	struct spa_run_result res;
	int rc;

	rc = spa_pu_run(st->host, argv, &res, 0);
	if (rc == 0)
		rc = spa_nft_list_json(res.out ? res.out : "", (int64_t)time(NULL), cb, ctx);
	return rc;
}

static void nft_fini(void *state)
{
	struct spa_nft_state *st = state;

	if (!st)
		return;
	/* Only the elements go: deleting the table would also remove a
	 * standalone drop policy and leave the protected ports open. */
	if (st->flush_at_exit)
		nft_flush(st);
	free(st);
}

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.name = "nftables",
	.version = "0.1.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6 | SPA_PLUGIN_CAP_NATIVE_TIMEOUT |
			SPA_PLUGIN_CAP_BATCH,
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
	},
};
