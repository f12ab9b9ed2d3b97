/* SPDX-License-Identifier: MIT */
/*
 * spa_client.h - internals of spa-client, the fwknop-compatible client.
 *
 * The command line and ~/.fwknoprc go through one option table and one
 * apply function, so a variable behaves the same whichever way it is given.
 */
#ifndef SPA_CLIENT_H
#define SPA_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <limits.h>

#include "spa_wire.h"

#define SPA_CLIENT_VERSION_LINE \
	"spa-client 0.1.0 (fwknop client 2.6.10 compatible), FKO protocol version 3.0.0"
#define SPA_CLIENT_DEFAULT_UA   "Fwknop/2.6.10"
#define SPA_CLIENT_RESOLVE_URL  "https://www.cipherdyne.org/cgi-bin/myip"
#define SPA_CLIENT_RC_NAME      ".fwknoprc"
#define SPA_CLIENT_RUN_NAME     ".fwknop.run"
#define SPA_CLIENT_MAX_TIMEOUT  SPA_MAX_CLIENT_TIMEOUT
#define SPA_CLIENT_MAX_PORTLIST 240
#define SPA_CLIENT_KEY_CAP      (SPA_MAX_HMAC_KEY_LEN * 2 + 8)

/* Client-side error codes (negative on return), beyond the wire ones. */
enum spa_client_err {
	SPA_CE_USAGE = 100,   /* bad option or value; message already printed */
	SPA_CE_RC,            /* rc file problem */
	SPA_CE_IO,
	SPA_CE_RESOLVE,
	SPA_CE_SEND,
	SPA_CE_KEY,
};

enum spa_client_proto {
	SPA_CLIENT_PROTO_UDP = 0,
	SPA_CLIENT_PROTO_TCP,
	SPA_CLIENT_PROTO_HTTP,
	SPA_CLIENT_PROTO_UDPRAW,    /* hand-built IPv4 packets, raw socket */
	SPA_CLIENT_PROTO_TCPRAW,
	SPA_CLIENT_PROTO_ICMP,
};

#define SPA_CLIENT_MAX_ICMP_TYPE      40
#define SPA_CLIENT_MAX_ICMP_CODE      15

enum spa_client_allow {
	SPA_CLIENT_ALLOW_NONE = 0,
	SPA_CLIENT_ALLOW_IP,
	SPA_CLIENT_ALLOW_SOURCE,
	SPA_CLIENT_ALLOW_RESOLVE,   /* -R: ask a web page */
};

enum spa_opt_id {
	SPA_OPT_ACCESS, SPA_OPT_ALLOW_IP, SPA_OPT_SOURCE_IP, SPA_OPT_DEST,
	SPA_OPT_IPV4, SPA_OPT_IPV6, SPA_OPT_SERVER_PORT, SPA_OPT_PROTO,
	SPA_OPT_RAND_PORT, SPA_OPT_SOURCE_PORT, SPA_OPT_FW_TIMEOUT,
	SPA_OPT_SPOOF_USER, SPA_OPT_DIGEST, SPA_OPT_HMAC_DIGEST,
	SPA_OPT_ENC_MODE, SPA_OPT_KEY, SPA_OPT_KEY_B64, SPA_OPT_HMAC_KEY,
	SPA_OPT_HMAC_KEY_B64, SPA_OPT_USE_HMAC, SPA_OPT_GET_KEY,
	SPA_OPT_GET_HMAC_KEY, SPA_OPT_STDIN, SPA_OPT_FD, SPA_OPT_KEYGEN,
	SPA_OPT_KEYGEN_FILE, SPA_OPT_KEY_LEN, SPA_OPT_HMAC_KEY_LEN,
	SPA_OPT_TIME_OFFSET, SPA_OPT_TIME_PLUS, SPA_OPT_TIME_MINUS,
	SPA_OPT_SERVER_CMD, SPA_OPT_NAT, SPA_OPT_NAT_LOCAL, SPA_OPT_NAT_PORT,
	SPA_OPT_NAT_RAND_PORT, SPA_OPT_USER_AGENT, SPA_OPT_TEST,
	SPA_OPT_SAVE_PACKET, SPA_OPT_SAVE_PACKET_APPEND, SPA_OPT_VERBOSE,
	SPA_OPT_SAVE_RC, SPA_OPT_FORCE_STANZA, SPA_OPT_STANZA_LIST,
	SPA_OPT_NAMED, SPA_OPT_RC_FILE, SPA_OPT_NO_RC_FILE,
	SPA_OPT_NO_SAVE_ARGS, SPA_OPT_ARGS_FILE, SPA_OPT_LAST_CMD,
	SPA_OPT_SHOW_LAST, SPA_OPT_VERSION, SPA_OPT_HELP,
	SPA_OPT_RESOLVE, SPA_OPT_RESOLVE_HTTP_ONLY, SPA_OPT_RESOLVE_URL,
	SPA_OPT_SPOOF_SRC, SPA_OPT_HTTP_PROXY, SPA_OPT_ICMP_TYPE,
	SPA_OPT_ICMP_CODE, SPA_OPT_WGET_CMD, SPA_OPT_USE_WGET_UA,
	SPA_OPT_USE_GPG, SPA_OPT_GPG_AGENT, SPA_OPT_GPG_RECIPIENT,
	SPA_OPT_GPG_SIGNER, SPA_OPT_GPG_HOME, SPA_OPT_GPG_EXE,
	SPA_OPT_GPG_NO_PW,
	SPA_OPT_GPG_PW, SPA_OPT_GPG_PW_B64,   /* rc only: the KEY storage */
	SPA_OPT_UNSUPPORTED,  /* recognised fwknop option we do not implement */
};

