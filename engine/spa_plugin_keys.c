/* SPDX-License-Identifier: MIT */
/*
 * spa_plugin_keys.c - a plugin's configuration schema (ABI 1.3, struct
 * spa_plugin_key in sdk/include/spa/plugin.h) applied to a configuration:
 * every key with the plugin's prefix must be one it declares, of its type;
 * required keys must be set; a secret may come from <KEY>_FILE. Errors name
 * file:line like every other configuration error.
 */
#include "spa_plugin_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spa_conf_internal.h"

#define SECRET_FILE_MAX 4096
#define FILE_SUFFIX "_FILE"

static const struct spa_plugin_key *find_key(const struct spa_plugin *p, const char *name)
{
	for (size_t i = 0; i < p->d->n_keys; i++)
		if (p->d->keys[i].name && strcmp(p->d->keys[i].name, name) == 0)
			return &p->d->keys[i];
	return NULL;
}

const char *spa_plugin_key_default(const struct spa_plugin *p, const char *name)
{
	const struct spa_plugin_key *k = p->d->keys ? find_key(p, name) : NULL;

	return k && !(k->flags & SPA_KEY_STANZA) ? k->def : NULL;
}

/* Edit distance, for "did you mean": names are short, so the full table
 * is cheap. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 64;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

static void suggest(const struct spa_plugin *p, const char *name, bool stanza, char *out,
		    size_t cap)
{
	size_t best = 4;

	out[0] = '\0';
	for (size_t i = 0; i < p->d->n_keys; i++) {
		const struct spa_plugin_key *k = &p->d->keys[i];
		size_t dist;
		if (!k->name || !(k->flags & SPA_KEY_STANZA) != !stanza)
			continue;
		dist = distance(name, k->name);
		if (dist < best) {
			best = dist;
			snprintf(out, cap, " (did you mean %s?)", k->name);
		}
	}
}

static bool in_choices(const char *choices, const char *v)
{
	size_t n = strlen(v);

	for (const char *c = choices; *c;) {
		const char *bar = strchr(c, '|');
		size_t len = bar ? (size_t)(bar - c) : strlen(c);
		if (len == n && strncmp(c, v, n) == 0)
			return true;
		if (!bar)
			break;
		c = bar + 1;
	}
	return false;
}

static bool is_number(const char *v, bool sign, long long min, long long max)
{
	char *end;
	long long n;

	if (!*v || (!sign && (*v == '-' || *v == '+')))
		return false;
	errno = 0;
	n = strtoll(v, &end, 10);
	return errno == 0 && *end == '\0' && n >= min && n <= max;
}

static int check_value(const struct spa_plugin_key *k, const struct spa_conf_kv *kv, char *err,
		       size_t errlen)
{
	const char *v = kv->value, *want = NULL;
	bool yes;

	switch (k->type) {
	case SPA_KEY_BOOL:
		if (spa_conf_yes_no(v, &yes) < 0)
			want = "Y or N";
		break;
	case SPA_KEY_UINT:
		if (!is_number(v, false, 0, 4294967295LL))
			want = "a number 0 to 4294967295";
		break;
	case SPA_KEY_INT:
		if (!is_number(v, true, -2147483648LL, 2147483647LL))
			want = "a whole number";
		break;
	case SPA_KEY_PATH:
		if (v[0] != '/')
			want = "an absolute path";
		break;
	default:
		break;
	}
	if (!want && k->choices && !in_choices(k->choices, v))
		want = k->choices;
	if (!want)
		return 0;
	snprintf(err, errlen, "%s: %s '%s': expected %s", kv->where, kv->name,
		 k->flags & SPA_KEY_SECRET ? "<redacted>" : v, want);
	return -EINVAL;
}

/* The first line of a root-owned file only spad may read. */
static int read_secret(const struct spa_conf_kv *kv, char *out, size_t cap, char *err,
		       size_t errlen)
{
	int fd = open(kv->value, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	ssize_t n = -1;
	int rc = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s '%s': %s", kv->where, kv->name, kv->value,
			 strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		rc = -EPERM;
		snprintf(err, errlen, "%s: %s '%s': must be a regular file owned by uid %u that "
			 "only it may read or write (mode 0600 or 0400)", kv->where, kv->name,
			 kv->value, (unsigned)geteuid());
		goto out;
	}
	n = read(fd, out, cap - 1);
	if (n < 0 || (size_t)n == cap - 1) {
		rc = n < 0 ? -errno : -EFBIG;
		snprintf(err, errlen, "%s: %s '%s': %s", kv->where, kv->name, kv->value,
			 n < 0 ? strerror(errno) : "longer than 4 KiB");
		goto out;
	}
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	if (!out[0]) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: %s '%s': empty", kv->where, kv->name, kv->value);
	}
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* KEY_FILE -> KEY (its where is the _FILE line's); both set is an error. */
static int resolve_file(const struct spa_plugin *p, struct spa_config *cfg, size_t i,
			char *err, size_t errlen)
{
	char name[128], where[sizeof(cfg->kv[i].where)], *secret = NULL;
	const struct spa_plugin_key *k;
	size_t n = strlen(cfg->kv[i].name) - strlen(FILE_SUFFIX);
	int rc;

	if (n >= sizeof(name))
		return 1;
	memcpy(name, cfg->kv[i].name, n);
	name[n] = '\0';
	k = find_key(p, name);
	if (!k || !(k->flags & SPA_KEY_SECRET) || (k->flags & SPA_KEY_STANZA))
		return 1;   /* not a secret's file: judged as a key of its own */
	if (spa_config_kv_get(cfg, name)) {
		snprintf(err, errlen, "%s: %s: %s is set too; give one of them", cfg->kv[i].where,
			 cfg->kv[i].name, name);
		return -EINVAL;
	}
	secret = malloc(SECRET_FILE_MAX);
	if (!secret)
		return -ENOMEM;
	rc = read_secret(&cfg->kv[i], secret, SECRET_FILE_MAX, err, errlen);
	/* the append may move the array cfg->kv[i] lives in */
	memcpy(where, cfg->kv[i].where, sizeof(where));
	if (rc == 0)
		rc = spa_conf_kv_append(&cfg->kv, &cfg->n_kv, name, secret, where);
	if (rc == 0)
		cfg->kv[cfg->n_kv - 1].secret = true;
	spa_wipe(secret, SECRET_FILE_MAX);
	free(secret);
	return rc;
}

/* Whether the engine, not the plugin, reads this key of the plugin's. */
static bool engine_key(const char *name)
{
	size_t n = strlen(name);

	/* the NAT switches too (spa_conf_nat.c): checked Y/N by the engine */
	return (strncmp(name, "FLUSH_", 6) == 0 && n > 8 &&
		(strcmp(name + n - 8, "_AT_INIT") == 0 || strcmp(name + n - 8, "_AT_EXIT") == 0)) ||
	       spa_conf_nat_engine_key(name);
}

static bool owned(const struct spa_plugin *p, const char *name)
{
	return spa_plugin_key_visible(p->d->key_prefix, name) && !engine_key(name) &&
	       strcmp(name, "ENABLE_RULE_PREPEND") != 0 &&
	       strcmp(name, "ENABLE_DESTINATION_RULE") != 0;
}

static int check_one(const struct spa_plugin *p, const struct spa_conf_kv *kv, bool stanza,
		     char *err, size_t errlen)
{
	const struct spa_plugin_key *k = find_key(p, kv->name);
	char hint[96];

	if (k && !(k->flags & SPA_KEY_STANZA) == !stanza)
		return check_value(k, kv, err, errlen);
	suggest(p, kv->name, stanza, hint, sizeof(hint));
	snprintf(err, errlen, "%s: %s: not a %s key of plugin %s%s", kv->where, kv->name,
		 stanza ? "stanza" : "fwknopd.conf", p->d->name, hint);
	return -EINVAL;
}

int spa_plugin_keys_apply(const struct spa_plugin *p, struct spa_config *cfg,
			  bool (*serves)(const struct spa_config *cfg, const struct spa_stanza *s,
					 const struct spa_plugin *p),
			  char *err, size_t errlen)
{
	size_t n_kv = cfg->n_kv;
	int rc = 0;

	if (!p->d->keys || p->d->n_keys == 0)
		return 0;
	for (size_t i = 0; i < n_kv && rc == 0; i++) {
		const char *name = cfg->kv[i].name;
		size_t len = strlen(name);
		if (!owned(p, name))
			continue;
		rc = 1;
		if (len > strlen(FILE_SUFFIX) &&
		    strcmp(name + len - strlen(FILE_SUFFIX), FILE_SUFFIX) == 0)
			rc = resolve_file(p, cfg, i, err, errlen);
		if (rc == 1)
			rc = check_one(p, &cfg->kv[i], false, err, errlen);
	}
	for (size_t i = 0; i < cfg->n_kv && rc == 0; i++) {
		const struct spa_plugin_key *k = find_key(p, cfg->kv[i].name);
		cfg->kv[i].secret = cfg->kv[i].secret ||
				    (k && (k->flags & SPA_KEY_SECRET) && owned(p, k->name));
	}
	for (size_t i = 0; i < cfg->n_stanzas && rc == 0; i++) {
		struct spa_stanza *s = &cfg->stanzas[i];
		if (serves && !serves(cfg, s, p))
			continue;
		for (size_t j = 0; j < s->n_kv && rc == 0; j++) {
			const struct spa_plugin_key *k = find_key(p, s->kv[j].name);
			if (strncmp(s->kv[j].name, p->d->key_prefix, strlen(p->d->key_prefix)) != 0)
				continue;
			rc = check_one(p, &s->kv[j], true, err, errlen);
			s->kv[j].secret = k && (k->flags & SPA_KEY_SECRET);
		}
		for (size_t j = 0; j < p->d->n_keys && rc == 0; j++) {
			const struct spa_plugin_key *k = &p->d->keys[j];
			if ((k->flags & (SPA_KEY_REQUIRED | SPA_KEY_STANZA)) ==
				    (SPA_KEY_REQUIRED | SPA_KEY_STANZA) &&
			    !spa_stanza_kv_get(s, k->name)) {
				snprintf(err, errlen, "%s: plugin %s needs %s in this stanza",
					 s->label, p->d->name, k->name);
				rc = -EINVAL;
			}
		}
	}
	for (size_t j = 0; j < p->d->n_keys && rc == 0; j++) {
		const struct spa_plugin_key *k = &p->d->keys[j];
		if ((k->flags & (SPA_KEY_REQUIRED | SPA_KEY_STANZA)) == SPA_KEY_REQUIRED &&
		    !spa_config_kv_get(cfg, k->name)) {
			snprintf(err, errlen, "plugin %s needs %s in fwknopd.conf%s%s%s", p->d->name,
				 k->name, k->flags & SPA_KEY_SECRET ? " (or " : "",
				 k->flags & SPA_KEY_SECRET ? k->name : "",
				 k->flags & SPA_KEY_SECRET ? "_FILE)" : "");
			rc = -EINVAL;
		}
	}
	return rc;
}
