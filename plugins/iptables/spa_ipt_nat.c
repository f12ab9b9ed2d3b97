/* SPDX-License-Identifier: MIT */
/*
 * NAT grants (ABI 1.5): the engine decides the form (SPA_NAT_*), this file
 * writes it as fwknop's chains carry it. A NAT grant is several rules in
 * several chains, none of which shows all of it (a FORWARD rule matches the
 * translated port, not the one knocked for; an "all" rule no port at all;
 * DNAT of everything no target port), and the engine tells two grants of
 * one source and port apart by their NAT form. So every rule of a NAT
 * grant carries the whole grant in its comment:
 *   _exp_<E>_<proto>_<port>_<forms>[_d<dst>][_t<nat addr>][_p<nat port>][_s<snat addr>]
 * forms one letter a flag (f forward, l local, a all, n no DNAT, s SNAT,
 * m MASQUERADE), addresses with '-' for '.' and ':' (iptables-save quotes
 * a comment with other punctuation). A close deletes the rules of exactly
 * that grant; a listing reads each grant back from any of its rules.
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

static const char form_letters[] = "flansm"; /* SPA_NAT_* bit order */

/* Address text with '-' for '.' and ':'. */
static int addr_word(const struct spa_grant_addr *a, char *out, size_t len)
{
	if (spa_pu_addr_text(a, out, len) < 0)
		return -EINVAL;
	for (char *p = out; *p; p++)
		if (*p == '.' || *p == ':')
			*p = '-';
	return 0;
}

static int add_field(char *out, size_t len, size_t *at, char tag, const struct spa_grant_addr *a)
{
	char w[SPA_GRANT_ADDR_LEN];
	int n;

	if (addr_word(a, w, sizeof(w)) < 0)
		return -EINVAL;
	n = snprintf(out + *at, len - *at, "_%c%s", tag, w);
	if (n < 0 || (size_t)n >= len - *at)
		return -E2BIG;
	*at += (size_t)n;
	return 0;
}

/* The comment of every rule of NAT grant g. */
static int marker(const struct spa_grant *g, char *out, size_t len)
{
	uint32_t f = spa_ipt_nat_flags(g);
	const struct spa_grant_addr *snat = spa_ipt_snat_addr(g);
	size_t at;
	int n, rc = 0;

	n = snprintf(out, len, "_exp_%" PRId64 "_%s_%u_", g->expires, spa_pu_proto_name(g->proto),
		     g->port);
	if (n < 0 || (size_t)n >= len)
		return -E2BIG;
	at = (size_t)n;
	for (unsigned int i = 0; form_letters[i] && at + 1 < len; i++)
		if (f & (1u << i))
			out[at++] = form_letters[i];
	out[at] = '\0';
	if (g->dst.family)
		rc = add_field(out, len, &at, 'd', &g->dst);
	if (rc == 0 && g->nat_addr.family)
		rc = add_field(out, len, &at, 't', &g->nat_addr);
	if (rc == 0 && g->nat_port) {
		n = snprintf(out + at, len - at, "_p%u", g->nat_port);
		rc = n < 0 || (size_t)n >= len - at ? -E2BIG : 0;
		at += rc == 0 ? (size_t)n : 0;
	}
	if (rc == 0 && (f & SPA_NAT_SNAT) && snat)
		rc = add_field(out, len, &at, 's', snat);
	return rc;
}

/* A '-' address word of family af into a. */
static int parse_word(const char *w, int af, struct spa_grant_addr *a)
{
	char buf[SPA_GRANT_ADDR_LEN];
	size_t n = strlen(w);

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	for (size_t i = 0; i <= n; i++)
		buf[i] = w[i] == '-' ? (af == AF_INET ? '.' : ':') : w[i];
	return spa_ipt_fill_addr(a, af, buf);
}

