/* SPDX-License-Identifier: MIT */
#include "recording.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_host.h"
#include "golden.h"

/* The recorder gets an empty environment from the runner, hence PATH; it
 * reads stdin in full first so that a command fed through run_input is
 * never cut off by an early exit. */
static const char recorder[] =
	"#!/bin/sh\n"
	"PATH=/usr/bin:/bin\n"
	"d=$(dirname \"$0\")\n"
	"cat > \"$d/stdin\"\n"
	"{\n"
	"  printf '%s' \"$(basename \"$0\")\"\n"
	"  for a in \"$@\"; do\n"
	"    case \"$a\" in /tmp/spa-batch.*) printf ' <file>' ;; *) printf ' %s' \"$a\" ;; esac\n"
	"  done\n"
	"  printf '\\n'\n"
	"  for a in \"$@\"; do\n"
	"    case \"$a\" in /tmp/spa-batch.*) sed 's/^/  | /' \"$a\" ;; esac\n"
	"  done\n"
	"  sed 's/^/  < /' \"$d/stdin\"\n"
	"} >> \"$d/transcript\"\n"
	". \"$d/respond\"\n"
	"exit 0\n";

int recording_put(const struct recording *r, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -1;
}

int recording_init(struct recording *r, const char *tool, const char *respond)
{
	snprintf(r->dir, sizeof(r->dir), "/tmp/spa-recording.XXXXXX");
	if (!mkdtemp(r->dir))
		return -1;
	snprintf(r->exe, sizeof(r->exe), "%s/%s", r->dir, tool);
	if (recording_put(r, tool, recorder) < 0 || chmod(r->exe, 0700) < 0 ||
	    recording_put(r, "respond", respond) < 0)
		return -1;
	return 0;
}

int recording_check(const struct recording *r, const char *golden_dir, const char *name)
{
	char path[256];
	size_t dlen = strlen(r->dir);
	char *got;
	int rc;

	snprintf(path, sizeof(path), "%s/transcript", r->dir);
	got = fake_host_slurp(path);
	if (!got)
		return -1;
	/* the directory differs per run */
	for (char *p; (p = strstr(got, r->dir));) {
		p[0] = '.';
		memmove(p + 1, p + dlen, strlen(p + dlen) + 1);
	}
	rc = golden_check(golden_dir, name, got);
	free(got);
	return rc;
}

void recording_free(struct recording *r)
{
	DIR *d = opendir(r->dir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", r->dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(r->dir);
}
