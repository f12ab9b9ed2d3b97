/* SPDX-License-Identifier: MIT */
/*
 * spa_grants_index.h - the building blocks of the grant store's indexes:
 * open-addressing hash tables of 32-bit record indexes (linear probing,
 * deletion by backward shift, so churn leaves no tombstones to slow later
 * probes) and refcounted interned strings. A table holds only indexes; the
 * owner hashes and compares the records they name, so one table costs
 * 4 bytes a slot whatever the key.
 */
#ifndef SPA_GRANTS_INDEX_H
#define SPA_GRANTS_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPA_GTAB_EMPTY UINT32_MAX
#define SPA_GHASH_INIT 0xcbf29ce484222325ULL

/* The hash of the record an entry names (the owner knows the records). */
typedef uint64_t (*spa_gtab_hash_fn)(const void *ctx, uint32_t v);

struct spa_gtab {
	uint32_t *v;     /* SPA_GTAB_EMPTY: a free slot */
	size_t cap;      /* 0, or a power of two kept at most 3/4 full */
};

/* Room for n entries; rehashes (with `hash`) when it grows. */
int spa_gtab_reserve(struct spa_gtab *t, size_t n, spa_gtab_hash_fn hash, const void *ctx);
/* h: the entry's hash; the table must have room (spa_gtab_reserve). */
void spa_gtab_insert(struct spa_gtab *t, uint64_t h, uint32_t v);
/* Removes entry v, whose hash is h; other entries' hashes come from `hash`. */
void spa_gtab_erase(struct spa_gtab *t, uint64_t h, uint32_t v, spa_gtab_hash_fn hash,
		    const void *ctx);
/* Entry `from` (hash h) now names `to`: its record moved. */
void spa_gtab_rename(struct spa_gtab *t, uint64_t h, uint32_t from, uint32_t to);
void spa_gtab_free(struct spa_gtab *t);

/* FNV-1a over n bytes, continuing from h (SPA_GHASH_INIT to start); mix the
 * result (spa_ghash_mix) before using its low bits. Grants are made by
 * authenticated knocks only, so no secret seed is needed against crafted
 * collisions. */
uint64_t spa_ghash(const void *p, size_t n, uint64_t h);
uint64_t spa_ghash_mix(uint64_t h);

struct spa_gstr {
	char *s;         /* NULL: free, `hash` then links the next free entry */
	uint32_t refs;
	uint32_t hash;
};

/* Interned strings by index; an index stays valid while it has a ref. */
struct spa_gstrs {
	struct spa_gstr *v;
	size_t n, cap, live;
	uint32_t free;   /* first free entry, SPA_GTAB_EMPTY: none */
	struct spa_gtab tab;
};

void spa_gstrs_init(struct spa_gstrs *s);
void spa_gstrs_free(struct spa_gstrs *s);
/* The index of str, taking a ref (interning it if new). */
int spa_gstrs_get(struct spa_gstrs *s, const char *str, uint32_t *idx);
/* The index of str if interned; takes no ref. */
bool spa_gstrs_lookup(const struct spa_gstrs *s, const char *str, uint32_t *idx);
void spa_gstrs_put(struct spa_gstrs *s, uint32_t idx);
static inline const char *spa_gstrs_str(const struct spa_gstrs *s, uint32_t idx)
{
	return s->v[idx].s;
}
static inline uint32_t spa_gstrs_refs(const struct spa_gstrs *s, uint32_t idx)
{
	return s->v[idx].refs;
}

#endif
