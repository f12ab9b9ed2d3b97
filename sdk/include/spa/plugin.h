/* SPDX-License-Identifier: MIT */
/*
 * spa/plugin.h - the public, versioned ABI between spad and its backend
 * plugins. A plugin is a shared object exporting exactly one symbol,
 * SPA_PLUGIN_SYMBOL, a const struct spa_plugin_descriptor. The engine checks
 * magic, ABI major/minor and struct_size before calling any plugin code, so
 * a stale or foreign .so is refused instead of crashing the daemon.
 *
 * Compatibility rules: a change of SPA_PLUGIN_ABI_MAJOR breaks every plugin;
 * minor bumps only append fields at the end of structs (hence struct_size),
 * never reorder or remove. Plugins must not link against engine symbols:
 * everything they may call arrives through struct spa_host_api.
 */
#ifndef SPA_PLUGIN_H
#define SPA_PLUGIN_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SPA_PLUGIN_MAGIC      0x53504150u /* "SPAP" */
#define SPA_PLUGIN_ABI_MAJOR  1u
#define SPA_PLUGIN_ABI_MINOR  6u
#define SPA_PLUGIN_SYMBOL     "spa_plugin_descriptor"

/* Capabilities a plugin declares; the engine refuses, at config load, a
 * stanza whose needs its backend cannot meet (e.g. an IPv6 SOURCE). */
#define SPA_PLUGIN_CAP_IPV6            (1u << 0)
#define SPA_PLUGIN_CAP_NAT             (1u << 1)
#define SPA_PLUGIN_CAP_NATIVE_TIMEOUT  (1u << 2) /* backend expires rules itself */
#define SPA_PLUGIN_CAP_BATCH           (1u << 3) /* several grants per call are cheap:
						  * open_batch/close_batch (ABI 1.4) */
#define SPA_PLUGIN_CAP_COMMAND         (1u << 4) /* runs command messages: the
						  * descriptor's command op (ABI 1.5) */
#define SPA_PLUGIN_CAP_STORE           (1u << 5) /* a state-store module (STATE_STORE):
						  * the descriptor's store ops (ABI 1.6,
						  * spa/store.h); not a firewall backend */

/* Log levels handed to spa_host_api.log (syslog numbering). */
#define SPA_LOG_ERR     3
#define SPA_LOG_WARNING 4
#define SPA_LOG_NOTICE  5
#define SPA_LOG_INFO    6
#define SPA_LOG_DEBUG   7

#define SPA_GRANT_ADDR_LEN   46   /* INET6_ADDRSTRLEN */
#define SPA_GRANT_LABEL_LEN  64
#define SPA_GRANT_USER_LEN   64
#define SPA_GRANT_TOKEN_MAX  256  /* bytes of plugin data per grant (ABI 1.3) */

/* One address in both forms: plugins building command lines want text,
 * plugins talking netlink or a cloud API want bytes. */
struct spa_grant_addr {
	int family;                        /* AF_INET or AF_INET6; 0 = any */
	char text[SPA_GRANT_ADDR_LEN];     /* "198.51.100.7", "2001:db8::1" */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} bin;                             /* network byte order */
};

/*
 * An authorized access: what the engine asks a plugin to open, and later
 * close. The engine owns its lifetime and expiry; a plugin must copy what it
 * wants to keep. One grant covers exactly one proto/port pair so that
 * refresh and close are unambiguous.
 */
struct spa_grant {
	uint32_t struct_size;              /* sizeof(struct spa_grant) of the engine */
	uint64_t id;                       /* unique for the life of the journal */
	int family;                        /* AF_INET / AF_INET6 (of src) */
	struct spa_grant_addr src;         /* who gets access */
	struct spa_grant_addr dst;         /* family 0: any local address */
	uint8_t proto;                     /* IPPROTO_TCP / IPPROTO_UDP */
	uint16_t port;                     /* host byte order */
	struct spa_grant_addr nat_addr;    /* family 0: no NAT */
	uint16_t nat_port;
	uint32_t timeout;                  /* seconds granted at the knock */
	int64_t expires;                   /* absolute, epoch seconds; native-timeout
					    * backends should use expires - now, as a
					    * grant is re-opened after a restart */
	char stanza[SPA_GRANT_LABEL_LEN];  /* "file:line" of the access stanza */
	char username[SPA_GRANT_USER_LEN]; /* as sent by the client */

