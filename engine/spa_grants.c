/* SPDX-License-Identifier: MIT */
/*
 * spa_grants.c - the grant store. Tens of thousands of live grants must
 * cost little and be found at once, so a grant is kept as a compact record
 * (strings interned, the rarely set dst, NAT and plugin token out of line) with
 * three indexes over it: hash tables by id and by refresh key, and a
 * min-heap by due time. A full struct spa_grant exists only as a copy on
 * the stack of whoever asked (spa_grants_at and friends).
 */
#include "spa_grants.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { FAM_NONE, FAM_V4, FAM_V6 };
#define SLOT_FAM 0x03u
#define SLOT_CLOSING 0x04u
#define SLOT_BUSY 0x08u       /* a close is with the backend: not due meanwhile */
#define SLOT_WANT_OPEN 0x10u  /* re-knocked while that close runs: keep it */

/* 80 bytes; sizes and order keep the padding out. */
struct spa_grant_slot {
	uint64_t id;
	int64_t expires;
	int64_t retry_at;
	const struct spa_policy *policy;
	uint8_t src[16];          /* network order; a v4 address in the first 4 */
	uint32_t timeout;
	uint16_t attempts;        /* saturates: 65535 tries at 5 min is 7 months */
	uint16_t inflight;        /* ops submitted for it and not done */
	uint32_t stanza, plugin;  /* in gs->names */
	uint32_t user;            /* in gs->users */
	uint32_t heap;            /* position in gs->heap */
	uint32_t extra;           /* 1 + index in gs->extras; 0: dst, NAT, token unset */
	uint16_t port;
	uint8_t proto;
	uint8_t flags;            /* SLOT_FAM of src, SLOT_CLOSING */
};

struct spa_grant_extra {
	uint8_t dst[16], nat[16], snat[16];
	uint8_t dst_fam, nat_fam, snat_fam; /* FAM_* */
	uint8_t nat_flags;        /* SPA_NAT_* (all fit in 8 bits) */
	uint16_t nat_port;
	uint32_t next_free;       /* a free entry: 1 + the next free one, 0 none */
	uint8_t *token;           /* the plugin's (token_set), malloc'd; NULL: none */
	uint16_t token_len;
};

/* A grant's NAT form as the store compares it: a re-knock refreshes the
 * grant of the same form only (another target is another hole). */
struct nat_form {
	uint8_t flags, nat_fam, snat_fam;
	uint16_t nat_port;
	uint8_t nat[16], snat[16];
};

/* What spa_grants_find compares; the policy by id, as two sets' objects
 * of one content are the same policy. */
struct key {
	const uint8_t *src;
	uint32_t plugin;
	uint16_t port;
	uint8_t proto, fam;
	const char *policy;
	struct nat_form nat;      /* all zero: plain access */
};

static uint8_t fam_code(int family)
{
	return family == AF_INET ? FAM_V4 : family == AF_INET6 ? FAM_V6 : FAM_NONE;
}

static void put_addr(uint8_t out[16], const struct spa_grant_addr *a)
{
	memset(out, 0, 16);
	memcpy(out, &a->bin, fam_code(a->family) == FAM_V6 ? 16 : fam_code(a->family) ? 4 : 0);
}

static void get_addr(struct spa_grant_addr *a, uint8_t fam, const uint8_t bin[16])
{
	memset(a, 0, sizeof(*a));
	if (fam == FAM_NONE)
		return;
	a->family = fam == FAM_V6 ? AF_INET6 : AF_INET;
	memcpy(&a->bin, bin, fam == FAM_V6 ? 16 : 4);
	inet_ntop(a->family, &a->bin, a->text, sizeof(a->text));
}

static const char *policy_id(const struct spa_policy *p)
{
	/* a record made without a policy has the empty one (spa_grants_add) */
	return p ? p->id : "";
}

static uint64_t key_hash(const struct key *k)
{
	uint64_t h = spa_ghash(k->src, 16, SPA_GHASH_INIT);

	/* plain grants (the many) hash as before: only a NAT form adds */
	if (k->nat.flags)
		h = spa_ghash(&k->nat, sizeof(k->nat), h);

	h = spa_ghash(&k->plugin, sizeof(k->plugin), h);
	h = spa_ghash(&k->port, sizeof(k->port), h);
	h = spa_ghash(&k->proto, 1, h);
	h = spa_ghash(&k->fam, 1, h);
	return spa_ghash_mix(spa_ghash(k->policy, strlen(k->policy), h));
}

