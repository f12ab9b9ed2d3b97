/* SPDX-License-Identifier: MIT */
/* spa_journal.c - the grant journal: an append-only log of JSON lines,
 * compacted into a snapshot (atomically) when it is mostly history. */
#include "spa_grants.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define JOURNAL_VERSION 3  /* 3: grants carry their policy and closing state */
#define JOURNAL_VERSION_MIN 2

static json_t *addr_json(const struct spa_grant_addr *a)
{
	return a->family ? json_string(a->text) : json_null();
}

/* The policy inline with each grant: a journal line is then complete on
 * its own, and a compaction never loses a policy a live grant needs. */
static json_t *policy_json(const struct spa_policy *p)
{
	json_t *vars = json_array();

	for (size_t i = 0; vars && p && i < p->n_vars; i++)
		json_array_append_new(vars, json_pack("[s, s]", p->vars[i].name,
						      p->vars[i].value));
	return json_pack("{s:s, s:o}", "id", p ? p->id : "", "vars", vars);
}

static json_t *grant_json(const struct spa_grant_rec *r)
{
	const struct spa_grant *g = &r->g;
	json_t *o = json_pack("{s:I, s:s, s:o, s:o, s:i, s:i, s:o, s:i, s:i, s:I, s:s, s:s, s:o}",
			      "id", (json_int_t)g->id, "plugin", r->plugin,
			      "src", addr_json(&g->src), "dst", addr_json(&g->dst),
			      "proto", g->proto, "port", g->port,
			      "nat_addr", addr_json(&g->nat_addr), "nat_port", g->nat_port,
			      "timeout", (int)g->timeout, "expires", (json_int_t)g->expires,
			      "stanza", g->stanza, "username", g->username,
			      "policy", policy_json(r->policy));

	if (o && r->closing) {
		json_object_set_new(o, "closing", json_true());
		json_object_set_new(o, "attempts", json_integer(r->attempts));
	}
	return o;
}

/* One line, newline included, in a single write so a crash leaves at
 * most a torn last line, which the loader ignores. */
static int write_line(int fd, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	size_t len, off = 0;
	int rc = 0;

	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len++] = '\n'; /* over the NUL: json_dumps' buffer holds len + 1 */
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = -errno;
			break;
		}
		off += (size_t)w;
	}
	free(text);
	return rc;
}

static json_t *header_json(const struct spa_grants *gs)
{
	return json_pack("{s:i, s:I}", "version", JOURNAL_VERSION, "next_id",
			 (json_int_t)gs->next_id);
}

static json_t *op_json(const char *op, json_t *arg)
{
	return arg ? json_pack("{s:o}", op, arg) : NULL;
}

int spa_grants_save(struct spa_grants *gs)
{
	char tmp[PATH_MAX + 8];
	int fd, rc = 0;

	if (!gs->journal[0])
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", gs->journal);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	{
		json_t *h = header_json(gs);
		rc = write_line(fd, h);
		json_decref(h);
	}
	for (size_t i = 0; i < gs->n && rc == 0; i++) {
		json_t *o = op_json("add", grant_json(&gs->recs[i]));
		rc = write_line(fd, o);
		json_decref(o);
	}
	/* The rename is the commit point; the data must be on disk before. */
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, gs->journal) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	if (gs->jfd >= 0)
		close(gs->jfd);
	gs->jfd = open(gs->journal, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (gs->jfd < 0)
		return -errno;
	gs->jlines = gs->n;
	gs->jdirty = false;
	return 0;
}

/* Appends one change; the first change after open writes a snapshot,
 * which already holds it. */
static int append(struct spa_grants *gs, json_t *o)
{
	int rc;

	if (!gs->journal[0]) {
		json_decref(o);
		return 0;
	}
	if (gs->jfd < 0) {
		json_decref(o);
		return spa_grants_save(gs);
	}
	rc = write_line(gs->jfd, o);
	json_decref(o);
	if (rc == 0) {
		gs->jlines++;
		gs->jdirty = true;
	}
	return rc;
}

int spa_grants_journal_add(struct spa_grants *gs, const struct spa_grant_rec *r)
{
	return append(gs, op_json("add", grant_json(r)));
}

int spa_grants_journal_update(struct spa_grants *gs, const struct spa_grant_rec *r)
{
	return append(gs, op_json("update", json_pack("{s:I, s:I, s:i}", "id",
						       (json_int_t)r->g.id, "expires",
						       (json_int_t)r->g.expires, "timeout",
						       (int)r->g.timeout)));
}

int spa_grants_journal_closing(struct spa_grants *gs, const struct spa_grant_rec *r)
{
	return append(gs, op_json("closing", json_pack("{s:I, s:b, s:i}", "id",
						       (json_int_t)r->g.id, "closing",
						       r->closing, "attempts",
						       (int)r->attempts)));
}

int spa_grants_journal_remove(struct spa_grants *gs, uint64_t id)
{
	return append(gs, op_json("remove", json_integer((json_int_t)id)));
}

