/* SPDX-License-Identifier: MIT */
/* spa_journal.c - the grant journal: an append-only log of JSON lines,
 * compacted into a snapshot (atomically) when it is mostly history. */
#include "spa_grants.h"

#include "spa_fsutil.h"
#include "spa_log.h"
#include "spa_wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* 3: grants carry their policy, closing state and token; 4: and why
 * their close fails ("error", "permanent"); 5: a NAT grant's form
 * ("nat_flags", "snat_addr"; absent: plain access) */
#define JOURNAL_VERSION 5
#define JOURNAL_VERSION_MIN 2
#define JOURNAL_MAX ((size_t)1 << 30) /* a million grants is ~300 MB: refuse beyond */
#define EXPIRES_MAX ((json_int_t)1 << 40) /* a sane epoch time, year < 36000 */
#define TOKEN_B64_MAX (4 * ((SPA_GRANT_TOKEN_MAX + 2) / 3)) /* padded base64 */

/* A plugin's token as padded base64: its bytes are anything. */
static json_t *token_json(const uint8_t *data, size_t len)
{
	char text[TOKEN_B64_MAX + 1];

	spa_b64_encode_padded(data, len, text);
	return json_string(text);
}

/* Only the one spelling token_json writes is read back (padded, nothing
 * after the padding, no stray bits, 1 to SPA_GRANT_TOKEN_MAX bytes), so a
 * damaged field is a damaged record, not a different token. */
static int parse_token(json_t *v, uint8_t *out, size_t *len)
{
	char again[TOKEN_B64_MAX + 1];
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0;

	*len = 0;
	if (n == 0 || n > TOKEN_B64_MAX || strlen(s) != n ||
	    spa_b64_decode(s, n, out, SPA_GRANT_TOKEN_MAX, len) < 0 || *len == 0)
		return -EINVAL;
	spa_b64_encode_padded(out, *len, again);
	if (strcmp(again, s) != 0) {
		*len = 0;
		return -EINVAL;
	}
	return 0;
}

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
		if (r->error[0]) {
			json_object_set_new(o, "error", json_string(r->error));
			json_object_set_new(o, "permanent", json_boolean(r->permanent));
		}
	}
	if (o && r->token_len)
		json_object_set_new(o, "token", token_json(r->token, r->token_len));
	if (o && g->nat_flags) {
		json_object_set_new(o, "nat_flags", json_integer(g->nat_flags));
		if (g->snat_addr.family)
			json_object_set_new(o, "snat_addr", addr_json(&g->snat_addr));
	}
	return o;
}

/* One record as a line, newline included (free *text). */
static int dump_line(json_t *o, char **text, size_t *len)
{
	*text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (!*text)
		return -ENOMEM;
	*len = strlen(*text);
	(*text)[(*len)++] = '\n'; /* over the NUL: json_dumps' buffer holds len + 1 */
	return 0;
}

static int write_line(int fd, json_t *o)
{
	char *text;
	size_t len;
	int rc = dump_line(o, &text, &len);

	if (rc == 0)
		rc = spa_fs_write_all(fd, text, len);
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

/* The snapshot goes to a temp file created exclusively in the checked
 * directory, never through a link planted there. */
int spa_grants_save(struct spa_grants *gs)
{
	char tmp[NAME_MAX + 1];
	const char *base;
	int dfd, fd = -1, rc;

	if (!gs->journal[0])
		return 0;
	rc = spa_fs_open_dir(gs->journal, &dfd, &base, NULL, 0);
	if (rc < 0)
		return rc;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", base) >= (int)sizeof(tmp)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	fd = spa_fs_create_temp(dfd, tmp);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	{
		json_t *h = header_json(gs);
		rc = write_line(fd, h);
		json_decref(h);
	}
	for (size_t i = 0; i < gs->n && rc == 0; i++) {
		struct spa_grant_rec r;
		json_t *o;
		spa_grants_at(gs, i, &r);
		o = op_json("add", grant_json(&r));
		rc = write_line(fd, o);
		json_decref(o);
	}
	if (rc == 0)
		rc = spa_fs_commit(dfd, fd, tmp, base);
	else
		unlinkat(dfd, tmp, 0);
	if (rc < 0)
		goto out;
	if (gs->jfd >= 0)
		close(gs->jfd);
	gs->jfd = spa_fs_openat(dfd, base, O_WRONLY | O_APPEND, 0);
	if (gs->jfd < 0) {
		rc = gs->jfd;
		gs->jfd = -1;
		goto out;
	}
	gs->jlines = gs->n;
	gs->jdirty = false;
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	return rc;
}

