/* SPDX-License-Identifier: MIT */
/*
 * NAT grants (struct spa_grant nat_flags, ABI 1.5) in nftables' own terms:
 * no rule per grant, but timed elements in sets and maps of our table,
 * read by a fixed set of rules in three chains:
 *
 *   forward  (filter, hook forward):    accept src -> nat_addr:nat_port, or
 *                                       everything from src (FORWARD_ALL)
 *   nat_pre  (nat, hook prerouting):    dnat src . proto . port to the
 *                                       grant's nat_addr : nat_port (two
 *                                       maps, one per half), or all of
 *                                       src's traffic to nat_addr
 *   nat_post (nat, hook postrouting):   snat to snat_addr, or masquerade,
 *                                       of src -> nat_addr:nat_port (or of
 *                                       everything from src)
 *
 * and a LOCAL grant's accept of nat_port in the input chain's local sets.
 * Every element of a grant carries the same timeout, so the kernel ends
 * the whole grant at once, and the same comment, which names the grant's
 * form: list rebuilds a grant from one element (of fwd, fwd_all or local)
 * and its comment, close rebuilds every element's key from the grant.
 * The DNAT target is two maps because nft 1.0.6 cannot declare a map with
 * a concatenated value (address . port) in JSON.
 */
#include "spa_nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define NAT_TAG "spa-nat"
#define NAT_PRIO_DNAT -100 /* nftables' "dstnat" */
#define NAT_PRIO_SNAT 100  /* "srcnat" */

struct nat_l3 {
	int af;
	const char *l3;    /* payload protocol and NAT family: ip, ip6 */
	const char *addr;  /* element type of an address */
	char sfx;
};

static const struct nat_l3 l3s[] = {
	{ AF_INET, "ip", "ipv4_addr", '4' },
	{ AF_INET6, "ip6", "ipv6_addr", '6' },
};

/* Key shapes: src; src . proto . port; src . dst . proto . port */
enum nat_key { K_S, K_SPP, K_SDPP };
enum nat_data { D_NONE, D_ADDR, D_PORT };

struct nat_set {
	const char *base;
	enum nat_key key;
	enum nat_data data;
};

enum {
	N_FWD, N_FWD_ALL, N_DNAT_ADDR, N_DNAT_PORT, N_DNAT_ALL,
	N_SNAT, N_MASQ, N_SNAT_ALL, N_MASQ_ALL, N_SETS,
	N_LOCAL = N_SETS /* the input chain's local4/local6 (spa_nft_batch.c) */
};

static const struct nat_set nat_sets[N_SETS] = {
	[N_FWD] = { "fwd", K_SDPP, D_NONE },
	[N_FWD_ALL] = { "fwd_all", K_S, D_NONE },
	[N_DNAT_ADDR] = { "dnat_addr", K_SPP, D_ADDR },
	[N_DNAT_PORT] = { "dnat_port", K_SPP, D_PORT },
	[N_DNAT_ALL] = { "dnat_all", K_S, D_ADDR },
	[N_SNAT] = { "snat", K_SDPP, D_ADDR },
	[N_MASQ] = { "masq", K_SDPP, D_NONE },
	[N_SNAT_ALL] = { "snat_all", K_S, D_ADDR },
	[N_MASQ_ALL] = { "masq_all", K_S, D_NONE },
};

static void set_name(int which, const struct nat_l3 *l, char *out, size_t len)
{
	snprintf(out, len, "%s%c", which == N_LOCAL ? "local" : nat_sets[which].base, l->sfx);
}

static const struct nat_l3 *l3_of(int af)
{
	return af == AF_INET6 ? &l3s[1] : af == AF_INET ? &l3s[0] : NULL;
}

static json_t *key_type(const struct nat_l3 *l, enum nat_key k)
{
	if (k == K_S)
		return json_string(l->addr);
	if (k == K_SPP)
		return json_pack("[s, s, s]", l->addr, "inet_proto", "inet_service");
	return json_pack("[s, s, s, s]", l->addr, l->addr, "inet_proto", "inet_service");
}

