/* SPDX-License-Identifier: MIT */
/*
 * session.c - the router's management session: connect, log in, one
 * command line out, answer lines in. Any error closes the session: after
 * a timeout the router's late answer would otherwise be read as the answer
 * to the next command.
 */
#include "session.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void session_init(struct session *s, const struct spa_host_api *host,
		  const struct sockaddr_storage *addr, socklen_t addr_len,
		  const char *password, int timeout_ms)
{
	memset(s, 0, sizeof(*s));
	s->host = host;
	s->addr = *addr;
	s->addr_len = addr_len;
	s->password = password;
	s->timeout_ms = timeout_ms;
	s->fd = -1;
}

void session_close(struct session *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->len = 0;
}

static int lost(struct session *s, int rc)
{
	session_close(s);
	return rc;
}

static void start_clock(struct session *s)
{
	clock_gettime(CLOCK_MONOTONIC, &s->deadline);
	s->deadline.tv_sec += s->timeout_ms / 1000;
	s->deadline.tv_nsec += (long)(s->timeout_ms % 1000) * 1000000L;
	if (s->deadline.tv_nsec >= 1000000000L) {
		s->deadline.tv_sec++;
		s->deadline.tv_nsec -= 1000000000L;
	}
}

static int remaining_ms(const struct session *s)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(s->deadline.tv_sec - now.tv_sec) * 1000 +
	     (s->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

int session_line(struct session *s, char *line, size_t cap)
{
	if (s->fd < 0)
		return -ENOTCONN;
	for (;;) {
		char *nl = memchr(s->buf, '\n', s->len);
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		ssize_t r;
		int rc;

		if (nl) {
			size_t n = (size_t)(nl - s->buf);
			if (n >= cap)
				return lost(s, -EMSGSIZE);
			memcpy(line, s->buf, n);
			line[n] = '\0';
			if (n && line[n - 1] == '\r')
				line[n - 1] = '\0';
			s->len -= n + 1;
			memmove(s->buf, nl + 1, s->len);
			return 0;
		}
		if (s->len == sizeof(s->buf))
			return lost(s, -EMSGSIZE);
		rc = poll(&p, 1, remaining_ms(s));
		if (rc == 0)
			return lost(s, -ETIMEDOUT);
		r = rc < 0 ? -1 : recv(s->fd, s->buf + s->len, sizeof(s->buf) - s->len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return lost(s, -errno);
		if (r == 0) /* the router ended the session */
			return lost(s, -ECONNRESET);
		s->len += (size_t)r;
	}
}

/* One line out (SO_SNDTIMEO bounds each send), the first answer line in. */
static int exchange(struct session *s, const char *cmd, char *reply, size_t cap)
{
	char line[512];
	const char *p = line;
	int n = snprintf(line, sizeof(line), "%s\n", cmd);
	size_t left;

	if (n < 0 || (size_t)n >= sizeof(line))
		return -E2BIG;
	for (left = (size_t)n; left;) {
		ssize_t w = send(s->fd, p, left, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int rc = errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
			explicit_bzero(line, sizeof(line));
			return lost(s, rc);
		}
		p += w;
		left -= (size_t)w;
	}
	explicit_bzero(line, sizeof(line)); /* it may be the login */
	return session_line(s, reply, cap);
}

static int session_open(struct session *s)
{
	struct timeval tv = { .tv_sec = s->timeout_ms / 1000,
			      .tv_usec = (s->timeout_ms % 1000) * 1000 };
	char login[300], reply[128];
	int rc;

	s->fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	/* SO_SNDTIMEO bounds connect() too; it then fails with EINPROGRESS */
	if (setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(s->fd, (const struct sockaddr *)&s->addr, s->addr_len) < 0)
		return lost(s, errno == EINPROGRESS ? -ETIMEDOUT : -errno);
	if (snprintf(login, sizeof(login), "login %s", s->password) >= (int)sizeof(login))
		return lost(s, -E2BIG);
	rc = exchange(s, login, reply, sizeof(reply));
	explicit_bzero(login, sizeof(login));
	if (rc < 0)
		return rc;
	if (strcmp(reply, "ok") != 0)
		return lost(s, -EACCES);
	s->host->log(s->host->self, SPA_LOG_INFO, "logged in to the router");
	return 0;
}

int session_cmd(struct session *s, const char *cmd, char *reply, size_t cap)
{
	bool reused = s->fd >= 0;
	int rc;

	start_clock(s);
	rc = reused ? 0 : session_open(s);
	if (rc == 0)
		rc = exchange(s, cmd, reply, cap);
	/* An idle session may have died with the router (a reboot drops it):
	 * that shows only now. One new session, and the command again. */
	if (reused && (rc == -ECONNRESET || rc == -EPIPE)) {
		start_clock(s);
		rc = session_open(s);
		if (rc == 0)
			rc = exchange(s, cmd, reply, cap);
	}
	return rc;
}
