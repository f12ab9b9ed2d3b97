/* SPDX-License-Identifier: MIT */
#include "spa_replay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spa_fsutil.h"
#include "spa_log.h"

#define HEADER "# <digest> <proto> <src_ip> <src_port> <dst_ip> <dst_port> <time>\n"
#define DIGEST_LEN 43                    /* base64 of a SHA-256, unpadded */
#define TIME_MAX (((uint64_t)1 << 40) - 1) /* a sane epoch time, year < 36000 */
#define REPLAY_MAX ((size_t)1 << 30)      /* ten million entries */

struct spa_replay {
	struct spa_replay_entry *entries;   /* insertion order */
	size_t n, cap;
	uint32_t *slots;                    /* index + 1; 0 = empty */
	size_t n_slots;                     /* power of two */
	int fd;                             /* -1: memory only */
	bool dirty;                         /* written since the last fdatasync */
	off_t cut_to;                       /* >= 0: a failed write's fragment
					     * could not be cut off there yet */
	bool needs_nl;                      /* the file ends in a line cut short */
	char path[PATH_MAX];                /* for messages */
};

static uint64_t hash_digest(const char *d)
{
	/* Digests are SHA-256 outputs: nobody can aim collisions at this. */
	uint64_t h = 1469598103934665603ULL;
	for (; *d; d++)
		h = (h ^ (uint8_t)*d) * 1099511628211ULL;
	return h;
}

static void slot_insert(struct spa_replay *r, size_t idx)
{
	size_t mask = r->n_slots - 1;
	size_t i = (size_t)hash_digest(r->entries[idx].digest) & mask;

	while (r->slots[i])
		i = (i + 1) & mask;
	r->slots[i] = (uint32_t)(idx + 1);
}

static int rehash(struct spa_replay *r, size_t n_slots)
{
	uint32_t *slots = calloc(n_slots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	free(r->slots);
	r->slots = slots;
	r->n_slots = n_slots;
	for (size_t i = 0; i < r->n; i++)
		slot_insert(r, i);
	return 0;
}

const struct spa_replay_entry *spa_replay_find(const struct spa_replay *r, const char *digest)
{
	size_t mask = r->n_slots - 1;
	size_t i = (size_t)hash_digest(digest) & mask;

	while (r->slots[i]) {
		const struct spa_replay_entry *e = &r->entries[r->slots[i] - 1];
		if (strcmp(e->digest, digest) == 0)
			return e;
		i = (i + 1) & mask;
	}
	return NULL;
}

static int mem_add(struct spa_replay *r, const struct spa_replay_entry *e)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct spa_replay_entry *grown;
		if (cap > UINT32_MAX / 4)
			return -ENOSPC;
		grown = realloc(r->entries, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		r->entries = grown;
		r->cap = cap;
	}
	r->entries[r->n++] = *e;
	/* keep the load factor under one half so probes stay short */
	if (r->n * 2 > r->n_slots)
		return rehash(r, r->n_slots * 2);
	slot_insert(r, r->n - 1);
	return 0;
}

static int format_line(const struct spa_replay_entry *e, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s %u %s %u %s %u %" PRId64 "\n", e->digest, e->proto, e->src,
			 e->sport, e->dst, e->dport, e->created);
	return n < 0 || (size_t)n >= cap ? -EOVERFLOW : n;
}

/* A SHA-256 in base64 without padding: 43 characters of the alphabet, and
 * the last one's 2 leftover bits zero (the one spelling of 32 bytes). */
static bool digest_ok(const char *s, size_t n)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *last;

	if (n != DIGEST_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !memchr(b64, s[i], sizeof(b64) - 1))
			return false;
	last = memchr(b64, s[n - 1], sizeof(b64) - 1);
	return ((last - b64) & 3) == 0;
}

/* Decimal digits only (no sign, no spaces), at most max. */
static bool uint_ok(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

static bool addr_ok(const char *s, size_t n, char *out, size_t cap)
{
	unsigned char bin[16];

	if (n == 0 || n >= cap)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return inet_pton(AF_INET, out, bin) == 1 || inet_pton(AF_INET6, out, bin) == 1;
}

/* One record, exactly: 7 fields separated by single spaces, each strictly
 * of its kind. text is the line without its newline. */
static int parse_line(const char *text, size_t len, struct spa_replay_entry *e)
{
	const char *f[7];
	size_t n[7], k = 0, start = 0;
	uint64_t proto, sport, dport, t;

	memset(e, 0, sizeof(*e));
	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != ' ')
			continue;
		if (k == 7 || i == start)
			return -EINVAL;
		f[k] = text + start;
		n[k++] = i - start;
		start = i + 1;
	}
	if (k != 7 || !digest_ok(f[0], n[0]) || !uint_ok(f[1], n[1], 255, &proto) ||
	    !addr_ok(f[2], n[2], e->src, sizeof(e->src)) || !uint_ok(f[3], n[3], 65535, &sport) ||
	    !addr_ok(f[4], n[4], e->dst, sizeof(e->dst)) || !uint_ok(f[5], n[5], 65535, &dport) ||
	    !uint_ok(f[6], n[6], TIME_MAX, &t))
		return -EINVAL;
	memcpy(e->digest, f[0], DIGEST_LEN);
	e->digest[DIGEST_LEN] = '\0';
	e->proto = (uint8_t)proto;
	e->sport = (uint16_t)sport;
	e->dport = (uint16_t)dport;
	e->created = (int64_t)t;
	return 0;
}

