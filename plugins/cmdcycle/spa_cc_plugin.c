/* SPDX-License-Identifier: MIT */
/*
 * spa_cc_plugin.c - the "cmdcycle" backend. Each grant runs its stanza's
 * CMD_CYCLE_OPEN; the engine closes it at expiry (CMD_CYCLE_TIMER, or the
 * client's timeout) and we run CMD_CYCLE_CLOSE then. Commands are split
 * into argv and run without a shell unless the stanza says
 * CMD_CYCLE_SHELL Y; substituted values come only from the validated grant.
 * EXTERNAL_CMD_* (fwknopd.conf's never-built feature) are the same cycle:
 * spad's config hands them over as CMD_CYCLE_EXT_OPEN / _CLOSE with the
 * stanza's variables resolved, one argument per word, never a shell.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spa_cc.h"
#include "spa_pu.h"

#define CC_RUN_TIMEOUT_MS 30000

struct cc_state {
	const struct spa_host_api *host;
};

static int cc_init(const struct spa_host_api *host, void **state)
{
	struct cc_state *st;
	int rc;

	if (!spa_pu_host_ok(host))
		return -EINVAL;
	/* per-stanza commands need ABI 1.1 */
	if (!SPA_HOST_HAS(host, stanza_get)) {
		host->log(host->self, SPA_LOG_ERR, "engine lacks stanza_get (ABI 1.1 needed)");
		return -ENOTSUP;
	}
	st = spa_pu_state_new(host, sizeof(*st), &rc);
	if (!st)
		return rc;
	st->host = host;
	*state = st;
	return 0;
}

static const char *sget(const struct spa_host_api *h, const struct spa_grant *g,
			const char *key)
{
	return h->stanza_get(h->self, g, key);
}

/* A stanza's cycle: its commands (close NULL for NONE), how they are
 * turned into argv, and the names the admin wrote, for messages. */
struct cc_cmds {
	const char *open, *close;
	int shell;
	int ext;                        /* EXTERNAL_CMD_*, in spad's form */
	const char *open_name, *close_name;
};

/* The argv of one command for g into cmd (SPA_CC_EXT_MAX bytes): tmpl
 * expanded, then split, or handed to /bin/sh -c when the stanza asks for
 * a shell; EXTERNAL_CMD_* word by word. Logs what is wrong with the key
 * and the command. */
static int prepare(const struct spa_host_api *h, const struct spa_grant *g, const char *what,
		   const char *tmpl, const struct cc_cmds *cc, char *cmd, const char *argv[])
{
	int shell = cc->shell;
	int rc;

	if (cc->ext) {
		rc = spa_cc_ext_argv(tmpl, g, cmd, SPA_CC_EXT_MAX, argv, SPA_CC_ARGV_MAX);
		if (rc == -ENAMETOOLONG || rc == -E2BIG)
			h->log(h->self, SPA_LOG_ERR, "%s: %s '%s': more than %s after substitution",
			       g->stanza, what, tmpl, rc == -E2BIG ? "31 words" : "2047 bytes");
		else if (rc < 0)
			h->log(h->self, SPA_LOG_ERR, "%s: %s '%s': not a command spad's "
			       "configuration wrote (its program must be an absolute path)",
			       g->stanza, what, tmpl);
		return rc < 0 ? rc : 0;
	}
	rc = spa_cc_expand(tmpl, g, cmd, SPA_CC_CMD_MAX);
	if (rc < 0) {
		h->log(h->self, SPA_LOG_ERR, "%s: %s '%s' is too long after substitution",
		       g->stanza, what, tmpl);
		return rc;
	}
	if (shell) {
		/* asked for explicitly; values are addresses and numbers only */
		argv[0] = "/bin/sh";
		argv[1] = "-c";
		argv[2] = cmd;
		argv[3] = NULL;
		return 0;
	}
	rc = spa_cc_split(cmd, argv, SPA_CC_ARGV_MAX);
	if (rc < 0) {
		h->log(h->self, SPA_LOG_ERR,
		       "%s: %s '%s' must start with an absolute path after substitution%s",
		       g->stanza, what, tmpl, rc == -E2BIG ? " and have fewer words" : "");
		return rc;
	}
	return 0;
}

/* The stanza's commands and shell switch, checked the same way for
 * check, open and close. */
