/* SPDX-License-Identifier: MIT */
/*
 * spa_wire.h - the fwknop 2.6.x compatible SPA wire format.
 *
 * Shared by spad (engine) and spa-client. All functions return 0 or a
 * negative SPA_E_* code; spa_strerror() names the problem. Nothing here
 * logs, exits or keeps global state beyond OpenSSL's.
 */
#ifndef SPA_WIRE_H
#define SPA_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------ */
enum spa_error {
	SPA_OK = 0,
	SPA_E_NOMEM = 1,
	SPA_E_ARG,              /* invalid argument (NULL, out of range) */
	SPA_E_TOO_SHORT,        /* packet/field shorter than allowed */
	SPA_E_TOO_LONG,         /* packet/field longer than allowed */
	SPA_E_CHARSET,          /* byte outside the allowed alphabet */
	SPA_E_PREFIX,           /* forbidden prefix (U2FsdGVkX1 / hQ replay trick) */
	SPA_E_BASE64,           /* malformed base64 */
	SPA_E_HMAC,             /* HMAC mismatch */
	SPA_E_CIPHERLEN,        /* ciphertext not a multiple of the block size */
	SPA_E_DECRYPT,          /* wrong key / garbage plaintext (rand-value check) */
	SPA_E_PLAINTEXT,        /* decrypted text not printable or bad length */
	SPA_E_FIELDS,           /* wrong number of fields */
	SPA_E_RAND,             /* bad random value field */
	SPA_E_USERNAME,         /* bad username */
	SPA_E_TIMESTAMP,        /* bad timestamp */
	SPA_E_VERSION,          /* bad version */
	SPA_E_MSGTYPE,          /* bad message type */
	SPA_E_MESSAGE,          /* bad access request / command message */
	SPA_E_NAT,              /* bad NAT access field */
	SPA_E_SERVER_AUTH,      /* bad server auth field */
	SPA_E_TIMEOUT,          /* bad or missing client timeout */
	SPA_E_DIGEST,           /* embedded digest mismatch or bad length */
	SPA_E_DIGEST_TYPE,      /* unknown digest type */
	SPA_E_HMAC_TYPE,        /* unknown HMAC type */
	SPA_E_MODE,             /* unknown/unsupported encryption mode */
	SPA_E_KEY,              /* bad key (length, base64, equal keys) */
	SPA_E_ENCTYPE,          /* not a Rijndael packet (GnuPG size class) */
	SPA_E_CRYPTO,           /* OpenSSL failure */
	SPA_E_RANDOM,           /* no secure random bytes */
	SPA_E_UNSUPPORTED,      /* recognised but not supported */
	/* GnuPG mode (docs/GNUPG.md) */
	SPA_E_GPG,              /* GPGME/gpg failure (engine missing, I/O) */
	SPA_E_GPG_KEY,          /* recipient/signer key missing, ambiguous or unusable */
	SPA_E_GPG_KEYTYPE,      /* recipient key cannot give fwknop's "hQ" wire form */
	SPA_E_GPG_PASSPHRASE,   /* passphrase missing or wrong */
	SPA_E_GPG_NOSECKEY,     /* no secret key for the packet's recipient */
	SPA_E_GPG_BADDATA,      /* not a well-formed, intact OpenPGP message */
	SPA_E_GPG_NOSIG,        /* the packet is not signed */
	SPA_E_GPG_BADSIG,       /* the signature does not verify */
	SPA_E_GPG_NOPUBKEY,     /* the signer's public key is not in the keyring */
	SPA_E_GPG_EXPIRED,      /* signing key (or signature) expired */
	SPA_E_GPG_REVOKED,      /* signing key revoked */
	SPA_E_GPG_UNTRUSTED,    /* good signature, key validity below marginal */
	SPA_E__COUNT
};

/* Message for a code given as either sign; never NULL. */
const char *spa_strerror(int err);

