/* SPDX-License-Identifier: MIT */
/*
 * NAT grants (struct spa_grant nat_flags, ABI 1.5) as firewalld's own
 * rich rules, each with the grant's timeout:
 *
 *   FORWARD:    forward-port of the knocked port to nat_addr:nat_port,
 *               for the grant's source, in FIREWD_ZONE. firewalld's
 *               forward chain accepts what it DNATed ("ct status dnat
 *               accept"), so this is the forward accept as well;
 *   +MASQUERADE: masquerade of source -> nat_addr, in FIREWD_MASQ_ZONE:
 *               firewalld masquerades in the zone the traffic leaves by;
 *   LOCAL:      the same forward-port (nat_addr: an address of this
 *               host), and the access rule of nat_port for the source.
 *
 * Rich rules cannot SNAT to a given address, forward without DNAT, or
 * forward a source's every port: SNAT, NO_DNAT and FORWARD_ALL are
 * refused with the reason. As for access rules, a rule is ours only when
 * rebuilding it from its parsed fields gives back the same text.
 */
#include "spa_fwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *fam_name(int af)
{
	return af == AF_INET ? "ipv4" : af == AF_INET6 ? "ipv6" : NULL;
}

static int fport_text(int af, const char *src, unsigned int port, const char *proto,
		      unsigned int to_port, const char *to, char *out, size_t len)
{
	int n = snprintf(out, len,
			 "rule family=\"%s\" source address=\"%s\" forward-port port=\"%u\" "
			 "protocol=\"%s\" to-port=\"%u\" to-addr=\"%s\"",
			 fam_name(af), src, port, proto, to_port, to);

	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static int masq_text(int af, const char *src, const char *dst, char *out, size_t len)
{
	int n = snprintf(out, len,
			 "rule family=\"%s\" source address=\"%s\" destination address=\"%s\" "
			 "masquerade",
			 fam_name(af), src, dst);

	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

int spa_fwd_nat_rules(const struct spa_grant *g, struct spa_fwd_rule *r, size_t *n,
		      const char **why)
{
	uint32_t fl = g->nat_flags;
	char src[SPA_GRANT_ADDR_LEN], to[SPA_GRANT_ADDR_LEN];
	const char *proto = spa_pu_proto_name(g->proto);
	int local = (fl & SPA_NAT_LOCAL) != 0;
	int rc;

	*n = 0;
	*why = "not a NAT form firewalld rich rules can express";
	if (!fam_name(g->family) || g->src.family != g->family || g->port == 0 ||
	    (g->proto != IPPROTO_TCP && g->proto != IPPROTO_UDP) || !proto)
		return -EINVAL;
	if (local == !!(fl & SPA_NAT_FORWARD))
		return -EINVAL;
	if (fl & SPA_NAT_SNAT) {
		*why = "rich rules cannot SNAT to an address: use FORCE_MASQUERADE or leave "
		       "SNAT_TRANSLATE_IP unset (masquerade)";
		return -EOPNOTSUPP;
	}
	if (fl & SPA_NAT_NO_DNAT) {
		*why = "rich rules cannot forward without DNAT (DISABLE_DNAT)";
		return -EOPNOTSUPP;
	}
	if (fl & SPA_NAT_FORWARD_ALL) {
		*why = "rich rules cannot forward every port of a source (FORWARD_ALL)";
		return -EOPNOTSUPP;
	}
	if (fl & ~(SPA_NAT_FORWARD | SPA_NAT_LOCAL | SPA_NAT_MASQUERADE))
		return -EINVAL;
	*why = "a NAT grant needs its target address and port";
	if (g->nat_addr.family != g->family || g->nat_port == 0 ||
	    spa_pu_addr_text(&g->src, src, sizeof(src)) < 0 ||
	    spa_pu_addr_text(&g->nat_addr, to, sizeof(to)) < 0)
		return -EINVAL;
	rc = fport_text(g->family, src, g->port, proto, g->nat_port, to, r[0].text,
			sizeof(r[0].text));
	r[0].masq_zone = 0;
	*n = 1;
	if (rc == 0 && local) {
		struct spa_grant access = *g;

		access.port = g->nat_port;
		memset(&access.dst, 0, sizeof(access.dst));
		rc = spa_fwd_rule_text(&access, r[1].text, sizeof(r[1].text));
		r[1].masq_zone = 0;
		*n = 2;
	} else if (rc == 0 && (fl & SPA_NAT_MASQUERADE)) {
		rc = masq_text(g->family, src, to, r[1].text, sizeof(r[1].text));
		r[1].masq_zone = 1;
		*n = 2;
	}
	*why = "rule too long";
	return rc;
}

static int port_of(const char *text, uint16_t *port)
{
	char *stop;
	unsigned long v = strtoul(text, &stop, 10);

	if (*stop || v == 0 || v > 65535)
		return -ENOENT;
	*port = (uint16_t)v;
	return 0;
}

int spa_fwd_nat_parse(const char *line, size_t len, struct spa_grant *g)
{
	const char *p = line, *end = line + len;
	char fam[8], src[SPA_GRANT_ADDR_LEN], port[8], proto[8], to_port[8];
	char to[SPA_GRANT_ADDR_LEN], again[SPA_FWD_RULE_LEN];
	int af, pnum;

	memset(g, 0, sizeof(*g));
	g->struct_size = sizeof(*g);
	if (spa_fwd_take_quoted(&p, end, "rule family=\"", fam, sizeof(fam)) < 0 ||
	    spa_fwd_take_quoted(&p, end, " source address=\"", src, sizeof(src)) < 0 ||
	    spa_fwd_take_quoted(&p, end, " forward-port port=\"", port, sizeof(port)) < 0 ||
	    spa_fwd_take_quoted(&p, end, " protocol=\"", proto, sizeof(proto)) < 0 ||
	    spa_fwd_take_quoted(&p, end, " to-port=\"", to_port, sizeof(to_port)) < 0 ||
	    spa_fwd_take_quoted(&p, end, " to-addr=\"", to, sizeof(to)) < 0 || p != end)
		return -ENOENT;
	af = strcmp(fam, "ipv4") == 0 ? AF_INET : strcmp(fam, "ipv6") == 0 ? AF_INET6 : 0;
	pnum = spa_pu_proto_number(proto);
	if (!af || (pnum != IPPROTO_TCP && pnum != IPPROTO_UDP) ||
	    spa_fwd_set_addr(&g->src, af, src) < 0 || spa_fwd_set_addr(&g->nat_addr, af, to) < 0 ||
	    port_of(port, &g->port) < 0 || port_of(to_port, &g->nat_port) < 0)
		return -ENOENT;
	g->family = af;
	g->proto = (uint8_t)pnum;
	g->nat_flags = SPA_NAT_FORWARD;
	/* our exact spelling only */
	if (fport_text(af, g->src.text, g->port, proto, g->nat_port, g->nat_addr.text, again,
		       sizeof(again)) < 0 ||
	    strlen(again) != len || memcmp(again, line, len) != 0)
		return -ENOENT;
	return 0;
}

int spa_fwd_masq_parse(const char *line, size_t len, struct spa_grant *g)
{
	const char *p = line, *end = line + len;
	char fam[8], src[SPA_GRANT_ADDR_LEN], dst[SPA_GRANT_ADDR_LEN];
	char again[SPA_FWD_RULE_LEN];
	int af;

	memset(g, 0, sizeof(*g));
	g->struct_size = sizeof(*g);
	if (spa_fwd_take_quoted(&p, end, "rule family=\"", fam, sizeof(fam)) < 0 ||
	    spa_fwd_take_quoted(&p, end, " source address=\"", src, sizeof(src)) < 0 ||
	    spa_fwd_take_quoted(&p, end, " destination address=\"", dst, sizeof(dst)) < 0)
		return -ENOENT;
	af = strcmp(fam, "ipv4") == 0 ? AF_INET : strcmp(fam, "ipv6") == 0 ? AF_INET6 : 0;
	if (!af || spa_fwd_set_addr(&g->src, af, src) < 0 || spa_fwd_set_addr(&g->nat_addr, af, dst) < 0)
		return -ENOENT;
	g->family = af;
	if (masq_text(af, g->src.text, g->nat_addr.text, again, sizeof(again)) < 0 ||
	    strlen(again) != len || memcmp(again, line, len) != 0)
		return -ENOENT;
	return 0;
}
