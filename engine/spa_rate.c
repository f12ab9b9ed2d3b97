/* SPDX-License-Identifier: MIT */
/* spa_rate.c - token bucket (spa_rate.h). */
#include "spa_rate.h"

bool spa_rate_take(struct spa_rate *r, uint32_t burst, uint32_t period, int64_t now)
{
	/* Counting in tokens x period keeps a refill of burst/period tokens a
	 * second exact in integers: each second earns `burst` units, a token
	 * costs `period` units. */
	uint64_t cap = (uint64_t)burst * period;

	if (burst == 0 || period == 0)
		return true;
	if (!r->started) {
		r->started = true;
		r->units = cap;
		r->last = now;
	} else if (now > r->last) {
		uint64_t earned = (uint64_t)(now - r->last) * burst;
		r->units = earned >= cap - r->units ? cap : r->units + earned;
		r->last = now;
	}
	if (r->units < period)
		return false;
	r->units -= period;
	return true;
}
