/* SPDX-License-Identifier: MIT */
#include "plugin_case.h"

#include <stdlib.h>
#include <string.h>

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

int plugin_case_check_refused(const char *key, const char *value, const char *says)
{
	struct plugin_case *c = plugin_case_new();
	int ok;

	fake_host_set(&c->h, key, value);
	ok = spa_plugin_descriptor.ops.check &&
	     spa_plugin_descriptor.ops.check(&c->h.api, NULL) < 0 && c->h.ncalls == 0 &&
	     strstr(c->h.last_err, key) && strstr(c->h.last_err, value) &&
	     strstr(c->h.last_err, says);
	fake_host_free(&c->h);
	free(c);
	return ok ? 0 : -1;
}