/*
 * Appends one change; the first change after open writes a snapshot,
 * which already holds it. A failed append (the disk full half-way through
 * the line) is cut back off the file, so the journal still ends at its
 * last complete record; if even that fails the descriptor is dropped and
 * the next change rewrites the journal whole from memory.
 */
static int append(struct spa_grants *gs, json_t *o)
{
	char *text = NULL;
	size_t len;
	off_t torn = -1;
	int rc;

	if (!gs->journal[0]) {
		json_decref(o);
		return 0;
	}
	if (gs->jfd < 0) {
		json_decref(o);
		rc = spa_grants_save(gs);
		if (rc < 0)
			spa_log(SPA_L_ERR, "grant journal %s: cannot write it (%s); the change is "
				"not recorded", gs->journal, strerror(-rc));
		return rc;
	}
	rc = dump_line(o, &text, &len);
	json_decref(o);
	if (rc == 0)
		rc = spa_fs_append(gs->jfd, text, len, &torn);
	free(text);
	if (rc == 0) {
		gs->jlines++;
		gs->jdirty = true;
		return 0;
	}
	spa_log(SPA_L_ERR, "grant journal %s: append failed (%s); the change is not recorded%s",
		gs->journal, strerror(-rc), torn >= 0 ? " and the file could not be cut back to its "
		"last record: the next change rewrites it" : "");
	if (torn >= 0) {
		close(gs->jfd);
		gs->jfd = -1;
	}
	return rc;
}

int spa_grants_journal_add(struct spa_grants *gs, const struct spa_grant_rec *r)
{
	return append(gs, op_json("add", grant_json(r)));
}

int spa_grants_journal_update(struct spa_grants *gs, uint64_t id, int64_t expires,
			      uint32_t timeout)
{
	return append(gs, op_json("update", json_pack("{s:I, s:I, s:i}", "id", (json_int_t)id,
						       "expires", (json_int_t)expires,
						       "timeout", (int)timeout)));
}

int spa_grants_journal_closing(struct spa_grants *gs, uint64_t id, bool closing,
			       unsigned attempts)
{
	const struct spa_grant_error *e = closing ? spa_grants_error(gs, id) : NULL;
	json_t *o = json_pack("{s:I, s:b, s:i}", "id", (json_int_t)id, "closing", closing,
			      "attempts", (int)attempts);

	if (o && e) {
		json_object_set_new(o, "error", json_string(e->msg));
		json_object_set_new(o, "permanent", json_boolean(e->permanent));
	}
	return append(gs, op_json("closing", o));
}

int spa_grants_journal_token(struct spa_grants *gs, uint64_t id, const void *data,
			     size_t len)
{
	json_t *o = json_pack("{s:I}", "id", (json_int_t)id);

	/* no "token" key: the grant has none any more */
	if (o && len)
		json_object_set_new(o, "token", token_json(data, len));
	return append(gs, op_json("token", o));
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
	json_t *src, *dst, *nat, *policy = NULL, *token = NULL, *snat = NULL;
	int closing = 0, attempts = 0, permanent = 0, nat_flags = 0;
	const char *error = NULL;

	memset(r, 0, sizeof(*r));
	/* every key known and of its type ('!': no other key) */
	if (json_unpack(o, "{s:I, s:s, s:o, s:o, s:i, s:i, s:o, s:i, s:i, s:I, s:s, s:s, "
			"s?o, s?b, s?i, s?o, s?s, s?b, s?i, s?o !}",
			"id", &id, "plugin", &plugin, "src", &src, "dst", &dst,
			"proto", &proto, "port", &port, "nat_addr", &nat, "nat_port", &nat_port,
			"timeout", &timeout, "expires", &expires, "stanza", &stanza,
			"username", &user, "policy", &policy, "closing", &closing,
			"attempts", &attempts, "token", &token, "error", &error,
			"permanent", &permanent, "nat_flags", &nat_flags, "snat_addr", &snat) < 0)
		return -EINVAL;
	if (error) {
		snprintf(r->error, sizeof(r->error), "%s", error);
		r->permanent = permanent;
	}
	if (token && parse_token(token, r->token, &r->token_len) < 0)
		return -EINVAL;
	if (id <= 0 || expires < 0 || expires >= EXPIRES_MAX || proto < 0 || proto > 255 || port < 0 || port > 65535 || nat_port < 0 ||
	    nat_port > 65535 || timeout < 0 || strlen(plugin) >= sizeof(r->plugin) ||
	    strlen(stanza) >= sizeof(r->g.stanza) || strlen(user) >= sizeof(r->g.username))
		return -EINVAL;
	if (parse_addr(src, &r->g.src) < 0 || !r->g.src.family || parse_addr(dst, &r->g.dst) < 0 ||
	    parse_addr(nat, &r->g.nat_addr) < 0 || parse_addr(snat, &r->g.snat_addr) < 0)
		return -EINVAL;
	/* a form this spad does not know would be rendered as another */
	if (nat_flags < 0 || nat_flags > 0x3f || (!nat_flags && r->g.snat_addr.family))
		return -EINVAL;
	r->g.nat_flags = (uint32_t)nat_flags;
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
	if (closing) {
		r->closing = true;
		r->attempts = attempts > 0 && attempts < 1000000 ? (unsigned)attempts : 1;
		r->retry_at = 0; /* a new start retries at once */
	}
	return parse_policy(gs, policy, r);
}

