/* SPDX-License-Identifier: MIT */
#include "interop_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *io_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t got;

		if (cap - n < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb) {
				free(buf);
				buf = NULL;
				goto out;
			}
			buf = nb;
			cap += 65536;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
out:
	fclose(f);
	return buf;
}

static void io_sleep_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

int io_proc_run(char *const argv[], char *const envp[], const char *tmpdir,
		unsigned timeout_ms, struct io_proc_result *res)
{
	char out_path[512], err_path[512];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = 0, rc = -1, wr;
	long waited_us = 0, step = 100;

	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	snprintf(out_path, sizeof(out_path), "%s/proc.out", tmpdir);
	snprintf(err_path, sizeof(err_path), "%s/proc.err", tmpdir);
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ||
	    posix_spawn_file_actions_addopen(&fa, 1, out_path,
					     O_WRONLY | O_CREAT | O_TRUNC, 0600) ||
	    posix_spawn_file_actions_addopen(&fa, 2, err_path,
					     O_WRONLY | O_CREAT | O_TRUNC, 0600))
		goto out;
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, envp) != 0)
		goto out;
	for (;;) {
		wr = waitpid(pid, &status, WNOHANG);
		if (wr == pid)
			break;
		if (wr < 0 && errno != EINTR)
			goto out;
		if (waited_us > (long)timeout_ms * 1000) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		io_sleep_us(step);
		waited_us += step;
		if (step < 5000)
			step *= 2;
	}
	if (WIFEXITED(status))
		res->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		res->exit_code = 128 + WTERMSIG(status);
	res->out = io_read_file(out_path, NULL);
	res->err = io_read_file(err_path, NULL);
	if (!res->out || !res->err) {
		io_proc_result_free(res);
		goto out;
	}
	rc = 0;
out:
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

void io_proc_result_free(struct io_proc_result *res)
{
	free(res->out);
	free(res->err);
	res->out = NULL;
	res->err = NULL;
}

int io_tmpdir_create(char *out, size_t cap)
{
	const char *base = getenv("TMPDIR");

	if (!base || !*base)
		base = "/tmp";
	if ((size_t)snprintf(out, cap, "%s/spa-interop-XXXXXX", base) >= cap)
		return -1;
	return mkdtemp(out) ? 0 : -1;
}

void io_tmpdir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}
