/* SPDX-License-Identifier: MIT */
/*
 * The libipset transport (IPSET_TRANSPORT library, the default when built
 * with it): the same command lines as the ipset command, parsed and sent
 * over netlink in-process by one libipset handle opened at init. An add is
 * one netlink round trip, tens of microseconds instead of a fork and exec.
 *
 * libipset's default error handlers print to stderr and exit() the
 * process, so all three print hooks are ours: errors are kept and logged
 * through the host, list output is collected into a buffer.
 */
#include "spa_ipset.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libipset/ipset.h>

#define SPA_IPSET_ERR_LEN 256
#define SPA_IPSET_CMDLINE_LEN 512

struct lib_ctx {
	struct ipset *ipset;
	const struct spa_host_api *host;
	struct spa_pu_buf out;
	int failed;
	char err[SPA_IPSET_ERR_LEN];
};

/* Keeps the first error of a command; libipset messages may end in '\n'. */
static void keep_error(struct lib_ctx *c, const char *msg)
{
	size_t n;

	c->failed = 1;
	if (c->err[0])
		return;
	snprintf(c->err, sizeof(c->err), "%s", msg ? msg : "unknown error");
	n = strcspn(c->err, "\n");
	c->err[n] = '\0';
}

/* Parser and library-side errors. Some callers ignore our return value
 * and go on, hence the sticky flag that run() checks. */
static int __attribute__((format(printf, 4, 5)))
lib_custom_error(struct ipset *ipset, void *p, int status, const char *fmt, ...)
{
	struct lib_ctx *c = p;
	char msg[SPA_IPSET_ERR_LEN];
	va_list ap;

	if (status == IPSET_NO_PROBLEM)
		return 0;
	msg[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	keep_error(c, msg);
	ipset_session_report_reset(ipset_session(ipset));
	return -1;
}

/* Errors and warnings the kernel or the session reported. */
static int lib_standard_error(struct ipset *ipset, void *p)
{
	struct lib_ctx *c = p;
	struct ipset_session *s = ipset_session(ipset);
	const char *msg = ipset_session_report_msg(s);

	switch (ipset_session_report_type(s)) {
	case IPSET_ERROR:
		keep_error(c, msg);
		break;
	case IPSET_WARNING:
	case IPSET_NOTICE:
		c->host->log(c->host->self, SPA_LOG_WARNING, "ipset: %.*s",
			     (int)strcspn(msg, "\n"), msg);
		break;
	default:
		break;
	}
	ipset_session_report_reset(s);
	return -1;
}

static int __attribute__((format(printf, 3, 4)))
lib_output(struct ipset_session *s, void *p, const char *fmt, ...)
{
	struct lib_ctx *c = p;
	char *text = NULL;
	va_list ap;
	int n;

	(void)s;
	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0) {
		c->out.failed = 1;
		return -1;
	}
	spa_pu_buf_printf(&c->out, "%s", text);
	free(text);
	return c->out.failed ? -1 : 0;
}

/* libipset opens its netlink socket at the first command, without
 * close-on-exec, and the host's runner relies on it to keep descriptors
 * out of the commands it starts. The socket gets the lowest free
 * descriptor: open the session on purpose (its protocol check) and mark
 * that descriptor, once it is checked to be a netlink socket. */
