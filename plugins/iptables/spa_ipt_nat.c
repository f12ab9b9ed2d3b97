/* SPDX-License-Identifier: MIT */
/*
 * NAT grants (ABI 1.5): the engine decides the form (SPA_NAT_*), this file
 * writes it as fwknop's chains carry it. A NAT grant is several rules in
 * several chains, and some of them do not show the grant's key (a FORWARD
 * rule matches the translated port, an "all" rule no port at all), so
 * every rule of a NAT grant carries the key in its comment:
 * _exp_<E>_<proto>_<port>[_<dst>], the destination with '-' for '.' and
 * ':' (iptables-save quotes a comment with any other punctuation). A
 * close deletes every rule with the key; a listing merges them back into
 * one grant.
 */
#include "spa_ipt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAT_KNOWN                                                                     \
	(SPA_NAT_FORWARD | SPA_NAT_LOCAL | SPA_NAT_FORWARD_ALL | SPA_NAT_NO_DNAT |       \
	 SPA_NAT_SNAT | SPA_NAT_MASQUERADE)

uint32_t spa_ipt_nat_flags(const struct spa_grant *g)
{
	return SPA_GRANT_HAS(g, nat_flags) ? g->nat_flags : 0;
}

const struct spa_grant_addr *spa_ipt_snat_addr(const struct spa_grant *g)
{
	return SPA_GRANT_HAS(g, snat_addr) && g->snat_addr.family ? &g->snat_addr : NULL;
}

/* An address of family af that is not the unspecified one (fwknop's
 * FORWARD_ALL without FORCE_NAT means "0.0.0.0 0": no DNAT). */
static int addr_given(const struct spa_grant_addr *a, int af)
{
	static const uint8_t zero[16];

	return a && a->family == af &&
	       memcmp(&a->bin, zero, af == AF_INET ? 4 : 16) != 0;
}

int spa_ipt_nat_ok(const struct spa_grant *g, const char **why)
{
	uint32_t f = spa_ipt_nat_flags(g);
	const struct spa_grant_addr *snat = spa_ipt_snat_addr(g);
	const char *reason = NULL;

	if (!f)
		return 0;
	if (f & ~NAT_KNOWN)
		reason = "unknown NAT form";
	else if (!(f & SPA_NAT_FORWARD) == !(f & SPA_NAT_LOCAL))
		reason = "a NAT grant is either forwarded or local";
	else if ((f & SPA_NAT_LOCAL) && (f & (SPA_NAT_FORWARD_ALL | SPA_NAT_NO_DNAT)))
		reason = "FORWARD_ALL and NO_DNAT go with a forwarded grant";
	else if ((f & SPA_NAT_SNAT) && (f & SPA_NAT_MASQUERADE))
		reason = "SNAT and MASQUERADE both set";
	else if (g->nat_addr.family && g->nat_addr.family != g->family)
		reason = "the NAT address is not of the source's family";
	else if ((f & SPA_NAT_SNAT) && (!snat || !addr_given(snat, g->family)))
		reason = "SNAT without an SNAT address of the source's family";
	else if ((f & SPA_NAT_LOCAL) && (!addr_given(&g->nat_addr, g->family) || !g->nat_port))
		reason = "local NAT needs the NAT address and port";
	else if ((f & SPA_NAT_FORWARD) && !(f & (SPA_NAT_FORWARD_ALL | SPA_NAT_NO_DNAT)) &&
		 !addr_given(&g->nat_addr, g->family))
		reason = "forwarding with DNAT needs the NAT address";
	if (reason && why)
		*why = reason;
	return reason ? -EINVAL : 0;
}

/* _exp_<E>_<proto>_<port>[_<dst>] */
static int marker(const struct spa_grant *g, char *out, size_t len)
{
	char dst[SPA_GRANT_ADDR_LEN] = "";
	int n;

	if (g->dst.family) {
		if (spa_pu_addr_text(&g->dst, dst, sizeof(dst)) < 0)
			return -EINVAL;
		for (char *p = dst; *p; p++)
			if (*p == '.' || *p == ':')
				*p = '-';
	}
	n = snprintf(out, len, "_exp_%" PRId64 "_%s_%u%s%s", g->expires,
		     spa_pu_proto_name(g->proto), g->port, *dst ? "_" : "", dst);
	return n < 0 || (size_t)n >= len ? -E2BIG : 0;
}

