/* SPDX-License-Identifier: MIT */
/*
 * The plugin's memory of what it put in the firewall, per family and
 * chain. It lets an open be one iptables-restore (delete the rule we know
 * of, add the new one) instead of an iptables-save followed by a restore.
 * The view is only a guess: every line that depends on it either fails the
 * batch when the guess is wrong (-C, -D, -N, -A into a missing chain) or is
 * harmless, and a failed batch sends the caller back to iptables-save.
 */
#include "spa_ipt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void spa_ipt_clock(struct spa_ipt_state *st)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	st->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether an open batch must check the jump the view believes in. */
static int jump_check_due(const struct spa_ipt_state *st, const struct spa_ipt_view *v)
{
	return st->now_ms - v->jump_seen >= st->jump_recheck_ms;
}

static size_t addr_len(int af)
{
	return af == AF_INET ? 4 : 16;
}

void spa_ipt_held_from_grant(const struct spa_grant *g, struct spa_ipt_held *h)
{
	size_t n = addr_len(g->family);

	memset(h, 0, sizeof(*h));
	memcpy(h->src, &g->src.bin, n);
	if (g->dst.family) {
		h->has_dst = 1;
		memcpy(h->dst, &g->dst.bin, n);
	}
	h->proto = g->proto;
	h->port = g->port;
	h->expires = g->expires;
	h->nat_flags = spa_ipt_nat_flags(g);
	if (!h->nat_flags)
		return;
	h->nat_port = g->nat_port;
	if (g->nat_addr.family == g->family) {
		h->has_nat_addr = 1;
		memcpy(h->nat_addr, &g->nat_addr.bin, n);
	}
	/* as the rules' comment carries it (spa_ipt_nat.c) */
	if ((h->nat_flags & SPA_NAT_SNAT) && spa_ipt_snat_addr(g) &&
	    spa_ipt_snat_addr(g)->family == g->family) {
		h->has_snat_addr = 1;
		memcpy(h->snat_addr, &spa_ipt_snat_addr(g)->bin, n);
	}
}

/* The engine tells NAT grants of one source and port apart by their form
 * and target: so does the view, so that closing one leaves the other. */
int spa_ipt_held_same(const struct spa_ipt_held *a, const struct spa_ipt_held *b)
{
	return memcmp(a->src, b->src, sizeof(a->src)) == 0 && a->has_dst == b->has_dst &&
	       memcmp(a->dst, b->dst, sizeof(a->dst)) == 0 && a->proto == b->proto &&
	       a->port == b->port && a->nat_flags == b->nat_flags &&
	       a->nat_port == b->nat_port && a->has_nat_addr == b->has_nat_addr &&
	       memcmp(a->nat_addr, b->nat_addr, sizeof(a->nat_addr)) == 0 &&
	       a->has_snat_addr == b->has_snat_addr &&
	       memcmp(a->snat_addr, b->snat_addr, sizeof(a->snat_addr)) == 0;
}

static void held_to_grant(const struct spa_ipt_held *h, int af, struct spa_grant *g)
{
	size_t n = addr_len(af);

	memset(g, 0, sizeof(*g));
	g->struct_size = sizeof(*g);
	g->family = af;
	g->src.family = af;
	memcpy(&g->src.bin, h->src, n);
	if (h->has_dst) {
		g->dst.family = af;
		memcpy(&g->dst.bin, h->dst, n);
	}
	g->proto = h->proto;
	g->port = h->port;
	g->expires = h->expires;
	g->nat_flags = h->nat_flags;
	g->nat_port = h->nat_port;
	if (h->has_nat_addr) {
		g->nat_addr.family = af;
		memcpy(&g->nat_addr.bin, h->nat_addr, n);
	}
	if (h->has_snat_addr) {
		g->snat_addr.family = af;
		memcpy(&g->snat_addr.bin, h->snat_addr, n);
	}
}

/* Whether g has a rule in chain c. */
static int uses(const struct spa_ipt_chain *c, const struct spa_grant *g)
{
	char body[SPA_IPT_LINE_LEN];

	return spa_ipt_rule_body(c, g, body, sizeof(body)) == 1;
}

static void view_reset(struct spa_ipt_view *v)
{
	free(v->held);
	memset(v, 0, sizeof(*v));
}

void spa_ipt_view_forget(struct spa_ipt_state *st, int fi)
{
	for (int ci = 0; ci < SPA_IPT_NCHAINS; ci++)
		view_reset(&st->view[fi][ci]);
}

void spa_ipt_view_free(struct spa_ipt_state *st)
{
	for (int fi = 0; fi < 2; fi++)
		spa_ipt_view_forget(st, fi);
}

/* Past the bound (or out of memory) the view is dropped as a whole: a
 * partial one would let an open miss the old rule and stack a duplicate. */
