/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the grant journal loader (spa_journal.c through
 * spa_grants_open): the input is written as the journal in a private
 * directory and loaded. A journal that loads is then saved as a snapshot
 * and loaded again, which must give back the same grants: what the
 * loader accepted, the writer must be able to say, and nothing may be
 * lost or invented across a restart.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_fixture.h"
#include "fuzz_tmp.h"
#include "spa_grants.h"
#include "spa_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rec(const struct spa_grants *gs, const struct spa_grant_rec *r)
{
	if (r->policy == NULL)
		fuzz_fail("journal grant without a policy", NULL);
	if (memchr(r->plugin, '\0', sizeof(r->plugin)) == NULL ||
	    memchr(r->g.stanza, '\0', sizeof(r->g.stanza)) == NULL ||
	    memchr(r->g.username, '\0', sizeof(r->g.username)) == NULL ||
	    memchr(r->policy->id, '\0', sizeof(r->policy->id)) == NULL)
		fuzz_fail("journal grant with an unterminated string", r->plugin);
	if (r->g.id == 0 || r->g.id >= gs->next_id)
		fuzz_fail("journal grant id not below next_id", NULL);
	if (r->token_len > SPA_GRANT_TOKEN_MAX)
		fuzz_fail("journal grant with a token too long", NULL);
}

static int same_rec(const struct spa_grant_rec *a, const struct spa_grant_rec *b)
{
	return a->g.id == b->g.id && a->g.family == b->g.family &&
	       !memcmp(&a->g.src, &b->g.src, sizeof(a->g.src)) &&
	       !memcmp(&a->g.dst, &b->g.dst, sizeof(a->g.dst)) &&
	       a->g.proto == b->g.proto && a->g.port == b->g.port &&
	       !memcmp(&a->g.nat_addr, &b->g.nat_addr, sizeof(a->g.nat_addr)) &&
	       a->g.nat_port == b->g.nat_port && a->g.timeout == b->g.timeout &&
	       a->g.expires == b->g.expires && !strcmp(a->g.stanza, b->g.stanza) &&
	       !strcmp(a->g.username, b->g.username) && !strcmp(a->plugin, b->plugin) &&
	       a->closing == b->closing && a->attempts == b->attempts &&
	       !strcmp(a->policy->id, b->policy->id) &&
	       a->policy->n_vars == b->policy->n_vars && a->token_len == b->token_len &&
	       !memcmp(a->token, b->token, a->token_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct spa_grants gs, again;
	const char *path;

	if (!ready) {
		/* SPA_FUZZ_DEBUG set: the loader's warnings go to stderr */
		spa_log_setup("fuzz", getenv("SPA_FUZZ_DEBUG") != NULL, false, 0);
		ready = 1;
	}
	path = fuzz_tmp_write("grants.json", data, size);
	if (spa_grants_open(&gs, path) != 0)
		return 0;
	for (size_t i = 0; i < gs.n; i++) {
		struct spa_grant_rec r, by_id;
		spa_grants_at(&gs, i, &r);
		check_rec(&gs, &r);
		/* ids are unique: the id index finds this very grant */
		if (!spa_grants_by_id(&gs, r.g.id, &by_id) || !same_rec(&r, &by_id))
			fuzz_fail("two journal grants with one id", NULL);
	}
	if (spa_grants_save(&gs) == 0) {
		if (spa_grants_open(&again, path) != 0)
			fuzz_fail("a saved journal does not load", NULL);
		if (again.n != gs.n || again.next_id != gs.next_id)
			fuzz_fail("a saved journal loads other grants", NULL);
		for (size_t i = 0; i < gs.n; i++) {
			struct spa_grant_rec a, b;
			spa_grants_at(&gs, i, &a);
			spa_grants_at(&again, i, &b);
			if (!same_rec(&a, &b))
				fuzz_fail("a saved journal changed a grant", a.g.stanza);
		}
		spa_grants_close(&again);
	}
	spa_grants_close(&gs);
	return 0;
}
