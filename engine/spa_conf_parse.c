/* SPDX-License-Identifier: MIT */
/*
 * spa_conf_parse.c - the line syntax shared by fwknopd.conf and access.conf
 * (docs/man/spad.8, CONFIGURATION FILES), %include / %include_folder, and value helpers.
 * Variables themselves are handled in spa_conf_server.c / spa_conf_access.c.
 */
#include "spa_conf_internal.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spa_log.h"

int spa_conf_fail(struct spa_conf_ctx *x, const struct spa_conf_pos *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->name)
		snprintf(x->err, x->errlen, "%s:%u: %s '%s': %s", p->file, p->line,
			 p->name, p->value ? p->value : "", msg);
	else
		snprintf(x->err, x->errlen, "%s:%u: %s", p->file, p->line, msg);
	return -EINVAL;
}

int spa_conf_yes_no(const char *v, bool *out)
{
	/* fwknop looks at the first byte only; we also refuse anything that is
	 * neither a yes nor a no so a typo cannot silently mean "no". */
	if (v[0] == 'Y' || v[0] == 'y')
		*out = true;
	else if (v[0] == 'N' || v[0] == 'n')
		*out = false;
	else
		return -EINVAL;
	return 0;
}

int spa_conf_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long n;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

int spa_conf_i64(const char *v, int64_t *out)
{
	char *end;
	long long n;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = n;
	return 0;
}

int spa_conf_copy(const char *v, char *dst, size_t cap)
{
	size_t len = strlen(v);

	if (len >= cap)
		return -EINVAL;
	memcpy(dst, v, len + 1);
	return 0;
}

int spa_conf_kv_append(struct spa_conf_kv **arr, size_t *n, const char *name, const char *value,
		       const char *where)
{
	struct spa_conf_kv *grown = realloc(*arr, (*n + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	*arr = grown;
	grown[*n].name = strdup(name);
	grown[*n].value = strdup(value);
	snprintf(grown[*n].where, sizeof(grown[*n].where), "%s", where ? where : "");
	grown[*n].secret = false;
	if (!grown[*n].name || !grown[*n].value) {
		free(grown[*n].name);
		free(grown[*n].value);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

int spa_conf_kv_add(struct spa_conf_kv **arr, size_t *n, const struct spa_conf_pos *p,
		    const char *value)
{
	char where[64];

	snprintf(where, sizeof(where), "%s:%u", p->file, p->line);
	return spa_conf_kv_append(arr, n, p->name, value, where);
}

void spa_conf_kv_free(struct spa_conf_kv *arr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(arr[i].name);
		if (arr[i].value) {
			/* plugin keys may hold secrets (API tokens) */
			spa_wipe(arr[i].value, strlen(arr[i].value));
			free(arr[i].value);
		}
	}
	free(arr);
}

/* Include paths are relative to the including file, not the cwd, so a
 * config tree can be moved as a whole. */
static int resolve_path(const char *base, const char *rel, char *out, size_t cap)
{
	char tmp[PATH_MAX];
	int n;

	if (rel[0] == '/')
		n = snprintf(out, cap, "%s", rel);
	else {
		snprintf(tmp, sizeof(tmp), "%s", base);
		n = snprintf(out, cap, "%s/%s", dirname(tmp), rel);
	}
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_conf_ext(const char *name)
{
	size_t len = strlen(name);
	return len > 5 && strcmp(name + len - 5, ".conf") == 0;
}

static int check_owner_mode(struct spa_conf_ctx *x, const char *path, int fd, bool dir);

int spa_conf_parse_folder(struct spa_conf_ctx *x, const char *dir, int depth,
			  const struct spa_conf_pos *p)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (!d)
		return spa_conf_fail(x, p, "cannot open directory: %s", strerror(errno));
	/* whoever may add a file here decides what spad reads as root */
	rc = check_owner_mode(x, dir, dirfd(d), true);
	if (rc < 0)
		goto out;
	while ((de = readdir(d))) {
		char **grown;
		if (de->d_name[0] == '.' || !has_conf_ext(de->d_name))
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown) {
			rc = -ENOMEM;
			goto out;
		}
		names = grown;
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			rc = -ENOMEM;
			goto out;
		}
		n++;
	}
	/* fwknop uses readdir order; sorting makes stanza order reproducible. */
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && rc == 0; i++) {
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path)) {
			rc = spa_conf_fail(x, p, "path too long");
			break;
		}
		rc = spa_conf_parse_file(x, path, depth);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

/* Every file the parser reads defines keys or commands that run as root:
 * one that someone else may write is refused, not warned about. Checked
 * on the open descriptor, so a rename between check and read cannot swap
 * the file. Only readable by others (the keys leak, nothing runs) is a
 * warning, as fwknopd gives. */
