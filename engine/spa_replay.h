/* SPDX-License-Identifier: MIT */
/*
 * spa_replay.h - the replay cache: digests of every packet that
 * authenticated, kept in a hash set and appended to a file in
 * fwknop's digest.cache line format, so it survives restarts and crashes.
 */
#ifndef SPA_REPLAY_H
#define SPA_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct spa_replay;

struct spa_replay_entry {
	char digest[44];
	uint8_t proto;
	char src[46];
	uint16_t sport;
	char dst[46];
	uint16_t dport;
	int64_t created;
};

/*
 * Loads path (created 0600 if missing; NULL keeps the cache in memory only).
 * Entries created before now - keep_secs are dropped and the file is
 * compacted (keep_secs 0 keeps everything).
 */
int spa_replay_open(const char *path, int64_t now, uint32_t keep_secs, struct spa_replay **out);
void spa_replay_close(struct spa_replay *r);
/* Returns the earlier entry for digest, or NULL. */
const struct spa_replay_entry *spa_replay_find(const struct spa_replay *r, const char *digest);
/* Records e: in memory and written to the file (not yet flushed). */
int spa_replay_add(struct spa_replay *r, const struct spa_replay_entry *e);
/* Flushes what spa_replay_add wrote to stable storage (no-op if nothing). */
int spa_replay_sync(struct spa_replay *r);
size_t spa_replay_count(const struct spa_replay *r);
/* From now on the cache lives in memory only (the packet process's copy:
 * the monitor's cache is the one on disk). */
void spa_replay_detach(struct spa_replay *r);
/* --rotate-digest-cache: renames path to path-old. */
int spa_replay_rotate(const char *path);

#endif