	/* --- ABI 1.5: NAT; read only when SPA_GRANT_HAS(g, nat_flags). ---
	 * The engine decides the form, from the knock (fwknop's NAT message
	 * types), the stanza (FORCE_NAT, FORCE_SNAT, FORCE_MASQUERADE,
	 * FORWARD_ALL, DISABLE_DNAT) and fwknopd.conf's switches
	 * (ENABLE_*_FORWARDING, ENABLE_*_LOCAL_NAT, ENABLE_*_SNAT,
	 * SNAT_TRANSLATE_IP); a plugin with SPA_PLUGIN_CAP_NAT renders it in
	 * its backend's terms, and a grant with nat_flags 0 is a plain access
	 * grant (nat_addr family 0). Only plugins declaring SPA_PLUGIN_CAP_NAT
	 * ever receive a grant with nat_flags set. docs/plugins.md, "NAT". */
	uint32_t nat_flags;                /* SPA_NAT_* */
	struct spa_grant_addr snat_addr;   /* SPA_NAT_SNAT: translate the source to this */
};

/* The NAT forms of a grant (nat_flags). port is what the client knocked
 * for, on this host; nat_addr:nat_port is where it is sent. */
#define SPA_NAT_FORWARD     (1u << 0) /* forward src -> nat_addr:nat_port through this
				       * host; DNAT proto/port to it unless NO_DNAT */
#define SPA_NAT_LOCAL       (1u << 1) /* a service of this host: accept nat_port
				       * from src and DNAT port to nat_addr:nat_port */
#define SPA_NAT_FORWARD_ALL (1u << 2) /* with FORWARD: every proto/port from src is
				       * forwarded (and DNATed to nat_addr, when set) */
#define SPA_NAT_NO_DNAT     (1u << 3) /* with FORWARD: forward only, no DNAT rule */
#define SPA_NAT_SNAT        (1u << 4) /* also translate the source to snat_addr */
#define SPA_NAT_MASQUERADE  (1u << 5) /* also translate the source to the outgoing
				       * interface's address */

/* Whether grant g carries `member` (a 1.5 plugin under a 1.4 engine). */
#define SPA_GRANT_HAS(g, member)                                          \
	((g)->struct_size >= offsetof(struct spa_grant, member) + sizeof((g)->member))

/*
 * --- ABI 1.5: a command message (fwknop's -C / --server-cmd), handed to
 * the command module (a plugin with SPA_PLUGIN_CAP_COMMAND) once the
 * engine has authenticated it and the stanza allows it (ENABLE_CMD_EXEC).
 * The engine resolves the stanza's CMD_EXEC_* / CMD_SUDO_EXEC_* settings;
 * the module decides what the text means and runs it (host->run_as), and
 * must return within timeout_ms plus a margin. Pointers are valid during
 * the call only.
 */
struct spa_command {
	uint32_t struct_size;              /* sizeof(struct spa_command) of the engine */
	uint64_t id;                       /* for log lines: unique per daemon run */
	struct spa_grant_addr src;         /* the allow IP of the message (the packet's
					    * source when the client sent 0.0.0.0) */
	struct spa_grant_addr pkt_src;     /* the packet's source */
	const char *text;                  /* the command as sent: printable, no NUL */
	uid_t uid;                         /* CMD_EXEC_USER; (uid_t)-1: spad's own */
	gid_t gid;                         /* CMD_EXEC_GROUP, or the user's group */
	const char *sudo_exe;              /* ENABLE_CMD_SUDO_EXEC: SUDO_EXE; else NULL */
	const char *sudo_user;             /* CMD_SUDO_EXEC_USER, or NULL (unset or
					    * root: fwknopd adds no -u then) */
	const char *sudo_group;            /* CMD_SUDO_EXEC_GROUP, or NULL */
	uint32_t timeout_ms;               /* CMD_EXEC_TIMEOUT */
	char stanza[SPA_GRANT_LABEL_LEN];  /* "file:line" of the access stanza */
	char username[SPA_GRANT_USER_LEN]; /* as sent by the client */
};

