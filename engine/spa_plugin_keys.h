/* SPDX-License-Identifier: MIT */
/* spa_plugin_keys.h - a plugin's key schema (ABI 1.3) applied to a configuration. */
#ifndef SPA_PLUGIN_KEYS_H
#define SPA_PLUGIN_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "spa_config.h"
#include "spa_plugin.h"

/*
 * Checks cfg's keys of plugin p against its schema (nothing without one):
 * fwknopd.conf keys with its prefix (FLUSH_*_AT_INIT/AT_EXIT and the
 * shared ENABLE_RULE_PREPEND/ENABLE_DESTINATION_RULE are spad's), the
 * stanza keys of the stanzas `serves` says are p's (NULL: all), types,
 * choices and required keys. A secret's <KEY>_FILE is read and added to
 * cfg as KEY. Secret keys are marked for -D. 0, or -EINVAL (-EPERM for a
 * secret file others may read) with "file:line: ..." in err.
 */
int spa_plugin_keys_apply(const struct spa_plugin *p, struct spa_config *cfg,
			  bool (*serves)(const struct spa_config *cfg, const struct spa_stanza *s,
					 const struct spa_plugin *p),
			  char *err, size_t errlen);
/* The schema's default of a global key, or NULL. */
const char *spa_plugin_key_default(const struct spa_plugin *p, const char *name);

#endif
