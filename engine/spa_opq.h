/* SPDX-License-Identifier: MIT */
/*
 * spa_opq.h - a plugin instance's worker: the thread that runs its ops, so
 * that the daemon's event loop never waits for a backend (docs/ARCHITECTURE.md,
 * "Plugin runtime"). The main thread submits ops; they wait in `pending` until
 * the journal lines that describe them are written (spa_opq_release), then in
 * the queue for the worker, which runs them one batch at a time in FIFO order
 * and hands them back through the done list, waking the loop by an eventfd.
 * Every field of an op is the main thread's except its results, which are
 * the worker's until the op is done.
 */
#ifndef SPA_OPQ_H
#define SPA_OPQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spa/plugin.h"
#include "spa_policy.h"

struct spa_plugin;
struct spa_decision_note;

/* PLUGIN_BATCH_MAX's ceiling: the worker's batch arrays are this long. */
#define SPA_OPQ_BATCH_CEILING 4096u

enum spa_op_kind { SPA_OP_OPEN, SPA_OP_CLOSE, SPA_OP_REFRESH, SPA_OP_LIST, SPA_OP_COMMAND };

/* SPA_OP_COMMAND's message, owned by its op: c's pointers point into the
 * fields after it (spa_daemon_cmd.c fills it). */
struct spa_cmd_job {
	struct spa_command c;
	char text[256];
	char sudo_exe[4096];
	char sudo_user[64], sudo_group[64];
	char detail[160];                 /* the decision line's end (main thread) */
};

struct spa_op {
	struct spa_op *next;
	enum spa_op_kind kind;
	struct spa_grant g;               /* a copy; id 0: a backend entry no grant
					   * covers (a reconciliation close) */
	const struct spa_policy *policy;  /* what stanza_get answers from; NULL: nothing */
	size_t token_len;                 /* the grant's token, kept current */
	uint8_t token[SPA_GRANT_TOKEN_MAX];
	const char *why;                  /* the engine's reason, a static string */
	unsigned attempt;                 /* 0: first try */
	uint64_t watermark;               /* LIST: the store's next grant id then */
	bool lost;                        /* OPEN: reconciliation found it missing */
	struct spa_decision_note *note;   /* the knock's decision lines wait for it */
	struct spa_cmd_job *job;          /* SPA_OP_COMMAND, owned */
	/* results: the worker's until done */
	int rc;
	int fail_kind;                    /* SPA_FAIL_*; 0: class it by errno */
	char msg[160];                    /* op_fail's message */
	int token_rc;                     /* a token_set the journal refused: fails
					   * the op (an open is closed again) */
	struct spa_grant *listed;         /* LIST: what the backend holds */
	size_t n_listed, cap_listed;
	int list_err;
	/* the main thread's */
	bool timed_out;                   /* failed at its deadline; its result is
					   * ignored when it comes */
	struct spa_op *req_next;          /* a token_set waiting for the journal */
	bool req_done;
	int req_rc;                       /* the journal's answer to it */
};

struct spa_opq {
	struct spa_plugin *p;
	pthread_t thread;
	bool started;
	bool hung;                        /* did not stop in time: never unload p */
	pthread_mutex_t mu;
	pthread_cond_t work_cv, req_cv;
	struct spa_op *pending, *pending_tail;  /* main thread only */
	struct spa_op *queue, *queue_tail;
	struct spa_op **cur;              /* the batch the worker runs */
	size_t n_cur;
	uint64_t cur_started_ms;          /* monotonic; 0: idle */
	bool cur_timed_out;
	struct spa_op *done, *done_tail;
	struct spa_op *reqs;
	bool stop;
	int efd;                          /* the loop's eventfd (not owned) */
	uint32_t timeout_ms, batch_max;
	/* main thread: opens and refreshes submitted and not done, for
	 * PLUGIN_QUEUE_MAX; ops of any kind not done */
	size_t waiting_opens, outstanding;
	/* the worker's scratch for batch calls */
	const struct spa_grant **gv;
	int *rcv;
};

uint64_t spa_opq_now_ms(void);
/* Starts p's worker; efd is written when an op is done or asks something. */
int spa_opq_start(struct spa_opq **out, struct spa_plugin *p, int efd, uint32_t timeout_ms,
		  uint32_t batch_max);
/* PLUGIN_OP_TIMEOUT / PLUGIN_BATCH_MAX of a reloaded configuration. */
void spa_opq_set_limits(struct spa_opq *q, uint32_t timeout_ms, uint32_t batch_max);
struct spa_op *spa_opq_op_new(enum spa_op_kind kind);
void spa_opq_op_free(struct spa_op *op);
/* Main thread: queues op behind the others, not yet visible to the worker. */
void spa_opq_submit(struct spa_opq *q, struct spa_op *op);
/* Main thread: hands what was submitted to the worker. */
void spa_opq_release(struct spa_opq *q);
/* Main thread: the ops done, in the order they were run. */
struct spa_op *spa_opq_take_done(struct spa_opq *q);
/* Main thread: token_set calls waiting for the journal; answer each. */
struct spa_op *spa_opq_take_requests(struct spa_opq *q);
void spa_opq_answer(struct spa_opq *q, struct spa_op *op, int rc);
/* Main thread: a token the journal now holds for grant id, given to the
 * ops of that grant not yet run, so their token_get sees it. */
void spa_opq_retoken(struct spa_opq *q, uint64_t id, const void *token, size_t len);
/* Main thread: ms until the running batch reaches PLUGIN_OP_TIMEOUT, -1
 * when nothing runs or it already has. */
int spa_opq_deadline_ms(struct spa_opq *q, uint64_t now_ms);
/* Main thread: when the running batch is past its deadline, marks its ops
 * timed out and returns them (*n of them; the array is the opq's, valid
 * until the next call); NULL otherwise. */
struct spa_op *const *spa_opq_overdue(struct spa_opq *q, uint64_t now_ms, size_t *n);
/* Main thread: nothing pending, queued, running or done-but-untaken. */
bool spa_opq_idle(struct spa_opq *q);
/* Stops the worker after the op it runs (what is queued stays queued) and
 * joins it within wait_ms; -ETIMEDOUT leaves it hung (p must then never
 * be unloaded). */
int spa_opq_stop(struct spa_opq *q, int wait_ms);
/* Frees q; ops still held are freed too. A hung worker's q is leaked. */
void spa_opq_free(struct spa_opq *q);

/* Whether the calling thread is p's worker. */
bool spa_opq_in_worker(const struct spa_plugin *p);
/* Worker side, for the host API: the op of the running batch that serves
 * g (by address or grant id), or NULL outside one of p's ops. */
struct spa_op *spa_opq_current(const struct spa_plugin *p, const struct spa_grant *g);
/* Worker side: token_set of op's grant, journaled by the main thread
 * before it returns. */
int spa_opq_token_set(struct spa_op *op, const void *data, size_t len);
/* Worker side: ms left before p's running batch reaches its deadline (at
 * least 1), for the commands it runs; -1 outside one of p's ops. */
int spa_opq_time_left_ms(const struct spa_plugin *p);

#endif
