/* SPDX-License-Identifier: MIT */
#include "spa_ipt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKENS_MAX 64

/* Splits an iptables-save line in place. Quoted arguments (comments with
 * spaces written by other tools) stay one token so that their content is
 * never mistaken for options. Returns the token count or -1. */
static int tokenize(char *line, char *tok[], int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (n >= max)
			return -1;
		if (*p == '"') {
			tok[n++] = ++p;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				p++;
			}
		} else {
			tok[n++] = p;
			while (*p && *p != ' ')
				p++;
		}
		if (!*p)
			break;
		*p++ = '\0';
	}
	return n;
}

static int copy_tok(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

static int parse_port(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end || v < 0 || v > 65535)
		return -2; /* a range or a name: not one of ours */
	return (int)v;
}

/* "_exp_<E>" (a plain grant's rule), or "_exp_<E>_<grant>" (a rule of a
 * NAT grant: spa_ipt_nat.c reads the grant, since the rule's own matches
 * do not show all of it). */
static int parse_comment(const char *s, struct spa_ipt_rule *r)
{
	char *end;
	long long v;

	if (strncmp(s, "_exp_", 5) != 0 || s[5] < '0' || s[5] > '9')
		return -1;
	v = strtoll(s + 5, &end, 10);
	if (v < 0)
		return -1;
	r->expires = (int64_t)v;
	if (*end == '\0')
		return 0;
	if (*end != '_' || !end[1] || copy_tok(r->mark, sizeof(r->mark), end + 1) < 0)
		return -1;
	r->marked = 1;
	return 0;
}

int spa_ipt_rule_parse(const char *line, struct spa_ipt_rule *r)
{
	char buf[SPA_IPT_LINE_LEN];
	char *tok[TOKENS_MAX];
	int n;

	memset(r, 0, sizeof(*r));
	r->sport = r->dport = -1;
	r->expires = -1;
	if (copy_tok(buf, sizeof(buf), line) < 0)
		return -E2BIG;
	n = tokenize(buf, tok, TOKENS_MAX);
	if (n < 2 || strcmp(tok[0], "-A") != 0)
		return -ENOENT;
	if (copy_tok(r->chain, sizeof(r->chain), tok[1]) < 0)
		return -EINVAL;
	/* the text after "-A chain ", compared with what we would write */
	if (strlen(line) > 4 + strlen(r->chain))
		copy_tok(r->body, sizeof(r->body), line + 4 + strlen(r->chain));
	for (int i = 2; i < n; i++) {
		const char *opt = tok[i];
		const char *arg = i + 1 < n ? tok[i + 1] : NULL;
		int bad = 0;

		if (!arg) {
			r->nmatch_other++;
			break;
		}
		if (strcmp(opt, "-s") == 0) {
			bad = copy_tok(r->src, sizeof(r->src), arg);
		} else if (strcmp(opt, "-d") == 0) {
			bad = copy_tok(r->dst, sizeof(r->dst), arg);
		} else if (strcmp(opt, "-p") == 0) {
			r->proto = spa_pu_proto_number(arg);
			bad = r->proto < 0;
		} else if (strcmp(opt, "--dport") == 0) {
			r->dport = parse_port(arg);
			bad = r->dport < 0;
		} else if (strcmp(opt, "--sport") == 0) {
			r->sport = parse_port(arg);
			bad = r->sport < 0;
		} else if (strcmp(opt, "--comment") == 0) {
			bad = parse_comment(arg, r) < 0;
			if (bad) {
				r->expires = -1;
				r->marked = 0;
			}
		} else if (strcmp(opt, "--to-destination") == 0) {
			bad = copy_tok(r->to_dst, sizeof(r->to_dst), arg);
		} else if (strcmp(opt, "--to-source") == 0) {
			bad = copy_tok(r->to_src, sizeof(r->to_src), arg);
		} else if (strcmp(opt, "-j") == 0) {
			bad = copy_tok(r->jump, sizeof(r->jump), arg);
		} else if (strcmp(opt, "-m") == 0) {
			bad = strcmp(arg, "tcp") && strcmp(arg, "udp") &&
			      strcmp(arg, "comment");
		} else {
			/* "!", -i, --to-destination...: a rule we did not write */
			r->nmatch_other++;
			continue;
		}
		if (bad)
			r->nmatch_other++;
		i++;
	}
	return 0;
}

int spa_ipt_addr_plen(const struct spa_grant_addr *a, char *out, size_t len)
{
	char txt[SPA_GRANT_ADDR_LEN];
	int rc = spa_pu_addr_text(a, txt, sizeof(txt));
	int n;

	if (rc < 0)
		return rc;
	n = snprintf(out, len, "%s/%d", txt, a->family == AF_INET ? 32 : 128);
	return n < 0 || (size_t)n >= len ? -E2BIG : 0;
}

