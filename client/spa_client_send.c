/* SPDX-License-Identifier: MIT */
/*
 * Sending the wire string: one UDP datagram, a TCP stream, or an HTTP GET
 * (docs/man/spa-client.1), directly or through an HTTP proxy (-H). IPv4 and IPv6
 * alike; -4/-6 restrict the lookup. The raw modes live in spa_client_raw.c.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "spa_client.h"

const char *spa_client_proto_name(int proto)
{
	switch (proto) {
	case SPA_CLIENT_PROTO_TCP: return "tcp";
	case SPA_CLIENT_PROTO_HTTP: return "http";
	case SPA_CLIENT_PROTO_UDPRAW: return "udpraw";
	case SPA_CLIENT_PROTO_TCPRAW: return "tcpraw";
	case SPA_CLIENT_PROTO_ICMP: return "icmp";
	default: return "udp";
	}
}

bool spa_client_proto_is_raw(int proto)
{
	return proto == SPA_CLIENT_PROTO_UDPRAW ||
	       proto == SPA_CLIENT_PROTO_TCPRAW || proto == SPA_CLIENT_PROTO_ICMP;
}

/*
 * fwknop documents no default proxy port; fwknop 2.6.10 was seen to
 * connect to the proxy on the -p port (62201 unless set) when none is
 * given, so a bare host means the same here (said in --help too).
 * Accepted: [http://]host[:port][/], http://host[:port]/path and the
 * same with a bracketed IPv6 address.
 */
int spa_client_parse_proxy(const char *v, char *host, size_t cap,
			   uint16_t *port)
{
	char buf[300];
	char *h, *p = NULL, *end;
	bool url = strncasecmp(v, "http://", 7) == 0;
	size_t len;

	if (url)
		v += 7;
	len = strlen(v);
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, v, len + 1);
	/* fwknop connects to http://host:port/path as to host:port: the
	 * request line is always the SPA URL on the server, so a path (and
	 * any query after it) has nothing to name and is dropped. Without
	 * the scheme only a trailing '/' is taken: fwknop 2.6.10 mangles the
	 * port of "host:port/path", so what it means there is anyone's guess. */
	end = strchr(buf, '/');
	if (end && (url || end[1] == '\0'))
		*end = '\0';
	h = buf;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end)
			return -1;
		*end = '\0';
		h++;
		if (end[1] == ':')
			p = end + 2;
		else if (end[1] != '\0')
			return -1;
	} else {
		end = strchr(h, ':');
		/* More than one colon: a bare IPv6 address, no port. */
		if (end && !strchr(end + 1, ':')) {
			*end = '\0';
			p = end + 1;
		}
	}
	if (!*h || strlen(h) >= cap || strpbrk(h, " \t\r\n/@[]\\?#"))
		return -1;
	*port = 0;
	if (p && spa_client_parse_port(p, port) < 0)
		return -1;
	memcpy(host, h, strlen(h) + 1);
	return 0;
}

static int bind_source(int fd, int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	if (port == 0)
		return 0;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		s6->sin6_port = htons(port);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		s4->sin_port = htons(port);
		len = sizeof(*s4);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	return bind(fd, (struct sockaddr *)&ss, len);
}

static int send_all(int fd, const char *buf, size_t len, size_t *sent)
{
	while (len) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
		*sent += (size_t)w;
	}
	return 0;
}