/* ---- constants (fwknop 2.6's, docs/ARCHITECTURE.md) --------------------------------- */
#define SPA_DEFAULT_PORT        62201
#define SPA_RAND_LEN            16
#define SPA_PROTOCOL_VERSION    "3.0.0"
#define SPA_MIN_WIRE_LEN        140   /* fwknopd's MIN_SPA_DATA_SIZE */
#define SPA_MAX_WIRE_LEN        1500  /* exclusive upper bound */
#define SPA_GPG_MIN_LEN         400   /* >= this: GnuPG size class */
#define SPA_MIN_ENCODED_LEN     36
#define SPA_RIJNDAEL_PREFIX     "U2FsdGVkX1"
#define SPA_GPG_PREFIX          "hQ"
#define SPA_MAX_KEY_LEN         32    /* Rijndael passphrase bytes */
#define SPA_MAX_HMAC_KEY_LEN    128
#define SPA_MAX_USERNAME_LEN    48    /* decoded bytes the decoder accepts */
#define SPA_MAX_FIELD_LEN       256   /* base64 message/NAT/auth field */
#define SPA_MAX_CLIENT_TIMEOUT  65536
#define SPA_MAX_MSG_LEN         256   /* decoded message text (exclusive) */
#define SPA_MAX_NAT_LEN         128   /* decoded NAT text (exclusive) */
#define SPA_MAX_AUTH_LEN        64    /* decoded server auth (exclusive) */
#define SPA_MAX_PACKET_AGE_DEFAULT 120

/* ---- algorithms --------------------------------------------------------- */
/* Values are fwknop's enum values (they show in -v output). */
enum spa_digest_type {
	SPA_DIGEST_NONE = 0,
	SPA_DIGEST_MD5 = 1,
	SPA_DIGEST_SHA1 = 2,
	SPA_DIGEST_SHA256 = 3,
	SPA_DIGEST_SHA384 = 4,
	SPA_DIGEST_SHA512 = 5,
	SPA_DIGEST_SHA3_256 = 6,
	SPA_DIGEST_SHA3_512 = 7,
};
#define SPA_DIGEST_MAX SPA_DIGEST_SHA3_512

/* HMAC types use the same numbering and names as the digest types. */
#define SPA_HMAC_NONE SPA_DIGEST_NONE

enum spa_enc_mode {
	SPA_MODE_UNKNOWN = 0,
	SPA_MODE_ECB = 1,
	SPA_MODE_CBC = 2,
	SPA_MODE_CFB = 3,
	SPA_MODE_PCBC = 4,      /* refused: fwknop never implemented it */
	SPA_MODE_OFB = 5,
	SPA_MODE_CTR = 6,
	SPA_MODE_ASYMMETRIC = 7,/* GnuPG */
	SPA_MODE_CBC_LEGACY_IV = 8,
};

enum spa_msg_type {
	SPA_MSG_COMMAND = 0,
	SPA_MSG_ACCESS = 1,
	SPA_MSG_NAT_ACCESS = 2,
	SPA_MSG_CLIENT_TIMEOUT_ACCESS = 3,
	SPA_MSG_CLIENT_TIMEOUT_NAT_ACCESS = 4,
	SPA_MSG_LOCAL_NAT_ACCESS = 5,
	SPA_MSG_CLIENT_TIMEOUT_LOCAL_NAT_ACCESS = 6,
};
#define SPA_MSG_TYPE_MAX 6

/* Name <-> id. Names are fwknop's, matched case-insensitively:
 * digest/hmac "md5" "sha1" "sha256" "sha384" "sha512" "sha3_256" "sha3_512";
 * modes "ECB" "CBC" "CFB" "OFB" "CTR" "legacy" "Asymmetric" (PCBC refused). */
