/* SPDX-License-Identifier: MIT */
#include "spa_ipt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 1024
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

static int64_t parse_exp(const char *s)
{
	char *end;
	long long v;

	if (strncmp(s, "_exp_", 5) != 0 || s[5] < '0' || s[5] > '9')
		return -1;
	v = strtoll(s + 5, &end, 10);
	if (*end || v < 0)
		return -1;
	return (int64_t)v;
}

int spa_ipt_rule_parse(const char *line, struct spa_ipt_rule *r)
{
	char buf[LINE_MAX_LEN];
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
			r->expires = parse_exp(arg);
			bad = r->expires < 0;
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

static int addr_plen(const struct spa_grant_addr *a, char *out, size_t len)
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
	rc = addr_plen(&g->src, src, sizeof(src));
	if (rc < 0)
		return rc;
	if (g->dst.family) {
		rc = addr_plen(&g->dst, dst, sizeof(dst));
		if (rc < 0)
			return rc;
	}
	if (c->dir == SPA_IPT_IN)
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
	return n < 0 || (size_t)n >= len ? -E2BIG : 0;
}

/* "addr/plen" from iptables-save against a grant address (host only). */
static int same_host(const char *text, const struct spa_grant_addr *a)
{
	char buf[SPA_IPT_ADDR_LEN];
	unsigned char bin[sizeof(struct in6_addr)];
	char *slash;
	int full = a->family == AF_INET ? 32 : 128;

	if (copy_tok(buf, sizeof(buf), text) < 0)
		return 0;
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (atoi(slash + 1) != full)
			return 0;
	}
	if (inet_pton(a->family, buf, bin) != 1)
		return 0;
	if (a->family == AF_INET)
		return memcmp(bin, &a->bin.v4, sizeof(a->bin.v4)) == 0;
	return memcmp(bin, &a->bin.v6, sizeof(a->bin.v6)) == 0;
}

int spa_ipt_rule_matches(const struct spa_ipt_rule *r, const struct spa_ipt_chain *c,
			 const struct spa_grant *g)
{
	const char *peer = c->dir == SPA_IPT_IN ? r->src : r->dst;
	const char *local = c->dir == SPA_IPT_IN ? r->dst : r->src;
	int port = c->dir == SPA_IPT_IN ? r->dport : r->sport;
	int other_port = c->dir == SPA_IPT_IN ? r->sport : r->dport;

	if (r->nmatch_other || r->expires < 0 || strcmp(r->chain, c->to) != 0 ||
	    strcmp(r->jump, c->target) != 0)
		return 0;
	if (r->proto != g->proto || port != g->port || other_port != -1)
		return 0;
	if (!same_host(peer, &g->src))
		return 0;
	if (g->dst.family)
		return same_host(local, &g->dst);
	return *local == '\0';
}

/* Iterates the lines of one table's section of iptables-save output. */
struct save_iter {
	const char *p;
	char table[SPA_IPT_NAME_LEN];
	char line[LINE_MAX_LEN];
};

static int save_next(struct save_iter *it, const char *want_table)
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

struct chain_view {
	int exists;
	unsigned int from_rules;
	unsigned int jumps_total; /* rules anywhere jumping to our chain */
};

static void chain_scan(const struct spa_ipt_chain *c, const char *save_text,
		       struct chain_view *v)
{
	struct save_iter it = { .p = save_text };
	struct spa_ipt_rule r;
	size_t tl = strlen(c->to);

	memset(v, 0, sizeof(*v));
	while (save_next(&it, c->table)) {
		if (it.line[0] == ':' && strncmp(it.line + 1, c->to, tl) == 0 &&
		    it.line[1 + tl] == ' ')
			v->exists = 1;
		if (spa_ipt_rule_parse(it.line, &r) < 0)
			continue;
		if (strcmp(r.chain, c->from) == 0)
			v->from_rules++;
		if (strcmp(r.jump, c->to) == 0)
			v->jumps_total++;
	}
}

static int is_our_jump(const struct spa_ipt_rule *r, const struct spa_ipt_chain *c)
{
	return strcmp(r->chain, c->from) == 0 && strcmp(r->jump, c->to) == 0 &&
	       !r->nmatch_other && !r->src[0] && !r->dst[0] && !r->proto &&
	       r->dport < 0 && r->sport < 0 && r->expires < 0;
}