int spa_nft_nat_declare(const struct spa_nft_state *st, json_t *doc)
{
	int rc = 0;

	for (size_t f = 0; rc == 0 && f < sizeof(l3s) / sizeof(l3s[0]); f++) {
		for (int i = 0; rc == 0 && i < N_SETS; i++) {
			const struct nat_set *s = &nat_sets[i];
			char name[SPA_NFT_NAME_LEN];
			json_t *body;

			set_name(i, &l3s[f], name, sizeof(name));
			body = spa_nft_with(spa_nft_named(st, name), "type", key_type(&l3s[f], s->key));
			if (s->data != D_NONE)
				body = spa_nft_with(body, "map",
						    json_string(s->data == D_ADDR ? l3s[f].addr
										  : "inet_service"));
			body = spa_nft_with(body, "flags", json_pack("[s]", "timeout"));
			rc = spa_nft_push(doc, "add", s->data == D_NONE ? "set" : "map", body);
		}
	}
	return rc;
}

int spa_nft_nat_flush(const struct spa_nft_state *st, json_t *doc)
{
	int rc = 0;

	for (size_t f = 0; rc == 0 && f < sizeof(l3s) / sizeof(l3s[0]); f++) {
		for (int i = 0; rc == 0 && i < N_SETS; i++) {
			char name[SPA_NFT_NAME_LEN];

			set_name(i, &l3s[f], name, sizeof(name));
			rc = spa_nft_push(doc, "flush", nat_sets[i].data == D_NONE ? "set" : "map",
					  spa_nft_named(st, name));
		}
	}
	return rc;
}

/* The packet's side of a key shape (what a rule looks up). */
static json_t *key_expr(const struct nat_l3 *l, enum nat_key k)
{
	json_t *keys;

	if (k == K_S)
		return spa_nft_payload(l->l3, "saddr");
	keys = json_pack("[o]", spa_nft_payload(l->l3, "saddr"));
	if (keys && k == K_SDPP && json_array_append_new(keys, spa_nft_payload(l->l3, "daddr")))
		goto fail;
	if (!keys || json_array_append_new(keys, spa_nft_meta("l4proto")) ||
	    json_array_append_new(keys, spa_nft_payload("th", "dport")))
		goto fail;
	return json_pack("{s:o}", "concat", keys);
fail:
	json_decref(keys);
	return NULL;
}

static json_t *lookup(const struct nat_l3 *l, int which)
{
	char name[SPA_NFT_NAME_LEN + 1];

	name[0] = '@';
	set_name(which, l, name + 1, sizeof(name) - 1);
	return json_pack("[{s:{s:s, s:o, s:s}}]", "match", "op", "==", "left",
			 key_expr(l, nat_sets[which].key), "right", name);
}

static json_t *map_of(const struct nat_l3 *l, int which)
{
	char name[SPA_NFT_NAME_LEN + 1];

	name[0] = '@';
	set_name(which, l, name + 1, sizeof(name) - 1);
	return json_pack("{s:{s:o, s:s}}", "map", "key", key_expr(l, nat_sets[which].key), "data",
			 name);
}

/* {"dnat"|"snat": {"family": l3, "addr": map[, "port": map]}} */
static json_t *nat_stmt(const struct nat_l3 *l, const char *verb, int addr_map, int port_map)
{
	json_t *body = json_pack("{s:s, s:o}", "family", l->l3, "addr", map_of(l, addr_map));

	if (body && port_map >= 0)
		body = spa_nft_with(body, "port", map_of(l, port_map));
	return body ? json_pack("[{s:o}]", verb, body) : NULL;
}

static json_t *masq_after(json_t *expr)
{
	if (expr && json_array_append_new(expr, json_pack("{s:n}", "masquerade"))) {
		json_decref(expr);
		return NULL;
	}
	return expr;
}