enum spa_opt_arg { SPA_ARG_NONE = 0, SPA_ARG_REQUIRED = 1 };

struct spa_opt_def {
	enum spa_opt_id id;
	const char *long_name;     /* NULL: rc file only */
	int short_name;            /* 0: none */
	enum spa_opt_arg arg;
	const char *rc_name;       /* NULL: not an rc variable */
	const char *flag_rc_value; /* what a flag means when saved to a stanza */
	bool secret;               /* value is a key: never saved to .fwknop.run */
};

extern const struct spa_opt_def spa_opt_table[];
extern const size_t spa_opt_count;

/* Row lookups; NULL when unknown. rc names compare case-insensitively. */
const struct spa_opt_def *spa_opt_by_rc_name(const char *name);
const struct spa_opt_def *spa_opt_by_id(enum spa_opt_id id);

enum spa_opt_source { SPA_SRC_CMDLINE, SPA_SRC_RC };

struct spa_client_cfg {
	char access[SPA_CLIENT_MAX_PORTLIST + 1];
	char allow_ip[16];
	int allow_mode;
	char server[256];
	int family;                 /* AF_UNSPEC, AF_INET, AF_INET6 */
	uint16_t server_port;
	uint16_t source_port;
	int proto;
	bool rand_port;
	uint32_t fw_timeout;
	char spoof_user[SPA_MAX_USERNAME_LEN + 1];
	int digest_type;
	int hmac_type;
	int enc_mode;
	char key[SPA_CLIENT_KEY_CAP];
	bool key_is_b64;
	char hmac_key[SPA_CLIENT_KEY_CAP];
	bool hmac_key_is_b64;
	bool use_hmac;
	char key_file[PATH_MAX];
	char hmac_key_file[PATH_MAX];
	bool key_stdin;
	int key_fd;                 /* -1: none */
	bool keygen;
	char keygen_file[PATH_MAX];
	size_t key_len;
	size_t hmac_key_len;
	int64_t time_offset;
	char server_cmd[SPA_MAX_MSG_LEN];
	char nat_access[SPA_MAX_NAT_LEN];
	bool nat_local;
	uint16_t nat_port;
	bool nat_rand_port;
	char user_agent[128];
	char spoof_src[16];         /* -Q: raw modes only */
	char proxy_host[256];       /* -H, without scheme or port */
	uint16_t proxy_port;        /* 0: the -p port, as fwknop does */
	uint8_t icmp_type;
	uint8_t icmp_code;
	char wget_cmd[PATH_MAX];    /* -w: run this wget for -R instead */
	bool use_wget_ua;
	/* GnuPG mode (docs/GNUPG.md). The signing passphrase shares key[]
	 * with KEY, as in fwknop: GPG_SIGNING_PW is a synonym of KEY. */
	bool use_gpg;
	bool gpg_agent;             /* gpg-agent's own pinentry, no callback */
	bool gpg_no_signing_pw;
	char gpg_recipient[256];
	char gpg_signer[256];
	char gpg_home[PATH_MAX];
	char gpg_exe[PATH_MAX];
	char resolve_url[512];
	bool resolve_http_only;
	bool test;
	char save_packet[PATH_MAX];
	bool save_packet_append;
	int verbose;
	bool save_rc;
	bool force_stanza;
	bool stanza_list;
	char stanza[128];
	char rc_file[PATH_MAX];
	bool no_rc_file;
	bool no_save_args;
	char args_file[PATH_MAX];
	bool last_cmd;
	bool show_last;
	bool version;
	bool help;
	/* Values given on the command line, by rc variable row, for
	 * --save-rc-stanza (heap strings; freed by spa_client_cfg_free). */
	char *saved[128];
};