static int check_owner_mode(struct spa_conf_ctx *x, const char *path, int fd, bool dir)
{
	static const char *const who[] = { "", "group", "others", "group and others" };
	static const char *const fix[] = { "", "g-w", "o-w", "go-w" };
	struct stat st;
	uid_t me = geteuid();
	unsigned mode, w;

	if (fstat(fd, &st) < 0) {
		int e = errno;
		snprintf(x->err, x->errlen, "%s: cannot stat: %s", path, strerror(e));
		return -e;
	}
	mode = (unsigned)(st.st_mode & 07777);
	if (st.st_uid != me) {
		if (me == 0)
			snprintf(x->err, x->errlen,
				 "refusing %s: owned by uid %u, not root; chown root", path,
				 (unsigned)st.st_uid);
		else
			snprintf(x->err, x->errlen,
				 "refusing %s: owned by uid %u, not by uid %u that spad runs as",
				 path, (unsigned)st.st_uid, (unsigned)me);
		return -EPERM;
	}
	w = (st.st_mode & S_IWGRP ? 1u : 0u) | (st.st_mode & S_IWOTH ? 2u : 0u);
	if (w) {
		snprintf(x->err, x->errlen, "refusing %s: writable by %s (mode %04o); chmod %s",
			 path, who[w], mode, fix[w]);
		return -EPERM;
	}
	/* a directory others may list gives nothing away: its files are 0600 */
	if (!dir && (st.st_mode & (S_IRWXG | S_IRWXO)))
		spa_log(SPA_L_WARNING, "%s: permissions %03o; files with secrets should be 0600",
			path, mode & 0777);
	return 0;
}

static int check_permissions(struct spa_conf_ctx *x, const char *path, int fd)
{
	return check_owner_mode(x, path, fd, false);
}

static int handle_directive(struct spa_conf_ctx *x, const struct spa_conf_pos *p,
			    int depth)
{
	char path[PATH_MAX];
	int rc;

	if (strcmp(p->name, "%include") != 0 && strcmp(p->name, "%include_folder") != 0 &&
	    !(strcmp(p->name, "%include_keys") == 0 && x->access))
		return spa_conf_fail(x, p, "unknown directive");
	if (depth >= SPA_CONF_MAX_DEPTH)
		return spa_conf_fail(x, p, "includes nested deeper than %d levels",
				     SPA_CONF_MAX_DEPTH);
	if (!*p->value)
		return spa_conf_fail(x, p, "missing path");
	if (resolve_path(p->file, p->value, path, sizeof(path)) < 0)
		return spa_conf_fail(x, p, "path too long");
	if (access(path, R_OK) < 0)
		return spa_conf_fail(x, p, "cannot read %s: %s", path, strerror(errno));
	if (strcmp(p->name, "%include") == 0)
		return spa_conf_parse_file(x, path, depth + 1);
	if (strcmp(p->name, "%include_folder") == 0)
		return spa_conf_parse_folder(x, path, depth + 1, p);
	/* %include_keys */
	if (x->cur < 0 || x->keys_only)
		return spa_conf_fail(x, p, "only valid inside a stanza");
	x->keys_only = true;
	rc = spa_conf_parse_file(x, path, depth + 1);
	x->keys_only = false;
	return rc;
}

/* Splits one line as docs/man/spad.8 describes; returns 1 if it holds a variable. */
static int split_line(char *line, char **name, char **value)
{
	char *s = line, *v;

	if (*s == '#' || *s == ';' || *s == '\r' || *s == '\n' || *s == '\0')
		return 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '\r' || *s == '\n')
		return 0;
	*name = s;
	while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n' && *s != ';')
		s++;
	v = s;
	if (*v == ' ' || *v == '\t') {
		*s = '\0';
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
	} else {
		*s = '\0';
		v = s;
	}
	/* The value ends at the first ';', CR or LF; trailing blanks stay, as
	 * fwknop keeps them (they matter for raw KEY values). */
	v[strcspn(v, ";\r\n")] = '\0';
	*value = v;
	return 1;
}

int spa_conf_parse_file(struct spa_conf_ctx *x, const char *path, int depth)
{
	char line[SPA_CONF_LINE_MAX + 2];
	struct spa_conf_pos pos = { .file = path };
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f) {
		snprintf(x->err, x->errlen, "%s: cannot open: %s", path, strerror(errno));
		return -ENOENT;
	}
	rc = check_permissions(x, path, fileno(f));
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		char *name, *value;
		size_t len = strlen(line);

		pos.line++;
		pos.name = NULL;
		pos.value = NULL;
		if (len > SPA_CONF_LINE_MAX && line[len - 1] != '\n') {
			rc = spa_conf_fail(x, &pos, "line longer than %d bytes", SPA_CONF_LINE_MAX);
			break;
		}
		if (!split_line(line, &name, &value))
			continue;
		if (x->access && name[0] && name[strlen(name) - 1] == ':')
			name[strlen(name) - 1] = '\0';
		pos.name = name;
		pos.value = value;
		if (name[0] == '%')
			rc = handle_directive(x, &pos, depth);
		else if (!*value)
			rc = spa_conf_fail(x, &pos, "missing value");
		else if (x->access)
			rc = spa_conf_access_var(x, &pos);
		else
			rc = spa_conf_server_var(x, &pos);
		if (rc < 0)
			break;
	}
	if (rc == 0 && ferror(f)) {
		snprintf(x->err, x->errlen, "%s: read error", path);
		rc = -EIO;
	}
	spa_wipe(line, sizeof(line));
	fclose(f);
	return rc;
}
