/* SPDX-License-Identifier: MIT */
/*
 * Throwaway GnuPG homes for the GnuPG tests: keys made by the real gpg in
 * a private temporary directory, loopback pinentry, no agent prompt, no
 * network; everything (agents included) is removed by gh_teardown.
 */
#ifndef GPG_HOME_H
#define GPG_HOME_H

#include <stdbool.h>
#include <stddef.h>

#define GH_SERVER_PW "server-pw"
#define GH_CLIENT_PW "client-pw"

struct gpg_env {
	char root[64];
	const char *server_pw;   /* GH_SERVER_PW or "" */
	char server[96];     /* the receiver: its secret key, the clients' public keys */
	char client[96];     /* the sender: client keys, server's public key */
	char other[96];      /* a recipient whose secret key the server lacks */
	char gpg[256];
	char gpgconf[256];
	/* full fingerprints */
	char server_fpr[65];     /* RSA-2048 sign+encrypt, passphrase server_pw */
	char other_fpr[65];      /* RSA-2048, public key known to the client */
	char client_fpr[65];     /* ed25519, no passphrase, certified by the server */
	char client_pw_fpr[65];  /* ed25519, GH_CLIENT_PW, not certified */
	char expiring_fpr[65];   /* ed25519, certified; gh_expire() expires it */
	char revoked_fpr[65];    /* ed25519, certified; gh_revoke() revokes it */
	char stranger_fpr[65];   /* ed25519, unknown to the server */
	char ecc_fpr[65];        /* ed25519 + cv25519: no "hQ" wire form */
};

/* 0 ready; 77 gpg missing (a SKIP line was printed); -1 failure.
 * server_pw false: the server key has no passphrase (libfko, which
 * cannot answer gpg-agent in loopback mode, needs that). */
int gh_setup(struct gpg_env *e, const char *gpg, bool server_pw);
void gh_teardown(struct gpg_env *e);
/* Sets fpr's expiry to now + 1 s in the client home, waits it out and
 * gives the server the updated public key. */
int gh_expire(const struct gpg_env *e, const char *fpr);
/* Imports fpr's revocation certificate (made at key generation) into the
 * server home. */
int gh_revoke(const struct gpg_env *e, const char *fpr);

#endif