int spa_digest_from_name(const char *name);   /* id > 0 or negative error */
const char *spa_digest_name(int type);        /* "sha256"; "unknown" */
const char *spa_digest_label(int type);       /* "SHA256", as fwknop -v prints */
size_t spa_digest_b64_len(int type);          /* 43 for sha256; 0 if unknown */
size_t spa_digest_raw_len(int type);          /* 32 for sha256; 0 if unknown */
int spa_mode_from_name(const char *name);
const char *spa_mode_name(int mode);          /* "CBC", "legacy", ... */
const char *spa_msg_type_name(int type);      /* "Access msg", ... */

/* ---- base64 (fwknop rules) ---------------------------------------------- */
/* Standard alphabet; output has its '=' padding stripped and is NUL-terminated.
 * out must hold spa_b64_encoded_len(len) + 1 bytes. Returns the length. */
size_t spa_b64_encoded_len(size_t len);
size_t spa_b64_encode(const uint8_t *in, size_t len, char *out);
/* Like the above but keeps '=' padding (key-gen output); out must hold
 * 4 * ceil(len / 3) + 1 bytes. */
size_t spa_b64_encode_padded(const uint8_t *in, size_t len, char *out);
/* Decodes up to the first '=' or the end; any other byte outside the alphabet
 * is SPA_E_BASE64. Leftover bits are ignored. out_cap bytes available.
 * On success *out_len is set. */
int spa_b64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap,
		   size_t *out_len);

/* ---- the message model -------------------------------------------------- */
struct spa_message {
	char rand_val[SPA_RAND_LEN + 1];
	char username[64];           /* decoded, NUL-terminated */
	uint64_t timestamp;
	char version[9];
	int type;                    /* enum spa_msg_type */
	char message[SPA_MAX_FIELD_LEN];      /* "ip,tcp/22" or "ip,command" */
	char nat_access[SPA_MAX_FIELD_LEN];   /* "" when absent */
	char server_auth[SPA_MAX_FIELD_LEN];  /* "" when absent */
	uint32_t client_timeout;     /* 0 when absent */
	int digest_type;             /* embedded digest used / found */
};

/* Fills rand_val (CSPRNG), version "3.0.0", digest sha256, type access. */
int spa_message_init(struct spa_message *m);

/* Field validators (also applied by encode and decode). */
int spa_validate_username(const char *user);
int spa_validate_access_msg(const char *msg);   /* ip,proto/port[,...] */
int spa_validate_command_msg(const char *msg);  /* ip,command */
int spa_validate_nat_access(const char *nat);   /* host,port */
int spa_validate_ipv4(const char *ip);          /* strict dotted quad */

/* A requested proto/port pair. */
struct spa_port {
	uint8_t proto;   /* 6 tcp, 17 udp */
	uint16_t port;
};
#define SPA_MAX_PORTS 32
/* Splits "ip,tcp/22,udp/53" into the allow IP and the port list. */
int spa_access_parse(const char *msg, char ip[16], struct spa_port *ports,
		     size_t max_ports, size_t *n_ports);

/*
 * Encodes the plaintext P = E ":" D into out (cap bytes incl. NUL).
 * The effective type is promoted/demoted by client_timeout as fwknop does
 * (1->3, 2->4, 5->6 when > 0; back when 0); m->type is updated.
 */
int spa_message_encode(struct spa_message *m, char *out, size_t cap,
		       size_t *out_len);

/* Parses and checks a decrypted plaintext P (len bytes, not necessarily
 * NUL-terminated). Verifies the embedded digest. */
int spa_message_decode(const char *p, size_t len, struct spa_message *m);

/* ---- keys --------------------------------------------------------------- */
/*
 * A prepared key set for one stanza or one client invocation. Key schedules
 * and HMAC states are set up once at spa_keys_new(); verifying a packet then
 * costs one HMAC and no setup. Secret bytes are wiped on spa_keys_free().
 */
struct spa_keys;

