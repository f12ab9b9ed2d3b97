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
	spa_policy_set_free(&gs->policies);
}

/* A record made without a policy has the empty one (spa_grants_add). */
static const char *policy_id(const struct spa_grant_rec *r)
{
	return r->policy ? r->policy->id : "";
}

struct spa_grant_rec *spa_grants_find(struct spa_grants *gs, const struct spa_grant_rec *like)
{
	const struct spa_grant *l = &like->g;

	for (size_t i = 0; i < gs->n; i++) {
		struct spa_grant *g = &gs->recs[i].g;
		if (g->family == l->family && g->proto == l->proto && g->port == l->port &&
		    strcmp(g->src.text, l->src.text) == 0 &&
		    strcmp(gs->recs[i].plugin, like->plugin) == 0 &&
		    strcmp(policy_id(&gs->recs[i]), policy_id(like)) == 0)
			return &gs->recs[i];
	}
	return NULL;
}

int spa_grants_add(struct spa_grants *gs, struct spa_grant_rec *r)
{
	int rc;

	/* a record made without a policy (tests, tools) is answered by the
	 * running config, as a version 2 journal's */
	if (!r->policy)
		r->policy = spa_policy_intern(&gs->policies, "", r->plugin, NULL, 0);
	if (!r->policy)
		return -ENOMEM;
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

struct spa_grant_rec *spa_grants_by_id(struct spa_grants *gs, uint64_t id)
{
	for (size_t i = 0; i < gs->n; i++)
		if (gs->recs[i].g.id == id)
			return &gs->recs[i];
	return NULL;
}

#define SPA_CLOSE_BACKOFF_MAX 300

int spa_grants_close_failed(struct spa_grants *gs, struct spa_grant_rec *r, int64_t now)
{
	unsigned shift = r->attempts < 9 ? r->attempts : 9;
	int64_t wait = (int64_t)1 << shift;

	r->attempts++;
	r->retry_at = now + (wait < SPA_CLOSE_BACKOFF_MAX ? wait : SPA_CLOSE_BACKOFF_MAX);
	if (r->closing)
		return 0; /* already journaled: the next start retries at once */
	r->closing = true;
	return spa_grants_journal_closing(gs, r);
}

int spa_grants_reopened(struct spa_grants *gs, struct spa_grant_rec *r)
{
	struct spa_grant_rec old = *r;
	int rc;

	r->closing = false;
	r->attempts = 0;
	r->retry_at = 0;
	rc = spa_grants_journal_closing(gs, r);
	/* not journaled (a full disk): the knock is refused and the close
	 * keeps being retried as before */
	if (rc < 0)
		*r = old;
	return rc;
}

static int64_t due_at(const struct spa_grant_rec *r)
{
	return r->closing ? r->retry_at : r->g.expires;
}

int64_t spa_grants_next_expiry(const struct spa_grants *gs)
{
	/* A linear scan: this runs once per change, not per packet. */
	int64_t next = INT64_MAX;

	for (size_t i = 0; i < gs->n; i++)
		if (due_at(&gs->recs[i]) < next)
			next = due_at(&gs->recs[i]);
	return next;
}

const struct spa_grant_rec *spa_grants_due(const struct spa_grants *gs, int64_t now)
{
	for (size_t i = 0; i < gs->n; i++)
		if (due_at(&gs->recs[i]) <= now)
			return &gs->recs[i];
	return NULL;
}

size_t spa_grants_closing(const struct spa_grants *gs)
{
	size_t n = 0;

	for (size_t i = 0; i < gs->n; i++)
		n += gs->recs[i].closing;
	return n;
}
