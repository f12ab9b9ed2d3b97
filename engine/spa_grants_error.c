/* SPDX-License-Identifier: MIT */
/*
 * spa_grants_error.c - why a grant's close keeps failing. Few grants are
 * ever closing, so their messages sit in a small array beside the store
 * instead of costing every grant record a field.
 */
#include "spa_grants.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct spa_grant_error *spa_grants_error(const struct spa_grants *gs, uint64_t id)
{
	for (size_t i = 0; i < gs->n_errs; i++)
		if (gs->errs[i].id == id)
			return &gs->errs[i];
	return NULL;
}

bool spa_grants_error_put(struct spa_grants *gs, uint64_t id, bool permanent, const char *msg)
{
	struct spa_grant_error *e = (struct spa_grant_error *)spa_grants_error(gs, id);
	char text[SPA_GRANT_ERROR_LEN];

	if (!msg) {
		if (!e)
			return false;
		*e = gs->errs[--gs->n_errs];
		return true;
	}
	snprintf(text, sizeof(text), "%s", msg);
	if (e && e->permanent == permanent && strcmp(e->msg, text) == 0)
		return false;
	if (!e) {
		if (gs->n_errs == gs->cap_errs) {
			size_t cap = gs->cap_errs ? 2 * gs->cap_errs : 8;
			struct spa_grant_error *v = realloc(gs->errs, cap * sizeof(*v));
			/* without memory the message is lost, never the grant */
			if (!v)
				return false;
			gs->errs = v;
			gs->cap_errs = cap;
		}
		e = &gs->errs[gs->n_errs++];
		e->id = id;
	}
	e->permanent = permanent;
	memcpy(e->msg, text, sizeof(text));
	return true;
}

void spa_grants_errors_free(struct spa_grants *gs)
{
	free(gs->errs);
	gs->errs = NULL;
	gs->n_errs = gs->cap_errs = 0;
}
