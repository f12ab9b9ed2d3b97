/* SPDX-License-Identifier: MIT */
/*
 * spa_store.h - the engine's side of a state-store module (spa/store.h,
 * docs/CLUSTER.md): the module's calls block for a network round trip,
 * so they run on threads of their own, never on the event loop. The loop
 * submits jobs and takes them back, with the watch's events, when the
 * store's descriptor is readable.
 */
#ifndef SPA_STORE_RUNTIME_H
#define SPA_STORE_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spa/store.h"
#include "spa_plugin.h"

enum spa_store_job_kind { SPA_STORE_CLAIM, SPA_STORE_PUT, SPA_STORE_DEL };

struct spa_store_job {
	struct spa_store_job *next;
	enum spa_store_job_kind kind;
	/* a claim has one or two keys (a GnuPG packet's two digests), ""
	 * unused; put and del use key[0] */
	char key[2][SPA_STORE_KEY_MAX + 1];
	char *value;                  /* put: owned by the job */
	uint32_t ttl;
	/* claim: SPA_STORE_NEW when every key was new, SPA_STORE_SEEN when
	 * one was seen (the later keys are then not claimed), else the
	 * first error; put/del: 0 or the error */
	int rc;
	uint64_t submitted_ms, done_ms;   /* monotonic */
	void *owner;                  /* the submitter's */
};

struct spa_store_event {
	struct spa_store_event *next;
	int event;                    /* SPA_STORE_EV_* */
	char *key, *value;            /* NULL where the event has none */
};

struct spa_store;

/* Starts `threads` workers for p (an initialised store module) and, when
 * watch_prefix is not NULL, a thread following that prefix (re-watched
 * after a pause whenever the module returns an error). */
int spa_store_start(struct spa_plugin *p, unsigned threads, const char *watch_prefix,
		    struct spa_store **out);
/* Readable when jobs or events are back. */
int spa_store_fd(const struct spa_store *s);
/* Takes ownership of job (freed with spa_store_job_free once taken back). */
void spa_store_submit(struct spa_store *s, struct spa_store_job *job);
/* Jobs done and events seen since the last call, oldest first. */
void spa_store_take(struct spa_store *s, struct spa_store_job **jobs,
		    struct spa_store_event **events);
void spa_store_job_free(struct spa_store_job *job);
void spa_store_events_free(struct spa_store_event *ev);
/* Jobs submitted and not yet taken back. */
size_t spa_store_pending(const struct spa_store *s);
/* Stops the watch and the workers (waiting at most wait_ms for a module
 * call under way) and frees what is left; false when a thread was left
 * running in the module, which must then stay loaded. */
bool spa_store_stop(struct spa_store *s, int wait_ms);

#endif
