/* SPDX-License-Identifier: MIT */
/*
 * The JSON commands of every operation (libnftables-json(5) schema). Values
 * that come from a grant or the config enter only as JSON strings and
 * integers built from validated binary data, so no input can add a
 * command.
 */
#include "spa_nft.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

struct set_def {
	const char *name;
	const char *l3;    /* "ip" or "ip6": the payload the chain matches */
	const char *addr;  /* type of the set's address fields */
	int with_dst;      /* key carries the grant's destination address */
};

static const struct set_def sets[] = {
	{ "allow4", "ip", "ipv4_addr", 0 },
	{ "allow4d", "ip", "ipv4_addr", 1 },
	{ "allow6", "ip6", "ipv6_addr", 0 },
	{ "allow6d", "ip6", "ipv6_addr", 1 },
	/* a LOCAL NAT grant's accept of its real port (spa_nft_nat.c): in
	 * this chain, so that a standalone drop of that port spares it */
	{ "local4", "ip", "ipv4_addr", 0 },
	{ "local6", "ip6", "ipv6_addr", 0 },
};

#define NSETS (sizeof(sets) / sizeof(sets[0]))

json_t *spa_nft_batch_new(void)
{
	return json_pack("{s:[]}", "nftables");
}

/* Appends {verb: {kind: body}}; takes body's reference in all cases. */
int spa_nft_push(json_t *doc, const char *verb, const char *kind, json_t *body)
{
	json_t *cmd;

	if (!body)
		return -ENOMEM;
	cmd = json_pack("{s:{s:o}}", verb, kind, body);
	if (!cmd)
		return -ENOMEM;
	return json_array_append_new(json_object_get(doc, "nftables"), cmd) ? -ENOMEM : 0;
}

json_t *spa_nft_named(const struct spa_nft_state *st, const char *name)
{
	return json_pack("{s:s, s:s, s:s}", "family", "inet", "table", st->table, "name", name);
}

/* obj with obj[key] = val (both references taken); NULL, with both
 * released, if anything is missing or fails. */
json_t *spa_nft_with(json_t *obj, const char *key, json_t *val)
{
	if (obj && val && json_object_set_new(obj, key, val) == 0)
		return obj;
	if (obj && val)
		val = NULL; /* json_object_set_new released it */
	json_decref(obj);
	json_decref(val);
	return NULL;
}

json_t *spa_nft_payload(const char *proto, const char *field)
{
	return json_pack("{s:{s:s, s:s}}", "payload", "protocol", proto, "field", field);
}

json_t *spa_nft_meta(const char *key)
{
	return json_pack("{s:{s:s}}", "meta", "key", key);
}

int spa_nft_push_rule(const struct spa_nft_state *st, json_t *doc, const char *chain,
		      json_t *expr)
{
	if (!expr)
		return -ENOMEM;
	return spa_nft_push(doc, "add", "rule",
			    json_pack("{s:s, s:s, s:s, s:o}", "family", "inet", "table",
				      st->table, "chain", chain, "expr", expr));
}

/* A rule of our input chain from its statements (reference taken). */
static int push_rule(const struct spa_nft_state *st, json_t *doc, json_t *expr)
{
	return spa_nft_push_rule(st, doc, "input", expr);
}

json_t *spa_nft_accept_tail(const struct spa_nft_state *st, json_t *expr)
{
	if (expr && ((st->mark && json_array_append_new(
					  expr, json_pack("{s:{s:o, s:{s:[o, I]}}}", "mangle",
							  "key", spa_nft_meta("mark"), "value", "|",
							  spa_nft_meta("mark"), (json_int_t)st->mark))) ||
		     json_array_append_new(expr, json_pack("{s:n}", "accept")))) {
		json_decref(expr);
		expr = NULL;
	}
	return expr;
}

/* "add" of an existing table, set or chain is a no-op, so this can run at
 * every start without disturbing live elements (and their timeouts). */
int spa_nft_declare(const struct spa_nft_state *st, json_t *doc)
{
	int rc = spa_nft_push(doc, "add", "table",
		      json_pack("{s:s, s:s}", "family", "inet", "name", st->table));

	for (size_t i = 0; rc == 0 && i < NSETS; i++) {
		const char *addr = sets[i].addr;
		json_t *type = sets[i].with_dst
				       ? json_pack("[s, s, s, s]", addr, addr, "inet_proto",
						   "inet_service")
				       : json_pack("[s, s, s]", addr, "inet_proto", "inet_service");

		rc = spa_nft_push(doc, "add", "set",
			  spa_nft_with(spa_nft_with(spa_nft_named(st, sets[i].name), "type", type), "flags",
			       json_pack("[s]", "timeout")));
	}
	if (rc == 0)
		rc = spa_nft_nat_declare(st, doc);
	return rc;
}

