/* SPDX-License-Identifier: MIT */
/*
 * spa_grants.h - the engine's grant store and its journal. Every change is
 * appended to the journal before any plugin is asked to act, so the next
 * daemon knows every hole a killed one may have opened; spa_grants_sync
 * makes it durable against power loss once the firewall calls are done.
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
	int jfd;                  /* append descriptor, -1 until the first snapshot */
	size_t jlines;            /* lines in the file: compaction when mostly history */
	bool jdirty;              /* appended since the last fdatasync */
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
/* Rewrites the journal as a snapshot (temp file, fsync, rename). */
int spa_grants_save(struct spa_grants *gs);
/* fdatasync of what was appended; compacts a log that is mostly history. */
int spa_grants_sync(struct spa_grants *gs);

/* Between spa_grants.c and spa_journal.c only. */
int spa_grants_push(struct spa_grants *gs, const struct spa_grant_rec *r);
int spa_grants_load_journal(struct spa_grants *gs);
int spa_grants_journal_add(struct spa_grants *gs, const struct spa_grant_rec *r);
int spa_grants_journal_update(struct spa_grants *gs, const struct spa_grant_rec *r);
int spa_grants_journal_remove(struct spa_grants *gs, uint64_t id);

#endif
