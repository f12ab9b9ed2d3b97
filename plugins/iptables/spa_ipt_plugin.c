/* SPDX-License-Identifier: MIT */
/*
 * The iptables backend's ops. An open, refresh or close is normally one
 * iptables-restore --noflush batch built from the plugin's view of its own
 * rules (spa_ipt_view.c). When that batch is refused because the firewall
 * is not what the view says (an admin flushed the chain, deleted a rule or
 * the jump), the plugin reads the live ruleset with iptables-save, rebuilds
 * its view from it and applies a corrective batch: today's robust path,
 * taken only when needed. Flush and init always take it.
 */
#include "spa_ipt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int family_index(const struct spa_ipt_state *st, int af)
{
	for (int i = 0; i < 2; i++)
		if (st->fam[i].af == af)
			return i;
	return -1;
}

/* Hands the batch to iptables-restore on its stdin. A 1.0 engine has no
 * run_input: the batch then goes through a private temporary file, and a
 * refused batch is logged as an error even when the caller repairs it.
 * quiet: the caller has a fallback, so a refusal is only worth a debug
 * line (the command's stderr stays in the runner's buffer). */
static int run_restore(const struct spa_ipt_state *st, const struct spa_ipt_family *fam,
		       const struct spa_pu_buf *batch, int quiet)
{
	/* "--wait" takes an optional value: without the '=' form it swallows
	 * the argument that follows (the batch file of a 1.0 engine). */
	const char *argv[] = { fam->restore, "--noflush", "--wait=10", NULL };
	int rc = spa_pu_run_input(st->host, argv, batch, quiet);

	return rc == -ENOTSUP ? spa_pu_run_batch(st->host, argv, batch) : rc;
}

/* Reads the live ruleset, rebuilds the view of family fi from it and
 * applies whatever batch op needs on top of what is really there. */
static int apply_from_save(struct spa_ipt_state *st, int fi, enum spa_ipt_op op,
			   const struct spa_grant *g)
{
	const struct spa_ipt_family *fam = &st->fam[fi];
	const char *save_argv[] = { fam->save, NULL };
	struct spa_run_result res;
	struct spa_pu_buf batch;
	unsigned int changes = 0;
	int rc;

	spa_pu_buf_init(&batch);
	spa_ipt_view_forget(st, fi);
	rc = spa_pu_run(st->host, save_argv, &res, 0);
	if (rc < 0)
		goto out;
	/* res.out lives until the next run: use it before the restore */
	rc = spa_ipt_batch(st, op, g, res.out ? res.out : "", &batch, &changes);
	if (rc < 0)
		goto out;
	spa_ipt_view_load(st, fi, res.out ? res.out : "");
	if (changes > 0)
		rc = run_restore(st, fam, &batch, 0);
	if (rc < 0)
		spa_ipt_view_forget(st, fi);
	else
		spa_ipt_view_apply(st, fi, op, g);
out:
	spa_pu_buf_free(&batch);
	return rc;
}

static int ipt_flush(void *state)
{
	struct spa_ipt_state *st = state;
	int rc = 0;

	for (int i = 0; i < 2; i++) {
		int r = apply_from_save(st, i, SPA_IPT_OP_FLUSH, NULL);

		if (r < 0)
			rc = r;
	}
	return rc;
}

static int ipt_init(const struct spa_host_api *host, void **state)
{
	struct spa_ipt_state *st = NULL;
	int rc;

	/* run_input (ABI 1.1) is optional, see run_restore */
	st = spa_pu_state_new(host, sizeof(*st), &rc);
	if (!st)
		goto out;
	rc = spa_ipt_load_config(host, st);
	if (rc < 0)
		goto out;
	for (int i = 0; i < 2; i++) {
		rc = apply_from_save(st, i, SPA_IPT_OP_SETUP, NULL);
		if (rc < 0)
			goto out;
	}
	*state = st;
	st = NULL;
out:
	if (st)
		spa_ipt_view_free(st);
	free(st);
	return rc;
}

static int load_config(const struct spa_host_api *host, void *st)
{
	return spa_ipt_load_config(host, st);
}

/* Only global keys (IPT_*_ACCESS, the executables, the switches). */
static int ipt_check(const struct spa_host_api *host, const struct spa_grant *probe)
{
	return spa_pu_check_global(host, probe, sizeof(struct spa_ipt_state), load_config);
}

