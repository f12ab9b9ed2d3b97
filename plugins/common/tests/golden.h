/* SPDX-License-Identifier: MIT */
/*
 * Golden transcripts for plugin tests: the commands a plugin ran, as text,
 * compared with a file kept next to the test. SPA_UPDATE_GOLDEN=1 rewrites
 * the file instead (review the diff before keeping it).
 */
#ifndef GOLDEN_H
#define GOLDEN_H

#include "fake_host.h"
#include "spa_pu.h"

/* Appends "$ argv" per recorded call, then a batch file's lines as
 * "  | ..." or the stdin given through run_input as "  < ..."; a temporary
 * file name is shown as <file> so the text is stable. */
int golden_transcript(const struct fake_host *h, struct spa_pu_buf *out);

/* golden_transcript of h's calls checked against dir/name, then the calls
 * are forgotten; 0 when equal. */
int golden_check_calls(struct fake_host *h, const char *dir, const char *name);

/* 0 when text equals dir/name (or was written on update), -1 otherwise. */
int golden_check(const char *dir, const char *name, const char *text);

#endif