/* "-s A" for a given address, "" otherwise; "flag" is "-s " or "-d ". */
static int opt_addr(const char *flag, const struct spa_grant_addr *a, int af, char *out,
		    size_t len)
{
	char txt[SPA_IPT_ADDR_LEN];
	int n;

	out[0] = '\0';
	if (!addr_given(a, af))
		return 0;
	if (spa_ipt_addr_plen(a, txt, sizeof(txt)) < 0)
		return -EINVAL;
	n = snprintf(out, len, "%s%s ", flag, txt);
	return n < 0 || (size_t)n >= len ? -E2BIG : 0;
}

/* --to-destination as iptables-save prints it: "A:P", "[A6]:P", or the
 * bare address without a port. */
static int to_dest(const struct spa_grant *g, unsigned int port, char *out, size_t len)
{
	char a[SPA_GRANT_ADDR_LEN];
	int n;

	if (spa_pu_addr_text(&g->nat_addr, a, sizeof(a)) < 0)
		return -EINVAL;
	if (!port)
		n = snprintf(out, len, "%s", a);
	else if (g->family == AF_INET6)
		n = snprintf(out, len, "[%s]:%u", a, port);
	else
		n = snprintf(out, len, "%s:%u", a, port);
	return n < 0 || (size_t)n >= len ? -E2BIG : 0;
}

int spa_ipt_nat_body(const struct spa_ipt_chain *c, const struct spa_grant *g,
		     char *out, size_t len)
{
	uint32_t f = spa_ipt_nat_flags(g);
	int fwd = (f & SPA_NAT_FORWARD) != 0;
	int all = fwd && (f & SPA_NAT_FORWARD_ALL);
	unsigned int np = g->nat_port ? g->nat_port : g->port;
	const char *p = spa_pu_proto_name(g->proto);
	const struct spa_grant_addr *snat = spa_ipt_snat_addr(g);
	char mark[SPA_IPT_ADDR_LEN + 48], src[SPA_IPT_ADDR_LEN + 8], dst[SPA_IPT_ADDR_LEN + 8];
	char nat[SPA_IPT_ADDR_LEN + 8], ports[48], to[SPA_IPT_ADDR_LEN + 16], peer[SPA_IPT_ADDR_LEN];
	int n, rc;

	rc = marker(g, mark, sizeof(mark));
	if (rc == 0)
		rc = opt_addr("-s ", &g->src, g->family, src, sizeof(src));
	if (rc == 0)
		rc = opt_addr("-d ", &g->dst, g->family, dst, sizeof(dst));
	if (rc == 0)
		rc = opt_addr("-d ", &g->nat_addr, g->family, nat, sizeof(nat));
	if (rc < 0)
		return rc;
	switch (c->role) {
	case SPA_IPT_IN:
		if (!(f & SPA_NAT_LOCAL))
			return 0;
		snprintf(ports, sizeof(ports), "-p %s -m %s --dport %u ", p, p, np);
		n = snprintf(out, len, "%s%s%s-m comment --comment %s -j %s", src, dst, ports, mark,
			     c->target);
		break;
	case SPA_IPT_OUT:
		/* the reply direction of the local service */
		if (!(f & SPA_NAT_LOCAL))
			return 0;
		rc = spa_ipt_addr_plen(&g->src, peer, sizeof(peer));
		if (rc < 0)
			return rc;
		n = snprintf(out, len, "%s%s-d %s -p %s -m %s --sport %u -m comment --comment %s -j %s",
			     *dst ? "-s " : "", *dst ? dst + 3 : "", peer, p, p, np, mark, c->target);
		break;
	case SPA_IPT_FWD:
		if (!fwd)
			return 0;
		if (all)
			n = snprintf(out, len, "%s-m comment --comment %s -j %s", src, mark, c->target);
		else
			n = snprintf(out, len, "%s%s-p %s -m %s --dport %u -m comment --comment %s -j %s",
				     src, nat, p, p, np, mark, c->target);
		break;
	case SPA_IPT_DNAT:
		if ((fwd && (f & SPA_NAT_NO_DNAT)) || !addr_given(&g->nat_addr, g->family))
			return 0;
		rc = to_dest(g, all ? 0 : np, to, sizeof(to));
		if (rc < 0)
			return rc;
		if (all)
			ports[0] = '\0';
		else
			snprintf(ports, sizeof(ports), "-p %s -m %s --dport %u ", p, p, g->port);
		n = snprintf(out, len, "%s%s%s-m comment --comment %s -j %s --to-destination %s", src,
			     dst, ports, mark, c->target, to);
		break;
	case SPA_IPT_SNAT:
	case SPA_IPT_MASQ:
		/* translating the source matters for what is forwarded only: a
		 * local grant's packets never reach POSTROUTING */
		if (!fwd || !(f & (c->role == SPA_IPT_SNAT ? SPA_NAT_SNAT : SPA_NAT_MASQUERADE)))
			return 0;
		to[0] = '\0';
		if (c->role == SPA_IPT_SNAT) {
			char a[SPA_GRANT_ADDR_LEN];

			if (!snat || spa_pu_addr_text(snat, a, sizeof(a)) < 0)
				return -EINVAL;
			snprintf(to, sizeof(to), " --to-source %s", a);
		}
		if (all)
			n = snprintf(out, len, "%s-m comment --comment %s -j %s%s", src, mark, c->target,
				     to);
		else
			n = snprintf(out, len,
				     "%s%s-p %s -m %s --dport %u -m comment --comment %s -j %s%s", src,
				     nat, p, p, np, mark, c->target, to);
		break;
	default:
		return 0;
	}
	return n < 0 || (size_t)n >= len ? -E2BIG : 1;
}

