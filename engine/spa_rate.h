/* SPDX-License-Identifier: MIT */
/*
 * spa_rate.h - the one rate limiter of the engine: a token bucket that
 * holds up to `burst` tokens and earns `burst` of them per `period`
 * seconds. Log line budgets (spa_log_limit) and MAX_KNOCKS_PER_MINUTE
 * both use it, so "N per period" means the same thing everywhere.
 */
#ifndef SPA_RATE_H
#define SPA_RATE_H

#include <stdbool.h>
#include <stdint.h>

/* All zero is a valid, full bucket (it fills at its first use), so one can
 * live in a memset structure. */
struct spa_rate {
	uint64_t units;      /* tokens x period: whole-second refills stay exact */
	int64_t last;        /* when units were last topped up (epoch s) */
	bool started;
};

/* Takes one token at time now (epoch seconds); false when the bucket is
 * empty. A clock that steps back earns nothing until it passes `last`. */
bool spa_rate_take(struct spa_rate *r, uint32_t burst, uint32_t period, int64_t now);

#endif
