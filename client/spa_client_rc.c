/* SPDX-License-Identifier: MIT */
/*
 * ~/.fwknoprc: reading [default] plus a named stanza, and rewriting one
 * stanza for --save-rc-stanza. The syntax is fwknop's, so files move both
 * ways between the two clients.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spa_client.h"

#define RC_LINE_MAX 1024
#define RC_NAME_WIDTH 24

static const char rc_template[] =
	"# ~/.fwknoprc - settings for spa-client (and fwknop, same syntax)\n"
	"#\n"
	"# Sections start with [name]; select one with -n name. [default] is\n"
	"# read first, then the named section, then the command line wins.\n"
	"# Each setting is one line: NAME value (values cannot hold spaces).\n"
	"# Keep this file private (mode 0600): it may hold keys.\n"
	"#\n"
	"# Example:\n"
	"#[myserver]\n"
	"#SPA_SERVER          203.0.113.10\n"
	"#ACCESS              tcp/22\n"
	"#ALLOW_IP            source\n"
	"#KEY_BASE64          <from spa-client --key-gen>\n"
	"#HMAC_KEY_BASE64     <from spa-client --key-gen>\n"
	"\n"
	"[default]\n"
	"\n";

int spa_client_rc_default_path(char *out, size_t cap)
{
	const char *home = getenv("HOME");
	int n;

	if (!home || !*home) {
		fprintf(stderr, "spa-client: HOME is not set; use --rc-file or --no-rc-file\n");
		return -SPA_CE_RC;
	}
	n = snprintf(out, cap, "%s/%s", home, SPA_CLIENT_RC_NAME);
	return n > 0 && (size_t)n < cap ? 0 : -SPA_CE_RC;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * A directory others may write to without the sticky bit lets them swap
 * the file we create for their own between our creating and reading it.
 */
static int rc_dir_private(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;
	size_t n;

	if (!slash) {
		memcpy(dir, ".", 2);
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir))
			return -SPA_CE_RC;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	if (stat(dir, &st) < 0) {
		fprintf(stderr, "spa-client: cannot create rc file %s: %s\n", path,
			strerror(errno));
		return -SPA_CE_RC;
	}
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
		fprintf(stderr, "spa-client: not creating rc file %s: its directory "
			"is writable by everyone\n", path);
		return -SPA_CE_RC;
	}
	return 0;
}

int spa_client_rc_create_template(const char *path)
{
	struct stat st;
	int fd, rc = 0;

	/* Anything already there, even a dangling symlink, is left alone
	 * (O_EXCL never follows one); rc_open then judges it. */
	if (lstat(path, &st) == 0)
		return 0;
	rc = rc_dir_private(path);
	if (rc < 0)
		return rc;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		fprintf(stderr, "spa-client: cannot create rc file %s: %s\n", path,
			strerror(errno));
		return -SPA_CE_RC;
	}
	/* Exactly 0600 whatever the umask took away from the owner. */
	if (fchmod(fd, 0600) < 0 ||
	    write_all(fd, rc_template, sizeof(rc_template) - 1) < 0)
		rc = -SPA_CE_RC;
	if (close(fd) < 0)
		rc = -SPA_CE_RC;
	if (rc == 0)
		printf("[*] Created rc file %s\n", path);
	else
		fprintf(stderr, "spa-client: cannot write rc file %s\n", path);
	return rc;
}

/* Opens the rc file and refuses one that others could read or change. */
static FILE *rc_open(const char *path)
{
	struct stat st;
	FILE *f;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		fprintf(stderr, "spa-client: cannot read rc file %s: %s\n", path,
			strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "spa-client: rc file %s is not a regular file\n", path);
		goto bad;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		fprintf(stderr, "spa-client: rc file %s is accessible by other users "
			"(mode %03o); run: chmod 600 %s\n", path,
			(unsigned)(st.st_mode & 0777), path);
		goto bad;
	}
	if (st.st_uid != geteuid()) {
		fprintf(stderr, "spa-client: rc file %s is not owned by you\n", path);
		goto bad;
	}
	f = fdopen(fd, "r");
	if (f)
		return f;
bad:
	close(fd);
	return NULL;
}

/* Splits one line into a section name or NAME/value; returns 0 for
 * nothing, 1 for a section, 2 for a variable, -1 for a malformed line. */
static int rc_split(char *line, char **name, char **value)
{
	char *p = line, *e;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#' || *p == ';' || *p == '\n' || *p == '\r')
		return 0;
	if (*p == '[') {
		e = strchr(p, ']');
		if (!e || e == p + 1)
			return -1;
		*e = '\0';
		*name = p + 1;
		return 1;
	}
	*name = p;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
		p++;
	if (*p)
		*p++ = '\0';
	e = *name + strlen(*name);
	/* "NAME:" is NAME, but a lone ":" stays a (bad) name: emptied, a
	 * --save-rc-stanza rewrite would write its value at the start of
	 * the line, where "[..." reads as a section */
	if (e > *name + 1 && e[-1] == ':')
		e[-1] = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	*value = p;
	p += strcspn(p, " \t;#\r\n");
	*p = '\0';
	return 2;
}

