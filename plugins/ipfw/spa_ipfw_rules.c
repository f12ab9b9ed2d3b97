/* SPDX-License-Identifier: MIT */
#include "spa_ipfw.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ipfw prints "any" for a rule given no destination too */
const char *const spa_ipfw_local[] = { "me", "me6", "any", NULL };

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

static int is_action(const char *s)
{
	return strcmp(s, "pass") == 0 || strcmp(s, "allow") == 0 ||
	       strcmp(s, "accept") == 0 || strcmp(s, "permit") == 0;
}

static void parse_body(const struct spa_pu_tokens *tk, unsigned int i, struct spa_pu_rule *r)
{
	unsigned long v;

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
				r->expires = spa_pu_exp_parse(tk->t[i + 1]);
			break;
		}
		if (i + 1 >= tk->n)
			continue;
		if (strcmp(tk->t[i], "from") == 0) {
			spa_pu_copy_word(r->src, sizeof(r->src), tk->t[++i]);
		} else if (strcmp(tk->t[i], "to") == 0) {
			spa_pu_copy_word(r->dst, sizeof(r->dst), tk->t[++i]);
			/* ipfw prints the port right after the address */
			if (i + 1 < tk->n && parse_uint(tk->t[i + 1], 65535, &v) == 0) {
				r->port = (int)v;
				i++;
			}
		} else if (strcmp(tk->t[i], "dst-port") == 0) {
			if (parse_uint(tk->t[++i], 65535, &v) == 0)
				r->port = (int)v;
		}
	}
}

static int parse_tokens(const struct spa_pu_tokens *tk, struct spa_ipfw_rule *r)
{
	unsigned long v;
	unsigned int i = 1;

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
	if (i < tk->n && is_action(tk->t[i]))
		parse_body(tk, i + 1, &r->rule);
	/* otherwise a rule, but not one of ours */
	return 0;
}

int spa_ipfw_parse_line(const char *line, struct spa_ipfw_rule *r)
{
	struct spa_pu_tokens *tk = malloc(sizeof(*tk));
	int rc;

	memset(r, 0, sizeof(*r));
	spa_pu_rule_init(&r->rule);
	if (!tk)
		return -ENOMEM;
	rc = spa_pu_split(line, tk);
	if (rc == 0) {
		rc = parse_tokens(tk, r);
	} else if (isdigit((unsigned char)line[0])) {
		/* too long to model, but its number is still taken: report it
		 * as a foreign rule so the number is never handed out */
		char *end;
		unsigned long v = strtoul(line, &end, 10);

		if (v <= 65535 && isspace((unsigned char)*end)) {
			r->num = (unsigned int)v;
			rc = 0;
		}
	}
	free(tk);
	return rc;
}

int spa_ipfw_parse_grant_rule(const char *line, struct spa_pu_rule *r)
{
	struct spa_ipfw_rule ir;
	int rc = spa_ipfw_parse_line(line, &ir);

	*r = ir.rule;
	return rc;
}

struct each_rule {
	spa_ipfw_rule_fn fn;
	void *ctx;
};

static int each_line(void *ctx, const char *line)
{
	struct each_rule *e = ctx;
	struct spa_ipfw_rule r;

	if (strncmp(line, "## Dynamic rules", 16) == 0)
		return 1;
	if (spa_ipfw_parse_line(line, &r) < 0)
		return 0;
	return e->fn(e->ctx, &r);
}

int spa_ipfw_each_rule(const char *listing, spa_ipfw_rule_fn fn, void *ctx)
{
	struct each_rule e = { fn, ctx };

	return spa_pu_each_line(listing, each_line, &e);
}
