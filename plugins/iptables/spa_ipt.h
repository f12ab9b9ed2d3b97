/* SPDX-License-Identifier: MIT */
/*
 * iptables plugin internals. The layout follows fwknop so that existing
 * admins find what they expect: a chain of our own (FWKNOP_INPUT) reached
 * by one jump rule, one ACCEPT rule per grant whose comment _exp_<epoch>
 * carries its expiry. All changes go through iptables-restore --noflush as
 * one atomic batch per operation. The batch is built from an in-memory view
 * of what the plugin put there (one exec per open or close, or per batch
 * of grants of one family); when the firewall turns out to differ, a
 * fresh iptables-save rebuilds the view and a corrective batch is applied
 * instead.
 */
#ifndef SPA_IPT_H
#define SPA_IPT_H

#include <stdint.h>
#include <spa/plugin.h>
#include "spa_pu.h"

#define SPA_IPT_NAME_LEN 32 /* xtables chain names are at most 28 chars */
#define SPA_IPT_ADDR_LEN 64
#define SPA_IPT_LINE_LEN 1024 /* longest iptables-save line we look at */

/* What a chain of ours is for: fwknop's IPT_INPUT_ACCESS, _OUTPUT_,
 * _FORWARD_, _DNAT_, _SNAT_ and _MASQUERADE_ACCESS, in that order. The
 * last four carry NAT grants only (SPA_NAT_*) and are created when a
 * grant first needs them. */
enum spa_ipt_role {
	SPA_IPT_IN,
	SPA_IPT_OUT,
	SPA_IPT_FWD,
	SPA_IPT_DNAT,
	SPA_IPT_SNAT,
	SPA_IPT_MASQ,
};

#define SPA_IPT_NCHAINS 6

/* One IPT_*_ACCESS value: target, table, from-chain, jump position,
 * to-chain (the trailing rule position is accepted and ignored, as in
 * fwknop). */
struct spa_ipt_chain {
	int enabled;
	enum spa_ipt_role role;
	char target[SPA_IPT_NAME_LEN];
	char table[SPA_IPT_NAME_LEN];
	char from[SPA_IPT_NAME_LEN];
	unsigned int jump_pos;
	char to[SPA_IPT_NAME_LEN];
};

struct spa_ipt_family {
	int af;
	const char *save;    /* iptables-save */
	const char *restore; /* iptables-restore */
};

/* Bounds the memory of one view (48 bytes a rule); beyond it the view is
 * dropped and every operation takes the iptables-save path (slower, still
 * correct). Well above the thousands of live grants a busy host has. */
#define SPA_IPT_VIEW_MAX 16384

/* Grants of one family per iptables-restore run: the longest lines (IPv6
 * with a destination, a delete and an add in INPUT and OUTPUT) keep a
 * batch this big under the runner's 1 MiB of input. */
#define SPA_IPT_BATCH_MAX 1024

/* How long a jump rule seen in place is believed there: an open batch
 * checks it ("-C INPUT -j FWKNOP_INPUT") only when it was last seen
 * longer ago. With iptables-nft that check makes iptables-restore fetch
 * every rule of our chain (~45 ms at 5,000 rules, four times the cost of
 * a small batch without it); a burst of knocks pays it once a second. */
#define SPA_IPT_JUMP_RECHECK_MS 1000

/* The last command that failed, for op_fail (ABI 1.4). */
struct spa_ipt_fail {
	const char *cmd;       /* NULL: none since the last command started */
	int start_rc;          /* negative errno: it could not start (or its
				* output was cut) */
	int status;            /* exit status, -1 when killed */
	int timed_out;
	int logged;            /* already reported through host->log */
	char err[SPA_PU_ERR_LINE]; /* first line of its stderr */
};

/* A grant rule we believe is in a chain: the grant's key and its expiry,
 * and the NAT fields its rule shows, enough to write the exact rule text
 * again for "-D". */
struct spa_ipt_held {
	int64_t expires;
	uint8_t src[16];
	uint8_t dst[16];
	uint8_t nat_addr[16];
	uint8_t snat_addr[16];
	uint32_t nat_flags;
	uint16_t port;
	uint16_t nat_port;
	uint8_t has_dst;
	uint8_t has_nat_addr;
	uint8_t has_snat_addr;
	uint8_t proto;
};