static int base_chain(const struct spa_nft_state *st, json_t *doc, const char *name,
		      const char *type, const char *hook, int prio)
{
	int rc = spa_nft_push(doc, "add", "chain",
			      spa_nft_with(spa_nft_with(spa_nft_with(spa_nft_with(
						   spa_nft_named(st, name), "type", json_string(type)),
						   "hook", json_string(hook)),
					   "prio", json_integer(prio)),
					   "policy", json_string("accept")));

	/* rewritten, as the input chain is at init: a changed mark counts */
	if (rc == 0)
		rc = spa_nft_push(doc, "flush", "chain", spa_nft_named(st, name));
	return rc;
}

int spa_nft_nat_chains(const struct spa_nft_state *st, json_t *doc)
{
	int rc = base_chain(st, doc, "forward", "filter", "forward", st->priority);

	for (size_t f = 0; rc == 0 && f < sizeof(l3s) / sizeof(l3s[0]); f++) {
		rc = spa_nft_push_rule(st, doc, "forward",
				       spa_nft_accept_tail(st, lookup(&l3s[f], N_FWD)));
		if (rc == 0)
			rc = spa_nft_push_rule(st, doc, "forward",
					       spa_nft_accept_tail(st, lookup(&l3s[f], N_FWD_ALL)));
	}
	if (rc == 0)
		rc = base_chain(st, doc, "nat_pre", "nat", "prerouting", NAT_PRIO_DNAT);
	for (size_t f = 0; rc == 0 && f < sizeof(l3s) / sizeof(l3s[0]); f++) {
		rc = spa_nft_push_rule(st, doc, "nat_pre",
				       nat_stmt(&l3s[f], "dnat", N_DNAT_ADDR, N_DNAT_PORT));
		if (rc == 0)
			rc = spa_nft_push_rule(st, doc, "nat_pre",
					       nat_stmt(&l3s[f], "dnat", N_DNAT_ALL, -1));
	}
	if (rc == 0)
		rc = base_chain(st, doc, "nat_post", "nat", "postrouting", NAT_PRIO_SNAT);
	for (size_t f = 0; rc == 0 && f < sizeof(l3s) / sizeof(l3s[0]); f++) {
		rc = spa_nft_push_rule(st, doc, "nat_post", nat_stmt(&l3s[f], "snat", N_SNAT, -1));
		if (rc == 0)
			rc = spa_nft_push_rule(st, doc, "nat_post",
					       masq_after(lookup(&l3s[f], N_MASQ)));
		if (rc == 0)
			rc = spa_nft_push_rule(st, doc, "nat_post",
					       nat_stmt(&l3s[f], "snat", N_SNAT_ALL, -1));
		if (rc == 0)
			rc = spa_nft_push_rule(st, doc, "nat_post",
					       masq_after(lookup(&l3s[f], N_MASQ_ALL)));
	}
	return rc;
}

/* A grant's NAT form, checked; addresses as text from their binary form. */
struct nat_form {
	const struct nat_l3 *l;
	uint32_t flags;
	const char *proto;
	char src[SPA_GRANT_ADDR_LEN];
	char nat[SPA_GRANT_ADDR_LEN];    /* "" without nat_addr */
	char snat[SPA_GRANT_ADDR_LEN];   /* "" without SNAT */
	char tag[128];                   /* the elements' comment (nft's limit: 128) */
};

#define NAT_KNOWN (SPA_NAT_FORWARD | SPA_NAT_LOCAL | SPA_NAT_FORWARD_ALL | SPA_NAT_NO_DNAT | \
		   SPA_NAT_SNAT | SPA_NAT_MASQUERADE)

static int addr_of(const struct spa_grant_addr *a, int af, char *out, size_t len)
{
	out[0] = '\0';
	if (a->family == 0)
		return 0;
	return a->family == af ? spa_pu_addr_text(a, out, len) : -EINVAL;
}

