/* SPDX-License-Identifier: MIT */
#include "spa_plugin.h"

#include "spa/store.h"
#include "spa_plugin_keys.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spa_log.h"
#include "spa_opq.h"

/* The descriptor as ABI 1.0 and 1.1 laid it out: up to ops.fini. */
#define SPA_PLUGIN_DESC_SIZE_1_0                                          \
	(offsetof(struct spa_plugin_descriptor, ops) +                    \
	 offsetof(struct spa_plugin_ops, fini) + sizeof(void (*)(void *)))

static void host_log(void *self, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void host_log(void *self, int level, const char *fmt, ...)
{
	struct spa_plugin *p = self;
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (level < SPA_LOG_ERR || level > SPA_LOG_DEBUG)
		level = SPA_LOG_ERR;
	spa_log(level, "plugin %s: %s", p->d->name, msg);
}

static bool starts_with(const char *s, const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	return strncmp(s, a, na) == 0 && strncmp(s + na, b, nb) == 0;
}

bool spa_plugin_key_visible(const char *prefix, const char *key)
{
	/* A plugin sees only its own namespace: an API token configured for
	 * one backend is none of another backend's business. fwknop also
	 * names a backend's switches ENABLE_<prefix>* and FLUSH_<prefix>*,
	 * and has two rule-shaping switches that every backend may honour. */
	if (!key || !prefix || !*prefix)
		return false;
	return starts_with(key, "", prefix) || starts_with(key, "ENABLE_", prefix) ||
	       starts_with(key, "FLUSH_", prefix) || strcmp(key, "ENABLE_RULE_PREPEND") == 0 ||
	       strcmp(key, "ENABLE_DESTINATION_RULE") == 0;
}

static const char *host_config_get(void *self, const char *key)
{
	struct spa_plugin *p = self;
	const char *v;

	if (!spa_plugin_key_visible(p->d->key_prefix, key))
		return NULL;
	/* On the worker thread, only the copy: check_cfg is the main
	 * thread's, set while a reload's check runs beside the ops. */
	if (spa_opq_in_worker(p))
		v = spa_conf_kv_find(p->keys, p->n_keys, key);
	/* While checking, the configuration being checked; after init, the
	 * copy the plugin was started with (it lives until fini). */
	else if (p->check_cfg)
		v = spa_config_kv_get(p->check_cfg, key);
	else if (p->initialised)
		v = spa_conf_kv_find(p->keys, p->n_keys, key);
	else
		v = p->cfg ? spa_config_kv_get(p->cfg, key) : NULL;
	/* unset: what the plugin's schema says (ABI 1.3), if it has one */
	return v ? v : spa_plugin_key_default(p, key);
}

static int host_run_cred(struct spa_plugin *p, const char *const argv[],
			 const struct spa_run_cred *cred, const void *input, size_t input_len,
			 int timeout_ms, struct spa_run_result *res)
{
	int status, timed_out, rc;

	int left = spa_opq_time_left_ms(p);

	if (!res || timeout_ms <= 0)
		return -EINVAL;
	/* a command may not outlive the op's PLUGIN_OP_TIMEOUT */
	if (left > 0 && left < timeout_ms)
		timeout_ms = left;
	rc = spa_run_as(argv, cred, input, input_len, timeout_ms, &p->run_buf, &status,
			&timed_out);
	memset(res, 0, sizeof(*res));
	res->exit_status = status;
	res->timed_out = timed_out;
	res->out = p->run_buf.out;
	res->out_len = p->run_buf.out_len;
	res->err = p->run_buf.err;
	res->err_len = p->run_buf.err_len;
	if (rc == 0 && timed_out)
		spa_log(SPA_L_WARNING, "plugin %s: %s timed out after %d ms", p->d->name,
			argv[0], timeout_ms);
	if (rc == -EFBIG)
		spa_log(SPA_L_ERR, "plugin %s: %s wrote more than %u bytes; output cut",
			p->d->name, argv[0], SPA_RUN_OUT_MAX);
	return rc;
}

static int host_run_input(void *self, const char *const argv[], const void *input,
			  size_t input_len, int timeout_ms, struct spa_run_result *res)
{
	return host_run_cred(self, argv, NULL, input, input_len, timeout_ms, res);
}

static int host_run(void *self, const char *const argv[], int timeout_ms,
		    struct spa_run_result *res)
{
	return host_run_input(self, argv, NULL, 0, timeout_ms, res);
}

/* ABI 1.5. Only a command module may change who runs what: a firewall
 * plugin has no business running anything as another user. */
static int host_run_as(void *self, const char *const argv[], uid_t uid, gid_t gid,
		       int timeout_ms, struct spa_run_result *res)
{
	struct spa_plugin *p = self;
	struct spa_run_cred cred = { .uid = uid, .gid = gid };

	if (uid == (uid_t)-1)
		return host_run_cred(p, argv, NULL, NULL, 0, timeout_ms, res);
	if (!(p->d->capabilities & SPA_PLUGIN_CAP_COMMAND) || gid == (gid_t)-1) {
		if (res)
			memset(res, 0, sizeof(*res));
		return -EPERM;
	}
	return host_run_cred(p, argv, &cred, NULL, 0, timeout_ms, res);
}

static const char *host_stanza_get(void *self, const struct spa_grant *g, const char *key)
{
	struct spa_plugin *p = self;
	const char *prefix = p->d->key_prefix;

	/* Per-stanza keys are as private as global ones; CMD_CYCLE_* reach
	 * only the plugin that claims that prefix. */
	if (!g || g->struct_size < sizeof(*g) || !key || !prefix || !*prefix ||
	    strncmp(key, prefix, strlen(prefix)) != 0)
		return NULL;
	/* an op on the worker thread: from the policy it was submitted with */
	if (spa_opq_in_worker(p)) {
		const struct spa_op *op = spa_opq_current(p, g);
		bool found = false;
		const char *v = op ? spa_policy_var(op->policy, key, &found) : NULL;
		return found ? v : NULL;
	}
	if (g->id && p->grant_var) {
		bool found = false;
		const char *v = p->grant_var(p->grant_var_ctx, g, key, &found);
		if (found)
			return v;
	}
	if (!memchr(g->stanza, '\0', sizeof(g->stanza)))
		return NULL;
	return spa_stanza_kv_get(spa_config_stanza(p->check_cfg ? p->check_cfg : p->cfg,
						   g->stanza), key);
}

static bool grant_ok(const struct spa_grant *g)
{
	return g && g->struct_size >= sizeof(*g) && g->id;
}

static int host_token_set(void *self, const struct spa_grant *g, const void *data, size_t len)
{
	struct spa_plugin *p = self;

	if (!grant_ok(g) || (len && !data))
		return -EINVAL;
	if (len > SPA_GRANT_TOKEN_MAX)
		return -E2BIG;
	if (spa_opq_in_worker(p)) {
		struct spa_op *op = spa_opq_current(p, g);
		return op ? spa_opq_token_set(op, data, len) : -EINVAL;
	}
	/* --fw-list, check: no grant is being served */
	if (!p->token_set)
		return -EINVAL;
	return p->token_set(p->grant_var_ctx, p, g, data, len);
}

static const void *host_token_get(void *self, const struct spa_grant *g, size_t *len)
{
	struct spa_plugin *p = self;
	size_t n = 0;
	const void *t = NULL;

	if (grant_ok(g) && spa_opq_in_worker(p)) {
		const struct spa_op *op = spa_opq_current(p, g);
		if (op && op->token_len) {
			t = op->token;
			n = op->token_len;
		}
	} else if (grant_ok(g) && p->token_get) {
		t = p->token_get(p->grant_var_ctx, p, g, &n);
	}
	if (len)
		*len = t ? n : 0;
	return t;
}

static int host_op_fail(void *self, const struct spa_grant *g, int kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int host_op_fail(void *self, const struct spa_grant *g, int kind, const char *fmt, ...)
{
	struct spa_plugin *p = self;
	struct spa_op *op = spa_opq_current(p, g);
	char msg[sizeof(op->msg)];
	va_list ap;

	if (kind != SPA_FAIL_TRANSIENT)
		kind = SPA_FAIL_PERMANENT;
	msg[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	/* the engine reports it with the grant, once it is done with it */
	if (op) {
		op->fail_kind = kind;
		memcpy(op->msg, msg, sizeof(msg));
	} else {
		spa_log(SPA_L_ERR, "plugin %s: %s failure: %s", p->d->name,
			kind == SPA_FAIL_TRANSIENT ? "transient" : "permanent", msg);
	}
	return kind == SPA_FAIL_TRANSIENT ? SPA_ERR_TRANSIENT : SPA_ERR_PERMANENT;
}

/* Checks the open file, not the path, so the file cannot be swapped
 * between the check and the dlopen. */
static int check_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "plugin %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "plugin %s: not a regular file", path);
		return -EINVAL;
	}
	/* Whoever can write the file runs code as the daemon (root). */
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "plugin %s: refusing a group/world-writable file (mode %03o)",
			 path, (unsigned)(st.st_mode & 0777));
		return -EPERM;
	}
	return 0;
}

