/* SPDX-License-Identifier: MIT */
/*
 * spa_cc_plugin.c - the "cmdcycle" backend. Each grant runs its stanza's
 * CMD_CYCLE_OPEN; the engine closes it at expiry (CMD_CYCLE_TIMER, or the
 * client's timeout) and we run CMD_CYCLE_CLOSE then. Commands are split
 * into argv and run without a shell unless the stanza says
 * CMD_CYCLE_SHELL Y; substituted values come only from the validated grant.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spa_cc.h"
#include "spa_pu.h"

#define CC_RUN_TIMEOUT_MS 30000

struct cc_state {
	const struct spa_host_api *host;
};

static int cc_init(const struct spa_host_api *host, void **state)
{
	struct cc_state *st;
	int rc;

	if (!spa_pu_host_ok(host))
		return -EINVAL;
	/* per-stanza commands need ABI 1.1 */
	if (!SPA_HOST_HAS(host, stanza_get)) {
		host->log(host->self, SPA_LOG_ERR, "engine lacks stanza_get (ABI 1.1 needed)");
		return -ENOTSUP;
	}
	st = spa_pu_state_new(host, sizeof(*st), &rc);
	if (!st)
		return rc;
	st->host = host;
	*state = st;
	return 0;
}

static const char *sget(struct cc_state *st, const struct spa_grant *g, const char *key)
{
	return st->host->stanza_get(st->host->self, g, key);
}

static int run_cmd(struct cc_state *st, const struct spa_grant *g, const char *what,
		   const char *tmpl)
{
	const struct spa_host_api *h = st->host;
	const char *argv[SPA_CC_ARGV_MAX];
	const char *shell = sget(st, g, "CMD_CYCLE_SHELL");
	char cmd[SPA_CC_CMD_MAX];
	struct spa_run_result res;
	int rc;

	rc = spa_cc_expand(tmpl, g, cmd, sizeof(cmd));
	if (rc < 0) {
		h->log(h->self, SPA_LOG_ERR, "%s: %s too long after substitution", g->stanza, what);
		goto out;
	}
	h->log(h->self, SPA_LOG_INFO, "%s: running %s: %s", g->stanza, what, cmd);
	if (shell && (shell[0] == 'Y' || shell[0] == 'y')) {
		/* asked for explicitly; values are addresses and numbers only */
		argv[0] = "/bin/sh";
		argv[1] = "-c";
		argv[2] = cmd;
		argv[3] = NULL;
	} else {
		rc = spa_cc_split(cmd, argv, SPA_CC_ARGV_MAX);
		if (rc < 0) {
			h->log(h->self, SPA_LOG_ERR, "%s: %s must start with an absolute path",
			       g->stanza, what);
			goto out;
		}
	}
	rc = h->run(h->self, argv, CC_RUN_TIMEOUT_MS, &res);
	if (rc == 0 && res.exit_status != 0) {
		h->log(h->self, SPA_LOG_ERR, "%s: %s exited with %d: %.200s", g->stanza, what,
		       res.exit_status, res.err ? res.err : "");
		rc = -EIO;
	}
out:
	return rc;
}

static int check_grant(struct cc_state *st, const struct spa_grant *g, const char **open,
		       const char **close)
{
	const char *timer;

	if (!g || g->struct_size < sizeof(*g))
		return -EINVAL;
	*open = sget(st, g, "CMD_CYCLE_OPEN");
	*close = sget(st, g, "CMD_CYCLE_CLOSE");
	timer = sget(st, g, "CMD_CYCLE_TIMER");
	if (!*open || !*close) {
		st->host->log(st->host->self, SPA_LOG_ERR,
			      "%s: CMD_CYCLE_OPEN and CMD_CYCLE_CLOSE are both required", g->stanza);
		return -EINVAL;
	}
	if (strcmp(*close, "NONE") == 0)
		*close = NULL;
	else if (!timer) {
		st->host->log(st->host->self, SPA_LOG_ERR,
			      "%s: CMD_CYCLE_TIMER is required with a CMD_CYCLE_CLOSE", g->stanza);
		return -EINVAL;
	}
	return 0;
}

static int cc_open(void *state, const struct spa_grant *g)
{
	const char *open, *close;
	int rc = check_grant(state, g, &open, &close);

	return rc < 0 ? rc : run_cmd(state, g, "CMD_CYCLE_OPEN", open);
}

static int cc_close(void *state, const struct spa_grant *g)
{
	const char *open, *close;
	int rc = check_grant(state, g, &open, &close);

	if (rc < 0 || !close)
		return rc;
	return run_cmd(state, g, "CMD_CYCLE_CLOSE", close);
}

/* Commands leave no state we could find again: nothing to flush. */
static int cc_flush(void *state)
{
	(void)state;
	return 0;
}

static void cc_fini(void *state)
{
	free(state);
}

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.name = "cmdcycle",
	.version = "1.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6,
	.key_prefix = "CMD_CYCLE_",
	.ops = {
		.init = cc_init,
		.open = cc_open,
		.close = cc_close,
		.flush = cc_flush,
		.fini = cc_fini,
	},
};
