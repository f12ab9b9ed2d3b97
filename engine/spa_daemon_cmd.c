/* SPDX-License-Identifier: MIT */
/*
 * spa_daemon_cmd.c - command messages in the monitor (docs/ARCHITECTURE.md,
 * "Command messages"): the command module a stanza with ENABLE_CMD_EXEC
 * needs is loaded like a firewall plugin, and a command message the
 * monitor has re-checked goes to that module's command op on its worker
 * thread, never run on the event loop.
 */
#include "spa_daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spa_log.h"

/* What the module may take beyond the command's own CMD_EXEC_TIMEOUT
 * (splitting, logging) before the loop fails the op. */
#define CMD_OP_MARGIN_MS 5000u
/* Commands waiting for one module: each is a fresh authenticated packet,
 * but a key holder knocking fast (without MAX_KNOCKS_PER_MINUTE) must not
 * grow the queue, and the commands run one at a time anyway. */
#define CMD_QUEUE_MAX 64u

static struct spa_plugin *named(struct spa_daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_plugins; i++)
		if (strcmp(d->plugins[i]->d->name, name) == 0)
			return d->plugins[i];
	return NULL;
}

static bool is_command_module(const struct spa_plugin *p)
{
	return (p->d->capabilities & SPA_PLUGIN_CAP_COMMAND) && p->d->command;
}

uint32_t spa_daemon_op_timeout_ms(const struct spa_daemon *d, const struct spa_plugin *p)
{
	uint32_t ms = d->cfg.plugin_op_timeout * 1000u;
	uint32_t cmd_ms = d->cfg.cmd.timeout * 1000u + CMD_OP_MARGIN_MS;

	/* a command may run CMD_EXEC_TIMEOUT, whatever PLUGIN_OP_TIMEOUT says */
	if (p && is_command_module(p) && cmd_ms > ms)
		ms = cmd_ms;
	return ms;
}

static int module_fits(const struct spa_stanza *s, const struct spa_plugin *p, char *err,
		       size_t errlen)
{
	if (is_command_module(p))
		return 0;
	snprintf(err, errlen, "%s: ENABLE_CMD_EXEC: plugin '%s' is not a command module (no "
		 "SPA_PLUGIN_CAP_COMMAND and command op; COMMAND_MODULE names one)", s->label,
		 p->d->name);
	return -EINVAL;
}

