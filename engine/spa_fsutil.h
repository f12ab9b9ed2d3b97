/* SPDX-License-Identifier: MIT */
/*
 * spa_fsutil.h - how spad touches the files of its run directory as root:
 * relative to a directory it checked (root's or ours, writable by nobody
 * else), never through a symlink, temp files created exclusively, and an
 * append that fails leaves the file at its last complete record.
 */
#ifndef SPA_FSUTIL_H
#define SPA_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The directory part of path is checked the way OpenSSH's StrictModes
 * checks ~/.ssh: owned by root (or by our euid when not root) and not
 * group/world-writable, so nobody else can plant a link or swap a file in
 * it. On success *dirfd is an open descriptor of it (close it) and
 * *base points into path at the file name. On failure err (if not NULL)
 * says which directory and what is wrong with it.
 */
int spa_fs_open_dir(const char *path, int *dirfd, const char **base, char *err, size_t errlen);
/* Just the check, on a directory. */
int spa_fs_check_dir(const char *dir, char *err, size_t errlen);

/*
 * openat(dirfd, name) with O_NOFOLLOW and O_CLOEXEC added; the result must
 * be a regular file with one link (a hard link planted to a victim file is
 * refused like a symlink). -ELOOP for a symlink.
 */
int spa_fs_openat(int dirfd, const char *name, int flags, mode_t mode);

/* strerror, with what -ELOOP and -EMLINK from spa_fs_openat mean. */
const char *spa_fs_strerror(int rc);

/* Creates name exclusively (0600), after unlinking whatever stale entry is
 * there (unlinkat never follows a link: a planted one is removed, its
 * target untouched). */
int spa_fs_create_temp(int dirfd, const char *name);

/* Writes all of buf (retrying short writes and EINTR). */
int spa_fs_write_all(int fd, const void *buf, size_t len);

/*
 * Appends buf to fd (opened O_APPEND) as one record. On any failure (a
 * short write when the disk fills, an error) the file is cut back to its
 * length before the write, so a failed record leaves nothing behind for
 * the next one to be glued to. *cut_to is -1, or, when that cut itself
 * failed, the length the file must be cut back to before anything else is
 * appended.
 */
int spa_fs_append(int fd, const void *buf, size_t len, off_t *cut_to);

/* fsync(fd), renameat(tmp -> name) in dirfd, fsync(dirfd): the commit of
 * a file rewritten whole. The temp is removed when this fails. */
int spa_fs_commit(int dirfd, int fd, const char *tmp, const char *name);

/* Reads a whole regular file (O_NOFOLLOW) into a NUL-terminated buffer;
 * -ENOENT when it does not exist. Refuses files over max bytes. */
int spa_fs_read(int dirfd, const char *name, size_t max, char **out, size_t *len);

#endif
