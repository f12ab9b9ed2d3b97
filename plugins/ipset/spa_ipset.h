/* SPDX-License-Identifier: MIT */
/*
 * ipset plugin internals: hash:ip,port sets (and hash:ip,port,ip for grants
 * with a destination), one per address family, with per-element timeouts.
 * The kernel expires elements; one iptables or nft rule of the admin's
 * consumes the sets (see README.md). One ipset command per operation,
 * carried by a transport: libipset in-process (netlink, no fork per grant)
 * when built with it, or the `ipset` command through the host's runner.
 */
#ifndef SPA_IPSET_H
#define SPA_IPSET_H

#include <stdint.h>
#include <spa/plugin.h>
#include "spa_pu.h"

#define SPA_IPSET_NAME_LEN 32 /* IPSET_MAXNAMELEN */
#define SPA_IPSET_ELEM_LEN (2 * SPA_GRANT_ADDR_LEN + 16)

/* Most arguments of one of our commands, program name excluded. */
#define SPA_IPSET_ARGS_MAX 10

enum spa_ipset_kind { SPA_IPSET_V4, SPA_IPSET_V6, SPA_IPSET_V4D, SPA_IPSET_V6D, SPA_IPSET_NSETS };

struct spa_ipset_state;

/* Both transports take the same arguments as the ipset command line, so
 * the commands are built once and behave alike whichever carries them. */
struct spa_ipset_xport {
	const char *name; /* value of IPSET_TRANSPORT */
	int (*open)(struct spa_ipset_state *st);
	/* Runs one command (args NULL-terminated, without the program name);
	 * 0 only when it succeeded, failures are logged. If out is not NULL
	 * it gets the command's output, valid until the next run. */
	int (*run)(struct spa_ipset_state *st, const char *const args[], const char **out);
	/* Optional fast path for what every grant costs: `-exist add` (add
	 * set, with timeout) or `-exist del` of g's element in set, from the
	 * grant's binary addresses; text is the element for messages. NULL:
	 * run() with the command line. */
	int (*element)(struct spa_ipset_state *st, int add, const char *set,
		       const struct spa_grant *g, uint32_t timeout, const char *text);
	void (*close)(struct spa_ipset_state *st);
};

extern const struct spa_ipset_xport spa_ipset_xport_exec;
#ifdef SPA_IPSET_HAVE_LIBIPSET
extern const struct spa_ipset_xport spa_ipset_xport_lib;
#endif

struct spa_ipset_state {
	const struct spa_host_api *host;
	const char *exe;
	const struct spa_ipset_xport *xport;
	void *xctx; /* the transport's own state */
	char sets[SPA_IPSET_NSETS][SPA_IPSET_NAME_LEN];
};

int spa_ipset_valid_name(const char *s);
/* Reads and validates every key into st without touching the kernel or
 * opening a transport: the one parser of both ops.init and ops.check. */
int spa_ipset_load_config(const struct spa_host_api *host, struct spa_ipset_state *st);
const char *spa_ipset_type(enum spa_ipset_kind k);
const char *spa_ipset_family(enum spa_ipset_kind k);

/* Which set a grant goes to and its element text ("IP,tcp:22[,DST]"),
 * built from the binary addresses only. */
int spa_ipset_element(const struct spa_ipset_state *st, const struct spa_grant *g,
		      const char **set, char *elem, size_t len);

/* Parses `ipset save` output; calls cb for each element of our sets. */
int spa_ipset_list_text(const struct spa_ipset_state *st, const char *text, int64_t now,
			spa_plugin_list_cb cb, void *ctx);

#endif
