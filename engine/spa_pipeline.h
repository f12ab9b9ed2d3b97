/* SPDX-License-Identifier: MIT */
/* spa_pipeline.h - one datagram in, one decision out (docs/ARCHITECTURE.md, The engine). */
#ifndef SPA_PIPELINE_H
#define SPA_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spa_config.h"
#include "spa_hostaddr.h"
#include "spa_replay.h"
#include "spa_wire.h"

struct spa_pkt {
	const char *data;
	size_t len;
	int family;              /* of the source */
	uint8_t src_bin[16];
	char src[46];
	uint16_t sport;
	uint8_t dst_bin[16];     /* all zero when unknown */
	char dst[46];
	uint16_t dport;
	uint8_t proto;           /* 17 for the UDP server */
	int64_t now;
	/* X-Forwarded-For's last address (ENABLE_X_FORWARDED_FOR, spa_http.h):
	 * the allow IP of a 0.0.0.0 request in its place; family 0: none */
	int xff_family;
	uint8_t xff_bin[16];
	char xff[46];
};

/* SPA_DEFERRED: a GnuPG stanza's gpg run is needed (docs/GNUPG.md, "spad");
 * the decision waits in d->resume for spa_pipeline_gpg_resume.
 * SPA_COMMAND: a command message (type 0) the stanza accepts
 * (ENABLE_CMD_EXEC): d->msg.message is "allow IP,command". */
enum spa_verdict { SPA_REJECT = 0, SPA_GRANT = 1, SPA_DEFERRED = 2, SPA_COMMAND = 3 };

/* Where the stanza loop stopped for a gpg run, and what it had found. */
struct spa_pipeline_state {
	size_t gpg_stanza;                   /* the stanza the gpg run is for */
	bool gpg_vouched;                    /* its HMAC passed (and the digest is spent) */
	bool recorded;                       /* the wire digest is spent */
	const struct spa_stanza *kept;       /* first stanza that read it, then refused */
	bool kept_weak;                      /* ...or only where gpg failed for one */
	char kept_reason[192];
	char kept_user[64];
};

struct spa_decision {
	enum spa_verdict verdict;
	const struct spa_stanza *stanza;     /* deciding stanza, or NULL */
	bool authenticated;                  /* some stanza's key verified it */
	bool replayed;                       /* ...but its digest was spent */
	bool rate_limited;                   /* refused by MAX_KNOCKS_PER_MINUTE */
	bool spent;                          /* digest is this packet's, new here */
	char digest[44];                     /* replay digest (spa_replay.h) */
	char reason[192];
	struct spa_message msg;
	int allow_family;                    /* address the grant is for */
	uint8_t allow_bin[16];
	char allow[46];
	struct spa_port ports[SPA_MAX_PORTS];
	size_t n_ports;
	uint32_t timeout;
	/* the grant's NAT form (spa_nat.c; sdk spa/plugin.h SPA_NAT_*):
	 * nat_flags 0 is plain access. A NAT grant has one port, the first
	 * requested, as in fwknopd. */
	uint32_t nat_flags;
	int nat_family;                      /* 0: no target (FORWARD_ALL alone) */
	uint8_t nat_bin[16];
	char nat_addr[46];
	uint16_t nat_port;
	uint8_t snat_bin[4];                 /* SPA_NAT_SNAT */
	char snat_addr[16];
	/* ENABLE_NAT_DNS: the NAT field names this host, which the monitor
	 * resolves off the loop before acting (spa_daemon_natdns.c) */
	bool nat_resolve;
	char nat_host[72];
	/* a GnuPG stanza decided: what gpg said about the signature, and the
	 * plaintext's digest (spent with the wire digest, docs/GNUPG.md) */
	bool gpg;
	struct spa_gpg_result gpg_res;
	bool msg_spent;
	char msg_digest[44];
	struct spa_pipeline_state resume;    /* SPA_DEFERRED */
	/* another node's grant, mirrored here (spa_daemon_cluster.c): not
	 * a packet's decision, and never put in the store again */
	bool from_cluster;
};

/* What became of a gpg run (spa_gpgd.h), or why none was made. */
struct spa_gpg_outcome {
	int rc;                              /* spa_gpg_open's; < 0 also for not tried */
	const char *not_tried;               /* the reason when no gpg ran, else NULL */
	struct spa_message msg;              /* rc == 0 */
	struct spa_gpg_result res;           /* rc == 0 */
};

struct spa_pipeline_opts {
	bool test_mode;          /* -t: decide, record nothing */
	/* the host's addresses, re-read here when stale (spa_hostaddr.h);
	 * NULL: only the address classes are checked, not the interfaces */
	struct spa_hostaddrs *host;
};

/* d becomes a refusal by stanza s (NULL: none) for the reason fmt. */
void spa_pipeline_reject(struct spa_decision *d, const struct spa_stanza *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Never logs; the caller logs exactly one line per decision. For a packet
 * of the GnuPG size class and a stanza with GnuPG, the checks that need no
 * gpg run here (spa_gpg_precheck with the stanza's HMAC key; with an HMAC
 * the wire digest is spent at once, without one a digest already spent is
 * refused before any gpg run) and d->verdict comes back SPA_DEFERRED: the
 * caller runs gpg elsewhere, or decides not to (its budget), and calls
 * spa_pipeline_gpg_resume with the outcome. The packet's bytes must stay
 * valid (pkt->data) until the decision is final.
 */
void spa_pipeline_run(const struct spa_config *c, struct spa_replay *replay,
		      const struct spa_pkt *pkt, const struct spa_pipeline_opts *o,
		      struct spa_decision *d);

/*
 * Continues a SPA_DEFERRED decision with the gpg run's outcome for stanza
 * d->resume.gpg_stanza: rc == 0 is the stanza's authentication (digests
 * spent, the signature policy, MAX_KNOCKS, policy as for Rijndael); rc < 0
 * refuses it for that stanza and the loop goes on with the next, which
 * may defer again.
 */
void spa_pipeline_gpg_resume(const struct spa_config *c, struct spa_replay *replay,
			     const struct spa_pkt *pkt, const struct spa_pipeline_opts *o,
			     const struct spa_gpg_outcome *out, struct spa_decision *d);

/*
 * A GnuPG stanza's signature rules (GPG_REQUIRE_SIG, GPG_DISABLE_SIG,
 * GPG_IGNORE_SIG_VERIFY_ERROR, GPG_FINGERPRINT_ID, GPG_REMOTE_ID) applied
 * to what gpg said: 0, or -1 with the reason in why. The monitor applies
 * them again to what a decision record says.
 */
int spa_pipeline_gpg_sig_policy(const struct spa_stanza_gpg *g, const struct spa_gpg_result *r,
				char *why, size_t cap);

/*
 * The monitor's second opinion (spa_privsep.h): decides the message m,
 * which the packet process authenticated for stanza s, again, without the
 * packet's bytes: s must match pkt's source and destination, not be
 * expired, and its policy must grant m. Fills d as spa_pipeline_run would
 * (verdict, reason, allow IP, ports, timeout); no replay or rate check.
 * gpg is what the packet process says gpg reported (NULL: Rijndael): a
 * GnuPG stanza's grant must meet its signature rules with it, and a grant
 * by a key the stanza does not have is refused.
 */
void spa_pipeline_recheck(const struct spa_config *c, const struct spa_stanza *s,
			  const struct spa_pkt *pkt, const struct spa_message *m,
			  const struct spa_gpg_result *gpg, struct spa_hostaddrs *host,
			  struct spa_decision *d);

#endif