/* The URL-safe form fwknopd expects in HTTP mode. */
int spa_client_http_request(const struct spa_client_cfg *c,
			    const struct spa_client_packet *p, char *out, size_t cap)
{
	char wire[SPA_WIRE_CAP];
	bool v6 = strchr(c->server, ':') != NULL;
	int n;

	for (size_t i = 0; i <= p->wire_len; i++) {
		char ch = p->wire[i];

		wire[i] = ch == '+' ? '-' : ch == '/' ? '_' : ch;
	}
	/* Through a proxy the request line carries the absolute URL; like
	 * fwknop it names no port, so the proxy goes to the server's port 80.
	 * Host names the server: fwknop 2.6.10 puts the proxy's name there,
	 * which a proxy may take as the target; RFC 7230 wants the URL's. */
	if (c->proxy_host[0])
		n = snprintf(out, cap,
			     "GET http://%s%s%s/%s HTTP/1.0\r\nUser-Agent: %s\r\n"
			     "Accept: */*\r\nHost: %s%s%s\r\nConnection: close\r\n\r\n",
			     v6 ? "[" : "", c->server, v6 ? "]" : "", wire,
			     c->user_agent, v6 ? "[" : "", c->server, v6 ? "]" : "");
	else
		n = snprintf(out, cap,
			     "GET /%s HTTP/1.0\r\nUser-Agent: %s\r\nAccept: */*\r\n"
			     "Host: %s%s%s\r\nConnection: close\r\n\r\n",
			     wire, c->user_agent, v6 ? "[" : "", c->server,
			     v6 ? "]" : "");
	return n > 0 && (size_t)n < cap ? n : -1;
}

static int send_one(const struct spa_client_cfg *c,
		    const struct spa_client_packet *p, const struct addrinfo *ai,
		    size_t *sent)
{
	char req[SPA_WIRE_CAP + 512];
	int fd, rc = -1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (bind_source(fd, ai->ai_family, c->source_port) < 0)
		goto out;
	if (c->proto == SPA_CLIENT_PROTO_UDP) {
		ssize_t w = sendto(fd, p->wire, p->wire_len, 0, ai->ai_addr,
				   ai->ai_addrlen);

		if (w == (ssize_t)p->wire_len) {
			*sent = (size_t)w;
			rc = 0;
		}
		goto out;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		goto out;
	if (c->proto == SPA_CLIENT_PROTO_TCP) {
		rc = send_all(fd, p->wire, p->wire_len, sent);
	} else {
		int n = spa_client_http_request(c, p, req, sizeof(req));

		if (n > 0)
			rc = send_all(fd, req, (size_t)n, sent);
	}
out:
	close(fd);
	return rc;
}

int spa_client_send(const struct spa_client_cfg *c,
		    const struct spa_client_packet *p, size_t *sent)
{
	struct addrinfo hints, *res = NULL;
	char port[8];
	const char *host = c->server;
	uint16_t dport = p->dest_port;
	int gai, rc = -SPA_CE_SEND, err = 0;

	*sent = 0;
	if (spa_client_proto_is_raw(c->proto))
		return spa_client_send_raw(c, p, sent);
	if (c->proxy_host[0]) {
		host = c->proxy_host;
		dport = c->proxy_port ? c->proxy_port : p->dest_port;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = c->family;
	hints.ai_socktype = c->proto == SPA_CLIENT_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	snprintf(port, sizeof(port), "%u", dport);
	gai = getaddrinfo(host, port, &hints, &res);
	if (gai == EAI_ADDRFAMILY || gai == EAI_NONAME || gai == EAI_NODATA) {
		/* AI_ADDRCONFIG hides loopback-only hosts; try once without. */
		hints.ai_flags = 0;
		gai = getaddrinfo(host, port, &hints, &res);
	}
	if (gai != 0) {
		fprintf(stderr, "spa-client: cannot resolve '%s': %s\n", host,
			gai_strerror(gai));
		return -SPA_CE_RESOLVE;
	}
	/* The first address that takes the packet wins. */
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		*sent = 0;
		if (send_one(c, p, ai, sent) == 0) {
			rc = 0;
			break;
		}
		err = errno;
	}
	if (rc < 0)
		fprintf(stderr, "spa-client: sending to %s%s port %u/%s failed: %s\n",
			c->proxy_host[0] ? "proxy " : "", host, dport,
			spa_client_proto_name(c->proto),
			strerror(err ? err : EIO));
	freeaddrinfo(res);
	return rc;
}
