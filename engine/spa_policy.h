/* SPDX-License-Identifier: MIT */
/*
 * spa_policy.h - what a grant was granted under. An access.conf stanza is
 * known to the user by its content, not its line: inserting a stanza above
 * shifts every "file:line" label. A policy is the part of a stanza that
 * decides how a grant is opened and closed (the backend, SOURCE and the
 * plugin's own variables such as CMD_CYCLE_CLOSE), named by a digest of that
 * content. Grants point at their policy, the journal stores it with them,
 * and refresh and close use it whatever access.conf says by then.
 */
#ifndef SPA_POLICY_H
#define SPA_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "spa_config.h"

#define SPA_POLICY_ID_LEN 17   /* 16 hex digits of SHA-256, NUL */

struct spa_policy {
	char id[SPA_POLICY_ID_LEN];   /* "": a grant from a journal that had no
				       * policies (version 2): ask the config */
	char plugin[32];
	struct spa_conf_kv *vars;     /* the stanza's plugin variables, copied */
	size_t n_vars;
	size_t n_grants;              /* grants of the store under it (kept by
				       * spa_grants.c, for the limits) */
};

/* Interned policies: one object per distinct content, alive until the set
 * is freed, so a plugin's stanza_get answer stays valid until its fini. */
struct spa_policy_set {
	struct spa_policy **items;
	size_t n;
};

/* The policy of stanza s served by plugin `plugin`; NULL on ENOMEM. */
const struct spa_policy *spa_policy_of_stanza(struct spa_policy_set *set, const char *plugin,
					      const struct spa_stanza *s);
/* The policy with this id and these variables (the journal's copy). */
const struct spa_policy *spa_policy_intern(struct spa_policy_set *set, const char *id,
					   const char *plugin, const struct spa_conf_kv *vars,
					   size_t n_vars);
void spa_policy_set_free(struct spa_policy_set *set);
/* A variable of the policy; *found false for a policy without a recorded
 * content (id ""), whose variables only the running config knows. */
const char *spa_policy_var(const struct spa_policy *p, const char *name, bool *found);

#endif
