/* SPDX-License-Identifier: MIT */
#include "spa_cx.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first regular, executable file named name in SPA_CX_PATH. */
static int lookup(const char *name, char *out, size_t cap)
{
	const char *dir = SPA_CX_PATH;

	while (*dir) {
		size_t len = strcspn(dir, ":");
		struct stat st;
		int n = snprintf(out, cap, "%.*s/%s", (int)len, dir, name);

		if (n > 0 && (size_t)n < cap && stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
		    (st.st_mode & 0111))
			return 0;
		dir += len;
		if (*dir == ':')
			dir++;
	}
	return -ENOENT;
}

int spa_cx_build(const struct spa_command *cmd, struct spa_cx_argv *out, char *why, size_t cap)
{
	const char *words[SPA_CX_WORDS_MAX];
	char *save = NULL;
	size_t n = 0, k = 0;

	memset(out, 0, sizeof(*out));
	if (!cmd->text || strlen(cmd->text) >= sizeof(out->text)) {
		snprintf(why, cap, "command longer than %zu bytes", sizeof(out->text) - 1);
		return -E2BIG;
	}
	memcpy(out->text, cmd->text, strlen(cmd->text) + 1);
	for (char *w = strtok_r(out->text, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == SPA_CX_WORDS_MAX) {
			snprintf(why, cap, "more than %d words", SPA_CX_WORDS_MAX);
			return -E2BIG;
		}
		words[n++] = w;
	}
	if (n == 0) {
		snprintf(why, cap, "empty command");
		return -EINVAL;
	}
	if (cmd->sudo_exe) {
		out->argv[k++] = cmd->sudo_exe;
		if (cmd->sudo_user) {
			out->argv[k++] = "-u";
			out->argv[k++] = cmd->sudo_user;
		}
		if (cmd->sudo_group) {
			out->argv[k++] = "-g";
			out->argv[k++] = cmd->sudo_group;
		}
	} else if (words[0][0] == '/') {
		out->argv[k++] = words[0];
	} else if (strchr(words[0], '/')) {
		snprintf(why, cap, "program '%.64s' is a relative path", words[0]);
		return -EINVAL;
	} else if (lookup(words[0], out->prog, sizeof(out->prog)) < 0) {
		snprintf(why, cap, "no program '%.64s' in %s", words[0], SPA_CX_PATH);
		return -ENOENT;
	} else {
		out->argv[k++] = out->prog;
	}
	/* the program's path is argv[0] (it is what runs); sudo gets every word */
	for (size_t i = cmd->sudo_exe ? 0 : 1; i < n; i++)
		out->argv[k++] = words[i];
	out->argv[k] = NULL;
	out->argc = k;
	return 0;
}