struct spa_key_spec {
	const uint8_t *enc_key;   /* Rijndael passphrase bytes, 0..32 */
	size_t enc_key_len;
	const uint8_t *hmac_key;  /* NULL: no HMAC layer */
	size_t hmac_key_len;      /* 1..128 */
	int hmac_type;            /* SPA_DIGEST_* (default sha256 when 0) */
	int enc_mode;             /* SPA_MODE_* (default CBC when 0); */
	/* SPA_MODE_ASYMMETRIC: an HMAC-only key set for spa_gpg_*, no
	 * enc_key; spa_packet_build/open refuse it with -SPA_E_MODE. */
};

int spa_keys_new(const struct spa_key_spec *spec, struct spa_keys **out);
void spa_keys_free(struct spa_keys *k);
int spa_keys_hmac_type(const struct spa_keys *k);  /* SPA_HMAC_NONE if none */
int spa_keys_enc_mode(const struct spa_keys *k);

/* Decodes a base64 key (fwknop's KEY_BASE64 / HMAC_KEY_BASE64 rules) into
 * out (cap bytes). */
int spa_key_from_base64(const char *b64, uint8_t *out, size_t cap,
			size_t *out_len);
/* Secure random bytes. */
int spa_random_bytes(uint8_t *buf, size_t len);
/* fwknop --key-gen: key_len 1..32 (default 32 when 0), hmac_key_len 1..128
 * (0: default for hmac_type: md5 16, sha1 20, sha256 64, sha384/512 128,
 * sha3_256 136->refused by fwknop, we use the block size: 136/72 capped
 * at 128). Outputs padded base64 strings (NUL-terminated). */
int spa_keygen(size_t key_len, size_t hmac_key_len, int hmac_type,
	       char *key_b64, size_t key_cap, char *hmac_b64, size_t hmac_cap);
/* Wipes memory the compiler cannot optimise away. */
void spa_wipe(void *p, size_t len);

/* ---- packets ------------------------------------------------------------ */
#define SPA_WIRE_CAP 1536   /* enough for any wire string incl. NUL */

/*
 * Builds the wire string for message m with keys k: encode, encrypt with a
 * random salt, MAC, strip the prefix. out must hold SPA_WIRE_CAP bytes.
 * salt may be NULL (random) or 8 bytes (known-answer tests).
 */
int spa_packet_build(struct spa_message *m, const struct spa_keys *k,
		     const uint8_t *salt, char *out, size_t cap,
		     size_t *out_len);

/* Variant that also returns the intermediate pieces for -v dumps:
 * encoded E, digest D (b64), HMAC (b64, "" if none). Any may be NULL. */
struct spa_build_info {
	char encoded[1024];
	char digest[128];
	char hmac[128];
};
int spa_packet_build_ex(struct spa_message *m, const struct spa_keys *k,
			const uint8_t *salt, char *out, size_t cap,
			size_t *out_len, struct spa_build_info *info);

/*
 * Cheap checks before any crypto, as fwknopd does them: length
 * 140..1499, alphabet [A-Za-z0-9+/=], no U2FsdGVkX1 prefix, no hQ prefix on
 * long data. 0 = worth trying keys.
 */
int spa_packet_prefilter(const char *data, size_t len);

/*
 * Authenticates (HMAC first, constant time), decrypts and decodes one
 * wire string with one key set. On success *m holds the message.
 * Distinguishes SPA_E_HMAC (MAC mismatch: try the next stanza) from
 * decode errors after a good MAC.
 *
 * Padding is strict (1..16 bytes of PKCS#7, as every fwknop client since
 * 2.5 writes it) with one exception, "unpadded legacy packets": pre-2.5
 * clients in legacy IV mode (SPA_MODE_CBC_LEGACY_IV) sent a plaintext that
 * ends exactly on a block boundary with no padding block, and fwknopd
 * takes them because libfko keeps the plaintext whole when the padding
 * does not verify. In legacy mode only, when the padding does not verify,
 * the whole decrypted body is decoded instead, and the packet is accepted
 * only if that body is a complete SPA message whose embedded digest
 * verifies (the HMAC, if the key set has one, was verified before). Any
 * failure on that path is SPA_E_DECRYPT. No ambiguity is possible: a
 * message is printable text and valid padding never is.
 */
