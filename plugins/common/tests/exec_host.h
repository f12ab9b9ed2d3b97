/* SPDX-License-Identifier: MIT */
/*
 * A host API for plugin tests that really executes argv (fork + execve,
 * empty environment, no shell) like spad's runner, so a plugin can be
 * driven against a recording script standing in for a firewall CLI. A
 * 1.1 host: run_input feeds the command's stdin through a pipe; a test of
 * a 1.0 engine sets api.struct_size to offsetof(struct spa_host_api,
 * run_input).
 */
#ifndef EXEC_HOST_H
#define EXEC_HOST_H

#include "fake_host.h"

struct exec_host {
	/* config (fake_host_set), log counting (fake.nerrors) and the API
	 * (fake.api), whose runner is replaced; first, so that the runner
	 * finds the exec_host from the API's self */
	struct fake_host fake;
	char *out;             /* stdout of the last run */
};

void exec_host_init(struct exec_host *h);
void exec_host_free(struct exec_host *h);

#endif
