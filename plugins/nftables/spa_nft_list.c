/* SPDX-License-Identifier: MIT */
#include "spa_nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>

static int fill_addr(struct spa_grant_addr *a, int af, json_t *v)
{
	const char *s = json_string_value(v);

	memset(a, 0, sizeof(*a));
	if (!s || inet_pton(af, s, &a->bin) != 1)
		return -EINVAL;
	a->family = af;
	return spa_pu_addr_text(a, a->text, sizeof(a->text));
}

static int proto_of(json_t *v)
{
	if (json_is_string(v))
		return spa_pu_proto_number(json_string_value(v));
	if (json_is_integer(v))
		return json_integer_value(v) == IPPROTO_TCP || json_integer_value(v) == IPPROTO_UDP
			       ? (int)json_integer_value(v)
			       : -EPROTONOSUPPORT;
	return -EINVAL;
}

/* One element: {"elem": {"val": {"concat": [...]}, "expires": N, ...}}
 * or, without a timeout, just {"concat": [...]}. */
static void one_element(json_t *e, int af, int with_dst, int64_t now,
			spa_plugin_list_cb cb, void *ctx)
{
	json_t *inner = json_object_get(e, "elem");
	json_t *val = inner ? json_object_get(inner, "val") : e;
	json_t *concat = val ? json_object_get(val, "concat") : NULL;
	json_t *expires = inner ? json_object_get(inner, "expires") : NULL;
	size_t want = with_dst ? 4 : 3;
	struct spa_grant g;
	json_int_t port;
	int proto;

	if (!json_is_array(concat) || json_array_size(concat) != want)
		return;
	memset(&g, 0, sizeof(g));
	g.struct_size = sizeof(g);
	g.family = af;
	if (fill_addr(&g.src, af, json_array_get(concat, 0)) < 0)
		return;
	if (with_dst && fill_addr(&g.dst, af, json_array_get(concat, 1)) < 0)
		return;
	proto = proto_of(json_array_get(concat, want - 2));
	port = json_integer_value(json_array_get(concat, want - 1));
	if (proto < 0 || port <= 0 || port > 65535)
		return;
	g.proto = (uint8_t)proto;
	g.port = (uint16_t)port;
	/* "expires" is what the kernel has left, in seconds */
	g.expires = json_is_integer(expires) ? now + json_integer_value(expires) : 0;
	if (inner && json_is_integer(json_object_get(inner, "timeout")))
		g.timeout = (uint32_t)json_integer_value(json_object_get(inner, "timeout"));
	cb(ctx, &g);
}

int spa_nft_list_json(const char *json, int64_t now, spa_plugin_list_cb cb, void *ctx)
{
	json_error_t jerr;
	json_t *root = json_loads(json, 0, &jerr);
	json_t *items, *item;
	size_t i;
	int rc = -EINVAL;

	if (!root)
		goto out;
	items = json_object_get(root, "nftables");
	if (!json_is_array(items))
		goto out;
	json_array_foreach(items, i, item) {
		json_t *set = json_object_get(item, "set");
		const char *name = set ? json_string_value(json_object_get(set, "name")) : NULL;
		json_t *elems = set ? json_object_get(set, "elem") : NULL;
		json_t *e;
		size_t k;
		int af, with_dst;

		if (!name || !json_is_array(elems))
			continue;
		if (spa_nft_nat_list_set(name, elems, now, cb, ctx))
			continue;
		if (strcmp(name, "allow4") == 0 || strcmp(name, "allow4d") == 0)
			af = AF_INET;
		else if (strcmp(name, "allow6") == 0 || strcmp(name, "allow6d") == 0)
			af = AF_INET6;
		else
			continue;
		with_dst = name[6] == 'd';
		json_array_foreach(elems, k, e)
			one_element(e, af, with_dst, now, cb, ctx);
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}
