/* SPDX-License-Identifier: MIT */
#include "spa_pf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 64
#define TOKEN_LEN 64
#define LINE_MAX_LEN 1024

struct tokens {
	char t[MAX_TOKENS][TOKEN_LEN];
	unsigned int n;
};

/* The anchor name is an argument of every pfctl call: keep it to a
 * charset that can be neither an option nor a second word. "/" is allowed
 * for nested anchors. */
int spa_pf_valid_anchor(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= SPA_PF_ANCHOR_LEN || s[0] == '-' || s[0] == '/')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!isalnum(ch) && ch != '_' && ch != '-' && ch != '.' && ch != '/')
			return 0;
	}
	return 1;
}

static int split(const char *line, struct tokens *tk)
{
	const char *p = line;

	tk->n = 0;
	for (;;) {
		size_t l;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		l = strcspn(p, " \t\r\n\v\f");
		if (tk->n >= MAX_TOKENS || l >= TOKEN_LEN)
			return -E2BIG;
		memcpy(tk->t[tk->n], p, l);
		tk->t[tk->n][l] = '\0';
		tk->n++;
		p += l;
	}
	return 0;
}

static int64_t parse_label(const char *s)
{
	char buf[TOKEN_LEN];
	size_t l = strlen(s);
	unsigned long long v;
	char *end;

	/* pfctl prints labels quoted */
	if (l >= 2 && s[0] == '"' && s[l - 1] == '"') {
		s++;
		l -= 2;
	}
	memcpy(buf, s, l);
	buf[l] = '\0';
	if (strncmp(buf, "_exp_", 5) != 0 || !isdigit((unsigned char)buf[5]))
		return -1;
	errno = 0;
	v = strtoull(buf + 5, &end, 10);
	if (errno || *end || v > INT64_MAX)
		return -1;
	return (int64_t)v;
}

int spa_pf_parse_line(const char *line, struct spa_pf_rule *r)
{
	struct tokens *tk;
	int rc = -EINVAL;

	memset(r, 0, sizeof(*r));
	r->port = -1;
	r->expires = -1;
	tk = malloc(sizeof(*tk));
	if (!tk)
		return -ENOMEM;
	if (split(line, tk) < 0 || tk->n == 0 || strcmp(tk->t[0], "pass") != 0)
		goto out;
	for (unsigned int i = 1; i + 1 < tk->n; i++) {
		const char *k = tk->t[i], *v = tk->t[i + 1];

		if (strcmp(k, "proto") == 0) {
			int p = spa_pu_proto_number(v);

			r->proto = p > 0 ? p : 0;
			i++;
		} else if (strcmp(k, "from") == 0) {
			memcpy(r->src, v, sizeof(r->src));
			i++;
		} else if (strcmp(k, "to") == 0) {
			memcpy(r->dst, v, sizeof(r->dst));
			i++;
		} else if (strcmp(k, "port") == 0) {
			char *end;
			unsigned long n;

			/* pfctl prints "port = 22" */
			if (strcmp(v, "=") == 0 && i + 2 < tk->n) {
				i++;
				v = tk->t[i + 1];
			}
			errno = 0;
			n = strtoul(v, &end, 10);
			if (isdigit((unsigned char)v[0]) && !errno && !*end && n <= 65535)
				r->port = (int)n;
			i++;
		} else if (strcmp(k, "label") == 0) {
			r->expires = parse_label(v);
			i++;
		}
	}
	rc = 0;
out:
	free(tk);
	return rc;
}

static int addr_equal(const char *text, const struct spa_grant_addr *a)
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

int spa_pf_rule_matches(const struct spa_pf_rule *r, const struct spa_grant *g)
{
	if (r->expires < 0 || r->proto != g->proto || r->port != (int)g->port)
		return 0;
	if (!addr_equal(r->src, &g->src))
		return 0;
	if (g->dst.family)
		return addr_equal(r->dst, &g->dst);
	return strcmp(r->dst, "any") == 0;
}

static int fill_addr(const char *text, struct spa_grant_addr *a)
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

int spa_pf_rule_to_grant(const struct spa_pf_rule *r, struct spa_grant *g)
{
	memset(g, 0, sizeof(*g));
	g->struct_size = sizeof(*g);
	if (r->expires < 0 || r->proto == 0 || r->port < 0 || fill_addr(r->src, &g->src) < 0)
		return -EINVAL;
	g->family = g->src.family;
	if (strcmp(r->dst, "any") != 0 && fill_addr(r->dst, &g->dst) < 0)
		return -EINVAL;
	g->proto = (uint8_t)r->proto;
	g->port = (uint16_t)r->port;
	g->expires = r->expires;
	return 0;
}

int spa_pf_format_rule(const struct spa_grant *g, struct spa_pu_buf *out)
{
	char src[SPA_GRANT_ADDR_LEN], dst[SPA_GRANT_ADDR_LEN];
	int rc;

	/* addresses from their binary form only, never the grant's text */
	rc = spa_pu_addr_text(&g->src, src, sizeof(src));
	if (rc < 0)
		return rc;
	if (g->dst.family) {
		rc = spa_pu_addr_text(&g->dst, dst, sizeof(dst));
		if (rc < 0)
			return rc;
	} else {
		strcpy(dst, "any");
	}
	return spa_pu_buf_printf(out,
				 "pass in quick proto %u from %s to %s port %u keep state label _exp_%lld\n",
				 (unsigned int)g->proto, src, dst, (unsigned int)g->port,
				 (long long)g->expires);
}

int spa_pf_rebuild(const char *listing, const struct spa_grant *g, int add,
		   struct spa_pu_buf *out, unsigned int *kept, unsigned int *removed)
{
	const char *p = listing;
	struct spa_pf_rule r;
	char line[LINE_MAX_LEN];
	int rc = 0;

	*kept = 0;
	*removed = 0;
	while (*p) {
		size_t len = strcspn(p, "\n");

		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			/* only rules are carried over; pfctl's comments and
			 * anything unparsable are dropped */
			if (spa_pf_parse_line(line, &r) == 0) {
				if (g && spa_pf_rule_matches(&r, g)) {
					(*removed)++;
				} else {
					rc = spa_pu_buf_printf(out, "%s\n", line);
					if (rc < 0)
						goto out;
					(*kept)++;
				}
			}
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	if (add) {
		rc = spa_pf_format_rule(g, out);
		if (rc < 0)
			goto out;
		(*kept)++;
	}
out:
	return rc;
}

int spa_pf_anchor_listed(const char *listing, const char *anchor)
{
	const char *p = listing;
	size_t alen = strlen(anchor);

	while (*p) {
		size_t len = strcspn(p, "\n");
		const char *s = p, *e = p + len;

		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if ((size_t)(e - s) == alen && memcmp(s, anchor, alen) == 0)
			return 1;
		p += len;
		if (*p == '\n')
			p++;
	}
	return 0;
}
