/* SPDX-License-Identifier: MIT */
/*
 * spa_conf_cmd.h - command messages in the configuration (fwknop's -C):
 * access.conf ENABLE_CMD_EXEC, ENABLE_CMD_SUDO_EXEC, CMD_EXEC_USER,
 * CMD_EXEC_GROUP, CMD_SUDO_EXEC_USER, CMD_SUDO_EXEC_GROUP, COMMAND_MODULE;
 * fwknopd.conf SUDO_EXE, CMD_EXEC_TIMEOUT, COMMAND_MODULE (spad.8,
 * COMMAND MESSAGES). Users and groups are resolved when the file is read,
 * so a name the system does not know is an error naming file:line.
 */
#ifndef SPA_CONF_CMD_H
#define SPA_CONF_CMD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* the shipped command module (plugins/cmdexec) */
#define SPA_DEFAULT_COMMAND_MODULE "cmdexec"
#define SPA_DEFAULT_SUDO_EXE "/usr/bin/sudo"
/* CMD_EXEC_TIMEOUT: fwknopd parses it and enforces nothing; spad kills a
 * command still running after this many seconds */
#define SPA_DEFAULT_CMD_EXEC_TIMEOUT 30
#define SPA_MAX_CMD_EXEC_TIMEOUT 3600
#define SPA_CMD_NAME_LEN 64

/* fwknopd.conf's part. */
struct spa_conf_cmd {
	char sudo_exe[PATH_MAX];       /* SUDO_EXE */
	uint32_t timeout;              /* CMD_EXEC_TIMEOUT, seconds */
	char module[32];               /* COMMAND_MODULE */
};

/* A stanza's part, out of line: most stanzas have none. */
struct spa_stanza_cmd {
	bool exec;                     /* ENABLE_CMD_EXEC */
	bool sudo;                     /* ENABLE_CMD_SUDO_EXEC */
	char user[SPA_CMD_NAME_LEN];   /* CMD_EXEC_USER as written, "": unset */
	char group[SPA_CMD_NAME_LEN];  /* CMD_EXEC_GROUP */
	uid_t uid;                     /* resolved; (uid_t)-1: spad's own (unset or root) */
	gid_t gid;                     /* CMD_EXEC_GROUP's, else the user's primary group */
	uid_t user_uid;                /* as read: CMD_EXEC_USER's ids, CMD_EXEC_GROUP's */
	gid_t user_gid, group_gid;
	char sudo_user[SPA_CMD_NAME_LEN];   /* CMD_SUDO_EXEC_USER, "": unset */
	char sudo_group[SPA_CMD_NAME_LEN];  /* CMD_SUDO_EXEC_GROUP */
	char module[32];               /* COMMAND_MODULE, "": fwknopd.conf's */
	char group_where[64];          /* file:line of CMD_EXEC_GROUP */
};

struct spa_config;
struct spa_stanza;
struct spa_conf_ctx;
struct spa_conf_pos;

void spa_conf_cmd_init(struct spa_conf_cmd *c);
bool spa_conf_cmd_is_var(const char *name);
/* One access.conf variable of the list above, v trimmed. */
int spa_conf_cmd_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p, struct spa_stanza *s,
		     const char *v);
/* fwknopd.conf COMMAND_MODULE (a plugin name). */
int spa_conf_cmd_module(struct spa_conf_ctx *x, const struct spa_conf_pos *p, const char *v);
/* At the end of the load: resolves CMD_EXEC_USER / CMD_EXEC_GROUP. */
int spa_conf_cmd_finish(const struct spa_config *c, struct spa_stanza *s, char *err,
			size_t errlen);
void spa_conf_cmd_free(struct spa_stanza *s);
/* Whether s accepts command messages, and the module that runs them. */
bool spa_conf_cmd_enabled(const struct spa_stanza *s);
/* -D: fwknopd.conf's part, a stanza's part (as they take effect). */
void spa_conf_cmd_dump_server(const struct spa_conf_cmd *c, FILE *out);
void spa_conf_cmd_dump_stanza(const struct spa_config *c, const struct spa_stanza *s, FILE *out);
const char *spa_conf_cmd_module_of(const struct spa_config *c, const struct spa_stanza *s);

#endif
