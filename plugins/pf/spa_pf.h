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
#include "spa_pu_rule.h"

#define SPA_PF_ANCHOR_LEN 64

struct spa_pf_state {
	const struct spa_host_api *host;
	const char *exe;
	char anchor[SPA_PF_ANCHOR_LEN];
	int has_input;              /* the engine has run_input (ABI 1.1) */
};

/* Destination words of a grant without one ("to any"). */
extern const char *const spa_pf_local[];

/* spa_pf_rules.c */
int spa_pf_valid_anchor(const char *s);
/* One "pass" line of "pfctl -a A -s rules"; -EINVAL for any other line. */
int spa_pf_parse_line(const char *line, struct spa_pu_rule *r);
int spa_pf_format_rule(const struct spa_grant *g, struct spa_pu_buf *out);
/* Anchor text without the rules matching g (g NULL: keep every pass
 * rule), plus g's new rule when add is set. *kept counts the rules in it. */
int spa_pf_rebuild(const char *listing, const struct spa_grant *g, int add,
		   struct spa_pu_buf *out, unsigned int *kept, unsigned int *removed);
int spa_pf_anchor_listed(const char *listing, const char *anchor);

#endif
