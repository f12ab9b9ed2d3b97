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
	zone = host->config_get(host->self, "FIREWD_MASQ_ZONE");
	if (zone && *zone && !spa_fwd_valid_zone(zone)) {
		host->log(host->self, SPA_LOG_ERR, "FIREWD_MASQ_ZONE '%s' is not a zone name", zone);
		return -EINVAL;
	}
	snprintf(st->masq_zone, sizeof(st->masq_zone), "%s", zone && *zone ? zone : st->zone);
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

/* A NAT grant's rules, or a refusal that says what firewalld lacks: a
 * permanent failure, as no retry can help. */
static int nat_rules(struct spa_fwd_state *st, const struct spa_grant *g,
		     struct spa_fwd_rule *r, size_t *n)
{
	const struct spa_host_api *host = st->host;
	const char *why = "";
	int rc = spa_fwd_nat_rules(g, r, n, &why);

	if (rc == 0)
		return 0;
	if (SPA_HOST_HAS(host, op_fail))
		return host->op_fail(host->self, g, SPA_FAIL_PERMANENT,
				     "firewalld NAT grant refused: %s", why);
	host->log(host->self, SPA_LOG_ERR, "firewalld NAT grant refused: %s", why);
	return rc;
}

static const char *rule_zone(const struct spa_fwd_state *st, const struct spa_fwd_rule *r)
{
	return r->masq_zone ? st->masq_zone : st->zone;
}

static int nat_open(struct spa_fwd_state *st, const struct spa_grant *g, long timeout)
{
	struct spa_fwd_rule r[SPA_FWD_NAT_MAX];
	size_t n;
	int rc = nat_rules(st, g, r, &n);

	/* each rule as an access rule is: removed first, for a new timer;
	 * a failure leaves the rest to the close the engine then runs */
	for (size_t i = 0; rc == 0 && i < n; i++) {
		st->xport->remove(st, rule_zone(st, &r[i]), r[i].text, 1);
		rc = st->xport->add(st, rule_zone(st, &r[i]), r[i].text, timeout);
	}
	return rc;
}

static int nat_close(struct spa_fwd_state *st, const struct spa_grant *g)
{
	struct spa_fwd_rule r[SPA_FWD_NAT_MAX];
	size_t n;
	int rc = nat_rules(st, g, r, &n);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		int one = st->xport->remove(st, rule_zone(st, &r[i]), r[i].text, 0);

		if (one < 0)
			rc = one;
	}
	return rc;
}

static int fwd_open(void *state, const struct spa_grant *g)
{
	struct spa_fwd_state *st = state;
	char rule[SPA_FWD_RULE_LEN];
	long timeout;
	int rc;

	if (!g || g->struct_size < sizeof(*g))
		return -EINVAL;
	if (g->nat_flags) {
		timeout = spa_fwd_timeout(g, (long long)time(NULL));
		return timeout < 0 ? (int)timeout : nat_open(st, g, timeout);
	}
	rc = spa_fwd_rule_text(g, rule, sizeof(rule));
	if (rc < 0)
		return rc;
	timeout = spa_fwd_timeout(g, (long long)time(NULL));
	if (timeout < 0)
		return (int)timeout;
	/* Adding a rule that already exists keeps its old timer, so a
	 * re-knock first removes it; absence is only a warning. */
	st->xport->remove(st, st->zone, rule, 1);
	return st->xport->add(st, st->zone, rule, timeout);
}

static int fwd_close(void *state, const struct spa_grant *g)
{
	struct spa_fwd_state *st = state;
	char rule[SPA_FWD_RULE_LEN];
	int rc;

	if (!g || g->struct_size < sizeof(*g))
		return -EINVAL;
	if (g->nat_flags)
		return nat_close(st, g);
	rc = spa_fwd_rule_text(g, rule, sizeof(rule));
	if (rc < 0)
		return rc;
	return st->xport->remove(st, st->zone, rule, 0);
}

/* Our rules of both zones, parsed: access rules, forward-ports, and the
 * masquerades of FIREWD_MASQ_ZONE. */
struct ours {
	char *text, *masq_text;            /* the zones' listings */
	struct spa_grant *g;               /* access grants, then NAT grants */
	size_t n, cap;
};

static int ours_add(struct ours *o, const struct spa_grant *g)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 16;
		struct spa_grant *more = realloc(o->g, cap * sizeof(*more));

		if (!more)
			return -ENOMEM;
		o->g = more;
		o->cap = cap;
	}
	o->g[o->n++] = *g;
	return 0;
}

static void ours_free(struct ours *o)
{
	if (o->masq_text != o->text)
		free(o->masq_text);
	free(o->text);
	free(o->g);
}