/* Result of spa_host_api.run. Output buffers are owned by the engine and
 * valid until the next run call from the same plugin. */
struct spa_run_result {
	int exit_status;                   /* WEXITSTATUS, or -1 if killed/timed out */
	int timed_out;                     /* nonzero if the timeout killed it */
	const char *out;                   /* captured stdout, NUL-terminated */
	size_t out_len;
	const char *err;                   /* captured stderr, NUL-terminated */
	size_t err_len;
};

struct spa_store_ops;                /* spa/store.h */

/* Callback of ops.list: one call per grant the backend currently holds. */
typedef void (*spa_plugin_list_cb)(void *ctx, const struct spa_grant *g);

/*
 * Services the engine injects at init. `self` is an opaque handle that must
 * be passed back so the engine knows which plugin is speaking.
 */
struct spa_host_api {
	uint32_t struct_size;
	void *self;
	/* printf-like; the engine prefixes the plugin name. */
	void (*log)(void *self, int level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	/* Value of one of the plugin's own config keys (e.g. "IPT_INPUT_ACCESS"),
	 * or NULL when unset. Ownership: the engine copies the plugin's keys
	 * when it initialises the plugin and keeps that copy, unchanged, until
	 * fini returns; a pointer returned here stays valid until then, also
	 * across a SIGHUP reload. A reload that changes one of these keys is
	 * logged and takes effect at the next start of spad (docs/plugins.md). */
	const char *(*config_get)(void *self, const char *key);
	/* Runs argv[0] (absolute path) with argv, an empty environment and no
	 * shell, waiting at most timeout_ms. Returns 0 when the command ran
	 * (see res->exit_status) or a negative errno if it could not start. */
	int (*run)(void *self, const char *const argv[], int timeout_ms,
		   struct spa_run_result *res);

	/* --- ABI 1.1: check SPA_HOST_HAS(host, member) before use. --- */

	/* As run, with input_len bytes of input on the command's stdin (then
	 * EOF), e.g. a batch for "ipset restore". At most 1 MiB. */
	int (*run_input)(void *self, const char *const argv[], const void *input,
			 size_t input_len, int timeout_ms, struct spa_run_result *res);
	/* Value of a variable of the access.conf stanza that produced g, or
	 * NULL when unset. Only the plugin's own key_prefix keys are visible,
	 * and CMD_CYCLE_* for a plugin whose key_prefix is "CMD_CYCLE_".
	 * Ownership: for a grant the engine holds (g->id != 0), the answer
	 * comes from the policy the grant was made under, which the engine
	 * journals with the grant: edits of access.conf and reloads do not
	 * change what its refresh and close see, nor do restarts. A pointer
	 * returned here stays valid until fini returns. */
	const char *(*stanza_get)(void *self, const struct spa_grant *g, const char *key);

	/* --- ABI 1.3: per-grant plugin data; check SPA_HOST_HAS too. ---
	 * A plugin may attach a token to a grant it serves: what it needs to
	 * undo the open later (a cloud rule id, an ACL sequence number) and
	 * cannot derive from the grant. The engine journals the token with
	 * the grant and hands it back, through token_get, at refresh and close
	 * and at the re-open after a restart (also after a kill -9). */

	/* Sets g's token to a copy of len bytes of data (len 0: no token).
	 * Only for the grant being served, from open or refresh (or close,
	 * with len 0 only). Returns 0 once the token is journaled; -E2BIG for
	 * len > SPA_GRANT_TOKEN_MAX; -EINVAL outside an op on g; another
	 * negative error when the journal cannot be written: the engine then
	 * fails the op (an open is closed again), keeping the token in memory
	 * so that close still gets it. Setting the token it already has
	 * writes nothing. */
	int (*token_set)(void *self, const struct spa_grant *g, const void *data, size_t len);
	/* The token of grant g (g->id, a grant of this plugin the engine
	 * holds) and its length in *len, or NULL (and *len 0) when it has
	 * none. The pointer is valid until the next token_set of g, and at
	 * most until the next op on g returns: copy what must live longer. */
	const void *(*token_get)(void *self, const struct spa_grant *g, size_t *len);

	/* --- ABI 1.4: failure classes; check SPA_HOST_HAS too. ---
	 * Says why an op fails and whether trying again can help, and returns
	 * the code the op then returns:
	 *   return host->op_fail(host->self, g, SPA_FAIL_TRANSIENT,
	 *                        "router busy: %s", reply);
	 * g is the grant that failed (in a batch op, each failing one in
	 * turn), NULL for list. A transient failure is retried with backoff
	 * (an open while the grant lives, a close until it succeeds); a
	 * permanent one is not retried for an open (the grant is closed
	 * again), and a close so refused is kept, retried at the longest
	 * interval and shown as stuck by spad -S: a hole is never forgotten.
	 * An op that fails without op_fail is classed by its errno
	 * (docs/plugins.md lists the transient ones). */
	int (*op_fail)(void *self, const struct spa_grant *g, int kind, const char *fmt, ...)
		__attribute__((format(printf, 4, 5)));

	/* --- ABI 1.5; check SPA_HOST_HAS too. ---
	 * As run, the command running as uid and gid (supplementary groups:
	 * gid only; checked to have taken before exec, else -EPERM) in the
	 * directory /; uid (uid_t)-1 runs it as run does. A uid is for
	 * SPA_PLUGIN_CAP_COMMAND plugins only: another plugin gets -EPERM. */
	int (*run_as)(void *self, const char *const argv[], uid_t uid, gid_t gid,
		      int timeout_ms, struct spa_run_result *res);
};

/* op_fail's kinds, and the codes it returns for them. */
#define SPA_FAIL_TRANSIENT 1
#define SPA_FAIL_PERMANENT 2
#define SPA_ERR_TRANSIENT  (-EAGAIN)
#define SPA_ERR_PERMANENT  (-ENOTRECOVERABLE)

/* Whether an engine's host API has `member` (added by a later minor): a
 * 1.1 plugin may be loaded by a 1.0 engine, whose struct ends at run. */
#define SPA_HOST_HAS(host, member)                                        \
	((host)->struct_size >= offsetof(struct spa_host_api, member) +       \
				sizeof((host)->member) && (host)->member != NULL)

/*
 * Operations. Every op returns 0 or a negative error (op_fail, ABI 1.4,
 * says which errors are worth a retry). Optional ops may be NULL: without
 * refresh a native-timeout backend gets close then open, another nothing;
 * without list the engine trusts its journal at reconciliation.
 *
 * Threads (ABI 1.4 engines): open, close, refresh, list and the batch ops
 * of one plugin instance run on that instance's own worker thread, one at
 * a time and in the order the engine queued them, so they need no locks
 * among themselves; the daemon's event loop never waits for them. init,
 * flush and fini run on the main thread while the worker is stopped.
 * check may run on the main thread while ops run: it must not touch the
 * state init made (it has none to touch). Every host API call may be made
 * from the worker thread. A plugin must not create threads that call the
 * host API outside an op.
 */
struct spa_plugin_ops {
	int (*init)(const struct spa_host_api *host, void **state);
	int (*open)(void *state, const struct spa_grant *g);
	int (*close)(void *state, const struct spa_grant *g);
	int (*refresh)(void *state, const struct spa_grant *g);  /* optional */
	int (*list)(void *state, spa_plugin_list_cb cb, void *ctx); /* optional */
	int (*flush)(void *state);
	void (*fini)(void *state);

