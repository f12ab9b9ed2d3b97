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
/* EXTERNAL_CMD_*: the expanded arguments, NULs included (a $SOURCE list
 * can be long; fwknop set no limit for a feature it never built) */
#define SPA_CC_EXT_MAX 2048

/* Replaces $IP $SRC $PKT_SRC $DST $PORT $PROTO $TIMEOUT $CLIENT_TIMEOUT with
 * values of g; an unknown $X loses its '$'. -ENAMETOOLONG past the limit. */
int spa_cc_expand(const char *tmpl, const struct spa_grant *g, char *out, size_t cap);
/* Splits cmd in place on blanks into argv (NULL-terminated); argv[0] must
 * be an absolute path. Returns the count or a negative code. */
int spa_cc_split(char *cmd, const char *argv[], size_t cap);
/* EXTERNAL_CMD_* as spad's config hands them over (CMD_CYCLE_EXT_OPEN,
 * CMD_CYCLE_EXT_CLOSE): words separated by blanks, '\' makes the next
 * byte literal, ${SRC} ${PORT} ${PROTO} are g's address, port and
 * protocol name. Each word becomes one argument in buf (cap bytes) and
 * argv (argv_cap entries, NULL-terminated); a value is never split.
 * Returns the count; -ENAMETOOLONG or -E2BIG past a limit, -EINVAL for
 * a form spad does not write or a program that is not an absolute path. */
int spa_cc_ext_argv(const char *tmpl, const struct spa_grant *g, char *buf, size_t cap,
		    const char *argv[], size_t argv_cap);

#endif
