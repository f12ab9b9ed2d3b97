/* SPDX-License-Identifier: MIT */
/*
 * test_spad_tcp.c - SPA over TCP and HTTP (ENABLE_TCP_SERVER,
 * ENABLE_SPA_OVER_HTTP, ENABLE_X_FORWARDED_FOR): knocks from spa-client
 * and Debian's fwknop client with -P tcp and -P http, requests written
 * here (X-Forwarded-For, garbage, oversize, half-sent), the same in pcap
 * mode (--pcap-file), DESTINATION against the address a connection
 * reached, and the bounds: while slow and flooding TCP clients
 * hold and churn connections, UDP knocks are still granted.
 * argv: spad, plugin dir, spa-client, fwknop ("none" when not installed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pcap/dlt.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "pcap_frames.h"
#include "spad_fixture.h"

static const char *spad_path, *plugin_dir, *client_path, *fwknop_path;
static uint16_t tcp_port;

/* spad -U with the TCP server, these extra fwknopd.conf lines and, when
 * stanza is not NULL, these extra lines in the access stanza. */
static struct fx *start_with(const char *extra, const char *stanza)
{
	struct fx *f = fx_new(spad_path, plugin_dir);
	char conf[512];

	assert_non_null(f);
	if (stanza)
		fx_write_access(f, stanza);
	tcp_port = fx_free_port(SOCK_STREAM);
	snprintf(conf, sizeof(conf), "ENABLE_TCP_SERVER Y\nTCPSERV_PORT %u\n%s", tcp_port, extra);
	fx_append_conf(f, conf);
	assert_true(fx_start(f));
	assert_true(fx_wait_for(f->log, "listening on TCP port", 1, FX_WAIT_MS));
	return f;
}

static struct fx *start(const char *extra)
{
	return start_with(extra, NULL);
}

/* A connection to the TCP server at 127.0.0.<to> from the loopback address
 * from (NULL: 127.0.0.1); -1 when the connect fails. */
static int tcp_connect_to(const char *from, unsigned to)
{
	struct sockaddr_in a = { .sin_family = AF_INET }, s = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (from) {
		inet_pton(AF_INET, from, &s.sin_addr);
		if (bind(fd, (struct sockaddr *)&s, sizeof(s)) < 0) {
			close(fd);
			return -1;
		}
	}
	a.sin_port = htons(tcp_port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK - 1 + to);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int tcp_connect(const char *from)
{
	return tcp_connect_to(from, 1);
}

/* Sends data over one connection, closes it, and returns the decision line
 * that follows ("" if none within FX_WAIT_MS). */
static const char *tcp_knock_to(struct fx *f, unsigned to, const char *data, size_t len)
{
	int before = fx_count(f->log, "decision="), fd = tcp_connect_to(NULL, to);
	size_t off = 0;

	assert_true(fd >= 0);
	/* the server may close once it has read enough to refuse */
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fd);
	return fx_next_decision(f, before);
}

static const char *tcp_knock(struct fx *f, const char *data, size_t len)
{
	return tcp_knock_to(f, 1, data, len);
}