static int view_add(struct spa_ipt_view *v, const struct spa_ipt_held *h)
{
	if (v->n == v->cap) {
		size_t want = v->cap ? v->cap * 2 : 16;
		struct spa_ipt_held *p;

		if (v->cap >= SPA_IPT_VIEW_MAX)
			goto drop;
		if (want > SPA_IPT_VIEW_MAX)
			want = SPA_IPT_VIEW_MAX;
		p = realloc(v->held, want * sizeof(*p));
		if (!p)
			goto drop;
		v->held = p;
		v->cap = want;
	}
	v->held[v->n++] = *h;
	return 0;
drop:
	view_reset(v);
	return -ENOMEM;
}

static void view_remove(struct spa_ipt_view *v, const struct spa_ipt_held *key)
{
	size_t w = 0;

	for (size_t r = 0; r < v->n; r++)
		if (!spa_ipt_held_same(&v->held[r], key))
			v->held[w++] = v->held[r];
	v->n = w;
}

static int view_holds(const struct spa_ipt_view *v, const struct spa_ipt_held *key)
{
	for (size_t i = 0; i < v->n; i++)
		if (spa_ipt_held_same(&v->held[i], key))
			return 1;
	return 0;
}

void spa_ipt_view_load(struct spa_ipt_state *st, int fi, const char *save_text)
{
	int af = st->fam[fi].af;

	spa_ipt_view_forget(st, fi);
	for (int ci = 0; ci < SPA_IPT_NCHAINS; ci++) {
		const struct spa_ipt_chain *c = &st->chains[ci];
		struct spa_ipt_view *v = &st->view[fi][ci];
		struct spa_ipt_save_iter it = { .p = save_text };
		struct spa_ipt_chain_scan scan;
		struct spa_ipt_rule r;
		struct spa_ipt_held h;
		struct spa_grant g;

		if (!c->enabled)
			continue;
		spa_ipt_chain_scan(c, save_text, &scan);
		v->chain = scan.exists;
		v->jump = scan.our_jumps > 0;
		v->jump_seen = st->now_ms;
		v->from_rules = scan.from_rules;
		v->foreign = scan.jumps_total - scan.our_jumps;
		v->known = 1;
		while (spa_ipt_save_next(&it, c->table)) {
			if (spa_ipt_rule_parse(it.line, &r) < 0 ||
			    spa_ipt_rule_grant(&r, c, af, &g) < 0)
				continue;
			spa_ipt_held_from_grant(&g, &h);
			if (view_add(v, &h) < 0)
				break;
		}
	}
}

void spa_ipt_view_apply(struct spa_ipt_state *st, int fi, enum spa_ipt_op op,
			const struct spa_grant *g)
{
	struct spa_ipt_held key = { 0 };

	if (g)
		spa_ipt_held_from_grant(g, &key);
	for (int ci = 0; ci < SPA_IPT_NCHAINS; ci++) {
		const struct spa_ipt_chain *c = &st->chains[ci];
		struct spa_ipt_view *v = &st->view[fi][ci];

		if (!c->enabled || !v->known)
			continue;
		switch (op) {
		case SPA_IPT_OP_OPEN:
		case SPA_IPT_OP_SETUP:
			/* chains a grant does not use are left as they were
			 * (the NAT chains are made when first needed) */
			if (op == SPA_IPT_OP_SETUP ? c->role != SPA_IPT_IN && c->role != SPA_IPT_OUT
						   : !uses(c, g)) {
				if (op == SPA_IPT_OP_OPEN)
					view_remove(v, &key);
				break;
			}
			/* the batch made the jump, or checked it if due */
			if (!v->jump || jump_check_due(st, v))
				v->jump_seen = st->now_ms;
			if (!v->jump)
				v->from_rules++;
			v->chain = v->jump = 1;
			if (op == SPA_IPT_OP_OPEN) {
				view_remove(v, &key);
				view_add(v, &key);
			}
			break;
		case SPA_IPT_OP_CLOSE:
			view_remove(v, &key);
			break;
		case SPA_IPT_OP_FLUSH:
			/* the batch deleted our jumps, emptied the chain and
			 * removed it unless another rule still refers to it */
			if (v->jump && v->from_rules > 0)
				v->from_rules--;
			v->jump = 0;
			v->chain = v->chain && v->foreign > 0;
			v->n = 0;
			break;
		}
	}
}

struct fast_ctx {
	int fi;
	enum spa_ipt_op op;
	const struct spa_grant *const *gs;
	const struct spa_ipt_held *keys; /* of gs */
	const uint8_t *skip;             /* a later grant has the same key */
	size_t k;
};

static int delete_held(const struct spa_ipt_chain *c, const struct spa_ipt_view *v, int af,
		       const struct spa_ipt_held *key, struct spa_pu_buf *sec,
		       unsigned int *changes)
{
	char body[SPA_IPT_LINE_LEN];
	struct spa_grant old;
	int rc = 0;

	for (size_t i = 0; i < v->n && rc == 0; i++) {
		if (!spa_ipt_held_same(&v->held[i], key))
			continue;
		held_to_grant(&v->held[i], af, &old);
		rc = spa_ipt_rule_body(c, &old, body, sizeof(body));
		if (rc == 1) {
			spa_pu_buf_printf(sec, "-D %s %s\n", c->to, body);
			(*changes)++;
		}
		rc = rc < 0 ? rc : 0;
	}
	return rc;
}

