/* SPDX-License-Identifier: MIT */
/*
 * A host API for plugin tests that really executes argv (fork + execve,
 * empty environment, no shell) like spad's runner, so a plugin can be
 * driven against a recording script standing in for a firewall CLI.
 */
#ifndef EXEC_HOST_H
#define EXEC_HOST_H

#include <spa/plugin.h>

#define EXEC_MAX_KEYS 16

struct exec_host {
	struct spa_host_api api;
	const char *keys[EXEC_MAX_KEYS];
	const char *values[EXEC_MAX_KEYS];
	unsigned int nkeys;
	char *out;             /* stdout of the last run */
	unsigned int nerrors;  /* log lines at SPA_LOG_ERR */
};

void exec_host_init(struct exec_host *h);
void exec_host_free(struct exec_host *h);
void exec_host_set(struct exec_host *h, const char *key, const char *value);

#endif