int spa_daemon_load_command_modules(struct spa_daemon *d, char *err, size_t errlen)
{
	for (size_t i = 0; i < d->cfg.n_stanzas; i++) {
		const struct spa_stanza *s = &d->cfg.stanzas[i];
		const char *name = spa_conf_cmd_module_of(&d->cfg, s);
		struct spa_plugin *p;
		char lerr[SPA_CONF_ERR_LEN / 2];
		int rc;

		/* nothing is loaded for command messages nobody accepts */
		if (!spa_conf_cmd_enabled(s))
			continue;
		p = named(d, name);
		if (!p) {
			if (d->n_plugins == SPA_MAX_PLUGINS) {
				snprintf(err, errlen, "too many plugins (max %d)", SPA_MAX_PLUGINS);
				return -EINVAL;
			}
			rc = spa_plugin_load_named(d->cfg.plugin_dir, name, &p, lerr, sizeof(lerr));
			if (rc < 0) {
				snprintf(err, errlen, "%s: ENABLE_CMD_EXEC needs command module '%s' "
					 "(COMMAND_MODULE): %s", s->label, name, lerr);
				return rc;
			}
			d->plugins[d->n_plugins++] = p;
		}
		rc = module_fits(s, p, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int spa_daemon_check_command_modules(struct spa_daemon *d, const struct spa_config *cfg,
				     char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->n_stanzas; i++) {
		const struct spa_stanza *s = &cfg->stanzas[i];
		const char *name = spa_conf_cmd_module_of(cfg, s);
		struct spa_plugin *p;

		if (!spa_conf_cmd_enabled(s))
			continue;
		p = named(d, name);
		if (!p) {
			snprintf(err, errlen, "%s: command module '%s' is not loaded; restart needed",
				 s->label, name);
			return -EINVAL;
		}
		if (module_fits(s, p, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
}

static void addr_of(struct spa_grant_addr *a, int family, const uint8_t *bin, const char *text)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(&a->bin, bin, family == AF_INET ? 4 : 16);
	snprintf(a->text, sizeof(a->text), "%s", text);
}

/* The text for a log line: quotes and backslashes escaped (the command is
 * printable ASCII, the wire library saw to that). */
static void quoted(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	for (; *in && o + 3 < cap; in++) {
		if (*in == '"' || *in == '\\')
			out[o++] = '\\';
		out[o++] = *in;
	}
	out[o] = '\0';
	if (*in && cap > 4)
		memcpy(out + cap - 4, "...", 4);
}

int spa_daemon_command_submit(struct spa_daemon *d, const struct spa_pkt *pkt,
			      struct spa_decision *dec, char *detail, size_t cap)
{
	static uint64_t seq;
	const struct spa_stanza *s = dec->stanza;
	const struct spa_stanza_cmd *sc = s ? s->cmd : NULL;
	const char *comma = strchr(dec->msg.message, ',');
	struct spa_plugin *p;
	struct spa_opq *q;
	struct spa_op *op;
	struct spa_cmd_job *job;
	char text[160];

	detail[0] = '\0';
	if (!sc || !comma) {
		snprintf(dec->reason, sizeof(dec->reason), "internal error: no command stanza");
		return -EINVAL;
	}
	quoted(comma + 1, text, sizeof(text));
	p = named(d, spa_conf_cmd_module_of(&d->cfg, s));
	q = p ? spa_daemon_opq_of(d, p) : NULL;
	if (d->opt.test_mode) {
		snprintf(detail, cap, ": \\\"%s\\\" not run (test mode)", text);
		return 0;
	}
	if (!p || !q) {
		snprintf(dec->reason, sizeof(dec->reason), "command module %s not running",
			 spa_conf_cmd_module_of(&d->cfg, s));
		return -ENOENT;
	}
	if (q->outstanding >= CMD_QUEUE_MAX) {
		snprintf(dec->reason, sizeof(dec->reason), "command module %s busy: %zu ops "
			 "waiting; command refused", p->d->name, q->outstanding);
		return -EBUSY;
	}
	op = spa_opq_op_new(SPA_OP_COMMAND);
	job = op ? calloc(1, sizeof(*job)) : NULL;
	if (!job) {
		spa_opq_op_free(op);
		snprintf(dec->reason, sizeof(dec->reason), "out of memory");
		return -ENOMEM;
	}
	op->job = job;
	op->why = "command";
	snprintf(job->text, sizeof(job->text), "%s", comma + 1);
	job->c.struct_size = sizeof(job->c);
	job->c.id = ++seq;
	addr_of(&job->c.src, dec->allow_family, dec->allow_bin, dec->allow);
	addr_of(&job->c.pkt_src, pkt->family, pkt->src_bin, pkt->src);
	job->c.text = job->text;
	job->c.uid = sc->uid;
	job->c.gid = sc->gid;
	if (sc->sudo) {
		snprintf(job->sudo_exe, sizeof(job->sudo_exe), "%s", d->cfg.cmd.sudo_exe);
		job->c.sudo_exe = job->sudo_exe;
		/* as fwknopd: no -u for root */
		if (sc->sudo_user[0] && strcmp(sc->sudo_user, "root") != 0) {
			snprintf(job->sudo_user, sizeof(job->sudo_user), "%s", sc->sudo_user);
			job->c.sudo_user = job->sudo_user;
		}
		if (sc->sudo_group[0]) {
			snprintf(job->sudo_group, sizeof(job->sudo_group), "%s", sc->sudo_group);
			job->c.sudo_group = job->sudo_group;
		}
	}
	job->c.timeout_ms = d->cfg.cmd.timeout * 1000u;
	snprintf(job->c.stanza, sizeof(job->c.stanza), "%s", s->label);
	snprintf(job->c.username, sizeof(job->c.username), "%s", dec->msg.username);
	if (d->note) {
		op->note = d->note;
		d->note->left++;
	}
	spa_opq_submit(q, op);
	if (sc->uid == (uid_t)-1)
		snprintf(detail, cap, ": \\\"%s\\\" id %llu to %s, as spad's user%s", text,
			 (unsigned long long)job->c.id, p->d->name, sc->sudo ? " through SUDO_EXE" : "");
	else
		snprintf(detail, cap, ": \\\"%s\\\" id %llu to %s, as uid %u gid %u%s", text,
			 (unsigned long long)job->c.id, p->d->name, (unsigned)sc->uid,
			 (unsigned)sc->gid, sc->sudo ? " through SUDO_EXE" : "");
	return 0;
}

void spa_daemon_command_done(struct spa_daemon *d, struct spa_plugin *p, struct spa_op *op,
			     const struct spa_op_result *res)
{
	unsigned long long id = op && op->job ? (unsigned long long)op->job->c.id : 0;

	(void)d;
	if (res->rc >= 0)
		return;
	spa_log(SPA_L_ERR, "command %llu: module %s failed: %s%s%s", id, p->d->name,
		strerror(-res->rc), res->msg && res->msg[0] ? ": " : "", res->msg ? res->msg : "");
}