void spa_client_cfg_init(struct spa_client_cfg *c);
/* Wipes keys and frees the saved strings. */
void spa_client_cfg_free(struct spa_client_cfg *c);

/*
 * Applies one option to the config. value is NULL for flags given on the
 * command line; rc booleans arrive as their text ("Y"/"N"). Errors print one
 * line to stderr (prefixed with where, e.g. "rc file line 3") and return a
 * negative code.
 */
int spa_client_apply(struct spa_client_cfg *c, const struct spa_opt_def *d,
		     const char *value, enum spa_opt_source src,
		     const char *where);
/* Records an rc variable for --save-rc-stanza (key-gen results). */
int spa_client_cfg_remember(struct spa_client_cfg *c, const char *rc_name,
			    const char *value);

/* A parsed command line: the rows and values in argv order. */
struct spa_cmdline_item {
	const struct spa_opt_def *def;
	const char *value;
};
struct spa_cmdline {
	struct spa_cmdline_item *items;
	size_t n;
};
/* Only checks option syntax; values are checked by spa_client_apply. */
int spa_cmdline_parse(int argc, char **argv, struct spa_cmdline *out);
void spa_cmdline_free(struct spa_cmdline *cl);
/* Applies every item; stops at the first error. */
int spa_cmdline_apply(const struct spa_cmdline *cl, struct spa_client_cfg *c);
/* First value of an option in the command line, or NULL. */
const struct spa_cmdline_item *spa_cmdline_find(const struct spa_cmdline *cl,
						enum spa_opt_id id);

/* "tcp/22,udp/53" -> normalised copy in out (lower-case protocols). */
int spa_client_parse_ports(const char *list, struct spa_port *ports,
			   size_t max, size_t *n, char *out, size_t out_cap);
int spa_client_parse_port(const char *s, uint16_t *port);

/* ---- rc file (spa_client_rc.c) ---- */
/* Default rc path from $HOME; fails without HOME. */
int spa_client_rc_default_path(char *out, size_t cap);
/* Creates the commented template (0600) if path does not exist. */
int spa_client_rc_create_template(const char *path);
/* Reads [default] then the named stanza (NULL: none) into c.
 * Fails if the file is group/other accessible, not ours, unreadable, or
 * if a named stanza is missing and require_stanza is set. */
int spa_client_rc_load(const char *path, const char *stanza,
		       bool require_stanza, struct spa_client_cfg *c);
/* Rewrites the file with stanza replaced by the command-line values in c. */
int spa_client_rc_save_stanza(const char *path, const char *stanza,
			      const struct spa_client_cfg *c);
/* Prints the stanza names in file order. */
int spa_client_rc_list(const char *path, FILE *out);

/* ---- saved arguments (spa_client_args.c) ---- */
int spa_client_args_default_path(char *out, size_t cap);
/* One line, fwknop's format, options carrying keys left out. cap must be
 * at least 4096. */
int spa_client_args_format(const struct spa_cmdline *cl, char *line,
			   size_t cap);
/* Writes that line to path with mode 0600. */
int spa_client_args_save(const char *path, const struct spa_cmdline *cl);
/* Reads the saved line and splits it on whitespace into a new argv whose
 * argv[0] is prog. Free with spa_client_args_free. */
int spa_client_args_load(const char *path, const char *prog, int *argc,
			 char ***argv);
void spa_client_args_free(int argc, char **argv);
int spa_client_args_show(const char *path, FILE *out);

/* ---- keys (spa_client_keys.c) ---- */
/* Resolves key material into raw bytes (prompting if needed). */
struct spa_client_keys {
	uint8_t enc[SPA_CLIENT_KEY_CAP];
	size_t enc_len;
	uint8_t hmac[SPA_CLIENT_KEY_CAP];
	size_t hmac_len;
	bool have_hmac;
	/* GnuPG mode: the signing key's passphrase, NUL-terminated */
	char gpg_pw[SPA_CLIENT_KEY_CAP];
	bool have_gpg_pw;
};
int spa_client_keys_get(const struct spa_client_cfg *c,
			struct spa_client_keys *k);
