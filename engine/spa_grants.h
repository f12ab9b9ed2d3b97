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
#include "spa_grants_index.h"
#include "spa_policy.h"

#define SPA_GRANT_ERROR_LEN 160

/* Why a grant's close keeps failing, for the log and spad -S: only
 * closing grants have one, so the store keeps them aside. */
struct spa_grant_error {
	uint64_t id;
	bool permanent;               /* the backend said retrying cannot help */
	char msg[SPA_GRANT_ERROR_LEN];
};

/* A grant as callers see it, materialised from the store's compact record
 * (spa_grants.c) on their stack: a copy, not a view. Functions that change
 * a grant find it by r->g.id and bring the copy up to date too. */
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
	bool permanent;           /* closing: the last failure's class */
	char error[SPA_GRANT_ERROR_LEN]; /* closing: its message, "" unknown */
	/* in memory only, for the plugin runtime (spa_daemon_ops.c) */
	bool close_busy;          /* a close is with the backend: not due */
	bool want_open;           /* re-knocked while that close runs */
	unsigned inflight;        /* ops submitted for it and not done */
	/* the plugin's data for this grant (ABI 1.3 token_set), a copy */
	size_t token_len;         /* 0: none */
	uint8_t token[SPA_GRANT_TOKEN_MAX];
};

struct spa_grant_slot;            /* the compact record (spa_grants.c) */
struct spa_grant_extra;           /* its rarely set fields: dst, NAT, token */

struct spa_grants {
	struct spa_grant_slot *slots; /* in no order: a remove moves the last one
				       * into the hole (spa_grants_at) */
	size_t n, cap;
	uint32_t *heap;           /* slot indexes, a min-heap by (due time, id) */
	struct spa_gtab by_id;    /* slot indexes by id */
	struct spa_gtab by_key;   /* ... by what a re-knock refreshes */
	struct spa_gstrs names;   /* stanza labels and plugin names */
	struct spa_gstrs users;   /* usernames: refs counts a user's grants */
	struct spa_grant_extra *extras;
	size_t n_extras, cap_extras;
	uint32_t free_extra;
	size_t n_closing;
	uint64_t next_id;
	char journal[PATH_MAX];   /* "" : no journal (tests, --test mode) */
	int jfd;                  /* append descriptor, -1 until the first snapshot */
	size_t jlines;            /* lines in the file: compaction when mostly history */
	bool jdirty;              /* appended since the last fdatasync */
	struct spa_policy_set policies;
	struct spa_grant_error *errs; /* of closing grants (spa_grants_error.c) */
	size_t n_errs, cap_errs;
};

/* Loads the journal if it exists. */
int spa_grants_open(struct spa_grants *gs, const char *journal);
void spa_grants_close(struct spa_grants *gs);
/* Same source, proto, port, backend and policy: the one a re-knock
 * refreshes (a closing one included: the knock wants it open again).
 * Copies it to *out (unless NULL). */
bool spa_grants_find(const struct spa_grants *gs, const struct spa_grant_rec *like,
		     struct spa_grant_rec *out);
/* Assigns r->g.id, stores it and journals it (with r->policy, which must
 * come from gs->policies). */
int spa_grants_add(struct spa_grants *gs, struct spa_grant_rec *r);
/* Journals the new expiry of grant r->g.id. */
int spa_grants_update(struct spa_grants *gs, struct spa_grant_rec *r, int64_t expires,
		      uint32_t timeout);
int spa_grants_remove(struct spa_grants *gs, uint64_t id);
/* Journals that a close of r failed: r stays, closing, and is due again at
 * retry_at (backoff doubling from 1 s to 5 min with each attempt; 5 min at
 * once for a permanent failure). error (may be NULL) is why, kept for
 * spad -S: journaled with the first failure and whenever it changes. */
int spa_grants_close_failed(struct spa_grants *gs, struct spa_grant_rec *r, int64_t now,
			    bool permanent, const char *error);
/* The plugin runtime's in-memory marks (not journaled): a close with the
 * backend (the grant is not due meanwhile), a re-knock during it, and the
 * count of ops submitted and not done. */
