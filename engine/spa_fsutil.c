/* SPDX-License-Identifier: MIT */
/* spa_fsutil.c - safe file handling in spad's run directory (spa_fsutil.h). */
#include "spa_fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The check on an open directory descriptor; dir only names it. */
static int check_fd(int fd, const char *dir, char *err, size_t errlen)
{
	struct stat st;
	uid_t me = geteuid();

	if (fstat(fd, &st) < 0) {
		int rc = -errno;
		if (err && errlen)
			snprintf(err, errlen, "directory %s: %s", dir, strerror(-rc));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (err && errlen)
			snprintf(err, errlen, "%s is not a directory", dir);
		return -ENOTDIR;
	}
	/* Whoever owns the directory, or may write to it, can replace any
	 * file in it by a link to a file of their choice. */
	if (st.st_uid != 0 && st.st_uid != me) {
		if (err && errlen)
			snprintf(err, errlen, "directory %s is owned by uid %u, not %s: refusing "
				 "to keep state there", dir, (unsigned)st.st_uid,
				 me == 0 ? "root" : "root or us");
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		if (err && errlen)
			snprintf(err, errlen, "directory %s is group- or world-writable (mode "
				 "%04o): refusing to keep state there (chmod go-w it)", dir,
				 (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int spa_fs_check_dir(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		rc = -errno;
		if (err && errlen)
			snprintf(err, errlen, "directory %s: %s", dir, strerror(-rc));
		return rc;
	}
	rc = check_fd(fd, dir, err, errlen);
	close(fd);
	return rc;
}

int spa_fs_open_dir(const char *path, int *dirfd, const char **base, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int fd, rc;

	*dirfd = -1;
	*base = slash ? slash + 1 : path;
	if (!**base) {
		if (err && errlen)
			snprintf(err, errlen, "%s: not a file name", path);
		return -EINVAL;
	}
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		if (err && errlen)
			snprintf(err, errlen, "directory %s: %s", dir, strerror(-rc));
		return rc;
	}
	rc = check_fd(fd, dir, err, errlen);
	if (rc < 0)
		close(fd);
	else
		*dirfd = fd;
	return rc;
}

int spa_fs_openat(int dirfd, const char *name, int flags, mode_t mode)
{
	struct stat st;
	int fd, rc = 0;

	/* O_NONBLOCK: a FIFO planted at the name must not hang the open */
	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = -EINVAL;
	else if (st.st_nlink > 1)
		rc = -EMLINK; /* a hard link to someone else's file */
	else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		rc = -errno;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

const char *spa_fs_strerror(int rc)
{
	if (rc == -ELOOP)
		return "is a symbolic link: refusing to use it";
	if (rc == -EMLINK)
		return "has other hard links: refusing to use it";
	return strerror(-rc);
}

int spa_fs_create_temp(int dirfd, const char *name)
{
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return spa_fs_openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
}

int spa_fs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int spa_fs_append(int fd, const void *buf, size_t len, off_t *cut_to)
{
	off_t before = lseek(fd, 0, SEEK_END);
	int rc;

	*cut_to = -1;
	if (before < 0)
		return -errno;
	rc = spa_fs_write_all(fd, buf, len);
	/* A short write (ENOSPC half-way) left part of the record: cut it
	 * off, or the next record would be glued to it. */
	if (rc < 0 && ftruncate(fd, before) < 0)
		*cut_to = before;
	return rc;
}

int spa_fs_commit(int dirfd, int fd, const char *tmp, const char *name)
{
	int rc = 0;

	/* the rename is the commit point: the data must be on disk before */
	if (fsync(fd) < 0 || renameat(dirfd, tmp, dirfd, name) < 0)
		rc = -errno;
	if (rc < 0) {
		unlinkat(dirfd, tmp, 0);
		return rc;
	}
	/* the new name durable too; the file is in place whatever this says */
	(void)fsync(dirfd);
	return 0;
}

int spa_fs_read(int dirfd, const char *name, size_t max, char **out, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int fd = spa_fs_openat(dirfd, name, O_RDONLY, 0), rc = 0;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return fd;
	for (;;) {
		ssize_t r;
		if (n + 1 >= cap) {
			size_t want = cap ? 2 * cap : 65536;
			char *grown;
			if (cap >= max + 1) {
				rc = -EFBIG;
				break;
			}
			if (want > max + 1)
				want = max + 1;
			grown = realloc(buf, want);
			if (!grown) {
				rc = -ENOMEM;
				break;
			}
			buf = grown;
			cap = want;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}
