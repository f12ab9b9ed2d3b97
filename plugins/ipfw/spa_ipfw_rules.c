/* SPDX-License-Identifier: MIT */
#include "spa_ipfw.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 48
#define TOKEN_LEN 64

struct tokens {
	char t[MAX_TOKENS][TOKEN_LEN];
	unsigned int n;
};

/* Whitespace split of one line; an over-long token or line makes the whole
 * line unparsable rather than silently truncated. */
static int split(const char *line, size_t len, struct tokens *tk)
{
	size_t i = 0;

	tk->n = 0;
	while (i < len) {
		size_t start, l;

		while (i < len && isspace((unsigned char)line[i]))
			i++;
		if (i >= len)
			break;
		start = i;
		while (i < len && !isspace((unsigned char)line[i]))
			i++;
		l = i - start;
		if (tk->n >= MAX_TOKENS || l >= TOKEN_LEN)
			return -E2BIG;
		memcpy(tk->t[tk->n], line + start, l);
		tk->t[tk->n][l] = '\0';
		tk->n++;
	}
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

static int64_t parse_exp(const char *s)
{
	unsigned long long v;
	char *end;

	if (strncmp(s, "_exp_", 5) != 0 || !isdigit((unsigned char)s[5]))
		return -1;
	errno = 0;
	v = strtoull(s + 5, &end, 10);
	if (errno || *end || v > INT64_MAX)
		return -1;
	return (int64_t)v;
}

static int is_action(const char *s)
{
	return strcmp(s, "pass") == 0 || strcmp(s, "allow") == 0 ||
	       strcmp(s, "accept") == 0 || strcmp(s, "permit") == 0;
}

static int parse_tokens(const struct tokens *tk, struct spa_ipfw_rule *r)
{
	unsigned long v;
	unsigned int i = 1;

	memset(r, 0, sizeof(*r));
	r->dport = -1;
	r->expires = -1;
	if (tk->n < 2 || parse_uint(tk->t[0], 65535, &v) < 0)
		return -EINVAL;
	r->num = (unsigned int)v;
	/* "ipfw -S" adds "set N"; "ipfw show" would add two counters */
	if (i + 1 < tk->n && strcmp(tk->t[i], "set") == 0)
		i += 2;
	if (i < tk->n && strcmp(tk->t[i], "check-state") == 0) {
		r->check_state = 1;
		return 0;
	}
	if (i >= tk->n || !is_action(tk->t[i]))
		return 0; /* a rule, but not one of ours */
	i++;
	if (i < tk->n) {
		int p = spa_pu_proto_number(tk->t[i]);

		r->proto = p > 0 ? p : 0;
		i++;
	}
	for (; i < tk->n; i++) {
		if (strcmp(tk->t[i], "//") == 0) {
			/* the comment is the rest of the line: only a lone
			 * _exp_ word counts, so "// _exp_1 extra" is foreign */
			if (i + 2 == tk->n)
				r->expires = parse_exp(tk->t[i + 1]);
			break;
		}
		if (i + 1 < tk->n && strcmp(tk->t[i], "from") == 0) {
			memcpy(r->src, tk->t[i + 1], sizeof(r->src));
			i++;
		} else if (i + 1 < tk->n && strcmp(tk->t[i], "to") == 0) {
			memcpy(r->dst, tk->t[i + 1], sizeof(r->dst));
			i++;
			/* ipfw prints the port right after the address */
			if (i + 1 < tk->n && parse_uint(tk->t[i + 1], 65535, &v) == 0) {
				r->dport = (int)v;
				i++;
			}
		} else if (i + 1 < tk->n && strcmp(tk->t[i], "dst-port") == 0) {
			if (parse_uint(tk->t[i + 1], 65535, &v) == 0)
				r->dport = (int)v;
			i++;
		}
	}
	return 0;
}

int spa_ipfw_parse_line(const char *line, struct spa_ipfw_rule *r)
{
	struct tokens *tk = malloc(sizeof(*tk));
	int rc;

	if (!tk)
		return -ENOMEM;
	rc = split(line, strlen(line), tk);
	if (rc == 0) {
		rc = parse_tokens(tk, r);
	} else if (isdigit((unsigned char)line[0])) {
		/* too long to model, but its number is still taken: report it
		 * as a foreign rule so the number is never handed out */
		char *end;
		unsigned long v = strtoul(line, &end, 10);

		memset(r, 0, sizeof(*r));
		r->dport = -1;
		r->expires = -1;
		if (v <= 65535 && isspace((unsigned char)*end)) {
			r->num = (unsigned int)v;
			rc = 0;
		}
	}
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

int spa_ipfw_rule_matches(const struct spa_ipfw_rule *r, const struct spa_grant *g)
{
	if (r->expires < 0 || r->proto != g->proto || r->dport != (int)g->port)
		return 0;
	if (!addr_equal(r->src, &g->src))
		return 0;
	if (g->dst.family)
		return addr_equal(r->dst, &g->dst);
	return strcmp(r->dst, "me") == 0 || strcmp(r->dst, "me6") == 0 ||
	       strcmp(r->dst, "any") == 0;
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

int spa_ipfw_rule_to_grant(const struct spa_ipfw_rule *r, struct spa_grant *g)
{
	memset(g, 0, sizeof(*g));
	g->struct_size = sizeof(*g);
	if (r->expires < 0 || r->proto == 0 || r->dport < 0 || fill_addr(r->src, &g->src) < 0)
		return -EINVAL;
	g->family = g->src.family;
	if (strcmp(r->dst, "me") != 0 && strcmp(r->dst, "me6") != 0 &&
	    strcmp(r->dst, "any") != 0 && fill_addr(r->dst, &g->dst) < 0)
		return -EINVAL;
	g->proto = (uint8_t)r->proto;
	g->port = (uint16_t)r->dport;
	g->expires = r->expires;
	return 0;
}

int spa_ipfw_each_rule(const char *listing, spa_ipfw_rule_fn fn, void *ctx)
{
	const char *p = listing;
	struct spa_ipfw_rule r;
	char line[1024];
	int rc = 0;

	while (*p) {
		size_t len = strcspn(p, "\n");

		if (strncmp(p, "## Dynamic rules", 16) == 0)
			break;
		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			if (spa_ipfw_parse_line(line, &r) == 0) {
				rc = fn(ctx, &r);
				if (rc < 0)
					break;
			}
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	return rc;
}