static int nat_form(const struct spa_grant *g, struct nat_form *f)
{
	uint32_t fl = g->nat_flags;
	int fwd = (fl & SPA_NAT_FORWARD) != 0, all = (fl & SPA_NAT_FORWARD_ALL) != 0;
	int n;

	memset(f, 0, sizeof(*f));
	f->l = l3_of(g->family);
	f->flags = fl;
	f->proto = spa_pu_proto_name(g->proto);
	if (!f->l || !f->proto || g->port == 0 || g->src.family != g->family || (fl & ~NAT_KNOWN))
		return -EINVAL;
	/* one form; the modifiers only where they mean something */
	if (fwd == !!(fl & SPA_NAT_LOCAL) || (!fwd && (fl & (SPA_NAT_FORWARD_ALL | SPA_NAT_NO_DNAT))) ||
	    ((fl & SPA_NAT_SNAT) && (fl & SPA_NAT_MASQUERADE)))
		return -EINVAL;
	if (spa_pu_addr_text(&g->src, f->src, sizeof(f->src)) < 0 ||
	    addr_of(&g->nat_addr, g->family, f->nat, sizeof(f->nat)) < 0 ||
	    addr_of(&g->snat_addr, g->family, f->snat, sizeof(f->snat)) < 0)
		return -EINVAL;
	/* only FORWARD_ALL goes without a target (fwknop's "0.0.0.0 0") */
	if (!all && (!f->nat[0] || g->nat_port == 0))
		return -EINVAL;
	if ((fl & SPA_NAT_SNAT) && !f->snat[0])
		return -EINVAL;
	if (!(fl & SPA_NAT_SNAT))
		f->snat[0] = '\0';
	n = snprintf(f->tag, sizeof(f->tag), NAT_TAG " %u %s %u %s %u %s", (unsigned int)fl,
		     f->proto, (unsigned int)g->port, f->nat[0] ? f->nat : "-",
		     (unsigned int)g->nat_port, f->snat[0] ? f->snat : "-");
	return n > 0 && (size_t)n < sizeof(f->tag) ? 0 : -EINVAL;
}

/* Element key of shape k: dst and port are the grant's NAT target for
 * K_SDPP, the knocked port for K_SPP (port given by the caller). */
static json_t *key_value(const struct nat_form *f, enum nat_key k, unsigned int port)
{
	if (k == K_S)
		return json_string(f->src);
	if (k == K_SPP)
		return json_pack("{s:[s, s, i]}", "concat", f->src, f->proto, (int)port);
	return json_pack("{s:[s, s, s, i]}", "concat", f->src, f->nat, f->proto, (int)port);
}

struct nat_elem {
	int which;       /* N_* */
	json_t *key;
	json_t *data;    /* NULL for a set */
};

#define NAT_MAX_ELEMS 5

/* Takes key and data; data NULL when w is a set, else a failed allocation. */
static int add_elem(struct nat_elem *e, size_t *k, int w, json_t *key, json_t *data, int rc)
{
	int map = w != N_LOCAL && nat_sets[w].data != D_NONE;

	e[*k].which = w;
	e[*k].key = key;
	e[*k].data = data;
	(*k)++;
	return rc == 0 && key && (data || !map) ? rc : (rc ? rc : -ENOMEM);
}

