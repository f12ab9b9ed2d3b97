/* SPDX-License-Identifier: MIT */
/*
 * The plugin's two commands, iptables-save and iptables-restore, and what
 * their failures tell the engine (op_fail, ABI 1.4). Every run records
 * how it failed, so that the op giving up can say whether trying again
 * can help, with the command's own words, instead of a bare -EIO.
 */
#include "spa_ipt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* spa_pu_* return -EIO when the command ran and exited non-zero (or was
 * killed), and the runner's own error when it could not start. */
static void note(struct spa_ipt_state *st, const char *cmd, int rc,
		 const struct spa_run_result *res)
{
	struct spa_ipt_fail *f = &st->fail;

	memset(f, 0, sizeof(*f));
	if (rc == 0)
		return;
	f->cmd = cmd;
	if (rc == -EIO && (res->exit_status != 0 || res->timed_out)) {
		f->status = res->exit_status;
		f->timed_out = res->timed_out;
		spa_pu_first_line(res->err, f->err, sizeof(f->err));
	} else {
		f->start_rc = rc;
	}
}

int spa_ipt_restore(struct spa_ipt_state *st, int fi, const struct spa_pu_buf *batch)
{
	/* "--wait" takes an optional value: without the '=' form it swallows
	 * the argument that follows (the batch file of a 1.0 engine). */
	const char *argv[] = { st->fam[fi].restore, "--noflush", "--wait=10", NULL };
	struct spa_run_result res;
	int rc = spa_pu_run_feed(st->host, argv, batch, 1, &res);

	note(st, argv[0], rc, &res);
	return rc;
}

int spa_ipt_read(struct spa_ipt_state *st, int fi, const char **text)
{
	const char *argv[] = { st->fam[fi].save, NULL };
	struct spa_run_result res;
	int rc = spa_pu_run(st->host, argv, &res, 1);

	note(st, argv[0], rc, &res);
	if (rc < 0) {
		spa_ipt_view_forget(st, fi);
		return rc;
	}
	*text = res.out ? res.out : "";
	spa_ipt_clock(st);
	spa_ipt_view_load(st, fi, *text);
	return 0;
}

static int lock_busy(const struct spa_ipt_fail *f)
{
	/* iptables-legacy: "Another app is currently holding the xtables
	 * lock", exit status 4 (RESOURCE_PROBLEM) */
	return f->status == 4 || strstr(f->err, "xtables lock") != NULL;
}

/* Only a refusal of the rule itself is permanent: iptables exits 2
 * (PARAMETER_PROBLEM) for an argument the kernel or iptables will never
 * take, e.g. a match its kernel lacks. A command that did not start or
 * was killed, the xtables lock, and status 1 (a rule or chain that was
 * not where the batch expected, usually the ruleset changing between our
 * read and our write) can go well on the next try. */
int spa_ipt_fail_kind(const struct spa_ipt_fail *f)
{
	if (f->start_rc || f->timed_out || f->status < 0 || lock_busy(f))
		return SPA_FAIL_TRANSIENT;
	return f->status == 2 ? SPA_FAIL_PERMANENT : SPA_FAIL_TRANSIENT;
}

/* A batch from the view refers to what the view says exists ("-C", "-D",
 * "-A" into our chain): when it is wrong iptables-restore exits 1 (no such
 * rule) or 2 (no such chain as a jump target). */
int spa_ipt_fail_refused(const struct spa_ipt_fail *f)
{
	return f->cmd && !f->start_rc && !f->timed_out && !lock_busy(f) &&
	       (f->status == 1 || f->status == 2);
}

void spa_ipt_fail_text(const struct spa_ipt_fail *f, char *out, size_t len)
{
	const char *cmd = f->cmd ? f->cmd : "iptables";

	if (f->start_rc)
		snprintf(out, len, "cannot run %s: %s", cmd, strerror(-f->start_rc));
	else if (f->timed_out)
		snprintf(out, len, "%s timed out%s%s", cmd, *f->err ? ": " : "", f->err);
	else if (f->status < 0)
		snprintf(out, len, "%s was killed%s%s", cmd, *f->err ? ": " : "", f->err);
	else
		snprintf(out, len, "%s failed (status %d): %s", cmd, f->status,
			 *f->err ? f->err : "(nothing on stderr)");
}

void spa_ipt_fail_log(struct spa_ipt_state *st)
{
	char msg[2 * SPA_PU_ERR_LINE];

	if (!st->fail.cmd || st->fail.logged)
		return;
	spa_ipt_fail_text(&st->fail, msg, sizeof(msg));
	st->host->log(st->host->self, SPA_LOG_ERR, "%s", msg);
	st->fail.logged = 1;
}

int spa_ipt_fail(struct spa_ipt_state *st, const struct spa_grant *g, int rc)
{
	const struct spa_host_api *host = st->host;
	char msg[2 * SPA_PU_ERR_LINE];

	if (rc >= 0 || !st->fail.cmd)
		return rc;
	/* the engine reports what op_fail says: logging it too would say it
	 * twice */
	if (!SPA_HOST_HAS(host, op_fail)) {
		spa_ipt_fail_log(st);
		return rc;
	}
	spa_ipt_fail_text(&st->fail, msg, sizeof(msg));
	return host->op_fail(host->self, g, spa_ipt_fail_kind(&st->fail), "%s", msg);
}