static int check_descriptor(const struct spa_plugin_descriptor *d, const char *path,
			    char *err, size_t errlen)
{
	if (d->magic != SPA_PLUGIN_MAGIC) {
		snprintf(err, errlen, "plugin %s: bad magic 0x%08x", path, d->magic);
		return -EINVAL;
	}
	if (d->abi_major != SPA_PLUGIN_ABI_MAJOR) {
		snprintf(err, errlen, "plugin %s: ABI %u.%u, engine speaks %u.%u", path,
			 d->abi_major, d->abi_minor, SPA_PLUGIN_ABI_MAJOR, SPA_PLUGIN_ABI_MINOR);
		return -EINVAL;
	}
	/* A newer minor only appends fields: a larger struct is fine, and a
	 * smaller one (an older minor) lacks only optional ops, read as NULL
	 * from the zero-filled copy. Less than ABI 1.0 had is not a plugin. */
	if (d->struct_size < SPA_PLUGIN_DESC_SIZE_1_0) {
		snprintf(err, errlen, "plugin %s: descriptor size %u < %zu (ABI 1.0)", path,
			 d->struct_size, (size_t)SPA_PLUGIN_DESC_SIZE_1_0);
		return -EINVAL;
	}
	if (d->capabilities & SPA_PLUGIN_CAP_STORE) {
		/* a state store (spa/store.h) has no firewall ops, but all of
		 * its own, in a descriptor of ABI 1.6 or later */
		const struct spa_store_ops *st =
			d->struct_size >= offsetof(struct spa_plugin_descriptor, store) +
						  sizeof(d->store) ? d->store : NULL;

		if (d->capabilities & SPA_PLUGIN_CAP_COMMAND) {
			snprintf(err, errlen, "plugin %s: a state store is nothing else (it "
				 "declares SPA_PLUGIN_CAP_COMMAND too)", path);
			return -EINVAL;
		}
		if (!d->name || !*d->name || !d->version || !d->ops.init || !d->ops.fini ||
		    !st || st->struct_size < sizeof(*st) || !st->claim || !st->put ||
		    !st->del || !st->watch || !st->watch_stop) {
			snprintf(err, errlen, "plugin %s: state store descriptor lacks a name, "
				 "version or mandatory op", path);
			return -EINVAL;
		}
		return 0;
	}
	if (!d->name || !*d->name || !d->version || !d->ops.init || !d->ops.open ||
	    !d->ops.close || !d->ops.flush || !d->ops.fini) {
		snprintf(err, errlen, "plugin %s: descriptor lacks a name, version or mandatory op",
			 path);
		return -EINVAL;
	}
	return 0;
}

