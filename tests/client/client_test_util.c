/* SPDX-License-Identifier: MIT */
#include "client_test_util.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t count_args(const char *const *args)
{
	size_t n = 0;

	while (args[n])
		n++;
	return n;
}

static char **make_argv(const char *const *args, int *argc)
{
	size_t n = count_args(args);
	char **argv = calloc(n + 2, sizeof(*argv));

	assert_non_null(argv);
	argv[0] = strdup("spa-client");
	for (size_t i = 0; i < n; i++)
		argv[i + 1] = strdup(args[i]);
	*argc = (int)n + 1;
	return argv;
}

static void free_argv(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

int ct_parse(struct spa_client_cfg *c, const char *const *args)
{
	struct spa_cmdline cl;
	int argc, rc;
	char **argv = make_argv(args, &argc);

	rc = spa_cmdline_parse(argc, argv, &cl);
	if (rc == 0) {
		rc = spa_cmdline_apply(&cl, c);
		spa_cmdline_free(&cl);
	}
	free_argv(argc, argv);
	return rc;
}

void ct_mkdtemp(char *out, size_t cap)
{
	const char *t = getenv("TMPDIR");

	snprintf(out, cap, "%s/spa-client-test-XXXXXX", t && *t ? t : "/tmp");
	assert_non_null(mkdtemp(out));
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void ct_rmtree(const char *dir)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

void ct_write_file(const char *path, const char *text, unsigned mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

char *ct_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = calloc(1, 65536);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

int ct_run(const char *out_path, const char *const *args)
{
	int argc, rc, saved, fd;
	char **argv = make_argv(args, &argc);

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(out_path ? out_path : "/dev/null",
		  O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	rc = spa_client_main(argc, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	free_argv(argc, argv);
	return rc;
}
