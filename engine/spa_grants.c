/* SPDX-License-Identifier: MIT */
#include "spa_grants.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int spa_grants_push(struct spa_grants *gs, const struct spa_grant_rec *r)
{
	if (gs->n == gs->cap) {
		size_t cap = gs->cap ? gs->cap * 2 : 16;
		struct spa_grant_rec *grown = realloc(gs->recs, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		gs->recs = grown;
		gs->cap = cap;
	}
	gs->recs[gs->n++] = *r;
	return 0;
}

int spa_grants_open(struct spa_grants *gs, const char *journal)
{
	int rc;

	memset(gs, 0, sizeof(*gs));
	gs->jfd = -1;
	gs->next_id = 1;
	if (!journal)
		return 0;
	if (snprintf(gs->journal, sizeof(gs->journal), "%s", journal) >= (int)sizeof(gs->journal))
		return -ENAMETOOLONG;
	rc = spa_grants_load_journal(gs);
	if (rc < 0)
		spa_grants_close(gs);
	return rc;
}

void spa_grants_close(struct spa_grants *gs)
{
	if (gs->jfd >= 0) {
		spa_grants_sync(gs);
		close(gs->jfd);
		gs->jfd = -1;
	}
	free(gs->recs);
	gs->recs = NULL;
	gs->n = gs->cap = 0;
}

struct spa_grant_rec *spa_grants_find(struct spa_grants *gs, const struct spa_grant_rec *like)
{
	const struct spa_grant *l = &like->g;

	for (size_t i = 0; i < gs->n; i++) {
		struct spa_grant *g = &gs->recs[i].g;
		if (g->family == l->family && g->proto == l->proto && g->port == l->port &&
		    strcmp(g->src.text, l->src.text) == 0 &&
		    strcmp(gs->recs[i].plugin, like->plugin) == 0)
			return &gs->recs[i];
	}
	return NULL;
}

int spa_grants_add(struct spa_grants *gs, struct spa_grant_rec *r)
{
	int rc;

	r->g.id = gs->next_id++;
	rc = spa_grants_push(gs, r);
	if (rc < 0)
		return rc;
	rc = spa_grants_journal_add(gs, r);
	if (rc < 0)
		gs->n--;
	return rc;
}

int spa_grants_update(struct spa_grants *gs, struct spa_grant_rec *r, int64_t expires,
		      uint32_t timeout)
{
	int64_t old_exp = r->g.expires;
	uint32_t old_to = r->g.timeout;
	int rc;

	r->g.expires = expires;
	r->g.timeout = timeout;
	rc = spa_grants_journal_update(gs, r);
	if (rc < 0) {
		r->g.expires = old_exp;
		r->g.timeout = old_to;
	}
	return rc;
}

int spa_grants_remove(struct spa_grants *gs, uint64_t id)
{
	for (size_t i = 0; i < gs->n; i++) {
		if (gs->recs[i].g.id != id)
			continue;
		gs->recs[i] = gs->recs[gs->n - 1];
		gs->n--;
		return spa_grants_journal_remove(gs, id);
	}
	return -ENOENT;
}

int64_t spa_grants_next_expiry(const struct spa_grants *gs)
{
	/* A linear scan: grants number in the tens, and this runs once per
	 * change, not per packet. */
	int64_t next = INT64_MAX;

	for (size_t i = 0; i < gs->n; i++)
		if (gs->recs[i].g.expires < next)
			next = gs->recs[i].g.expires;
	return next;
}

const struct spa_grant_rec *spa_grants_due(const struct spa_grants *gs, int64_t now)
{
	for (size_t i = 0; i < gs->n; i++)
		if (gs->recs[i].g.expires <= now)
			return &gs->recs[i];
	return NULL;
}
