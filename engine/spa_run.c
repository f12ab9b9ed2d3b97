/* SPDX-License-Identifier: MIT */
#include "spa_run.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Once the command exited, whatever it left running in its process group
 * (a background child still holding the pipes) gets this long to finish
 * writing before the group is killed; the deadline still caps it. */
#define SPA_RUN_GRACE_MS 200
/* After SIGKILL a child normally dies at once; one stuck in the kernel is
 * given this long and then left unreaped rather than stall the daemon. */
#define SPA_RUN_REAP_MS 1000
/* Without a pidfd, how often a child whose pipes are closed is checked. */
#define SPA_RUN_TICK_MS 10

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what is available into a fixed buffer; output past the cap is
 * drained and dropped so a chatty child cannot block on a full pipe. */
static int drain(int fd, char *buf, size_t *len, size_t cap)
{
	char scratch[4096];
	ssize_t r;

	if (*len < cap)
		r = read(fd, buf + *len, cap - *len);
	else
		r = read(fd, scratch, sizeof(scratch));
	if (r > 0 && *len < cap)
		*len += (size_t)r;
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	return r > 0;
}

/* stdout: the buffer doubles up to the limit; past it, drained and
 * dropped, and *cut is set. */
static int drain_out(int fd, struct spa_run_buf *b, bool *cut)
{
	size_t limit = b->out_limit ? b->out_limit : SPA_RUN_OUT_MAX;

	if (b->out_len + 1 >= b->out_cap && b->out_cap < limit + 1) {
		size_t cap = b->out_cap ? b->out_cap * 2 : 16384;
		char *grown;

		if (cap > limit + 1)
			cap = limit + 1;
		grown = realloc(b->out, cap);
		if (grown) {
			b->out = grown;
			b->out_cap = cap;
		}
	}
	if (b->out_len + 1 >= b->out_cap) {
		char scratch[4096];
		ssize_t r = read(fd, scratch, sizeof(scratch));
		if (r > 0)
			*cut = true;
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			return 1;
		return r > 0;
	}
	return drain(fd, b->out, &b->out_len, b->out_cap - 1);
}

void spa_run_buf_free(struct spa_run_buf *buf)
{
	free(buf->out);
	buf->out = NULL;
	buf->out_len = buf->out_cap = 0;
}

/* Feeds what the child will take; 0 once everything went or the child
 * stopped reading (it may legitimately exit without reading its input).
 * The caller keeps SIGPIPE blocked, so a reader that went away is EPIPE. */
static int feed(int fd, const char *in, size_t len, size_t *done)
{
	ssize_t w = write(fd, in + *done, len - *done);

	if (w > 0)
		*done += (size_t)w;
	if (w < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	return w > 0 && *done < len;
}

/* A pidfd turns "the child exited" into a poll event; old kernels have
 * none and are polled every SPA_RUN_TICK_MS instead. */
static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

/* WNOWAIT leaves the child a zombie: its pid, which is also its group's
 * id, cannot be reused before we kill the group and reap it. */
static bool child_exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno != EINTR; /* ECHILD: reaped behind our back */
	return si.si_pid == pid;
}

/* Reaps pid by the time until (monotonic ms); -ETIMEDOUT leaves it. */
static int reap(pid_t pid, int pidfd, int64_t until, int *wstatus)
{
	for (;;) {
		pid_t r = waitpid(pid, wstatus, WNOHANG);
		int64_t left;

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		left = until - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (pidfd >= 0) {
			struct pollfd p = { .fd = pidfd, .events = POLLIN };
			poll(&p, 1, (int)left);
		} else {
			poll(NULL, 0, left < SPA_RUN_TICK_MS ? (int)left : SPA_RUN_TICK_MS);
		}
	}
}

int spa_run(const char *const argv[], int timeout_ms, struct spa_run_buf *buf, int *status,
	    int *timed_out)
{
	return spa_run_input(argv, NULL, 0, timeout_ms, buf, status, timed_out);
}

int spa_run_input(const char *const argv[], const void *input, size_t input_len,
		  int timeout_ms, struct spa_run_buf *buf, int *status, int *timed_out)
{
	return spa_run_as(argv, NULL, input, input_len, timeout_ms, buf, status, timed_out);
}

