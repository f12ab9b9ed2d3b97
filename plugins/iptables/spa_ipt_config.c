/* SPDX-License-Identifier: MIT */
#include "spa_ipt.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define ACCESS_FIELDS 6

static const char *const default_access[SPA_IPT_NCHAINS] = {
	[SPA_IPT_IN] = "ACCEPT, filter, INPUT, 1, FWKNOP_INPUT, 1",
	[SPA_IPT_OUT] = "ACCEPT, filter, OUTPUT, 1, FWKNOP_OUTPUT, 1",
	[SPA_IPT_FWD] = "ACCEPT, filter, FORWARD, 1, FWKNOP_FORWARD, 1",
	[SPA_IPT_DNAT] = "DNAT, nat, PREROUTING, 1, FWKNOP_PREROUTING, 1",
	[SPA_IPT_SNAT] = "SNAT, nat, POSTROUTING, 1, FWKNOP_POSTROUTING, 1",
	[SPA_IPT_MASQ] = "MASQUERADE, nat, POSTROUTING, 1, FWKNOP_MASQUERADE, 1",
};

static const char *const access_key[SPA_IPT_NCHAINS] = {
	[SPA_IPT_IN] = "IPT_INPUT_ACCESS",
	[SPA_IPT_OUT] = "IPT_OUTPUT_ACCESS",
	[SPA_IPT_FWD] = "IPT_FORWARD_ACCESS",
	[SPA_IPT_DNAT] = "IPT_DNAT_ACCESS",
	[SPA_IPT_SNAT] = "IPT_SNAT_ACCESS",
	[SPA_IPT_MASQ] = "IPT_MASQUERADE_ACCESS",
};

/* The address translations have one target each, and it lives in the
 * nat table. */
static const char *const nat_target[SPA_IPT_NCHAINS] = {
	[SPA_IPT_DNAT] = "DNAT",
	[SPA_IPT_SNAT] = "SNAT",
	[SPA_IPT_MASQ] = "MASQUERADE",
};

/* Names end up as iptables arguments; a conservative charset keeps a
 * config typo from turning into an option ("-F") or a second word. */
int spa_ipt_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 28 || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!isalnum(ch) && ch != '_' && ch != '-' && ch != '.')
			return 0;
	}
	return 1;
}

static int copy_field(char *dst, const char *start, size_t len)
{
	while (len > 0 && isspace((unsigned char)*start)) {
		start++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)start[len - 1]))
		len--;
	if (len == 0 || len >= SPA_IPT_NAME_LEN)
		return -EINVAL;
	memcpy(dst, start, len);
	dst[len] = '\0';
	return 0;
}

/* The targets a grant rule may jump to: verdicts only. A user chain
 * name would be accepted by iptables, but it cannot be told from a typo
 * of a verdict ("AACCEPT") without asking the firewall, which check may
 * not do. */
static int valid_target(const char *s)
{
	static const char *const verdicts[] = { "ACCEPT", "DROP", "REJECT", "RETURN" };

	for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++)
		if (strcmp(s, verdicts[i]) == 0)
			return 1;
	return 0;
}

static int valid_table(const char *s)
{
	static const char *const tables[] = { "filter", "nat", "mangle", "raw", "security" };

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (strcmp(s, tables[i]) == 0)
			return 1;
	return 0;
}

/* A rule position: 1..65535. */
static int parse_pos(const char *s, unsigned int *out)
{
	unsigned long pos;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	pos = strtoul(s, &end, 10);
	if (errno || *end || pos < 1 || pos > 65535)
		return -EINVAL;
	*out = (unsigned int)pos;
	return 0;
}

int spa_ipt_parse_access(const char *value, enum spa_ipt_role role,
			 struct spa_ipt_chain *c, const char **why)
{
	char fields[ACCESS_FIELDS][SPA_IPT_NAME_LEN];
	const char *p = value;
	const char *reason = "expected 'target, table, from-chain, position, to-chain, position'";
	unsigned int n = 0, pos = 0, rule_pos = 0;
	int rc = -EINVAL;