int spa_plugin_load(const char *path, struct spa_plugin **out, char *err, size_t errlen)
{
	const struct spa_plugin_descriptor *d;
	struct spa_plugin *p = NULL;
	char fd_path[64];
	int rc, fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "plugin %s: %s", path, strerror(errno));
		return -ENOENT;
	}
	rc = check_file(fd, path, err, errlen);
	if (rc < 0)
		goto out;
	p = calloc(1, sizeof(*p));
	if (!p) {
		rc = -ENOMEM;
		goto out;
	}
	p->fd = -1;
	/* The descriptor stays open while the library is loaded: glibc knows
	 * a library by the name it was opened under, and a closed descriptor's
	 * number (so its /proc/self/fd name) is the next plugin's, which
	 * dlopen would then answer with the library it already has. */
	p->fd = fd;
	fd = -1;
	snprintf(p->path, sizeof(p->path), "%s", path);
	snprintf(fd_path, sizeof(fd_path), "/proc/self/fd/%d", p->fd);
	p->dl = dlopen(fd_path, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl) {
		snprintf(err, errlen, "plugin %s: %s", path, dlerror());
		rc = -EINVAL;
		goto out;
	}
	d = dlsym(p->dl, SPA_PLUGIN_SYMBOL);
	if (!d) {
		snprintf(err, errlen, "plugin %s: no symbol %s", path, SPA_PLUGIN_SYMBOL);
		rc = -EINVAL;
		goto out;
	}
	rc = check_descriptor(d, path, err, errlen);
	if (rc == 0) {
		memcpy(&p->desc, d, d->struct_size < sizeof(p->desc) ? d->struct_size
								       : sizeof(p->desc));
		p->d = &p->desc;
	}
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		spa_plugin_unload(p);
	else
		*out = p;
	return rc;
}

