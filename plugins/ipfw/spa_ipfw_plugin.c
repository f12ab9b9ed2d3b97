/* SPDX-License-Identifier: MIT */
/*
 * The ipfw backend's ops. Every command is one ipfw invocation through the
 * host runner; rule numbers and existing grants are read from
 * "ipfw set N list" each time, so nothing is lost across a restart.
 */
#include "spa_ipfw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM_LEN 12

static void fmt_uint(char *buf, unsigned int v)
{
	snprintf(buf, NUM_LEN, "%u", v);
}

/* Runs "ipfw [flags] set N list" and hands back the engine-owned output. */
static int list_set(struct spa_ipfw_state *st, const char *flag, unsigned int set,
		    struct spa_run_result *res)
{
	char s[NUM_LEN];
	const char *with_flag[] = { st->exe, flag, "set", s, "list", NULL };
	const char *plain[] = { st->exe, "set", s, "list", NULL };

	fmt_uint(s, set);
	return spa_pu_run(st->host, flag ? with_flag : plain, res, 0);
}

/* Numbers in use, as a bitmap over the whole 16-bit space. */
struct used_map {
	unsigned char bits[65536 / 8];
};

static int mark_used(void *ctx, const struct spa_ipfw_rule *r)
{
	struct used_map *m = ctx;

	m->bits[r->num / 8] |= (unsigned char)(1u << (r->num % 8));
	return 0;
}

static int is_used(const struct used_map *m, unsigned int n)
{
	return m->bits[n / 8] & (1u << (n % 8));
}

struct matches {
	const struct spa_grant *g;
	unsigned int num[16];
	unsigned int n;
	int same_expiry;
};

static int collect_match(void *ctx, const struct spa_ipfw_rule *r)
{
	struct matches *m = ctx;

	if (!spa_pu_rule_matches(&r->rule, m->g, spa_ipfw_local))
		return 0;
	if (r->rule.expires == m->g->expires)
		m->same_expiry = 1;
	if (m->n < sizeof(m->num) / sizeof(m->num[0]))
		m->num[m->n++] = r->num;
	return 0;
}

static int find_matches(struct spa_ipfw_state *st, const struct spa_grant *g,
			struct matches *m)
{
	struct spa_run_result res;
	int rc;

	memset(m, 0, sizeof(*m));
	m->g = g;
	rc = list_set(st, NULL, st->active_set, &res);
	if (rc < 0)
		return rc;
	return spa_ipfw_each_rule(res.out ? res.out : "", collect_match, m);
}

static int delete_rule(struct spa_ipfw_state *st, unsigned int set, unsigned int num)
{
	char s[NUM_LEN], n[NUM_LEN];
	const char *argv[] = { st->exe, "set", s, "delete", n, NULL };
	struct spa_run_result res;

	fmt_uint(s, set);
	fmt_uint(n, num);
	return spa_pu_run(st->host, argv, &res, 0);
}

/* Deletes closed rules that no longer carry dynamic states: the numbers
 * listed after "## Dynamic rules" in "ipfw -d set X list" are still in use
 * by established connections. */
static int purge(struct spa_ipfw_state *st)
{
	struct spa_run_result res;
	struct used_map *dyn = NULL;
	struct used_map *stat = NULL;
	const char *dynpart;
	int rc;

	rc = list_set(st, "-d", st->expire_set, &res);
	if (rc < 0)
		goto out;
	dyn = calloc(1, sizeof(*dyn));
	stat = calloc(1, sizeof(*stat));
	if (!dyn || !stat) {
		rc = -ENOMEM;
		goto out;
	}
	/* res is overwritten by the next run: parse everything first */
	rc = spa_ipfw_each_rule(res.out ? res.out : "", mark_used, stat);
	if (rc < 0)
		goto out;
	dynpart = res.out ? strstr(res.out, "## Dynamic rules") : NULL;
	if (dynpart) {
		dynpart += strcspn(dynpart, "\n");
		for (const char *p = dynpart; *p;) {
			unsigned long v;
			char *end;

			while (*p == '\n')
				p++;
			v = strtoul(p, &end, 10);
			if (end != p && v < 65536)
				dyn->bits[v / 8] |= (unsigned char)(1u << (v % 8));
			p += strcspn(p, "\n");
		}
	}
	for (unsigned int n = st->start; n < st->start + st->max; n++) {
		if (is_used(stat, n) && !is_used(dyn, n)) {
			rc = delete_rule(st, st->expire_set, n);
			if (rc < 0)
				goto out;
		}
	}
out:
	free(dyn);
	free(stat);
	return rc;
}

