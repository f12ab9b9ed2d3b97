/* SPDX-License-Identifier: MIT */
/* spa_plugin.h - loading backend plugins and giving them a host API. */
#ifndef SPA_PLUGIN_LOADER_H
#define SPA_PLUGIN_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include "spa/plugin.h"
#include "spa_config.h"
#include "spa_run.h"

struct spa_plugin {
	void *dl;
	const struct spa_plugin_descriptor *d;
	void *state;
	bool initialised;
	struct spa_host_api host;
	const struct spa_config *cfg;
	struct spa_run_buf run_buf;
	char path[PATH_MAX];
};

/* Opens path and checks the descriptor; no plugin code runs here. */
int spa_plugin_load(const char *path, struct spa_plugin **out, char *err, size_t errlen);
/* <dir>/<name>.so; the descriptor's name must equal name. */
int spa_plugin_load_named(const char *dir, const char *name, struct spa_plugin **out,
			  char *err, size_t errlen);
int spa_plugin_init(struct spa_plugin *p, const struct spa_config *cfg);
void spa_plugin_unload(struct spa_plugin *p);
/* Whether a plugin with key_prefix may read config key `key`. */
bool spa_plugin_key_visible(const char *prefix, const char *key);
/* FLUSH_<prefix>AT_INIT / _AT_EXIT, fwknop default Y: whether the daemon
 * flushes this backend at start (before re-opening journal grants) or at
 * a clean stop. `what` is "AT_INIT" or "AT_EXIT". */
bool spa_plugin_flush_wanted(const struct spa_plugin *p, const char *what);

#endif