/* Chain and jump once for the whole batch: what the view says is missing
 * is created, and a jump it believes in is checked when it was last seen
 * SPA_IPT_JUMP_RECHECK_MS ago or more. */
static void open_head(const struct spa_ipt_state *st, const struct spa_ipt_chain *c,
		      const struct spa_ipt_view *v, struct spa_pu_buf *sec,
		      unsigned int *changes)
{
	if (!v->chain) {
		spa_pu_buf_printf(sec, "-N %s\n", c->to);
		(*changes)++;
	}
	if (!v->jump) {
		spa_ipt_jump_line(c, v->from_rules, sec);
		(*changes)++;
	} else if (jump_check_due(st, v)) {
		/* fails the batch if the admin removed our jump, so that the
		 * fallback puts it back (fwknop checks it on every rule) */
		spa_pu_buf_printf(sec, "-C %s -j %s\n", c->from, c->to);
	}
}

static int fast_lines(const struct spa_ipt_state *st, int ci, void *ctxp,
		      struct spa_pu_buf *sec, unsigned int *changes)
{
	const struct fast_ctx *ctx = ctxp;
	const struct spa_ipt_chain *c = &st->chains[ci];
	const struct spa_ipt_view *v = &st->view[ctx->fi][ci];
	int af = st->fam[ctx->fi].af;
	char body[SPA_IPT_LINE_LEN];
	int rc = 0, used = 0;

	/* chain and jump for the chains this batch adds to, only */
	for (size_t i = 0; i < ctx->k && ctx->op == SPA_IPT_OP_OPEN && !used; i++)
		used = !ctx->skip[i] && uses(c, ctx->gs[i]);
	if (used)
		open_head(st, c, v, sec, changes);
	for (size_t i = 0; i < ctx->k && rc == 0; i++) {
		int add = 0;

		if (ctx->skip[i])
			continue;
		if (ctx->op == SPA_IPT_OP_OPEN) {
			rc = spa_ipt_rule_body(c, ctx->gs[i], body, sizeof(body));
			if (rc < 0)
				break;
			add = rc;
		}
		/* a re-knock replaces the old rule rather than stacking */
		rc = delete_held(c, v, af, &ctx->keys[i], sec, changes);
		if (rc == 0 && add) {
			spa_ipt_rule_line(st, c, body, sec);
			(*changes)++;
		}
	}
	return rc;
}

int spa_ipt_view_known(const struct spa_ipt_state *st, int fi)
{
	for (int ci = 0; ci < SPA_IPT_NCHAINS; ci++)
		if (st->chains[ci].enabled && !st->view[fi][ci].known)
			return 0;
	return 1;
}

int spa_ipt_view_holds(const struct spa_ipt_state *st, int fi, const struct spa_grant *g)
{
	struct spa_ipt_held key;

	spa_ipt_held_from_grant(g, &key);
	for (int ci = 0; ci < SPA_IPT_NCHAINS; ci++)
		if (st->chains[ci].enabled && view_holds(&st->view[fi][ci], &key))
			return 1;
	return 0;
}

int spa_ipt_view_batch(const struct spa_ipt_state *st, int fi, enum spa_ipt_op op,
		       const struct spa_grant *const *gs, size_t k,
		       struct spa_pu_buf *batch, unsigned int *changes)
{
	struct fast_ctx ctx = { .fi = fi, .op = op, .gs = gs, .k = k };
	struct spa_ipt_held *keys = NULL;
	uint8_t *skip = NULL;
	int rc = -EAGAIN;

	*changes = 0;
	if ((op != SPA_IPT_OP_OPEN && op != SPA_IPT_OP_CLOSE) || !spa_ipt_view_known(st, fi))
		goto out;
	rc = -ENOMEM;
	keys = calloc(k ? k : 1, sizeof(*keys));
	skip = calloc(k ? k : 1, 1);
	if (!keys || !skip)
		goto out;
	for (size_t i = 0; i < k; i++)
		spa_ipt_held_from_grant(gs[i], &keys[i]);
	/* one transaction cannot delete a rule twice nor should it add two
	 * for one key: of grants with the same key only the last is written,
	 * which is where single ops in this order would end */
	for (size_t i = 0; i < k; i++)
		for (size_t j = i + 1; j < k && !skip[i]; j++)
			skip[i] = (uint8_t)spa_ipt_held_same(&keys[i], &keys[j]);
	ctx.keys = keys;
	ctx.skip = skip;
	rc = spa_ipt_by_table(st, fast_lines, &ctx, batch, changes);
out:
	free(keys);
	free(skip);
	return rc;
}