static void slot_nat(const struct spa_grants *gs, const struct spa_grant_slot *s,
		     struct nat_form *f)
{
	const struct spa_grant_extra *e = s->extra ? &gs->extras[s->extra - 1] : NULL;

	memset(f, 0, sizeof(*f));
	if (!e || !e->nat_flags)
		return;
	f->flags = e->nat_flags;
	f->nat_fam = e->nat_fam;
	f->snat_fam = e->snat_fam;
	f->nat_port = e->nat_port;
	memcpy(f->nat, e->nat, 16);
	memcpy(f->snat, e->snat, 16);
}

static void grant_nat(const struct spa_grant *g, struct nat_form *f)
{
	memset(f, 0, sizeof(*f));
	if (!SPA_GRANT_HAS(g, nat_flags) || !g->nat_flags)
		return;
	f->flags = (uint8_t)g->nat_flags;
	f->nat_fam = fam_code(g->nat_addr.family);
	f->snat_fam = fam_code(g->snat_addr.family);
	f->nat_port = g->nat_port;
	put_addr(f->nat, &g->nat_addr);
	put_addr(f->snat, &g->snat_addr);
}

static struct key slot_key(const struct spa_grants *gs, const struct spa_grant_slot *s)
{
	struct key k = { .src = s->src, .plugin = s->plugin, .port = s->port,
			 .proto = s->proto, .fam = s->flags & SLOT_FAM,
			 .policy = policy_id(s->policy) };

	slot_nat(gs, s, &k.nat);
	return k;
}

static bool key_eq(const struct spa_grants *gs, const struct spa_grant_slot *s,
		   const struct key *k)
{
	struct nat_form f;

	if (s->port != k->port || s->proto != k->proto || (s->flags & SLOT_FAM) != k->fam ||
	    s->plugin != k->plugin || memcmp(s->src, k->src, 16) != 0 ||
	    strcmp(policy_id(s->policy), k->policy) != 0)
		return false;
	slot_nat(gs, s, &f);
	return memcmp(&f, &k->nat, sizeof(f)) == 0;
}

static uint64_t id_hash(uint64_t id)
{
	return spa_ghash_mix(id);
}

static uint64_t slot_id_hash(const void *ctx, uint32_t v)
{
	const struct spa_grants *gs = ctx;

	return id_hash(gs->slots[v].id);
}

static uint64_t slot_key_hash(const void *ctx, uint32_t v)
{
	const struct spa_grants *gs = ctx;
	struct key k = slot_key(gs, &gs->slots[v]);

	return key_hash(&k);
}

static struct spa_grant_slot *slot_of(const struct spa_grants *gs, uint64_t id)
{
	size_t mask = gs->by_id.cap - 1;

	if (!gs->n)
		return NULL;
	for (size_t i = id_hash(id) & mask; gs->by_id.v[i] != SPA_GTAB_EMPTY; i = (i + 1) & mask)
		if (gs->slots[gs->by_id.v[i]].id == id)
			return &gs->slots[gs->by_id.v[i]];
	return NULL;
}

/* ---- the heap: by due time, then id, so equal times come out in order */

static int64_t due_at(const struct spa_grant_slot *s)
{
	if (s->flags & SLOT_BUSY)
		return INT64_MAX;
	return s->flags & SLOT_CLOSING ? s->retry_at : s->expires;
}

static bool before(const struct spa_grants *gs, uint32_t a, uint32_t b)
{
	int64_t da = due_at(&gs->slots[a]), db = due_at(&gs->slots[b]);

	return da < db || (da == db && gs->slots[a].id < gs->slots[b].id);
}

static void heap_set(struct spa_grants *gs, size_t pos, uint32_t v)
{
	gs->heap[pos] = v;
	gs->slots[v].heap = (uint32_t)pos;
}

