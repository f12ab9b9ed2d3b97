/* SPDX-License-Identifier: MIT */
/* Reading the plugin's JSON documents in its cmocka tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "nft_json.h"

/* The command list of a document; the test fails on anything that is not
 * {"nftables": [...]}. Returns a new reference to the document. */
json_t *nft_parse_doc(const char *text, json_t **cmds)
{
	json_error_t err;
	json_t *doc;

	assert_non_null(text);
	doc = json_loads(text, 0, &err);
	if (!doc)
		fail_msg("not JSON (%s): %s", err.text, text);
	*cmds = json_object_get(doc, "nftables");
	assert_true(json_is_array(*cmds));
	return doc;
}

/* The body of command i when it is {verb: {kind: body}}, else NULL. */
json_t *nft_cmd_body(json_t *cmds, size_t i, const char *verb, const char *kind)
{
	json_t *cmd = json_array_get(cmds, i);

	if (!cmd || json_object_size(cmd) != 1)
		return NULL;
	return json_object_get(json_object_get(cmd, verb), kind);
}

void nft_assert_json(json_t *got, const char *want_text)
{
	json_error_t err;
	json_t *want = json_loads(want_text, JSON_DECODE_ANY, &err);

	assert_non_null(want);
	if (!json_equal(got, want)) {
		char *s = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);

		fprintf(stderr, "got:  %s\nwant: %s\n", s ? s : "(null)", want_text);
		free(s);
		json_decref(want);
		fail();
	}
	json_decref(want);
}