/* Written exactly as iptables-save prints it, so that the text of a rule
 * read back can be compared with, and deleted as, what we added. */
int spa_ipt_rule_body(const struct spa_ipt_chain *c, const struct spa_grant *g,
		      char *out, size_t len)
{
	char src[SPA_IPT_ADDR_LEN], dst[SPA_IPT_ADDR_LEN] = "";
	const char *proto = spa_pu_proto_name(g->proto);
	int n, rc;

	if (!proto || g->port == 0 || g->expires < 0)
		return -EINVAL;
	if (g->src.family != g->family || (g->dst.family && g->dst.family != g->family))
		return -EINVAL;
	if (spa_ipt_nat_flags(g))
		return spa_ipt_nat_body(c, g, out, len);
	if (c->role != SPA_IPT_IN && c->role != SPA_IPT_OUT)
		return 0;
	rc = spa_ipt_addr_plen(&g->src, src, sizeof(src));
	if (rc < 0)
		return rc;
	if (g->dst.family) {
		rc = spa_ipt_addr_plen(&g->dst, dst, sizeof(dst));
		if (rc < 0)
			return rc;
	}
	if (c->role == SPA_IPT_IN)
		n = snprintf(out, len,
			     "-s %s%s%s -p %s -m %s --dport %u -m comment --comment _exp_%" PRId64
			     " -j %s",
			     src, *dst ? " -d " : "", dst, proto, proto, g->port, g->expires,
			     c->target);
	else
		n = snprintf(out, len,
			     "%s%s%s-d %s -p %s -m %s --sport %u -m comment --comment _exp_%" PRId64
			     " -j %s",
			     *dst ? "-s " : "", dst, *dst ? " " : "", src, proto, proto, g->port,
			     g->expires, c->target);
	return n < 0 || (size_t)n >= len ? -E2BIG : 1;
}

/* "addr/plen" from iptables-save as the binary address of one host; a
 * network (shorter prefix) is not something we wrote. */
static int host_bin(const char *text, int af, void *bin)
{
	char buf[SPA_IPT_ADDR_LEN];
	char *slash;
	int full = af == AF_INET ? 32 : 128;

	if (copy_tok(buf, sizeof(buf), text) < 0)
		return -EINVAL;
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (strcmp(slash + 1, full == 32 ? "32" : "128") != 0)
			return -EINVAL;
	}
	return inet_pton(af, buf, bin) == 1 ? 0 : -EINVAL;
}

int spa_ipt_fill_addr(struct spa_grant_addr *a, int af, const char *text)
{
	memset(a, 0, sizeof(*a));
	if (host_bin(text, af, &a->bin) < 0)
		return -EINVAL;
	a->family = af;
	return spa_pu_addr_text(a, a->text, sizeof(a->text));
}

int spa_ipt_rule_grant(const struct spa_ipt_rule *r, const struct spa_ipt_chain *c,
		       int af, struct spa_grant *g)
{
	const char *peer = c->role == SPA_IPT_IN ? r->src : r->dst;
	const char *local = c->role == SPA_IPT_IN ? r->dst : r->src;
	int port = c->role == SPA_IPT_IN ? r->dport : r->sport;
	int other_port = c->role == SPA_IPT_IN ? r->sport : r->dport;

	if (r->marked)
		return spa_ipt_nat_rule_grant(r, c, af, g);
	if ((c->role != SPA_IPT_IN && c->role != SPA_IPT_OUT) || r->to_dst[0] || r->to_src[0])
		return -ENOENT;
	if (r->nmatch_other || r->expires < 0 || strcmp(r->chain, c->to) != 0 ||
	    strcmp(r->jump, c->target) != 0 || !r->proto || port <= 0 || other_port != -1)
		return -ENOENT;
	memset(g, 0, sizeof(*g));
	g->struct_size = sizeof(*g);
	g->family = af;
	if (spa_ipt_fill_addr(&g->src, af, peer) < 0)
		return -ENOENT;
	if (*local && spa_ipt_fill_addr(&g->dst, af, local) < 0)
		return -ENOENT;
	g->proto = (uint8_t)r->proto;
	g->port = (uint16_t)port;
	g->expires = r->expires;
	return 0;
}