/* Restores the heap around pos, of `count` entries. */
static void heap_fix(struct spa_grants *gs, size_t pos, size_t count)
{
	uint32_t v = gs->heap[pos];

	while (pos > 0 && before(gs, v, gs->heap[(pos - 1) / 2])) {
		heap_set(gs, pos, gs->heap[(pos - 1) / 2]);
		pos = (pos - 1) / 2;
	}
	for (;;) {
		size_t c = 2 * pos + 1;
		if (c >= count)
			break;
		if (c + 1 < count && before(gs, gs->heap[c + 1], gs->heap[c]))
			c++;
		if (!before(gs, gs->heap[c], v))
			break;
		heap_set(gs, pos, gs->heap[c]);
		pos = c;
	}
	heap_set(gs, pos, v);
}

/* ---- records */

static void set_state(struct spa_grants *gs, struct spa_grant_slot *s, bool closing,
		      unsigned attempts, int64_t retry_at)
{
	if (closing != !!(s->flags & SLOT_CLOSING))
		gs->n_closing += closing ? 1 : (size_t)-1;
	s->flags = (uint8_t)((s->flags & ~SLOT_CLOSING) | (closing ? SLOT_CLOSING : 0));
	s->attempts = (uint16_t)(attempts < UINT16_MAX ? attempts : UINT16_MAX);
	s->retry_at = retry_at;
	heap_fix(gs, s->heap, gs->n);
}

static void set_expiry(struct spa_grants *gs, struct spa_grant_slot *s, int64_t expires,
		       uint32_t timeout)
{
	s->expires = expires;
	s->timeout = timeout;
	heap_fix(gs, s->heap, gs->n);
}

static void copy_state(const struct spa_grant_slot *s, struct spa_grant_rec *r)
{
	r->g.expires = s->expires;
	r->g.timeout = s->timeout;
	r->closing = s->flags & SLOT_CLOSING;
	r->attempts = s->attempts;
	r->retry_at = s->retry_at;
	r->close_busy = s->flags & SLOT_BUSY;
	r->want_open = s->flags & SLOT_WANT_OPEN;
	r->inflight = s->inflight;
}

static void materialise(const struct spa_grants *gs, const struct spa_grant_slot *s,
			struct spa_grant_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->g.struct_size = sizeof(r->g);
	r->g.id = s->id;
	get_addr(&r->g.src, s->flags & SLOT_FAM, s->src);
	r->g.family = r->g.src.family;
	if (s->extra) {
		const struct spa_grant_extra *e = &gs->extras[s->extra - 1];
		get_addr(&r->g.dst, e->dst_fam, e->dst);
		get_addr(&r->g.nat_addr, e->nat_fam, e->nat);
		r->g.nat_port = e->nat_port;
		r->g.nat_flags = e->nat_flags;
		get_addr(&r->g.snat_addr, e->snat_fam, e->snat);
		if (e->token) {
			memcpy(r->token, e->token, e->token_len);
			r->token_len = e->token_len;
		}
	}
	r->g.proto = s->proto;
	r->g.port = s->port;
	snprintf(r->g.stanza, sizeof(r->g.stanza), "%s", spa_gstrs_str(&gs->names, s->stanza));
	snprintf(r->g.username, sizeof(r->g.username), "%s", spa_gstrs_str(&gs->users, s->user));
	snprintf(r->plugin, sizeof(r->plugin), "%s", spa_gstrs_str(&gs->names, s->plugin));
	r->policy = s->policy;
	copy_state(s, r);
	if (s->flags & SLOT_CLOSING) {
		const struct spa_grant_error *e = spa_grants_error(gs, s->id);
		if (e) {
			r->permanent = e->permanent;
			memcpy(r->error, e->msg, sizeof(r->error));
		}
	}
}

