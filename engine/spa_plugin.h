/* SPDX-License-Identifier: MIT */
/* spa_plugin.h - loading backend plugins and giving them a host API. */
#ifndef SPA_PLUGIN_LOADER_H
#define SPA_PLUGIN_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include "spa/plugin.h"
#include "spa_config.h"
#include "spa_run.h"

/* Answers stanza_get for a grant the engine holds, from the policy it was
 * granted under; *found false: not a grant of the store (ask the config). */
typedef const char *(*spa_plugin_grant_var_fn)(void *ctx, const struct spa_grant *g,
					       const char *key, bool *found);

struct spa_plugin;
/* token_set and token_get (ABI 1.3) for a grant the engine holds: the
 * daemon's store keeps and journals tokens; p is the plugin asking. */
typedef int (*spa_plugin_token_set_fn)(void *ctx, const struct spa_plugin *p,
				       const struct spa_grant *g, const void *data, size_t len);
typedef const void *(*spa_plugin_token_get_fn)(void *ctx, const struct spa_plugin *p,
					       const struct spa_grant *g, size_t *len);

struct spa_plugin {
	void *dl;
	int fd;                       /* the opened file, kept until unload */
	/* The plugin's descriptor, copied whole and zero-filled past what an
	 * older minor's smaller descriptor holds (its optional ops are NULL). */
	struct spa_plugin_descriptor desc;
	const struct spa_plugin_descriptor *d;  /* &desc */
	/* Copies of the global keys the plugin may see, taken at init and kept
	 * until fini: what config_get returns stays valid across reloads. */
	struct spa_conf_kv *keys;
	size_t n_keys;
	spa_plugin_grant_var_fn grant_var;
	spa_plugin_token_set_fn token_set;   /* NULL: no store (token_set fails) */
	spa_plugin_token_get_fn token_get;
	void *grant_var_ctx;                 /* the context of all three */
	void *state;
	bool initialised;
	struct spa_host_api host;
	const struct spa_config *cfg;
	/* while check runs: the config being checked (a reload's, not yet the
	 * running one), which config_get and stanza_get then answer from */
	const struct spa_config *check_cfg;
	struct spa_run_buf run_buf;
	char path[PATH_MAX];
};

/* Opens path and checks the descriptor; no plugin code runs here. */
int spa_plugin_load(const char *path, struct spa_plugin **out, char *err, size_t errlen);
/* <dir>/<name>.so; the descriptor's name must equal name. */
int spa_plugin_load_named(const char *dir, const char *name, struct spa_plugin **out,
			  char *err, size_t errlen);
int spa_plugin_init(struct spa_plugin *p, const struct spa_config *cfg);
/* Runs the plugin's optional check op on cfg's global keys, then on each
 * stanza of cfg that `serves` (NULL: every stanza) says is the plugin's.
 * 0 when it has no check op. Nothing is initialised. */
int spa_plugin_check(struct spa_plugin *p, const struct spa_config *cfg,
		     bool (*serves)(const struct spa_config *cfg, const struct spa_stanza *s,
				    const struct spa_plugin *p));
/* Whether cfg gives the plugin's global keys other values than the ones
 * it was initialised with; names the first such key in `key`. */
bool spa_plugin_keys_changed(const struct spa_plugin *p, const struct spa_config *cfg,
			     char *key, size_t keylen);
void spa_plugin_unload(struct spa_plugin *p);
/* A state-store module (SPA_PLUGIN_CAP_STORE) has no firewall ops: named
 * where a backend is expected, it is unloaded and refused (-EINVAL, err
 * says why); 0 for any other plugin. */
int spa_plugin_refuse_store(struct spa_plugin *p, char *err, size_t errlen);
/* Whether a plugin with key_prefix may read config key `key`. */
bool spa_plugin_key_visible(const char *prefix, const char *key);
/* FLUSH_<prefix>AT_INIT / _AT_EXIT, fwknop default Y: whether the daemon
 * flushes this backend at start (before re-opening journal grants) or at
 * a clean stop. `what` is "AT_INIT" or "AT_EXIT". */
bool spa_plugin_flush_wanted(const struct spa_plugin *p, const char *what);

#endif