/* "A:P", "[A6]:P" or "A" into nat_addr and nat_port. */
static int parse_to_dest(const char *text, int af, struct spa_grant *g)
{
	char buf[SPA_IPT_ADDR_LEN];
	char *addr = buf, *port = NULL;
	size_t n = strlen(text);

	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, n + 1);
	if (af == AF_INET6 && buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		*close = '\0';
		addr = buf + 1;
		port = close + 2;
	} else if (af == AF_INET) {
		port = strchr(buf, ':');
		if (port)
			*port++ = '\0';
	}
	if (port) {
		char *end;
		long v = strtol(port, &end, 10);

		if (!*port || *end || v <= 0 || v > 65535)
			return -EINVAL;
		g->nat_port = (uint16_t)v;
	}
	return spa_ipt_fill_addr(&g->nat_addr, af, addr);
}

int spa_ipt_nat_rule_grant(const struct spa_ipt_rule *r, const struct spa_ipt_chain *c,
			   int af, struct spa_grant *g)
{
	char dst[SPA_IPT_ADDR_LEN], body[SPA_IPT_LINE_LEN];
	const char *peer = c->role == SPA_IPT_OUT ? r->dst : r->src;
	int all = !r->proto && r->dport < 0;

	if (!r->marked || r->nmatch_other || strcmp(r->chain, c->to) != 0 ||
	    strcmp(r->jump, c->target) != 0 || r->expires < 0)
		return -ENOENT;
	memset(g, 0, sizeof(*g));
	g->struct_size = sizeof(*g);
	g->family = af;
	g->proto = (uint8_t)r->mark_proto;
	g->port = (uint16_t)r->mark_port;
	g->expires = r->expires;
	if (!*peer || spa_ipt_fill_addr(&g->src, af, peer) < 0)
		return -ENOENT;
	if (r->mark_dst[0]) {
		memcpy(dst, r->mark_dst, sizeof(dst));
		for (char *p = dst; *p; p++)
			if (*p == '-')
				*p = af == AF_INET ? '.' : ':';
		if (spa_ipt_fill_addr(&g->dst, af, dst) < 0)
			return -ENOENT;
	}
	switch (c->role) {
	case SPA_IPT_IN:
		g->nat_flags = SPA_NAT_LOCAL;
		g->nat_port = (uint16_t)(r->dport > 0 ? r->dport : 0);
		break;
	case SPA_IPT_OUT:
		g->nat_flags = SPA_NAT_LOCAL;
		g->nat_port = (uint16_t)(r->sport > 0 ? r->sport : 0);
		break;
	case SPA_IPT_DNAT:
		g->nat_flags = SPA_NAT_FORWARD | (all ? SPA_NAT_FORWARD_ALL : 0);
		if (parse_to_dest(r->to_dst, af, g) < 0)
			return -ENOENT;
		break;
	case SPA_IPT_FWD:
	case SPA_IPT_SNAT:
	case SPA_IPT_MASQ:
		g->nat_flags = SPA_NAT_FORWARD | (all ? SPA_NAT_FORWARD_ALL : 0);
		if (c->role == SPA_IPT_SNAT) {
			g->nat_flags |= SPA_NAT_SNAT;
			if (spa_ipt_fill_addr(&g->snat_addr, af, r->to_src) < 0)
				return -ENOENT;
		} else if (c->role == SPA_IPT_MASQ) {
			g->nat_flags |= SPA_NAT_MASQUERADE;
		}
		if (r->dst[0] && spa_ipt_fill_addr(&g->nat_addr, af, r->dst) < 0)
			return -ENOENT;
		g->nat_port = (uint16_t)(r->dport > 0 ? r->dport : 0);
		/* without the NAT address the forward rule alone says nothing
		 * about DNAT: that is the listing's merge to decide */
		if (!r->dst[0])
			g->nat_flags |= SPA_NAT_NO_DNAT;
		break;
	default:
		return -ENOENT;
	}
	/* only what we would write ourselves, to the letter */
	if (spa_ipt_rule_body(c, g, body, sizeof(body)) != 1 || strcmp(body, r->body) != 0)
		return -ENOENT;
	return 0;
}