/* "GET /<wire, URL-safe> HTTP/1.0" with the given extra header lines. */
static size_t http_request(const char *wire, size_t len, const char *headers, char *out,
			   size_t cap)
{
	char safe[SPA_WIRE_CAP];
	int n;

	for (size_t i = 0; i < len; i++)
		safe[i] = wire[i] == '+' ? '-' : wire[i] == '/' ? '_' : wire[i];
	safe[len] = '\0';
	n = snprintf(out, cap, "GET /%s HTTP/1.0\r\nUser-Agent: test\r\n%s\r\n", safe, headers);
	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

/* Runs a client (spa-client or fwknop: the same options) against the TCP
 * port; returns its exit status. */
static int run_client(const char *client, const char *proto, const char *port_spec)
{
	char dir[64], home[96], port[8];
	char *argv[] = { (char *)client, "-P", (char *)proto, "-A", (char *)port_spec, "-s",
			 "-D", "127.0.0.1", "-p", port, "--no-rc-file",
			 "--key-base64-rijndael", FX_KEY_B64, "--key-base64-hmac", FX_HMAC_B64,
			 NULL };
	char *envp[] = { home, "PATH=/usr/bin:/bin", NULL };
	posix_spawn_file_actions_t fa;
	int status = -1;
	pid_t pid;

	th_tmpdir(dir, sizeof(dir));
	snprintf(home, sizeof(home), "HOME=%s", dir);
	snprintf(port, sizeof(port), "%u", tcp_port);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, client, &fa, NULL, argv, envp) == 0)
		waitpid(pid, &status, 0);
	posix_spawn_file_actions_destroy(&fa);
	th_rmrf(dir);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void client_knocks(const char *client, const char *name)
{
	struct fx *f;

	if (strcmp(client, "none") == 0) {
		printf("SKIP: %s not installed\n", name);
		return;
	}
	f = start("ENABLE_SPA_OVER_HTTP Y\n");
	assert_int_equal(run_client(client, "tcp", "tcp/22"), 0);
	assert_true(fx_wait_for(f->calls, "src=127.0.0.1 proto=6 port=22 ", 1, FX_WAIT_MS));
	assert_int_equal(run_client(client, "http", "tcp/80"), 0);
	assert_true(fx_wait_for(f->calls, "src=127.0.0.1 proto=6 port=80 ", 1, FX_WAIT_MS));
	assert_true(fx_wait_for(f->log, "decision=grant", 2, FX_WAIT_MS));
	fx_delete(f);
}

/* (a) spa-client -P tcp and -P http, UDP-server mode: the data comes from
 * the connection, its source is the connection's peer. */
static void test_spa_client(void **state)
{
	(void)state;
	client_knocks(client_path, "spa-client");
}

/* (b) Debian's fwknop client 2.6.10, -P tcp and -P http. */
static void test_fwknop_client(void **state)
{
	(void)state;
	client_knocks(fwknop_path, "fwknop client");
}

/* (c) X-Forwarded-For: the allow IP of a 0.0.0.0 request when enabled,
 * never an address the source could not ask for itself. */
static void test_forwarded_for(void **state)
{
	struct fx *f;
	char p[SPA_WIRE_CAP], req[4096];
	size_t len;
	const char *line;

	(void)state;
	f = start("ENABLE_SPA_OVER_HTTP Y\nENABLE_X_FORWARDED_FOR Y\n");
	len = fx_build(f, f->keys, "alice", "0.0.0.0,tcp/22", 0, 0, p);
	line = tcp_knock(f, req, http_request(p, len, "X-Forwarded-For: 203.0.113.5, "
					      "198.51.100.77\r\n", req, sizeof(req)));
	assert_non_null(strstr(line, "decision=grant"));
	assert_true(fx_wait_for(f->calls, "src=198.51.100.77 proto=6 port=22 ", 1, FX_WAIT_MS));
	/* an explicit allow IP wins over the header */
	len = fx_build(f, f->keys, "alice", "198.51.100.8,tcp/80", 0, 0, p);
	line = tcp_knock(f, req, http_request(p, len, "X-Forwarded-For: 198.51.100.77\r\n", req,
					      sizeof(req)));
	assert_non_null(strstr(line, "decision=grant"));
	assert_true(fx_wait_for(f->calls, "src=198.51.100.8 proto=6 port=80 ", 1, FX_WAIT_MS));
	/* a loopback address that is not the source is refused */
	len = fx_build(f, f->keys, "alice", "0.0.0.0,tcp/443", 0, 0, p);
	line = tcp_knock(f, req, http_request(p, len, "X-Forwarded-For: 127.0.0.9\r\n", req,
					      sizeof(req)));
	assert_non_null(strstr(line, "decision=reject"));
	assert_non_null(strstr(line, "allow IP 127.0.0.9 is loopback"));
	/* ...also written as an IPv4-mapped IPv6 address */
	len = fx_build(f, f->keys, "alice", "0.0.0.0,tcp/443", 0, 0, p);
	line = tcp_knock(f, req, http_request(p, len, "X-Forwarded-For: ::ffff:127.0.0.9\r\n",
					      req, sizeof(req)));
	assert_non_null(strstr(line, "allow IP 127.0.0.9 is loopback"));
	/* a header that is not an address refuses the request */
	len = fx_build(f, f->keys, "alice", "0.0.0.0,tcp/443", 0, 0, p);
	line = tcp_knock(f, req, http_request(p, len, "X-Forwarded-For: unknown\r\n", req,
					      sizeof(req)));
	assert_non_null(strstr(line, "HTTP: X-Forwarded-For: an entry is not an IP address"));
	fx_stop(f, SIGTERM);
	fx_delete(f);

	/* without ENABLE_X_FORWARDED_FOR the header means nothing */
	f = start("ENABLE_SPA_OVER_HTTP Y\n");
	len = fx_build(f, f->keys, "alice", "0.0.0.0,tcp/22", 0, 0, p);
	line = tcp_knock(f, req, http_request(p, len, "X-Forwarded-For: 198.51.100.77\r\n", req,
					      sizeof(req)));
	assert_non_null(strstr(line, "decision=grant"));
	assert_true(fx_wait_for(f->calls, "src=127.0.0.1 proto=6 port=22 ", 1, FX_WAIT_MS));
	assert_int_equal(fx_count(f->calls, "198.51.100.77"), 0);
	fx_delete(f);
}

