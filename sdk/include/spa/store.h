/* SPDX-License-Identifier: MIT */
/*
 * spa/store.h - state-store modules (ABI 1.6 of spa/plugin.h): where the
 * daemons of a cluster share what must be shared, the replay digests of
 * accepted packets and the grants of GRANT_SCOPE cluster stanzas
 * (docs/CLUSTER.md). A store module is an ordinary plugin (the same
 * descriptor, loader, host API and key schema) that declares
 * SPA_PLUGIN_CAP_STORE and points its descriptor's `store` member at a
 * struct spa_store_ops. fwknopd.conf's STATE_STORE names it: "file" (the
 * default) is spad's own replay file and needs no module; "etcd" loads
 * <PLUGIN_DIR>/etcd.so. A Redis or Valkey module is the same contract.
 *
 * The store is a key-value map with time-to-live: keys are printable
 * ASCII (no spaces, at most SPA_STORE_KEY_MAX bytes) relative to the
 * module's own prefix (e.g. ETCD_PREFIX), values are text (at most
 * SPA_STORE_VALUE_MAX bytes). The engine owns what keys and values mean.
 *
 * Threads: claim, put and del are called from several engine threads at
 * once (never from the event loop) and must be thread-safe; watch runs on
 * a thread of its own and watch_stop is called from another thread. Every
 * call must return within the module's own request timeout: the engine
 * counts on a store that cannot answer saying so, not hanging.
 *
 * Errors: 0 / SPA_STORE_* or a negative errno. SPA_ERR_TRANSIENT
 * (-EAGAIN) means "the store cannot answer now" (no quorum, no endpoint
 * reachable, timeout): spad then applies CLUSTER_FAIL_MODE. Any other
 * negative code is a refusal that retrying will not change.
 */
#ifndef SPA_STORE_H
#define SPA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "spa/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SPA_STORE_KEY_MAX   192
#define SPA_STORE_VALUE_MAX 2048

/* claim's answers */
#define SPA_STORE_NEW  0    /* this call created the key */
#define SPA_STORE_SEEN 1    /* the key existed: someone claimed it first */

/* watch's events */
#define SPA_STORE_EV_PUT    1   /* key set (value given) */
#define SPA_STORE_EV_DEL    2   /* key deleted or expired (value NULL) */
#define SPA_STORE_EV_SYNCED 3   /* every key present when the watch began
				 * has been reported (key and value NULL) */

/* One event of a watch. Pointers are valid during the call only. */
typedef void (*spa_store_watch_cb)(void *ctx, int event, const char *key, const char *value);

struct spa_store_ops {
	uint32_t struct_size;          /* sizeof(struct spa_store_ops) of the module */
	/* Creates key (no value needed) for ttl_s seconds, atomically and
	 * only if absent in the whole store: of any number of concurrent
	 * claims of one key, across every node, exactly one gets
	 * SPA_STORE_NEW. The key must stay present at least ttl_s seconds.
	 * Returns SPA_STORE_NEW, SPA_STORE_SEEN or a negative error. */
	int (*claim)(void *state, const char *key, uint32_t ttl_s);
	/* Sets key to value, replacing any earlier value and time-to-live;
	 * the key disappears ttl_s seconds later unless put again. 0 or a
	 * negative error. */
	int (*put)(void *state, const char *key, const char *value, uint32_t ttl_s);
	/* Deletes key; a key already gone is success. */
	int (*del)(void *state, const char *key);
	/* Follows every key under prefix (relative, as keys are): reports
	 * each key present now (SPA_STORE_EV_PUT), then SPA_STORE_EV_SYNCED,
	 * then every change as it happens, in the store's order, with no gap
	 * between the listing and the changes. Blocks until watch_stop
	 * (returns 0) or until the store is lost (returns a negative error:
	 * the engine calls watch again after a pause, and a new watch starts
	 * with the full listing again, so a reconnect resynchronises). */
	int (*watch)(void *state, const char *prefix, spa_store_watch_cb cb, void *ctx);
	/* Makes a running watch return soon (within the request timeout);
	 * safe from any thread, and before or after watch runs. */
	void (*watch_stop)(void *state);
};

#ifdef __cplusplus
}
#endif
#endif
