/* SPDX-License-Identifier: MIT */
/*
 * spa_config.h - the daemon configuration: fwknopd.conf (server settings)
 * and access.conf (stanzas), read by one parser (spa_conf_parse.c).
 */
#ifndef SPA_CONFIG_H
#define SPA_CONFIG_H

#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spa_addr.h"
#include "spa_conf_cmd.h"
#include "spa_log.h"
#include "spa_nfq.h"
#include "spa_rate.h"
#include "spa_wire.h"

#define SPA_CONF_ERR_LEN 768
#define SPA_DEFAULT_FW_TIMEOUT 30
#define SPA_DEFAULT_MAX_FW_TIMEOUT 300
#define SPA_MAX_TIMEOUT_VALUE 8388608
/* fwknopd's Debian build, so an unchanged fwknopd.conf starts */
#define SPA_DEFAULT_FIREWALL_TYPE "iptables"
/* the plugin fwknopd's CMD_CYCLE_OPEN stanzas mean */
#define SPA_CMD_CYCLE_TYPE "cmdcycle"
/* FIREWALL_TYPE external_cmd: the command cycle with EXTERNAL_CMD_* */
#define SPA_EXTERNAL_CMD_TYPE "external_cmd"
/* SYSCONFDIR/spa of the build: /etc/spa for the packages (prefix /usr),
 * /usr/local/etc/spa for a default source build (engine/CMakeLists.txt) */
#ifdef SPA_CONF_DIR_DEFAULT
#define SPA_DEFAULT_CONF_DIR SPA_CONF_DIR_DEFAULT
#else
#define SPA_DEFAULT_CONF_DIR "/etc/spa"
#endif
#define SPA_DEFAULT_CONF_FILE SPA_DEFAULT_CONF_DIR "/spad.conf"
/* MAX_GRANTS_TOTAL: a bound on the grant store whatever the stanzas say,
 * so keys cannot together grow it (and the journal) without end */
#define SPA_DEFAULT_MAX_GRANTS_TOTAL 10000
#define SPA_MAX_GRANTS_LIMIT 1000000       /* highest value of the MAX_GRANTS* */
#define SPA_DEFAULT_PLUGIN_OP_TIMEOUT 30
#define SPA_DEFAULT_PLUGIN_QUEUE_MAX 0   /* as many as MAX_GRANTS_TOTAL */
#define SPA_DEFAULT_PLUGIN_BATCH_MAX 512
#define SPA_MAX_KNOCKS_LIMIT 100000        /* highest MAX_KNOCKS_PER_MINUTE */
/* GnuPG (docs/GNUPG.md): fwknopd's defaults */
#define SPA_DEFAULT_GPG_HOME_DIR "/root/.gnupg"
#define SPA_DEFAULT_GPG_EXE "/usr/bin/gpg"
/* gpg runs for packets no HMAC vouched for: at most this many at once and
 * this many a second (GPG_MAX_CONCURRENT, GPG_MAX_PER_SECOND; ours) */
#define SPA_DEFAULT_GPG_MAX_CONCURRENT 2
#define SPA_DEFAULT_GPG_MAX_PER_SECOND 20
/* ...and together busy at most this share of the time (GPG_MAX_BUSY_PERCENT;
 * ours): a run ending after the private-key operation costs 50 to 400 ms of
 * gpg and gpg-agent CPU, depending on the key's passphrase protection, so a
 * count alone cannot bound the CPU (docs/PERFORMANCE.md, GnuPG) */
#define SPA_DEFAULT_GPG_MAX_BUSY_PERCENT 25
#define SPA_GPG_MAX_IDS 16                 /* entries of GPG_REMOTE_ID / _FINGERPRINT_ID */
#define SPA_GPG_PW_MAX 256                 /* GPG_DECRYPT_PW bytes */
/* The TCP server's bounds (ours; spad.8, SPA OVER TCP AND HTTP) */
#define SPA_DEFAULT_TCP_MAX_CONNECTIONS 64
#define SPA_DEFAULT_TCP_MAX_PER_SOURCE 4
#define SPA_DEFAULT_TCP_READ_TIMEOUT 5

