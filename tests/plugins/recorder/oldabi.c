/* SPDX-License-Identifier: MIT */
/* oldabi - a plugin built against ABI 1.1: its descriptor ends at ops.fini.
 * The engine must load it and read nothing past struct_size: the check op
 * that follows in this file's (1.2-sized) object aborts if ever called. */
#include <stddef.h>
#include <stdlib.h>

#include "spa/plugin.h"

static int old_init(const struct spa_host_api *host, void **state)
{
	(void)host;
	*state = NULL;
	return 0;
}

static int old_grant(void *state, const struct spa_grant *g)
{
	(void)state;
	(void)g;
	return 0;
}

static int old_flush(void *state)
{
	(void)state;
	return 0;
}

static void old_fini(void *state)
{
	(void)state;
}

static int boom_check(const struct spa_host_api *host, const struct spa_grant *probe)
{
	(void)host;
	(void)probe;
	abort();
}

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	.magic = SPA_PLUGIN_MAGIC,
	.abi_major = SPA_PLUGIN_ABI_MAJOR,
	.abi_minor = 1,
	.struct_size = offsetof(struct spa_plugin_descriptor, ops) +
		       offsetof(struct spa_plugin_ops, check),
	.name = "oldabi",
	.version = "1.1",
	.key_prefix = "OLDABI_",
	.ops = { .init = old_init, .open = old_grant, .close = old_grant, .flush = old_flush,
		 .fini = old_fini, .check = boom_check },
};
