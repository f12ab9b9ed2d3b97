/* SPDX-License-Identifier: MIT */
#include "exec_host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void exec_log(void *self, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void exec_log(void *self, int level, const char *fmt, ...)
{
	struct exec_host *h = self;
	va_list ap;

	if (level <= SPA_LOG_ERR)
		h->nerrors++;
	if (getenv("FAKE_HOST_VERBOSE")) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

static const char *exec_config_get(void *self, const char *key)
{
	struct exec_host *h = self;

	for (unsigned int i = 0; i < h->nkeys; i++)
		if (strcmp(h->keys[i], key) == 0)
			return h->values[i];
	return NULL;
}

static int read_all(int fd, char **out)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (cap - len < 2) {
			char *p = realloc(buf, cap * 2);

			if (!p) {
				free(buf);
				return -ENOMEM;
			}
			buf = p;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

static int exec_run(void *self, const char *const argv[], int timeout_ms,
		    struct spa_run_result *res)
{
	struct exec_host *h = self;
	char *const envp[] = { NULL };
	int fds[2];
	int status = 0;
	pid_t pid;
	int rc;

	(void)timeout_ms;
	memset(res, 0, sizeof(*res));
	free(h->out);
	h->out = NULL;
	if (pipe(fds) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(fds[0]);
		close(fds[1]);
		return rc;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(fds[1], STDOUT_FILENO);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDERR_FILENO);
		}
		close(fds[0]);
		close(fds[1]);
		execve(argv[0], (char *const *)argv, envp);
		_exit(127);
	}
	close(fds[1]);
	rc = read_all(fds[0], &h->out);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc < 0)
		return rc;
	res->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	res->out = h->out;
	res->out_len = strlen(h->out);
	res->err = "";
	return 0;
}

void exec_host_init(struct exec_host *h)
{
	memset(h, 0, sizeof(*h));
	h->api.struct_size = sizeof(h->api);
	h->api.self = h;
	h->api.log = exec_log;
	h->api.config_get = exec_config_get;
	h->api.run = exec_run;
}

void exec_host_free(struct exec_host *h)
{
	free(h->out);
	h->out = NULL;
}

void exec_host_set(struct exec_host *h, const char *key, const char *value)
{
	if (h->nkeys < EXEC_MAX_KEYS) {
		h->keys[h->nkeys] = key;
		h->values[h->nkeys++] = value;
	}
}
