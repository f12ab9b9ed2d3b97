/* SPDX-License-Identifier: MIT */
/*
 * -R: learn our public IPv4 address from a "what is my IP" web page.
 * fwknop runs wget for HTTPS; we speak HTTP/1.0 ourselves, over TLS with
 * full certificate and host name checks for https:// URLs, so no external
 * program is involved unless -w/--wget-cmd names one (spa_client_wget.c).
 * The answer is parsed strictly: the body must start
 * with a dotted quad and nothing else on that line.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "spa_client.h"

#define RESOLVE_TIMEOUT_SEC 10
#define RESOLVE_MAX_REPLY   8192

struct url {
	bool tls;
	bool explicit_port;
	char host[256];
	char port[8];
	char path[512];
};

static int parse_url(const char *s, struct url *u)
{
	const char *p, *host_end, *path;
	size_t hlen;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(s, "https://", 8) == 0) {
		u->tls = true;
		p = s + 8;
	} else if (strncasecmp(s, "http://", 7) == 0) {
		p = s + 7;
	} else {
		return -1;
	}
	path = p + strcspn(p, "/");
	if (*p == '[') {
		host_end = strchr(p, ']');
		if (!host_end || host_end > path)
			return -1;
		hlen = (size_t)(host_end - p - 1);
		p++;
		host_end++;
	} else {
		host_end = p + strcspn(p, ":/");
		hlen = (size_t)(host_end - p);
	}
	if (hlen == 0 || hlen >= sizeof(u->host))
		return -1;
	memcpy(u->host, p, hlen);
	for (size_t i = 0; i < hlen; i++) {
		unsigned char ch = (unsigned char)u->host[i];

		if (!isalnum(ch) && ch != '.' && ch != '-' && ch != ':')
			return -1;
	}
	snprintf(u->port, sizeof(u->port), "%s", u->tls ? "443" : "80");
	if (*host_end == ':') {
		uint16_t port;
		size_t plen = (size_t)(path - host_end - 1);
		char num[8];

		if (plen == 0 || plen >= sizeof(num))
			return -1;
		memcpy(num, host_end + 1, plen);
		num[plen] = '\0';
		if (spa_client_parse_port(num, &port) < 0)
			return -1;
		snprintf(u->port, sizeof(u->port), "%u", port);
		u->explicit_port = true;
	} else if (host_end != path) {
		return -1;
	}
	if (strlen(path) >= sizeof(u->path))
		return -1;
	snprintf(u->path, sizeof(u->path), "%s", *path ? path : "/");
	for (const char *q = u->path; *q; q++) {
		if (*q <= 0x20 || *q > 0x7e)
			return -1;
	}
	return 0;
}

static int connect_to(const struct url *u)
{
	struct addrinfo hints, *res = NULL;
	struct timeval tv = { .tv_sec = RESOLVE_TIMEOUT_SEC };
	int fd = -1, gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	gai = getaddrinfo(u->host, u->port, &hints, &res);
	if (gai != 0) {
		fprintf(stderr, "spa-client: cannot resolve '%s': %s\n", u->host,
			gai_strerror(gai));
		return -1;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		/* On Linux the send timeout also bounds connect(). */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "spa-client: cannot connect to %s port %s: %s\n",
			u->host, u->port, strerror(errno));
	return fd;
}

static bool is_ip_literal(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 ||
	       inet_pton(AF_INET6, host, buf) == 1;
}

