/* SPDX-License-Identifier: MIT */
/*
 * The iptables backend's ops. Stateless between calls: every operation
 * reads the live ruleset with iptables-save and applies one atomic
 * iptables-restore --noflush batch, so rules changed behind our back (or
 * left by a crashed run) are seen as they are rather than as remembered.
 */
#include "spa_ipt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct spa_ipt_family *family_of(const struct spa_ipt_state *st, int af)
{
	for (int i = 0; i < 2; i++)
		if (st->fam[i].af == af)
			return &st->fam[i];
	return NULL;
}

static int apply(struct spa_ipt_state *st, const struct spa_ipt_family *fam,
		 enum spa_ipt_op op, const struct spa_grant *g)
{
	const char *save_argv[] = { fam->save, NULL };
	/* "--wait" takes an optional value: without the '=' form it swallows
	 * the batch file name that follows and restore reads an empty stdin. */
	const char *restore_argv[] = { fam->restore, "--noflush", "--wait=10", NULL };
	struct spa_run_result res;
	struct spa_pu_buf batch;
	unsigned int changes = 0;
	int rc;

	spa_pu_buf_init(&batch);
	rc = spa_pu_run(st->host, save_argv, &res, 0);
	if (rc < 0)
		goto out;
	rc = spa_ipt_batch(st, op, g, res.out ? res.out : "", &batch, &changes);
	if (rc < 0 || changes == 0)
		goto out;
	rc = spa_pu_run_batch(st->host, restore_argv, &batch);
out:
	spa_pu_buf_free(&batch);
	return rc;
}

static int ipt_flush(void *state)
{
	struct spa_ipt_state *st = state;
	int rc = 0;

	for (int i = 0; i < 2; i++) {
		int r = apply(st, &st->fam[i], SPA_IPT_OP_FLUSH, NULL);

		if (r < 0)
			rc = r;
	}
	return rc;
}

static int ipt_init(const struct spa_host_api *host, void **state)
{
	struct spa_ipt_state *st = NULL;
	int rc;

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
	rc = spa_ipt_load_config(host, st);
	if (rc < 0)
		goto out;
	for (int i = 0; i < 2; i++) {
		rc = apply(st, &st->fam[i], SPA_IPT_OP_SETUP, NULL);
		if (rc < 0)
			goto out;
	}
	*state = st;
	st = NULL;
out:
	free(st);
	return rc;
}

static int grant_op(void *state, const struct spa_grant *g, enum spa_ipt_op op)
{
	struct spa_ipt_state *st = state;
	const struct spa_ipt_family *fam;

	if (!g || g->struct_size < sizeof(*g))
		return -EINVAL;
	fam = family_of(st, g->family);
	if (!fam)
		return -EAFNOSUPPORT;
	return apply(st, fam, op, g);
}

static int ipt_open(void *state, const struct spa_grant *g)
{
	return grant_op(state, g, SPA_IPT_OP_OPEN);
}

static int ipt_close(void *state, const struct spa_grant *g)
{
	return grant_op(state, g, SPA_IPT_OP_CLOSE);
}

static int ipt_list(void *state, spa_plugin_list_cb cb, void *ctx)
{
	struct spa_ipt_state *st = state;
	struct spa_run_result res;
	int rc = 0;

	for (int i = 0; i < 2; i++) {
		const char *save_argv[] = { st->fam[i].save, NULL };

		rc = spa_pu_run(st->host, save_argv, &res, 0);
		if (rc < 0)
			break;
		rc = spa_ipt_list_text(st, st->fam[i].af, res.out ? res.out : "", cb, ctx);
		if (rc < 0)
			break;
	}
	return rc;
}

static void ipt_fini(void *state)
{
	struct spa_ipt_state *st = state;

	if (!st)
		return;
	free(st);
}

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.name = "iptables",
	.version = "0.1.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6 | SPA_PLUGIN_CAP_BATCH,
	.key_prefix = "IPT_",
	.ops = {
		.init = ipt_init,
		.open = ipt_open,
		.close = ipt_close,
		/* replacing the rule is what open already does */
		.refresh = ipt_open,
		.list = ipt_list,
		.flush = ipt_flush,
		.fini = ipt_fini,
	},
};
