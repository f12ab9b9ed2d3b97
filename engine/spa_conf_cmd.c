/* SPDX-License-Identifier: MIT */
/* spa_conf_cmd.c - command message settings (spa_conf_cmd.h; spad.8, COMMAND MESSAGES). */
#include "spa_conf_cmd.h"
#include "spa_conf_internal.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spa_log.h"

void spa_conf_cmd_init(struct spa_conf_cmd *c)
{
	snprintf(c->sudo_exe, sizeof(c->sudo_exe), "%s", SPA_DEFAULT_SUDO_EXE);
	c->timeout = SPA_DEFAULT_CMD_EXEC_TIMEOUT;
	snprintf(c->module, sizeof(c->module), "%s", SPA_DEFAULT_COMMAND_MODULE);
}

static const char *const vars[] = {
	"ENABLE_CMD_EXEC", "ENABLE_CMD_SUDO_EXEC", "CMD_EXEC_USER", "CMD_EXEC_GROUP",
	"CMD_SUDO_EXEC_USER", "CMD_SUDO_EXEC_GROUP", "COMMAND_MODULE",
};

bool spa_conf_cmd_is_var(const char *name)
{
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strcmp(name, vars[i]) == 0)
			return true;
	return false;
}

static struct spa_stanza_cmd *cmd_of(struct spa_stanza *s)
{
	if (!s->cmd) {
		s->cmd = calloc(1, sizeof(*s->cmd));
		if (s->cmd) {
			s->cmd->uid = (uid_t)-1;
			s->cmd->gid = (gid_t)-1;
		}
	}
	return s->cmd;
}

/* A plugin file name: no path, nothing a shell would read. */
static bool module_name_ok(const char *v)
{
	return v[0] && strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(v);
}

int spa_conf_cmd_module(struct spa_conf_ctx *x, const struct spa_conf_pos *p, const char *v)
{
	if (!module_name_ok(v) || spa_conf_copy(v, x->c->cmd.module, sizeof(x->c->cmd.module)) < 0)
		return spa_conf_fail(x, p, "expected a plugin name [a-z0-9_-]");
	return 0;
}

/* getpwnam/getgrnam: a name the system does not know is refused now, not
 * when the first command comes (fwknopd finds out then). */
static int user_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p, const char *v,
		    char *dst, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	if (spa_conf_copy(v, dst, SPA_CMD_NAME_LEN) < 0 || !v[0])
		return spa_conf_fail(x, p, "expected a user name");
	errno = 0;
	pw = getpwnam(v);
	if (!pw)
		return spa_conf_fail(x, p, "no such user '%s' on this system%s%s", v,
				     errno ? ": " : "", errno ? strerror(errno) : "");
	if (uid)
		*uid = pw->pw_uid;
	if (gid)
		*gid = pw->pw_gid;
	return 0;
}

static int group_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p, const char *v,
		     char *dst, gid_t *gid)
{
	struct group *gr;

	if (spa_conf_copy(v, dst, SPA_CMD_NAME_LEN) < 0 || !v[0])
		return spa_conf_fail(x, p, "expected a group name");
	errno = 0;
	gr = getgrnam(v);
	if (!gr)
		return spa_conf_fail(x, p, "no such group '%s' on this system%s%s", v,
				     errno ? ": " : "", errno ? strerror(errno) : "");
	if (gid)
		*gid = gr->gr_gid;
	return 0;
}

int spa_conf_cmd_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p, struct spa_stanza *s,
		     const char *v)
{
	struct spa_stanza_cmd *c = cmd_of(s);
	const char *n = p->name;

	if (!c)
		return -ENOMEM;
	if (strcmp(n, "ENABLE_CMD_EXEC") == 0 || strcmp(n, "ENABLE_CMD_SUDO_EXEC") == 0) {
		bool *dst = strcmp(n, "ENABLE_CMD_EXEC") == 0 ? &c->exec : &c->sudo;
		if (spa_conf_yes_no(v, dst) < 0)
			return spa_conf_fail(x, p, "expected Y or N");
	} else if (strcmp(n, "CMD_EXEC_USER") == 0) {
		return user_var(x, p, v, c->user, &c->user_uid, &c->user_gid);
	} else if (strcmp(n, "CMD_EXEC_GROUP") == 0) {
		snprintf(c->group_where, sizeof(c->group_where), "%s:%u", p->file, p->line);
		return group_var(x, p, v, c->group, &c->group_gid);
	} else if (strcmp(n, "CMD_SUDO_EXEC_USER") == 0) {
		return user_var(x, p, v, c->sudo_user, NULL, NULL);
	} else if (strcmp(n, "CMD_SUDO_EXEC_GROUP") == 0) {
		return group_var(x, p, v, c->sudo_group, NULL);
	} else if (strcmp(n, "COMMAND_MODULE") == 0) {
		if (!module_name_ok(v) || spa_conf_copy(v, c->module, sizeof(c->module)) < 0)
			return spa_conf_fail(x, p, "expected a plugin name [a-z0-9_-]");
	}
	return 0;
}

