/* SPDX-License-Identifier: MIT */
/*
 * firewalld plugin internals. Each grant is one runtime rich rule with a
 * firewalld timeout in one zone (FIREWD_ZONE), so firewalld itself expires
 * it. Rich rules carry no comment, so ours are recognised by their exact
 * shape: a rule is ours only if rebuilding it from its parsed fields gives
 * back the very same text.
 *
 * Two transports carry the same calls (FIREWD_TRANSPORT): firewalld's
 * D-Bus API through one sd-bus connection (when built with libsystemd),
 * or one firewall-cmd run per call through the host's runner.
 */
#ifndef SPA_FWD_H
#define SPA_FWD_H

#include <stddef.h>
#include <spa/plugin.h>
#include "spa_pu.h"

#define SPA_FWD_ZONE_LEN 18 /* firewalld caps zone names at 17 characters */
#define SPA_FWD_RULE_LEN 256

enum spa_fwd_mode { SPA_FWD_AUTO, SPA_FWD_DBUS, SPA_FWD_EXEC };

struct spa_fwd_state;

/* Outcomes match across transports: an add of a rule already there and a
 * remove of one already gone are success (firewall-cmd exits 0 on its
 * ALREADY_ENABLED/NOT_ENABLED warnings), anything else is an error. */
struct spa_fwd_xport {
	const char *name; /* value of FIREWD_TRANSPORT */
	/* Reaches firewalld and checks it runs. -EHOSTUNREACH: the bus or
	 * firewalld's name cannot be reached (auto then tries exec). */
	int (*start)(struct spa_fwd_state *st);
	void (*stop)(struct spa_fwd_state *st);
	int (*add)(struct spa_fwd_state *st, const char *zone, const char *rule, long timeout);
	/* quiet: failure is expected and not worth a log line */
	int (*remove)(struct spa_fwd_state *st, const char *zone, const char *rule, int quiet);
	/* The zone's runtime rich rules, one a line, in *text (free()d by
	 * the caller). */
	int (*list)(struct spa_fwd_state *st, const char *zone, char **text);
};

extern const struct spa_fwd_xport spa_fwd_xport_exec;
#ifdef SPA_FWD_HAVE_SDBUS
extern const struct spa_fwd_xport spa_fwd_xport_dbus;
#endif

struct spa_fwd_state {
	const struct spa_host_api *host;
	const char *exe;
	enum spa_fwd_mode mode;
	const struct spa_fwd_xport *xport; /* set by init */
	void *bus;                          /* the D-Bus transport's sd_bus */
	char zone[SPA_FWD_ZONE_LEN];
	char masq_zone[SPA_FWD_ZONE_LEN];   /* FIREWD_MASQ_ZONE, else zone */
};

/* spa_fwd_rules.c */
int spa_fwd_valid_zone(const char *zone);
/* Rich rule text for g, built from its binary address and numeric fields. */
int spa_fwd_rule_text(const struct spa_grant *g, char *out, size_t len);
/* Parses one --list-rich-rules line into g; -ENOENT when it is not ours. */
int spa_fwd_rule_parse(const char *line, size_t len, struct spa_grant *g);
/* Helpers of the parsers: the quoted value after key (-ENOENT when the
 * text at *p is not key="..."), and an address from its text. */
int spa_fwd_take_quoted(const char **p, const char *end, const char *key, char *out,
			size_t len);
int spa_fwd_set_addr(struct spa_grant_addr *a, int af, const char *text);

/* spa_fwd_nat.c: a NAT grant's rich rules (at most SPA_FWD_NAT_MAX), or
 * -EOPNOTSUPP / -EINVAL with *why saying what firewalld cannot do. */
#define SPA_FWD_NAT_MAX 2
struct spa_fwd_rule {
	int masq_zone;                     /* goes to FIREWD_MASQ_ZONE */
	char text[SPA_FWD_RULE_LEN];
};
int spa_fwd_nat_rules(const struct spa_grant *g, struct spa_fwd_rule *r, size_t *n,
		      const char **why);
/* A forward-port rule of ours: g gets FORWARD, src, proto, port,
 * nat_addr and nat_port; -ENOENT when it is not ours. */
int spa_fwd_nat_parse(const char *line, size_t len, struct spa_grant *g);
/* A masquerade rule of ours: g gets src and, as nat_addr, its
 * destination; -ENOENT when it is not ours. */
int spa_fwd_masq_parse(const char *line, size_t len, struct spa_grant *g);

/* Seconds to hand to --timeout: what is left of the grant, or -ETIME. */
long spa_fwd_timeout(const struct spa_grant *g, long long now);

/* spa_fwd_plugin.c: reads and validates every key into st without
 * reaching firewalld, the one parser of both ops.init and ops.check */
int spa_fwd_load_config(const struct spa_host_api *host, struct spa_fwd_state *st);

#endif
