/* SPDX-License-Identifier: MIT */
#include "golden.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TMP_PREFIX "/tmp/spa-batch."

static int add_file_lines(struct spa_pu_buf *out, const char *file, const char *mark)
{
	const char *p = file;
	int rc = 0;

	while (*p && rc == 0) {
		size_t len = strcspn(p, "\n");

		rc = spa_pu_buf_printf(out, "  %s %.*s\n", mark, (int)len, p);
		p += len;
		if (*p == '\n')
			p++;
	}
	return rc;
}

int golden_transcript(const struct fake_host *h, struct spa_pu_buf *out)
{
	int rc = 0;

	for (unsigned int i = 0; i < h->ncalls && rc == 0; i++) {
		const char *a = h->calls[i].argv;
		const char *tmp = strstr(a, TMP_PREFIX);

		if (tmp)
			rc = spa_pu_buf_printf(out, "$ %.*s<file>%s\n", (int)(tmp - a), a,
					       tmp + strcspn(tmp, " "));
		else
			rc = spa_pu_buf_printf(out, "$ %s\n", a);
		if (rc == 0 && h->calls[i].file)
			rc = add_file_lines(out, h->calls[i].file,
					    h->calls[i].from_stdin ? "<" : "|");
	}
	return rc;
}

int golden_check(const char *dir, const char *name, const char *text)
{
	char path[1024];
	char *want;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (getenv("SPA_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");

		if (!f)
			return -1;
		fputs(text, f);
		return fclose(f) == 0 ? 0 : -1;
	}
	want = fake_host_slurp(path);
	if (!want) {
		fprintf(stderr, "golden file %s is missing\n", path);
		return -1;
	}
	if (strcmp(want, text) == 0)
		rc = 0;
	else
		fprintf(stderr, "transcript differs from %s\n--- expected\n%s--- got\n%s---\n",
			path, want, text);
	free(want);
	return rc;
}

int golden_check_calls(struct fake_host *h, const char *dir, const char *name)
{
	struct spa_pu_buf t;
	int rc;

	spa_pu_buf_init(&t);
	rc = golden_transcript(h, &t);
	if (rc == 0)
		rc = golden_check(dir, name, t.data ? t.data : "");
	spa_pu_buf_free(&t);
	fake_host_reset_calls(h);
	return rc < 0 ? -1 : 0;
}