int spa_grants_sync(struct spa_grants *gs)
{
	int rc = 0;

	if (gs->jfd < 0 || !gs->jdirty)
		return 0;
	gs->jdirty = false;
	if (fdatasync(gs->jfd) < 0)
		rc = -errno;
	/* rewriting costs O(live grants): only once the log is mostly history */
	if (rc == 0 && gs->jlines > 2 * gs->n + 256)
		rc = spa_grants_save(gs);
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

/* A version 3 grant's policy, interned in the store; a version 2 grant
 * (no policy) gets the empty one, answered by the running config. */
static int parse_policy(struct spa_grants *gs, json_t *o, struct spa_grant_rec *r)
{
	struct spa_conf_kv *vars = NULL;
	size_t n = 0;
	const char *id = "";
	json_t *arr = NULL, *pair;
	size_t i;
	int rc = 0;

	if (o && json_unpack(o, "{s:s, s:o}", "id", &id, "vars", &arr) < 0)
		return -EINVAL;
	if (arr && !json_is_array(arr))
		return -EINVAL;
	json_array_foreach(arr, i, pair) {
		const char *name, *value;
		if (json_unpack(pair, "[s, s]", &name, &value) < 0) {
			rc = -EINVAL;
			break;
		}
		rc = spa_conf_kv_append(&vars, &n, name, value, "journal");
		if (rc < 0)
			break;
	}
	if (rc == 0) {
		r->policy = spa_policy_intern(&gs->policies, id, r->plugin, vars, n);
		if (!r->policy)
			rc = strlen(id) >= SPA_POLICY_ID_LEN ? -EINVAL : -ENOMEM;
	}
	spa_conf_kv_free(vars, n);
	return rc;
}

static int parse_grant(struct spa_grants *gs, json_t *o, struct spa_grant_rec *r)
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
	if (json_is_true(json_object_get(o, "closing"))) {
		json_int_t attempts = json_integer_value(json_object_get(o, "attempts"));
		r->closing = true;
		r->attempts = attempts > 0 && attempts < 1000000 ? (unsigned)attempts : 1;
		r->retry_at = 0; /* a new start retries at once */
	}
	return parse_policy(gs, json_object_get(o, "policy"), r);
}

static struct spa_grant_rec *find_id(struct spa_grants *gs, json_int_t id)
{
	for (size_t i = 0; i < gs->n; i++)
		if (gs->recs[i].g.id == (uint64_t)id)
			return &gs->recs[i];
	return NULL;
}

static int load_add(struct spa_grants *gs, json_t *v)
{
	struct spa_grant_rec r;
	int rc = parse_grant(gs, v, &r);

	if (rc < 0)
		return rc;
	if (find_id(gs, (json_int_t)r.g.id))
		return -EINVAL;
	rc = spa_grants_push(gs, &r);
	if (rc == 0 && r.g.id >= gs->next_id)
		gs->next_id = r.g.id + 1;
	return rc;
}

/* One change line of the log. */
static int load_op(struct spa_grants *gs, json_t *o)
{
	json_t *v;
	json_int_t id, expires;
	int timeout;
	struct spa_grant_rec *r;

	if (!json_is_object(o) || json_object_size(o) != 1)
		return -EINVAL;
	if ((v = json_object_get(o, "add")))
		return load_add(gs, v);
	if ((v = json_object_get(o, "update"))) {
		if (json_unpack(v, "{s:I, s:I, s:i}", "id", &id, "expires", &expires, "timeout",
				&timeout) < 0 || timeout < 0 || !(r = find_id(gs, id)))
			return -EINVAL;
		r->g.expires = expires;
		r->g.timeout = (uint32_t)timeout;
		return 0;
	}
	if ((v = json_object_get(o, "closing"))) {
		int closing, attempts;
		if (json_unpack(v, "{s:I, s:b, s:i}", "id", &id, "closing", &closing, "attempts",
				&attempts) < 0 || attempts < 0 || !(r = find_id(gs, id)))
			return -EINVAL;
		r->closing = closing;
		r->attempts = (unsigned)attempts;
		r->retry_at = 0;
		return 0;
	}
	if ((v = json_object_get(o, "remove"))) {
		if (!json_is_integer(v) || !(r = find_id(gs, json_integer_value(v))))
			return -EINVAL;
		*r = gs->recs[gs->n - 1];
		gs->n--;
		return 0;
	}
	return -EINVAL;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *in = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!in)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			/* a journal of a million grants is ~300 MB: refuse beyond */
			char *grown = cap > ((size_t)1 << 30) ? NULL : realloc(buf, cap ? 2 * cap : 65536);
			if (!grown) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = grown;
			cap = cap ? 2 * cap : 65536;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, in);
		n += r;
		if (r == 0)
			break;
	}
	if (buf && ferror(in)) {
		free(buf);
		buf = NULL;
	}
	fclose(in);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

/*
 * The journal is a log of JSON lines: a header {"version":3,"next_id":N},
 * then {"add":grant}, {"update":{id,expires,timeout}}, {"closing":{id,
 * closing,attempts}} and {"remove":id} in the order they happened; a
 * version 2 file (no policies, no closing) still loads. A last line cut short by a crash (no
 * newline, not JSON) is what a write interrupted by the crash looks like
 * and is ignored; anything else malformed refuses the file.
 */
int spa_grants_load_journal(struct spa_grants *gs)
{
	json_int_t next_id = 1;
	size_t len = 0, off = 0;
	char *buf;
	int rc = 0, version, lines = 0;

	if (access(gs->journal, F_OK) < 0)
		return errno == ENOENT ? 0 : -errno;
	buf = read_file(gs->journal, &len);
	if (!buf)
		return -EIO;
	while (off < len && rc == 0) {
		char *nl = memchr(buf + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - buf) : len;
		json_t *o;

		if (end == off) { /* blank line */
			off = end + 1;
			continue;
		}
		o = json_loadb(buf + off, end - off, 0, NULL);
		if (!o) {
			rc = nl || lines == 0 ? -EINVAL : 0; /* torn last line */
		} else if (lines == 0) {
			if (json_unpack(o, "{s:i, s:I}", "version", &version, "next_id",
					&next_id) < 0 ||
			    version < JOURNAL_VERSION_MIN || version > JOURNAL_VERSION ||
			    next_id < 1)
				rc = -EINVAL;
			else
				gs->next_id = (uint64_t)next_id;
		} else {
			rc = load_op(gs, o);
		}
		json_decref(o);
		lines++;
		off = end + 1;
	}
	free(buf);
	return rc;
}