int spa_conf_cmd_finish(const struct spa_config *cfg, struct spa_stanza *s, char *err,
			size_t errlen)
{
	struct spa_stanza_cmd *c = s->cmd;

	(void)cfg;
	(void)err;
	(void)errlen;
	if (!c)
		return 0;
	/* As fwknopd: root (or no user) means spad's own credentials, and the
	 * group then changes nothing (it only shapes the sudo form). */
	if (c->user[0] && strcmp(c->user, "root") != 0) {
		c->uid = c->user_uid;
		c->gid = c->group[0] ? c->group_gid : c->user_gid;
	} else {
		c->uid = (uid_t)-1;
		c->gid = (gid_t)-1;
		if (c->group[0] && c->exec && !c->sudo)
			spa_log(SPA_L_WARNING, "%s: CMD_EXEC_GROUP without a CMD_EXEC_USER other "
				"than root has no effect: commands run as spad's user and group",
				c->group_where);
	}
	if (c->sudo && !c->exec)
		spa_log(SPA_L_NOTICE, "%s: ENABLE_CMD_SUDO_EXEC without ENABLE_CMD_EXEC Y: no "
			"command message is accepted", s->label);
	return 0;
}

void spa_conf_cmd_free(struct spa_stanza *s)
{
	free(s->cmd);
	s->cmd = NULL;
}

bool spa_conf_cmd_enabled(const struct spa_stanza *s)
{
	return s && s->cmd && s->cmd->exec;
}

const char *spa_conf_cmd_module_of(const struct spa_config *c, const struct spa_stanza *s)
{
	if (s && s->cmd && s->cmd->module[0])
		return s->cmd->module;
	return c->cmd.module;
}

void spa_conf_cmd_dump_server(const struct spa_conf_cmd *c, FILE *out)
{
	fprintf(out, "    %-24s %s\n", "SUDO_EXE", c->sudo_exe);
	fprintf(out, "    %-24s %u\n", "CMD_EXEC_TIMEOUT", c->timeout);
	fprintf(out, "    %-24s %s\n", "COMMAND_MODULE", c->module);
}

static const char *or_unset(const char *v)
{
	return v[0] ? v : "(unset)";
}

void spa_conf_cmd_dump_stanza(const struct spa_config *c, const struct spa_stanza *s, FILE *out)
{
	const struct spa_stanza_cmd *sc = s->cmd;

	fprintf(out, "    %-24s %s\n", "ENABLE_CMD_EXEC", spa_conf_cmd_enabled(s) ? "Y" : "N");
	if (!spa_conf_cmd_enabled(s))
		return;
	fprintf(out, "    %-24s %s\n", "COMMAND_MODULE", spa_conf_cmd_module_of(c, s));
	if (sc->uid == (uid_t)-1)
		fprintf(out, "    %-24s %s (spad's own user)\n", "CMD_EXEC_USER", or_unset(sc->user));
	else
		fprintf(out, "    %-24s %s (uid %u, gid %u)\n", "CMD_EXEC_USER", sc->user,
			(unsigned)sc->uid, (unsigned)sc->gid);
	fprintf(out, "    %-24s %s\n", "CMD_EXEC_GROUP", or_unset(sc->group));
	fprintf(out, "    %-24s %s\n", "ENABLE_CMD_SUDO_EXEC", sc->sudo ? "Y" : "N");
	if (sc->sudo) {
		fprintf(out, "    %-24s %s\n", "CMD_SUDO_EXEC_USER", or_unset(sc->sudo_user));
		fprintf(out, "    %-24s %s\n", "CMD_SUDO_EXEC_GROUP", or_unset(sc->sudo_group));
	}
}
