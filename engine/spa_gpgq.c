/* SPDX-License-Identifier: MIT */
/* spa_gpgq.c - waiting GnuPG packets and the gpg budget (spa_gpgq.h). */
#include "spa_gpgq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_EVERY 60

int spa_gpgq_init(struct spa_gpgq *q, uint32_t max_concurrent, uint32_t per_second)
{
	memset(q, 0, sizeof(*q));
	q->max_concurrent = max_concurrent ? max_concurrent : 1;
	q->per_second = per_second;
	q->cap = SPA_GPGQ_VOUCHED_MAX(q->max_concurrent) + q->max_concurrent;
	q->jobs = calloc(q->cap, sizeof(*q->jobs));
	q->next_id = 1;
	return q->jobs ? 0 : -ENOMEM;
}

void spa_gpgq_set_busy_percent(struct spa_gpgq *q, uint32_t percent)
{
	q->busy_percent = percent >= 100 ? 0 : percent;
}

/* The debt shrinks by busy_percent of the time passed since it was last
 * looked at. */
static void repay(struct spa_gpgq *q, int64_t now_ms)
{
	if (q->debt_ms > 0 && now_ms > q->debt_at_ms) {
		q->debt_ms -= (now_ms - q->debt_at_ms) * (int64_t)q->busy_percent / 100;
		if (q->debt_ms < 0)
			q->debt_ms = 0;
	}
	q->debt_at_ms = now_ms;
}

void spa_gpgq_ran(struct spa_gpgq *q, const struct spa_gpg_job *j, int64_t now_ms)
{
	if (!q->busy_percent || !j->used || j->vouched)
		return;
	repay(q, now_ms);
	if (now_ms > j->sent_ms)
		q->debt_ms += now_ms - j->sent_ms;
}

void spa_gpgq_free(struct spa_gpgq *q)
{
	if (q->jobs) {
		for (size_t i = 0; i < q->cap; i++)
			if (q->jobs[i].used)
				spa_gpgq_release(q, &q->jobs[i]);
		free(q->jobs);
	}
	memset(q, 0, sizeof(*q));
}

static struct spa_gpg_job *refuse(struct spa_gpgq *q, const char **why, const char *text)
{
	q->refused++;
	q->refused_unreported++;
	*why = text;
	return NULL;
}

struct spa_gpg_job *spa_gpgq_admit(struct spa_gpgq *q, const struct spa_pkt *pkt,
				   const struct spa_decision *d, int64_t now, int64_t now_ms,
				   const char **why)
{
	bool vouched = d->resume.gpg_vouched;
	struct spa_gpg_job *j = NULL;

	if (pkt->len >= sizeof(j->wire))
		return refuse(q, why, "packet too long for gpg");
	if (vouched && q->n_vouched >= SPA_GPGQ_VOUCHED_MAX(q->max_concurrent))
		return refuse(q, why, "too many GnuPG packets waiting for gpg: not tried");
	if (!vouched && q->busy_percent)
		repay(q, now_ms);
	/* concurrency and time first: a token is spent only on a run that
	 * starts */
	if (!vouched && (q->n_unvouched >= q->max_concurrent || q->debt_ms > 0 ||
			 !spa_rate_take(&q->bucket, q->per_second, 1, now)))
		return refuse(q, why, "GnuPG budget reached: not tried");
	for (size_t i = 0; i < q->cap && !j; i++)
		if (!q->jobs[i].used)
			j = &q->jobs[i];
	if (!j)
		return refuse(q, why, "too many GnuPG packets waiting for gpg: not tried");
	j->used = true;
	j->vouched = vouched;
	j->id = q->next_id++;
	j->started = now;
	j->sent_ms = now_ms;
	j->pkt = *pkt;
	memcpy(j->wire, pkt->data, pkt->len);
	j->pkt.data = j->wire;
	j->d = *d;
	if (vouched)
		q->n_vouched++;
	else
		q->n_unvouched++;
	return j;
}

struct spa_gpg_job *spa_gpgq_find(struct spa_gpgq *q, uint64_t id)
{
	for (size_t i = 0; i < q->cap; i++)
		if (q->jobs[i].used && q->jobs[i].id == id)
			return &q->jobs[i];
	return NULL;
}

void spa_gpgq_release(struct spa_gpgq *q, struct spa_gpg_job *j)
{
	if (!j->used)
		return;
	if (j->vouched)
		q->n_vouched--;
	else
		q->n_unvouched--;
	explicit_bzero(j, sizeof(*j));
}

bool spa_gpgq_busy(const struct spa_gpgq *q)
{
	return q->n_vouched + q->n_unvouched > 0;
}

int64_t spa_gpgq_oldest(const struct spa_gpgq *q)
{
	int64_t oldest = 0;

	for (size_t i = 0; i < q->cap; i++)
		if (q->jobs[i].used && (!oldest || q->jobs[i].started < oldest))
			oldest = q->jobs[i].started;
	return oldest;
}

bool spa_gpgq_report_due(struct spa_gpgq *q, int64_t now, unsigned long *refused)
{
	if (!q->refused_unreported)
		return false;
	if (q->last_report && now - q->last_report < REPORT_EVERY && now >= q->last_report)
		return false;
	*refused = q->refused_unreported;
	q->refused_unreported = 0;
	q->last_report = now;
	return true;
}
