/* SPDX-License-Identifier: MIT */
#include "exec_host.h"
#include "spa_pu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Feeds input to in_fd (closed once all is written; -1 for none) while
 * collecting out_fd until EOF, both until done, so that neither side can
 * block the other on a full pipe: POLLOUT promises room for PIPE_BUF
 * bytes, so no write is larger. */
static int pump(int in_fd, const char *input, size_t input_len, int out_fd,
		struct spa_pu_buf *out)
{
	size_t sent = 0;
	int rc = 0;

	while (out_fd >= 0 || in_fd >= 0) {
		/* poll skips an entry whose fd is negative */
		struct pollfd p[2] = { { out_fd, POLLIN, 0 }, { in_fd, POLLOUT, 0 } };
		char chunk[4096];
		size_t want = input_len - sent < PIPE_BUF ? input_len - sent : PIPE_BUF;
		ssize_t n;

		if (in_fd >= 0 && want == 0) {
			close(in_fd);
			in_fd = -1;
			continue;
		}
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (p[1].revents & (POLLOUT | POLLERR | POLLHUP)) {
			n = write(in_fd, input + sent, want);
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				sent = input_len; /* the command stopped reading */
			else if (n > 0)
				sent += (size_t)n;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(out_fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				out_fd = -1; /* closed by the caller */
				continue;
			}
			rc = spa_pu_buf_printf(out, "%.*s", (int)n, chunk);
			if (rc < 0)
				break;
		}
	}
	if (in_fd >= 0)
		close(in_fd);
	return rc;
}

/* fork + execve with stdout captured, stdin from input (or /dev/null when
 * input is NULL) and stderr discarded. */
static int spawn(struct exec_host *h, const char *const argv[], const char *input,
		 size_t input_len, struct spa_run_result *res)
{
	char *const envp[] = { NULL };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int out[2] = { -1, -1 }, in[2] = { -1, -1 };
	struct spa_pu_buf buf;
	int status = 0;
	pid_t pid;
	int rc;

	memset(res, 0, sizeof(*res));
	spa_pu_buf_init(&buf);
	free(h->out);
	h->out = NULL;
	if (pipe(out) < 0 || (input && pipe(in) < 0)) {
		rc = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(out[1], STDOUT_FILENO);
		dup2(input ? in[0] : null, STDIN_FILENO);
		dup2(null, STDERR_FILENO);
		/* the child must not hold the write end of its own stdin */
		for (int i = 0; i < 2; i++) {
			close(out[i]);
			if (input)
				close(in[i]);
		}
		execve(argv[0], (char *const *)argv, envp);
		_exit(127);
	}
	close(out[1]);
	out[1] = -1;
	if (input) {
		close(in[0]);
		in[0] = -1;
	}
	/* a command that exits without reading its stdin must not kill the
	 * test with SIGPIPE: the write fails with EPIPE instead */
	sigaction(SIGPIPE, &ign, &old);
	rc = pump(in[1], input, input_len, out[0], &buf);
	sigaction(SIGPIPE, &old, NULL);
	in[1] = -1; /* closed by pump */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc < 0)
		goto out;
	if (buf.failed) {
		rc = -ENOMEM;
		goto out;
	}
	h->out = buf.data ? buf.data : calloc(1, 1);
	buf.data = NULL;
	if (!h->out) {
		rc = -ENOMEM;
		goto out;
	}
	res->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	res->out = h->out;
	res->out_len = strlen(h->out);
	res->err = "";
out:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (in[i] >= 0)
			close(in[i]);
	}
	spa_pu_buf_free(&buf);
	return rc;
}

/* self is &h->fake, the first member of h */
static int exec_run(void *self, const char *const argv[], int timeout_ms,
		    struct spa_run_result *res)
{
	(void)timeout_ms;
	return spawn(self, argv, NULL, 0, res);
}

static int exec_run_input(void *self, const char *const argv[], const void *input,
			  size_t input_len, int timeout_ms, struct spa_run_result *res)
{
	(void)timeout_ms;
	return spawn(self, argv, input, input_len, res);
}

void exec_host_init(struct exec_host *h)
{
	memset(h, 0, sizeof(*h));
	fake_host_init(&h->fake);
	h->fake.api.run = exec_run;
	h->fake.api.run_input = exec_run_input;
}

void exec_host_free(struct exec_host *h)
{
	free(h->out);
	h->out = NULL;
	fake_host_free(&h->fake);
}