static int free_number(struct spa_ipfw_state *st, unsigned int *num)
{
	struct spa_run_result res;
	struct used_map *m = calloc(1, sizeof(*m));
	unsigned int sets[2] = { st->active_set, st->expire_set };
	int rc = 0;

	if (!m)
		return -ENOMEM;
	for (int i = 0; i < 2; i++) {
		rc = list_set(st, NULL, sets[i], &res);
		if (rc < 0)
			goto out;
		rc = spa_ipfw_each_rule(res.out ? res.out : "", mark_used, m);
		if (rc < 0)
			goto out;
	}
	rc = -ENOSPC;
	for (unsigned int n = st->start; n < st->start + st->max; n++) {
		if (!is_used(m, n)) {
			*num = n;
			rc = 0;
			break;
		}
	}
	if (rc < 0)
		st->host->log(st->host->self, SPA_LOG_ERR,
			      "no free ipfw rule number in %u..%u (IPFW_MAX_RULES)",
			      st->start, st->start + st->max - 1);
out:
	free(m);
	return rc;
}

static int add_rule(struct spa_ipfw_state *st, const struct spa_grant *g, unsigned int num)
{
	char n[NUM_LEN], s[NUM_LEN], proto[NUM_LEN], port[NUM_LEN];
	char src[SPA_GRANT_ADDR_LEN], dst[SPA_GRANT_ADDR_LEN];
	char comment[32];
	const char *argv[] = { st->exe, "add", n, "set", s, "pass", proto, "from", src,
			       "to", dst, "dst-port", port, "setup", "keep-state", "//",
			       comment, NULL };
	struct spa_run_result res;
	int rc;

	/* "me" only matches this host's IPv4 addresses */
	rc = spa_pu_grant_addrs(g, g->family == AF_INET6 ? "me6" : "me", src, dst);
	if (rc < 0)
		return rc;
	fmt_uint(n, num);
	fmt_uint(s, st->active_set);
	fmt_uint(proto, g->proto);
	fmt_uint(port, g->port);
	snprintf(comment, sizeof(comment), "_exp_%lld", (long long)g->expires);
	/* the "setup" flag is only valid for TCP */
	if (g->proto != IPPROTO_TCP) {
		for (size_t i = 13; argv[i]; i++)
			argv[i] = argv[i + 1];
	}
	return spa_pu_run(st->host, argv, &res, 0);
}

static int ipfw_open(void *state, const struct spa_grant *g)
{
	struct spa_ipfw_state *st = state;
	struct matches m;
	unsigned int num;
	time_t now = time(NULL);
	int rc;

	rc = spa_pu_grant_check(g);
	if (rc < 0)
		return rc;
	/* no NAT, as in fwknopd (no SPA_PLUGIN_CAP_NAT: the engine never
	 * sends one); a NAT grant must not become a plain hole */
	if (SPA_GRANT_HAS(g, nat_flags) && g->nat_flags)
		return -EOPNOTSUPP;
	rc = find_matches(st, g, &m);
	if (rc < 0 || m.same_expiry)
		return rc; /* already open with this very expiry */
	if (st->purge_interval == 0 || now - st->last_purge >= (time_t)st->purge_interval) {
		st->last_purge = now;
		rc = purge(st);
		if (rc < 0)
			return rc;
	}
	rc = free_number(st, &num);
	if (rc < 0)
		return rc;
	/* add the new rule before removing the old so a re-knock never
	 * leaves a gap in which the port is closed */
	rc = add_rule(st, g, num);
	for (unsigned int i = 0; rc == 0 && i < m.n; i++)
		rc = delete_rule(st, st->active_set, m.num[i]);
	return rc;
}

static int ipfw_close(void *state, const struct spa_grant *g)
{
	struct spa_ipfw_state *st = state;
	struct spa_run_result res;
	struct matches m;
	int rc;

	rc = spa_pu_grant_check(g);
	if (rc < 0)
		return rc;
	/* no NAT, as in fwknopd (no SPA_PLUGIN_CAP_NAT: the engine never
	 * sends one); a NAT grant must not become a plain hole */
	if (SPA_GRANT_HAS(g, nat_flags) && g->nat_flags)
		return -EOPNOTSUPP;
	rc = find_matches(st, g, &m);
	for (unsigned int i = 0; rc == 0 && i < m.n; i++) {
		char n[NUM_LEN], x[NUM_LEN];
		const char *argv[] = { st->exe, "set", "move", "rule", n, "to", x, NULL };

		fmt_uint(n, m.num[i]);
		fmt_uint(x, st->expire_set);
		rc = spa_pu_run(st->host, argv, &res, 0);
	}
	return rc;
}