/* What one chain of one family holds, as far as we know. */
struct spa_ipt_view {
	int known;                /* 0: trust nothing, read iptables-save first */
	int chain;                /* our chain exists */
	int jump;                 /* our jump rule exists in the from-chain */
	unsigned int from_rules;  /* rules in the from-chain (jump position) */
	unsigned int foreign;     /* other rules jumping to our chain */
	int64_t jump_seen;        /* st->now_ms when the jump was last read,
				   * checked or made */
	struct spa_ipt_held *held;
	size_t n, cap;
};

struct spa_ipt_state {
	const struct spa_host_api *host;
	struct spa_ipt_chain chains[SPA_IPT_NCHAINS]; /* by enum spa_ipt_role */
	struct spa_ipt_family fam[2];                 /* IPv4, IPv6 */
	struct spa_ipt_view view[2][SPA_IPT_NCHAINS]; /* [family][chain] */
	int prepend;
	struct spa_ipt_fail fail;
	int64_t now_ms;          /* monotonic, at the op's start or last read */
	int64_t jump_recheck_ms; /* SPA_IPT_JUMP_RECHECK_MS (tests: 0, always) */
};

/* One rule read back from iptables-save. */
struct spa_ipt_rule {
	char chain[SPA_IPT_NAME_LEN];
	char src[SPA_IPT_ADDR_LEN]; /* "" when absent */
	char dst[SPA_IPT_ADDR_LEN];
	int proto;                  /* 0 when absent */
	int sport;                  /* -1 when absent */
	int dport;
	int64_t expires;            /* -1 without an _exp_ comment */
	char jump[SPA_IPT_NAME_LEN];
	char to_dst[SPA_IPT_ADDR_LEN]; /* --to-destination, "" when absent */
	char to_src[SPA_IPT_ADDR_LEN]; /* --to-source */
	unsigned int nmatch_other;  /* options we do not model */
	/* A NAT grant's rule: the grant in its comment after _exp_<E>_
	 * (spa_ipt_nat.c). */
	int marked;
	char mark[256];
	char body[SPA_IPT_LINE_LEN];     /* the line after "-A chain " */
};

/* spa_ipt_config.c */
/* One IPT_*_ACCESS value into c; -EINVAL with *why (if why is not NULL)
 * saying which part is wrong. */
int spa_ipt_parse_access(const char *value, enum spa_ipt_role role,
			 struct spa_ipt_chain *c, const char **why);
int spa_ipt_valid_name(const char *s);
/* Reads and validates every key into st without touching the firewall:
 * the one parser of both ops.init and ops.check. */
int spa_ipt_load_config(const struct spa_host_api *host, struct spa_ipt_state *st);

/* spa_ipt_rules.c */
int spa_ipt_rule_parse(const char *line, struct spa_ipt_rule *r);
/* The rule grant g has in chain c, written as iptables-save prints it:
 * 1 with the text in out, 0 when g has no rule there (a plain grant in a
 * NAT chain, a NAT grant without that part), or a negative error. */
int spa_ipt_rule_body(const struct spa_ipt_chain *c, const struct spa_grant *g,
		      char *out, size_t len);
/* "addr/32" or "addr/128". */
int spa_ipt_addr_plen(const struct spa_grant_addr *a, char *out, size_t len);
int spa_ipt_fill_addr(struct spa_grant_addr *a, int af, const char *text);
int spa_ipt_rule_matches(const struct spa_ipt_rule *r, const struct spa_ipt_chain *c,
			 const struct spa_grant *g);
/* The grant a rule of ours in chain c stands for (address text filled
 * in); -ENOENT for any rule we would not have written. */
int spa_ipt_rule_grant(const struct spa_ipt_rule *r, const struct spa_ipt_chain *c,
		       int af, struct spa_grant *g);

/* Iterates the lines of one table's section of iptables-save output. */
struct spa_ipt_save_iter {
	const char *p;
	char table[SPA_IPT_NAME_LEN];
	char line[SPA_IPT_LINE_LEN];
};

