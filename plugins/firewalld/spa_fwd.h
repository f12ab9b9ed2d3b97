/* SPDX-License-Identifier: MIT */
/*
 * firewalld plugin internals. Each grant is one runtime rich rule with a
 * firewalld timeout in one zone (FIREWD_ZONE), so firewalld itself expires
 * it. Rich rules carry no comment, so ours are recognised by their exact
 * shape: a rule is ours only if rebuilding it from its parsed fields gives
 * back the very same text.
 */
#ifndef SPA_FWD_H
#define SPA_FWD_H

#include <stddef.h>
#include <spa/plugin.h>
#include "spa_pu.h"

#define SPA_FWD_ZONE_LEN 18 /* firewalld caps zone names at 17 characters */
#define SPA_FWD_RULE_LEN 256

struct spa_fwd_state {
	const struct spa_host_api *host;
	const char *exe;
	char zone_arg[8 + SPA_FWD_ZONE_LEN]; /* "--zone=<name>" */
};

/* spa_fwd_rules.c */
int spa_fwd_valid_zone(const char *zone);
/* Rich rule text for g, built from its binary address and numeric fields. */
int spa_fwd_rule_text(const struct spa_grant *g, char *out, size_t len);
/* Parses one --list-rich-rules line into g; -ENOENT when it is not ours. */
int spa_fwd_rule_parse(const char *line, size_t len, struct spa_grant *g);
/* Seconds to hand to --timeout: what is left of the grant, or -ETIME. */
long spa_fwd_timeout(const struct spa_grant *g, long long now);

/* spa_fwd_plugin.c: reads and validates every key into st without
 * running firewall-cmd, the one parser of both ops.init and ops.check */
int spa_fwd_load_config(const struct spa_host_api *host, struct spa_fwd_state *st);

#endif