/* Rewrites the file without pruned entries: a temp file created
 * exclusively in the checked directory, fsync, rename. */
static int compact(struct spa_replay *r, int dfd, const char *base)
{
	char tmp[NAME_MAX + 1], line[256];
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", base) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = spa_fs_create_temp(dfd, tmp);
	if (fd < 0)
		return fd;
	rc = spa_fs_write_all(fd, HEADER, strlen(HEADER));
	for (size_t i = 0; rc == 0 && i < r->n; i++) {
		int n = format_line(&r->entries[i], line, sizeof(line));
		rc = n < 0 ? n : spa_fs_write_all(fd, line, (size_t)n);
	}
	if (rc == 0)
		rc = spa_fs_commit(dfd, fd, tmp, base);
	else
		unlinkat(dfd, tmp, 0);
	close(fd);
	return rc;
}

/* Keeps e unless it is older than the window or already known. */
static int keep(struct spa_replay *r, const struct spa_replay_entry *e, int64_t now,
		uint32_t keep_secs, bool *pruned)
{
	if (keep_secs && e->created < now - (int64_t)keep_secs) {
		*pruned = true;
		return 0;
	}
	return spa_replay_find(r, e->digest) ? 0 : mem_add(r, e);
}

/*
 * A damaged line: a record cut short by a full disk or a crash, maybe with
 * the next record glued to it. Nothing in it is trusted as a record, but
 * no digest it holds is forgotten: a whole digest at its start (the cut
 * record's packet) and a whole record at its end (the glued one) are both
 * kept, the former as seen now, so neither packet can be replayed.
 * Returns how many were recovered.
 */
static int salvage(struct spa_replay *r, const char *text, size_t len, int64_t now,
		   uint32_t keep_secs, bool *pruned, int *rc)
{
	struct spa_replay_entry e;
	int found = 0;

	memset(&e, 0, sizeof(e));
	if (len > DIGEST_LEN && text[DIGEST_LEN] == ' ' && digest_ok(text, DIGEST_LEN)) {
		memcpy(e.digest, text, DIGEST_LEN);
		snprintf(e.src, sizeof(e.src), "0.0.0.0");
		snprintf(e.dst, sizeof(e.dst), "0.0.0.0");
		e.created = now;
		*rc = keep(r, &e, now, 0, pruned);
		found++;
	}
	for (size_t i = 1; *rc == 0 && i + DIGEST_LEN < len; i++) {
		if (parse_line(text + i, len - i, &e) == 0) {
			*rc = keep(r, &e, now, keep_secs, pruned);
			found++;
			break;
		}
	}
	return found;
}

static int load(struct spa_replay *r, int dfd, const char *base, int64_t now, uint32_t keep_secs,
		bool *pruned, bool *open_tail)
{
	size_t len = 0, off = 0;
	char *buf = NULL;
	int rc = spa_fs_read(dfd, base, REPLAY_MAX, &buf, &len), line = 0;

	if (rc == -ENOENT)
		return 0;
	*open_tail = len > 0 && buf[len - 1] != '\n';
	while (rc == 0 && off < len) {
		char *nl = memchr(buf + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - buf) : len;
		const char *text = buf + off;
		size_t n = end - off;
		struct spa_replay_entry e;

		line++;
		off = end + 1;
		if (n == 0 || text[0] == '#')
			continue;
		/* a last line without its newline was cut short: even if it
		 * parses, its time may be cut (and would prune it too soon) */
		if (nl && parse_line(text, n, &e) == 0) {
			rc = keep(r, &e, now, keep_secs, pruned);
			continue;
		}
		if (salvage(r, text, n, now, keep_secs, pruned, &rc))
			spa_log(SPA_L_WARNING, "digest cache %s:%d: damaged record (%s); the "
				"digests it holds are kept", r->path, line,
				nl ? "cut short, or glued to another" : "last line cut short");
		else
			spa_log(SPA_L_WARNING, "digest cache %s:%d: damaged record skipped",
				r->path, line);
		/* the file no longer says what we hold: rewrite it */
		*pruned = true;
	}
	free(buf);
	return rc;
}

