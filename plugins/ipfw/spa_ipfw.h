/* SPDX-License-Identifier: MIT */
/*
 * ipfw plugin internals. Grants are rules of one ipfw set (the active set),
 * each with its own rule number and a "// _exp_<epoch>" comment. Closing
 * moves a rule to a disabled expire set so that connections it already
 * admitted keep their dynamic states; a purge later deletes moved rules
 * that have none left. No rule numbers are remembered: they are read back
 * from the listing every time.
 */
#ifndef SPA_IPFW_H
#define SPA_IPFW_H

#include <stdint.h>
#include <time.h>
#include <spa/plugin.h>
#include "spa_pu_rule.h"

struct spa_ipfw_state {
	const struct spa_host_api *host;
	const char *exe;
	unsigned int start;        /* first rule number we may use */
	unsigned int max;          /* how many numbers from start */
	unsigned int active_set;
	unsigned int expire_set;
	unsigned int purge_interval; /* seconds; 0 = purge at every open */
	int check_state;
	time_t last_purge;
};

/* One rule line of "ipfw set N list" (or "ipfw -S ... list"). */
struct spa_ipfw_rule {
	unsigned int num;
	int check_state;             /* the rule is a check-state */
	struct spa_pu_rule rule;     /* expires from a "// _exp_<epoch>" comment */
};

/* Destination words of a grant without one ("to me" / "to me6"). */
extern const char *const spa_ipfw_local[];

/* spa_ipfw_rules.c */
int spa_ipfw_parse_line(const char *line, struct spa_ipfw_rule *r);
/* The same as a spa_pu_parse_fn, for spa_pu_report_grants. */
int spa_ipfw_parse_grant_rule(const char *line, struct spa_pu_rule *r);

/* Calls fn for every rule line of a listing; stops at the dynamic part. */
typedef int (*spa_ipfw_rule_fn)(void *ctx, const struct spa_ipfw_rule *r);
int spa_ipfw_each_rule(const char *listing, spa_ipfw_rule_fn fn, void *ctx);

/* spa_ipfw_config.c: reads and validates every key into st without
 * running ipfw, the one parser of both ops.init and ops.check */
int spa_ipfw_load_config(const struct spa_host_api *host, struct spa_ipfw_state *st);

#endif