/* SPA over TCP and HTTP (spa_tcpserv.h, spa_http.h) */
struct spa_conf_tcp {
	bool server;                   /* ENABLE_TCP_SERVER */
	uint16_t port;                 /* TCPSERV_PORT */
	bool http;                     /* ENABLE_SPA_OVER_HTTP */
	bool xff;                      /* ENABLE_X_FORWARDED_FOR */
	uint32_t max_connections;      /* TCPSERV_MAX_CONNECTIONS */
	uint32_t max_per_source;       /* TCPSERV_MAX_PER_SOURCE */
	uint32_t read_timeout;         /* TCPSERV_READ_TIMEOUT, seconds */
};

/*
 * MAX_KNOCKS_PER_MINUTE's state. It is behind a pointer so that the
 * decision, which gets the configuration const, can spend tokens; it lives
 * and dies with the stanza, so a reload starts every stanza with a full
 * bucket (a reload is the administrator's act, not a client's).
 */
struct spa_knock_limit {
	struct spa_rate bucket;
	struct spa_log_limit log;     /* lines for knocks it refused */
};

/*
 * A stanza's GnuPG settings (access.conf GPG_*), out of line: most stanzas
 * have none. Allocated at the first GPG_ variable; `enabled` once
 * GPG_DECRYPT_PW or GPG_ALLOW_NO_PW is given, as in fwknopd.
 */
struct spa_stanza_gpg {
	bool enabled;
	char home_dir[PATH_MAX];       /* "": fwknopd.conf GPG_HOME_DIR */
	char exe[PATH_MAX];            /* "": fwknopd.conf GPG_EXE */
	char decrypt_id[SPA_GPG_FPR_MAX + 1];
	char decrypt_pw[SPA_GPG_PW_MAX + 1];   /* secret: wiped on free, redacted by -D */
	bool has_decrypt_pw;
	bool allow_no_pw;
	bool require_sig;              /* Y unless GPG_REQUIRE_SIG N or GPG_DISABLE_SIG Y */
	bool disable_sig;
	bool ignore_sig_verify_error;
	/* GPG_REMOTE_ID: signer ids compared with the last 8 or 16 hex digits
	 * of the signer's fingerprint, upper case */
	char remote_ids[SPA_GPG_MAX_IDS][17];
	size_t n_remote_ids;
	/* GPG_FINGERPRINT_ID: whole fingerprints, upper case, no spaces */
	char fingerprints[SPA_GPG_MAX_IDS][SPA_GPG_FPR_MAX + 1];
	size_t n_fingerprints;
	/* HMAC-only key set (SPA_MODE_ASYMMETRIC) from the stanza's HMAC key
	 * for spa_gpg_open; NULL without HMAC_KEY. Prepared at finish. */
	struct spa_keys *hmac_keys;
};

/*
 * A stanza's NAT settings (access.conf FORCE_NAT, FORCE_SNAT,
 * FORCE_MASQUERADE, FORWARD_ALL, DISABLE_DNAT; spa_conf_nat.c). The
 * engine turns them and the knock into a grant's NAT form (spa_nat.c).
 */
struct spa_stanza_nat {
	bool force_nat;                /* FORCE_NAT <ip> <port> */
	char force_nat_ip[16];
	uint8_t force_nat_bin[4];
	uint16_t force_nat_port;
	bool force_snat;               /* FORCE_SNAT <ip> */
	char force_snat_ip[16];
	uint8_t force_snat_bin[4];
	bool force_masquerade;         /* FORCE_MASQUERADE Y */
	bool forward_all;              /* FORWARD_ALL Y */
	bool disable_dnat;             /* DISABLE_DNAT Y */
	/* file:line of each, for the errors spa_config_finish gives */
	char where_nat[64], where_snat[64], where_all[64], where_dnat[64];
};

