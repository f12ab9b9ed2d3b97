/* SPDX-License-Identifier: MIT */
/*
 * Reading grants back from a firewall's own rule listing, for backends
 * that keep no state and mark each grant's rule with its expiry as the
 * word _exp_<epoch> (a comment or label): splitting listing lines into
 * words, the expiry word, and comparing or converting a parsed rule and a
 * grant. The backend-specific grammar stays in each plugin.
 */
#ifndef SPA_PU_RULE_H
#define SPA_PU_RULE_H

#include <stdint.h>
#include "spa_pu.h"

#define SPA_PU_LINE_MAX 1024
#define SPA_PU_TOKENS_MAX 64
#define SPA_PU_TOKEN_LEN 64

struct spa_pu_tokens {
	char t[SPA_PU_TOKENS_MAX][SPA_PU_TOKEN_LEN];
	unsigned int n;
};

/* Whitespace split of one line. An over-long word or too many words make
 * the whole line unparsable (-E2BIG) rather than silently truncated. */
int spa_pu_split(const char *line, struct spa_pu_tokens *tk);

/* Calls fn with each line of text, NUL-terminated; lines of
 * SPA_PU_LINE_MAX bytes or more are skipped. fn returns 0 to go on, a
 * positive value to stop (spa_pu_each_line then returns 0) or a negative
 * error, which is returned. */
typedef int (*spa_pu_line_fn)(void *ctx, const char *line);
int spa_pu_each_line(const char *text, spa_pu_line_fn fn, void *ctx);

/* Epoch of an expiry word "_exp_<digits>" (also in double quotes, as pfctl
 * prints labels); -1 for anything else, including an out-of-range number. */
int64_t spa_pu_exp_parse(const char *word);

/* Whether text is the address a holds (compared in binary form). */
int spa_pu_addr_equal(const char *text, const struct spa_grant_addr *a);

/* Fills a from an IPv4 or IPv6 address text; -EINVAL for anything else. */
int spa_pu_addr_parse(const char *text, struct spa_grant_addr *a);

/* The common part of a grant's rule as a listing shows it. */
struct spa_pu_rule {
	int proto;                     /* 0 when absent or not tcp/udp */
	char src[SPA_PU_TOKEN_LEN];
	char dst[SPA_PU_TOKEN_LEN];    /* an address or a "local" word */
	int port;                      /* destination port; -1 when absent */
	int64_t expires;               /* -1 without an _exp_ word */
};

void spa_pu_rule_init(struct spa_pu_rule *r);

/* Copies a word into dst of size bytes; -E2BIG (dst empty) if it does
 * not fit. */
int spa_pu_copy_word(char *dst, size_t size, const char *word);

/*
 * `local` is a NULL-terminated list of the destination words the backend
 * prints for "any local address" (pf "any"; ipfw "me", "me6", "any"): a
 * grant without dst matches, and is rebuilt from, only those.
 */
/* Whether r is the rule of g's source/destination/proto/port (any expiry,
 * but only rules that carry one: never an admin's rule). */
int spa_pu_rule_matches(const struct spa_pu_rule *r, const struct spa_grant *g,
			const char *const local[]);
/* The grant r stands for; -EINVAL for a rule that is not a grant's. */
int spa_pu_rule_to_grant(const struct spa_pu_rule *r, struct spa_grant *g,
			 const char *const local[]);

/* The parser of one listing line into r; 0 for a rule line. */
typedef int (*spa_pu_parse_fn)(const char *line, struct spa_pu_rule *r);

/* ops.list over a listing: cb gets the grant of every line parse takes
 * whose rule is a grant's (see spa_pu_rule_to_grant); others are skipped. */
int spa_pu_report_grants(const char *listing, spa_pu_parse_fn parse,
			 const char *const local[], spa_plugin_list_cb cb, void *ctx);

/* Text of g's source and of its destination, or local_word for a grant
 * without one; both from the binary form, never the grant's own text.
 * Each buffer holds SPA_GRANT_ADDR_LEN bytes. */
int spa_pu_grant_addrs(const struct spa_grant *g, const char *local_word,
		       char src[SPA_GRANT_ADDR_LEN], char dst[SPA_GRANT_ADDR_LEN]);

/* Checks a grant a plain port-opening backend can take: IPv4/IPv6 source,
 * destination of the same family or none, tcp/udp, a port, and no NAT. */
int spa_pu_grant_check(const struct spa_grant *g);

#endif
