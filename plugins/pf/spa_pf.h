/* SPDX-License-Identifier: MIT */
/*
 * pf plugin internals. Grants live in one anchor of their own (referenced
 * from the admin's pf.conf), one "pass in quick" rule per grant labelled
 * _exp_<epoch>. pf cannot edit a single rule of an anchor, so every change
 * reloads the anchor's whole ruleset, rebuilt from "pfctl -a A -s rules".
 */
#ifndef SPA_PF_H
#define SPA_PF_H

#include <stdint.h>
#include <spa/plugin.h>
#include "spa_pu.h"

#define SPA_PF_ADDR_LEN 64
#define SPA_PF_ANCHOR_LEN 64

struct spa_pf_state {
	const struct spa_host_api *host;
	const char *exe;
	char anchor[SPA_PF_ANCHOR_LEN];
};

/* One "pass" line of "pfctl -a A -s rules". */
struct spa_pf_rule {
	int proto;                   /* 0 when absent or not tcp/udp */
	char src[SPA_PF_ADDR_LEN];
	char dst[SPA_PF_ADDR_LEN];
	int port;                    /* -1 when absent */
	int64_t expires;             /* -1 without an _exp_ label */
};

/* spa_pf_rules.c */
int spa_pf_valid_anchor(const char *s);
int spa_pf_parse_line(const char *line, struct spa_pf_rule *r);
int spa_pf_rule_matches(const struct spa_pf_rule *r, const struct spa_grant *g);
int spa_pf_rule_to_grant(const struct spa_pf_rule *r, struct spa_grant *g);
int spa_pf_format_rule(const struct spa_grant *g, struct spa_pu_buf *out);
/* Anchor text without the rules matching g (g NULL: keep every pass
 * rule), plus g's new rule when add is set. *kept counts the rules in it. */
int spa_pf_rebuild(const char *listing, const struct spa_grant *g, int add,
		   struct spa_pu_buf *out, unsigned int *kept, unsigned int *removed);
int spa_pf_anchor_listed(const char *listing, const char *anchor);

#endif