/* (d) garbage, oversize and half-sent requests: refused with a reason;
 * and without ENABLE_SPA_OVER_HTTP a request is not SPA data. */
static void test_refusals(void **state)
{
	struct fx *f;
	static char big[6000];
	char p[SPA_WIRE_CAP], req[4096];
	size_t len;
	const char *line;
	struct pollfd pfd;
	int fd;

	(void)state;
	f = start("ENABLE_SPA_OVER_HTTP Y\nTCPSERV_READ_TIMEOUT 1\n");
	line = tcp_knock(f, "GET /../../etc/passwd HTTP/1.0\r\n\r\n", 34);
	assert_non_null(strstr(line, "HTTP: request path: character outside the SPA alphabet"));
	line = tcp_knock(f, "GET /abc HTTP/2.0\r\n\r\n", 21);
	assert_non_null(strstr(line, "HTTP: request line does not end in HTTP/1.0 or HTTP/1.1"));
	len = fx_build(f, f->keys, "alice", "0.0.0.0,tcp/22", 0, 0, p);
	len = http_request(p, len, "", req, sizeof(req));
	memcpy(big, req, len - 2);
	memset(big + len - 2, 'x', sizeof(big) - len + 2);
	memcpy(big + 1000, "\r\nX-Pad: ", 9);
	line = tcp_knock(f, big, sizeof(big));
	assert_non_null(strstr(line, "HTTP: request over 4096 bytes"));
	/* plain SPA data over the limit, and a trailing newline */
	memset(big, 'A', sizeof(big));
	line = tcp_knock(f, big, 3000);
	assert_non_null(strstr(line, "decision=reject"));
	assert_non_null(strstr(line, "not SPA data"));
	/* half a request: decided at TCPSERV_READ_TIMEOUT, the connection ends */
	fd = tcp_connect(NULL);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "GET /abcdef", 11), 11);
	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, FX_WAIT_MS), 1);
	assert_int_equal(read(fd, req, sizeof(req)), 0);
	close(fd);
	assert_true(fx_wait_for(f->log, "HTTP: request incomplete", 1, FX_WAIT_MS));
	/* a valid knock still works after all that */
	len = fx_build(f, f->keys, "alice", "0.0.0.0,tcp/22", 0, 0, p);
	line = tcp_knock(f, p, len);
	assert_non_null(strstr(line, "decision=grant"));
	fx_stop(f, SIGTERM);
	fx_delete(f);

	f = start("");
	len = fx_build(f, f->keys, "alice", "0.0.0.0,tcp/22", 0, 0, p);
	line = tcp_knock(f, req, http_request(p, len, "", req, sizeof(req)));
	assert_non_null(strstr(line, "decision=reject"));
	assert_non_null(strstr(line, "not SPA data"));
	fx_delete(f);
}

/* (d2) DESTINATION is matched against the local address the connection
 * reached (getsockname in the sandboxed packet process). */
