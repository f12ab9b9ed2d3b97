/* SPDX-License-Identifier: MIT */
#include "spa_pf.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *const spa_pf_local[] = { "any", NULL };

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

static int parse_port(const char *v, struct spa_pu_rule *r)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (isdigit((unsigned char)v[0]) && !errno && !*end && n <= 65535)
		r->port = (int)n;
	return 0;
}

int spa_pf_parse_line(const char *line, struct spa_pu_rule *r)
{
	struct spa_pu_tokens *tk;
	int rc = -EINVAL;

	spa_pu_rule_init(r);
	tk = malloc(sizeof(*tk));
	if (!tk)
		return -ENOMEM;
	if (spa_pu_split(line, tk) < 0 || tk->n == 0 || strcmp(tk->t[0], "pass") != 0)
		goto out;
	for (unsigned int i = 1; i + 1 < tk->n; i++) {
		const char *k = tk->t[i], *v = tk->t[i + 1];

		if (strcmp(k, "proto") == 0) {
			int p = spa_pu_proto_number(v);

			r->proto = p > 0 ? p : 0;
		} else if (strcmp(k, "from") == 0) {
			spa_pu_copy_word(r->src, sizeof(r->src), v);
		} else if (strcmp(k, "to") == 0) {
			spa_pu_copy_word(r->dst, sizeof(r->dst), v);
		} else if (strcmp(k, "port") == 0) {
			/* pfctl prints "port = 22" */
			if (strcmp(v, "=") == 0 && i + 2 < tk->n)
				v = tk->t[++i + 1];
			parse_port(v, r);
		} else if (strcmp(k, "label") == 0) {
			r->expires = spa_pu_exp_parse(v);
		} else {
			continue;
		}
		i++; /* the value was consumed */
	}
	rc = 0;
out:
	free(tk);
	return rc;
}

int spa_pf_format_rule(const struct spa_grant *g, struct spa_pu_buf *out)
{
	char src[SPA_GRANT_ADDR_LEN], dst[SPA_GRANT_ADDR_LEN];
	int rc;

	rc = spa_pu_grant_addrs(g, "any", src, dst);
	if (rc < 0)
		return rc;
	return spa_pu_buf_printf(out,
				 "pass in quick proto %u from %s to %s port %u keep state label _exp_%lld\n",
				 (unsigned int)g->proto, src, dst, (unsigned int)g->port,
				 (long long)g->expires);
}

struct rebuild {
	const struct spa_grant *g;
	struct spa_pu_buf *out;
	unsigned int kept;
	unsigned int removed;
};

static int rebuild_line(void *ctx, const char *line)
{
	struct rebuild *rb = ctx;
	struct spa_pu_rule r;

	/* only rules are carried over; pfctl's comments and anything
	 * unparsable are dropped */
	if (spa_pf_parse_line(line, &r) < 0)
		return 0;
	if (rb->g && spa_pu_rule_matches(&r, rb->g, spa_pf_local)) {
		rb->removed++;
		return 0;
	}
	rb->kept++;
	return spa_pu_buf_printf(rb->out, "%s\n", line);
}

int spa_pf_rebuild(const char *listing, const struct spa_grant *g, int add,
		   struct spa_pu_buf *out, unsigned int *kept, unsigned int *removed)
{
	struct rebuild rb = { .g = g, .out = out };
	int rc;

	rc = spa_pu_each_line(listing, rebuild_line, &rb);
	if (rc == 0 && add) {
		rc = spa_pf_format_rule(g, out);
		if (rc == 0)
			rb.kept++;
	}
	*kept = rb.kept;
	*removed = rb.removed;
	return rc;
}

struct anchor_find {
	const char *name;
	int found;
};

static int is_anchor_line(void *ctx, const char *line)
{
	struct anchor_find *a = ctx;
	const char *s = line, *e = line + strlen(line);
	size_t alen = strlen(a->name);

	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	a->found = (size_t)(e - s) == alen && memcmp(s, a->name, alen) == 0;
	return a->found;
}

int spa_pf_anchor_listed(const char *listing, const char *anchor)
{
	struct anchor_find a = { anchor, 0 };

	spa_pu_each_line(listing, is_anchor_line, &a);
	return a.found;
}