int spa_ipt_rule_matches(const struct spa_ipt_rule *r, const struct spa_ipt_chain *c,
			 const struct spa_grant *g)
{
	struct spa_grant found;
	struct spa_ipt_held a, b;

	if (spa_ipt_rule_grant(r, c, g->family, &found) < 0)
		return 0;
	spa_ipt_held_from_grant(&found, &a);
	spa_ipt_held_from_grant(g, &b);
	return spa_ipt_held_same(&a, &b);
}

int spa_ipt_save_next(struct spa_ipt_save_iter *it, const char *want_table)
{
	while (*it->p) {
		const char *nl = strchr(it->p, '\n');
		size_t len = nl ? (size_t)(nl - it->p) : strlen(it->p);
		const char *start = it->p;

		it->p = nl ? nl + 1 : start + len;
		if (len >= sizeof(it->line))
			continue; /* not a line we could have written */
		memcpy(it->line, start, len);
		it->line[len] = '\0';
		if (it->line[0] == '*') {
			if (copy_tok(it->table, sizeof(it->table), it->line + 1) < 0)
				it->table[0] = '\0';
			continue;
		}
		if (strcmp(it->table, want_table) == 0)
			return 1;
	}
	return 0;
}

static int is_our_jump(const struct spa_ipt_rule *r, const struct spa_ipt_chain *c)
{
	return strcmp(r->chain, c->from) == 0 && strcmp(r->jump, c->to) == 0 &&
	       !r->nmatch_other && !r->src[0] && !r->dst[0] && !r->proto &&
	       r->dport < 0 && r->sport < 0 && r->expires < 0;
}

void spa_ipt_chain_scan(const struct spa_ipt_chain *c, const char *save_text,
			struct spa_ipt_chain_scan *v)
{
	struct spa_ipt_save_iter it = { .p = save_text };
	struct spa_ipt_rule r;
	size_t tl = strlen(c->to);

	memset(v, 0, sizeof(*v));
	while (spa_ipt_save_next(&it, c->table)) {
		if (it.line[0] == ':' && strncmp(it.line + 1, c->to, tl) == 0 &&
		    it.line[1 + tl] == ' ')
			v->exists = 1;
		if (spa_ipt_rule_parse(it.line, &r) < 0)
			continue;
		if (strcmp(r.chain, c->from) == 0)
			v->from_rules++;
		if (strcmp(r.jump, c->to) == 0)
			v->jumps_total++;
		if (is_our_jump(&r, c))
			v->our_jumps++;
	}
}

struct robust_ctx {
	enum spa_ipt_op op;
	const struct spa_grant *g;
	const char *save_text;
};

/* The corrective lines for one chain, from what iptables-save shows. */
static int chain_lines(const struct spa_ipt_state *st, int ci, void *ctxp,
		       struct spa_pu_buf *sec, unsigned int *changes)
{
	const struct robust_ctx *ctx = ctxp;
	const struct spa_ipt_chain *c = &st->chains[ci];
	enum spa_ipt_op op = ctx->op;
	struct spa_ipt_save_iter it = { .p = ctx->save_text };
	struct spa_ipt_rule r;
	struct spa_ipt_chain_scan v;
	char body[SPA_IPT_LINE_LEN];
	int has_body = 0;
	int rc = 0;

	spa_ipt_chain_scan(c, ctx->save_text, &v);
	if ((op == SPA_IPT_OP_FLUSH || op == SPA_IPT_OP_CLOSE) && !v.exists)
		goto out;
	if (op == SPA_IPT_OP_OPEN) {
		rc = spa_ipt_rule_body(c, ctx->g, body, sizeof(body));
		if (rc < 0)
			goto out;
		has_body = rc;
		rc = 0;
	}
	/* the NAT chains are made when a grant first needs them */
	if (op == SPA_IPT_OP_SETUP && c->role != SPA_IPT_IN && c->role != SPA_IPT_OUT)
		goto out;
	if (op == SPA_IPT_OP_OPEN && !has_body && !v.exists)
		goto out;

	while (spa_ipt_save_next(&it, c->table)) {
		if (spa_ipt_rule_parse(it.line, &r) < 0)
			continue;
		if (is_our_jump(&r, c)) {
			if (op == SPA_IPT_OP_FLUSH) {
				spa_pu_buf_printf(sec, "-D%s\n", it.line + 2);
				(*changes)++;
			}
			continue;
		}
		if ((op == SPA_IPT_OP_OPEN || op == SPA_IPT_OP_CLOSE) &&
		    spa_ipt_rule_matches(&r, c, ctx->g)) {
			/* a re-knock replaces the old rule rather than stacking */
			spa_pu_buf_printf(sec, "-D%s\n", it.line + 2);
			(*changes)++;
		}
	}

