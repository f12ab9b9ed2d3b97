/* SPDX-License-Identifier: MIT */
/*
 * interop_proc.h - run an external program (argv, never a shell) with a
 * fixed environment, stdin from /dev/null and stdout/stderr captured.
 */
#ifndef INTEROP_PROC_H
#define INTEROP_PROC_H

#include <stddef.h>

struct io_proc_result {
	int exit_code;      /* exit status, or 128+signal, or -1 on spawn error */
	char *out;          /* captured stdout, NUL-terminated (may be "") */
	char *err;          /* captured stderr, NUL-terminated (may be "") */
};

/* Runs argv[0] with envp, capturing its output in files under tmpdir;
 * kills it after timeout_ms. Returns 0 if it could be run (see exit_code),
 * else -1. */
int io_proc_run(char *const argv[], char *const envp[], const char *tmpdir,
		unsigned timeout_ms, struct io_proc_result *res);
void io_proc_result_free(struct io_proc_result *res);

/* Reads a whole file (NUL-terminated); NULL on error. */
char *io_read_file(const char *path, size_t *len);

/* Creates a private temp dir; removes it (one level deep) at cleanup. */
int io_tmpdir_create(char *out, size_t cap);
void io_tmpdir_remove(const char *dir);

#endif
