/* SPDX-License-Identifier: MIT */
/*
 * The fixture of a plugin's cmocka cases: a fake host and the state the
 * plugin under test (its spa_plugin_descriptor, linked into the test)
 * made at init, finished and freed by plugin_case_teardown.
 */
#ifndef PLUGIN_CASE_H
#define PLUGIN_CASE_H

#include "fake_host.h"

struct plugin_case {
	struct fake_host h;
	void *state;       /* from ops.init, or NULL */
};

/* A zeroed case with an initialised fake host; aborts when out of memory. */
struct plugin_case *plugin_case_new(void);
/* cmocka teardown: ops.fini on the state, then frees the case. */
int plugin_case_teardown(void **tstate);

/* ops.check(NULL) on a fresh fake host with only key set to value: 0
 * when check refuses it without running anything and its last error line
 * names key, value and says; -1 otherwise. */
int plugin_case_check_refused(const char *key, const char *value, const char *says);

#endif