int spa_plugin_refuse_store(struct spa_plugin *p, char *err, size_t errlen)
{
	if (!(p->d->capabilities & SPA_PLUGIN_CAP_STORE))
		return 0;
	snprintf(err, errlen, "plugin %s is a state store (STATE_STORE), not a firewall backend",
		 p->path);
	spa_plugin_unload(p);
	return -EINVAL;
}

int spa_plugin_load_named(const char *dir, const char *name, struct spa_plugin **out,
			  char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc;

	if (snprintf(path, sizeof(path), "%s/%s.so", dir, name) >= (int)sizeof(path)) {
		snprintf(err, errlen, "plugin %s: path too long", name);
		return -ENAMETOOLONG;
	}
	rc = spa_plugin_load(path, out, err, errlen);
	if (rc == -ENOENT)
		snprintf(err, errlen, "plugin '%s': no %s (PLUGIN_DIR %s)", name, path, dir);
	if (rc == 0 && strcmp((*out)->d->name, name) != 0) {
		snprintf(err, errlen, "plugin %s: calls itself '%s'", path, (*out)->d->name);
		spa_plugin_unload(*out);
		*out = NULL;
		rc = -EINVAL;
	}
	return rc;
}

static void set_host(struct spa_plugin *p, const struct spa_config *cfg)
{
	p->cfg = cfg;
	p->host.struct_size = sizeof(p->host);
	p->host.self = p;
	p->host.log = host_log;
	p->host.config_get = host_config_get;
	p->host.run = host_run;
	p->host.run_input = host_run_input;
	p->host.stanza_get = host_stanza_get;
	p->host.token_set = host_token_set;
	p->host.token_get = host_token_get;
	p->host.op_fail = host_op_fail;
	p->host.run_as = host_run_as;
}

