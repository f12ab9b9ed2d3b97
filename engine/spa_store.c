/* SPDX-License-Identifier: MIT */
/*
 * spa_store.c - worker threads and the watch thread of a state-store
 * module (spa_store.h). A handful of workers lets a burst of knocks wait
 * on the store together (each claim is a round trip to a quorum) instead
 * of one after another; the module is thread-safe by contract.
 */
#include "spa_store.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "spa_log.h"
#include "spa_opq.h"

#define SPA_STORE_MAX_THREADS 16
#define WATCH_PAUSE_MIN_MS 500u
#define WATCH_PAUSE_MAX_MS 8000u

struct spa_store {
	struct spa_plugin *p;
	const struct spa_store_ops *ops;
	pthread_mutex_t mu;
	pthread_cond_t cv;            /* work queued, or stopping */
	/* the watch's pause after an error ends early only when stopping: a
	 * cv of its own, or a submit's signal could wake the pausing watch
	 * thread instead of an idle worker, and the job would wait for the
	 * next submit */
	pthread_cond_t pause_cv;
	struct spa_store_job *todo, *todo_tail;
	struct spa_store_job *done, *done_tail;
	struct spa_store_event *ev, *ev_tail;
	size_t pending;
	bool stopping;
	int efd;
	pthread_t threads[SPA_STORE_MAX_THREADS];
	unsigned n_threads;
	pthread_t watcher;
	bool watching;
	char *prefix;
	unsigned running;             /* threads not yet returned */
};

static void wake_loop(struct spa_store *s)
{
	uint64_t one = 1;

	/* a full counter is readable already: nothing is lost */
	(void)!write(s->efd, &one, sizeof(one));
}

static int claim_keys(struct spa_store *s, const struct spa_store_job *j)
{
	int rc = SPA_STORE_NEW;

	for (int i = 0; i < 2 && rc == SPA_STORE_NEW; i++)
		if (j->key[i][0])
			rc = s->ops->claim(s->p->state, j->key[i], j->ttl);
	if (rc != SPA_STORE_NEW && rc != SPA_STORE_SEEN && rc >= 0)
		rc = -EPROTO;   /* a module answering outside the contract */
	return rc;
}

static void run_job(struct spa_store *s, struct spa_store_job *j)
{
	switch (j->kind) {
	case SPA_STORE_CLAIM:
		j->rc = claim_keys(s, j);
		break;
	case SPA_STORE_PUT:
		j->rc = s->ops->put(s->p->state, j->key[0], j->value ? j->value : "", j->ttl);
		break;
	case SPA_STORE_DEL:
		j->rc = s->ops->del(s->p->state, j->key[0]);
		break;
	}
	if (j->rc > 0 && j->kind != SPA_STORE_CLAIM)
		j->rc = 0;
	j->done_ms = spa_opq_now_ms();
}

static void *worker_main(void *arg)
{
	struct spa_store *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct spa_store_job *j;

		while (!s->todo && !s->stopping)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stopping)
			break;
		j = s->todo;
		s->todo = j->next;
		if (!s->todo)
			s->todo_tail = NULL;
		pthread_mutex_unlock(&s->mu);
		run_job(s, j);
		pthread_mutex_lock(&s->mu);
		j->next = NULL;
		if (s->done_tail)
			s->done_tail->next = j;
		else
			s->done = j;
		s->done_tail = j;
		wake_loop(s);
	}
	s->running--;
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static char *dup_or_null(const char *v, bool *failed)
{
	char *c;

	if (!v)
		return NULL;
	c = strdup(v);
	if (!c)
		*failed = true;
	return c;
}

/* From the module, on the watch thread. */
static void on_event(void *ctx, int event, const char *key, const char *value)
{
	struct spa_store *s = ctx;
	struct spa_store_event *e;
	bool failed = false;

	if (event != SPA_STORE_EV_PUT && event != SPA_STORE_EV_DEL &&
	    event != SPA_STORE_EV_SYNCED)
		return;
	if (event != SPA_STORE_EV_SYNCED &&
	    (!key || strnlen(key, SPA_STORE_KEY_MAX + 1) > SPA_STORE_KEY_MAX))
		return;
	if (event == SPA_STORE_EV_PUT &&
	    (!value || strnlen(value, SPA_STORE_VALUE_MAX + 1) > SPA_STORE_VALUE_MAX))
		return;
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->event = event;
	e->key = event == SPA_STORE_EV_SYNCED ? NULL : dup_or_null(key, &failed);
	e->value = event == SPA_STORE_EV_PUT ? dup_or_null(value, &failed) : NULL;
	if (failed) {
		/* the event is lost: that grant is not opened here until the
		 * next watch lists it (after a lost store or a restart); its
		 * node and the others still close it on time */
		spa_log(SPA_L_ERR, "state store: out of memory for a watch event; %s not "
			"applied here", key ? key : "an event");
		free(e->key);
		free(e->value);
		free(e);
		return;
	}
	pthread_mutex_lock(&s->mu);
	if (s->ev_tail)
		s->ev_tail->next = e;
	else
		s->ev = e;
	s->ev_tail = e;
	wake_loop(s);
	pthread_mutex_unlock(&s->mu);
}

