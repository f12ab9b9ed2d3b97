/* SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, pwrite */
#endif
#include "fuzz_tmp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_TMP_SLOTS 8

static char tmp_dir[256];
static struct {
	char name[64];
	char path[320];
	int fd;
} slots[FUZZ_TMP_SLOTS];
static size_t n_slots;

/* Removes what the harness and the loaders left (temp files of an
 * interrupted rewrite included); one level of subdirectories. */
static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			char p[600];

			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			if (unlink(p) < 0 && (errno == EISDIR || errno == EPERM))
				rm_tree(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

static void cleanup(void)
{
	for (size_t i = 0; i < n_slots; i++)
		if (slots[i].fd >= 0)
			close(slots[i].fd);
	if (tmp_dir[0])
		rm_tree(tmp_dir);
}

/* libFuzzer ends a timed run and a crash with _Exit, so the atexit
 * cleanup never runs there: each new process removes the directories of
 * harness processes that are gone (their pid is in the name). */
static void sweep_stale(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char p[600];
		long pid;
		char *end;

		if (strncmp(e->d_name, "spa-fuzz-", 9) != 0)
			continue;
		pid = strtol(e->d_name + 9, &end, 10);
		if (pid <= 0 || *end != '-' || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(p, sizeof(p), "%s/%s", base, e->d_name);
		rm_tree(p);
	}
	closedir(d);
}

const char *fuzz_tmp_dir(void)
{
	const char *base = getenv("SPA_FUZZ_TMPDIR");
	struct stat st;

	if (tmp_dir[0])
		return tmp_dir;
	/* tmpfs when there is one: the journal and digest cache loaders
	 * fsync what they rewrite, which on a disk costs milliseconds. */
	if (base == NULL || !*base)
		base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
				       access("/dev/shm", W_OK) == 0
			       ? "/dev/shm"
			       : "/tmp";
	sweep_stale(base);
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/spa-fuzz-%ld-XXXXXX", base, (long)getpid());
	if (mkdtemp(tmp_dir) == NULL) {
		perror("fuzz: mkdtemp");
		abort();
	}
	atexit(cleanup);
	return tmp_dir;
}

const char *fuzz_tmp_write(const char *name, const uint8_t *data, size_t size)
{
	size_t i;
	int fd;

	for (i = 0; i < n_slots; i++)
		if (!strcmp(slots[i].name, name))
			break;
	if (i == n_slots) {
		if (n_slots == FUZZ_TMP_SLOTS || strlen(name) >= sizeof(slots[i].name))
			abort();
		snprintf(slots[i].name, sizeof(slots[i].name), "%s", name);
		snprintf(slots[i].path, sizeof(slots[i].path), "%s/%s", fuzz_tmp_dir(), name);
		slots[i].fd = -1;
		n_slots++;
	}
	/* Kept open and rewritten (ftruncate + pwrite), unless the loader
	 * replaced the file (a compacting rewrite renames a new one over
	 * it) or removed it: then it is created again. */
	fd = slots[i].fd;
	if (fd >= 0) {
		struct stat a, b;

		if (fstat(fd, &a) < 0 || stat(slots[i].path, &b) < 0 ||
		    a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0) {
		unlink(slots[i].path);
		fd = open(slots[i].path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		if (fd < 0) {
			perror("fuzz: creating the input file");
			abort();
		}
		slots[i].fd = fd;
	}
	if (ftruncate(fd, 0) < 0 ||
	    (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
		perror("fuzz: writing the input file");
		abort();
	}
	return slots[i].path;
}
