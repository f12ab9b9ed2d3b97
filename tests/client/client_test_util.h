/* SPDX-License-Identifier: MIT */
/* Helpers shared by the spa-client unit tests. */
#ifndef CLIENT_TEST_UTIL_H
#define CLIENT_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include "spa_client.h"

/* Parses argv (NULL-terminated, without argv[0]) and applies it to c. */
int ct_parse(struct spa_client_cfg *c, const char *const *args);
/* A fresh private directory under TMPDIR; removed by ct_rmdir. */
void ct_mkdtemp(char *out, size_t cap);
void ct_rmtree(const char *dir);
/* Writes text to path with the given mode. */
void ct_write_file(const char *path, const char *text, unsigned mode);
/* Reads a whole (small) file; caller frees. */
char *ct_read_file(const char *path);
/* Runs spa_client_main with argv[0] "spa-client"; stdout goes to out_path
 * (or /dev/null when NULL). Returns the exit status. */
int ct_run(const char *out_path, const char *const *args);

#endif