/* The global keys this plugin may see, copied. */
static int copy_keys(const struct spa_plugin *p, const struct spa_config *cfg,
		     struct spa_conf_kv **out, size_t *n)
{
	int rc = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < cfg->n_kv && rc == 0; i++)
		if (spa_plugin_key_visible(p->d->key_prefix, cfg->kv[i].name))
			rc = spa_conf_kv_append(out, n, cfg->kv[i].name, cfg->kv[i].value,
						cfg->kv[i].where);
	if (rc < 0) {
		spa_conf_kv_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int spa_plugin_init(struct spa_plugin *p, const struct spa_config *cfg)
{
	int rc;

	set_host(p, cfg);
	spa_conf_kv_free(p->keys, p->n_keys);
	rc = copy_keys(p, cfg, &p->keys, &p->n_keys);
	if (rc < 0)
		return rc;
	/* from here on config_get answers from the copy */
	p->initialised = true;
	rc = p->d->ops.init(&p->host, &p->state);
	if (rc < 0) {
		p->initialised = false;
		spa_log(SPA_L_ERR, "plugin %s: init failed (%d)", p->d->name, rc);
	}
	return rc;
}

int spa_plugin_check(struct spa_plugin *p, const struct spa_config *cfg,
		     bool (*serves)(const struct spa_config *cfg, const struct spa_stanza *s,
				    const struct spa_plugin *p))
{
	struct spa_grant probe;
	int rc;

	if (!p->d->ops.check)
		return 0;
	if (!p->initialised)
		set_host(p, cfg);
	p->check_cfg = cfg;
	rc = p->d->ops.check(&p->host, NULL);
	for (size_t i = 0; rc == 0 && i < cfg->n_stanzas; i++) {
		const struct spa_stanza *s = &cfg->stanzas[i];
		if (serves && !serves(cfg, s, p))
			continue;
		memset(&probe, 0, sizeof(probe));
		probe.struct_size = sizeof(probe);
		snprintf(probe.stanza, sizeof(probe.stanza), "%s", s->label);
		rc = p->d->ops.check(&p->host, &probe);
	}
	p->check_cfg = NULL;
	if (rc > 0)
		rc = -EINVAL;
	return rc;
}

bool spa_plugin_keys_changed(const struct spa_plugin *p, const struct spa_config *cfg,
			     char *key, size_t keylen)
{
	struct spa_conf_kv *now = NULL;
	size_t n = 0;
	bool changed = false;

	if (copy_keys(p, cfg, &now, &n) < 0)
		return false;
	/* both ways: a key set, changed or removed */
	for (size_t i = 0; i < n && !changed; i++) {
		const char *old = spa_conf_kv_find(p->keys, p->n_keys, now[i].name);
		if (!old || strcmp(old, now[i].value) != 0) {
			changed = true;
			snprintf(key, keylen, "%s", now[i].name);
		}
	}
	for (size_t i = 0; i < p->n_keys && !changed; i++) {
		if (!spa_conf_kv_find(now, n, p->keys[i].name)) {
			changed = true;
			snprintf(key, keylen, "%s", p->keys[i].name);
		}
	}
	spa_conf_kv_free(now, n);
	return changed;
}

void spa_plugin_unload(struct spa_plugin *p)
{
	if (!p)
		return;
	if (p->initialised)
		p->d->ops.fini(p->state);
	p->initialised = false;
	if (p->dl)
		dlclose(p->dl);
	if (p->fd >= 0)
		close(p->fd);
	spa_conf_kv_free(p->keys, p->n_keys);
	spa_run_buf_free(&p->run_buf);
	free(p);
}

bool spa_plugin_flush_wanted(const struct spa_plugin *p, const char *what)
{
	char key[128];
	const char *v;

	if (snprintf(key, sizeof(key), "FLUSH_%s%s", p->d->key_prefix ? p->d->key_prefix : "",
		     what) >= (int)sizeof(key))
		return false;
	v = p->initialised ? spa_conf_kv_find(p->keys, p->n_keys, key)
			   : spa_config_kv_get(p->cfg, key);
	/* fwknop's default is Y; the value was checked to be Y or N at load */
	return !v || (v[0] != 'N' && v[0] != 'n');
}