static int ipfw_flush(void *state)
{
	struct spa_ipfw_state *st = state;
	char a[NUM_LEN];
	const char *argv[] = { st->exe, "delete", "set", a, NULL };
	struct spa_run_result res;

	fmt_uint(a, st->active_set);
	return spa_pu_run(st->host, argv, &res, 0);
}

static int has_check_state(void *ctx, const struct spa_ipfw_rule *r)
{
	int *found = ctx;

	if (r->check_state)
		*found = 1;
	return 0;
}

static int ipfw_init(const struct spa_host_api *host, void **state)
{
	struct spa_ipfw_state *st;
	struct spa_run_result res;
	char a[NUM_LEN], x[NUM_LEN], start[NUM_LEN];
	int rc;

	st = spa_pu_state_new(host, sizeof(*st), &rc);
	if (!st)
		goto out;
	rc = spa_ipfw_load_config(host, st);
	if (rc < 0)
		goto out;
	/* the first purge is due one interval after start, as fwknopd does */
	st->last_purge = time(NULL);
	fmt_uint(a, st->active_set);
	fmt_uint(x, st->expire_set);
	fmt_uint(start, st->start);
	/* rules moved to the expire set must not admit new connections */
	{
		const char *argv[] = { st->exe, "set", "disable", x, NULL };

		rc = spa_pu_run(host, argv, &res, 0);
		if (rc < 0)
			goto out;
	}
	if (st->check_state) {
		int found = 0;
		const char *argv[] = { st->exe, "add", start, "set", a, "check-state", NULL };

		rc = list_set(st, NULL, st->active_set, &res);
		if (rc < 0)
			goto out;
		spa_ipfw_each_rule(res.out ? res.out : "", has_check_state, &found);
		if (!found) {
			rc = spa_pu_run(host, argv, &res, 0);
			if (rc < 0)
				goto out;
		}
	}
	*state = st;
	st = NULL;
out:
	free(st);
	return rc;
}

static int load_config(const struct spa_host_api *host, void *st)
{
	return spa_ipfw_load_config(host, st);
}

static int ipfw_check(const struct spa_host_api *host, const struct spa_grant *probe)
{
	return spa_pu_check_global(host, probe, sizeof(struct spa_ipfw_state), load_config);
}

static int ipfw_list(void *state, spa_plugin_list_cb cb, void *ctx)
{
	struct spa_ipfw_state *st = state;
	struct spa_run_result res;
	int rc;

	rc = list_set(st, NULL, st->active_set, &res);
	if (rc < 0)
		return rc;
	return spa_pu_report_grants(res.out ? res.out : "", spa_ipfw_parse_grant_rule,
				    spa_ipfw_local, cb, ctx);
}

static void ipfw_fini(void *state)
{
	free(state);
}

/* Its keys (ABI 1.3): spad refuses any other IPFW_ key, naming file:line
 * (a typo must not silently mean "the default"). Values are checked by
 * the plugin's own parser, which check and init share. No NAT, as in
 * fwknopd: the engine refuses NAT stanzas and knocks for this plugin. */
static const struct spa_plugin_key ipfw_keys[] = {
	{ "IPFW_EXE", SPA_KEY_STRING, 0, NULL, NULL, "ipfw" },
	{ "IPFW_START_RULE_NUM", SPA_KEY_STRING, 0, NULL, NULL, "first rule number of ours" },
	{ "IPFW_MAX_RULES", SPA_KEY_STRING, 0, NULL, NULL, "how many rule numbers are ours" },
	{ "IPFW_ACTIVE_SET_NUM", SPA_KEY_STRING, 0, NULL, NULL, "set of live rules" },
	{ "IPFW_EXPIRE_SET_NUM", SPA_KEY_STRING, 0, NULL, NULL, "set of expired rules" },
	{ "IPFW_EXPIRE_PURGE_INTERVAL", SPA_KEY_STRING, 0, NULL, NULL, "fwknop: no effect" },
	{ "IPFW_ADD_CHECK_STATE", SPA_KEY_STRING, 0, NULL, NULL, "add a check-state rule" },
};

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.keys = ipfw_keys,
	.n_keys = sizeof(ipfw_keys) / sizeof(ipfw_keys[0]),
	.name = "ipfw",
	.version = "0.1.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6,
	.key_prefix = "IPFW_",
	.ops = {
		.init = ipfw_init,
		.open = ipfw_open,
		.close = ipfw_close,
		/* open already replaces a grant's rule */
		.refresh = ipfw_open,
		.list = ipfw_list,
		.flush = ipfw_flush,
		.fini = ipfw_fini,
		.check = ipfw_check,
	},
};