static int stanza_cmds(const struct spa_host_api *h, const struct spa_grant *g,
		       struct cc_cmds *cc)
{
	const char *timer, *sh = NULL;

	if (!g || g->struct_size < sizeof(*g))
		return -EINVAL;
	memset(cc, 0, sizeof(*cc));
	cc->open = sget(h, g, "CMD_CYCLE_EXT_OPEN");
	cc->ext = cc->open != NULL;
	if (cc->ext) {
		cc->close = sget(h, g, "CMD_CYCLE_EXT_CLOSE");
		cc->open_name = "EXTERNAL_CMD_OPEN";
		cc->close_name = "EXTERNAL_CMD_CLOSE";
	} else {
		cc->open = sget(h, g, "CMD_CYCLE_OPEN");
		cc->close = sget(h, g, "CMD_CYCLE_CLOSE");
		sh = sget(h, g, "CMD_CYCLE_SHELL");
		cc->open_name = "CMD_CYCLE_OPEN";
		cc->close_name = "CMD_CYCLE_CLOSE";
	}
	timer = sget(h, g, "CMD_CYCLE_TIMER");
	if (!cc->open || !*cc->open || !cc->close || !*cc->close) {
		h->log(h->self, SPA_LOG_ERR, "%s: %s is missing: %s and %s are both required",
		       g->stanza, !cc->open || !*cc->open ? cc->open_name : cc->close_name,
		       cc->open_name, cc->close_name);
		return -EINVAL;
	}
	if (sh && !strchr("YyNn", sh[0] ? sh[0] : 'x')) {
		h->log(h->self, SPA_LOG_ERR, "%s: CMD_CYCLE_SHELL: expected Y or N, got '%s'",
		       g->stanza, sh);
		return -EINVAL;
	}
	cc->shell = sh && (sh[0] == 'Y' || sh[0] == 'y');
	if (strcmp(cc->close, "NONE") == 0)
		cc->close = NULL;
	else if (!timer) {
		h->log(h->self, SPA_LOG_ERR,
		       "%s: CMD_CYCLE_TIMER is required with a CMD_CYCLE_CLOSE", g->stanza);
		return -EINVAL;
	}
	return 0;
}