/* The elements a grant consists of (spa_nft_nat.c's header comment). */
static int plan(const struct spa_grant *g, const struct nat_form *f, struct nat_elem *e,
		size_t *n)
{
	uint32_t fl = f->flags;
	int all = (fl & SPA_NAT_FORWARD_ALL) != 0;
	size_t k = 0;
	int rc = 0;

#define ADD(w, key, data) rc = add_elem(e, &k, (w), (key), (data), rc)

	if (fl & SPA_NAT_LOCAL)
		ADD(N_LOCAL, key_value(f, K_SPP, g->nat_port), NULL);
	else if (all)
		ADD(N_FWD_ALL, key_value(f, K_S, 0), NULL);
	else
		ADD(N_FWD, key_value(f, K_SDPP, g->nat_port), NULL);
	if (!(fl & SPA_NAT_NO_DNAT)) {
		if (!all) {
			ADD(N_DNAT_ADDR, key_value(f, K_SPP, g->port), json_string(f->nat));
			ADD(N_DNAT_PORT, key_value(f, K_SPP, g->port),
			    json_integer(g->nat_port));
		} else if (f->nat[0]) {
			ADD(N_DNAT_ALL, key_value(f, K_S, 0), json_string(f->nat));
		}
	}
	if (fl & SPA_NAT_SNAT) {
		if (all)
			ADD(N_SNAT_ALL, key_value(f, K_S, 0), json_string(f->snat));
		else
			ADD(N_SNAT, key_value(f, K_SDPP, g->nat_port), json_string(f->snat));
	} else if (fl & SPA_NAT_MASQUERADE) {
		if (all)
			ADD(N_MASQ_ALL, key_value(f, K_S, 0), NULL);
		else
			ADD(N_MASQ, key_value(f, K_SDPP, g->nat_port), NULL);
	}
#undef ADD
	*n = k;
	return rc;
}

static void plan_free(struct nat_elem *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_decref(e[i].key);
		json_decref(e[i].data);
	}
}

/* Whether the listing (`list table` JSON) has element key in set name,
 * with comment tag. */
static int listed_with_tag(json_t *root, const char *name, json_t *key, const char *tag)
{
	json_t *item, *e;
	size_t i, k;

	json_array_foreach(json_object_get(root, "nftables"), i, item) {
		json_t *set = json_object_get(item, "set");
		const char *n;

		if (!set)
			set = json_object_get(item, "map");
		n = json_string_value(json_object_get(set, "name"));
		if (!n || strcmp(n, name) != 0)
			continue;
		json_array_foreach(json_object_get(set, "elem"), k, e) {
			json_t *first = json_is_array(e) ? json_array_get(e, 0) : e;
			json_t *inner = json_object_get(first, "elem");
			const char *c = json_string_value(json_object_get(inner, "comment"));

			if (c && strcmp(c, tag) == 0 && json_equal(json_object_get(inner, "val"), key))
				return 1;
		}
	}
	return 0;
}

/* open: each element removed (a re-knock leaves one, with the new
 * timeout), then added with the timeout and the grant's tag. close
 * (left < 0): each removed, only where the listing, when there is one,
 * has it with this grant's tag: a DNAT key that a later form of the
 * grant took over is that form's. */
static int nat_apply(const struct spa_nft_state *st, const struct spa_grant *g, int64_t left,
		     json_t *doc)
{
	struct nat_elem e[NAT_MAX_ELEMS];
	struct nat_form f;
	json_t *part = NULL;
	size_t n = 0;
	int rc = nat_form(g, &f);

	if (rc == 0 && left == 0)
		rc = -ETIME;
	if (rc == 0)
		rc = plan(g, &f, e, &n);
	if (rc == 0) {
		part = spa_nft_batch_new();
		rc = part ? 0 : -ENOMEM;
	}
	/* a close declares first, so that it succeeds on an emptied ruleset */
	if (rc == 0 && left < 0)
		rc = spa_nft_declare(st, part);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char name[SPA_NFT_NAME_LEN];
		json_t *el;

		set_name(e[i].which, f.l, name, sizeof(name));
		if (left < 0 && st->nat_listing &&
		    !listed_with_tag(st->nat_listing, name, e[i].key, f.tag))
			continue;
		rc = spa_nft_remove_element(st, part, name, e[i].key, e[i].data);
		if (rc < 0 || left < 0)
			continue;
		el = json_pack("{s:{s:O, s:I, s:s}}", "elem", "val", e[i].key, "timeout",
			       (json_int_t)left, "comment", f.tag);
		if (el && e[i].data)
			el = json_pack("[o, O]", el, e[i].data);
		rc = spa_nft_push(part, "add", "element", spa_nft_elements(st, name, el));
	}
	plan_free(e, n);
	return spa_nft_commit(doc, part, rc);
}

