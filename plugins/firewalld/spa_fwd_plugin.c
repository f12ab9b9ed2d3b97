/* SPDX-License-Identifier: MIT */
/*
 * The firewalld backend's ops, all through firewall-cmd (argv only, one
 * rich rule per argument). Runtime rules only: a timed rule cannot be
 * permanent, and a reboot must not leave holes behind.
 */
#include "spa_fwd.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int spa_fwd_load_config(const struct spa_host_api *host, struct spa_fwd_state *st)
{
	const char *zone = host->config_get(host->self, "FIREWD_ZONE");
	const char *exe;

	if (!zone || !*zone)
		zone = "public";
	if (!spa_fwd_valid_zone(zone)) {
		host->log(host->self, SPA_LOG_ERR, "FIREWD_ZONE '%s' is not a zone name", zone);
		return -EINVAL;
	}
	snprintf(st->zone_arg, sizeof(st->zone_arg), "--zone=%s", zone);
	/* fwknop's generic FIREWALL_EXE is outside our key namespace: the
	 * engine only shows us FIREWD_* keys. FLUSH_FIREWD_AT_INIT/EXIT are
	 * read by the engine, which calls ops.flush itself. */
	exe = spa_pu_config_exe(host, "FIREWD_EXE", "/usr/bin/firewall-cmd");
	if (!exe)
		return -EINVAL;
	st->exe = exe;
	st->host = host;
	return 0;
}

static int load_config(const struct spa_host_api *host, void *st)
{
	return spa_fwd_load_config(host, st);
}

/* Only global keys; firewalld is not asked whether the zone exists. */
static int fwd_check(const struct spa_host_api *host, const struct spa_grant *probe)
{
	return spa_pu_check_global(host, probe, sizeof(struct spa_fwd_state), load_config);
}

static int rich(struct spa_fwd_state *st, const char *verb, const char *rule,
		long timeout, int quiet)
{
	char rule_arg[32 + SPA_FWD_RULE_LEN];
	char timeout_arg[32];
	const char *argv[] = { st->exe, st->zone_arg, rule_arg, NULL, NULL };
	struct spa_run_result res;

	snprintf(rule_arg, sizeof(rule_arg), "--%s-rich-rule=%s", verb, rule);
	if (timeout > 0) {
		snprintf(timeout_arg, sizeof(timeout_arg), "--timeout=%ld", timeout);
		argv[3] = timeout_arg;
	}
	return spa_pu_run(st->host, argv, &res, quiet);
}

static int fwd_open(void *state, const struct spa_grant *g)
{
	struct spa_fwd_state *st = state;
	char rule[SPA_FWD_RULE_LEN];
	long timeout;
	int rc;

	if (!g || g->struct_size < sizeof(*g))
		return -EINVAL;
	rc = spa_fwd_rule_text(g, rule, sizeof(rule));
	if (rc < 0)
		return rc;
	timeout = spa_fwd_timeout(g, (long long)time(NULL));
	if (timeout < 0)
		return (int)timeout;
	/* Adding a rule that already exists keeps its old timer, so a
	 * re-knock first removes it; absence is only a warning. */
	rich(st, "remove", rule, 0, 1);
	return rich(st, "add", rule, timeout, 0);
}

static int fwd_close(void *state, const struct spa_grant *g)
{
	struct spa_fwd_state *st = state;
	char rule[SPA_FWD_RULE_LEN];
	int rc;

	if (!g || g->struct_size < sizeof(*g))
		return -EINVAL;
	rc = spa_fwd_rule_text(g, rule, sizeof(rule));
	if (rc < 0)
		return rc;
	return rich(st, "remove", rule, 0, 0);
}

/* Calls fn for each of our rules in the zone's runtime rich rules. */
static int walk(struct spa_fwd_state *st, int (*fn)(struct spa_fwd_state *st,
						    const char *line, size_t len,
						    const struct spa_grant *g, void *arg),
		void *arg)
{
	const char *argv[] = { st->exe, st->zone_arg, "--list-rich-rules", NULL };
	struct spa_run_result res;
	char *copy = NULL;
	int rc;

	rc = spa_pu_run(st->host, argv, &res, 0);
	if (rc < 0)
		goto out;
	/* the output buffer is reused by the next run, which fn may do */
	copy = strdup(res.out ? res.out : "");
	if (!copy) {
		rc = -ENOMEM;
		goto out;
	}
	for (char *p = copy; *p;) {
		size_t n = strcspn(p, "\n");
		struct spa_grant g;

		if (spa_fwd_rule_parse(p, n, &g) == 0) {
			int r = fn(st, p, n, &g, arg);

			if (r < 0)
				rc = r;
		}
		p += n;
		if (*p == '\n')
			p++;
	}
out:
	free(copy);
	return rc;
}

struct list_ctx {
	spa_plugin_list_cb cb;
	void *ctx;
};

static int list_one(struct spa_fwd_state *st, const char *line, size_t len,
		    const struct spa_grant *g, void *arg)
{
	struct list_ctx *lc = arg;

	(void)st;
	(void)line;
	(void)len;
	/* firewalld does not tell how long a timed rule has left: expires
	 * stays 0 (unknown) and the engine's journal is the authority */
	lc->cb(lc->ctx, g);
	return 0;
}

static int fwd_list(void *state, spa_plugin_list_cb cb, void *ctx)
{
	struct list_ctx lc = { cb, ctx };

	if (!cb)
		return -EINVAL;
	return walk(state, list_one, &lc);
}

static int flush_one(struct spa_fwd_state *st, const char *line, size_t len,
		     const struct spa_grant *g, void *arg)
{
	char rule[SPA_FWD_RULE_LEN];

	(void)g;
	(void)arg;
	if (len >= sizeof(rule))
		return -ENAMETOOLONG;
	memcpy(rule, line, len);
	rule[len] = '\0';
	return rich(st, "remove", rule, 0, 0);
}

static int fwd_flush(void *state)
{
	return walk(state, flush_one, NULL);
}

static int fwd_init(const struct spa_host_api *host, void **state)
{
	struct spa_fwd_state *st = NULL;
	int rc;

	/* only ABI 1.0 members are used, so a 1.0 engine's struct is enough */
	st = spa_pu_state_new(host, sizeof(*st), &rc);
	if (!st)
		goto out;
	rc = spa_fwd_load_config(host, st);
	if (rc < 0)
		goto out;
	{
		const char *argv[] = { st->exe, "--state", NULL };
		struct spa_run_result res;

		rc = spa_pu_run(host, argv, &res, 0);
		if (rc < 0) {
			host->log(host->self, SPA_LOG_ERR, "firewalld is not running");
			goto out;
		}
	}
	*state = st;
	st = NULL;
out:
	free(st);
	return rc;
}

static void fwd_fini(void *state)
{
	free(state);
}

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.name = "firewalld",
	.version = "0.1.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6 | SPA_PLUGIN_CAP_NATIVE_TIMEOUT,
	.key_prefix = "FIREWD_",
	.ops = {
		.init = fwd_init,
		.open = fwd_open,
		.close = fwd_close,
		/* remove + add with the new timeout is what open does */
		.refresh = fwd_open,
		.list = fwd_list,
		.flush = fwd_flush,
		.fini = fwd_fini,
		.check = fwd_check,
	},
};
