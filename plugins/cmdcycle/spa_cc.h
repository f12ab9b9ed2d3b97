/* SPDX-License-Identifier: MIT */
/*
 * spa_cc.h - the command cycle backend (CMD_CYCLE_* in docs/man/spad.8): per-stanza
 * CMD_CYCLE_OPEN / CMD_CYCLE_CLOSE commands run at open and at expiry.
 */
#ifndef SPA_CC_H
#define SPA_CC_H

#include <stddef.h>

#include <spa/plugin.h>

#define SPA_CC_CMD_MAX  256  /* fwknop's limit, before and after substitution */
#define SPA_CC_ARGV_MAX 32

/* Replaces $IP $SRC $PKT_SRC $DST $PORT $PROTO $TIMEOUT $CLIENT_TIMEOUT with
 * values of g; an unknown $X loses its '$'. -ENAMETOOLONG past the limit. */
int spa_cc_expand(const char *tmpl, const struct spa_grant *g, char *out, size_t cap);
/* Splits cmd in place on blanks into argv (NULL-terminated); argv[0] must
 * be an absolute path. Returns the count or a negative code. */
int spa_cc_split(char *cmd, const char *argv[], size_t cap);

#endif