int spa_packet_open(const char *data, size_t len, const struct spa_keys *k,
		    struct spa_message *m);
/*
 * The same without the Rijndael/GnuPG size split: a wire string of the
 * GnuPG size class is read with k as well. fwknopd does this for a stanza
 * with ENABLE_CMD_EXEC Y, so that a command message too long for the
 * split still works there; nothing else should.
 */
int spa_packet_open_any_size(const char *data, size_t len, const struct spa_keys *k,
			     struct spa_message *m);

/*
 * Which decoder a received wire string belongs to, by length alone as
 * fwknopd decides (there is no other marker): SPA_ENC_RIJNDAEL for
 * 36..399 characters, SPA_ENC_GPG for 400..1499; -SPA_E_TOO_SHORT or
 * -SPA_E_TOO_LONG outside. docs/GNUPG.md has the whole rule.
 */
enum spa_enc_type {
	SPA_ENC_RIJNDAEL = 1,   /* fwknop's "Encryption Type: 1" */
	SPA_ENC_GPG = 2,
};
int spa_packet_enc_type(const char *data, size_t len);

/* Replay digest as fwknopd computes it: b64(SHA-256(raw wire text)),
 * stripped. out must hold 44 bytes. */
int spa_replay_digest(const char *data, size_t len, char out[44]);

/* ---- GnuPG mode (docs/GNUPG.md) ---------------------------------------- */
/*
 * WIRE = b64(OpenPGP(P))[2:] || b64(HMAC("hQ" || wire ciphertext)), where
 * OpenPGP(P) is the binary message gpg makes when encrypting P to one
 * recipient (and signing it when a signer is given). Everything runs
 * gpg through GPGME, one GPGME context per call (nothing is shared between
 * calls, so calls in different threads are independent); gpg is executed
 * directly, never through a shell.
 */

/*
 * Gives the passphrase of the key gpg names in key_hint ("<long key id>
 * <user id>"): copy it NUL-terminated into buf (cap bytes) and return 0,
 * or return a negative value to refuse. retry is true when the previous
 * answer was wrong. Called in the calling thread, during the call.
 */
typedef int (*spa_gpg_passphrase_fn)(void *arg, const char *key_hint,
				     bool retry, char *buf, size_t cap);

/* Per-call settings; plain data, nothing is kept after the call. */
struct spa_gpg_opts {
	const char *home_dir;   /* NULL: gpg's own default ($GNUPGHOME, ~/.gnupg) */
	const char *gpg_exe;    /* NULL: GPGME's default gpg */
	/* NULL: keys must need no passphrase. Pinentry is loopback:
	 * gpg-agent never prompts on a terminal or a display... */
	spa_gpg_passphrase_fn passphrase;
	void *passphrase_arg;
	/* ...unless this is set (spa-client --gpg-agent): then passphrase is
	 * not used and gpg-agent answers from its cache or its own pinentry
	 * (a smartcard PIN, a desktop prompt). Never for a daemon. */
	bool agent_pinentry;
};

/* Sets GPGME up once (also done on first use); call it early in a
 * program that has threads. -SPA_E_GPG if GPGME is unusable. */
int spa_gpg_init(void);

/*
 * Builds a GnuPG wire string for m: encode, encrypt to recipient (trusted
 * as given, as fwknop's client does), signed by signer unless NULL, MAC
 * with hmac's HMAC layer unless hmac is NULL or has none. recipient and
 * signer are anything gpg resolves to exactly one key; a full fingerprint
 * is the safe form. out must hold SPA_WIRE_CAP bytes; info may be NULL.
 */
int spa_gpg_build(const struct spa_gpg_opts *o, const char *recipient,
		  const char *signer, struct spa_message *m,
		  const struct spa_keys *hmac, char *out, size_t cap,
		  size_t *out_len, struct spa_build_info *info);