/* posix_spawn, for a command that runs as spad itself. */
static int spawn_plain(const char *const argv[], int in_fd, int out_w, int err_w, pid_t *pid)
{
	char *const empty_env[] = { NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	int rc;

	/* The child starts clean: every signal at its default and none
	 * blocked (spad ignores SIGPIPE and blocks what its signalfd reads;
	 * a start from a shell's background may ignore SIGINT), and only fds
	 * 0-2, whatever a library left open without close-on-exec. */
	sigemptyset(&none);
	/* the classic signals: glibc reserves the two below SIGRTMIN */
	sigemptyset(&defaults);
	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaddset(&defaults, sig);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	/* Its own process group (pgid = its pid, set in the child before
	 * exec), so a timeout or a leftover background child is dealt with
	 * by killing the group: nothing it started outlives the run. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					POSIX_SPAWN_SETPGROUP);
	posix_spawn_file_actions_init(&fa);
	if (in_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_w, 1);
	posix_spawn_file_actions_adddup2(&fa, err_w, 2);
	/* after the dup2s, which need the pipe ends */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	rc = -posix_spawn(pid, argv[0], &fa, &attr, (char *const *)argv, empty_env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return rc;
}

/* Closes every descriptor from `from` on except keep: close_range, or
 * (a kernel before 5.9) one close per possible descriptor. */
static void close_from(int from, int keep)
{
	struct rlimit rl;
	long last = 1024;

#ifdef SYS_close_range
	if ((keep <= from || syscall(SYS_close_range, (unsigned)from, (unsigned)keep - 1, 0u) == 0) &&
	    syscall(SYS_close_range, (unsigned)(keep >= from ? keep + 1 : from), ~0u, 0u) == 0)
		return;
#endif
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < 1048576)
		last = (long)rl.rlim_cur;
	for (long fd = from; fd < last; fd++)
		if (fd != keep)
			close((int)fd);
}

/* Whether the process now has exactly these credentials: real, effective
 * and saved ids, and {gid} as its only supplementary group. */
static bool creds_took(const struct spa_run_cred *c)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[2];
	int n;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return false;
	n = getgroups(2, groups);
	return ru == c->uid && eu == c->uid && su == c->uid && rg == c->gid && eg == c->gid &&
	       sg == c->gid && n == 1 && groups[0] == c->gid;
}

/*
 * The child of spawn_as, between fork and exec: what posix_spawn does for
 * spa_run (signals, process group, descriptors), then the credentials.
 * System calls only, no allocation: the parent may have threads, and a
 * lock one of them held at the fork (malloc's) stays held here. An error goes to the parent
 * as an errno on errfd (close-on-exec: an exec that works closes it).
 */
