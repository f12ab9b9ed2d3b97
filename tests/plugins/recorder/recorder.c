/* SPDX-License-Identifier: MIT */
/*
 * recorder - a test-only backend that opens nothing and writes every call it
 * receives, one line each, to RECORDER_FILE. Integration tests read that
 * file to check exactly what the engine asked for, through the real loader.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spa/plugin.h"

struct recorder {
	const struct spa_host_api *host;
	char path[4096];
};

static int record(struct recorder *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int record(struct recorder *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return -EOVERFLOW;
	line[n++] = '\n';
	fd = open(r->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, line, (size_t)n) != n) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

static int rec_grant(struct recorder *r, const char *op, const struct spa_grant *g)
{
	return record(r, "%s id=%llu family=%d src=%s proto=%u port=%u timeout=%u stanza=%s user=%s",
		      op, (unsigned long long)g->id, g->family == AF_INET6 ? 6 : 4, g->src.text,
		      g->proto, g->port, g->timeout, g->stanza, g->username);
}

static int rec_init(const struct spa_host_api *host, void **state)
{
	const char *path = host->config_get(host->self, "RECORDER_FILE");
	const char *argv[] = { "/bin/echo", "runner-ok", NULL };
	struct spa_run_result res;
	struct recorder *r;
	int rc;

	if (!path || strlen(path) >= sizeof(r->path)) {
		host->log(host->self, SPA_LOG_ERR, "RECORDER_FILE is not set");
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->host = host;
	memcpy(r->path, path, strlen(path) + 1);
	/* exercise the host's command runner so tests cover it end to end */
	rc = host->run(host->self, argv, 2000, &res);
	if (rc == 0)
		rc = record(r, "init run=%d out=%.*s", res.exit_status,
			    (int)strcspn(res.out, "\n"), res.out);
	if (rc < 0) {
		free(r);
		return rc;
	}
	*state = r;
	return 0;
}

static int rec_open(void *state, const struct spa_grant *g)
{
	return rec_grant(state, "open", g);
}

static int rec_close(void *state, const struct spa_grant *g)
{
	return rec_grant(state, "close", g);
}

static int rec_refresh(void *state, const struct spa_grant *g)
{
	return rec_grant(state, "refresh", g);
}

static int rec_flush(void *state)
{
	return record(state, "flush");
}

static void rec_fini(void *state)
{
	record(state, "fini");
	free(state);
}

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.name = "recorder",
	.version = "1.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6,
	.key_prefix = "RECORDER_",
	.ops = {
		.init = rec_init,
		.open = rec_open,
		.close = rec_close,
		.refresh = rec_refresh,
		.flush = rec_flush,
		.fini = rec_fini,
	},
};