/* Appends the lines for one chain to sec; counts them in *changes. */
static int chain_lines(const struct spa_ipt_state *st, const struct spa_ipt_chain *c,
		       enum spa_ipt_op op, const struct spa_grant *g,
		       const char *save_text, struct spa_pu_buf *sec,
		       unsigned int *changes)
{
	struct save_iter it = { .p = save_text };
	struct spa_ipt_rule r;
	struct chain_view v;
	char body[LINE_MAX_LEN];
	int rc = 0;
	int jump_found = 0;
	unsigned int jumps_deleted = 0;

	chain_scan(c, save_text, &v);
	if ((op == SPA_IPT_OP_FLUSH || op == SPA_IPT_OP_CLOSE) && !v.exists)
		goto out;

	while (save_next(&it, c->table)) {
		if (spa_ipt_rule_parse(it.line, &r) < 0)
			continue;
		if (is_our_jump(&r, c)) {
			jump_found = 1;
			if (op == SPA_IPT_OP_FLUSH) {
				spa_pu_buf_printf(sec, "-D%s\n", it.line + 2);
				jumps_deleted++;
				(*changes)++;
			}
			continue;
		}
		if ((op == SPA_IPT_OP_OPEN || op == SPA_IPT_OP_CLOSE) &&
		    spa_ipt_rule_matches(&r, c, g)) {
			/* a re-knock replaces the old rule rather than stacking */
			spa_pu_buf_printf(sec, "-D%s\n", it.line + 2);
			(*changes)++;
		}
	}

	if (op == SPA_IPT_OP_FLUSH) {
		spa_pu_buf_printf(sec, "-F %s\n", c->to);
		(*changes)++;
		/* a reference the admin added keeps the (now empty) chain */
		if (v.jumps_total == jumps_deleted)
			spa_pu_buf_printf(sec, "-X %s\n", c->to);
		goto out;
	}
	if (op == SPA_IPT_OP_OPEN || op == SPA_IPT_OP_SETUP) {
		if (!v.exists) {
			/* only ever for a missing chain: declaring an existing
			 * one in a restore file would flush it */
			spa_pu_buf_printf(sec, ":%s - [0:0]\n", c->to);
			(*changes)++;
		}
		if (!jump_found) {
			unsigned int pos = c->jump_pos;

			if (pos > v.from_rules + 1)
				pos = v.from_rules + 1;
			spa_pu_buf_printf(sec, "-I %s %u -j %s\n", c->from, pos, c->to);
			(*changes)++;
		}
	}
	if (op == SPA_IPT_OP_OPEN) {
		rc = spa_ipt_rule_body(c, g, body, sizeof(body));
		if (rc < 0)
			goto out;
		if (st->prepend)
			spa_pu_buf_printf(sec, "-I %s 1 %s\n", c->to, body);
		else
			spa_pu_buf_printf(sec, "-A %s %s\n", c->to, body);
		(*changes)++;
	}
out:
	return rc;
}

int spa_ipt_batch(const struct spa_ipt_state *st, enum spa_ipt_op op,
		  const struct spa_grant *g, const char *save_text,
		  struct spa_pu_buf *batch, unsigned int *changes)
{
	int rc = 0;

	*changes = 0;
	if ((op == SPA_IPT_OP_OPEN || op == SPA_IPT_OP_CLOSE) && !g)
		return -EINVAL;
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
				rc = chain_lines(st, cj, op, g, save_text, &sec, &sec_changes);
		}
		if (rc == 0 && sec_changes > 0) {
			spa_pu_buf_printf(batch, "*%s\n%sCOMMIT\n", ci->table,
					  sec.data ? sec.data : "");
			*changes += sec_changes;
		}
		if (sec.failed)
			rc = -ENOMEM;
		spa_pu_buf_free(&sec);
		if (rc < 0)
			break;
	}
	if (rc == 0 && batch->failed)
		rc = -ENOMEM;
	return rc;
}

static int fill_addr(struct spa_grant_addr *a, int af, const char *text)
{
	char buf[SPA_IPT_ADDR_LEN];
	char *slash;

	if (copy_tok(buf, sizeof(buf), text) < 0)
		return -EINVAL;
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(af, buf, &a->bin) != 1)
		return -EINVAL;
	a->family = af;
	return spa_pu_addr_text(a, a->text, sizeof(a->text));
}

int spa_ipt_list_text(const struct spa_ipt_state *st, int af, const char *save_text,
		      spa_plugin_list_cb cb, void *ctx)
{
	const struct spa_ipt_chain *c = &st->chains[SPA_IPT_IN];
	struct save_iter it = { .p = save_text };
	struct spa_ipt_rule r;
	struct spa_grant g;

	while (save_next(&it, c->table)) {
		if (spa_ipt_rule_parse(it.line, &r) < 0)
			continue;
		if (r.nmatch_other || r.expires < 0 || strcmp(r.chain, c->to) != 0 ||
		    strcmp(r.jump, c->target) != 0 || !r.src[0] || r.dport < 0 ||
		    r.sport >= 0 || !r.proto)
			continue;
		memset(&g, 0, sizeof(g));
		g.struct_size = sizeof(g);
		g.family = af;
		if (fill_addr(&g.src, af, r.src) < 0)
			continue;
		if (r.dst[0] && fill_addr(&g.dst, af, r.dst) < 0)
			continue;
		g.proto = (uint8_t)r.proto;
		g.port = (uint16_t)r.dport;
		g.expires = r.expires;
		cb(ctx, &g);
	}
	return 0;
}
