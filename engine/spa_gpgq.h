/* SPDX-License-Identifier: MIT */
/*
 * spa_gpgq.h - the packet process's side of gpg work (docs/GNUPG.md,
 * "spad"): the packets waiting for the GnuPG helper and the budget of gpg
 * runs for packets no HMAC vouched for. Plain data and a clock passed in,
 * so the rules can be tested without a helper or a sleep.
 *
 * - A packet whose HMAC passed (a key holder sent it) is always admitted
 *   while fewer than 4 x GPG_MAX_CONCURRENT + 64 such packets wait.
 * - One without an HMAC is admitted only while fewer than
 *   GPG_MAX_CONCURRENT of its kind are with the helper, the
 *   GPG_MAX_PER_SECOND token bucket has a token (0: no per-second limit)
 *   and the time such runs took is paid back: each run's duration is a
 *   debt repaid at GPG_MAX_BUSY_PERCENT of the clock (a 400 ms run at 25%
 *   blocks the next one for 1.6 s). A count alone does not bound the CPU:
 *   a run costs 50 to 400 ms depending on the key's protection.
 *   Anything else is refused and counted: the packet loop never waits for
 *   gpg, and a flood costs at most that many gpg runs.
 */
#ifndef SPA_GPGQ_H
#define SPA_GPGQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spa_pipeline.h"
#include "spa_rate.h"

struct spa_gpg_job {
	bool used;
	bool vouched;
	uint64_t id;
	int64_t started;                 /* when it went to the helper (epoch s) */
	int64_t sent_ms;                 /* the same, monotonic ms */
	struct spa_pkt pkt;              /* pkt.data is wire */
	char wire[SPA_MAX_WIRE_LEN];
	struct spa_decision d;           /* SPA_DEFERRED, its loop state in d.resume */
};

struct spa_gpgq {
	struct spa_gpg_job *jobs;
	size_t cap;
	uint32_t max_concurrent, per_second;
	size_t n_vouched, n_unvouched;   /* waiting now, by kind */
	struct spa_rate bucket;
	uint32_t busy_percent;           /* 0 or 100: no time share */
	int64_t debt_ms, debt_at_ms;     /* run time not yet paid back, and when */
	uint64_t next_id;
	/* packets refused without a gpg run, since start and since the last
	 * report line */
	unsigned long refused, refused_unreported;
	int64_t last_report;
};

#define SPA_GPGQ_VOUCHED_MAX(c) (4u * (c) + 64u)

/* 0 or -ENOMEM. max_concurrent 0 counts as 1. No time share until
 * spa_gpgq_set_busy_percent. */
int spa_gpgq_init(struct spa_gpgq *q, uint32_t max_concurrent, uint32_t per_second);
void spa_gpgq_set_busy_percent(struct spa_gpgq *q, uint32_t percent);
void spa_gpgq_free(struct spa_gpgq *q);

/*
 * A job for pkt (copied, wire included) and the deferred decision d, or
 * NULL with the reason the packet gets no gpg run in *why (the budget, or
 * too many waiting); refusals are counted.
 */
struct spa_gpg_job *spa_gpgq_admit(struct spa_gpgq *q, const struct spa_pkt *pkt,
				   const struct spa_decision *d, int64_t now, int64_t now_ms,
				   const char **why);
/* j's run is over (its reply came, now_ms monotonic): a run without an
 * HMAC adds its duration to the debt. */
void spa_gpgq_ran(struct spa_gpgq *q, const struct spa_gpg_job *j, int64_t now_ms);
struct spa_gpg_job *spa_gpgq_find(struct spa_gpgq *q, uint64_t id);
/* Frees the job's slot and wipes it. */
void spa_gpgq_release(struct spa_gpgq *q, struct spa_gpg_job *j);
/* Whether jobs wait. */
bool spa_gpgq_busy(const struct spa_gpgq *q);
/* When the longest-waiting job was admitted (epoch s), 0 when none waits. */
int64_t spa_gpgq_oldest(const struct spa_gpgq *q);
/* True (with the count, then reset) when packets were refused since the
 * last report and at least 60 s have passed since it. */
bool spa_gpgq_report_due(struct spa_gpgq *q, int64_t now, unsigned long *refused);

#endif