static void test_destination(void **state)
{
	struct fx *f;
	char p[SPA_WIRE_CAP];
	size_t len;
	const char *line;

	(void)state;
	f = start_with("", "DESTINATION 127.0.0.2\n");
	len = fx_build(f, f->keys, "alice", "0.0.0.0,tcp/22", 0, 0, p);
	line = tcp_knock_to(f, 1, p, len);
	assert_non_null(strstr(line, "decision=reject"));
	assert_non_null(strstr(line, "no stanza matched"));
	len = fx_build(f, f->keys, "alice", "0.0.0.0,tcp/22", 0, 0, p);
	line = tcp_knock_to(f, 2, p, len);
	assert_non_null(strstr(line, "decision=grant"));
	fx_delete(f);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The flood: from 127.0.0.100..199, connections opened as fast as the
 * server takes them, each sending a little and most kept open (the oldest
 * closed past 200), until killed. */
static _Noreturn void flood(void)
{
	int held[200], n = 0;

	for (unsigned i = 0;; i++) {
		char from[32];
		int fd;

		snprintf(from, sizeof(from), "127.0.0.%u", 100 + i % 100);
		fd = tcp_connect(from);
		if (fd < 0) {
			sleep_ms(1);
			continue;
		}
		if (i % 3 == 0)
			(void)!write(fd, "GET /", 5);
		if (n == 200) {
			close(held[0]);
			memmove(held, held + 1, sizeof(held) - sizeof(held[0]));
			n--;
		}
		held[n++] = fd;
	}
}

/* Sends a UDP knock for port_spec and waits for its grant. */
static void udp_grant(struct fx *f, const char *port_spec)
{
	char p[SPA_WIRE_CAP], msg[64];
	int before = fx_count(f->log, "decision=grant");
	size_t len;

	snprintf(msg, sizeof(msg), "0.0.0.0,%s", port_spec);
	len = fx_build(f, f->keys, "alice", msg, 0, 0, p);
	assert_true(fx_send_raw(f, p, len, false));
	if (!fx_wait_for(f->log, "decision=grant", before + 1, FX_WAIT_MS))
		fail_msg("UDP knock for %s not granted while TCP clients misbehave", port_spec);
}

/* (e) the bounds: idle connections beyond TCPSERV_MAX_PER_SOURCE and
 * TCPSERV_MAX_CONNECTIONS, then a flood; UDP knocks are granted all along,
 * and a TCP knock gets through the held connections. */
static void test_bounds(void **state)
{
	struct fx *f;
	int held[64], n = 0;
	char p[SPA_WIRE_CAP];
	size_t len;
	pid_t pid;

	(void)state;
	f = start("ENABLE_SPA_OVER_HTTP Y\nTCPSERV_MAX_CONNECTIONS 8\n"
		  "TCPSERV_MAX_PER_SOURCE 2\nTCPSERV_READ_TIMEOUT 60\n");
	/* slow clients: 16 addresses x 4 connections, each half a request */
	for (unsigned a = 0; a < 16; a++) {
		for (int k = 0; k < 4; k++) {
			char from[32];
			snprintf(from, sizeof(from), "127.0.0.%u", 10 + a);
			held[n] = tcp_connect(from);
			assert_true(held[n] >= 0);
			(void)!write(held[n], "GET /", 5);
			n++;
		}
	}
	assert_true(fx_wait_for(f->log, "(TCPSERV_MAX_PER_SOURCE)", 1, FX_WAIT_MS));
	assert_true(fx_wait_for(f->log, "(TCPSERV_MAX_CONNECTIONS)", 1, FX_WAIT_MS));
	udp_grant(f, "tcp/22");
	/* the oldest idle connection makes room for a knock over TCP */
	len = fx_build(f, f->keys, "alice", "0.0.0.0,tcp/80", 0, 0, p);
	assert_non_null(strstr(tcp_knock(f, p, len), "decision=grant"));

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		flood();
	sleep_ms(500);
	udp_grant(f, "tcp/443");
	udp_grant(f, "tcp/8443");
	udp_grant(f, "udp/53");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	for (int i = 0; i < n; i++)
		close(held[i]);
	/* the packet process survived all of it (a seccomp kill would restart it) */
	assert_int_equal(fx_count(f->log, "killed by signal"), 0);
	assert_int_equal(fx_count(f->log, "exited with status"), 0);
	assert_true(fx_wait_for(f->log, "decision=grant", 5, FX_WAIT_MS));
	assert_int_equal(fx_count(f->log, "decision=grant"), 5);
	fx_delete(f);
}

/* (f) pcap mode (--pcap-file): TCP segments carry raw SPA or an HTTP
 * request, as fwknopd reads them off the capture. */
static void test_pcap_http(void **state)
{
	struct fx *f;
	static struct pf_frame fr[4];
	uint8_t ip[SPA_FRAME_MAX];
	char p[SPA_WIRE_CAP], req[4096], path[4200], conf[256];
	size_t len, iplen, n = 0;
	const char *args[] = { "--pcap-file", path, "-P", "", NULL };

	(void)state;
	f = fx_new(spad_path, plugin_dir);
	assert_non_null(f);
	th_write(f->dir, "access.conf",
		 "SOURCE 198.51.100.0/24\nKEY_BASE64 " FX_KEY_B64 "\nHMAC_KEY_BASE64 " FX_HMAC_B64
		 "\nFW_ACCESS_TIMEOUT 30\n", f->access, sizeof(f->access));
	snprintf(conf, sizeof(conf), "ENABLE_TCP_SERVER Y\nENABLE_SPA_OVER_HTTP Y\n"
		 "ENABLE_X_FORWARDED_FOR Y\n");
	fx_append_conf(f, conf);
	snprintf(path, sizeof(path), "%s/http.pcap", f->dir);
	/* 0: an HTTP request, 1: one through a proxy, 2: raw SPA over TCP,
	 * 3: a request of garbage */
	len = fx_build(f, f->keys, "alice", "0.0.0.0,tcp/22", 0, 0, p);
	len = http_request(p, len, "", req, sizeof(req));
	iplen = pf_ipv4(ip, "198.51.100.20", "198.51.100.1", 6, 0, req, len);
	pf_ether(&fr[n++], 0, ip, iplen, 0);
	len = fx_build(f, f->keys, "alice", "0.0.0.0,tcp/80", 0, 0, p);
	len = http_request(p, len, "X-Forwarded-For: 203.0.113.50\r\n", req, sizeof(req));
	iplen = pf_ipv4(ip, "198.51.100.21", "198.51.100.1", 6, 0, req, len);
	pf_ether(&fr[n++], 0, ip, iplen, 0);
	len = fx_build(f, f->keys, "alice", "0.0.0.0,tcp/443", 0, 0, p);
	iplen = pf_ipv4(ip, "198.51.100.22", "198.51.100.1", 6, 0, p, len);
	pf_ether(&fr[n++], 0, ip, iplen, 0);
	iplen = pf_ipv4(ip, "198.51.100.23", "198.51.100.1", 6, 0,
			"GET / HTTP/1.0\r\nX\r\n\r\n", 21);
	pf_ether(&fr[n++], 0, ip, iplen, 0);
	pf_write(path, DLT_EN10MB, fr, n);
	assert_int_equal(fx_run(f, args), 0);
	assert_int_equal(fx_opened(f, "src=198.51.100.20 proto=6 port=22 "), 1);
	assert_int_equal(fx_opened(f, "src=203.0.113.50 proto=6 port=80 "), 1);
	assert_int_equal(fx_opened(f, "src=198.51.100.22 proto=6 port=443 "), 1);
	assert_int_equal(fx_count(f->log, "HTTP: request path is empty"), 1);
	/* --pcap-file opens no TCP server */
	assert_int_equal(fx_count(f->log, "listening on TCP port"), 0);
	fx_delete(f);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spa_client),
		cmocka_unit_test(test_fwknop_client),
		cmocka_unit_test(test_forwarded_for),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_destination),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_pcap_http),
	};

	if (argc < 5) {
		fprintf(stderr, "usage: %s spad plugin-dir spa-client fwknop\n", argv[0]);
		return 2;
	}
	spad_path = argv[1];
	plugin_dir = argv[2];
	client_path = argv[3];
	fwknop_path = argv[4];
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
