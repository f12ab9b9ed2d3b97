/* SPDX-License-Identifier: MIT */
#ifndef NFT_JSON_H
#define NFT_JSON_H
#include <jansson.h>

/* The command list of a document; the test fails on anything that is not
 * {"nftables": [...]}. Returns a new reference to the document. */
json_t *nft_parse_doc(const char *text, json_t **cmds);
/* The body of command i when it is {verb: {kind: body}}, else NULL. */
json_t *nft_cmd_body(json_t *cmds, size_t i, const char *verb, const char *kind);
/* Fails the test, showing both, unless got equals the JSON text want. */
void nft_assert_json(json_t *got, const char *want_text);
#endif
