/* SPDX-License-Identifier: MIT */
#include "spa_pu.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void spa_pu_buf_init(struct spa_pu_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void spa_pu_buf_free(struct spa_pu_buf *b)
{
	free(b->data);
	spa_pu_buf_init(b);
}

int spa_pu_buf_printf(struct spa_pu_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	int rc = -ENOMEM;

	if (b->failed)
		goto out;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->data ? b->data + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			rc = -EINVAL;
			b->failed = 1;
			goto out;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			rc = 0;
			goto out;
		}
		size_t want = b->cap ? b->cap * 2 : 512;
		while (want < b->len + (size_t)n + 1)
			want *= 2;
		char *p = realloc(b->data, want);
		if (!p) {
			b->failed = 1;
			goto out;
		}
		b->data = p;
		b->cap = want;
	}
out:
	return rc;
}

int spa_pu_addr_text(const struct spa_grant_addr *a, char *out, size_t len)
{
	if (a->family == AF_INET) {
		if (!inet_ntop(AF_INET, &a->bin.v4, out, (socklen_t)len))
			return -EINVAL;
		return 0;
	}
	if (a->family == AF_INET6) {
		if (!inet_ntop(AF_INET6, &a->bin.v6, out, (socklen_t)len))
			return -EINVAL;
		return 0;
	}
	return -EAFNOSUPPORT;
}

const char *spa_pu_proto_name(unsigned int proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	default:
		return NULL;
	}
}

int spa_pu_proto_number(const char *name)
{
	if (strcmp(name, "tcp") == 0 || strcmp(name, "6") == 0)
		return IPPROTO_TCP;
	if (strcmp(name, "udp") == 0 || strcmp(name, "17") == 0)
		return IPPROTO_UDP;
	return -EPROTONOSUPPORT;
}

int spa_pu_host_ok(const struct spa_host_api *host)
{
	return host && host->struct_size >= offsetof(struct spa_host_api, run) + sizeof(host->run) &&
	       host->log && host->config_get && host->run;
}

void *spa_pu_state_new(const struct spa_host_api *host, size_t size, int *rc)
{
	void *st = NULL;

	*rc = -EINVAL;
	if (!spa_pu_host_ok(host))
		return NULL;
	st = calloc(1, size);
	*rc = st ? 0 : -ENOMEM;
	return st;
}

int spa_pu_check_global(const struct spa_host_api *host, const struct spa_grant *probe,
			size_t size, spa_pu_load_fn load)
{
	void *st = NULL;
	int rc;

	if (probe && spa_pu_host_ok(host))
		return 0;
	/* the state is the plugin's own type, so the parser needs no second
	 * form; nothing it holds outlives this call */
	st = spa_pu_state_new(host, size, &rc);
	if (st)
		rc = load(host, st);
	free(st);
	return rc;
}

int spa_pu_config_flag(const struct spa_host_api *host, const char *key, int def, int *out)
{
	const char *v = host->config_get(host->self, key);

	*out = def;
	if (!v || !*v)
		return 0;
	if (v[0] == 'Y' || v[0] == 'y' || v[0] == 'N' || v[0] == 'n') {
		*out = v[0] == 'Y' || v[0] == 'y';
		return 0;
	}
	host->log(host->self, SPA_LOG_ERR, "%s: expected Y or N, got '%s'", key, v);
	return -EINVAL;
}

int spa_pu_config_replaced(const struct spa_host_api *host, const char *old,
			   const char *by)
{
	const char *v = host->config_get(host->self, old);

	if (!v)
		return 0;
	/* refused rather than mapped: the two had opposite defaults, and a
	 * silent alias would keep both spellings alive */
	host->log(host->self, SPA_LOG_ERR, "%s '%s' is no longer read: use %s (Y or N, default Y)",
		  old, v, by);
	return -EINVAL;
}

const char *spa_pu_config_exe(const struct spa_host_api *host, const char *key,
			      const char *def)
{
	const char *v = host->config_get(host->self, key);

	if (!v || !*v)
		return def;
	if (v[0] != '/') {
		host->log(host->self, SPA_LOG_ERR,
			  "%s must be an absolute path, got '%s'", key, v);
		return NULL;
	}
	return v;
}

