/* SPDX-License-Identifier: MIT */
/*
 * The iptables backend's ops. Open, refresh and close, single or batched,
 * are spa_ipt_grants.c's: normally one iptables-restore --noflush built
 * from the plugin's view of its own rules (spa_ipt_view.c), corrected from
 * iptables-save only when the firewall turns out to differ. Flush and init
 * always read the ruleset first.
 */
#include "spa_ipt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int ipt_flush(void *state)
{
	struct spa_ipt_state *st = state;
	int rc = 0;

	for (int i = 0; i < 2; i++) {
		int r = spa_ipt_apply_from_save(st, i, SPA_IPT_OP_FLUSH, NULL);

		if (r < 0) {
			spa_ipt_fail_log(st);
			rc = r;
		}
	}
	return rc;
}

static int ipt_init(const struct spa_host_api *host, void **state)
{
	struct spa_ipt_state *st = NULL;
	int rc;

	/* run_input (ABI 1.1) is optional, see spa_ipt_restore */
	st = spa_pu_state_new(host, sizeof(*st), &rc);
	if (!st)
		goto out;
	rc = spa_ipt_load_config(host, st);
	if (rc < 0)
		goto out;
	st->jump_recheck_ms = SPA_IPT_JUMP_RECHECK_MS;
	for (int i = 0; i < 2; i++) {
		rc = spa_ipt_apply_from_save(st, i, SPA_IPT_OP_SETUP, NULL);
		if (rc < 0) {
			spa_ipt_fail_log(st);
			goto out;
		}
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

static int ipt_open(void *state, const struct spa_grant *g)
{
	int rc;

	spa_ipt_grants(state, &g, 1, &rc, SPA_IPT_OP_OPEN);
	return rc;
}

static int ipt_close(void *state, const struct spa_grant *g)
{
	int rc;

	spa_ipt_grants(state, &g, 1, &rc, SPA_IPT_OP_CLOSE);
	return rc;
}

static int ipt_open_batch(void *state, const struct spa_grant *const *g, size_t n, int *rc)
{
	return spa_ipt_grants(state, g, n, rc, SPA_IPT_OP_OPEN);
}

static int ipt_close_batch(void *state, const struct spa_grant *const *g, size_t n, int *rc)
{
	return spa_ipt_grants(state, g, n, rc, SPA_IPT_OP_CLOSE);
}

/* A listing reads the live ruleset anyway: the view is refreshed from it. */
static int ipt_list(void *state, spa_plugin_list_cb cb, void *ctx)
{
	struct spa_ipt_state *st = state;
	int rc = 0;

	for (int i = 0; i < 2 && rc == 0; i++) {
		const char *text;

		rc = spa_ipt_read(st, i, &text);
		if (rc == 0)
			rc = spa_ipt_list_text(st, st->fam[i].af, text, cb, ctx);
	}
	return spa_ipt_fail(st, NULL, rc);
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
 * the plugin's own parser, which check and init share. Whether NAT is
 * allowed at all (ENABLE_IPT_FORWARDING, ENABLE_IPT_LOCAL_NAT,
 * ENABLE_IPT_SNAT) is the engine's decision; the plugin renders the form
 * each grant carries. */
static const struct spa_plugin_key ipt_keys[] = {
	{ "IPT_INPUT_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "target, table, chain, pos, our chain, pos" },
	{ "IPT_OUTPUT_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "the same for OUTPUT" },
	{ "ENABLE_IPT_OUTPUT", SPA_KEY_STRING, 0, NULL, NULL, "also open the reply direction" },
	{ "IPT_SAVE_EXE", SPA_KEY_STRING, 0, NULL, NULL, "iptables-save" },
	{ "IPT_RESTORE_EXE", SPA_KEY_STRING, 0, NULL, NULL, "iptables-restore" },
	{ "IPT_IP6_SAVE_EXE", SPA_KEY_STRING, 0, NULL, NULL, "ip6tables-save" },
	{ "IPT_IP6_RESTORE_EXE", SPA_KEY_STRING, 0, NULL, NULL, "ip6tables-restore" },
	{ "ENABLE_IPT_COMMENT_CHECK", SPA_KEY_STRING, 0, NULL, NULL, "fwknop: no effect" },
	{ "IPT_FORWARD_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "NAT grants: the same for FORWARD" },
	{ "IPT_DNAT_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "NAT grants: DNAT, nat, PREROUTING, ..." },
	{ "IPT_SNAT_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "NAT grants: SNAT, nat, POSTROUTING, ..." },
	{ "IPT_MASQUERADE_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "NAT grants: MASQUERADE, nat, POSTROUTING, ..." },
};

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.keys = ipt_keys,
	.n_keys = sizeof(ipt_keys) / sizeof(ipt_keys[0]),
	.name = "iptables",
	.version = "0.4.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6 | SPA_PLUGIN_CAP_BATCH | SPA_PLUGIN_CAP_NAT,
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
	/* one iptables-restore per family for grants due together */
	.open_batch = ipt_open_batch,
	.close_batch = ipt_close_batch,
};
