/* SPDX-License-Identifier: MIT */
#include "spa_replay.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER "# <digest> <proto> <src_ip> <src_port> <dst_ip> <dst_port> <time>\n"

struct spa_replay {
	struct spa_replay_entry *entries;   /* insertion order */
	size_t n, cap;
	uint32_t *slots;                    /* index + 1; 0 = empty */
	size_t n_slots;                     /* power of two */
	int fd;                             /* -1: memory only */
	bool dirty;                         /* written since the last fdatasync */
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

static int parse_line(const char *line, struct spa_replay_entry *e)
{
	unsigned proto, sport, dport;
	long long t;

	memset(e, 0, sizeof(*e));
	if (sscanf(line, "%43s %u %45s %u %45s %u %lld", e->digest, &proto, e->src, &sport,
		   e->dst, &dport, &t) != 7)
		return -EINVAL;
	if (strlen(e->digest) != 43 || proto > 255 || sport > 65535 || dport > 65535)
		return -EINVAL;
	e->proto = (uint8_t)proto;
	e->sport = (uint16_t)sport;
	e->dport = (uint16_t)dport;
	e->created = t;
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Rewrites the file without pruned entries: temp file, fsync, rename. */
static int compact(struct spa_replay *r, const char *path)
{
	char tmp[PATH_MAX], line[256];
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, HEADER, strlen(HEADER));
	for (size_t i = 0; rc == 0 && i < r->n; i++) {
		int n = format_line(&r->entries[i], line, sizeof(line));
		rc = n < 0 ? n : write_all(fd, line, (size_t)n);
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

static int load(struct spa_replay *r, const char *path, int64_t now, uint32_t keep,
		bool *pruned)
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		struct spa_replay_entry e;
		int rc;
		if (line[0] == '#' || parse_line(line, &e) < 0)
			continue;
		if (keep && e.created < now - (int64_t)keep) {
			*pruned = true;
			continue;
		}
		if (spa_replay_find(r, e.digest))
			continue;
		rc = mem_add(r, &e);
		if (rc < 0) {
			fclose(f);
			return rc;
		}
	}
	fclose(f);
	return 0;
}

int spa_replay_open(const char *path, int64_t now, uint32_t keep_secs, struct spa_replay **out)
{
	struct spa_replay *r = calloc(1, sizeof(*r));
	bool pruned = false;
	struct stat st;
	int rc;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->fd = -1;
	rc = rehash(r, 128);
	if (rc < 0 || !path)
		goto out;
	rc = load(r, path, now, keep_secs, &pruned);
	if (rc == 0 && pruned)
		rc = compact(r, path);
	if (rc < 0)
		goto out;
	r->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (r->fd < 0) {
		rc = -errno;
		goto out;
	}
	if (fstat(r->fd, &st) == 0 && st.st_size == 0)
		rc = write_all(r->fd, HEADER, strlen(HEADER));
out:
	if (rc < 0)
		spa_replay_close(r);
	else
		*out = r;
	return rc;
}

int spa_replay_add(struct spa_replay *r, const struct spa_replay_entry *e)
{
	char line[256];
	int n, rc;

	if (r->fd >= 0) {
		n = format_line(e, line, sizeof(line));
		if (n < 0)
			return n;
		/* In the file (the page cache) before the grant is acted on, so
		 * a killed daemon's successor still refuses the packet; made
		 * durable against power loss by spa_replay_sync, which the
		 * daemon calls once per wakeup, after the firewall calls, so a
		 * disk flush (milliseconds) never delays opening. */
		rc = write_all(r->fd, line, (size_t)n);
		if (rc < 0)
			return rc;
		r->dirty = true;
	}
	return mem_add(r, e);
}

int spa_replay_sync(struct spa_replay *r)
{
	if (!r || r->fd < 0 || !r->dirty)
		return 0;
	r->dirty = false;
	return fdatasync(r->fd) < 0 ? -errno : 0;
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
	char old[PATH_MAX];

	if (snprintf(old, sizeof(old), "%s-old", path) >= (int)sizeof(old))
		return -ENAMETOOLONG;
	if (rename(path, old) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
