/* SPDX-License-Identifier: MIT */
/*
 * cloud.c - the simulated provider behind cloud.h: each request reads the
 * rules file, changes it and writes it back whole, under a lock. A request
 * that finds the lock taken is throttled, as a provider throttles an
 * account's concurrent writes.
 */
#include "cloud.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

struct rules {
	struct cloud_rule *v;
	size_t n, cap;
};

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < CLOUD_NAME_LEN &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") == n;
}

/* What the provider checks of a request's rule. */
static int valid_rule(const struct cloud_rule *r)
{
	char addr[CLOUD_CIDR_LEN], *end;
	unsigned char bin[16];
	const char *slash = strchr(r->cidr, '/');
	long bits, max;

	if (!valid_name(r->group) || !valid_name(r->description) || r->port == 0 ||
	    (strcmp(r->proto, "tcp") != 0 && strcmp(r->proto, "udp") != 0) || !slash)
		return -EINVAL;
	memcpy(addr, r->cidr, (size_t)(slash - r->cidr));
	addr[slash - r->cidr] = '\0';
	if (inet_pton(AF_INET, addr, bin) == 1)
		max = 32;
	else if (inet_pton(AF_INET6, addr, bin) == 1)
		max = 128;
	else
		return -EINVAL;
	bits = strtol(slash + 1, &end, 10);
	return *end || end == slash + 1 || bits < 0 || bits > max ? -EINVAL : 0;
}

static int parse_line(const char *line, struct cloud_rule *r)
{
	unsigned port;
	int end = 0;

	memset(r, 0, sizeof(*r));
	if (sscanf(line, "%20s %63s ingress %3s %u %49s %63s%n", r->id, r->group, r->proto, &port,
		   r->cidr, r->description, &end) != 6 ||
	    (line[end] != '\n' && line[end] != '\0') || port > 65535 ||
	    strncmp(r->id, "sgr-", 4) != 0)
		return -EINVAL;
	r->port = (uint16_t)port;
	return valid_rule(r);
}

static int push(struct rules *rs, const struct cloud_rule *r)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 16;
		struct cloud_rule *v = realloc(rs->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		rs->v = v;
		rs->cap = cap;
	}
	rs->v[rs->n++] = *r;
	return 0;
}

static int load(const char *path, struct rules *rs)
{
	char line[256];
	struct cloud_rule r;
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (rc == 0 && fgets(line, sizeof(line), f))
		if (line[0] != '#' && line[0] != '\n')
			rc = parse_line(line, &r) < 0 ? -EBADMSG : push(rs, &r);
	fclose(f);
	return rc;
}

/* A temporary file renamed over the old one: a reader never sees half a
 * group, and a crash never loses the previous state. */
static int save(const char *path, const struct rules *rs)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return -ENOMEM;
	}
	fprintf(f, "# security group rules (sdk/examples/cloud-sg's simulated provider)\n");
	for (size_t i = 0; i < rs->n; i++) {
		const struct cloud_rule *r = &rs->v[i];
		fprintf(f, "%s %s ingress %s %u %s %s\n", r->id, r->group, r->proto, r->port,
			r->cidr, r->description);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* Authenticates, takes the group (LOCK_EX to write, LOCK_SH to read) and
 * reads it. Returns the lock's descriptor, for end(). */
static int begin(const struct cloud *c, int how, struct rules *rs)
{
	char lock[PATH_MAX];
	int fd, rc;

	memset(rs, 0, sizeof(*rs));
	if (!c->token || !*c->token)
		return -EACCES;
	if (snprintf(lock, sizeof(lock), "%s.lock", c->path) >= (int)sizeof(lock))
		return -ENAMETOOLONG;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, how | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EAGAIN : -errno;
		close(fd);
		return rc;
	}
	rc = load(c->path, rs);
	if (rc < 0) {
		close(fd);
		free(rs->v);
		rs->v = NULL;
		return rc;
	}
	return fd;
}

static void end(int fd, struct rules *rs)
{
	close(fd);
	free(rs->v);
}

static bool same_rule(const struct cloud_rule *a, const struct cloud_rule *b)
{
	return strcmp(a->group, b->group) == 0 && strcmp(a->proto, b->proto) == 0 &&
	       a->port == b->port && strcmp(a->cidr, b->cidr) == 0 &&
	       strcmp(a->description, b->description) == 0;
}

static int add_rule(struct rules *rs, struct cloud_rule *r, bool *changed)
{
	size_t in_group = 0;
	uint64_t id;
	int rc = valid_rule(r);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < rs->n; i++) {
		if (same_rule(&rs->v[i], r)) {
			memcpy(r->id, rs->v[i].id, sizeof(r->id));
			return 0;
		}
		in_group += strcmp(rs->v[i].group, r->group) == 0;
	}
	if (in_group >= CLOUD_QUOTA)
		return -EDQUOT;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		return -EIO;
	snprintf(r->id, sizeof(r->id), "sgr-%016llx", (unsigned long long)id);
	*changed = true;
	return push(rs, r);
}

int cloud_authorize(const struct cloud *c, struct cloud_rule *r, size_t n, int *rc)
{
	struct rules rs;
	bool changed = false;
	int fd = begin(c, LOCK_EX, &rs), err = fd < 0 ? fd : 0;

	for (size_t i = 0; i < n; i++)
		rc[i] = err ? err : add_rule(&rs, &r[i], &changed);
	if (err)
		return err;
	if (changed)
		err = save(c->path, &rs);
	for (size_t i = 0; err && i < n; i++)
		rc[i] = err;
	end(fd, &rs);
	return err;
}

int cloud_revoke(const struct cloud *c, const char *group, const char *const *ids, size_t n)
{
	struct rules rs;
	size_t kept = 0;
	int fd = begin(c, LOCK_EX, &rs), rc = 0;

	if (fd < 0)
		return fd;
	for (size_t i = 0; i < rs.n; i++) {
		bool gone = false;
		for (size_t k = 0; k < n && !gone; k++)
			gone = strcmp(rs.v[i].group, group) == 0 && strcmp(rs.v[i].id, ids[k]) == 0;
		if (!gone)
			rs.v[kept++] = rs.v[i];
	}
	if (kept != rs.n) {
		rs.n = kept;
		rc = save(c->path, &rs);
	}
	end(fd, &rs);
	return rc;
}

int cloud_describe(const struct cloud *c, const char *group, struct cloud_rule **out,
		   size_t *n)
{
	struct rules rs;
	size_t kept = 0;
	int fd = begin(c, LOCK_SH, &rs);

	*out = NULL;
	*n = 0;
	if (fd < 0)
		return fd;
	for (size_t i = 0; i < rs.n; i++)
		if (strcmp(rs.v[i].group, group) == 0)
			rs.v[kept++] = rs.v[i];
	close(fd);
	*out = rs.v;
	*n = kept;
	return 0;
}
