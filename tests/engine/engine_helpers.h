/* SPDX-License-Identifier: MIT */
/* engine_helpers.h - temp dirs and files for the engine tests. */
#ifndef SPA_ENGINE_HELPERS_H
#define SPA_ENGINE_HELPERS_H

#include <stddef.h>

/* Creates /tmp/spa-engine-XXXXXX into buf (cap >= 64); aborts on failure. */
void th_tmpdir(char *buf, size_t cap);
/* Writes text to dir/name, mode 0600 (a config file spad accepts whatever
 * the umask); returns the full path in out. */
void th_write(const char *dir, const char *name, const char *text, char *out, size_t cap);
/* Removes a directory tree made by th_tmpdir. */
void th_rmrf(const char *dir);
/* Reads a whole file (NUL-terminated, malloc'd) or NULL. */
char *th_read(const char *path);
/* Number of non-overlapping occurrences of needle in hay. */
int th_count(const char *hay, const char *needle);

/* The value of "name:" in /proc/<pid>/status (inner tabs kept, trailing
 * blanks cut) into out; 0, or -1 when the process or the line is missing. */
int th_proc_status(int pid, const char *name, char *out, size_t cap);

#endif