/* saddr [. daddr] . l4proto . dport == @set, then mark and accept */
static json_t *set_rule(const struct spa_nft_state *st, const struct set_def *s)
{
	json_t *keys = json_pack("[o]", spa_nft_payload(s->l3, "saddr"));
	json_t *expr = NULL;

	if (!keys || (s->with_dst && json_array_append_new(keys, spa_nft_payload(s->l3, "daddr"))) ||
	    json_array_append_new(keys, spa_nft_meta("l4proto")) ||
	    json_array_append_new(keys, spa_nft_payload("th", "dport")))
		goto out;
	expr = spa_nft_accept_tail(st, json_pack("[{s:{s:s, s:{s:O}, s:s+}}]", "match", "op",
						 "==", "left", "concat", keys, "right", "@",
						 s->name));
out:
	json_decref(keys);
	return expr;
}

/* standalone mode: established,related accept; listed ports drop */
static int push_protect(const struct spa_nft_state *st, json_t *doc)
{
	json_t *ports = json_array();
	int rc = ports ? 0 : -ENOMEM;

	for (unsigned int i = 0; rc == 0 && i < st->nprotect; i++)
		if (json_array_append_new(ports, json_pack("{s:[s, i]}", "concat",
							   spa_pu_proto_name(st->protect[i].proto),
							   (int)st->protect[i].port)))
			rc = -ENOMEM;
	if (rc == 0)
		rc = push_rule(st, doc,
			       json_pack("[{s:{s:s, s:{s:{s:s}}, s:[s, s]}}, {s:n}]", "match",
					 "op", "in", "left", "ct", "key", "state", "right",
					 "established", "related", "accept"));
	if (rc == 0)
		rc = push_rule(st, doc,
			       json_pack("[{s:{s:s, s:{s:[o, o]}, s:{s:O}}}, {s:n}]", "match",
					 "op", "==", "left", "concat", spa_nft_meta("l4proto"),
					 spa_nft_payload("th", "dport"), "right", "set", ports, "drop"));
	json_decref(ports);
	return rc;
}

int spa_nft_batch_setup(const struct spa_nft_state *st, json_t *doc)
{
	int rc = spa_nft_declare(st, doc);

	if (rc == 0)
		rc = spa_nft_push(doc, "add", "chain",
			  spa_nft_with(spa_nft_with(spa_nft_with(spa_nft_with(spa_nft_named(st, "input"), "type", json_string("filter")),
					 "hook", json_string("input")),
				    "prio", json_integer(st->priority)),
			       "policy", json_string("accept")));
	/* the rules are rewritten at every start, so a config change (mark,
	 * protected ports) takes effect on restart */
	if (rc == 0)
		rc = spa_nft_push(doc, "flush", "chain", spa_nft_named(st, "input"));
	for (size_t i = 0; rc == 0 && i < NSETS; i++)
		rc = push_rule(st, doc, set_rule(st, &sets[i]));
	if (rc == 0 && st->nprotect > 0)
		rc = push_protect(st, doc);
	return rc;
}

int spa_nft_batch_flush(const struct spa_nft_state *st, json_t *doc)
{
	int rc = spa_nft_declare(st, doc);

	for (size_t i = 0; rc == 0 && i < NSETS; i++)
		rc = spa_nft_push(doc, "flush", "set", spa_nft_named(st, sets[i].name));
	if (rc == 0)
		rc = spa_nft_nat_flush(st, doc);
	return rc;
}

int spa_nft_batch_list(const struct spa_nft_state *st, json_t *doc)
{
	return spa_nft_push(doc, "list", "table",
		    json_pack("{s:s, s:s}", "family", "inet", "name", st->table));
}

/* Set name and element key ({"concat": [...]}) of a grant, from binary
 * addresses only. */
