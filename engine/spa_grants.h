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
#include "spa_policy.h"

struct spa_grant_rec {
	struct spa_grant g;
	char plugin[32];
	const struct spa_policy *policy;  /* what it was granted under (never NULL
					   * in the store); owned by the store */
	/* A close the backend refused is retried, never forgotten: the grant
	 * stays (journaled) with closing set until a close succeeds. */
	bool closing;
	unsigned attempts;        /* failed closes so far */
	int64_t retry_at;         /* next close attempt (epoch s), if closing */
};

struct spa_grants {
	struct spa_grant_rec *recs;
	size_t n, cap;
	uint64_t next_id;
	char journal[PATH_MAX];   /* "" : no journal (tests, --test mode) */
	int jfd;                  /* append descriptor, -1 until the first snapshot */
	size_t jlines;            /* lines in the file: compaction when mostly history */
	bool jdirty;              /* appended since the last fdatasync */
	struct spa_policy_set policies;
};

/* Loads the journal if it exists. */
int spa_grants_open(struct spa_grants *gs, const char *journal);
void spa_grants_close(struct spa_grants *gs);
/* Same source, proto, port, backend and policy: the one a re-knock
 * refreshes (a closing one included: the knock wants it open again). */
struct spa_grant_rec *spa_grants_find(struct spa_grants *gs, const struct spa_grant_rec *like);
/* Assigns r->g.id, stores a copy and journals it (with r->policy, which
 * must come from gs->policies). */
int spa_grants_add(struct spa_grants *gs, struct spa_grant_rec *r);
/* Journals the new expiry of an existing record. */
int spa_grants_update(struct spa_grants *gs, struct spa_grant_rec *r, int64_t expires,
		      uint32_t timeout);
int spa_grants_remove(struct spa_grants *gs, uint64_t id);
/* Journals that a close of r failed: r stays, closing, and is due again at
 * retry_at (backoff doubling from 1 s to 5 min with each attempt). */
int spa_grants_close_failed(struct spa_grants *gs, struct spa_grant_rec *r, int64_t now);
/* Journals that r is wanted open again (a re-knock of a closing grant). */
int spa_grants_reopened(struct spa_grants *gs, struct spa_grant_rec *r);
struct spa_grant_rec *spa_grants_by_id(struct spa_grants *gs, uint64_t id);
/* Earliest expiry or close retry, or INT64_MAX when nothing is pending. */
int64_t spa_grants_next_expiry(const struct spa_grants *gs);
/* First record due at now (expired, or a close to retry), or NULL. */
const struct spa_grant_rec *spa_grants_due(const struct spa_grants *gs, int64_t now);
/* Records whose close is being retried. */
size_t spa_grants_closing(const struct spa_grants *gs);
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
int spa_grants_journal_closing(struct spa_grants *gs, const struct spa_grant_rec *r);

#endif
