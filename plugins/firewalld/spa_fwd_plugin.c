/* SPDX-License-Identifier: MIT */
/*
 * The firewalld backend's ops, carried by the transport init picks
 * (spa_fwd_dbus.c: firewalld's D-Bus API; spa_fwd_exec.c: firewall-cmd).
 * Runtime rules only: a timed rule cannot be permanent, and a reboot must
 * not leave holes behind.
 */
#include "spa_fwd.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef SPA_FWD_HAVE_SDBUS
#define SPA_FWD_XPORT_NAMES "auto, dbus, exec"
#else
#define SPA_FWD_XPORT_NAMES "auto, exec (built without libsystemd)"
#endif

/* FIREWD_TRANSPORT: auto (D-Bus when the bus answers at init, else
 * firewall-cmd), dbus, or exec (e.g. to wrap FIREWD_EXE in a test). */
static int pick_transport(const struct spa_host_api *host, struct spa_fwd_state *st)
{
	const char *v = host->config_get(host->self, "FIREWD_TRANSPORT");

	if (!v || !*v || strcmp(v, "auto") == 0)
		st->mode = SPA_FWD_AUTO;
	else if (strcmp(v, "exec") == 0)
		st->mode = SPA_FWD_EXEC;
#ifdef SPA_FWD_HAVE_SDBUS
	else if (strcmp(v, "dbus") == 0)
		st->mode = SPA_FWD_DBUS;
#endif
	else {
		host->log(host->self, SPA_LOG_ERR,
			  "FIREWD_TRANSPORT: '%s' is not one of: " SPA_FWD_XPORT_NAMES, v);
		return -EINVAL;
	}
	return 0;
}

int spa_fwd_load_config(const struct spa_host_api *host, struct spa_fwd_state *st)
{
	const char *zone = host->config_get(host->self, "FIREWD_ZONE");
	const char *exe;
	int rc;

	if (!zone || !*zone)
		zone = "public";
	if (!spa_fwd_valid_zone(zone)) {
		host->log(host->self, SPA_LOG_ERR, "FIREWD_ZONE '%s' is not a zone name", zone);
		return -EINVAL;
	}
	snprintf(st->zone, sizeof(st->zone), "%s", zone);
	snprintf(st->zone_arg, sizeof(st->zone_arg), "--zone=%s", zone);
	/* fwknop's generic FIREWALL_EXE is outside our key namespace: the
	 * engine only shows us FIREWD_* keys. FLUSH_FIREWD_AT_INIT/EXIT are
	 * read by the engine, which calls ops.flush itself. */
	exe = spa_pu_config_exe(host, "FIREWD_EXE", "/usr/bin/firewall-cmd");
	if (!exe)
		return -EINVAL;
	rc = pick_transport(host, st);
	if (rc < 0)
		return rc;
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
	st->xport->remove(st, rule, 1);
	return st->xport->add(st, rule, timeout);
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
	return st->xport->remove(st, rule, 0);
}

/* Calls fn for each of our rules in the zone's runtime rich rules. */
static int walk(struct spa_fwd_state *st, int (*fn)(struct spa_fwd_state *st,
						    const char *line, size_t len,
						    const struct spa_grant *g, void *arg),
		void *arg)
{
	char *copy = NULL;
	int rc;

	rc = st->xport->list(st, &copy);
	if (rc < 0)
		goto out;
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
	return st->xport->remove(st, rule, 0);
}

static int fwd_flush(void *state)
{
	return walk(state, flush_one, NULL);
}

/* auto: D-Bus when the system bus and firewalld's name answer now, else
 * firewall-cmd for the plugin's lifetime (it may reach firewalld where we
 * cannot, e.g. through a FIREWD_EXE wrapper naming another bus). */
static int start_transport(struct spa_fwd_state *st)
{
	const struct spa_host_api *host = st->host;
	int rc;

#ifdef SPA_FWD_HAVE_SDBUS
	if (st->mode != SPA_FWD_EXEC) {
		st->xport = &spa_fwd_xport_dbus;
		rc = st->xport->start(st);
		if (rc == 0 || st->mode == SPA_FWD_DBUS || rc != -EHOSTUNREACH)
			goto out;
		host->log(host->self, SPA_LOG_NOTICE,
			  "firewalld: D-Bus unreachable, falling back to %s", st->exe);
	}
#endif
	st->xport = &spa_fwd_xport_exec;
	rc = st->xport->start(st);
#ifdef SPA_FWD_HAVE_SDBUS
out:
#endif
	if (rc < 0) {
		host->log(host->self, SPA_LOG_ERR, "firewalld is not running");
		st->xport = NULL;
		return rc;
	}
	if (st->xport == &spa_fwd_xport_exec)
		host->log(host->self, SPA_LOG_INFO, "firewalld: zone %s, transport exec (%s)",
			  st->zone, st->exe);
	else
		host->log(host->self, SPA_LOG_INFO, "firewalld: zone %s, transport %s",
			  st->zone, st->xport->name);
	return 0;
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
	rc = start_transport(st);
	if (rc < 0)
		goto out;
	*state = st;
	st = NULL;
out:
	free(st);
	return rc;
}

static void fwd_fini(void *state)
{
	struct spa_fwd_state *st = state;

	if (st && st->xport)
		st->xport->stop(st);
	free(st);
}

/* Its keys (ABI 1.3): spad refuses any other FIREWD_ key, naming file:line
 * (a typo must not silently mean "the default"). Values are checked by
 * the plugin's own parser, which check and init share. fwknop's variables
 * for NAT and forwarding are accepted as fwknopd.conf carries them, and do
 * nothing yet. */
static const struct spa_plugin_key fwd_keys[] = {
	{ "FIREWD_ZONE", SPA_KEY_STRING, 0, NULL, NULL, "the zone of our rich rules" },
	{ "FIREWD_TRANSPORT", SPA_KEY_STRING, 0, NULL, NULL, "auto, dbus or exec" },
	{ "FIREWD_EXE", SPA_KEY_STRING, 0, NULL, NULL, "firewall-cmd (exec transport)" },
	{ "FIREWD_INPUT_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "fwknop's direct rules: no effect" },
	{ "FIREWD_OUTPUT_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "fwknop's direct rules: no effect" },
	{ "ENABLE_FIREWD_OUTPUT", SPA_KEY_STRING, 0, NULL, NULL, "fwknop: no effect" },
	{ "ENABLE_FIREWD_FORWARDING", SPA_KEY_STRING, 0, NULL, NULL, "fwknop NAT: no effect yet" },
	{ "ENABLE_FIREWD_LOCAL_NAT", SPA_KEY_STRING, 0, NULL, NULL, "fwknop NAT: no effect yet" },
	{ "ENABLE_FIREWD_SNAT", SPA_KEY_STRING, 0, NULL, NULL, "fwknop NAT: no effect yet" },
	{ "ENABLE_FIREWD_COMMENT_CHECK", SPA_KEY_STRING, 0, NULL, NULL, "fwknop: no effect" },
	{ "FIREWD_FORWARD_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "fwknop NAT: no effect yet" },
	{ "FIREWD_DNAT_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "fwknop NAT: no effect yet" },
	{ "FIREWD_SNAT_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "fwknop NAT: no effect yet" },
	{ "FIREWD_MASQUERADE_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "fwknop NAT: no effect yet" },
};

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.keys = fwd_keys,
	.n_keys = sizeof(fwd_keys) / sizeof(fwd_keys[0]),
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
