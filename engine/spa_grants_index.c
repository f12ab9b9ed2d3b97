/* SPDX-License-Identifier: MIT */
#include "spa_grants_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint64_t spa_ghash(const void *p, size_t n, uint64_t h)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* FNV's low bits are weak for keys that differ in their last bytes only
 * (ids, ports): a finaliser spreads every input bit over the index bits. */
uint64_t spa_ghash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

int spa_gtab_reserve(struct spa_gtab *t, size_t n, spa_gtab_hash_fn hash, const void *ctx)
{
	size_t cap = t->cap ? t->cap : 16;
	uint32_t *v;

	while (n * 4 > cap * 3)
		cap *= 2;
	if (cap == t->cap)
		return 0;
	if (cap > (size_t)UINT32_MAX)
		return -ENOMEM;
	v = malloc(cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(v, 0xff, cap * sizeof(*v));
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;
		if (t->v[i] == SPA_GTAB_EMPTY)
			continue;
		for (j = hash(ctx, t->v[i]) & (cap - 1); v[j] != SPA_GTAB_EMPTY; j = (j + 1) & (cap - 1))
			;
		v[j] = t->v[i];
	}
	free(t->v);
	t->v = v;
	t->cap = cap;
	return 0;
}

void spa_gtab_insert(struct spa_gtab *t, uint64_t h, uint32_t v)
{
	size_t mask = t->cap - 1, i = h & mask;

	while (t->v[i] != SPA_GTAB_EMPTY)
		i = (i + 1) & mask;
	t->v[i] = v;
}

static size_t position(const struct spa_gtab *t, uint64_t h, uint32_t v)
{
	size_t mask = t->cap - 1, i = h & mask;

	/* v is in the table: its probe run from h reaches it */
	while (t->v[i] != v)
		i = (i + 1) & mask;
	return i;
}

void spa_gtab_erase(struct spa_gtab *t, uint64_t h, uint32_t v, spa_gtab_hash_fn hash,
		    const void *ctx)
{
	size_t mask = t->cap - 1, i = position(t, h, v);

	/* Pull back every later entry of the run whose home is not between
	 * the hole and it: a probe from its home would stop at the hole. */
	for (size_t j = (i + 1) & mask; t->v[j] != SPA_GTAB_EMPTY; j = (j + 1) & mask) {
		size_t k = hash(ctx, t->v[j]) & mask;
		bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (stays)
			continue;
		t->v[i] = t->v[j];
		i = j;
	}
	t->v[i] = SPA_GTAB_EMPTY;
}

void spa_gtab_rename(struct spa_gtab *t, uint64_t h, uint32_t from, uint32_t to)
{
	t->v[position(t, h, from)] = to;
}

void spa_gtab_free(struct spa_gtab *t)
{
	free(t->v);
	t->v = NULL;
	t->cap = 0;
}

void spa_gstrs_init(struct spa_gstrs *s)
{
	memset(s, 0, sizeof(*s));
	s->free = SPA_GTAB_EMPTY;
}

void spa_gstrs_free(struct spa_gstrs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].s);
	free(s->v);
	spa_gtab_free(&s->tab);
	spa_gstrs_init(s);
}

static uint64_t str_hash(const char *str)
{
	return spa_ghash_mix(spa_ghash(str, strlen(str), SPA_GHASH_INIT)) & UINT32_MAX;
}

static uint64_t entry_hash(const void *ctx, uint32_t v)
{
	const struct spa_gstrs *s = ctx;

	return s->v[v].hash;
}

bool spa_gstrs_lookup(const struct spa_gstrs *s, const char *str, uint32_t *idx)
{
	uint64_t h;
	size_t mask;

	if (!s->tab.cap)
		return false;
	h = str_hash(str);
	mask = s->tab.cap - 1;
	for (size_t i = h & mask; s->tab.v[i] != SPA_GTAB_EMPTY; i = (i + 1) & mask) {
		const struct spa_gstr *e = &s->v[s->tab.v[i]];
		if (e->hash == h && strcmp(e->s, str) == 0) {
			*idx = s->tab.v[i];
			return true;
		}
	}
	return false;
}

int spa_gstrs_get(struct spa_gstrs *s, const char *str, uint32_t *idx)
{
	uint32_t i;
	char *copy;
	int rc;

	if (spa_gstrs_lookup(s, str, idx)) {
		s->v[*idx].refs++;
		return 0;
	}
	rc = spa_gtab_reserve(&s->tab, s->live + 1, entry_hash, s);
	if (rc < 0)
		return rc;
	if (s->free == SPA_GTAB_EMPTY && s->n == s->cap) {
		size_t cap = s->cap < 8 ? 8 : s->cap + s->cap / 2;
		struct spa_gstr *grown;
		if (cap >= SPA_GTAB_EMPTY)
			return -ENOMEM;
		grown = realloc(s->v, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->v = grown;
		s->cap = cap;
	}
	copy = strdup(str);
	if (!copy)
		return -ENOMEM;
	if (s->free != SPA_GTAB_EMPTY) {
		i = s->free;
		s->free = s->v[i].hash;
	} else {
		i = (uint32_t)s->n++;
	}
	s->v[i].s = copy;
	s->v[i].refs = 1;
	s->v[i].hash = (uint32_t)str_hash(str);
	spa_gtab_insert(&s->tab, s->v[i].hash, i);
	s->live++;
	*idx = i;
	return 0;
}

void spa_gstrs_put(struct spa_gstrs *s, uint32_t idx)
{
	struct spa_gstr *e = &s->v[idx];

	if (--e->refs)
		return;
	spa_gtab_erase(&s->tab, e->hash, idx, entry_hash, s);
	free(e->s);
	e->s = NULL;
	e->hash = s->free;
	s->free = idx;
	s->live--;
}
