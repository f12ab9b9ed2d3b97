/* SPDX-License-Identifier: MIT */
/* spa_cx.h - how the cmdexec module turns a command message into an argv
 * (plugins/cmdexec/README.md, "How a command runs"). */
#ifndef SPA_CX_H
#define SPA_CX_H

#include <stddef.h>
#include <spa/plugin.h>

/* fwknopd's limit on the words of a command */
#define SPA_CX_WORDS_MAX 30
/* SUDO_EXE -u USER -g GROUP, the words, NULL */
#define SPA_CX_ARGV_MAX (SPA_CX_WORDS_MAX + 6)
/* where a program named without a '/' is looked for, in this order */
#define SPA_CX_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* a command message carries less than this (the wire field's limit) */
#define SPA_CX_TEXT_MAX 256

struct spa_cx_argv {
	char text[SPA_CX_TEXT_MAX];       /* the words, split in place */
	char prog[4096];                  /* the program found on SPA_CX_PATH */
	const char *argv[SPA_CX_ARGV_MAX];
	size_t argc;
};

/*
 * Builds out from cmd: the text split on blanks (spaces and tabs; no
 * quoting, no escapes, no shell), at most SPA_CX_WORDS_MAX words; the
 * program is an absolute path, or a bare name looked up on SPA_CX_PATH
 * (a relative path with a '/' is refused); with cmd->sudo_exe the argv is
 * "SUDO_EXE [-u sudo_user] [-g sudo_group] words..." and sudo finds the
 * program itself. Returns 0, or -EINVAL (empty, relative path), -E2BIG
 * (too many words), -ENOENT (no such program on the path), with why set.
 */
int spa_cx_build(const struct spa_command *cmd, struct spa_cx_argv *out, char *why,
		 size_t cap);

#endif