static int load_add(struct spa_grants *gs, json_t *v)
{
	struct spa_grant_rec r;
	int rc = parse_grant(gs, v, &r);

	if (rc < 0)
		return rc;
	if (spa_grants_by_id(gs, r.g.id, NULL))
		return -EINVAL;
	rc = spa_grants_push(gs, &r);
	if (rc == 0 && r.closing && r.error[0])
		spa_grants_error_put(gs, r.g.id, r.permanent, r.error);
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

	if (!json_is_object(o) || json_object_size(o) != 1)
		return -EINVAL;
	if ((v = json_object_get(o, "add")))
		return load_add(gs, v);
	if ((v = json_object_get(o, "update"))) {
		if (json_unpack(v, "{s:I, s:I, s:i !}", "id", &id, "expires", &expires, "timeout",
				&timeout) < 0 || timeout < 0 || expires < 0 || expires >= EXPIRES_MAX ||
		    id <= 0 || spa_grants_set_expiry(gs, (uint64_t)id, expires, (uint32_t)timeout) < 0)
			return -EINVAL;
		return 0;
	}
	if ((v = json_object_get(o, "closing"))) {
		int closing, attempts, permanent = 0;
		const char *error = NULL;
		if (json_unpack(v, "{s:I, s:b, s:i, s?s, s?b !}", "id", &id, "closing", &closing,
				"attempts", &attempts, "error", &error, "permanent",
				&permanent) < 0 || attempts < 0 || id <= 0)
			return -EINVAL;
		if (closing && error && spa_grants_by_id(gs, (uint64_t)id, NULL))
			spa_grants_error_put(gs, (uint64_t)id, permanent, error);
		/* read as a grant line's pair is (parse_grant): a snapshot
		 * writes attempts only for a closing grant, so any other
		 * value would not survive the next rewrite */
		return spa_grants_set_closing(gs, (uint64_t)id, closing,
					      !closing ? 0
					      : attempts > 0 && attempts < 1000000
					      ? (unsigned)attempts : 1) < 0 ? -EINVAL : 0;
	}
	if ((v = json_object_get(o, "token"))) {
		uint8_t token[SPA_GRANT_TOKEN_MAX];
		size_t len = 0;
		json_t *t = NULL;
		if (json_unpack(v, "{s:I, s?o !}", "id", &id, "token", &t) < 0 || id <= 0 ||
		    (t && parse_token(t, token, &len) < 0) ||
		    spa_grants_put_token(gs, (uint64_t)id, token, len) < 0)
			return -EINVAL;
		return 0;
	}
	if ((v = json_object_get(o, "remove"))) {
		if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
		    spa_grants_drop(gs, (uint64_t)json_integer_value(v)) < 0)
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

/* One record: a whole JSON object of a known op that applies. */
static int load_record(struct spa_grants *gs, const char *text, size_t len)
{
	json_t *o = json_loadb(text, len, 0, NULL);
	int rc = o ? load_op(gs, o) : -EINVAL;

	json_decref(o);
	return rc;
}

/*
 * A line that is a fragment with a whole record glued after it (a write cut
 * short, then the next record appended by a version that did not cut the
 * fragment off): the record starts at one of the op markers. None of them
 * can occur inside a JSON string (its quotes would be escaped), nor as a
 * nested object of a record (those start with "id" or are values).
 */
static int load_glued(struct spa_grants *gs, const char *text, size_t len)
{
	static const char *const ops[] = { "{\"add\":{", "{\"update\":{", "{\"closing\":{",
					    "{\"token\":{", "{\"remove\":" };

	for (size_t i = 1; i + 2 < len; i++) {
		if (text[i] != '{' || text[i + 1] != '"')
			continue;
		for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
			size_t n = strlen(ops[k]);
			if (n <= len - i && memcmp(text + i, ops[k], n) == 0 &&
			    load_record(gs, text + i, len - i) == 0)
				return 0;
		}
	}
	return -EINVAL;
}

