/* SPDX-License-Identifier: MIT */
/* What the GnuPG modules share; GPGME's types stay out of spa_internal.h. */
#ifndef SPA_GPG_INTERNAL_H
#define SPA_GPG_INTERNAL_H

#include "spa_internal.h"
#include <gpgme.h>

#define SPA_GPG_PREFIX_LEN 2
/* Binary OpenPGP that still fits a wire string under SPA_MAX_WIRE_LEN. */
#define SPA_GPG_MAX_BIN (SPA_MAX_WIRE_LEN / 4 * 3 + 3)

/*
 * A bounded output buffer for GPGME: what gpg writes lands only in buf
 * (no reallocations leaving plaintext copies behind), and output past cap
 * (a compression bomb, a message that cannot be SPA) fails the operation.
 */
struct spa_gpg_sink {
	uint8_t *buf;
	size_t len;
	size_t cap;
	bool overflow;
};

/* A GPGME context for one call: OpenPGP, binary, offline, loopback
 * pinentry answered by o->passphrase, o's home dir and gpg. */
int spa_gpg_ctx_new(const struct spa_gpg_opts *o, gpgme_ctx_t *out);
/* A data object writing into s (s must outlive it). */
int spa_gpg_sink_data(struct spa_gpg_sink *s, gpgme_data_t *out);
/* GPGME error -> -SPA_E_*, for what every operation can meet. */
int spa_gpg_error(gpgme_error_t e);

#endif
