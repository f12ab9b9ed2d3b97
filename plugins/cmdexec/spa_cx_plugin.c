/* SPDX-License-Identifier: MIT */
/*
 * spa_cx_plugin.c - "cmdexec", spad's default command module: runs a
 * command message as fwknopd does (split on blanks, no shell, an empty
 * environment), as the stanza's CMD_EXEC_USER/GROUP or through SUDO_EXE,
 * killed at CMD_EXEC_TIMEOUT, and logs its exit status and output size.
 * README.md in this directory is the exact description.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spa_cx.h"
#include "spa_pu.h"

struct cx_state {
	const struct spa_host_api *host;
};

static int cx_init(const struct spa_host_api *host, void **state)
{
	struct cx_state *st;
	int rc;

	if (!spa_pu_host_ok(host))
		return -EINVAL;
	if (!SPA_HOST_HAS(host, run_as)) {
		host->log(host->self, SPA_LOG_ERR, "engine lacks run_as (ABI 1.5 needed)");
		return -ENOTSUP;
	}
	st = spa_pu_state_new(host, sizeof(*st), &rc);
	if (!st)
		return rc;
	st->host = host;
	*state = st;
	return 0;
}

/* Not a firewall: a stanza naming it as FIREWALL_TYPE gets no access. */
static int cx_grant_op(void *state, const struct spa_grant *g)
{
	struct cx_state *st = state;

	st->host->log(st->host->self, SPA_LOG_ERR, "%s: cmdexec runs command messages, it "
		      "opens no access (FIREWALL_TYPE names a firewall)", g->stanza);
	return SPA_ERR_PERMANENT;
}

static int cx_flush(void *state)
{
	(void)state;
	return 0;
}

static void cx_fini(void *state)
{
	free(state);
}

static int cx_command(void *state, const struct spa_command *cmd)
{
	struct cx_state *st = state;
	const struct spa_host_api *h = st->host;
	struct spa_cx_argv *a = calloc(1, sizeof(*a));
	struct spa_run_result res;
	char why[160], line[SPA_PU_ERR_LINE];
	int rc;

	if (!a)
		return -ENOMEM;
	rc = spa_cx_build(cmd, a, why, sizeof(why));
	if (rc < 0) {
		h->log(h->self, SPA_LOG_ERR, "command %llu (%s, user %s): not run: %s",
		       (unsigned long long)cmd->id, cmd->stanza, cmd->username, why);
		goto out;
	}
	rc = h->run_as(h->self, a->argv, cmd->uid, cmd->gid, (int)cmd->timeout_ms, &res);
	if (rc < 0) {
		h->log(h->self, SPA_LOG_ERR, "command %llu (%s, user %s): %s could not start: %s",
		       (unsigned long long)cmd->id, cmd->stanza, cmd->username, a->argv[0],
		       strerror(-rc));
		goto out;
	}
	if (res.timed_out)
		h->log(h->self, SPA_LOG_WARNING, "command %llu (%s, user %s): %s killed after "
		       "CMD_EXEC_TIMEOUT (%u ms); %zu bytes of output, %zu on stderr",
		       (unsigned long long)cmd->id, cmd->stanza, cmd->username, a->argv[0],
		       cmd->timeout_ms, res.out_len, res.err_len);
	else
		h->log(h->self, res.exit_status == 0 ? SPA_LOG_NOTICE : SPA_LOG_WARNING,
		       "command %llu (%s, user %s): %s exited with status %d; %zu bytes of "
		       "output, %zu on stderr", (unsigned long long)cmd->id, cmd->stanza,
		       cmd->username, a->argv[0], res.exit_status, res.out_len, res.err_len);
	/* the output is the command's business: only stderr's first line,
	 * and only for whoever asked for debug lines */
	spa_pu_first_line(res.err, line, sizeof(line));
	if (line[0])
		h->log(h->self, SPA_LOG_DEBUG, "command %llu: stderr: %s",
		       (unsigned long long)cmd->id, line);
out:
	free(a);
	return rc;
}

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.name = "cmdexec",
	.version = "1.0",
	.capabilities = SPA_PLUGIN_CAP_COMMAND,
	.key_prefix = "CMDEXEC_",
	.ops = {
		.init = cx_init,
		.open = cx_grant_op,
		.close = cx_grant_op,
		.flush = cx_flush,
		.fini = cx_fini,
	},
	.command = cx_command,
};