static int rc_pass(FILE *f, const char *path, const char *want,
		   struct spa_client_cfg *c, bool *found)
{
	char line[RC_LINE_MAX], where[PATH_MAX + 32];
	bool in = false;
	unsigned lineno = 0;
	int rc = 0;

	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		const struct spa_opt_def *d;
		char *name = NULL, *value = NULL;
		int kind;

		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		if (!strchr(line, '\n') && !feof(f)) {
			fprintf(stderr, "spa-client: %s: line too long\n", where);
			rc = -SPA_CE_RC;
			break;
		}
		kind = rc_split(line, &name, &value);
		if (kind < 0) {
			fprintf(stderr, "spa-client: %s: malformed section line\n", where);
			rc = -SPA_CE_RC;
			break;
		}
		if (kind == 1) {
			in = strcasecmp(name, want) == 0;
			if (in)
				*found = true;
			continue;
		}
		if (kind == 0 || !in)
			continue;
		d = spa_opt_by_rc_name(name);
		if (!d) {
			fprintf(stderr, "spa-client: %s: unknown variable '%s'\n",
				where, name);
			rc = -SPA_CE_RC;
			break;
		}
		rc = spa_client_apply(c, d, value, SPA_SRC_RC, where);
		if (rc < 0)
			break;
	}
	spa_wipe(line, sizeof(line));
	return rc;
}

int spa_client_rc_load(const char *path, const char *stanza,
		       bool require_stanza, struct spa_client_cfg *c)
{
	bool found_default = false, found = false;
	FILE *f;
	int rc;

	f = rc_open(path);
	if (!f)
		return -SPA_CE_RC;
	rc = rc_pass(f, path, "default", c, &found_default);
	if (rc == 0 && stanza && *stanza && strcasecmp(stanza, "default") != 0) {
		rc = rc_pass(f, path, stanza, c, &found);
		if (rc == 0 && !found && require_stanza) {
			fprintf(stderr, "spa-client: stanza [%s] not found in %s\n",
				stanza, path);
			rc = -SPA_CE_RC;
		}
	}
	fclose(f);
	return rc;
}

int spa_client_rc_list(const char *path, FILE *out)
{
	char line[RC_LINE_MAX];
	FILE *f = rc_open(path);

	if (!f)
		return -SPA_CE_RC;
	while (fgets(line, sizeof(line), f)) {
		char *name = NULL, *value = NULL;

		if (rc_split(line, &name, &value) == 1 &&
		    strcasecmp(name, "default") != 0)
			fprintf(out, "%s\n", name);
	}
	spa_wipe(line, sizeof(line));
	fclose(f);
	return 0;
}

/* ---- --save-rc-stanza ---- */

struct rc_buf {
	char *p;
	size_t len, cap;
};

