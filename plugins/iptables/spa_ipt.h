/* SPDX-License-Identifier: MIT */
/*
 * iptables plugin internals. The layout follows fwknop so that existing
 * admins find what they expect: a chain of our own (FWKNOP_INPUT) reached
 * by one jump rule, one ACCEPT rule per grant whose comment _exp_<epoch>
 * carries its expiry. All changes go through iptables-restore --noflush as
 * one atomic batch per operation, computed from a fresh iptables-save.
 */
#ifndef SPA_IPT_H
#define SPA_IPT_H

#include <stdint.h>
#include <spa/plugin.h>
#include "spa_pu.h"

#define SPA_IPT_NAME_LEN 32 /* xtables chain names are at most 28 chars */
#define SPA_IPT_ADDR_LEN 64

enum spa_ipt_dir { SPA_IPT_IN, SPA_IPT_OUT };

/* One IPT_*_ACCESS value: target, table, from-chain, jump position,
 * to-chain (the trailing rule position is accepted and ignored, as in
 * fwknop). */
struct spa_ipt_chain {
	int enabled;
	enum spa_ipt_dir dir;
	char target[SPA_IPT_NAME_LEN];
	char table[SPA_IPT_NAME_LEN];
	char from[SPA_IPT_NAME_LEN];
	unsigned int jump_pos;
	char to[SPA_IPT_NAME_LEN];
};

#define SPA_IPT_NCHAINS 2

struct spa_ipt_family {
	int af;
	const char *save;    /* iptables-save */
	const char *restore; /* iptables-restore */
};

struct spa_ipt_state {
	const struct spa_host_api *host;
	struct spa_ipt_chain chains[SPA_IPT_NCHAINS]; /* INPUT, OUTPUT */
	struct spa_ipt_family fam[2];                 /* IPv4, IPv6 */
	int prepend;
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
	unsigned int nmatch_other;  /* options we do not model */
};

/* spa_ipt_config.c */
int spa_ipt_parse_access(const char *value, enum spa_ipt_dir dir,
			 struct spa_ipt_chain *c);
int spa_ipt_valid_name(const char *s);
int spa_ipt_load_config(const struct spa_host_api *host, struct spa_ipt_state *st);

/* spa_ipt_rules.c */
int spa_ipt_rule_parse(const char *line, struct spa_ipt_rule *r);
int spa_ipt_rule_body(const struct spa_ipt_chain *c, const struct spa_grant *g,
		      char *out, size_t len);
int spa_ipt_rule_matches(const struct spa_ipt_rule *r, const struct spa_ipt_chain *c,
			 const struct spa_grant *g);

enum spa_ipt_op { SPA_IPT_OP_OPEN, SPA_IPT_OP_CLOSE, SPA_IPT_OP_FLUSH, SPA_IPT_OP_SETUP };

/* Builds the iptables-restore batch that carries out op (grant may be NULL
 * for FLUSH and SETUP) given the current iptables-save text. *changes is
 * set to the number of rule lines in the batch: zero means nothing to do. */
int spa_ipt_batch(const struct spa_ipt_state *st, enum spa_ipt_op op,
		  const struct spa_grant *g, const char *save_text,
		  struct spa_pu_buf *batch, unsigned int *changes);

/* Calls cb for every grant rule of the INPUT chain found in save_text. */
int spa_ipt_list_text(const struct spa_ipt_state *st, int af, const char *save_text,
		      spa_plugin_list_cb cb, void *ctx);

#endif