/* Calls fn(line) for each line of text that parse accepts. */
static int each_line(const char *text, int (*parse)(const char *, size_t, struct spa_grant *),
		     int (*fn)(void *arg, const char *line, size_t len, struct spa_grant *g),
		     void *arg)
{
	int rc = 0;

	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		struct spa_grant g;

		if (parse(p, n, &g) == 0) {
			int r = fn(arg, p, n, &g);

			if (r < 0)
				rc = r;
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	return rc;
}

static int same_addr(const struct spa_grant_addr *a, const struct spa_grant_addr *b)
{
	return a->family == b->family && strcmp(a->text, b->text) == 0;
}

static int keep(void *arg, const char *line, size_t len, struct spa_grant *g)
{
	(void)line;
	(void)len;
	return ours_add(arg, g);
}

/* A masquerade for a forward-port's source and target makes it one
 * grant's MASQUERADE; unmatched ones are left out of the listing. */
static int mark_masq(void *arg, const char *line, size_t len, struct spa_grant *m)
{
	struct ours *o = arg;

	(void)line;
	(void)len;
	for (size_t i = 0; i < o->n; i++)
		if ((o->g[i].nat_flags & SPA_NAT_FORWARD) && same_addr(&o->g[i].src, &m->src) &&
		    same_addr(&o->g[i].nat_addr, &m->nat_addr))
			o->g[i].nat_flags |= SPA_NAT_MASQUERADE;
	return 0;
}

static int read_ours(struct spa_fwd_state *st, struct ours *o)
{
	size_t access;
	int rc;

	memset(o, 0, sizeof(*o));
	rc = st->xport->list(st, st->zone, &o->text);
	if (rc == 0 && strcmp(st->masq_zone, st->zone) != 0)
		rc = st->xport->list(st, st->masq_zone, &o->masq_text);
	else
		o->masq_text = o->text;
	if (rc == 0)
		rc = each_line(o->text, spa_fwd_rule_parse, keep, o);
	access = o->n;
	if (rc == 0)
		rc = each_line(o->text, spa_fwd_nat_parse, keep, o);
	if (rc == 0)
		rc = each_line(o->masq_text, spa_fwd_masq_parse, mark_masq, o);
	/* a forward-port with the access rule of its target port for the
	 * same source is a LOCAL grant, which that access rule is part of */
	for (size_t k = access; rc == 0 && k < o->n; k++) {
		for (size_t i = 0; i < access; i++) {
			struct spa_grant *a = &o->g[i], *n = &o->g[k];

			if (a->family && same_addr(&a->src, &n->src) && !a->dst.family &&
			    a->proto == n->proto && a->port == n->nat_port &&
			    !(n->nat_flags & SPA_NAT_MASQUERADE)) {
				n->nat_flags = SPA_NAT_LOCAL;
				a->family = 0; /* not listed on its own */
			}
		}
	}
	return rc;
}

static int fwd_list(void *state, spa_plugin_list_cb cb, void *ctx)
{
	struct ours o;
	int rc;

	if (!cb)
		return -EINVAL;
	rc = read_ours(state, &o);
	/* firewalld does not tell how long a timed rule has left: expires
	 * stays 0 (unknown) and the engine's journal is the authority */
	for (size_t i = 0; rc == 0 && i < o.n; i++)
		if (o.g[i].family)
			cb(ctx, &o.g[i]);
	ours_free(&o);
	return rc;
}

struct flush_ctx {
	struct spa_fwd_state *st;
	const char *zone;
};

static int flush_one(void *arg, const char *line, size_t len, struct spa_grant *g)
{
	struct flush_ctx *f = arg;
	char rule[SPA_FWD_RULE_LEN];

	(void)g;
	if (len >= sizeof(rule))
		return -ENAMETOOLONG;
	memcpy(rule, line, len);
	rule[len] = '\0';
	return f->st->xport->remove(f->st, f->zone, rule, 0);
}

static int fwd_flush(void *state)
{
	struct spa_fwd_state *st = state;
	struct flush_ctx in = { st, st->zone }, out = { st, st->masq_zone };
	struct ours o;
	int rc = read_ours(st, &o), r;

	if (rc == 0) {
		rc = each_line(o.text, spa_fwd_rule_parse, flush_one, &in);
		r = each_line(o.text, spa_fwd_nat_parse, flush_one, &in);
		rc = rc < 0 ? rc : r;
		r = each_line(o.masq_text, spa_fwd_masq_parse, flush_one, &out);
		rc = rc < 0 ? rc : r;
	}
	ours_free(&o);
	return rc;
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
 * the plugin's own parser, which check and init share. fwknop's chain
 * specifications of its direct rules are accepted as fwknopd.conf carries
 * them and mean nothing to rich rules. */
static const struct spa_plugin_key fwd_keys[] = {
	{ "FIREWD_ZONE", SPA_KEY_STRING, 0, NULL, NULL, "the zone of our rich rules" },
	{ "FIREWD_TRANSPORT", SPA_KEY_STRING, 0, NULL, NULL, "auto, dbus or exec" },
	{ "FIREWD_EXE", SPA_KEY_STRING, 0, NULL, NULL, "firewall-cmd (exec transport)" },
	{ "FIREWD_MASQ_ZONE", SPA_KEY_STRING, 0, NULL, NULL,
	  "zone a masqueraded NAT grant's traffic leaves by (default FIREWD_ZONE)" },
	{ "FIREWD_INPUT_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "fwknop's direct rules: no effect" },
	{ "FIREWD_OUTPUT_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "fwknop's direct rules: no effect" },
	{ "ENABLE_FIREWD_OUTPUT", SPA_KEY_STRING, 0, NULL, NULL, "fwknop: no effect" },
	{ "ENABLE_FIREWD_COMMENT_CHECK", SPA_KEY_STRING, 0, NULL, NULL, "fwknop: no effect" },
	{ "FIREWD_FORWARD_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "fwknop's direct rules: no effect" },
	{ "FIREWD_DNAT_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "fwknop's direct rules: no effect" },
	{ "FIREWD_SNAT_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "fwknop's direct rules: no effect" },
	{ "FIREWD_MASQUERADE_ACCESS", SPA_KEY_STRING, 0, NULL, NULL, "fwknop's direct rules: no effect" },
};

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.keys = fwd_keys,
	.n_keys = sizeof(fwd_keys) / sizeof(fwd_keys[0]),
	.name = "firewalld",
	.version = "0.1.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6 | SPA_PLUGIN_CAP_NATIVE_TIMEOUT | SPA_PLUGIN_CAP_NAT,
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