static int grant_op(void *state, const struct spa_grant *g, enum spa_ipt_op op)
{
	struct spa_ipt_state *st = state;
	struct spa_pu_buf batch;
	unsigned int changes = 0;
	int fi;
	int rc;

	if (!g || g->struct_size < sizeof(*g))
		return -EINVAL;
	fi = family_index(st, g->family);
	if (fi < 0)
		return -EAFNOSUPPORT;
	spa_pu_buf_init(&batch);
	rc = spa_ipt_view_batch(st, fi, op, g, &batch, &changes);
	if (rc == 0 && changes > 0) {
		rc = run_restore(st, &st->fam[fi], &batch, 1);
		if (rc == 0) {
			spa_ipt_view_apply(st, fi, op, g);
			goto out;
		}
		st->host->log(st->host->self, SPA_LOG_DEBUG,
			      "firewall differs from what we added; re-reading it");
	} else if (rc != -EAGAIN) {
		goto out; /* a grant we cannot express, or nothing to do */
	}
	rc = apply_from_save(st, fi, op, g);
out:
	spa_pu_buf_free(&batch);
	return rc;
}

static int ipt_open(void *state, const struct spa_grant *g)
{
	return grant_op(state, g, SPA_IPT_OP_OPEN);
}

static int ipt_close(void *state, const struct spa_grant *g)
{
	return grant_op(state, g, SPA_IPT_OP_CLOSE);
}

/* A listing reads the live ruleset anyway: the view is refreshed from it. */
static int ipt_list(void *state, spa_plugin_list_cb cb, void *ctx)
{
	struct spa_ipt_state *st = state;
	struct spa_run_result res;
	int rc = 0;

	for (int i = 0; i < 2; i++) {
		const char *save_argv[] = { st->fam[i].save, NULL };
		const char *text;

		rc = spa_pu_run(st->host, save_argv, &res, 0);
		if (rc < 0) {
			spa_ipt_view_forget(st, i);
			break;
		}
		text = res.out ? res.out : "";
		spa_ipt_view_load(st, i, text);
		rc = spa_ipt_list_text(st, st->fam[i].af, text, cb, ctx);
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
	spa_ipt_view_free(st);
	free(st);
}

/* Its keys (ABI 1.3): spad refuses any other IPT_ key, naming file:line
 * (a typo must not silently mean "the default"). Values are checked by
 * the plugin's own parser, which check and init share. fwknop's variables
 * for NAT and forwarding are accepted as fwknopd.conf carries them, and do
 * nothing yet. */
static const struct spa_plugin_key ipt_keys[] = {
	{ "IPT_INPUT_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "target, table, chain, pos, our chain, pos" },
	{ "IPT_OUTPUT_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "the same for OUTPUT" },
	{ "ENABLE_IPT_OUTPUT", SPA_KEY_STRING, 0, NULL, NULL, "also open the reply direction" },
	{ "IPT_SAVE_EXE", SPA_KEY_STRING, 0, NULL, NULL, "iptables-save" },
	{ "IPT_RESTORE_EXE", SPA_KEY_STRING, 0, NULL, NULL, "iptables-restore" },
	{ "IPT_IP6_SAVE_EXE", SPA_KEY_STRING, 0, NULL, NULL, "ip6tables-save" },
	{ "IPT_IP6_RESTORE_EXE", SPA_KEY_STRING, 0, NULL, NULL, "ip6tables-restore" },
	{ "ENABLE_IPT_FORWARDING", SPA_KEY_STRING, 0, NULL, NULL, "fwknop NAT: no effect yet" },
	{ "ENABLE_IPT_LOCAL_NAT", SPA_KEY_STRING, 0, NULL, NULL, "fwknop NAT: no effect yet" },
	{ "ENABLE_IPT_SNAT", SPA_KEY_STRING, 0, NULL, NULL, "fwknop NAT: no effect yet" },
	{ "ENABLE_IPT_COMMENT_CHECK", SPA_KEY_STRING, 0, NULL, NULL, "fwknop: no effect" },
	{ "IPT_FORWARD_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "fwknop NAT: no effect yet" },
	{ "IPT_DNAT_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "fwknop NAT: no effect yet" },
	{ "IPT_SNAT_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "fwknop NAT: no effect yet" },
	{ "IPT_MASQUERADE_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "fwknop NAT: no effect yet" },
};

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.keys = ipt_keys,
	.n_keys = sizeof(ipt_keys) / sizeof(ipt_keys[0]),
	.name = "iptables",
	.version = "0.2.0",
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
		.check = ipt_check,
	},
};
