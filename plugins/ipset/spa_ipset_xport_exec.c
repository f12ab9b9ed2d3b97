/* SPDX-License-Identifier: MIT */
/*
 * The exec transport (IPSET_TRANSPORT exec, and the only one when built
 * without libipset): each command is one run of IPSET_EXE through the
 * host's argv-only runner. A fork and exec per grant, ~1-2 ms each.
 */
#include "spa_ipset.h"

#include <errno.h>

static int exec_open(struct spa_ipset_state *st)
{
	(void)st;
	return 0;
}

static int exec_run(struct spa_ipset_state *st, const char *const args[], const char **out)
{
	const char *argv[SPA_IPSET_ARGS_MAX + 2];
	struct spa_run_result res;
	size_t n = 0;
	int rc;

	argv[n++] = st->exe;
	for (size_t i = 0; args[i]; i++) {
		if (n >= SPA_IPSET_ARGS_MAX + 1)
			return -E2BIG;
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	rc = spa_pu_run(st->host, argv, &res, 0);
	/* the host owns res.out until our next run */
	if (rc == 0 && out)
		*out = res.out ? res.out : "";
	return rc;
}

static void exec_close(struct spa_ipset_state *st)
{
	(void)st;
}

const struct spa_ipset_xport spa_ipset_xport_exec = {
	.name = "exec",
	.open = exec_open,
	.run = exec_run,
	.close = exec_close,
};
