/* SPDX-License-Identifier: MIT */
#include "engine_helpers.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void th_tmpdir(char *buf, size_t cap)
{
	snprintf(buf, cap, "/tmp/spa-engine-XXXXXX");
	if (!mkdtemp(buf)) {
		perror("mkdtemp");
		abort();
	}
}

void th_write(const char *dir, const char *name, const char *text, char *out, size_t cap)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		abort();
	}
	/* spad refuses a config file others may write: whatever the umask,
	 * the tests' files must pass that check */
	if (chmod(path, 0600) != 0) {
		perror(path);
		abort();
	}
	if (out)
		snprintf(out, cap, "%s", path);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void th_rmrf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *th_read(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int th_count(const char *hay, const char *needle)
{
	int n = 0;
	size_t len = strlen(needle);

	if (!hay || !len)
		return 0;
	while ((hay = strstr(hay, needle))) {
		n++;
		hay += len;
	}
	return n;
}

int th_proc_status(int pid, const char *name, char *out, size_t cap)
{
	char path[64], line[512];
	size_t n = strlen(name);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, n) && line[n] == ':') {
			snprintf(out, cap, "%s", line + n + 1 + strspn(line + n + 1, " \t"));
			n = strlen(out);
			while (n && (out[n - 1] == '\n' || out[n - 1] == ' ' || out[n - 1] == '\t'))
				out[--n] = '\0';
			break;
		}
	}
	fclose(f);
	return out[0] ? 0 : -1;
}
