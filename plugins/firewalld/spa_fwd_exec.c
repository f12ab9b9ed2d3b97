/* SPDX-License-Identifier: MIT */
/*
 * The exec transport (FIREWD_TRANSPORT exec, and auto's fallback when the
 * system bus or firewalld's name is out of reach): one firewall-cmd run
 * per call through the host's runner, argv only, one rich rule per
 * argument. firewall-cmd turns ALREADY_ENABLED and NOT_ENABLED into a
 * warning and exit status 0, which is the outcome the D-Bus transport
 * copies.
 */
#include "spa_fwd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rich(struct spa_fwd_state *st, const char *zone, const char *verb,
		const char *rule, long timeout, int quiet)
{
	char rule_arg[32 + SPA_FWD_RULE_LEN];
	char zone_arg[8 + SPA_FWD_ZONE_LEN];
	char timeout_arg[32];
	const char *argv[] = { st->exe, zone_arg, rule_arg, NULL, NULL };
	struct spa_run_result res;

	snprintf(zone_arg, sizeof(zone_arg), "--zone=%s", zone);
	snprintf(rule_arg, sizeof(rule_arg), "--%s-rich-rule=%s", verb, rule);
	if (timeout > 0) {
		snprintf(timeout_arg, sizeof(timeout_arg), "--timeout=%ld", timeout);
		argv[3] = timeout_arg;
	}
	return spa_pu_run(st->host, argv, &res, quiet);
}

static int exec_add(struct spa_fwd_state *st, const char *zone, const char *rule,
		    long timeout)
{
	return rich(st, zone, "add", rule, timeout, 0);
}

static int exec_remove(struct spa_fwd_state *st, const char *zone, const char *rule, int quiet)
{
	return rich(st, zone, "remove", rule, 0, quiet);
}

static int exec_list(struct spa_fwd_state *st, const char *zone, char **text)
{
	char zone_arg[8 + SPA_FWD_ZONE_LEN];
	const char *argv[] = { st->exe, zone_arg, "--list-rich-rules", NULL };
	struct spa_run_result res;
	int rc;

	*text = NULL;
	snprintf(zone_arg, sizeof(zone_arg), "--zone=%s", zone);
	rc = spa_pu_run(st->host, argv, &res, 0);
	if (rc < 0)
		return rc;
	/* the output buffer is reused by the next run, which a walk does */
	*text = strdup(res.out ? res.out : "");
	return *text ? 0 : -ENOMEM;
}

static int exec_start(struct spa_fwd_state *st)
{
	const char *argv[] = { st->exe, "--state", NULL };
	struct spa_run_result res;

	return spa_pu_run(st->host, argv, &res, 0);
}

static void exec_stop(struct spa_fwd_state *st)
{
	(void)st;
}

const struct spa_fwd_xport spa_fwd_xport_exec = {
	.name = "exec",
	.start = exec_start,
	.stop = exec_stop,
	.add = exec_add,
	.remove = exec_remove,
	.list = exec_list,
};
