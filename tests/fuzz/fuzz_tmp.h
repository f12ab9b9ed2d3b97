/* SPDX-License-Identifier: MIT */
/*
 * Temp files for the harnesses whose parser only reads a path (the
 * configuration, rc, journal and digest cache loaders): one private
 * directory per process, made once, with the input rewritten in place
 * each iteration.
 */
#ifndef SPA_FUZZ_TMP_H
#define SPA_FUZZ_TMP_H

#include <stddef.h>
#include <stdint.h>

/* The process's private directory (mode 0700, ours): the state-file
 * loaders refuse a directory others can write, such as /tmp itself.
 * Made at the first call and removed at exit; aborts on failure. */
const char *fuzz_tmp_dir(void);

/* Writes data to <dir>/<name> (created 0600: the loaders refuse files
 * others may write or read) and returns the full path in a static
 * buffer of the caller's slot (one per name). Aborts on failure. */
const char *fuzz_tmp_write(const char *name, const uint8_t *data, size_t size);

#endif