static _Noreturn void child_as(const char *const argv[], const struct spa_run_cred *cred,
			       int in_fd, int out_w, int err_w, int errfd)
{
	char *const empty_env[] = { NULL };
	struct sigaction dfl;
	sigset_t none;
	int e;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setpgid(0, 0) < 0)
		goto fail;
	if (in_fd < 0)
		in_fd = open("/dev/null", O_RDONLY);
	if (in_fd < 0 || dup2(in_fd, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		goto fail;
	close_from(3, errfd);
	/* groups first: after setuid a non-root process may not change them */
	if (setgroups(1, &cred->gid) < 0 || setresgid(cred->gid, cred->gid, cred->gid) < 0 ||
	    setresuid(cred->uid, cred->uid, cred->uid) < 0)
		goto fail;
	if (!creds_took(cred)) {
		errno = EPERM;
		goto fail;
	}
	if (chdir("/") < 0)
		goto fail;
	execve(argv[0], (char *const *)argv, empty_env);
fail:
	e = errno;
	if (write(errfd, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

/* fork + child_as: 0 with *pid once argv[0] is executing as cred, or the
 * negative errno of what failed before that (the child is reaped). */
static int spawn_as(const char *const argv[], const struct spa_run_cred *cred, int in_fd,
		    int out_w, int err_w, pid_t *pid)
{
	int ep[2], e = 0;
	ssize_t r;

	*pid = -1;
	if (pipe2(ep, O_CLOEXEC) < 0)
		return -errno;
	*pid = fork();
	if (*pid < 0) {
		e = errno;
		close(ep[0]);
		close(ep[1]);
		return -e;
	}
	if (*pid == 0)
		child_as(argv, cred, in_fd, out_w, err_w, ep[1]);
	close(ep[1]);
	/* as the child does: kill(-pid) must reach its group whoever runs first */
	(void)setpgid(*pid, *pid);
	do
		r = read(ep[0], &e, sizeof(e));
	while (r < 0 && errno == EINTR);
	close(ep[0]);
	if (r != (ssize_t)sizeof(e))
		return 0;
	while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
		;
	*pid = -1;
	return e > 0 ? -e : -EPERM;
}

int spa_run_as(const char *const argv[], const struct spa_run_cred *cred, const void *input,
	       size_t input_len, int timeout_ms, struct spa_run_buf *buf, int *status,
	       int *timed_out)
{
	int out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 }, in_p[2] = { -1, -1 };
	sigset_t pipe_set, pending, saved_mask;
	bool pipe_was_pending;
	pid_t pid = -1;
	int rc, wstatus = 0, pidfd = -1;
	/* one deadline for the whole run: feeding, reading and reaping */
	int64_t deadline = now_ms() + timeout_ms, grace_end = 0;
	struct pollfd pfd[4];
	size_t fed = 0;
	bool cut = false, exited = false;

	*status = -1;
	*timed_out = 0;
	/* the last listing may have been big: do not keep megabytes around */
	if (buf->out_cap > (256u << 10))
		spa_run_buf_free(buf);
	if (!buf->out) {
		buf->out = malloc(16384);
		if (!buf->out)
			return -ENOMEM;
		buf->out_cap = 16384;
	}
	buf->out_len = buf->err_len = 0;
	if (!argv || !argv[0] || argv[0][0] != '/' || (input_len && !input))
		return -EINVAL;
	if (input_len > SPA_RUN_IN_MAX)
		return -E2BIG;
	if (pipe2(out_p, O_CLOEXEC) < 0 || pipe2(err_p, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	/* A pipe, as a shell would give: some tools open /dev/stdin by name,
	 * which a socket cannot be. Non-blocking, so a child that stops
	 * reading cannot stall the loop. */
	if (input_len && pipe2(in_p, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	if (input_len && fcntl(in_p[1], F_SETFL, O_NONBLOCK) < 0) {
		rc = -errno;
		goto out;
	}
	if (cred)
		rc = spawn_as(argv, cred, input_len ? in_p[0] : -1, out_p[1], err_p[1], &pid);
	else
		rc = spawn_plain(argv, input_len ? in_p[0] : -1, out_p[1], err_p[1], &pid);
	close(out_p[1]);
	close(err_p[1]);
	out_p[1] = err_p[1] = -1;
	if (in_p[0] >= 0) {
		close(in_p[0]);
		in_p[0] = -1;
	}
	if (rc < 0)
		goto out;
	/* a child that exits unread must give EPIPE, not kill the caller */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pipe_was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &saved_mask);
	pidfd = open_pidfd(pid);
	pfd[0] = (struct pollfd){ .fd = out_p[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = err_p[0], .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = in_p[1], .events = POLLOUT };
	pfd[3] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	/* Until the child exited and its pipes are at EOF; a child that
	 * closed its output is still waited for (and killed at the
	 * deadline), and pipes held after its exit get SPA_RUN_GRACE_MS. */
	for (;;) {
		int64_t now = now_ms(), end, left;
		int n;

		if (!exited && (pidfd < 0 || pfd[3].revents) && child_exited(pid)) {
			exited = true;
			grace_end = now + SPA_RUN_GRACE_MS;
			pfd[3].fd = -1;
		}
		if (exited && pfd[0].fd < 0 && pfd[1].fd < 0)
			break;
		end = exited && grace_end < deadline ? grace_end : deadline;
		left = end - now;
		if (left <= 0) {
			*timed_out = !exited;
			break;
		}
		if (pidfd < 0 && !exited && left > SPA_RUN_TICK_MS)
			left = SPA_RUN_TICK_MS;
		n = poll(pfd, 4, (int)left);
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0) {
			pfd[3].revents = 0;
			continue;
		}
		if (pfd[0].fd >= 0 && pfd[0].revents && !drain_out(out_p[0], buf, &cut))
			pfd[0].fd = -1;
		if (pfd[1].fd >= 0 && pfd[1].revents &&
		    !drain(err_p[0], buf->err, &buf->err_len, SPA_RUN_ERR_MAX))
			pfd[1].fd = -1;
		if (pfd[2].fd >= 0 && pfd[2].revents &&
		    !feed(in_p[1], (const char *)input, input_len, &fed)) {
			/* end of input is the child's EOF */
			close(in_p[1]);
			in_p[1] = pfd[2].fd = -1;
		}
	}
	/* Whatever is left of the group: the child itself on a timeout,
	 * background children after it exited. The child is not reaped yet,
	 * so its pid still names this group and no one else's. */
	kill(-pid, SIGKILL);
	if (!pipe_was_pending) {
		/* consume the SIGPIPE our writes may have raised */
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
			;
	}
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
	/* an exited child is reaped at once, a killed one almost so */
	if (reap(pid, pidfd, now_ms() + SPA_RUN_REAP_MS, &wstatus) == 0 && !*timed_out &&
	    WIFEXITED(wstatus))
		*status = WEXITSTATUS(wstatus);
	rc = cut ? -EFBIG : 0;
out:
	if (pidfd >= 0)
		close(pidfd);
	buf->out[buf->out_len] = '\0';
	buf->err[buf->err_len] = '\0';
	for (int i = 0; i < 2; i++) {
		if (out_p[i] >= 0)
			close(out_p[i]);
		if (err_p[i] >= 0)
			close(err_p[i]);
		if (in_p[i] >= 0)
			close(in_p[i]);
	}
	return rc;
}