static int open_session_socket(struct lib_ctx *c)
{
	struct ipset_session *s = ipset_session(c->ipset);
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int domain = 0, flags;
	socklen_t len = sizeof(domain);
	struct stat sb;

	if (fd < 0)
		return -errno;
	close(fd);
	if (ipset_cmd(s, IPSET_CMD_NONE, 0) < 0 ||
	    ipset_session_report_type(s) == IPSET_ERROR) {
		const char *msg = ipset_session_report_msg(s);

		if (!msg || !*msg)
			msg = "unknown error";
		c->host->log(c->host->self, SPA_LOG_ERR, "libipset: cannot talk to the kernel: %.*s",
			     (int)strcspn(msg, "\n"), msg);
		ipset_session_report_reset(s);
		return -EIO;
	}
	ipset_session_report_reset(s);
	flags = fcntl(fd, F_GETFD);
	if (flags < 0 || fstat(fd, &sb) < 0 || !S_ISSOCK(sb.st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || domain != AF_NETLINK) {
		c->host->log(c->host->self, SPA_LOG_WARNING,
			     "libipset: netlink socket not found; commands run later may inherit it");
		return 0;
	}
	if (!(flags & FD_CLOEXEC))
		fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	return 0;
}

static int lib_open(struct spa_ipset_state *st)
{
	struct lib_ctx *c = calloc(1, sizeof(*c));
	int rc = 0;

	if (!c)
		return -ENOMEM;
	c->host = st->host;
	spa_pu_buf_init(&c->out);
	/* registers the set types the library knows; safe to call again */
	ipset_load_types();
	c->ipset = ipset_init();
	if (!c->ipset) {
		st->host->log(st->host->self, SPA_LOG_ERR,
			      "libipset: cannot open a netlink session");
		rc = -EIO;
		goto out;
	}
	ipset_custom_printf(c->ipset, lib_custom_error, lib_standard_error, lib_output, c);
	rc = open_session_socket(c);
	if (rc < 0)
		goto out;
	st->xctx = c;
	c = NULL;
out:
	if (c && c->ipset)
		ipset_fini(c->ipset);
	free(c);
	return rc;
}

/* For the log: the command as the ipset tool would have been called. */
static void cmdline(const char *const args[], char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; args[i] && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? " " : "", args[i]);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static int lib_run(struct spa_ipset_state *st, const char *const args[], const char **out)
{
	struct lib_ctx *c = st->xctx;
	/* libipset wants writable strings: copies in one block */
	char store[SPA_IPSET_CMDLINE_LEN], *argv[SPA_IPSET_ARGS_MAX + 2];
	char line[SPA_IPSET_CMDLINE_LEN];
	size_t used = 0;
	int argc = 0, rc;

	argv[argc++] = "ipset";
	for (size_t i = 0; args[i]; i++) {
		size_t n = strlen(args[i]) + 1;

		if (argc > SPA_IPSET_ARGS_MAX || n > sizeof(store) - used)
			return -E2BIG;
		memcpy(store + used, args[i], n);
		argv[argc++] = store + used;
		used += n;
	}
	argv[argc] = NULL;

	spa_pu_buf_free(&c->out);
	spa_pu_buf_init(&c->out);
	c->failed = 0;
	c->err[0] = '\0';
	rc = ipset_parse_argv(c->ipset, argc, argv);
	if (rc < 0 || c->failed) {
		cmdline(args, line, sizeof(line));
		st->host->log(st->host->self, SPA_LOG_ERR, "libipset: ipset %s failed: %s", line,
			      c->err[0] ? c->err : "unknown error");
		/* leave nothing of a half-parsed command for the next one */
		ipset_data_reset(ipset_session_data(ipset_session(c->ipset)));
		return -EIO;
	}
	if (c->out.failed)
		return -ENOMEM;
	if (out)
		*out = c->out.data ? c->out.data : "";
	return 0;
}

static void inet_addr(union nf_inet_addr *a, const struct spa_grant_addr *g)
{
	memset(a, 0, sizeof(*a));
	if (g->family == AF_INET6)
		a->in6 = g->bin.v6;
	else
		a->in = g->bin.v4;
}

/* The session's data filled in directly (ports and timeout in host
 * order, addresses in network order, as libipset keeps them): no text to
 * parse and no /etc/protocols lookup per grant. The set's type comes from
 * libipset's cache after the first command on that set. */
static int lib_element(struct spa_ipset_state *st, int add, const char *set,
		       const struct spa_grant *g, uint32_t timeout, const char *text)
{
	struct lib_ctx *c = st->xctx;
	struct ipset_session *s = ipset_session(c->ipset);
	struct ipset_data *d = ipset_session_data(s);
	enum ipset_cmd cmd = add ? IPSET_CMD_ADD : IPSET_CMD_DEL;
	union nf_inet_addr src, dst;
	uint16_t port = g->port;
	uint8_t proto = g->proto;
	int rc = -1;

	ipset_session_report_reset(s);
	ipset_envopt_set(s, IPSET_ENV_EXIST);
	if (ipset_data_set(d, IPSET_SETNAME, set) < 0 || !ipset_type_get(s, cmd))
		goto out;
	inet_addr(&src, &g->src);
	inet_addr(&dst, &g->dst);
	if (ipset_data_set(d, IPSET_OPT_IP, &src) < 0 ||
	    ipset_data_set(d, IPSET_OPT_PROTO, &proto) < 0 ||
	    ipset_data_set(d, IPSET_OPT_PORT, &port) < 0 ||
	    (g->dst.family && ipset_data_set(d, IPSET_OPT_IP2, &dst) < 0) ||
	    (add && ipset_data_set(d, IPSET_OPT_TIMEOUT, &timeout) < 0))
		goto out;
	rc = ipset_cmd(s, cmd, 0);
out:
	if (rc < 0 || ipset_session_report_type(s) == IPSET_ERROR) {
		const char *msg = ipset_session_report_msg(s);

		if (!msg || !*msg)
			msg = "unknown error";
		st->host->log(st->host->self, SPA_LOG_ERR, "libipset: %s %s %s failed: %.*s",
			      add ? "add" : "del", set, text, (int)strcspn(msg, "\n"), msg);
		ipset_data_reset(d);
		ipset_session_report_reset(s);
		return -EIO;
	}
	/* e.g. a protocol version notice: worth a line, not a failure */
	lib_standard_error(c->ipset, c);
	return 0;
}

static void lib_close(struct spa_ipset_state *st)
{
	struct lib_ctx *c = st->xctx;

	if (!c)
		return;
	if (c->ipset)
		ipset_fini(c->ipset);
	spa_pu_buf_free(&c->out);
	free(c);
	st->xctx = NULL;
}

const struct spa_ipset_xport spa_ipset_xport_lib = {
	.name = "library",
	.open = lib_open,
	.run = lib_run,
	.element = lib_element,
	.close = lib_close,
};
