/* SPDX-License-Identifier: MIT */
/*
 * ~/.fwknop.run: the last command line, for -l and --show-last. The line
 * is rebuilt from the parsed options rather than copied from argv, so
 * options carrying keys can be left out however they were spelled
 * (--key-hmac=x, --key-h x, ...). fwknop stores them; we do not.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spa_client.h"

#define ARGS_LINE_MAX 4096

int spa_client_args_default_path(char *out, size_t cap)
{
	const char *home = getenv("HOME");
	int n;

	if (!home || !*home) {
		fprintf(stderr, "spa-client: HOME is not set; use -E or --no-save-args\n");
		return -SPA_CE_IO;
	}
	n = snprintf(out, cap, "%s/%s", home, SPA_CLIENT_RUN_NAME);
	return n > 0 && (size_t)n < cap ? 0 : -SPA_CE_IO;
}

static int add(char *line, size_t *used, const char *s)
{
	size_t n = strlen(s);

	if (*used + n + 2 >= ARGS_LINE_MAX)
		return -SPA_CE_IO;
	memcpy(line + *used, s, n);
	*used += n;
	line[(*used)++] = ' ';
	line[*used] = '\0';
	return 0;
}

int spa_client_args_format(const struct spa_cmdline *cl, char *line,
			   size_t cap)
{
	char opt[64];
	size_t used = 0;
	int rc;

	if (cap < ARGS_LINE_MAX)
		return -SPA_E_ARG;
	line[0] = '\0';
	rc = add(line, &used, "spa-client");
	for (size_t i = 0; i < cl->n && rc == 0; i++) {
		const struct spa_opt_def *d = cl->items[i].def;

		if (d->secret || d->id == SPA_OPT_LAST_CMD ||
		    d->id == SPA_OPT_SHOW_LAST)
			continue;
		if (d->short_name)
			snprintf(opt, sizeof(opt), "-%c", (char)d->short_name);
		else
			snprintf(opt, sizeof(opt), "--%s", d->long_name);
		rc = add(line, &used, opt);
		if (rc == 0 && d->arg == SPA_ARG_REQUIRED)
			rc = add(line, &used, cl->items[i].value);
	}
	if (rc == 0 && used + 1 < cap) {
		line[used++] = '\n';
		line[used] = '\0';
	}
	return rc;
}

int spa_client_args_save(const char *path, const struct spa_cmdline *cl)
{
	char line[ARGS_LINE_MAX];
	size_t len, off = 0;
	int fd, rc;

	rc = spa_client_args_format(cl, line, sizeof(line));
	if (rc < 0) {
		fprintf(stderr, "spa-client: command line too long to save\n");
		return rc;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) < 0) {
		fprintf(stderr, "spa-client: cannot write %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -SPA_CE_IO;
	}
	len = strlen(line);
	while (off < len) {
		ssize_t w = write(fd, line + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = -SPA_CE_IO;
			break;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0)
		rc = -SPA_CE_IO;
	return rc;
}

static int read_line(const char *path, char *line, size_t cap)
{
	FILE *f;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "spa-client: cannot read %s: %s\n", path, strerror(errno));
		return -SPA_CE_IO;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -SPA_CE_IO;
	}
	if (!fgets(line, (int)cap, f)) {
		fclose(f);
		fprintf(stderr, "spa-client: %s is empty\n", path);
		return -SPA_CE_IO;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	return 0;
}

int spa_client_args_show(const char *path, FILE *out)
{
	char line[ARGS_LINE_MAX];
	int rc = read_line(path, line, sizeof(line));

	if (rc == 0)
		fprintf(out, "Last spa-client command line: %s\n", line);
	spa_wipe(line, sizeof(line));
	return rc;
}

void spa_client_args_free(int argc, char **argv)
{
	if (!argv)
		return;
	for (int i = 0; i < argc; i++) {
		if (argv[i]) {
			spa_wipe(argv[i], strlen(argv[i]));
			free(argv[i]);
		}
	}
	free(argv);
}

int spa_client_args_load(const char *path, const char *prog, int *argc_out,
			 char ***argv_out)
{
	char line[ARGS_LINE_MAX], *save = NULL, *tok;
	char **argv = NULL;
	int argc = 0, rc;
	bool first = true;

	rc = read_line(path, line, sizeof(line));
	if (rc < 0)
		return rc;
	/* Every token needs a separator, so half the line bounds the count. */
	argv = calloc(sizeof(line) / 2 + 2, sizeof(*argv));
	if (!argv) {
		rc = -SPA_E_NOMEM;
		goto out;
	}
	argv[argc++] = strdup(prog);
	for (tok = strtok_r(line, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		/* The first word is the program that wrote the file. */
		if (first && tok[0] != '-') {
			first = false;
			continue;
		}
		first = false;
		if (!strcmp(tok, "-l") || !strcmp(tok, "--last-cmd"))
			continue;   /* never loop */
		argv[argc++] = strdup(tok);
	}
	for (int i = 0; i < argc; i++) {
		if (!argv[i])
			rc = -SPA_E_NOMEM;
	}
out:
	spa_wipe(line, sizeof(line));
	if (rc < 0) {
		spa_client_args_free(argc, argv);
		return rc;
	}
	*argc_out = argc;
	*argv_out = argv;
	return 0;
}