static int buf_add(struct rc_buf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
		char *np = malloc(cap);

		if (!np)
			return -SPA_E_NOMEM;
		if (b->p) {
			memcpy(np, b->p, b->len);
			spa_wipe(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
	return 0;
}

static int buf_var(struct rc_buf *b, const char *name, const char *value)
{
	char line[RC_LINE_MAX];
	int n;

	n = snprintf(line, sizeof(line), "%-*s    %s\n", RC_NAME_WIDTH, name, value);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -SPA_CE_RC;
	n = buf_add(b, line);
	spa_wipe(line, sizeof(line));
	return n;
}

/* Key variables replace each other: a new KEY drops an old KEY_BASE64,
 * and GPG_SIGNING_PW[_BASE64], KEY under another name (fwknop). */
static const char *rc_group(const char *name)
{
	if (!strcasecmp(name, "KEY") || !strcasecmp(name, "KEY_BASE64") ||
	    !strcasecmp(name, "GPG_SIGNING_PW") ||
	    !strcasecmp(name, "GPG_SIGNING_PW_BASE64"))
		return "KEY";
	if (!strcasecmp(name, "HMAC_KEY") || !strcasecmp(name, "HMAC_KEY_BASE64"))
		return "HMAC_KEY";
	return name;
}

/* fwknop's "critical" variables: a stanza's value is kept unless
 * --force-stanza says to replace it. */
static bool rc_critical(const char *name)
{
	const char *g = rc_group(name);

	return !strcasecmp(g, "KEY") || !strcasecmp(g, "HMAC_KEY") ||
	       !strcasecmp(g, "GPG_RECIPIENT") || !strcasecmp(g, "GPG_SIGNER");
}

static bool given_on_cmdline(const struct spa_client_cfg *c, const char *name)
{
	for (size_t i = 0; i < spa_opt_count; i++) {
		const char *rn = spa_opt_table[i].rc_name;

		if (c->saved[i] && rn &&
		    strcasecmp(rc_group(rn), rc_group(name)) == 0)
			return true;
	}
	return false;
}

static int emit_cmdline_vars(struct rc_buf *b, const struct spa_client_cfg *c)
{
	bool hmac = false;
	int rc = 0;

	for (size_t i = 0; i < spa_opt_count && rc == 0; i++) {
		const char *v = c->saved[i];

		if (!v)
			continue;
		if (strpbrk(v, " \t#;\r\n")) {
			fprintf(stderr, "spa-client: cannot save %s: rc values cannot "
				"contain spaces, '#' or ';'\n", spa_opt_table[i].rc_name);
			return -SPA_CE_RC;
		}
		if (!strcmp(spa_opt_table[i].rc_name, "USE_HMAC"))
			continue;
		if (!strncmp(spa_opt_table[i].rc_name, "HMAC_KEY", 8))
			hmac = true;
		rc = buf_var(b, spa_opt_table[i].rc_name, v);
	}
	if (rc == 0 && (hmac || c->use_hmac))
		rc = buf_var(b, "USE_HMAC", "Y");
	return rc;
}

static int write_replace(const char *path, const struct rc_buf *b)
{
	char tmp[PATH_MAX];
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.updated", path) >= (int)sizeof(tmp))
		return -SPA_CE_RC;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "spa-client: cannot write %s: %s\n", tmp, strerror(errno));
		return -SPA_CE_RC;
	}
	if (write_all(fd, b->p ? b->p : "", b->len) < 0 || fsync(fd) < 0)
		rc = -SPA_CE_RC;
	if (close(fd) < 0)
		rc = -SPA_CE_RC;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -SPA_CE_RC;
	if (rc < 0) {
		fprintf(stderr, "spa-client: cannot update %s: %s\n", path, strerror(errno));
		unlink(tmp);
	}
	return rc;
}

/*
 * Unlike fwknop, variables of the stanza that the command line does not
 * mention are kept; only the given ones (and their key twins) are replaced.
 * Existing keys are kept unless --force-stanza.
 */
int spa_client_rc_save_stanza(const char *path, const char *stanza,
			      const struct spa_client_cfg *c)
{
	struct rc_buf b = { 0 };
	char line[RC_LINE_MAX], copy[RC_LINE_MAX];
	bool in = false, done = false, have_default = false;
	FILE *f = NULL;
	int rc = 0;

	if (access(path, F_OK) == 0) {
		f = rc_open(path);
		if (!f)
			return -SPA_CE_RC;
	}
	while (f && rc == 0 && fgets(line, sizeof(line), f)) {
		char *name = NULL, *value = NULL;
		int kind;

		memcpy(copy, line, sizeof(copy));
		kind = rc_split(copy, &name, &value);
		if (kind <= 0)
			continue;   /* comments and blank lines are not kept */
		if (kind == 1) {
			if (in && !done) {
				rc = emit_cmdline_vars(&b, c);
				done = true;
			}
			in = strcasecmp(name, stanza) == 0;
			if (!strcasecmp(name, "default"))
				have_default = true;
			if (rc == 0)
				rc = buf_add(&b, b.len ? "\n[" : "[");
			if (rc == 0)
				rc = buf_add(&b, name);
			if (rc == 0)
				rc = buf_add(&b, "]\n");
			continue;
		}
		if (in && given_on_cmdline(c, name)) {
			bool critical = rc_critical(name);
			if (!critical || c->force_stanza)
				continue;
			fprintf(stderr, "spa-client: [%s] already has %s; nothing "
				"saved (use --force-stanza to replace it)\n", stanza, name);
			rc = -SPA_CE_RC;
			break;
		}
		rc = buf_var(&b, name, value);
	}
	if (rc == 0 && !have_default)
		rc = buf_add(&b, b.len ? "\n[default]\n" : "[default]\n");
	if (rc == 0 && in && !done) {
		rc = emit_cmdline_vars(&b, c);
		done = true;
	}
	if (rc == 0 && !done) {
		rc = buf_add(&b, "\n[");
		if (rc == 0)
			rc = buf_add(&b, stanza);
		if (rc == 0)
			rc = buf_add(&b, "]\n");
		if (rc == 0)
			rc = emit_cmdline_vars(&b, c);
	}
	if (f)
		fclose(f);
	if (rc == 0)
		rc = write_replace(path, &b);
	if (rc == 0)
		printf("[+] Wrote stanza [%s] to %s\n", stanza, path);
	spa_wipe(line, sizeof(line));
	spa_wipe(copy, sizeof(copy));
	if (b.p) {
		spa_wipe(b.p, b.cap);
		free(b.p);
	}
	return rc;
}
