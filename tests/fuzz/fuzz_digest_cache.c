/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the replay cache loader (spa_replay.c through
 * spa_replay_open): the input is written as digest.cache in a private
 * directory and loaded, keeping everything and then with an age window.
 * A load rewrites a damaged file clean, keeping every digest it held, so
 * loading that rewrite must give the same count: a digest lost there is
 * a packet that could be replayed after a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_fixture.h"
#include "fuzz_tmp.h"
#include "spa_log.h"
#include "spa_replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed "now" inside the range the seeds' times use, so the age window
 * prunes some records and keeps others. */
#define FUZZ_NOW 1750000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct spa_replay *r = NULL;
	const char *path;
	size_t first;

	if (!ready) {
		/* SPA_FUZZ_DEBUG set: the loader's warnings go to stderr */
		spa_log_setup("fuzz", getenv("SPA_FUZZ_DEBUG") != NULL, false, 0);
		ready = 1;
	}
	path = fuzz_tmp_write("digest.cache", data, size);
	if (spa_replay_open(path, FUZZ_NOW, 0, &r) != 0) {
		if (r != NULL)
			fuzz_fail("failed replay open left a cache", NULL);
		return 0;
	}
	first = spa_replay_count(r);
	spa_replay_close(r);

	r = NULL;
	if (spa_replay_open(path, FUZZ_NOW, 0, &r) != 0)
		fuzz_fail("a digest cache that loaded does not load again", NULL);
	if (spa_replay_count(r) != first)
		fuzz_fail("reloading a digest cache changed its count", NULL);
	spa_replay_close(r);

	r = NULL;
	if (spa_replay_open(path, FUZZ_NOW, 120, &r) != 0)
		fuzz_fail("a digest cache that loaded does not load with an age window",
			  NULL);
	if (spa_replay_count(r) > first)
		fuzz_fail("pruning a digest cache added digests", NULL);
	spa_replay_close(r);
	return 0;
}
