/* SPDX-License-Identifier: MIT */
#include "spa_pu_rule.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EXP_PREFIX "_exp_"
#define EXP_PREFIX_LEN (sizeof(EXP_PREFIX) - 1)

int spa_pu_split(const char *line, struct spa_pu_tokens *tk)
{
	const char *p = line;

	tk->n = 0;
	for (;;) {
		size_t l;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		for (l = 0; p[l] && !isspace((unsigned char)p[l]); l++)
			;
		if (tk->n >= SPA_PU_TOKENS_MAX || l >= SPA_PU_TOKEN_LEN)
			return -E2BIG;
		memcpy(tk->t[tk->n], p, l);
		tk->t[tk->n][l] = '\0';
		tk->n++;
		p += l;
	}
	return 0;
}

int spa_pu_each_line(const char *text, spa_pu_line_fn fn, void *ctx)
{
	char line[SPA_PU_LINE_MAX];
	const char *p = text;
	int rc = 0;

	while (*p) {
		size_t len = strcspn(p, "\n");

		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			rc = fn(ctx, line);
			if (rc != 0)
				break;
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	return rc < 0 ? rc : 0;
}

int64_t spa_pu_exp_parse(const char *word)
{
	size_t l = strlen(word);
	unsigned long long v = 0;
	size_t i;

	if (l >= 2 && word[0] == '"' && word[l - 1] == '"') {
		word++;
		l -= 2;
	}
	if (l <= EXP_PREFIX_LEN || strncmp(word, EXP_PREFIX, EXP_PREFIX_LEN) != 0)
		return -1;
	/* digits only, no sign or space strtoull would let through, and no
	 * value that does not fit an expiry */
	for (i = EXP_PREFIX_LEN; i < l; i++) {
		unsigned int digit = (unsigned int)(word[i] - '0');

		if (!isdigit((unsigned char)word[i]) ||
		    v > ((unsigned long long)INT64_MAX - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	return (int64_t)v;
}

int spa_pu_addr_equal(const char *text, const struct spa_grant_addr *a)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (a->family == AF_INET)
		return inet_pton(AF_INET, text, buf) == 1 &&
		       memcmp(buf, &a->bin.v4, sizeof(a->bin.v4)) == 0;
	if (a->family == AF_INET6)
		return inet_pton(AF_INET6, text, buf) == 1 &&
		       memcmp(buf, &a->bin.v6, sizeof(a->bin.v6)) == 0;
	return 0;
}

int spa_pu_addr_parse(const char *text, struct spa_grant_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, &a->bin.v4) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, text, &a->bin.v6) == 1)
		a->family = AF_INET6;
	else
		return -EINVAL;
	return spa_pu_addr_text(a, a->text, sizeof(a->text));
}

void spa_pu_rule_init(struct spa_pu_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->port = -1;
	r->expires = -1;
}

int spa_pu_copy_word(char *dst, size_t size, const char *word)
{
	size_t l = strlen(word);

	if (l >= size) {
		if (size)
			dst[0] = '\0';
		return -E2BIG;
	}
	memcpy(dst, word, l + 1);
	return 0;
}

static int is_local(const char *word, const char *const local[])
{
	for (size_t i = 0; local && local[i]; i++)
		if (strcmp(word, local[i]) == 0)
			return 1;
	return 0;
}

int spa_pu_rule_matches(const struct spa_pu_rule *r, const struct spa_grant *g,
			const char *const local[])
{
	if (r->expires < 0 || r->proto != g->proto || r->port != (int)g->port)
		return 0;
	if (!spa_pu_addr_equal(r->src, &g->src))
		return 0;
	if (g->dst.family)
		return spa_pu_addr_equal(r->dst, &g->dst);
	return is_local(r->dst, local);
}

int spa_pu_rule_to_grant(const struct spa_pu_rule *r, struct spa_grant *g,
			 const char *const local[])
{
	memset(g, 0, sizeof(*g));
	g->struct_size = sizeof(*g);
	if (r->expires < 0 || r->proto == 0 || r->port < 0 ||
	    spa_pu_addr_parse(r->src, &g->src) < 0)
		return -EINVAL;
	g->family = g->src.family;
	if (!is_local(r->dst, local) &&
	    (spa_pu_addr_parse(r->dst, &g->dst) < 0 || g->dst.family != g->family))
		return -EINVAL;
	g->proto = (uint8_t)r->proto;
	g->port = (uint16_t)r->port;
	g->expires = r->expires;
	return 0;
}

struct report {
	spa_pu_parse_fn parse;
	const char *const *local;
	spa_plugin_list_cb cb;
	void *ctx;
};

static int report_line(void *ctx, const char *line)
{
	struct report *rp = ctx;
	struct spa_pu_rule r;
	struct spa_grant g;

	if (rp->parse(line, &r) == 0 && spa_pu_rule_to_grant(&r, &g, rp->local) == 0)
		rp->cb(rp->ctx, &g);
	return 0;
}

int spa_pu_report_grants(const char *listing, spa_pu_parse_fn parse,
			 const char *const local[], spa_plugin_list_cb cb, void *ctx)
{
	struct report rp = { parse, local, cb, ctx };

	return spa_pu_each_line(listing, report_line, &rp);
}

int spa_pu_grant_addrs(const struct spa_grant *g, const char *local_word,
		       char src[SPA_GRANT_ADDR_LEN], char dst[SPA_GRANT_ADDR_LEN])
{
	int rc = spa_pu_addr_text(&g->src, src, SPA_GRANT_ADDR_LEN);

	if (rc < 0)
		return rc;
	if (g->dst.family)
		return spa_pu_addr_text(&g->dst, dst, SPA_GRANT_ADDR_LEN);
	return spa_pu_copy_word(dst, SPA_GRANT_ADDR_LEN, local_word);
}

int spa_pu_grant_check(const struct spa_grant *g)
{
	if (!g || g->struct_size < sizeof(*g))
		return -EINVAL;
	if (g->family != g->src.family ||
	    (g->family != AF_INET && g->family != AF_INET6))
		return -EAFNOSUPPORT;
	if (g->dst.family && g->dst.family != g->family)
		return -EINVAL;
	if (!spa_pu_proto_name(g->proto) || g->port == 0 || g->nat_addr.family)
		return -EINVAL;
	return 0;
}