void spa_client_keys_wipe(struct spa_client_keys *k);
/* Looks up "<server>: key" style lines in a key file. */
int spa_client_key_file_lookup(const char *path, const char *server,
			       char *out, size_t cap);
/* --key-gen: writes the two lines to out. */
int spa_client_keygen(const struct spa_client_cfg *c, FILE *out,
		      char *key_b64, size_t key_cap,
		      char *hmac_b64, size_t hmac_cap);

/* ---- packet (spa_client_packet.c) ---- */
struct spa_client_packet {
	struct spa_message msg;
	struct spa_build_info info;
	char wire[SPA_WIRE_CAP];
	size_t wire_len;
	uint16_t dest_port;
};
int spa_client_build(const struct spa_client_cfg *c,
		     const struct spa_client_keys *keys,
		     struct spa_client_packet *p);
/* The GnuPG lines of the dump; r is NULL before decoding. */
struct spa_client_gpg_dump {
	const char *signer, *recipient, *home, *exe;
	const struct spa_gpg_result *r;
};
/* fwknop's "SPA Field Values" block; g NULL in Rijndael mode. */
void spa_client_dump(FILE *out, const struct spa_message *m,
		     const struct spa_build_info *info, int hmac_type,
		     int enc_mode, const struct spa_client_gpg_dump *g,
		     const char *final_data);
/* Fills GnuPG options from c; the passphrase callback reads keys. */
void spa_client_gpg_opts(const struct spa_client_cfg *c,
			 const struct spa_client_keys *keys,
			 struct spa_gpg_opts *o);
/* The dump's GnuPG lines as c describes them. */
void spa_client_gpg_dump_init(const struct spa_client_cfg *c,
			      struct spa_client_gpg_dump *g);
/* Re-opens the wire string with the same keys and dumps the result. */
int spa_client_dump_decoded(FILE *out, const struct spa_client_cfg *c,
			    const struct spa_client_keys *keys,
			    const struct spa_client_packet *p);

/* ---- transport (spa_client_send.c) ---- */
int spa_client_send(const struct spa_client_cfg *c,
		    const struct spa_client_packet *p, size_t *sent);
const char *spa_client_proto_name(int proto);
/* The HTTP mode request; returns its length or -1. */
int spa_client_http_request(const struct spa_client_cfg *c,
			    const struct spa_client_packet *p, char *out, size_t cap);

/* True for udpraw, tcpraw and icmp. */
bool spa_client_proto_is_raw(int proto);
/* -H value: [http://]host[:port][/] or [http://][v6]:port[/]; with the
 * http:// scheme any path is ignored, as fwknop does; port 0 when none
 * is given. */
int spa_client_parse_proxy(const char *v, char *host, size_t cap,
			   uint16_t *port);

/* ---- raw modes (spa_client_raw.c) ---- */
struct spa_client_raw_hdr {
	uint32_t src;               /* network byte order */
	uint32_t dst;
	uint16_t sport;             /* host byte order */
	uint16_t dport;
	uint16_t ip_id;
	uint32_t tcp_seq;
	uint16_t icmp_id;
	uint8_t icmp_type;
	uint8_t icmp_code;
};
/* Builds IPv4 + UDP/TCP SYN/ICMP header + payload with all checksums set.
 * Returns the packet length or a negative code. */
int spa_client_raw_build(int proto, const struct spa_client_raw_hdr *h,
			 const void *payload, size_t len, uint8_t *out,
			 size_t cap);
/* Internet checksum (RFC 1071) over buf, starting from a partial sum. */
uint16_t spa_client_inet_csum(const void *buf, size_t len, uint32_t sum);
int spa_client_send_raw(const struct spa_client_cfg *c,
			const struct spa_client_packet *p, size_t *sent);

/* ---- one invocation (spa_client_run.c); returns the exit status ---- */
int spa_client_main(int argc, char **argv);

/* ---- -R (spa_client_resolve.c) ---- */
/* Fetches the resolve URL and parses the address out of the reply. */
int spa_client_resolve_ip(const struct spa_client_cfg *c, char ip[16]);
/* A full HTTP reply: status 200, body starting with a dotted quad. */
int spa_client_parse_myip_reply(const char *reply, char ip[16]);
/* A bare body (wget -O - output): first line must be a dotted quad. */
int spa_client_parse_myip_body(const char *body, char ip[16]);
/* -w: runs wget (no shell, empty environment) and reads its output. */
int spa_client_resolve_wget(const struct spa_client_cfg *c, const char *url,
			    char ip[16]);

/* ---- help (spa_client_help.c) ---- */
void spa_client_usage(FILE *out);

#endif
