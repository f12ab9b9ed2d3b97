/* SPDX-License-Identifier: MIT */
#include "spa_run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what is available; output past the cap is drained and dropped so
 * a chatty child cannot block on a full pipe. */
static int drain(int fd, char *buf, size_t *len)
{
	char scratch[4096];
	ssize_t r;

	if (*len < SPA_RUN_OUT_MAX)
		r = read(fd, buf + *len, SPA_RUN_OUT_MAX - *len);
	else
		r = read(fd, scratch, sizeof(scratch));
	if (r > 0 && *len < SPA_RUN_OUT_MAX)
		*len += (size_t)r;
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	return r > 0;
}

int spa_run(const char *const argv[], int timeout_ms, struct spa_run_buf *buf, int *status,
	    int *timed_out)
{
	int out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 };
	char *const empty_env[] = { NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid = -1;
	int rc, wstatus = 0;
	int64_t deadline = now_ms() + timeout_ms;
	struct pollfd pfd[2];

	*status = -1;
	*timed_out = 0;
	buf->out_len = buf->err_len = 0;
	if (!argv || !argv[0] || argv[0][0] != '/')
		return -EINVAL;
	if (pipe2(out_p, O_CLOEXEC) < 0 || pipe2(err_p, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err_p[1], 2);
	rc = -posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, empty_env);
	posix_spawn_file_actions_destroy(&fa);
	close(out_p[1]);
	close(err_p[1]);
	out_p[1] = err_p[1] = -1;
	if (rc < 0)
		goto out;
	pfd[0] = (struct pollfd){ .fd = out_p[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = err_p[0], .events = POLLIN };
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		int64_t left = deadline - now_ms();
		int n;
		if (left <= 0) {
			*timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		n = poll(pfd, 2, (int)left);
		if (n < 0 && errno != EINTR) {
			kill(pid, SIGKILL);
			break;
		}
		if (n > 0 && pfd[0].revents && !drain(out_p[0], buf->out, &buf->out_len))
			pfd[0].fd = -1;
		if (n > 0 && pfd[1].revents && !drain(err_p[0], buf->err, &buf->err_len))
			pfd[1].fd = -1;
	}
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (!*timed_out && WIFEXITED(wstatus))
		*status = WEXITSTATUS(wstatus);
	rc = 0;
out:
	buf->out[buf->out_len] = '\0';
	buf->err[buf->err_len] = '\0';
	for (int i = 0; i < 2; i++) {
		if (out_p[i] >= 0)
			close(out_p[i]);
		if (err_p[i] >= 0)
			close(err_p[i]);
	}
	return rc;
}
