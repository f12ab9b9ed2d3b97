/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the grant document of cluster mode
 * (spa_cluster_doc.c): JSON another node put in the shared store, read by
 * every node (docs/CLUSTER.md). The input is made a C string of exactly
 * its length (a NUL inside ends it, as the store's text would). A refusal
 * must name its reason; an accepted document must encode again, and the
 * encoding must decode to the same grant.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_fixture.h"
#include "spa_cluster_doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const struct spa_cluster_doc *a, const struct spa_cluster_doc *b)
{
	return a->version == b->version && strcmp(a->node, b->node) == 0 &&
	       a->family == b->family && memcmp(a->src_bin, b->src_bin, 16) == 0 &&
	       a->proto == b->proto && a->port == b->port && a->expires == b->expires &&
	       a->timeout == b->timeout && strcmp(a->user, b->user) == 0 &&
	       strcmp(a->policy, b->policy) == 0 && strcmp(a->stanza, b->stanza) == 0 &&
	       a->nat_flags == b->nat_flags && a->nat_family == b->nat_family &&
	       memcmp(a->nat_bin, b->nat_bin, 16) == 0 && a->nat_port == b->nat_port &&
	       memcmp(a->snat_bin, b->snat_bin, 4) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *again = NULL;
	struct spa_cluster_doc doc, back;
	char why[160] = "";
	int rc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	rc = spa_cluster_doc_decode(text, &doc, why, sizeof(why));
	if (rc > 0)
		fuzz_fail("decode returned a positive code", NULL);
	if (rc < 0) {
		if (!why[0])
			fuzz_fail("document refused without a reason", NULL);
		free(text);
		return 0;
	}
	rc = spa_cluster_doc_encode(&doc, &again);
	if (rc < 0 || !again)
		fuzz_fail("an accepted document does not encode again", NULL);
	why[0] = '\0';
	if (spa_cluster_doc_decode(again, &back, why, sizeof(why)) < 0)
		fuzz_fail("the encoding of an accepted document is refused", why);
	if (!same(&doc, &back))
		fuzz_fail("the encoding of an accepted document reads as another grant", again);
	free(again);
	free(text);
	return 0;
}
