/* SPDX-License-Identifier: MIT */
/*
 * -R with -w/--wget-cmd: the built-in HTTPS client is the default, but a
 * user who names a wget binary gets fwknop's behaviour: that program is run
 * to fetch the URL. It is exec'd directly with a fixed argv (no shell, so
 * nothing in the URL or User-Agent is interpreted) and an empty
 * environment (no proxies or wgetrc picked up from ours).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spa_client.h"

#define WGET_TIMEOUT_MS 30000
#define WGET_MAX_OUTPUT 4096

static void child(int out_fd, char *const argv[])
{
	char *const envp[] = { NULL };
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 ||
	    dup2(out_fd, STDOUT_FILENO) < 0)
		_exit(127);
	execve(argv[0], argv, envp);
	_exit(127);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Reads the child's output until EOF, the cap or the deadline. */
static int read_output(int fd, char *buf, size_t cap)
{
	struct timespec t0;
	size_t used = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = WGET_TIMEOUT_MS - elapsed_ms(&t0);
		ssize_t n;
		int r;

		if (left <= 0)
			return -1;
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		n = read(fd, buf + used, cap - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0 || (used += (size_t)n) >= cap - 1)
			break;
	}
	buf[used] = '\0';
	return 0;
}

int spa_client_resolve_wget(const struct spa_client_cfg *c, const char *url,
			    char ip[16])
{
	char *argv[10];
	char buf[WGET_MAX_OUTPUT];
	int pfd[2], status = 0, n = 0, rc = -SPA_CE_RESOLVE, got;
	pid_t pid;

	argv[n++] = (char *)c->wget_cmd;
	if (!c->use_wget_ua) {
		argv[n++] = (char *)"-U";
		argv[n++] = (char *)c->user_agent;
	}
	argv[n++] = (char *)"--secure-protocol=auto";
	argv[n++] = (char *)"--quiet";
	argv[n++] = (char *)"-O";
	argv[n++] = (char *)"-";
	argv[n++] = (char *)url;
	argv[n] = NULL;

	if (access(c->wget_cmd, X_OK) != 0) {
		fprintf(stderr, "spa-client: cannot run %s: %s\n", c->wget_cmd,
			strerror(errno));
		return rc;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		fprintf(stderr, "spa-client: pipe: %s\n", strerror(errno));
		return rc;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "spa-client: fork: %s\n", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return rc;
	}
	if (pid == 0)
		child(pfd[1], argv);
	close(pfd[1]);
	got = read_output(pfd[0], buf, sizeof(buf));
	close(pfd[0]);
	if (got < 0)
		kill(pid, SIGKILL);   /* our own child, stuck or too chatty */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got < 0) {
		fprintf(stderr, "spa-client: %s timed out or failed\n", c->wget_cmd);
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "spa-client: %s failed (exit status %d)\n",
			c->wget_cmd, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto out;
	}
	if (spa_client_parse_myip_body(buf, ip) < 0) {
		fprintf(stderr, "spa-client: %s did not print an IPv4 address\n",
			c->wget_cmd);
		goto out;
	}
	rc = 0;
out:
	spa_wipe(buf, sizeof(buf));
	return rc;
}