/* Plain or TLS exchange; returns the reply length or -1. */
static int exchange(const struct url *u, int fd, const char *req, char *reply,
		    size_t cap)
{
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	size_t used = 0;
	int rc = -1;

	if (u->tls) {
		ctx = SSL_CTX_new(TLS_client_method());
		if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
		    SSL_CTX_set_default_verify_paths(ctx) != 1) {
			fprintf(stderr, "spa-client: cannot set up TLS\n");
			goto out;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		ssl = SSL_new(ctx);
		if (!ssl || !SSL_set_fd(ssl, fd)) {
			fprintf(stderr, "spa-client: cannot set up TLS\n");
			goto out;
		}
		/* An address literal is matched against IP SANs and sent
		 * without SNI; a name is matched as a host name. */
		if (is_ip_literal(u->host)) {
			if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), u->host)) {
				fprintf(stderr, "spa-client: cannot set up TLS\n");
				goto out;
			}
		} else if (!SSL_set_tlsext_host_name(ssl, u->host) ||
			   !SSL_set1_host(ssl, u->host)) {
			fprintf(stderr, "spa-client: cannot set up TLS\n");
			goto out;
		}
		if (SSL_connect(ssl) != 1 || SSL_get_verify_result(ssl) != X509_V_OK) {
			fprintf(stderr, "spa-client: TLS with %s failed: %s\n", u->host,
				X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
			goto out;
		}
		if (SSL_write(ssl, req, (int)strlen(req)) != (int)strlen(req)) {
			fprintf(stderr, "spa-client: cannot send to %s\n", u->host);
			goto out;
		}
	} else if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
		fprintf(stderr, "spa-client: cannot send to %s: %s\n", u->host,
			strerror(errno));
		goto out;
	}
	while (used + 1 < cap) {
		int n = u->tls ? SSL_read(ssl, reply + used, (int)(cap - 1 - used)) :
				 (int)recv(fd, reply + used, cap - 1 - used, 0);

		if (n <= 0)
			break;
		used += (size_t)n;
	}
	reply[used] = '\0';
	rc = (int)used;
out:
	if (rc < 0 && u->tls)
		ERR_clear_error();
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return rc;
}

int spa_client_parse_myip_reply(const char *reply, char ip[16])
{
	const char *body = strstr(reply, "\r\n\r\n");

	/* Only a plain 200 answer counts: no redirects to follow blindly. */
	if (strncmp(reply, "HTTP/1.", 7) != 0 || strlen(reply) < 12 ||
	    strncmp(reply + 8, " 200", 4) != 0 || !body)
		return -1;
	return spa_client_parse_myip_body(body + 4, ip);
}

int spa_client_parse_myip_body(const char *body, char ip[16])
{
	size_t n;

	while (*body == ' ' || *body == '\t' || *body == '\r' || *body == '\n')
		body++;
	n = strspn(body, "0123456789.");
	if (n < 7 || n > 15)
		return -1;
	if (body[n] && body[n] != '\r' && body[n] != '\n' && body[n] != ' ' &&
	    body[n] != '\t')
		return -1;
	memcpy(ip, body, n);
	ip[n] = '\0';
	return spa_validate_ipv4(ip) == 0 ? 0 : -1;
}

int spa_client_resolve_ip(const struct spa_client_cfg *c, char ip[16])
{
	char url_text[sizeof(c->resolve_url) + 8];
	char req[1024];
	char *reply = NULL;
	struct url u;
	int fd = -1, n, rc = -SPA_CE_RESOLVE;

	snprintf(url_text, sizeof(url_text), "%s",
		 c->resolve_url[0] ? c->resolve_url : SPA_CLIENT_RESOLVE_URL);
	if (parse_url(url_text, &u) < 0) {
		fprintf(stderr, "spa-client: bad resolve URL '%s'\n", url_text);
		return rc;
	}
	/* -w: the user asked for fwknop's way (HTTP-only mode never used wget). */
	if (c->wget_cmd[0] && !c->resolve_http_only)
		return spa_client_resolve_wget(c, url_text, ip);
	if (c->resolve_http_only && u.tls) {
		u.tls = false;
		if (!u.explicit_port)
			snprintf(u.port, sizeof(u.port), "80");
	}
	/* Host carries the port when it is not the scheme's default. */
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nUser-Agent: %s\r\n"
		     "Accept: */*\r\nHost: %s%s%s%s%s\r\nConnection: close\r\n\r\n",
		     u.path, c->user_agent, strchr(u.host, ':') ? "[" : "", u.host,
		     strchr(u.host, ':') ? "]" : "", u.explicit_port ? ":" : "",
		     u.explicit_port ? u.port : "");
	if (n < 0 || (size_t)n >= sizeof(req))
		return rc;
	reply = malloc(RESOLVE_MAX_REPLY);
	if (!reply)
		return -SPA_E_NOMEM;
	fd = connect_to(&u);
	if (fd < 0)
		goto out;
	if (exchange(&u, fd, req, reply, RESOLVE_MAX_REPLY) < 0)
		goto out;   /* exchange() said why */
	if (spa_client_parse_myip_reply(reply, ip) < 0) {
		fprintf(stderr, "spa-client: %s did not answer with an IPv4 address\n",
			u.host);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(reply);
	return rc;
}
