/* SPDX-License-Identifier: MIT */
/* badabi - a test plugin from a future ABI; the loader must refuse it
 * without calling any of its code (its ops abort to prove that). */
#include <stdlib.h>

#include "spa/plugin.h"

static int boom_init(const struct spa_host_api *host, void **state)
{
	(void)host;
	(void)state;
	abort();
}

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	.magic = SPA_PLUGIN_MAGIC,
	.abi_major = SPA_PLUGIN_ABI_MAJOR + 1,
	.abi_minor = 0,
	.struct_size = sizeof(struct spa_plugin_descriptor),
	.name = "badabi",
	.version = "9.9",
	.ops = { .init = boom_init },
};