int spa_nft_nat_open(const struct spa_nft_state *st, const struct spa_grant *g, int64_t now,
		     json_t *doc)
{
	int64_t left = g->expires - now;

	return nat_apply(st, g, left > 0 ? left : 0, doc);
}

int spa_nft_nat_close(const struct spa_nft_state *st, const struct spa_grant *g, json_t *doc)
{
	return nat_apply(st, g, -1, doc);
}

static int fill_addr(struct spa_grant_addr *a, int af, const char *s)
{
	memset(a, 0, sizeof(*a));
	if (!s || inet_pton(af, s, &a->bin) != 1)
		return -EINVAL;
	a->family = af;
	return spa_pu_addr_text(a, a->text, sizeof(a->text));
}

/* One element of fwd, fwd_all or local: its key's first field is the
 * source, its comment the rest of the grant. */
static void list_one(json_t *e, const struct nat_l3 *l, int which, int64_t now,
		     spa_plugin_list_cb cb, void *ctx)
{
	json_t *inner = json_object_get(e, "elem");
	json_t *val = json_object_get(inner, "val");
	const char *tag = json_string_value(json_object_get(inner, "comment"));
	json_t *expires = json_object_get(inner, "expires");
	const char *src = json_is_string(val) ? json_string_value(val)
					      : json_string_value(json_array_get(
							json_object_get(val, "concat"), 0));
	char proto[8], nat[SPA_GRANT_ADDR_LEN], snat[SPA_GRANT_ADDR_LEN];
	unsigned int flags, port, nat_port;
	struct spa_grant g;
	int pnum;

	if (!tag || sscanf(tag, NAT_TAG " %u %7s %u %45s %u %45s", &flags, proto, &port, nat,
			   &nat_port, snat) != 6)
		return;
	if ((which == N_LOCAL) != !!(flags & SPA_NAT_LOCAL) ||
	    (which == N_FWD_ALL) != !!(flags & SPA_NAT_FORWARD_ALL))
		return;
	memset(&g, 0, sizeof(g));
	g.struct_size = sizeof(g);
	g.family = l->af;
	pnum = spa_pu_proto_number(proto);
	if (fill_addr(&g.src, l->af, src) < 0 || (pnum != IPPROTO_TCP && pnum != IPPROTO_UDP) ||
	    port == 0 || port > 65535 || nat_port > 65535 || (flags & ~NAT_KNOWN))
		return;
	if (strcmp(nat, "-") != 0 && fill_addr(&g.nat_addr, l->af, nat) < 0)
		return;
	if (strcmp(snat, "-") != 0 && fill_addr(&g.snat_addr, l->af, snat) < 0)
		return;
	g.proto = (uint8_t)pnum;
	g.port = (uint16_t)port;
	g.nat_port = (uint16_t)nat_port;
	g.nat_flags = flags;
	g.expires = json_is_integer(expires) ? now + json_integer_value(expires) : 0;
	if (json_is_integer(json_object_get(inner, "timeout")))
		g.timeout = (uint32_t)json_integer_value(json_object_get(inner, "timeout"));
	cb(ctx, &g);
}

int spa_nft_nat_list_set(const char *name, json_t *elems, int64_t now, spa_plugin_list_cb cb,
			 void *ctx)
{
	static const int primary[] = { N_FWD, N_FWD_ALL, N_LOCAL };

	for (size_t f = 0; f < sizeof(l3s) / sizeof(l3s[0]); f++) {
		for (size_t i = 0; i < sizeof(primary) / sizeof(primary[0]); i++) {
			char want[SPA_NFT_NAME_LEN];
			json_t *e;
			size_t k;

			set_name(primary[i], &l3s[f], want, sizeof(want));
			if (strcmp(name, want) != 0)
				continue;
			json_array_foreach(elems, k, e)
				list_one(e, &l3s[f], primary[i], now, cb, ctx);
			return 1;
		}
	}
	return 0;
}