void spa_pu_first_line(const char *text, char *out, size_t len)
{
	const char *p = text ? text : "";
	size_t n;

	if (len == 0)
		return;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	n = strcspn(p, "\r\n");
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* The first line of a command's stderr is enough to say why it failed
 * without flooding the log. */
static void log_failure(const struct spa_host_api *host, const char *const argv[],
			const struct spa_run_result *res, int level)
{
	char err[SPA_PU_ERR_LINE];

	spa_pu_first_line(res->err, err, sizeof(err));
	host->log(host->self, level, "%s %s failed (status %d%s): %s",
		  argv[0], argv[1] ? argv[1] : "", res->exit_status,
		  res->timed_out ? ", timed out" : "", err);
}

/* Shared tail of spa_pu_run and spa_pu_run_input: rc is what the host's
 * runner returned. */
static int check_result(const struct spa_host_api *host, const char *const argv[],
			const struct spa_run_result *res, int rc, int quiet)
{
	if (rc < 0) {
		host->log(host->self, SPA_LOG_ERR, "cannot run %s: %s", argv[0],
			  strerror(-rc));
		return rc;
	}
	if (res->exit_status != 0 || res->timed_out) {
		log_failure(host, argv, res, quiet ? SPA_LOG_DEBUG : SPA_LOG_ERR);
		return -EIO;
	}
	return 0;
}

int spa_pu_run(const struct spa_host_api *host, const char *const argv[],
	       struct spa_run_result *res, int quiet)
{
	memset(res, 0, sizeof(*res));
	return check_result(host, argv, res,
			    host->run(host->self, argv, SPA_PU_RUN_TIMEOUT_MS, res), quiet);
}

static int run_input_res(const struct spa_host_api *host, const char *const argv[],
			 const struct spa_pu_buf *batch, int quiet, struct spa_run_result *res)
{
	memset(res, 0, sizeof(*res));
	if (!SPA_HOST_HAS(host, run_input))
		return -ENOTSUP;
	if (batch->failed)
		return -ENOMEM;
	if (batch->len > SPA_PU_INPUT_MAX) {
		host->log(host->self, SPA_LOG_ERR, "%s: input of %zu bytes is over the runner's limit",
			  argv[0], batch->len);
		return -E2BIG;
	}
	return check_result(host, argv, res,
			    host->run_input(host->self, argv, batch->data ? batch->data : "",
					    batch->len, SPA_PU_RUN_TIMEOUT_MS, res),
			    quiet);
}

int spa_pu_run_input(const struct spa_host_api *host, const char *const argv[],
		     const struct spa_pu_buf *batch, int quiet)
{
	struct spa_run_result res;

	return run_input_res(host, argv, batch, quiet, &res);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int run_batch_res(const struct spa_host_api *host, const char *const argv[],
			 const struct spa_pu_buf *batch, int quiet, struct spa_run_result *res)
{
	const char *full[SPA_PU_ARGV_MAX + 2];
	char path[] = "/tmp/spa-batch.XXXXXX";
	size_t n = 0;
	int fd = -1;
	int rc;

	memset(res, 0, sizeof(*res));
	if (batch->failed) {
		rc = -ENOMEM;
		goto out;
	}
	while (argv[n]) {
		if (n >= SPA_PU_ARGV_MAX) {
			rc = -E2BIG;
			goto out;
		}
		full[n] = argv[n];
		n++;
	}
	/* mkstemp creates the file 0600 with O_EXCL under an unpredictable
	 * name, so no other user can read or swap the batch. */
	fd = mkstemp(path);
	if (fd < 0) {
		rc = -errno;
		host->log(host->self, SPA_LOG_ERR, "cannot create batch file: %s",
			  strerror(errno));
		goto out;
	}
	rc = write_all(fd, batch->data ? batch->data : "", batch->len);
	if (rc < 0)
		goto out;
	full[n++] = path;
	full[n] = NULL;
	rc = spa_pu_run(host, full, res, quiet);
out:
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	return rc;
}

int spa_pu_run_batch(const struct spa_host_api *host, const char *const argv[],
		     const struct spa_pu_buf *batch)
{
	struct spa_run_result res;

	return run_batch_res(host, argv, batch, 0, &res);
}

int spa_pu_run_feed(const struct spa_host_api *host, const char *const argv[],
		    const struct spa_pu_buf *batch, int quiet, struct spa_run_result *res)
{
	int rc = run_input_res(host, argv, batch, quiet, res);

	return rc == -ENOTSUP ? run_batch_res(host, argv, batch, quiet, res) : rc;
}