/* A zeroed extra entry; *idx is 1 + its index. */
static int alloc_extra(struct spa_grants *gs, uint32_t *idx)
{
	uint32_t i;

	if (gs->free_extra) {
		i = gs->free_extra - 1;
		gs->free_extra = gs->extras[i].next_free;
	} else {
		if (gs->n_extras == gs->cap_extras) {
			size_t cap = gs->cap_extras < 8 ? 8 : gs->cap_extras + gs->cap_extras / 2;
			struct spa_grant_extra *grown = realloc(gs->extras, cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			gs->extras = grown;
			gs->cap_extras = cap;
		}
		i = (uint32_t)gs->n_extras++;
	}
	memset(&gs->extras[i], 0, sizeof(gs->extras[i]));
	*idx = i + 1;
	return 0;
}

static void free_extra(struct spa_grants *gs, uint32_t idx)
{
	struct spa_grant_extra *e = &gs->extras[idx - 1];

	free(e->token);
	memset(e, 0, sizeof(*e));
	e->next_free = gs->free_extra;
	gs->free_extra = idx;
}

static bool extra_has_addr(const struct spa_grant_extra *e)
{
	return e->dst_fam || e->nat_fam || e->nat_port || e->nat_flags;
}

/* Replaces slot s's token (len 0: none); an extra that then holds nothing
 * is given back, so a grant without a token costs nothing. */
static int put_token(struct spa_grants *gs, struct spa_grant_slot *s, const void *data,
		     size_t len)
{
	uint8_t *copy = NULL;
	struct spa_grant_extra *e;
	int rc;

	if (len > SPA_GRANT_TOKEN_MAX)
		return -E2BIG;
	if (len) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
		if (!s->extra && (rc = alloc_extra(gs, &s->extra)) < 0) {
			free(copy);
			return rc;
		}
	}
	if (!s->extra)
		return 0;
	e = &gs->extras[s->extra - 1];
	free(e->token);
	e->token = copy;
	e->token_len = (uint16_t)len;
	if (!copy && !extra_has_addr(e)) {
		free_extra(gs, s->extra);
		s->extra = 0;
	}
	return 0;
}

static int add_extra(struct spa_grants *gs, const struct spa_grant *g, uint32_t *idx)
{
	struct spa_grant_extra *e;
	int rc;

	struct nat_form f;

	*idx = 0;
	grant_nat(g, &f);
	if (!g->dst.family && !g->nat_addr.family && !g->nat_port && !f.flags)
		return 0;
	rc = alloc_extra(gs, idx);
	if (rc < 0)
		return rc;
	e = &gs->extras[*idx - 1];
	put_addr(e->dst, &g->dst);
	put_addr(e->nat, &g->nat_addr);
	e->dst_fam = fam_code(g->dst.family);
	e->nat_fam = fam_code(g->nat_addr.family);
	e->nat_port = g->nat_port;
	e->nat_flags = f.flags;
	e->snat_fam = f.snat_fam;
	memcpy(e->snat, f.snat, 16);
	return 0;
}

/* What a slot holds beyond itself: its strings, extra and counts. */
static void release(struct spa_grants *gs, const struct spa_grant_slot *s)
{
	spa_gstrs_put(&gs->names, s->stanza);
	spa_gstrs_put(&gs->names, s->plugin);
	spa_gstrs_put(&gs->users, s->user);
	if (s->extra)
		free_extra(gs, s->extra);
	if (s->flags & SLOT_CLOSING) {
		gs->n_closing--;
		spa_grants_error_put(gs, s->id, false, NULL);
	}
	/* the set owns its policies mutable; the store hands them out const */
	((struct spa_policy *)s->policy)->n_grants--;
}

