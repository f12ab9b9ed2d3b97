/* SPDX-License-Identifier: MIT */
/*
 * spa_gpgd.h - the GnuPG helper of the packet process (docs/SECURITY.md,
 * "The GnuPG helper"). The packet process cannot run gpg: its seccomp
 * allow-list forbids fork and exec, it is chrooted into an empty directory
 * and runs as an unprivileged user, while the server's keyring belongs to
 * root. So, before it enters its sandbox, it forks this helper: uid 0
 * (gpg-agent must run as the keyring's owner) but without any capability,
 * with NO_NEW_PRIVS, holding no descriptor but its end of a socket pair.
 * It runs spa_gpg_open for the packets the packet process sends it, up to
 * GPG_MAX_CONCURRENT at once (one thread each), and answers with what the
 * pipeline needs: the decoded message fields and gpg's verdict on the
 * signature. It dies with the packet process (PR_SET_PDEATHSIG), so a
 * reload or a crash replaces both together.
 *
 * Records are fixed-size, one per datagram on an AF_UNIX SOCK_SEQPACKET
 * pair, checked on receipt in both directions (sizes, magic, terminators,
 * alphabets): each side trusts the other no more than a packet.
 */
#ifndef SPA_GPGD_H
#define SPA_GPGD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spa_config.h"
#include "spa_privsep.h"

#define SPA_GPGD_MAGIC 0x53504731u     /* "SPG1": changes with the layout */

enum spa_gpgd_type {
	SPA_GPGD_REQ = 1,    /* packet process -> helper: open this wire text */
	SPA_GPGD_REP = 2,    /* helper -> packet process: what came of it */
};

struct spa_gpgd_req {
	uint32_t magic, type;
	uint64_t id;           /* the packet process's, echoed in the reply */
	uint64_t generation;   /* spa_config.generation it was decided under */
	int32_t stanza;        /* index into the stanzas; it must have GnuPG */
	uint32_t len;          /* of wire, < SPA_MAX_WIRE_LEN */
	char wire[SPA_MAX_WIRE_LEN];
};

struct spa_gpgd_rep {
	uint32_t magic, type;
	uint64_t id;
	uint64_t generation;
	int32_t stanza;
	int32_t rc;            /* spa_gpg_open's: 0 or -SPA_E_* */
	/* rc == 0: the message fields policy needs (spa_privsep.h's subset) */
	struct spa_ps_message msg;
	/* rc == 0: struct spa_gpg_result */
	int32_t sig, validity;
	char fingerprint[SPA_GPG_FPR_MAX + 1];
	char key_id[17];
	char msg_digest[44];
};

/* Fills a request; false when len does not fit. */
bool spa_gpgd_pack_req(uint64_t id, uint64_t generation, int32_t stanza, const char *wire,
		       size_t len, struct spa_gpgd_req *out);
/* Checks a received request of n bytes against c: 0, or -EBADMSG with why. */
int spa_gpgd_check_req(const struct spa_config *c, const void *buf, size_t n, char *why,
		       size_t cap);
/* Fills a reply from spa_gpg_open's outcome (m and r read only when rc == 0). */
void spa_gpgd_pack_rep(const struct spa_gpgd_req *q, int rc, const struct spa_message *m,
		       const struct spa_gpg_result *r, struct spa_gpgd_rep *out);
/*
 * Checks a received reply of n bytes: exact size, magic, an rc that is 0
 * or a library error, and for rc == 0 a valid username and printable
 * message, a signature state and validity in range, hex ids of the right
 * lengths and a 43-character base64 digest. Then fills m and r.
 * 0, or -EBADMSG with why.
 */
int spa_gpgd_check_rep(const void *buf, size_t n, struct spa_message *m,
		       struct spa_gpg_result *r, char *why, size_t cap);

/*
 * In the packet process, before its sandbox, when some stanza has GnuPG:
 * forks the helper for configuration c. *fd is the packet process's end
 * of the pair, *pid the helper. The helper keeps no other descriptor but
 * stdin/out/err, frees the Rijndael key sets, drops every capability and
 * sets NO_NEW_PRIVS. 0 or -errno.
 */
int spa_gpgd_start(struct spa_config *c, int *fd, pid_t *pid);

/* The helper's threads: what spa_gpgd_start runs in the child (exposed so
 * a test can run it in a process of its own). Returns when fd closes. */
int spa_gpgd_serve(const struct spa_config *c, int fd, unsigned threads);

/* Whether any stanza of c has GnuPG enabled. */
bool spa_gpgd_wanted(const struct spa_config *c);

#endif