int spa_ipt_save_next(struct spa_ipt_save_iter *it, const char *want_table);

/* Chain c as iptables-save shows it. */
struct spa_ipt_chain_scan {
	int exists;
	unsigned int from_rules;
	unsigned int jumps_total; /* rules anywhere in the table jumping to it */
	unsigned int our_jumps;   /* plain "-A from -j to" rules among them */
};

void spa_ipt_chain_scan(const struct spa_ipt_chain *c, const char *save_text,
			struct spa_ipt_chain_scan *v);

enum spa_ipt_op { SPA_IPT_OP_OPEN, SPA_IPT_OP_CLOSE, SPA_IPT_OP_FLUSH, SPA_IPT_OP_SETUP };

/* Writes the lines for enabled chain index ci into sec, counting them. */
typedef int (*spa_ipt_lines_fn)(const struct spa_ipt_state *st, int ci, void *ctx,
				struct spa_pu_buf *sec, unsigned int *changes);

/* One "*table ... COMMIT" section per table of the enabled chains, each
 * holding what fn writes for the chains of that table. */
int spa_ipt_by_table(const struct spa_ipt_state *st, spa_ipt_lines_fn fn, void *ctx,
		     struct spa_pu_buf *batch, unsigned int *changes);

/* Builds the iptables-restore batch that carries out op (grant may be NULL
 * for FLUSH and SETUP) given the current iptables-save text. *changes is
 * set to the number of rule lines in the batch: zero means nothing to do. */
int spa_ipt_batch(const struct spa_ipt_state *st, enum spa_ipt_op op,
		  const struct spa_grant *g, const char *save_text,
		  struct spa_pu_buf *batch, unsigned int *changes);

/* "-I from POS -j to", POS clamped to the from-chain's length + 1. */
void spa_ipt_jump_line(const struct spa_ipt_chain *c, unsigned int from_rules,
		       struct spa_pu_buf *sec);
/* The line adding a grant rule (body from spa_ipt_rule_body). */
void spa_ipt_rule_line(const struct spa_ipt_state *st, const struct spa_ipt_chain *c,
		       const char *body, struct spa_pu_buf *sec);

/* spa_ipt_view.c: the in-memory view of family index fi. */

/* Sets st->now_ms from the monotonic clock. */
void spa_ipt_clock(struct spa_ipt_state *st);

/* Rebuilds the view from iptables-save output. */
void spa_ipt_view_load(struct spa_ipt_state *st, int fi, const char *save_text);
/* Records the effect of op once its batch has been applied. */
void spa_ipt_view_apply(struct spa_ipt_state *st, int fi, enum spa_ipt_op op,
			const struct spa_grant *g);
void spa_ipt_view_forget(struct spa_ipt_state *st, int fi);
void spa_ipt_view_free(struct spa_ipt_state *st);
void spa_ipt_held_from_grant(const struct spa_grant *g, struct spa_ipt_held *h);
/* Same grant (addresses, proto, port, NAT form), whatever the expiry. */
int spa_ipt_held_same(const struct spa_ipt_held *a, const struct spa_ipt_held *b);
/* Whether every enabled chain of family fi has a view. */
int spa_ipt_view_known(const struct spa_ipt_state *st, int fi);
/* Whether the view of family fi has a rule of g's key in some chain. */
int spa_ipt_view_holds(const struct spa_ipt_state *st, int fi, const struct spa_grant *g);
/* The batch for OPEN or CLOSE of the k grants gs (all of family fi, as
 * checked by spa_ipt_grant_ok) built from the view alone, as one
 * transaction: what k single ops in that order would do. A grant the
 * view does not hold has nothing to delete. -EAGAIN when the view is not
 * known. */
int spa_ipt_view_batch(const struct spa_ipt_state *st, int fi, enum spa_ipt_op op,
		       const struct spa_grant *const *gs, size_t k,
		       struct spa_pu_buf *batch, unsigned int *changes);

/* spa_ipt_exec.c: the commands, and what their failures mean. */