/* What marker wrote (after "_exp_<E>_") back into g. */
static int parse_marker(const char *mark, int af, struct spa_grant *g)
{
	char buf[256], *save = NULL, *w;
	int field = 0;

	if (strlen(mark) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, mark, strlen(mark) + 1);
	for (w = strtok_r(buf, "_", &save); w; w = strtok_r(NULL, "_", &save), field++) {
		char *end;
		unsigned long v;

		if (field == 0) {
			int p = spa_pu_proto_number(w);

			if (p <= 0)
				return -EINVAL;
			g->proto = (uint8_t)p;
		} else if (field == 1 || (field > 2 && w[0] == 'p')) {
			const char *digits = field == 1 ? w : w + 1;

			v = strtoul(digits, &end, 10);
			if (!*digits || *end || v == 0 || v > 65535)
				return -EINVAL;
			if (field == 1)
				g->port = (uint16_t)v;
			else
				g->nat_port = (uint16_t)v;
		} else if (field == 2) {
			for (const char *c = w; *c; c++) {
				const char *at = strchr(form_letters, *c);

				if (!at)
					return -EINVAL;
				g->nat_flags |= 1u << (at - form_letters);
			}
		} else if (w[0] == 'd' && parse_word(w + 1, af, &g->dst) == 0) {
			continue;
		} else if (w[0] == 't' && parse_word(w + 1, af, &g->nat_addr) == 0) {
			continue;
		} else if (w[0] == 's' && parse_word(w + 1, af, &g->snat_addr) == 0) {
			continue;
		} else {
			return -EINVAL;
		}
	}
	return field >= 3 && g->nat_flags ? 0 : -EINVAL;
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
	char mark[256], src[SPA_IPT_ADDR_LEN + 8], dst[SPA_IPT_ADDR_LEN + 8]; /* mark: xt_comment's 255 */
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

int spa_ipt_nat_rule_grant(const struct spa_ipt_rule *r, const struct spa_ipt_chain *c,
			   int af, struct spa_grant *g)
{
	char body[SPA_IPT_LINE_LEN];
	const char *peer = c->role == SPA_IPT_OUT ? r->dst : r->src;

	if (!r->marked || r->nmatch_other || strcmp(r->chain, c->to) != 0 ||
	    strcmp(r->jump, c->target) != 0 || r->expires < 0)
		return -ENOENT;
	memset(g, 0, sizeof(*g));
	g->struct_size = sizeof(*g);
	g->family = af;
	g->expires = r->expires;
	if (!*peer || spa_ipt_fill_addr(&g->src, af, peer) < 0 || parse_marker(r->mark, af, g) < 0)
		return -ENOENT;
	/* only what we would write ourselves for that grant, to the letter */
	if (spa_ipt_rule_body(c, g, body, sizeof(body)) != 1 || strcmp(body, r->body) != 0)
		return -ENOENT;
	return 0;
}

static int addr_cmp(const struct spa_grant_addr *a, const struct spa_grant_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(&a->bin, &b->bin, sizeof(a->bin));
}

/* The whole identity of a NAT grant, as the engine tells grants apart. */
static int grant_cmp(const void *pa, const void *pb)
{
	const struct spa_grant *a = pa, *b = pb;
	int d = addr_cmp(&a->src, &b->src);

	if (!d)
		d = addr_cmp(&a->dst, &b->dst);
	if (!d && a->proto != b->proto)
		d = a->proto < b->proto ? -1 : 1;
	if (!d && a->port != b->port)
		d = a->port < b->port ? -1 : 1;
	if (!d && a->nat_flags != b->nat_flags)
		d = a->nat_flags < b->nat_flags ? -1 : 1;
	if (!d)
		d = addr_cmp(&a->nat_addr, &b->nat_addr);
	if (!d && a->nat_port != b->nat_port)
		d = a->nat_port < b->nat_port ? -1 : 1;
	if (!d)
		d = addr_cmp(&a->snat_addr, &b->snat_addr);
	return d;
}

int spa_ipt_nat_list(const struct spa_ipt_state *st, int af, const char *save_text,
		     spa_plugin_list_cb cb, void *ctx)
{
	struct spa_grant *parts = NULL;
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
				struct spa_grant *p = realloc(parts, want * sizeof(*p));

				if (!p) {
					rc = -ENOMEM;
					goto out;
				}
				parts = p;
				cap = want;
			}
			if (spa_ipt_nat_rule_grant(&r, c, af, &parts[n]) == 0)
				n++;
		}
	}
	/* one grant, however many rules: the latest expiry of its rules */
	if (n)
		qsort(parts, n, sizeof(*parts), grant_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		for (; j < n && grant_cmp(&parts[i], &parts[j]) == 0; j++)
			if (parts[j].expires > parts[i].expires)
				parts[i].expires = parts[j].expires;
		cb(ctx, &parts[i]);
		i = j;
	}
out:
	free(parts);
	return rc;
}