/* One rule's partial grant, and the chain it came from. */
struct nat_part {
	struct spa_grant g;
	int role;
};

static int key_cmp(const struct spa_grant *a, const struct spa_grant *b)
{
	int d = memcmp(&a->src.bin, &b->src.bin, sizeof(a->src.bin));

	if (d)
		return d;
	if (a->dst.family != b->dst.family)
		return a->dst.family < b->dst.family ? -1 : 1;
	d = memcmp(&a->dst.bin, &b->dst.bin, sizeof(a->dst.bin));
	if (d)
		return d;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	return a->port == b->port ? 0 : a->port < b->port ? -1 : 1;
}

static int part_cmp(const void *pa, const void *pb)
{
	const struct nat_part *a = pa, *b = pb;
	int d = key_cmp(&a->g, &b->g);

	return d ? d : a->role - b->role;
}

/* The rules of one grant (parts[0..n), one key) as the grant they make. */
static void merge(const struct nat_part *parts, size_t n, struct spa_grant *m)
{
	unsigned int seen = 0;
	uint32_t all = 0;

	*m = parts[0].g;
	m->nat_flags = 0;
	memset(&m->nat_addr, 0, sizeof(m->nat_addr));
	memset(&m->snat_addr, 0, sizeof(m->snat_addr));
	m->nat_port = 0;
	for (size_t i = 0; i < n; i++) {
		const struct spa_grant *p = &parts[i].g;

		seen |= 1u << parts[i].role;
		all |= p->nat_flags & SPA_NAT_FORWARD_ALL;
		if (p->expires > m->expires)
			m->expires = p->expires;
		if (parts[i].role == SPA_IPT_SNAT)
			m->snat_addr = p->snat_addr;
		/* the DNAT rule says where to; the others what they match */
		if (parts[i].role == SPA_IPT_DNAT || (!m->nat_addr.family && p->nat_addr.family))
			m->nat_addr = p->nat_addr;
		if (parts[i].role == SPA_IPT_DNAT || !m->nat_port)
			m->nat_port = p->nat_port;
	}
	if (seen & ((1u << SPA_IPT_IN) | (1u << SPA_IPT_OUT)))
		m->nat_flags = SPA_NAT_LOCAL;
	else
		m->nat_flags = SPA_NAT_FORWARD | all |
			       (seen & (1u << SPA_IPT_DNAT) ? 0 : SPA_NAT_NO_DNAT);
	if (seen & (1u << SPA_IPT_SNAT))
		m->nat_flags |= SPA_NAT_SNAT;
	if (seen & (1u << SPA_IPT_MASQ))
		m->nat_flags |= SPA_NAT_MASQUERADE;
	if (m->nat_addr.family)
		spa_pu_addr_text(&m->nat_addr, m->nat_addr.text, sizeof(m->nat_addr.text));
}

int spa_ipt_nat_list(const struct spa_ipt_state *st, int af, const char *save_text,
		     spa_plugin_list_cb cb, void *ctx)
{
	struct nat_part *parts = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	for (int ci = 0; ci < SPA_IPT_NCHAINS; ci++) {
		const struct spa_ipt_chain *c = &st->chains[ci];
		struct spa_ipt_save_iter it = { .p = save_text };
		struct spa_ipt_rule r;

		if (!c->enabled)
			continue;
		while (spa_ipt_save_next(&it, c->table)) {
			if (spa_ipt_rule_parse(it.line, &r) < 0 || !r.marked)
				continue;
			if (n == cap) {
				size_t want = cap ? cap * 2 : 16;
				struct nat_part *p = realloc(parts, want * sizeof(*p));

				if (!p) {
					rc = -ENOMEM;
					goto out;
				}
				parts = p;
				cap = want;
			}
			if (spa_ipt_nat_rule_grant(&r, c, af, &parts[n].g) == 0)
				parts[n++].role = ci;
		}
	}
	if (n)
		qsort(parts, n, sizeof(*parts), part_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		struct spa_grant m;

		while (j < n && key_cmp(&parts[i].g, &parts[j].g) == 0)
			j++;
		merge(&parts[i], j - i, &m);
		cb(ctx, &m);
		i = j;
	}
out:
	free(parts);
	return rc;
}