static int element(const struct spa_grant *g, const char **set, json_t **key)
{
	char src[SPA_GRANT_ADDR_LEN], dst[SPA_GRANT_ADDR_LEN];
	const char *proto = spa_pu_proto_name(g->proto);
	int v6 = g->family == AF_INET6;
	int rc;

	*key = NULL;
	if (!proto || g->port == 0 || (g->family != AF_INET && !v6) ||
	    g->src.family != g->family || (g->dst.family && g->dst.family != g->family))
		return -EINVAL;
	rc = spa_pu_addr_text(&g->src, src, sizeof(src));
	if (rc < 0)
		return rc;
	if (g->dst.family) {
		rc = spa_pu_addr_text(&g->dst, dst, sizeof(dst));
		if (rc < 0)
			return rc;
		*set = v6 ? "allow6d" : "allow4d";
		*key = json_pack("{s:[s, s, s, i]}", "concat", src, dst, proto, (int)g->port);
	} else {
		*set = v6 ? "allow6" : "allow4";
		*key = json_pack("{s:[s, s, i]}", "concat", src, proto, (int)g->port);
	}
	return *key ? 0 : -ENOMEM;
}

/* {"family", "table", "name": set, "elem": [elem]}; takes elem. */
json_t *spa_nft_elements(const struct spa_nft_state *st, const char *set, json_t *elem)
{
	return spa_nft_with(spa_nft_named(st, set), "elem", json_pack("[o]", elem));
}

/* add (no-op if present) + delete: the element is gone afterwards whether
 * or not it existed (the kernel may have expired it already), and neither
 * command can fail the transaction. */
int spa_nft_remove_element(const struct spa_nft_state *st, json_t *doc, const char *set,
			   json_t *key, json_t *data)
{
	json_t *added = data ? json_pack("[O, O]", key, data) : json_incref(key);
	int rc = spa_nft_push(doc, "add", "element", spa_nft_elements(st, set, added));

	if (rc == 0)
		rc = spa_nft_push(doc, "delete", "element",
				  spa_nft_elements(st, set, json_incref(key)));
	return rc;
}

/* Commands are built aside and appended only when all were built, so a
 * failure never leaves half an operation in doc. */
int spa_nft_commit(json_t *doc, json_t *part, int rc)
{
	if (rc == 0 && json_array_extend(json_object_get(doc, "nftables"),
					 json_object_get(part, "nftables")))
		rc = -ENOMEM;
	json_decref(part);
	return rc;
}

int spa_nft_batch_open(const struct spa_nft_state *st, const struct spa_grant *g,
		       int64_t now, json_t *doc)
{
	json_t *part = NULL, *key = NULL;
	const char *set;
	int64_t left = g->expires - now;
	int rc;

	if (g->nat_flags)
		return spa_nft_nat_open(st, g, now, doc);
	rc = element(g, &set, &key);
	if (rc < 0)
		goto out;
	if (left <= 0) {
		rc = -ETIME; /* already expired: nothing to open */
		goto out;
	}
	part = spa_nft_batch_new();
	if (!part) {
		rc = -ENOMEM;
		goto out;
	}
	/* The kernel keeps an existing element's timeout on "add", so a
	 * re-knock removes it first: one transaction that always leaves
	 * exactly one element with the new timeout. */
	rc = spa_nft_remove_element(st, part, set, key, NULL);
	if (rc == 0)
		rc = spa_nft_push(part, "add", "element",
			  spa_nft_elements(st, set, json_pack("{s:{s:O, s:I}}", "elem", "val", key,
						      "timeout", (json_int_t)left)));
out:
	json_decref(key);
	return spa_nft_commit(doc, part, rc);
}

int spa_nft_batch_close(const struct spa_nft_state *st, const struct spa_grant *g,
			json_t *doc)
{
	json_t *part = NULL, *key = NULL;
	const char *set;
	int rc;

	if (g->nat_flags)
		return spa_nft_nat_close(st, g, doc);
	rc = element(g, &set, &key);
	if (rc < 0)
		goto out;
	part = spa_nft_batch_new();
	rc = part ? 0 : -ENOMEM;
	/* A close must succeed when the element is gone for any reason, the
	 * table included ("nft flush ruleset"): declaring table and sets
	 * first (a no-op when they exist) keeps the delete from failing. An
	 * emptied table without its chain filters nothing; init rebuilds it. */
	if (rc == 0)
		rc = spa_nft_declare(st, part);
	if (rc == 0)
		rc = spa_nft_remove_element(st, part, set, key, NULL);
out:
	json_decref(key);
	return spa_nft_commit(doc, part, rc);
}

int spa_nft_apply(struct spa_nft_state *st, const json_t *doc)
{
	struct spa_pu_buf b;
	int rc = -ENOMEM;

	spa_pu_buf_init(&b);
	b.data = json_dumps(doc, JSON_COMPACT); /* malloc'd: spa_pu_buf_free frees it */
	if (b.data) {
		b.len = strlen(b.data);
		b.cap = b.len + 1;
		rc = st->xport->apply(st, &b);
	}
	spa_pu_buf_free(&b);
	return rc;
}
