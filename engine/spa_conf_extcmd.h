/* SPDX-License-Identifier: MIT */
/*
 * spa_conf_extcmd.h - EXTERNAL_CMD_* (docs/man/spad.8, EXTERNAL COMMANDS):
 * fwknopd.conf documents them as a feature fwknopd never built; spad runs
 * them through the command cycle. Shared by the config parser's files only.
 */
#ifndef SPA_CONF_EXTCMD_H
#define SPA_CONF_EXTCMD_H

#include <stdbool.h>
#include <stddef.h>

#include "spa_config.h"

/* The stanza variables the cmdcycle plugin reads for a stanza served by
 * external commands: the commands in the form spa_cc_ext_argv takes. */
#define SPA_EXTCMD_OPEN_KEY  "CMD_CYCLE_EXT_OPEN"
#define SPA_EXTCMD_CLOSE_KEY "CMD_CYCLE_EXT_CLOSE"
#define SPA_EXTCMD_KEY_PREFIX "CMD_CYCLE_EXT_"

/* One of ENABLE_EXTERNAL_CMDS, EXTERNAL_CMD_*, ENABLE_EXT_CMD_PREFIX,
 * EXT_CMD_PREFIX (in fwknopd.conf or a stanza). */
bool spa_conf_extcmd_var(const char *name);
/* A variable whose value is never substituted ($KEY...). */
bool spa_conf_extcmd_secret(const char *name);
/* Checks one such value as it is read: 0, or -EINVAL with why. */
int spa_conf_extcmd_value(const char *name, const char *value, char *why, size_t cap);
/* At spa_config_finish: decides whether s is served by external commands
 * and, if so, writes the cmdcycle plugin's variables into s->kv with
 * every $VAR of the stanza resolved. 0, or a negative code with
 * "file:line: ..." in err. */
int spa_conf_extcmd_finish(const struct spa_config *c, struct spa_stanza *s, char *err,
			   size_t errlen);

#endif
