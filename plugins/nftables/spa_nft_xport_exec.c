/* SPDX-License-Identifier: MIT */
/*
 * Transport through the nft command: the JSON document goes to
 * `nft -j -f -` on stdin via the host's runner, one process per
 * operation. Used when the plugin was built without libnftables, or on
 * request (NFT_TRANSPORT exec).
 */
#include "spa_nft.h"

#include <string.h>

/* `nft -f -` opens /dev/stdin by name, which fails when the runner's stdin
 * is a socket rather than a pipe. One empty transaction at start tells
 * whether it works; if not, documents go through a private file, as they
 * must for an ABI 1.0 engine without run_input. */
static int exec_init(struct spa_nft_state *st)
{
	static const char empty[] = "{\"nftables\": []}";
	const struct spa_host_api *host = st->host;
	const char *argv[] = { st->exe, "-j", "-f", "-", NULL };
	struct spa_run_result res;

	st->exec_stdin = 0;
	if (!SPA_HOST_HAS(host, run_input))
		return 0;
	memset(&res, 0, sizeof(res));
	if (host->run_input(host->self, argv, empty, sizeof(empty) - 1, SPA_PU_RUN_TIMEOUT_MS,
			    &res) == 0 && res.exit_status == 0 && !res.timed_out)
		st->exec_stdin = 1;
	else
		host->log(host->self, SPA_LOG_INFO,
			  "%s cannot read its input on stdin here, using a private file", st->exe);
	return 0;
}

static int exec_apply(struct spa_nft_state *st, const struct spa_pu_buf *doc)
{
	const char *argv[] = { st->exe, "-j", "-f", "-", NULL };

	if (st->exec_stdin)
		return spa_pu_run_input(st->host, argv, doc, 0);
	argv[3] = NULL; /* spa_pu_run_batch appends the file's path */
	return spa_pu_run_batch(st->host, argv, doc);
}

static int exec_list(struct spa_nft_state *st, const char **out)
{
	const char *argv[] = { st->exe, "-j", "list", "table", "inet", st->table, NULL };
	struct spa_run_result res;
	int rc = spa_pu_run(st->host, argv, &res, 0);

	*out = rc == 0 && res.out ? res.out : "";
	return rc;
}

static void exec_fini(struct spa_nft_state *st)
{
	(void)st;
}

const struct spa_nft_xport spa_nft_xport_exec = {
	.name = "exec",
	.init = exec_init,
	.apply = exec_apply,
	.list = exec_list,
	.fini = exec_fini,
};
