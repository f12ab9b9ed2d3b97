/* SPDX-License-Identifier: MIT */
/*
 * The pf backend's ops. Stateless: each change reads the anchor with
 * "pfctl -a A -s rules", rebuilds it and loads it back with
 * "pfctl -a A -f -", the rules on stdin through the host's run_input. A 1.0
 * engine has no run_input: there the rules go through a private temporary
 * file ("pfctl -a A -f FILE") instead of refusing to load, so a plugin
 * built from this tree still works with an older spad.
 */
#include "spa_pf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int read_rules(struct spa_pf_state *st, struct spa_run_result *res)
{
	const char *argv[] = { st->exe, "-a", st->anchor, "-s", "rules", NULL };

	return spa_pu_run(st->host, argv, res, 0);
}

static int pf_flush(void *state)
{
	struct spa_pf_state *st = state;
	const char *argv[] = { st->exe, "-a", st->anchor, "-F", "all", NULL };
	struct spa_run_result res;

	return spa_pu_run(st->host, argv, &res, 0);
}

/* Loads the rebuilt anchor in one pfctl call, so that pf swaps the whole
 * ruleset at once. */
static int load(struct spa_pf_state *st, const struct spa_pu_buf *text)
{
	const char *from_stdin[] = { st->exe, "-a", st->anchor, "-f", "-", NULL };
	const char *from_file[] = { st->exe, "-a", st->anchor, "-f", NULL };

	if (st->has_input)
		return spa_pu_run_input(st->host, from_stdin, text, 0);
	return spa_pu_run_batch(st->host, from_file, text);
}

static int change(struct spa_pf_state *st, const struct spa_grant *g, int add)
{
	struct spa_run_result res;
	struct spa_pu_buf text;
	unsigned int kept = 0, removed = 0;
	int rc;

	spa_pu_buf_init(&text);
	rc = spa_pu_grant_check(g);
	if (rc < 0)
		goto out;
	rc = read_rules(st, &res);
	if (rc < 0)
		goto out;
	rc = spa_pf_rebuild(res.out ? res.out : "", g, add, &text, &kept, &removed);
	if (rc < 0)
		goto out;
	if (!add && removed == 0)
		goto out; /* nothing of this grant is loaded */
	if (kept == 0)
		rc = pf_flush(st);
	else
		rc = load(st, &text);
out:
	spa_pu_buf_free(&text);
	return rc;
}

static int pf_open(void *state, const struct spa_grant *g)
{
	/* no NAT, as in fwknopd (no SPA_PLUGIN_CAP_NAT: the engine never
	 * sends one); a NAT grant must not become a plain hole */
	if (g && SPA_GRANT_HAS(g, nat_flags) && g->nat_flags)
		return -EOPNOTSUPP;
	return change(state, g, 1);
}

static int pf_close(void *state, const struct spa_grant *g)
{
	return change(state, g, 0);
}

/* Reads and validates the keys into st without running pfctl: the one
 * parser of both init and check. */
static int load_config(const struct spa_host_api *host, void *state)
{
	struct spa_pf_state *st = state;
	const char *anchor;

	st->host = host;
	st->exe = spa_pu_config_exe(host, "PFCTL_EXE", "/sbin/pfctl");
	if (!st->exe)
		return -EINVAL;
	anchor = host->config_get(host->self, "PF_ANCHOR_NAME");
	if (!anchor || !*anchor)
		anchor = "fwknop";
	if (!spa_pf_valid_anchor(anchor)) {
		host->log(host->self, SPA_LOG_ERR,
			  "PF_ANCHOR_NAME '%s' is not a valid anchor name", anchor);
		return -EINVAL;
	}
	strcpy(st->anchor, anchor);
	return 0;
}

/* Only global keys; pf is not asked whether the anchor is referenced. */
static int pf_check(const struct spa_host_api *host, const struct spa_grant *probe)
{
	return spa_pu_check_global(host, probe, sizeof(struct spa_pf_state), load_config);
}

static int pf_init(const struct spa_host_api *host, void **state)
{
	struct spa_pf_state *st;
	struct spa_run_result res;
	int rc;

	st = spa_pu_state_new(host, sizeof(*st), &rc);
	if (!st)
		goto out;
	rc = load_config(host, st);
	if (rc < 0)
		goto out;
	st->has_input = SPA_HOST_HAS(host, run_input);
	if (!st->has_input)
		host->log(host->self, SPA_LOG_NOTICE,
			  "engine without run_input (plugin ABI 1.0): pf rules are "
			  "loaded from a temporary file instead of stdin");
	{
		const char *argv[] = { st->exe, "-s", "Anchor", NULL };

		rc = spa_pu_run(host, argv, &res, 0);
		if (rc < 0)
			goto out;
	}
	if (!spa_pf_anchor_listed(res.out ? res.out : "", st->anchor)) {
		host->log(host->self, SPA_LOG_ERR,
			  "pf anchor '%s' is not referenced from pf.conf: add "
			  "'anchor \"%s\"' to the filter rules and reload pf",
			  st->anchor, st->anchor);
		rc = -ENOENT;
		goto out;
	}
	*state = st;
	st = NULL;
out:
	free(st);
	return rc;
}

static int pf_list(void *state, spa_plugin_list_cb cb, void *ctx)
{
	struct spa_pf_state *st = state;
	struct spa_run_result res;
	int rc;

	rc = read_rules(st, &res);
	if (rc < 0)
		return rc;
	return spa_pu_report_grants(res.out ? res.out : "", spa_pf_parse_line, spa_pf_local,
				    cb, ctx);
}

static void pf_fini(void *state)
{
	free(state);
}

/* Its keys (ABI 1.3): spad refuses any other PF key, naming file:line
 * (a typo must not silently mean "the default"). Values are checked by
 * the plugin's own parser, which check and init share. No NAT, as in
 * fwknopd: the engine refuses NAT stanzas and knocks for this plugin. */
static const struct spa_plugin_key pf_keys[] = {
	{ "PFCTL_EXE", SPA_KEY_STRING, 0, NULL, NULL, "pfctl" },
	{ "PF_ANCHOR_NAME", SPA_KEY_STRING, 0, NULL, NULL, "the anchor of our rules" },
	{ "PF_EXPIRE_INTERVAL", SPA_KEY_STRING, 0, NULL, NULL, "fwknop: no effect" },
};

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.keys = pf_keys,
	.n_keys = sizeof(pf_keys) / sizeof(pf_keys[0]),
	.name = "pf",
	.version = "0.1.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6,
	/* covers PFCTL_EXE and PF_ANCHOR_NAME */
	.key_prefix = "PF",
	.ops = {
		.init = pf_init,
		.open = pf_open,
		.close = pf_close,
		/* open already replaces a grant's rule */
		.refresh = pf_open,
		.list = pf_list,
		.flush = pf_flush,
		.fini = pf_fini,
		.check = pf_check,
	},
};