static int reserve(struct spa_grants *gs)
{
	int rc;

	if (gs->n == gs->cap) {
		/* 1.5x, not 2x: the array is most of the store's memory */
		size_t cap = gs->cap < 16 ? 16 : gs->cap + gs->cap / 2;
		struct spa_grant_slot *slots;
		uint32_t *heap;
		if (cap >= SPA_GTAB_EMPTY)
			return -ENOMEM;
		slots = realloc(gs->slots, cap * sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		gs->slots = slots;
		heap = realloc(gs->heap, cap * sizeof(*heap));
		if (!heap)
			return -ENOMEM;
		gs->heap = heap;
		gs->cap = cap;
	}
	rc = spa_gtab_reserve(&gs->by_id, gs->n + 1, slot_id_hash, gs);
	if (rc == 0)
		rc = spa_gtab_reserve(&gs->by_key, gs->n + 1, slot_key_hash, gs);
	return rc;
}

int spa_grants_push(struct spa_grants *gs, const struct spa_grant_rec *r)
{
	struct spa_grant_slot s = { 0 };
	int rc, interned = 0;

	if (!r->policy || r->g.id == 0)
		return -EINVAL;
	rc = reserve(gs);
	if (rc == 0 && (rc = spa_gstrs_get(&gs->names, r->g.stanza, &s.stanza)) == 0)
		interned++;
	if (rc == 0 && (rc = spa_gstrs_get(&gs->names, r->plugin, &s.plugin)) == 0)
		interned++;
	if (rc == 0 && (rc = spa_gstrs_get(&gs->users, r->g.username, &s.user)) == 0)
		interned++;
	if (rc == 0)
		rc = add_extra(gs, &r->g, &s.extra);
	if (rc == 0 && (rc = put_token(gs, &s, r->token, r->token_len)) < 0 && s.extra)
		free_extra(gs, s.extra);
	if (rc < 0) {
		if (interned > 0)
			spa_gstrs_put(&gs->names, s.stanza);
		if (interned > 1)
			spa_gstrs_put(&gs->names, s.plugin);
		if (interned > 2)
			spa_gstrs_put(&gs->users, s.user);
		return rc;
	}
	s.id = r->g.id;
	s.expires = r->g.expires;
	s.timeout = r->g.timeout;
	s.policy = r->policy;
	s.flags = fam_code(r->g.src.family);
	put_addr(s.src, &r->g.src);
	s.port = r->g.port;
	s.proto = r->g.proto;
	gs->slots[gs->n] = s;
	spa_gtab_insert(&gs->by_id, id_hash(s.id), (uint32_t)gs->n);
	spa_gtab_insert(&gs->by_key, slot_key_hash(gs, (uint32_t)gs->n), (uint32_t)gs->n);
	gs->heap[gs->n] = (uint32_t)gs->n;
	gs->slots[gs->n].heap = (uint32_t)gs->n;
	gs->n++;
	((struct spa_policy *)s.policy)->n_grants++;
	/* the flag and counter through the one place that keeps them */
	set_state(gs, &gs->slots[gs->n - 1], r->closing, r->attempts, r->retry_at);
	return 0;
}

int spa_grants_drop(struct spa_grants *gs, uint64_t id)
{
	struct spa_grant_slot *s = slot_of(gs, id);
	uint32_t idx, last, pos;

	if (!s)
		return -ENOENT;
	idx = (uint32_t)(s - gs->slots);
	last = (uint32_t)gs->n - 1;
	spa_gtab_erase(&gs->by_id, id_hash(id), idx, slot_id_hash, gs);
	spa_gtab_erase(&gs->by_key, slot_key_hash(gs, idx), idx, slot_key_hash, gs);
	pos = s->heap;
	release(gs, s);
	/* the heap's last entry into the hole, then the last slot into its */
	heap_set(gs, pos, gs->heap[last]);
	if (pos != last)
		heap_fix(gs, pos, last);
	if (idx != last) {
		spa_gtab_rename(&gs->by_id, id_hash(gs->slots[last].id), last, idx);
		spa_gtab_rename(&gs->by_key, slot_key_hash(gs, last), last, idx);
		gs->slots[idx] = gs->slots[last];
		gs->heap[gs->slots[idx].heap] = idx;
	}
	gs->n--;
	return 0;
}

int spa_grants_set_expiry(struct spa_grants *gs, uint64_t id, int64_t expires,
			  uint32_t timeout)
{
	struct spa_grant_slot *s = slot_of(gs, id);

	if (!s)
		return -ENOENT;
	set_expiry(gs, s, expires, timeout);
	return 0;
}

int spa_grants_put_token(struct spa_grants *gs, uint64_t id, const void *data, size_t len)
{
	struct spa_grant_slot *s = slot_of(gs, id);

	return s ? put_token(gs, s, data, len) : -ENOENT;
}

int spa_grants_set_closing(struct spa_grants *gs, uint64_t id, bool closing, unsigned attempts)
{
	struct spa_grant_slot *s = slot_of(gs, id);

	if (!s)
		return -ENOENT;
	/* a new start retries at once */
	set_state(gs, s, closing, attempts, 0);
	if (!closing)
		spa_grants_error_put(gs, id, false, NULL);
	return 0;
}

int spa_grants_open(struct spa_grants *gs, const char *journal)
{
	int rc;

	memset(gs, 0, sizeof(*gs));
	spa_gstrs_init(&gs->names);
	spa_gstrs_init(&gs->users);
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
	for (size_t i = 0; i < gs->n_extras; i++)
		free(gs->extras[i].token); /* NULL in a free entry */
	free(gs->slots);
	free(gs->heap);
	free(gs->extras);
	gs->slots = NULL;
	gs->heap = NULL;
	gs->extras = NULL;
	gs->n = gs->cap = gs->n_extras = gs->cap_extras = gs->n_closing = 0;
	gs->free_extra = 0;
	spa_gtab_free(&gs->by_id);
	spa_gtab_free(&gs->by_key);
	spa_gstrs_free(&gs->names);
	spa_gstrs_free(&gs->users);
	spa_policy_set_free(&gs->policies);
	spa_grants_errors_free(gs);
}

bool spa_grants_find(const struct spa_grants *gs, const struct spa_grant_rec *like,
		     struct spa_grant_rec *out)
{
	uint8_t src[16];
	struct key k = { .src = src, .plugin = 0, .port = like->g.port, .proto = like->g.proto,
			 .fam = fam_code(like->g.src.family), .policy = policy_id(like->policy) };
	size_t mask = gs->by_key.cap - 1;

	/* a backend no grant names has no grant to refresh */
	if (!gs->n || !spa_gstrs_lookup(&gs->names, like->plugin, &k.plugin))
		return false;
	put_addr(src, &like->g.src);
	grant_nat(&like->g, &k.nat);
	for (size_t i = key_hash(&k) & mask; gs->by_key.v[i] != SPA_GTAB_EMPTY; i = (i + 1) & mask) {
		const struct spa_grant_slot *s = &gs->slots[gs->by_key.v[i]];
		if (!key_eq(gs, s, &k))
			continue;
		if (out)
			materialise(gs, s, out);
		return true;
	}
	return false;
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
		spa_grants_drop(gs, r->g.id);
	return rc;
}

int spa_grants_update(struct spa_grants *gs, struct spa_grant_rec *r, int64_t expires,
		      uint32_t timeout)
{
	struct spa_grant_slot *s = slot_of(gs, r->g.id);
	int64_t old_exp;
	uint32_t old_to;
	int rc;

	if (!s)
		return -ENOENT;
	old_exp = s->expires;
	old_to = s->timeout;
	set_expiry(gs, s, expires, timeout);
	rc = spa_grants_journal_update(gs, s->id, expires, timeout);
	if (rc < 0)
		set_expiry(gs, s, old_exp, old_to);
	copy_state(s, r);
	return rc;
}

int spa_grants_remove(struct spa_grants *gs, uint64_t id)
{
	int rc = spa_grants_drop(gs, id);

	return rc < 0 ? rc : spa_grants_journal_remove(gs, id);
}

bool spa_grants_by_id(const struct spa_grants *gs, uint64_t id, struct spa_grant_rec *out)
{
	const struct spa_grant_slot *s = slot_of(gs, id);

	if (s && out)
		materialise(gs, s, out);
	return s != NULL;
}

int spa_grants_set_token(struct spa_grants *gs, uint64_t id, const void *data, size_t len)
{
	struct spa_grant_slot *s = slot_of(gs, id);
	size_t old_len;
	const void *old;
	int rc;

	if (!s)
		return -ENOENT;
	if (len > SPA_GRANT_TOKEN_MAX)
		return -E2BIG;
	/* a plugin that sets its token again at every refresh costs no line */
	old = spa_grants_token(gs, id, &old_len);
	if (old_len == len && (len == 0 || memcmp(old, data, len) == 0))
		return 0;
	rc = put_token(gs, s, data, len);
	return rc < 0 ? rc : spa_grants_journal_token(gs, id, data, len);
}

const void *spa_grants_token(const struct spa_grants *gs, uint64_t id, size_t *len)
{
	const struct spa_grant_slot *s = slot_of(gs, id);
	const struct spa_grant_extra *e = s && s->extra ? &gs->extras[s->extra - 1] : NULL;

	*len = e && e->token ? e->token_len : 0;
	return *len ? e->token : NULL;
}

const struct spa_policy *spa_grants_policy(const struct spa_grants *gs, uint64_t id)
{
	const struct spa_grant_slot *s = slot_of(gs, id);

	return s ? s->policy : NULL;
}

void spa_grants_at(const struct spa_grants *gs, size_t i, struct spa_grant_rec *out)
{
	materialise(gs, &gs->slots[i], out);
}

#define SPA_CLOSE_BACKOFF_MAX 300

int spa_grants_close_failed(struct spa_grants *gs, struct spa_grant_rec *r, int64_t now,
			    bool permanent, const char *error)
{
	struct spa_grant_slot *s = slot_of(gs, r->g.id);
	unsigned shift;
	int64_t wait;
	int rc;

	if (!s)
		return -ENOENT;
	shift = s->attempts < 9 ? s->attempts : 9;
	/* retrying soon cannot help a refusal the backend calls permanent;
	 * retrying at all still can (an admin fixes it) */
	wait = permanent ? SPA_CLOSE_BACKOFF_MAX : (int64_t)1 << shift;
	set_state(gs, s, true, s->attempts + 1u,
		  now + (wait < SPA_CLOSE_BACKOFF_MAX ? wait : SPA_CLOSE_BACKOFF_MAX));
	spa_grants_error_put(gs, s->id, permanent, error);
	/* every failure: spad -S reads attempts and reason from the journal,
	 * and the backoff keeps these lines few; a next start retries at once */
	rc = spa_grants_journal_closing(gs, s->id, true, s->attempts);
	copy_state(s, r);
	return rc;
}

static struct spa_grant_slot *slot_set_flag(struct spa_grants *gs, uint64_t id,
					    uint8_t flag, bool on)
{
	struct spa_grant_slot *s = slot_of(gs, id);

	if (s)
		s->flags = (uint8_t)(on ? s->flags | flag : s->flags & ~flag);
	return s;
}

int spa_grants_set_busy(struct spa_grants *gs, uint64_t id, bool busy)
{
	struct spa_grant_slot *s = slot_set_flag(gs, id, SLOT_BUSY, busy);

	if (!s)
		return -ENOENT;
	heap_fix(gs, s->heap, gs->n);
	return 0;
}

int spa_grants_set_want_open(struct spa_grants *gs, uint64_t id, bool want)
{
	return slot_set_flag(gs, id, SLOT_WANT_OPEN, want) ? 0 : -ENOENT;
}

void spa_grants_inflight(struct spa_grants *gs, uint64_t id, int delta)
{
	struct spa_grant_slot *s = slot_of(gs, id);

	if (!s || (delta < 0 && s->inflight == 0) || (delta > 0 && s->inflight == UINT16_MAX))
		return;
	s->inflight = (uint16_t)(s->inflight + delta);
}

int spa_grants_reopened(struct spa_grants *gs, struct spa_grant_rec *r)
{
	struct spa_grant_slot *s = slot_of(gs, r->g.id);
	struct spa_grant_slot old;
	int rc;

	if (!s)
		return -ENOENT;
	old = *s;
	set_state(gs, s, false, 0, 0);
	spa_grants_error_put(gs, s->id, false, NULL);
	rc = spa_grants_journal_closing(gs, s->id, false, 0);
	/* not journaled (a full disk): the knock is refused and the close
	 * keeps being retried as before */
	if (rc < 0)
		set_state(gs, s, old.flags & SLOT_CLOSING, old.attempts, old.retry_at);
	copy_state(s, r);
	return rc;
}

int64_t spa_grants_next_expiry(const struct spa_grants *gs)
{
	return gs->n ? due_at(&gs->slots[gs->heap[0]]) : INT64_MAX;
}

bool spa_grants_due(const struct spa_grants *gs, int64_t now, struct spa_grant_rec *out)
{
	if (!gs->n || due_at(&gs->slots[gs->heap[0]]) > now)
		return false;
	materialise(gs, &gs->slots[gs->heap[0]], out);
	return true;
}

size_t spa_grants_closing(const struct spa_grants *gs)
{
	return gs->n_closing;
}

size_t spa_grants_of_user(const struct spa_grants *gs, const char *username)
{
	uint32_t i;

	return spa_gstrs_lookup(&gs->users, username, &i) ? spa_gstrs_refs(&gs->users, i) : 0;
}

size_t spa_grants_of_policy(const struct spa_grants *gs, const struct spa_policy *p)
{
	(void)gs;
	return p ? p->n_grants : 0;
}
