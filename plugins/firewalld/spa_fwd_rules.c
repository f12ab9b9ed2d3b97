/* SPDX-License-Identifier: MIT */
/* Building and recognising the rich rules of the firewalld backend. */
#include "spa_fwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int spa_fwd_valid_zone(const char *zone)
{
	size_t n = zone ? strlen(zone) : 0;

	if (n == 0 || n >= SPA_FWD_ZONE_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = zone[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	/* a leading '-' would read as an option to firewall-cmd */
	return zone[0] != '-';
}

static const char *family_name(int af)
{
	return af == AF_INET ? "ipv4" : af == AF_INET6 ? "ipv6" : NULL;
}

int spa_fwd_rule_text(const struct spa_grant *g, char *out, size_t len)
{
	char src[INET6_ADDRSTRLEN];
	char dst[INET6_ADDRSTRLEN + 32];
	const char *fam = family_name(g->family);
	const char *proto;
	int n;

	if (!fam || g->src.family != g->family || g->port == 0)
		return -EINVAL;
	if (g->proto != IPPROTO_TCP && g->proto != IPPROTO_UDP)
		return -EPROTONOSUPPORT;
	proto = spa_pu_proto_name(g->proto);
	if (!proto || spa_pu_addr_text(&g->src, src, sizeof(src)) < 0)
		return -EINVAL;
	dst[0] = '\0';
	if (g->dst.family != 0) {
		char d[INET6_ADDRSTRLEN];

		if (g->dst.family != g->family || spa_pu_addr_text(&g->dst, d, sizeof(d)) < 0)
			return -EINVAL;
		snprintf(dst, sizeof(dst), " destination address=\"%s\"", d);
	}
	n = snprintf(out, len,
		     "rule family=\"%s\" source address=\"%s\"%s port port=\"%u\" "
		     "protocol=\"%s\" accept",
		     fam, src, dst, (unsigned int)g->port, proto);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Copies the quoted value that follows key=" at *p. */
int spa_fwd_take_quoted(const char **p, const char *end, const char *key,
		       char *out, size_t len)
{
	size_t klen = strlen(key);
	const char *q;

	if ((size_t)(end - *p) < klen || memcmp(*p, key, klen) != 0)
		return -ENOENT;
	*p += klen;
	q = memchr(*p, '"', (size_t)(end - *p));
	if (!q || (size_t)(q - *p) >= len)
		return -ENOENT;
	memcpy(out, *p, (size_t)(q - *p));
	out[q - *p] = '\0';
	*p = q + 1;
	return 0;
}

static int skip_lit(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return -ENOENT;
	*p += n;
	return 0;
}

int spa_fwd_set_addr(struct spa_grant_addr *a, int af, const char *text)
{
	if (inet_pton(af, text, &a->bin) != 1)
		return -ENOENT;
	a->family = af;
	snprintf(a->text, sizeof(a->text), "%s", text);
	return 0;
}

int spa_fwd_rule_parse(const char *line, size_t len, struct spa_grant *g)
{
	const char *p = line;
	const char *end = line + len;
	char fam[8], src[SPA_GRANT_ADDR_LEN], dst[SPA_GRANT_ADDR_LEN];
	char port[8], proto[8];
	char again[SPA_FWD_RULE_LEN];
	char *stop;
	unsigned long portnum;
	int pnum;
	int af;

	memset(g, 0, sizeof(*g));
	g->struct_size = sizeof(*g);
	dst[0] = '\0';
	if (spa_fwd_take_quoted(&p, end, "rule family=\"", fam, sizeof(fam)) < 0 ||
	    spa_fwd_take_quoted(&p, end, " source address=\"", src, sizeof(src)) < 0)
		return -ENOENT;
	if (spa_fwd_take_quoted(&p, end, " destination address=\"", dst, sizeof(dst)) < 0)
		dst[0] = '\0';
	if (spa_fwd_take_quoted(&p, end, " port port=\"", port, sizeof(port)) < 0 ||
	    spa_fwd_take_quoted(&p, end, " protocol=\"", proto, sizeof(proto)) < 0 ||
	    skip_lit(&p, end, " accept") < 0 || p != end)
		return -ENOENT;
	if (strcmp(fam, "ipv4") == 0)
		af = AF_INET;
	else if (strcmp(fam, "ipv6") == 0)
		af = AF_INET6;
	else
		return -ENOENT;
	g->family = af;
	if (spa_fwd_set_addr(&g->src, af, src) < 0 || (dst[0] && spa_fwd_set_addr(&g->dst, af, dst) < 0))
		return -ENOENT;
	portnum = strtoul(port, &stop, 10);
	if (*stop || portnum == 0 || portnum > 65535)
		return -ENOENT;
	pnum = spa_pu_proto_number(proto);
	if (pnum != IPPROTO_TCP && pnum != IPPROTO_UDP)
		return -ENOENT;
	g->port = (uint16_t)portnum;
	g->proto = (uint8_t)pnum;
	/* Only our exact spelling counts: anything an admin wrote differently
	 * (a prefix, a log clause, leading zeros) is left alone. */
	if (spa_fwd_rule_text(g, again, sizeof(again)) < 0 ||
	    strlen(again) != len || memcmp(again, line, len) != 0)
		return -ENOENT;
	return 0;
}

long spa_fwd_timeout(const struct spa_grant *g, long long now)
{
	long long left;

	/* expires wins: after a restart the grant is re-opened with what is
	 * left of it, not with the whole timeout again */
	if (g->expires > 0)
		left = (long long)g->expires - now;
	else
		left = g->timeout;
	if (left <= 0)
		return -ETIME;
	if (left > 0x7fffffffLL)
		left = 0x7fffffffLL;
	return (long)left;
}