static void *watch_main(void *arg)
{
	struct spa_store *s = arg;
	unsigned pause_ms = WATCH_PAUSE_MIN_MS;

	for (;;) {
		struct timespec until;
		uint64_t began;
		int rc;

		pthread_mutex_lock(&s->mu);
		if (s->stopping)
			break;
		pthread_mutex_unlock(&s->mu);
		began = spa_opq_now_ms();
		rc = s->ops->watch(s->p->state, s->prefix, on_event, s);
		pthread_mutex_lock(&s->mu);
		if (s->stopping)
			break;
		/* a watch that ran a while was a working one: start over fast */
		if (spa_opq_now_ms() - began > 30000u)
			pause_ms = WATCH_PAUSE_MIN_MS;
		spa_log(SPA_L_WARNING, "state store %s: watch of %s ended (%s); watching again "
			"in %u ms", s->p->d->name, s->prefix, rc < 0 ? strerror(-rc) : "no error",
			pause_ms);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += pause_ms / 1000u;
		until.tv_nsec += (long)(pause_ms % 1000u) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!s->stopping && pthread_cond_timedwait(&s->pause_cv, &s->mu, &until) == 0)
			;
		pthread_mutex_unlock(&s->mu);
		pause_ms = pause_ms * 2 > WATCH_PAUSE_MAX_MS ? WATCH_PAUSE_MAX_MS : pause_ms * 2;
	}
	s->running--;
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int spa_store_start(struct spa_plugin *p, unsigned threads, const char *watch_prefix,
		    struct spa_store **out)
{
	struct spa_store *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	int rc = 0;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->p = p;
	s->ops = p->d->store;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0) {
		rc = -errno;
		free(s);
		return rc;
	}
	pthread_mutex_init(&s->mu, NULL);
	/* the watch's pause is measured on the monotonic clock */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, NULL);
	pthread_cond_init(&s->pause_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (threads > SPA_STORE_MAX_THREADS)
		threads = SPA_STORE_MAX_THREADS;
	pthread_mutex_lock(&s->mu);
	for (unsigned i = 0; i < threads && rc == 0; i++) {
		rc = -pthread_create(&s->threads[i], NULL, worker_main, s);
		if (rc == 0) {
			s->n_threads++;
			s->running++;
		}
	}
	if (rc == 0 && watch_prefix) {
		s->prefix = strdup(watch_prefix);
		rc = s->prefix ? -pthread_create(&s->watcher, NULL, watch_main, s) : -ENOMEM;
		if (rc == 0) {
			s->watching = true;
			s->running++;
		}
	}
	pthread_mutex_unlock(&s->mu);
	if (rc < 0) {
		/* the threads started are idle: they end at once, but not
		 * before a deadline of "now" (which would leave them running
		 * with s never freed) */
		spa_store_stop(s, 5000);
		return rc;
	}
	*out = s;
	return 0;
}

int spa_store_fd(const struct spa_store *s)
{
	return s ? s->efd : -1;
}

void spa_store_submit(struct spa_store *s, struct spa_store_job *job)
{
	job->next = NULL;
	job->submitted_ms = spa_opq_now_ms();
	pthread_mutex_lock(&s->mu);
	if (s->todo_tail)
		s->todo_tail->next = job;
	else
		s->todo = job;
	s->todo_tail = job;
	s->pending++;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void spa_store_take(struct spa_store *s, struct spa_store_job **jobs,
		    struct spa_store_event **events)
{
	uint64_t n;

	(void)!read(s->efd, &n, sizeof(n));
	pthread_mutex_lock(&s->mu);
	*jobs = s->done;
	*events = s->ev;
	for (struct spa_store_job *j = s->done; j; j = j->next)
		s->pending--;
	s->done = s->done_tail = NULL;
	s->ev = s->ev_tail = NULL;
	pthread_mutex_unlock(&s->mu);
}

void spa_store_job_free(struct spa_store_job *job)
{
	if (!job)
		return;
	free(job->value);
	free(job);
}

void spa_store_events_free(struct spa_store_event *ev)
{
	while (ev) {
		struct spa_store_event *next = ev->next;
		free(ev->key);
		free(ev->value);
		free(ev);
		ev = next;
	}
}

size_t spa_store_pending(const struct spa_store *s)
{
	return s ? s->pending : 0;
}

static bool join_by(pthread_t t, const struct timespec *deadline)
{
	return pthread_timedjoin_np(t, NULL, deadline) == 0;
}

bool spa_store_stop(struct spa_store *s, int wait_ms)
{
	struct timespec deadline;
	struct spa_store_job *jobs;
	struct spa_store_event *events;
	bool all = true;

	if (!s)
		return true;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->cv);
	pthread_cond_broadcast(&s->pause_cv);
	pthread_mutex_unlock(&s->mu);
	if (s->watching)
		s->ops->watch_stop(s->p->state);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += wait_ms / 1000;
	deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	for (unsigned i = 0; i < s->n_threads; i++)
		all = join_by(s->threads[i], &deadline) && all;
	if (s->watching)
		all = join_by(s->watcher, &deadline) && all;
	if (!all) {
		/* a thread still inside the module owns s: leave both be */
		spa_log(SPA_L_ERR, "state store %s: a call did not return in %d ms; left running",
			s->p->d->name, wait_ms);
		return false;
	}
	spa_store_take(s, &jobs, &events);
	while (jobs) {
		struct spa_store_job *next = jobs->next;
		spa_store_job_free(jobs);
		jobs = next;
	}
	while (s->todo) {
		struct spa_store_job *next = s->todo->next;
		spa_store_job_free(s->todo);
		s->todo = next;
	}
	spa_store_events_free(events);
	close(s->efd);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->pause_cv);
	pthread_mutex_destroy(&s->mu);
	free(s->prefix);
	free(s);
	return true;
}
