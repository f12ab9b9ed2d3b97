/* SPDX-License-Identifier: MIT */
/* spa_run.h - the command runner behind spa_host_api.run: argv only, no
 * shell, empty environment, bounded time and output. */
#ifndef SPA_RUN_H
#define SPA_RUN_H

#include <stddef.h>
#include <sys/types.h>

/* stdout grows as needed up to this (a ruleset listing with tens of
 * thousands of rules must arrive whole); stderr is for messages. */
#define SPA_RUN_OUT_MAX (16u << 20)
#define SPA_RUN_ERR_MAX 65536
#define SPA_RUN_IN_MAX (1024 * 1024)

/* Zero-initialise; spa_run_buf_free releases it. out is valid (and
 * NUL-terminated) until the next run with the same buffer. */
struct spa_run_buf {
	char *out;
	size_t out_len, out_cap;
	size_t out_limit;               /* 0: SPA_RUN_OUT_MAX */
	char err[SPA_RUN_ERR_MAX + 1];
	size_t err_len;
};

void spa_run_buf_free(struct spa_run_buf *buf);

/* 0 when the child ran (*status: exit code, -1 if killed); negative errno
 * if it could not be started, and -EFBIG when its stdout went past the
 * limit (what was read is kept, but a caller must not trust a cut
 * listing). *timed_out is set when it was killed.
 *
 * timeout_ms bounds the whole run: feeding stdin, reading output and
 * waiting for the exit, whether or not the child closed its output. The
 * child leads its own process group; at the deadline the whole group gets
 * SIGKILL. The run ends with the child: what it left in its group (a
 * background child holding the pipes or not) gets 200 ms to finish writing
 * and is then killed, so a command never leaves processes behind. */
int spa_run(const char *const argv[], int timeout_ms, struct spa_run_buf *buf, int *status,
	    int *timed_out);
/* The same with input_len bytes of input on the child's stdin (closed
 * after them); input_len 0 gives /dev/null as spa_run does. -E2BIG past
 * SPA_RUN_IN_MAX. */
int spa_run_input(const char *const argv[], const void *input, size_t input_len,
		  int timeout_ms, struct spa_run_buf *buf, int *status, int *timed_out);

/* Who a command runs as (spa_host_api.run_as): the child sets its
 * supplementary groups to {gid}, then its gid and uid (real, effective and
 * saved), checks that all of them took and only then executes argv[0]; a
 * credential that does not take is -EPERM and nothing runs. */
struct spa_run_cred {
	uid_t uid;
	gid_t gid;
};

/* spa_run_input as cred (NULL: spad's own credentials, as spa_run). A
 * child with credentials starts in / (spad's own directory may be closed
 * to that user); one without inherits spad's, which is / too. */
int spa_run_as(const char *const argv[], const struct spa_run_cred *cred, const void *input,
	       size_t input_len, int timeout_ms, struct spa_run_buf *buf, int *status,
	       int *timed_out);

#endif