struct spa_stanza {
	char label[64];                /* "access.conf:12", also the grant label */
	struct spa_addr_list source;
	struct spa_addr_list destination;   /* n == 0 && !any: unset */
	struct spa_port_list open_ports;    /* n == 0: any */
	struct spa_port_list restrict_ports;
	uint8_t key[SPA_MAX_KEY_LEN];
	size_t key_len;
	bool has_key;
	uint8_t hmac_key[SPA_MAX_HMAC_KEY_LEN];
	size_t hmac_key_len;
	/* what -D reports once the raw key bytes are wiped at finish */
	size_t key_bytes, hmac_key_bytes;
	int hmac_type;                 /* 0: sha256 if an HMAC key is set */
	int enc_mode;                  /* 0: CBC */
	uint32_t fw_access_timeout;
	uint32_t max_fw_timeout;
	char require_username[SPA_MAX_USERNAME_LEN + 1];
	bool require_source_address;
	/* REQUIRE_ALLOW_IP_IS_SOURCE: the allow IP must be the packet's source */
	bool require_allow_is_source;
	uint32_t max_grants;           /* MAX_GRANTS, 0: no limit */
	uint32_t max_grants_per_user;  /* MAX_GRANTS_PER_USER, 0: no limit */
	uint32_t max_knocks;           /* MAX_KNOCKS_PER_MINUTE, 0: no limit */
	struct spa_knock_limit *knocks;     /* set by spa_config_finish when max_knocks */
	int64_t access_expire;         /* 0: never */
	char firewall_type[32];        /* "": the global FIREWALL_TYPE */
	char firewall_type_where[64];  /* file:line of that line */
	bool firewall_type_external;   /* it said external_cmd (firewall_type: cmdcycle) */
	struct spa_keys *keys;         /* prepared once at load */
	uint32_t cmd_cycle_timer;      /* CMD_CYCLE_TIMER, 0: unset */
	struct spa_stanza_gpg *gpg;    /* NULL: no GPG_ variable */
	struct spa_stanza_cmd *cmd;    /* NULL: no command message variable */
	struct spa_stanza_nat nat;
	bool grant_cluster;            /* GRANT_SCOPE cluster (docs/CLUSTER.md) */
	char grant_scope_where[64];    /* file:line of that line */
	/* variables the core does not know, for the plugin owning their
	 * prefix (spa_host_api.stanza_get); checked by spa_config_check_keys */
	struct spa_conf_kv *kv;
	size_t n_kv;
	/* every variable as written, secrets excepted, for the $VAR of
	 * EXTERNAL_CMD_* (spa_conf_extcmd.c); freed by spa_config_finish */
	struct spa_conf_kv *vars;
	size_t n_vars;
};

/* Cluster mode (spa_conf_cluster.c, docs/CLUSTER.md). */
#define SPA_STORE_FILE "file"          /* STATE_STORE's default: no shared store */
#define SPA_CLUSTER_NODE_LEN 64
struct spa_conf_cluster {
	char store[32];                /* STATE_STORE: "file" or a store module */
	char store_where[64];          /* file:line, "": the default */
	bool fail_local;               /* CLUSTER_FAIL_MODE local (else closed) */
	char node[SPA_CLUSTER_NODE_LEN]; /* CLUSTER_NODE_NAME, else the host name */
};

/* A key the core does not interpret, kept for the plugin that owns it. */
struct spa_conf_kv {
	char *name;
	char *value;
	char where[64];                /* file:line, for "unknown variable" errors */
	bool secret;                   /* a plugin's schema says so: -D redacts it */
};