	memset(c, 0, sizeof(*c));
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (n >= ACCESS_FIELDS || copy_field(fields[n], p, len) < 0)
			goto out;
		n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	if (n != ACCESS_FIELDS && n != ACCESS_FIELDS - 1)
		goto out;
	if (nat_target[role]) {
		if (strcmp(fields[0], nat_target[role]) != 0 || strcmp(fields[1], "nat") != 0) {
			reason = role == SPA_IPT_DNAT ? "target and table must be DNAT, nat"
				 : role == SPA_IPT_SNAT ? "target and table must be SNAT, nat"
							: "target and table must be MASQUERADE, nat";
			goto out;
		}
	} else if (!valid_target(fields[0])) {
		reason = "target must be ACCEPT, DROP, REJECT or RETURN";
		goto out;
	}
	if (!valid_table(fields[1])) {
		reason = "table must be filter, nat, mangle, raw or security";
		goto out;
	}
	if (!spa_ipt_valid_name(fields[2]) || !spa_ipt_valid_name(fields[4])) {
		reason = "chain names are 1..28 of [A-Za-z0-9_.-], not starting with '-'";
		goto out;
	}
	/* the trailing rule position is unused (grant rules are appended),
	 * but a value that is not a position is a typo worth refusing */
	if (parse_pos(fields[3], &pos) < 0 ||
	    (n == ACCESS_FIELDS && parse_pos(fields[5], &rule_pos) < 0)) {
		reason = "positions are numbers 1..65535";
		goto out;
	}
	memcpy(c->target, fields[0], sizeof(c->target));
	memcpy(c->table, fields[1], sizeof(c->table));
	memcpy(c->from, fields[2], sizeof(c->from));
	c->jump_pos = pos;
	memcpy(c->to, fields[4], sizeof(c->to));
	c->role = role;
	c->enabled = 1;
	rc = 0;
out:
	if (rc < 0 && why)
		*why = reason;
	return rc;
}

static int load_chain(const struct spa_host_api *host, enum spa_ipt_role role,
		      struct spa_ipt_chain *c)
{
	const char *key = access_key[role];
	const char *v = host->config_get(host->self, key);
	const char *why = NULL;
	int rc;

	if (!v || !*v)
		v = default_access[role];
	rc = spa_ipt_parse_access(v, role, c, &why);
	if (rc < 0)
		host->log(host->self, SPA_LOG_ERR, "%s: %s, got '%s'", key, why, v);
	return rc;
}

/* Two roles in one chain would create and flush it twice in one batch,
 * and a grant's rules could not be told apart by chain. */
static int distinct_chains(const struct spa_host_api *host, const struct spa_ipt_state *st)
{
	for (int i = 0; i < SPA_IPT_NCHAINS; i++)
		for (int j = i + 1; j < SPA_IPT_NCHAINS; j++)
			if (strcmp(st->chains[i].table, st->chains[j].table) == 0 &&
			    strcmp(st->chains[i].to, st->chains[j].to) == 0) {
				host->log(host->self, SPA_LOG_ERR,
					  "%s and %s name the same chain %s (table %s)",
					  access_key[i], access_key[j], st->chains[i].to,
					  st->chains[i].table);
				return -EINVAL;
			}
	return 0;
}

int spa_ipt_load_config(const struct spa_host_api *host, struct spa_ipt_state *st)
{
	int rc;

	st->host = host;
	for (int i = 0; i < SPA_IPT_NCHAINS; i++) {
		rc = load_chain(host, (enum spa_ipt_role)i, &st->chains[i]);
		if (rc < 0)
			goto out;
	}
	rc = distinct_chains(host, st);
	if (rc < 0)
		goto out;
	rc = spa_pu_config_flag(host, "ENABLE_IPT_OUTPUT", 0, &st->chains[SPA_IPT_OUT].enabled);
	if (rc == 0)
		rc = spa_pu_config_flag(host, "ENABLE_RULE_PREPEND", 0, &st->prepend);
	if (rc < 0)
		goto out;
	/* FLUSH_IPT_AT_INIT/EXIT are read by the engine, which calls ops.flush
	 * in daemon mode only; a one-shot --fw-list must not wipe live grants. */

	st->fam[0].af = AF_INET;
	st->fam[0].save = spa_pu_config_exe(host, "IPT_SAVE_EXE", "/usr/sbin/iptables-save");
	st->fam[0].restore = spa_pu_config_exe(host, "IPT_RESTORE_EXE",
					       "/usr/sbin/iptables-restore");
	st->fam[1].af = AF_INET6;
	st->fam[1].save = spa_pu_config_exe(host, "IPT_IP6_SAVE_EXE", "/usr/sbin/ip6tables-save");
	st->fam[1].restore = spa_pu_config_exe(host, "IPT_IP6_RESTORE_EXE",
					       "/usr/sbin/ip6tables-restore");
	for (int i = 0; i < 2; i++) {
		if (!st->fam[i].save || !st->fam[i].restore) {
			rc = -EINVAL;
			goto out;
		}
	}
	rc = 0;
out:
	return rc;
}
