/* SPDX-License-Identifier: MIT */
#include "spa_ipt.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define ACCESS_FIELDS 6

static const char *const default_access[] = {
	[SPA_IPT_IN] = "ACCEPT, filter, INPUT, 1, FWKNOP_INPUT, 1",
	[SPA_IPT_OUT] = "ACCEPT, filter, OUTPUT, 1, FWKNOP_OUTPUT, 1",
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

int spa_ipt_parse_access(const char *value, enum spa_ipt_dir dir,
			 struct spa_ipt_chain *c)
{
	char fields[ACCESS_FIELDS][SPA_IPT_NAME_LEN];
	const char *p = value;
	unsigned int n = 0;
	char *end;
	unsigned long pos;
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
	for (unsigned int i = 0; i < n; i++) {
		if (i == 3 || i == 5)
			continue;
		if (!spa_ipt_valid_name(fields[i]))
			goto out;
	}
	errno = 0;
	pos = strtoul(fields[3], &end, 10);
	if (errno || *end || pos < 1 || pos > 65535)
		goto out;
	memcpy(c->target, fields[0], sizeof(c->target));
	memcpy(c->table, fields[1], sizeof(c->table));
	memcpy(c->from, fields[2], sizeof(c->from));
	c->jump_pos = (unsigned int)pos;
	memcpy(c->to, fields[4], sizeof(c->to));
	c->dir = dir;
	c->enabled = 1;
	rc = 0;
out:
	return rc;
}

static int load_chain(const struct spa_host_api *host, const char *key,
		      enum spa_ipt_dir dir, struct spa_ipt_chain *c)
{
	const char *v = host->config_get(host->self, key);
	int rc;

	if (!v || !*v)
		v = default_access[dir];
	rc = spa_ipt_parse_access(v, dir, c);
	if (rc < 0)
		host->log(host->self, SPA_LOG_ERR,
			  "%s: expected 'target, table, from-chain, position, to-chain, position', got '%s'",
			  key, v);
	return rc;
}

int spa_ipt_load_config(const struct spa_host_api *host, struct spa_ipt_state *st)
{
	int rc;

	st->host = host;
	rc = load_chain(host, "IPT_INPUT_ACCESS", SPA_IPT_IN, &st->chains[SPA_IPT_IN]);
	if (rc < 0)
		goto out;
	rc = load_chain(host, "IPT_OUTPUT_ACCESS", SPA_IPT_OUT, &st->chains[SPA_IPT_OUT]);
	if (rc < 0)
		goto out;
	st->chains[SPA_IPT_OUT].enabled = spa_pu_config_yes(host, "ENABLE_IPT_OUTPUT", 0);
	st->prepend = spa_pu_config_yes(host, "ENABLE_RULE_PREPEND", 0);
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
