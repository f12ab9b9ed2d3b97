/* SPDX-License-Identifier: MIT */
/*
 * spa_grants.h - the engine's grant store and its journal. Every change is
 * written to the journal (atomically, fsync'd) before any plugin is asked to
 * act, so after a crash the engine knows every hole it may have opened.
 */
#ifndef SPA_GRANTS_H
#define SPA_GRANTS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spa/plugin.h"

struct spa_grant_rec {
	struct spa_grant g;
	char plugin[32];
};

struct spa_grants {
	struct spa_grant_rec *recs;
	size_t n, cap;
	uint64_t next_id;
	char journal[PATH_MAX];   /* "" : no journal (tests, --test mode) */
};

/* Loads the journal if it exists. */
int spa_grants_open(struct spa_grants *gs, const char *journal);
void spa_grants_close(struct spa_grants *gs);
/* Same source, proto, port and backend: the one a re-knock refreshes. */
struct spa_grant_rec *spa_grants_find(struct spa_grants *gs, const struct spa_grant_rec *like);
/* Assigns r->g.id, stores a copy and journals it. */
int spa_grants_add(struct spa_grants *gs, struct spa_grant_rec *r);
/* Journals the new expiry of an existing record. */
int spa_grants_update(struct spa_grants *gs, struct spa_grant_rec *r, int64_t expires,
		      uint32_t timeout);
int spa_grants_remove(struct spa_grants *gs, uint64_t id);
/* Earliest expiry, or INT64_MAX when nothing is pending. */
int64_t spa_grants_next_expiry(const struct spa_grants *gs);
/* First record due at now, or NULL. */
const struct spa_grant_rec *spa_grants_due(const struct spa_grants *gs, int64_t now);
int spa_grants_save(const struct spa_grants *gs);

/* Between spa_grants.c and spa_journal.c only. */
int spa_grants_push(struct spa_grants *gs, const struct spa_grant_rec *r);
int spa_grants_load_journal(struct spa_grants *gs);

#endif
