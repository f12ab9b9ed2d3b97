/* SPDX-License-Identifier: MIT */
/*
 * session.h - one line-based TCP management session to the router, kept
 * open between ops and reopened when it drops. Every call is bounded by
 * the session's timeout: an op never blocks for good on a silent router.
 */
#ifndef ROUTER_ACL_SESSION_H
#define ROUTER_ACL_SESSION_H

#include <spa/plugin.h>

#include <sys/socket.h>
#include <time.h>

struct session {
	const struct spa_host_api *host;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	const char *password;        /* config_get's: valid until fini */
	int timeout_ms;              /* for one command, connecting included */
	int fd;                      /* -1: not connected */
	struct timespec deadline;    /* of the command being answered */
	char buf[1024];              /* bytes received, not yet a whole line */
	size_t len;
};

/* No connection yet: the first command connects. */
void session_init(struct session *s, const struct spa_host_api *host,
		  const struct sockaddr_storage *addr, socklen_t addr_len,
		  const char *password, int timeout_ms);
/* Sends one command line and reads the first line of the answer into
 * reply. A session found dead is reopened (and the command sent again)
 * once: the protocol's commands are idempotent. Returns 0, or -ETIMEDOUT,
 * -ECONNREFUSED, -ECONNRESET... for the transport, -EACCES when the router
 * refuses the password; the session is closed after any error. */
int session_cmd(struct session *s, const char *cmd, char *reply, size_t cap);
/* The next line of a multi-line answer (show), within the same deadline. */
int session_line(struct session *s, char *line, size_t cap);
void session_close(struct session *s);

#endif
