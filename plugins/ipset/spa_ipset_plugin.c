/* SPDX-License-Identifier: MIT */
/*
 * The ipset backend's ops: one ipset command per operation, handed to the
 * configured transport. `-exist` makes create idempotent and turns an add
 * of a present element into a timeout update, which is exactly a refresh.
 */
#include "spa_ipset.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int run(struct spa_ipset_state *st, const char *const args[])
{
	return st->xport->run(st, args, NULL);
}

static int ipset_flush(void *state)
{
	struct spa_ipset_state *st = state;
	int rc = 0;

	for (int k = 0; k < SPA_IPSET_NSETS; k++) {
		const char *args[] = { "flush", st->sets[k], NULL };
		int r = run(st, args);

		if (r < 0)
			rc = r;
	}
	return rc;
}

static void ipset_fini(void *state)
{
	struct spa_ipset_state *st = state;

	if (!st)
		return;
	/* the sets stay: the admin's rules reference them; emptying them at
	 * exit is the engine's FLUSH_IPSET_AT_EXIT */
	st->xport->close(st);
	free(st);
}

/* Set k, created if missing; `-exist` leaves an existing one (and its
 * elements) alone. timeout 0: elements without one would be permanent; we
 * always give one, the option only enables the feature. */
static int create_set(struct spa_ipset_state *st, int k)
{
	const char *args[] = { "-exist", "create", st->sets[k], spa_ipset_type(k),
			       "family", spa_ipset_family(k), "timeout", "0", NULL };

	return run(st, args);
}

static int ipset_init(const struct spa_host_api *host, void **state)
{
	struct spa_ipset_state *st = NULL;
	int opened = 0;
	int rc;

	/* only ABI 1.0 members are used (the command transport runs argv) */
	st = spa_pu_state_new(host, sizeof(*st), &rc);
	if (!st)
		goto out;
	rc = spa_ipset_load_config(host, st);
	if (rc < 0)
		goto out;
	rc = st->xport->open(st);
	if (rc < 0)
		goto out;
	opened = 1;
	for (int k = 0; k < SPA_IPSET_NSETS; k++) {
		rc = create_set(st, k);
		if (rc < 0)
			goto out;
	}
	host->log(host->self, SPA_LOG_DEBUG, "sets ready (transport %s)", st->xport->name);
	*state = st;
	st = NULL;
out:
	if (st && opened)
		st->xport->close(st);
	free(st);
	return rc;
}

static int load_config(const struct spa_host_api *host, void *st)
{
	return spa_ipset_load_config(host, st);
}

/* Only global keys; the transport is chosen but not opened. */
static int ipset_check(const struct spa_host_api *host, const struct spa_grant *probe)
{
	return spa_pu_check_global(host, probe, sizeof(struct spa_ipset_state), load_config);
}

static int ipset_open(void *state, const struct spa_grant *g)
{
	struct spa_ipset_state *st = state;
	char elem[SPA_IPSET_ELEM_LEN], timeout[24];
	const char *set;
	int64_t left;
	int rc;

	if (!g || g->struct_size < sizeof(*g))
		return -EINVAL;
	rc = spa_ipset_element(st, g, &set, elem, sizeof(elem));
	if (rc < 0)
		return rc;
	left = g->expires - (int64_t)time(NULL);
	if (left <= 0)
		return -ETIME;
	if (left > UINT32_MAX)
		return -ERANGE;
	if (st->xport->element)
		return st->xport->element(st, 1, set, g, (uint32_t)left, elem);
	snprintf(timeout, sizeof(timeout), "%" PRId64, left);
	const char *args[] = { "-exist", "add", set, elem, "timeout", timeout, NULL };
	return run(st, args);
}

/* One `-exist del` of g's element from set. */
static int del_element(struct spa_ipset_state *st, const struct spa_grant *g, const char *set,
		       const char *elem)
{
	const char *args[] = { "-exist", "del", set, elem, NULL };

	if (st->xport->element)
		return st->xport->element(st, 0, set, g, 0, elem);
	return run(st, args);
}

/* -exist: an element the kernel already expired, or an admin deleted, is
 * not an error. A set destroyed behind our back would still fail the del
 * for ever (the engine retries closes): then the set is created again, as
 * init does, and the del retried once. If ipset itself is failing the
 * create fails too, and so does the close. */
static int ipset_close(void *state, const struct spa_grant *g)
{
	struct spa_ipset_state *st = state;
	char elem[SPA_IPSET_ELEM_LEN];
	const char *set;
	int rc, k;

	if (!g || g->struct_size < sizeof(*g))
		return -EINVAL;
	rc = spa_ipset_element(st, g, &set, elem, sizeof(elem));
	if (rc < 0)
		return rc;
	rc = del_element(st, g, set, elem);
	for (k = 0; rc < 0 && k < SPA_IPSET_NSETS; k++) {
		if (set != st->sets[k])
			continue;
		if (create_set(st, k) == 0)
			rc = del_element(st, g, set, elem);
		break;
	}
	return rc;
}

static int ipset_list(void *state, spa_plugin_list_cb cb, void *ctx)
{
	struct spa_ipset_state *st = state;
	const char *out = NULL;
	int rc = 0;

	for (int k = 0; k < SPA_IPSET_NSETS && rc == 0; k++) {
		const char *args[] = { "save", st->sets[k], NULL };

		rc = st->xport->run(st, args, &out);
		if (rc == 0)
			rc = spa_ipset_list_text(st, out, (int64_t)time(NULL), cb, ctx);
	}
	return rc;
}

/* Its keys (ABI 1.3): spad refuses any other IPSET_ key, naming file:line
 * (a typo must not silently mean "the default"). Values are checked by
 * the plugin's own parser, which check and init share. */
static const struct spa_plugin_key ipset_keys[] = {
	{ "IPSET_TRANSPORT", SPA_KEY_STRING, 0, NULL, NULL, "library or exec" },
	{ "IPSET_EXE", SPA_KEY_STRING, 0, NULL, NULL, "ipset's absolute path (exec transport)" },
	{ "IPSET_SET4", SPA_KEY_STRING, 0, NULL, NULL, "set of IPv4 grants" },
	{ "IPSET_SET6", SPA_KEY_STRING, 0, NULL, NULL, "set of IPv6 grants" },
	{ "IPSET_SET4_DST", SPA_KEY_STRING, 0, NULL, NULL, "IPv4 grants with a destination" },
	{ "IPSET_SET6_DST", SPA_KEY_STRING, 0, NULL, NULL, "IPv6 grants with a destination" },
	/* old names: accepted here so that the plugin can say what replaced them */
	{ "IPSET_FLUSH_AT_INIT", SPA_KEY_STRING, 0, NULL, NULL, "replaced by FLUSH_IPSET_AT_INIT" },
	{ "IPSET_FLUSH_AT_EXIT", SPA_KEY_STRING, 0, NULL, NULL, "replaced by FLUSH_IPSET_AT_EXIT" },
};

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.keys = ipset_keys,
	.n_keys = sizeof(ipset_keys) / sizeof(ipset_keys[0]),
	.name = "ipset",
	.version = "0.2.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6 | SPA_PLUGIN_CAP_NATIVE_TIMEOUT,
	.key_prefix = "IPSET_",
	.ops = {
		.init = ipset_init,
		.open = ipset_open,
		.close = ipset_close,
		.refresh = ipset_open,
		.list = ipset_list,
		.flush = ipset_flush,
		.fini = ipset_fini,
		.check = ipset_check,
	},
};