struct spa_config {
	/* fwknopd.conf */
	bool udp_server;
	uint16_t udp_port;
	bool packet_aging;
	bool packet_aging_set;         /* ENABLE_SPA_PACKET_AGING was given */
	uint32_t max_packet_age;
	bool digest_persistence;
	char run_dir[PATH_MAX];
	char digest_file[PATH_MAX];
	char pid_file[PATH_MAX];
	char journal_file[PATH_MAX];
	char json_log[PATH_MAX];       /* "": no JSON decision log */
	char access_file[PATH_MAX];    /* "": next to the server config */
	char access_folder[PATH_MAX];
	char plugin_dir[PATH_MAX];
	char firewall_type[32];        /* SPA_DEFAULT_FIREWALL_TYPE unless set */
	char firewall_type_where[64];  /* file:line, "": the default */
	bool firewall_type_external;   /* FIREWALL_TYPE external_cmd (firewall_type: cmdcycle) */
	char syslog_identity[64];
	int syslog_facility;           /* LOG_DAEMON unless SYSLOG_FACILITY */
	char locale[64];
	char pcap_intf[256];           /* comma list */
	char pcap_filter[256];
	char pcap_file[PATH_MAX];      /* "": live capture */
	bool pcap_promisc;
	bool pcap_any_direction;       /* ENABLE_PCAP_ANY_DIRECTION (or the flag) */
	uint32_t max_sniff_bytes;
	struct spa_nfq_conf nfq;       /* ENABLE_NFQ_CAPTURE, NFQ_* (spa_nfq.h) */
	uint32_t max_grants_total;     /* MAX_GRANTS_TOTAL */
	uint32_t reconcile_interval;   /* RECONCILE_INTERVAL seconds, 0: off */
	uint32_t plugin_op_timeout;    /* PLUGIN_OP_TIMEOUT seconds */
	uint32_t plugin_queue_max;     /* PLUGIN_QUEUE_MAX opens waiting per plugin;
					* 0: MAX_GRANTS_TOTAL */
	uint32_t plugin_batch_max;     /* PLUGIN_BATCH_MAX grants per batch call */
	/* the packet process (docs/SECURITY.md) */
	char privsep_user[64];         /* PRIVSEP_USER; "": _spad, else nobody */
	char privsep_chroot[PATH_MAX]; /* PRIVSEP_CHROOT; "": <run dir>/empty */
	bool privsep_seccomp;          /* PRIVSEP_SECCOMP, Y unless set */
	/* GnuPG (docs/GNUPG.md) */
	char gpg_home_dir[PATH_MAX];   /* GPG_HOME_DIR, SPA_DEFAULT_GPG_HOME_DIR */
	char gpg_exe[PATH_MAX];        /* GPG_EXE, SPA_DEFAULT_GPG_EXE */
	uint32_t gpg_max_concurrent;   /* GPG_MAX_CONCURRENT */
	uint32_t gpg_max_per_second;   /* GPG_MAX_PER_SECOND */
	uint32_t gpg_max_busy_percent; /* GPG_MAX_BUSY_PERCENT */
	struct spa_conf_cmd cmd;       /* SUDO_EXE, CMD_EXEC_TIMEOUT, COMMAND_MODULE */
	struct spa_conf_tcp tcp;
	/* NAT (spa_conf_nat.c, docs/man/spad.8 NAT): fwknopd.conf's switches
	 * under either family's name (ENABLE_IPT_* or ENABLE_FIREWD_*): Y in
	 * either enables it for every plugin with SPA_PLUGIN_CAP_NAT */
	bool nat_forwarding;           /* ENABLE_*_FORWARDING: knock types 2/4 */
	bool nat_local;                /* ENABLE_*_LOCAL_NAT: types 5/6 */
	bool nat_snat;                 /* ENABLE_*_SNAT: SNAT/MASQUERADE forwarded access */
	char nat_forwarding_name[32];  /* the name that set it, for reasons */
	char nat_local_name[32];
	bool has_snat_ip;              /* SNAT_TRANSLATE_IP (else MASQUERADE) */
	char snat_translate_ip[16];
	uint8_t snat_translate_bin[4];
	bool nat_dns;                  /* ENABLE_NAT_DNS, Y unless set */
	struct spa_conf_cluster cluster; /* STATE_STORE, CLUSTER_* (docs/CLUSTER.md) */
	struct spa_conf_kv *kv;
	size_t n_kv;
	/* the server files and the command line were read without error
	 * (what -K/-R/-S need even when access.conf is broken) */
	bool server_loaded;
	/* access.conf */
	struct spa_stanza *stanzas;
	size_t n_stanzas;
	/* changes with every spa_config_finish: what is cached for one
	 * configuration (the host's addresses) is re-read after a reload */
	uint64_t generation;
};