/* iptables-restore --noflush of family fi with batch as input; a refusal
 * is logged at debug level only (the caller reports what it gives up on,
 * spa_ipt_fail). */
int spa_ipt_restore(struct spa_ipt_state *st, int fi, const struct spa_pu_buf *batch);
/* iptables-save of family fi, and the view rebuilt from it; *text is
 * valid until the next command. */
int spa_ipt_read(struct spa_ipt_state *st, int fi, const char **text);
/* SPA_FAIL_TRANSIENT or SPA_FAIL_PERMANENT for a recorded failure. */
int spa_ipt_fail_kind(const struct spa_ipt_fail *f);
/* Whether the command ran and refused its batch (status 1 or 2), which a
 * batch rebuilt from a fresh iptables-save may not be. */
int spa_ipt_fail_refused(const struct spa_ipt_fail *f);
/* One line saying what failed and how, for op_fail and the log. */
void spa_ipt_fail_text(const struct spa_ipt_fail *f, char *out, size_t len);
/* Logs st->fail at error level, once. */
void spa_ipt_fail_log(struct spa_ipt_state *st);
/* What an op on g (NULL: list) returns for rc < 0: classed through
 * op_fail by st->fail when the engine has op_fail and a command failed,
 * otherwise rc (the failure logged). rc >= 0 is returned as is. */
int spa_ipt_fail(struct spa_ipt_state *st, const struct spa_grant *g, int rc);

/* spa_ipt_grants.c */

/* Whether g can be served: 0, -EINVAL, or -EAFNOSUPPORT; for an open
 * also that every enabled chain can carry its rule. */
int spa_ipt_grant_ok(const struct spa_ipt_state *st, const struct spa_grant *g,
		     enum spa_ipt_op op);
/* Reads the live ruleset, rebuilds the view of family fi from it and
 * applies whatever op needs on top of what is really there. */
int spa_ipt_apply_from_save(struct spa_ipt_state *st, int fi, enum spa_ipt_op op,
			    const struct spa_grant *g);
/* OPEN or CLOSE of n grants, rc[i] for g[i] as the single op returns it;
 * one iptables-restore per family (and SPA_IPT_BATCH_MAX grants) when the
 * firewall is what the view says. 0, or -ENOMEM with every rc[i] set to
 * it. */
int spa_ipt_grants(struct spa_ipt_state *st, const struct spa_grant *const *g, size_t n,
		   int *rc, enum spa_ipt_op op);

/* Calls cb for every grant found in save_text: one per plain rule of
 * the INPUT chain, one per NAT grant however many rules it has. */
int spa_ipt_list_text(const struct spa_ipt_state *st, int af, const char *save_text,
		      spa_plugin_list_cb cb, void *ctx);

/* spa_ipt_nat.c: NAT grants (SPA_NAT_*, ABI 1.5). */

/* g's NAT forms, 0 for a plain grant or an engine older than 1.5. */
uint32_t spa_ipt_nat_flags(const struct spa_grant *g);
/* g's SNAT address, or NULL. */
const struct spa_grant_addr *spa_ipt_snat_addr(const struct spa_grant *g);
/* Whether g's NAT fields can be rendered: 0, or -EINVAL/-EAFNOSUPPORT
 * with *why saying what is wrong. */
int spa_ipt_nat_ok(const struct spa_grant *g, const char **why);
/* The rule body of NAT grant g in chain c (spa_ipt_rule_body's return). */
int spa_ipt_nat_body(const struct spa_ipt_chain *c, const struct spa_grant *g,
		     char *out, size_t len);
/* The partial grant a NAT rule of chain c stands for: its key, its expiry
 * and the NAT fields that rule shows; -ENOENT for a rule we would not
 * have written. */
int spa_ipt_nat_rule_grant(const struct spa_ipt_rule *r, const struct spa_ipt_chain *c,
			   int af, struct spa_grant *g);
/* The NAT grants of save_text, one call of cb each. */
int spa_ipt_nat_list(const struct spa_ipt_state *st, int af, const char *save_text,
		     spa_plugin_list_cb cb, void *ctx);

#endif
