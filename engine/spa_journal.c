/* SPDX-License-Identifier: MIT */
/* spa_journal.c - grants <-> JSON (jansson), written atomically. */
#include "spa_grants.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define JOURNAL_VERSION 1

static json_t *addr_json(const struct spa_grant_addr *a)
{
	return a->family ? json_string(a->text) : json_null();
}

static json_t *grant_json(const struct spa_grant_rec *r)
{
	const struct spa_grant *g = &r->g;

	return json_pack("{s:I, s:s, s:o, s:o, s:i, s:i, s:o, s:i, s:i, s:I, s:s, s:s}",
			 "id", (json_int_t)g->id, "plugin", r->plugin,
			 "src", addr_json(&g->src), "dst", addr_json(&g->dst),
			 "proto", g->proto, "port", g->port,
			 "nat_addr", addr_json(&g->nat_addr), "nat_port", g->nat_port,
			 "timeout", (int)g->timeout, "expires", (json_int_t)g->expires,
			 "stanza", g->stanza, "username", g->username);
}

int spa_grants_save(const struct spa_grants *gs)
{
	char tmp[PATH_MAX + 8];
	json_t *root, *arr;
	int fd, rc = 0;

	if (!gs->journal[0])
		return 0;
	arr = json_array();
	root = json_pack("{s:i, s:I, s:o}", "version", JOURNAL_VERSION, "next_id",
			 (json_int_t)gs->next_id, "grants", arr);
	if (!root)
		return -ENOMEM;
	for (size_t i = 0; i < gs->n; i++) {
		json_t *g = grant_json(&gs->recs[i]);
		if (!g || json_array_append_new(arr, g) < 0) {
			rc = -ENOMEM;
			goto out;
		}
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", gs->journal);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (json_dumpfd(root, fd, JSON_INDENT(1)) < 0)
		rc = -EIO;
	/* The rename is the commit point; the data must be on disk before. */
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, gs->journal) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
out:
	json_decref(root);
	return rc;
}

static int parse_addr(json_t *v, struct spa_grant_addr *a)
{
	const char *s;

	memset(a, 0, sizeof(*a));
	if (json_is_null(v) || !v)
		return 0;
	s = json_string_value(v);
	if (!s || strlen(s) >= sizeof(a->text))
		return -EINVAL;
	if (inet_pton(AF_INET, s, &a->bin.v4) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a->bin.v6) == 1)
		a->family = AF_INET6;
	else
		return -EINVAL;
	snprintf(a->text, sizeof(a->text), "%s", s);
	return 0;
}

static int parse_grant(json_t *o, struct spa_grant_rec *r)
{
	json_int_t id, expires;
	int proto, port, nat_port, timeout;
	const char *plugin, *stanza, *user;
	json_t *src, *dst, *nat;

	memset(r, 0, sizeof(*r));
	if (json_unpack(o, "{s:I, s:s, s:o, s:o, s:i, s:i, s:o, s:i, s:i, s:I, s:s, s:s}",
			"id", &id, "plugin", &plugin, "src", &src, "dst", &dst,
			"proto", &proto, "port", &port, "nat_addr", &nat, "nat_port", &nat_port,
			"timeout", &timeout, "expires", &expires, "stanza", &stanza,
			"username", &user) < 0)
		return -EINVAL;
	if (id <= 0 || proto < 0 || proto > 255 || port < 0 || port > 65535 || nat_port < 0 ||
	    nat_port > 65535 || timeout < 0 || strlen(plugin) >= sizeof(r->plugin) ||
	    strlen(stanza) >= sizeof(r->g.stanza) || strlen(user) >= sizeof(r->g.username))
		return -EINVAL;
	if (parse_addr(src, &r->g.src) < 0 || !r->g.src.family || parse_addr(dst, &r->g.dst) < 0 ||
	    parse_addr(nat, &r->g.nat_addr) < 0)
		return -EINVAL;
	r->g.struct_size = sizeof(r->g);
	r->g.id = (uint64_t)id;
	r->g.family = r->g.src.family;
	r->g.proto = (uint8_t)proto;
	r->g.port = (uint16_t)port;
	r->g.nat_port = (uint16_t)nat_port;
	r->g.timeout = (uint32_t)timeout;
	r->g.expires = expires;
	snprintf(r->plugin, sizeof(r->plugin), "%s", plugin);
	snprintf(r->g.stanza, sizeof(r->g.stanza), "%s", stanza);
	snprintf(r->g.username, sizeof(r->g.username), "%s", user);
	return 0;
}

int spa_grants_load_journal(struct spa_grants *gs)
{
	json_error_t jerr;
	json_t *root, *arr, *v;
	json_int_t next_id = 1;
	size_t i;
	int rc = 0, version;

	if (access(gs->journal, F_OK) < 0)
		return errno == ENOENT ? 0 : -errno;
	root = json_load_file(gs->journal, 0, &jerr);
	if (!root)
		return -EINVAL;
	if (json_unpack(root, "{s:i, s:I, s:o}", "version", &version, "next_id", &next_id,
			"grants", &arr) < 0 || version != JOURNAL_VERSION || !json_is_array(arr) ||
	    next_id < 1) {
		rc = -EINVAL;
		goto out;
	}
	gs->next_id = (uint64_t)next_id;
	json_array_foreach(arr, i, v) {
		struct spa_grant_rec r;
		rc = parse_grant(v, &r);
		if (rc == 0)
			rc = spa_grants_push(gs, &r);
		if (rc < 0)
			goto out;
		if (r.g.id >= gs->next_id)
			gs->next_id = r.g.id + 1;
	}
out:
	json_decref(root);
	return rc;
}