enum spa_gpg_sig_state {
	SPA_GPG_SIG_NONE = 0,   /* not signed */
	SPA_GPG_SIG_GOOD,       /* verifies with a usable key */
	SPA_GPG_SIG_BAD,        /* does not verify (or several signatures) */
	SPA_GPG_SIG_NOPUBKEY,   /* signer unknown to the keyring */
	SPA_GPG_SIG_EXPIRED,    /* signer's key or the signature expired */
	SPA_GPG_SIG_REVOKED,    /* signer's key revoked */
};

/* gpg's key validity for the signer, in GPGME's (and fwknop's) numbering. */
enum spa_gpg_validity {
	SPA_GPG_VALIDITY_UNKNOWN = 0,
	SPA_GPG_VALIDITY_UNDEFINED = 1,
	SPA_GPG_VALIDITY_NEVER = 2,
	SPA_GPG_VALIDITY_MARGINAL = 3,
	SPA_GPG_VALIDITY_FULL = 4,
	SPA_GPG_VALIDITY_ULTIMATE = 5,
};

#define SPA_GPG_FPR_MAX 64      /* hex digits of a v5 fingerprint */
struct spa_gpg_result {
	int sig;                /* enum spa_gpg_sig_state */
	int validity;           /* enum spa_gpg_validity */
	/* The signing (sub)key as gpg reports it, upper-case hex; "" when
	 * unsigned. fingerprint is "" when gpg gave only a key id (signer
	 * not in the keyring). short_id is what fwknop's GPG_REMOTE_ID
	 * compares; it can be forged (docs/GNUPG.md). */
	char fingerprint[SPA_GPG_FPR_MAX + 1];
	char key_id[17];
	char short_id[9];
	/* b64(SHA-256(decrypted P)): the same OpenPGP message can be spelled
	 * several ways (packet length encodings), so without an HMAC the
	 * replay digest of the wire text alone does not identify a packet;
	 * a receiver records this one as well (docs/GNUPG.md). */
	char msg_digest[44];
};

/*
 * The part of spa_gpg_open that runs no gpg: length, the HMAC when hmac
 * has an HMAC layer (constant time), the size class, canonical base64 and
 * the OpenPGP framing. 0 when the packet is worth a gpg run, else the
 * error spa_gpg_open would return for it (-SPA_E_HMAC, -SPA_E_ENCTYPE,
 * -SPA_E_BASE64, -SPA_E_GPG_BADDATA...). A caller that must not block
 * (spad's packet loop) runs this first and hands only what passes to a
 * process that may wait for gpg.
 */
int spa_gpg_precheck(const char *data, size_t len, const struct spa_keys *hmac);

/*
 * Opens a GnuPG wire string: HMAC first when hmac has an HMAC layer
 * (constant time, over "hQ" || ciphertext text: a packet that fails it
 * never reaches gpg), then the size class, canonical base64, the OpenPGP
 * framing (session key packets, one encrypted packet, nothing after),
 * decrypt+verify, and the normal message decoder.
 * Returns 0 when the packet decrypted and decoded, whatever its signature:
 * r tells about the signature and spa_gpg_sig_error() turns it into an
 * error, so requiring a signature is the caller's decision. The
 * decrypted plaintext is wiped before returning.
 */
int spa_gpg_open(const struct spa_gpg_opts *o, const char *data, size_t len,
		 const struct spa_keys *hmac, struct spa_message *m,
		 struct spa_gpg_result *r);

/* 0 for a good signature by a key of at least marginal validity (what
 * fwknopd accepts), else -SPA_E_GPG_NOSIG, _BADSIG, _NOPUBKEY, _EXPIRED,
 * _REVOKED or _UNTRUSTED. */
int spa_gpg_sig_error(const struct spa_gpg_result *r);

#ifdef __cplusplus
}
#endif
#endif