static int load_header(struct spa_grants *gs, const char *text, size_t len)
{
	json_t *o = json_loadb(text, len, 0, NULL);
	json_int_t next_id = 1;
	int version, rc = 0;

	if (!o || json_unpack(o, "{s:i, s:I}", "version", &version, "next_id", &next_id) < 0 ||
	    version < JOURNAL_VERSION_MIN || version > JOURNAL_VERSION || next_id < 1)
		rc = -EINVAL;
	else
		gs->next_id = (uint64_t)next_id;
	json_decref(o);
	return rc;
}

/*
 * The journal is a log of JSON lines: a header {"version":3,"next_id":N},
 * then {"add":grant}, {"update":{id,expires,timeout}}, {"closing":{id,
 * closing,attempts}}, {"token":{id[,token]}} and {"remove":id} in the order
 * they happened; a version 2 file (no policies, no closing) and a version 3
 * one written before tokens still load. A grant's "token" (in an add, or
 * set by a token line; absent: none) is its plugin's data (ABI 1.3
 * token_set), 1 to SPA_GRANT_TOKEN_MAX bytes as padded base64. A NAT
 * grant's add has "nat_flags" (SPA_NAT_*, a form this spad knows) and,
 * for SNAT, "snat_addr" (version 5); without them it is plain access, so
 * version 4 files load unchanged.
 *
 * The header is only ever written by a snapshot (temp file, rename), so a
 * file that does not start with one is not a journal and is refused. A
 * damaged record after it (a torn last line after a crash, a fragment left
 * by a full disk, a record glued to one) is skipped with a warning naming
 * the line, and loading goes on: refusing the file would leave every hole
 * it records open with nobody to close it.
 */
int spa_grants_load_journal(struct spa_grants *gs)
{
	size_t len = 0, off = 0;
	const char *base;
	char *buf = NULL, err[PATH_MAX + 128];
	int dfd, rc, line = 0;
	bool header = false;

	rc = spa_fs_open_dir(gs->journal, &dfd, &base, err, sizeof(err));
	if (rc < 0) {
		spa_log(SPA_L_ERR, "grant journal %s: %s", gs->journal, err);
		return rc;
	}
	rc = spa_fs_read(dfd, base, JOURNAL_MAX, &buf, &len);
	close(dfd);
	if (rc == -ENOENT)
		return 0;
	while (rc == 0 && off < len) {
		char *nl = memchr(buf + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - buf) : len;
		const char *text = buf + off;
		size_t n = end - off;

		line++;
		off = end + 1;
		if (n == 0)
			continue;
		if (!header) {
			rc = load_header(gs, text, n);
			if (rc < 0)
				spa_log(SPA_L_ERR, "grant journal %s:%d: not a journal header "
					"(version %d..%d); refusing the file", gs->journal, line,
					JOURNAL_VERSION_MIN, JOURNAL_VERSION);
			header = true;
			continue;
		}
		rc = load_record(gs, text, n);
		if (rc == -ENOMEM)
			break;
		if (rc == 0)
			continue;
		rc = 0;
		if (!nl)
			spa_log(SPA_L_WARNING, "grant journal %s:%d: last record cut short (a "
				"write interrupted by a crash or a full disk); ignored",
				gs->journal, line);
		else if (load_glued(gs, text, n) == 0)
			spa_log(SPA_L_WARNING, "grant journal %s:%d: a record cut short was "
				"glued to the next one; the fragment is skipped, the record kept",
				gs->journal, line);
		else
			spa_log(SPA_L_WARNING, "grant journal %s:%d: damaged or inconsistent "
				"record skipped", gs->journal, line);
	}
	if (rc == 0 && !header && len > 0) {
		spa_log(SPA_L_ERR, "grant journal %s: no header; refusing the file", gs->journal);
		rc = -EINVAL;
	}
	free(buf);
	return rc;
}
