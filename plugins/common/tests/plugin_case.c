/* SPDX-License-Identifier: MIT */
#include "plugin_case.h"

#include <stdlib.h>

extern const struct spa_plugin_descriptor spa_plugin_descriptor;

struct plugin_case *plugin_case_new(void)
{
	struct plugin_case *c = calloc(1, sizeof(*c));

	if (!c)
		abort();
	fake_host_init(&c->h);
	return c;
}

int plugin_case_teardown(void **tstate)
{
	struct plugin_case *c = *tstate;

	if (c->state)
		spa_plugin_descriptor.ops.fini(c->state);
	fake_host_free(&c->h);
	free(c);
	return 0;
}