	/* --- ABI 1.2, optional (NULL, or absent in a smaller descriptor). ---
	 * Checks the plugin's configuration without touching the backend and
	 * without keeping state: spad --exit-parse-config and every start call
	 * it before init. probe NULL: the global keys (config_get); otherwise
	 * once per stanza the plugin serves, with probe->stanza naming it and
	 * probe->id 0, for stanza_get. Returns 0, or a negative error after
	 * logging through host->log what is wrong (key and value). */
	int (*check)(const struct spa_host_api *host, const struct spa_grant *probe);
};

/*
 * --- ABI 1.3: the keys a plugin takes (its configuration schema). ---
 * With a schema, spad checks the plugin's keys itself when it reads the
 * configuration (start, SIGHUP, --exit-parse-config): a key with the
 * plugin's prefix that the schema does not name is an error naming
 * file:line (a typo no longer means "unset"), as is a value of the wrong
 * type, a value not among `choices`, or a required key left unset. -D
 * redacts secret keys. A secret key may instead be given as <KEY>_FILE, a
 * file owned by root (spad's user) that only it may read: its first line
 * is the value, so no secret needs to sit in fwknopd.conf or in a
 * command's argv. config_get returns `def` for an unset key.
 */
#define SPA_KEY_STRING 0u              /* any text */
#define SPA_KEY_BOOL   1u              /* Y or N (any case) */
#define SPA_KEY_UINT   2u              /* decimal, 0 .. 4294967295 */
#define SPA_KEY_INT    3u              /* decimal, optional sign, 32 bits */
#define SPA_KEY_PATH   4u              /* an absolute path */

#define SPA_KEY_REQUIRED (1u << 0)     /* spad refuses to start without it */
#define SPA_KEY_SECRET   (1u << 1)     /* redacted by -D; <KEY>_FILE allowed */
#define SPA_KEY_STANZA   (1u << 2)     /* an access.conf stanza key (stanza_get) */

struct spa_plugin_key {
	const char *name;                  /* whole name: "NFT_TABLE" */
	uint32_t type;                     /* SPA_KEY_STRING ... */
	uint32_t flags;                    /* SPA_KEY_REQUIRED | ... */
	const char *def;                   /* value when unset, or NULL */
	const char *choices;               /* "library|exec": the only values, or NULL */
	const char *doc;                   /* one line, for -D and documentation */
};

struct spa_plugin_descriptor {
	uint32_t magic;                    /* SPA_PLUGIN_MAGIC */
	uint16_t abi_major;                /* SPA_PLUGIN_ABI_MAJOR */
	uint16_t abi_minor;                /* SPA_PLUGIN_ABI_MINOR */
	uint32_t struct_size;              /* sizeof(struct spa_plugin_descriptor) */
	const char *name;                  /* matches FIREWALL_TYPE */
	const char *version;
	uint32_t capabilities;             /* SPA_PLUGIN_CAP_* */
	const char *key_prefix;            /* e.g. "IPT_": config keys it owns */
	struct spa_plugin_ops ops;
	/* --- ABI 1.3, optional (NULL/0: no schema, keys unchecked by spad) --- */
	const struct spa_plugin_key *keys;
	size_t n_keys;
	/* --- ABI 1.4, optional, for SPA_PLUGIN_CAP_BATCH plugins ---
	 * n grants (n >= 1) in one call, e.g. one "iptables-restore" run or
	 * one netlink transaction: grants that became due together (a burst
	 * of knocks, many expiring at once, a stop) reach the backend as one
	 * batch. rc[i] receives grant g[i]'s result, as open or close would
	 * return it (op_fail with g[i] for its class). The call returns 0
	 * when rc[] says it all, or a negative error when the whole batch
	 * failed (every rc[i] is then that error). Without these the engine
	 * calls open or close once per grant. */
	int (*open_batch)(void *state, const struct spa_grant *const *g, size_t n, int *rc);
	int (*close_batch)(void *state, const struct spa_grant *const *g, size_t n, int *rc);
	/* --- ABI 1.5, for SPA_PLUGIN_CAP_COMMAND plugins: runs one command
	 * message, on the plugin's worker thread like the other ops. Returns 0
	 * when the command ran (whatever its exit status, which the module
	 * logs) or a negative error. */
	int (*command)(void *state, const struct spa_command *cmd);
	/* --- ABI 1.6, for SPA_PLUGIN_CAP_STORE modules (spa/store.h): the
	 * shared state of a cluster. A store module has init and fini; its
	 * open/close/flush may be NULL. */
	const struct spa_store_ops *store;
};

/* Convenience for plugin authors. */
#define SPA_PLUGIN_DESCRIPTOR_INIT                                   \
	.magic = SPA_PLUGIN_MAGIC, .abi_major = SPA_PLUGIN_ABI_MAJOR,    \
	.abi_minor = SPA_PLUGIN_ABI_MINOR,                               \
	.struct_size = sizeof(struct spa_plugin_descriptor)

#ifdef __cplusplus
}
#endif
#endif