/* Compiled defaults. */
void spa_config_init(struct spa_config *c);
void spa_config_free(struct spa_config *c);

/* Each returns 0 or a negative code with "file:line: ..." in err. */
int spa_config_load_server(struct spa_config *c, const char *path, char *err, size_t errlen);
int spa_config_load_access(struct spa_config *c, const char *path, bool folder,
			   char *err, size_t errlen);
/* Cluster mode (spa_conf_cluster.c): whether STATE_STORE names a shared
 * store, and how long the store keeps an accepted packet's digest. */
bool spa_conf_cluster_on(const struct spa_config *c);
uint32_t spa_conf_cluster_replay_ttl(const struct spa_config *c);
/* Prepares key sets and checks what needs the whole file (>= 1 stanza). */
int spa_config_finish(struct spa_config *c, char *err, size_t errlen);

/* The plugin serving s: its own FIREWALL_TYPE, else the command cycle
 * when it has CMD_CYCLE_OPEN (as in fwknopd, the commands replace the
 * firewall rules), else the global FIREWALL_TYPE. */
const char *spa_config_stanza_type(const struct spa_config *c, const struct spa_stanza *s);
/* Forgets every stanza (keeps the server settings): for the options that
 * only need fwknopd.conf when access.conf does not load. */
void spa_config_drop_stanzas(struct spa_config *c);

/* Fills digest/pid/journal paths left unset from run_dir. */
void spa_config_derive_paths(struct spa_config *c);
/* Every fwknopd.conf variable the core does not know must belong to a
 * known backend or start with a loaded plugin's key prefix (or ENABLE_/
 * FLUSH_ + that prefix); every such access.conf stanza variable must start
 * with a loaded plugin's prefix or be CMD_CYCLE_*. */
int spa_config_check_keys(const struct spa_config *c, const char *const *prefixes,
			  size_t n_prefixes, char *err, size_t errlen);

/* -D: every value and stanza, secrets redacted (spa_conf_dump.c). */
void spa_config_dump(const struct spa_config *c, FILE *out);

/* Appends a copy of name=value (where: "file:line" or ""); 0 or -ENOMEM. */
int spa_conf_kv_append(struct spa_conf_kv **arr, size_t *n, const char *name, const char *value,
		       const char *where);
/* Frees an array of such pairs, wiping the values (they may be secrets). */
void spa_conf_kv_free(struct spa_conf_kv *arr, size_t n);
/* The value of name in arr, or NULL. */
const char *spa_conf_kv_find(const struct spa_conf_kv *arr, size_t n, const char *name);

/* Value of a plugin key, or NULL. */
const char *spa_config_kv_get(const struct spa_config *c, const char *name);
/* The stanza labelled `label` ("access.conf:12"), or NULL. */
const struct spa_stanza *spa_config_stanza(const struct spa_config *c, const char *label);
/* Value of a plugin variable of that stanza, or NULL. */
const char *spa_stanza_kv_get(const struct spa_stanza *s, const char *name);
/* The stanza sets FORCE_NAT, FORCE_SNAT, FORCE_MASQUERADE, FORWARD_ALL or
 * DISABLE_DNAT (only a plugin with SPA_PLUGIN_CAP_NAT may serve it). */
bool spa_stanza_has_nat(const struct spa_stanza *s);

#endif
