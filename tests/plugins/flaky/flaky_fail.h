/* SPDX-License-Identifier: MIT */
/*
 * flaky_fail.h - which calls the flaky test plugin fails. Shared with the
 * tests, so that they can work out what a seed does instead of hoping a
 * random pattern is kind to them.
 */
#ifndef SPA_FLAKY_FAIL_H
#define SPA_FLAKY_FAIL_H

#include <stdbool.h>
#include <stdint.h>

enum flaky_kind { FLAKY_OPEN = 0, FLAKY_CLOSE = 1 };

/* Whether call number `attempt` (from 0) of `kind` on grant `id` fails at
 * `pct` percent. A hash of those, not a generator stepped per call: the
 * engine interleaves the retries of many grants as timing dictates, and
 * the pattern of one grant must not depend on that. */
static inline bool flaky_fails(uint32_t seed, enum flaky_kind kind, uint64_t id,
			       uint32_t attempt, uint32_t pct)
{
	uint64_t x = ((uint64_t)seed << 32 | attempt) ^ (id * 0x9e3779b97f4a7c15u) ^
		     ((uint64_t)kind << 62);

	/* a 64-bit mixer, so that neighbouring ids and attempts differ */
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185u;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44du;
	x ^= x >> 33;
	return x % 100 < pct;
}

#endif