int spa_replay_open(const char *path, int64_t now, uint32_t keep_secs, struct spa_replay **out)
{
	struct spa_replay *r = calloc(1, sizeof(*r));
	char err[PATH_MAX + 128];
	const char *base = NULL;
	bool pruned = false, open_tail = false;
	struct stat st;
	off_t cut;
	int rc, dfd = -1;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->fd = -1;
	r->cut_to = -1;
	rc = rehash(r, 128);
	if (rc < 0 || !path)
		goto out;
	if (snprintf(r->path, sizeof(r->path), "%s", path) >= (int)sizeof(r->path)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	rc = spa_fs_open_dir(path, &dfd, &base, err, sizeof(err));
	if (rc < 0) {
		spa_log(SPA_L_ERR, "digest cache %s: %s", path, err);
		goto out;
	}
	rc = load(r, dfd, base, now, keep_secs, &pruned, &open_tail);
	if (rc < 0)
		goto out;
	/* a damaged file is rewritten too (keeping every digest it held) */
	/* A rewrite that fails (a full disk) keeps the file as it was: it
	 * still holds every digest, only more of them. */
	if (pruned && (rc = compact(r, dfd, base)) < 0)
		spa_log(SPA_L_WARNING, "digest cache %s: cannot rewrite it (%s); kept as it is",
			path, strerror(-rc));
	else if (pruned)
		open_tail = false;
	/* a line cut short at the end must not have the next one glued on */
	r->needs_nl = open_tail;
	r->fd = spa_fs_openat(dfd, base, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (r->fd < 0) {
		rc = r->fd;
		r->fd = -1;
		goto out;
	}
	rc = 0;
	/* the header is for people: a file without one loads the same */
	if (fstat(r->fd, &st) == 0 && st.st_size == 0 &&
	    spa_fs_append(r->fd, HEADER, strlen(HEADER), &cut) < 0)
		r->cut_to = cut;
out:
	if (dfd >= 0)
		close(dfd);
	if (rc < 0)
		spa_replay_close(r);
	else
		*out = r;
	return rc;
}

int spa_replay_add(struct spa_replay *r, const struct spa_replay_entry *e)
{
	char line[256];
	int n, rc = 0;

	if (r->fd >= 0) {
		/* after a line cut short: end it first, in the same write */
		line[0] = '\n';
		n = format_line(e, line + r->needs_nl, sizeof(line) - 1);
		if (n < 0)
			return n;
		n += r->needs_nl;
		/* a fragment an earlier failure could not cut off goes first */
		if (r->cut_to >= 0 && ftruncate(r->fd, r->cut_to) == 0)
			r->cut_to = -1;
		/* In the file (the page cache) before the grant is acted on, so
		 * a killed daemon's successor still refuses the packet; made
		 * durable against power loss by spa_replay_sync, which the
		 * daemon calls once per wakeup, after the firewall calls, so a
		 * disk flush (milliseconds) never delays opening. A failed
		 * write is cut back off the file. */
		if (r->cut_to >= 0)
			rc = -EIO;
		else
			rc = spa_fs_append(r->fd, line, (size_t)n, &r->cut_to);
		if (rc < 0)
			spa_log(SPA_L_ERR, "digest cache %s: cannot record a digest (%s); the "
				"packet is refused", r->path, strerror(-rc));
		else
			r->dirty = true;
		if (rc == 0)
			r->needs_nl = false;
	}
	/* Spent in memory even when the file refused it: the caller refuses
	 * the packet, and this daemon never accepts it later either. */
	n = mem_add(r, e);
	return rc < 0 ? rc : n;
}

int spa_replay_sync(struct spa_replay *r)
{
	if (!r || r->fd < 0 || !r->dirty)
		return 0;
	r->dirty = false;
	return fdatasync(r->fd) < 0 ? -errno : 0;
}

void spa_replay_detach(struct spa_replay *r)
{
	if (r && r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
}

size_t spa_replay_count(const struct spa_replay *r)
{
	return r->n;
}

void spa_replay_close(struct spa_replay *r)
{
	if (!r)
		return;
	spa_replay_sync(r);
	if (r->fd >= 0)
		close(r->fd);
	free(r->entries);
	free(r->slots);
	free(r);
}

int spa_replay_rotate(const char *path)
{
	char old[NAME_MAX + 1];
	const char *base;
	int dfd, rc;

	rc = spa_fs_open_dir(path, &dfd, &base, NULL, 0);
	if (rc < 0)
		return rc;
	/* renameat moves the entry itself, a link included, and replaces
	 * whatever -old was (a link too) without following it */
	if (snprintf(old, sizeof(old), "%s-old", base) >= (int)sizeof(old))
		rc = -ENAMETOOLONG;
	else if (renameat(dfd, base, dfd, old) < 0 && errno != ENOENT)
		rc = -errno;
	close(dfd);
	return rc;
}