	if (op == SPA_IPT_OP_FLUSH) {
		spa_pu_buf_printf(sec, "-F %s\n", c->to);
		(*changes)++;
		/* a reference the admin added keeps the (now empty) chain */
		if (v.jumps_total == v.our_jumps)
			spa_pu_buf_printf(sec, "-X %s\n", c->to);
		goto out;
	}
	if ((op == SPA_IPT_OP_OPEN && has_body) || op == SPA_IPT_OP_SETUP) {
		if (!v.exists) {
			/* -N, not ":chain", which would flush a chain that
			 * appeared since the save instead of failing */
			spa_pu_buf_printf(sec, "-N %s\n", c->to);
			(*changes)++;
		}
		if (!v.our_jumps) {
			spa_ipt_jump_line(c, v.from_rules, sec);
			(*changes)++;
		}
	}
	if (op == SPA_IPT_OP_OPEN && has_body) {
		spa_ipt_rule_line(st, c, body, sec);
		(*changes)++;
	}
out:
	return rc;
}

void spa_ipt_jump_line(const struct spa_ipt_chain *c, unsigned int from_rules,
		       struct spa_pu_buf *sec)
{
	unsigned int pos = c->jump_pos;

	if (pos > from_rules + 1)
		pos = from_rules + 1;
	spa_pu_buf_printf(sec, "-I %s %u -j %s\n", c->from, pos, c->to);
}

void spa_ipt_rule_line(const struct spa_ipt_state *st, const struct spa_ipt_chain *c,
		       const char *body, struct spa_pu_buf *sec)
{
	if (st->prepend)
		spa_pu_buf_printf(sec, "-I %s 1 %s\n", c->to, body);
	else
		spa_pu_buf_printf(sec, "-A %s %s\n", c->to, body);
}

int spa_ipt_by_table(const struct spa_ipt_state *st, spa_ipt_lines_fn fn, void *ctx,
		     struct spa_pu_buf *batch, unsigned int *changes)
{
	int rc = 0;

	*changes = 0;
	for (int i = 0; i < SPA_IPT_NCHAINS; i++) {
		const struct spa_ipt_chain *ci = &st->chains[i];
		struct spa_pu_buf sec;
		unsigned int sec_changes = 0;
		int seen = 0;

		if (!ci->enabled)
			continue;
		for (int k = 0; k < i; k++)
			if (st->chains[k].enabled &&
			    strcmp(st->chains[k].table, ci->table) == 0)
				seen = 1;
		if (seen)
			continue; /* its table's section is already written */
		spa_pu_buf_init(&sec);
		for (int j = i; j < SPA_IPT_NCHAINS && rc == 0; j++) {
			const struct spa_ipt_chain *cj = &st->chains[j];

			if (cj->enabled && strcmp(cj->table, ci->table) == 0)
				rc = fn(st, j, ctx, &sec, &sec_changes);
		}
		if (rc == 0 && sec_changes > 0) {
			spa_pu_buf_printf(batch, "*%s\n%sCOMMIT\n", ci->table,
					  sec.data ? sec.data : "");
			*changes += sec_changes;
		}
		if (rc == 0 && sec.failed)
			rc = -ENOMEM;
		spa_pu_buf_free(&sec);
		if (rc < 0)
			break;
	}
	if (rc == 0 && batch->failed)
		rc = -ENOMEM;
	return rc;
}

int spa_ipt_batch(const struct spa_ipt_state *st, enum spa_ipt_op op,
		  const struct spa_grant *g, const char *save_text,
		  struct spa_pu_buf *batch, unsigned int *changes)
{
	struct robust_ctx ctx = { .op = op, .g = g, .save_text = save_text };

	*changes = 0;
	if ((op == SPA_IPT_OP_OPEN || op == SPA_IPT_OP_CLOSE) && !g)
		return -EINVAL;
	return spa_ipt_by_table(st, chain_lines, &ctx, batch, changes);
}

int spa_ipt_list_text(const struct spa_ipt_state *st, int af, const char *save_text,
		      spa_plugin_list_cb cb, void *ctx)
{
	const struct spa_ipt_chain *c = &st->chains[SPA_IPT_IN];
	struct spa_ipt_save_iter it = { .p = save_text };
	struct spa_ipt_rule r;
	struct spa_grant g;

	while (spa_ipt_save_next(&it, c->table)) {
		if (spa_ipt_rule_parse(it.line, &r) < 0 || r.marked ||
		    spa_ipt_rule_grant(&r, c, af, &g) < 0)
			continue;
		cb(ctx, &g);
	}
	return spa_ipt_nat_list(st, af, save_text, cb, ctx);
}