/* argv joined with blanks, for the log (cut at cap). */
static void joined(const char *const argv[], char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; argv[i] && used < cap; i++) {
		int w = snprintf(out + used, cap - used, "%s%s", i ? " " : "", argv[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static int run_cmd(struct cc_state *st, const struct spa_grant *g, const char *what,
		   const char *tmpl, const struct cc_cmds *cc)
{
	const struct spa_host_api *h = st->host;
	const char *argv[SPA_CC_ARGV_MAX];
	char cmd[SPA_CC_EXT_MAX], shown[512];
	struct spa_run_result res;
	int rc;

	rc = prepare(h, g, what, tmpl, cc, cmd, argv);
	if (rc < 0)
		goto out;
	joined(argv + (cc->shell ? 2 : 0), shown, sizeof(shown));
	h->log(h->self, SPA_LOG_INFO, "%s: running %s: %s", g->stanza, what, shown);
	memset(&res, 0, sizeof(res));
	rc = h->run(h->self, argv, CC_RUN_TIMEOUT_MS, &res);
	if (rc < 0) {
		h->log(h->self, SPA_LOG_ERR, "%s: cannot run %s %s: %s", g->stanza, what, argv[0],
		       strerror(-rc));
	} else if (res.exit_status != 0 || res.timed_out) {
		/* the user's command is the backend: its failure is ours, and
		 * the engine retries a close until it succeeds */
		h->log(h->self, SPA_LOG_ERR, "%s: %s exited with %d%s: %.200s", g->stanza, what,
		       res.exit_status, res.timed_out ? " (timed out)" : "", res.err ? res.err : "");
		rc = -EIO;
	}
out:
	return rc;
}

/* Per stanza only: the commands must be there and, after substitution
 * with the widest IPv4 grant, split into an absolute program path. */
static int cc_check(const struct spa_host_api *host, const struct spa_grant *probe)
{
	const char *argv[SPA_CC_ARGV_MAX];
	char cmd[SPA_CC_EXT_MAX];
	struct cc_cmds cc;
	struct spa_grant g;
	int rc;

	if (!spa_pu_host_ok(host))
		return -EINVAL;
	if (!SPA_HOST_HAS(host, stanza_get)) {
		host->log(host->self, SPA_LOG_ERR, "engine lacks stanza_get (ABI 1.1 needed)");
		return -ENOTSUP;
	}
	if (!probe)
		return 0; /* no global keys */
	if (probe->struct_size < sizeof(*probe))
		return -EINVAL;
	g = *probe;
	g.family = AF_INET;
	g.src.family = AF_INET;
	snprintf(g.src.text, sizeof(g.src.text), "255.255.255.255");
	g.proto = IPPROTO_UDP;
	g.port = 65535;
	g.timeout = UINT32_MAX;
	g.expires = INT32_MAX;
	rc = stanza_cmds(host, &g, &cc);
	if (rc == 0 && cc.ext) {
		/* the longest address text there is */
		g.family = g.src.family = AF_INET6;
		snprintf(g.src.text, sizeof(g.src.text), "ffff:ffff:ffff:ffff:ffff:ffff:"
			 "255.255.255.255");
	}
	if (rc == 0)
		rc = prepare(host, &g, cc.open_name, cc.open, &cc, cmd, argv);
	if (rc == 0 && cc.close)
		rc = prepare(host, &g, cc.close_name, cc.close, &cc, cmd, argv);
	return rc;
}

/* The token a grant carries once its open command may have run. */
static const char cc_opened_mark[] = "opened";

/*
 * A user's open command need not be idempotent (fwknopd.conf's own example
 * is "iptables -I"): run twice, it leaves two rules that one close does
 * not remove, and access outlives the grant. The engine opens a grant
 * again after a restart (also after a kill -9) and when it retries a
 * failed open. So the grant is marked, through its journaled token, before
 * the command first runs; an open of a marked grant runs the close command
 * first, whatever it returns (the earlier open may not have got as far),
 * and the grant holds one copy of what the open makes.
 */
static int cc_open(void *state, const struct spa_grant *g)
{
	struct cc_state *st = state;
	const struct spa_host_api *h = st->host;
	struct cc_cmds cc;
	int rc = stanza_cmds(h, g, &cc);

	if (rc < 0)
		return rc;
	if (cc.close && SPA_HOST_HAS(h, token_set) && SPA_HOST_HAS(h, token_get)) {
		size_t len = 0;
		const void *tok = h->token_get(h->self, g, &len);

		if (tok && len == sizeof(cc_opened_mark) - 1 &&
		    memcmp(tok, cc_opened_mark, len) == 0) {
			h->log(h->self, SPA_LOG_INFO, "%s: grant %llu was opened before (restart or "
			       "retry): %s first, so its open is not doubled", g->stanza,
			       (unsigned long long)g->id, cc.close_name);
			(void)run_cmd(st, g, cc.close_name, cc.close, &cc);
		} else {
			/* journaled before the command runs, or the open fails;
			 * -EINVAL: called outside one of the engine's ops (a
			 * test driving the plugin), where nothing is journaled */
			rc = h->token_set(h->self, g, cc_opened_mark, sizeof(cc_opened_mark) - 1);
			if (rc < 0 && rc != -EINVAL)
				return rc;
		}
	}
	return run_cmd(st, g, cc.open_name, cc.open, &cc);
}

/* Whether the grant is still open is the user's command's business: its
 * exit status is the answer, and a close command is expected to succeed
 * when what it removes is already gone. */
static int cc_close(void *state, const struct spa_grant *g)
{
	struct cc_state *st = state;
	struct cc_cmds cc;
	int rc = stanza_cmds(st->host, g, &cc);

	if (rc < 0 || !cc.close)
		return rc;
	return run_cmd(st, g, cc.close_name, cc.close, &cc);
}

/* Commands leave no state we could find again: nothing to flush. */
static int cc_flush(void *state)
{
	(void)state;
	return 0;
}

static void cc_fini(void *state)
{
	free(state);
}

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.name = "cmdcycle",
	.version = "1.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6,
	.key_prefix = "CMD_CYCLE_",
	.ops = {
		.init = cc_init,
		.open = cc_open,
		.close = cc_close,
		.flush = cc_flush,
		.fini = cc_fini,
		.check = cc_check,
	},
};