int spa_grants_set_busy(struct spa_grants *gs, uint64_t id, bool busy);
int spa_grants_set_want_open(struct spa_grants *gs, uint64_t id, bool want);
void spa_grants_inflight(struct spa_grants *gs, uint64_t id, int delta);
/* spa_grants_error.c: grant id's close error; msg NULL removes it. True
 * when that changed what is kept. */
bool spa_grants_error_put(struct spa_grants *gs, uint64_t id, bool permanent, const char *msg);
const struct spa_grant_error *spa_grants_error(const struct spa_grants *gs, uint64_t id);
void spa_grants_errors_free(struct spa_grants *gs);
/* Journals that r is wanted open again (a re-knock of a closing grant). */
int spa_grants_reopened(struct spa_grants *gs, struct spa_grant_rec *r);
bool spa_grants_by_id(const struct spa_grants *gs, uint64_t id, struct spa_grant_rec *out);
/* Sets grant id's token (len 0: none) and journals it unless unchanged;
 * -E2BIG beyond SPA_GRANT_TOKEN_MAX. When the journal cannot be written
 * the token is kept in memory all the same (this run's close still gets
 * it) and the error returned. */
int spa_grants_set_token(struct spa_grants *gs, uint64_t id, const void *data, size_t len);
/* Grant id's token, or NULL (*len 0) when it has none; valid until the
 * grant's token changes or the grant is removed. */
const void *spa_grants_token(const struct spa_grants *gs, uint64_t id, size_t *len);
/* Grant id's policy, or NULL (no such grant). */
const struct spa_policy *spa_grants_policy(const struct spa_grants *gs, uint64_t id);
/* The i-th grant (i < gs->n) for a walk of the store; a remove reorders. */
void spa_grants_at(const struct spa_grants *gs, size_t i, struct spa_grant_rec *out);
/* Earliest expiry or close retry, or INT64_MAX when nothing is pending. */
int64_t spa_grants_next_expiry(const struct spa_grants *gs);
/* The record due at now (expired, or a close to retry) with the earliest
 * due time, the lowest id of those; false when none is. */
bool spa_grants_due(const struct spa_grants *gs, int64_t now, struct spa_grant_rec *out);
/* Records whose close is being retried. */
size_t spa_grants_closing(const struct spa_grants *gs);
/* Grants (closing ones included) of this username / under this policy. */
size_t spa_grants_of_user(const struct spa_grants *gs, const char *username);
size_t spa_grants_of_policy(const struct spa_grants *gs, const struct spa_policy *p);
/* Rewrites the journal as a snapshot (temp file, fsync, rename). */
int spa_grants_save(struct spa_grants *gs);
/* fdatasync of what was appended; compacts a log that is mostly history. */
int spa_grants_sync(struct spa_grants *gs);

/* Between spa_grants.c and spa_journal.c only: changes without a journal
 * line (the journal's own replay); -ENOENT for an unknown id. */
int spa_grants_push(struct spa_grants *gs, const struct spa_grant_rec *r);
int spa_grants_set_expiry(struct spa_grants *gs, uint64_t id, int64_t expires,
			  uint32_t timeout);
int spa_grants_set_closing(struct spa_grants *gs, uint64_t id, bool closing,
			   unsigned attempts);
int spa_grants_drop(struct spa_grants *gs, uint64_t id);
int spa_grants_put_token(struct spa_grants *gs, uint64_t id, const void *data, size_t len);
int spa_grants_load_journal(struct spa_grants *gs);
int spa_grants_journal_add(struct spa_grants *gs, const struct spa_grant_rec *r);
int spa_grants_journal_update(struct spa_grants *gs, uint64_t id, int64_t expires,
			      uint32_t timeout);
int spa_grants_journal_remove(struct spa_grants *gs, uint64_t id);
int spa_grants_journal_token(struct spa_grants *gs, uint64_t id, const void *data,
			     size_t len);
int spa_grants_journal_closing(struct spa_grants *gs, uint64_t id, bool closing,
			       unsigned attempts);

#endif
