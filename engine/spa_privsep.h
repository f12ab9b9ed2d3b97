/* SPDX-License-Identifier: MIT */
/*
 * spa_privsep.h - what crosses from the packet process (unprivileged,
 * sandboxed: it parses every byte an attacker sends) to the privileged
 * monitor (grants, journal, replay cache, plugins). docs/SECURITY.md
 * explains the split.
 *
 * Messages are fixed-size records on an AF_UNIX SOCK_SEQPACKET pair, one
 * record per datagram. Both ends are the same binary (the packet process is
 * forked, never exec'd), so the layout is this header's; the monitor still
 * trusts nothing in a record: spa_privsep_decode checks its size, every
 * enum, that every string is terminated and of the allowed alphabet, and
 * spa_privsep_recheck decides a grant again against the monitor's own copy
 * of the policy. Nothing in a record is packet bytes: the monitor never
 * sees the wire text, only what the packet process decoded from it.
 */
#ifndef SPA_PRIVSEP_H
#define SPA_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spa_config.h"
#include "spa_hostaddr.h"
#include "spa_pipeline.h"

#define SPA_PS_MAGIC 0x53505333u    /* "SPS3": changes with the layout */

enum spa_ps_type {
	SPA_PS_DECISION = 1,   /* packet process -> monitor: one packet's outcome */
	SPA_PS_LOG = 2,        /* packet process -> monitor: a log line */
	SPA_PS_DONE = 3,       /* packet process -> monitor: exiting on purpose
				* (-C reached, end of --pcap-file) */
	SPA_PS_STOP = 4,       /* monitor -> packet process: finish and exit */
	SPA_PS_READY = 5,      /* packet process -> monitor: sandboxed, reading */
	SPA_PS_VERDICT = 6,    /* packet process -> monitor: NFQUEUE packets read,
				* for the monitor's verdict (spa_nfq.h) */
	SPA_PS_COMMAND = 7,    /* packet process -> monitor: an authenticated command
				* message a stanza accepts (ENABLE_CMD_EXEC); the
				* layout of a DECISION, verdict SPA_COMMAND */
};

struct spa_ps_header {
	uint32_t magic;
	uint32_t type;
	/* the configuration the sender decided under (spa_config.generation):
	 * a record from before a reload is not decided under the new one */
	uint64_t generation;
};

/* Fields of the decoded SPA message that policy needs, nothing else (no
 * random value, no digest, no server_auth). */
struct spa_ps_message {
	char username[64];
	uint64_t timestamp;
	int32_t type;
	char message[SPA_MAX_FIELD_LEN];
	char nat_access[SPA_MAX_FIELD_LEN];  /* types 2, 4, 5, 6: "host,port" */
	uint32_t client_timeout;
};

struct spa_ps_decision {
	struct spa_ps_header h;
	/* the packet: addresses and ports, never its bytes */
	int32_t family;
	uint8_t src_bin[16];
	uint8_t dst_bin[16];
	int32_t xff_family;       /* X-Forwarded-For's address (spa_pkt), 0: none */
	uint8_t xff_bin[16];
	uint16_t sport, dport;
	uint8_t proto;
	uint8_t verdict;          /* enum spa_verdict */
	uint8_t authenticated, replayed, rate_limited;
	uint8_t spent;            /* digest holds the packet's replay digest */
	int64_t now;
	int32_t stanza;           /* index into the config's stanzas, -1: none */
	char reason[192];
	struct spa_ps_message msg;
	char digest[44];
	uint32_t n_ports;
	struct { uint8_t proto; uint16_t port; } ports[SPA_MAX_PORTS];
	/* log lines for unauthenticated packets the packet process did not
	 * send since the last record (its budget, spa_log.h) */
	uint32_t unlogged;
	/* GnuPG (docs/GNUPG.md): gpg read the packet for the deciding stanza.
	 * The monitor applies the stanza's signature rules to these again and
	 * records msg_digest, the plaintext's, beside the wire digest. */
	uint8_t gpg;
	uint8_t msg_spent;
	char msg_digest[44];
	int32_t gpg_sig;          /* enum spa_gpg_sig_state */
	int32_t gpg_validity;     /* enum spa_gpg_validity */
	char gpg_fpr[SPA_GPG_FPR_MAX + 1];
	char gpg_key_id[17];
};

#define SPA_PS_LOG_TEXT 1024

struct spa_ps_log {
	struct spa_ps_header h;
	int32_t level;
	char text[SPA_PS_LOG_TEXT];
};

/* The largest record: the receive buffer, one byte more to see oversize. */
/* Every packet of the queue up to id gets verdict (SPA_NFQ_DROP or
 * SPA_NFQ_ACCEPT): the kernel takes verdicts only from a sender with
 * CAP_NET_ADMIN, which the packet process never has. */
struct spa_ps_verdict {
	struct spa_ps_header h;
	uint32_t id;
	uint32_t verdict;
};

#define SPA_PS_MAX_RECORD                                                      \
	(sizeof(struct spa_ps_decision) > sizeof(struct spa_ps_log) ?             \
		 sizeof(struct spa_ps_decision) : sizeof(struct spa_ps_log))

/* Writes why (printf-style) and returns -EBADMSG: a refused record. */
int spa_privsep_bad(char *why, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fills a record for the decision d on pkt, made under config c: a
 * COMMAND record for a SPA_COMMAND verdict, else a DECISION. */
void spa_privsep_pack_decision(const struct spa_config *c, const struct spa_pkt *pkt,
			       const struct spa_decision *d, uint32_t unlogged,
			       struct spa_ps_decision *out);

/*
 * Checks a received record of len bytes: exact size for its type, magic,
 * enums, terminated strings of the allowed characters (a username as the
 * wire library validates it, an access request likewise; a reason or log
 * line printable ASCII). Returns its type (> 0), or -EBADMSG with why.
 */
int spa_privsep_decode(const void *buf, size_t len, char *why, size_t cap);

/*
 * The monitor's decision for a checked DECISION record made under the
 * current config c: rebuilds the packet's addresses (pkt->data is NULL)
 * and, for a grant, decides again with spa_pipeline_recheck (the stanza
 * must match the source and destination, allow these ports for this user,
 * and so on) using host for the allow IP checks. A grant the policy does
 * not allow comes back as a reject whose reason starts with "refused by
 * the monitor". -ESTALE for a record of another generation (the caller
 * drops it), -EBADMSG for a stanza index out of range.
 */
int spa_privsep_recheck(const struct spa_config *c, struct spa_hostaddrs *host,
			const struct spa_ps_decision *m, struct spa_pkt *pkt,
			struct spa_decision *d);

#endif
