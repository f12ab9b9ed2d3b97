/* SPDX-License-Identifier: MIT */
/*
 * The transport options added for fwknop parity: -H (parsing and the
 * request sent to a proxy stand-in over loopback), -P udpraw/tcpraw/icmp
 * option handling and the raw packet builder's headers and checksums, and
 * -w (a fake wget script run instead of the built-in HTTPS client).
 */
#include "client_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define ENC_KEY "transport-key"
#define HMAC_KEY "transport-hmac-key"

struct fixture {
	char home[256];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	ct_mkdtemp(f->home, sizeof(f->home));
	setenv("HOME", f->home, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ct_rmtree(f->home);
	free(f);
	return 0;
}

static void test_proxy_parse(void **state)
{
	static const struct {
		const char *in, *host;
		uint16_t port;
	} ok[] = {
		{ "proxy.example", "proxy.example", 0 },
		{ "http://proxy.example:3128", "proxy.example", 3128 },
		{ "HTTP://198.51.100.5:81/", "198.51.100.5", 81 },
		{ "[2001:db8::5]:8000", "2001:db8::5", 8000 },
		{ "2001:db8::5", "2001:db8::5", 0 },
		/* fwknop ignores the path of a proxy URL */
		{ "http://proxy.example:3128/some/path", "proxy.example", 3128 },
		{ "http://proxy.example/p?q=1", "proxy.example", 0 },
		{ "http://[2001:db8::5]:8000/x", "2001:db8::5", 8000 },
		{ "proxy.example:3128/", "proxy.example", 3128 },
	};
	static const char *const bad[] = {
		"", "http://", ":80", "proxy:", "proxy:x", "proxy:70000",
		"[2001:db8::5]x", "a b", "a/b:80",
		/* a path without the scheme: fwknop mangles the port there */
		"proxy.example:3128/path", "http://user@proxy.example/",
		"http:///path",
	};
	char host[256];
	uint16_t port;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(spa_client_parse_proxy(ok[i].in, host, sizeof(host),
							&port), 0);
		assert_string_equal(host, ok[i].host);
		assert_int_equal(port, ok[i].port);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(spa_client_parse_proxy(bad[i], host, sizeof(host),
						   &port) < 0);
}

static void test_option_values(void **state)
{
	struct spa_client_cfg c;

	(void)state;
	spa_client_cfg_init(&c);
	assert_int_equal(ct_parse(&c, ARGS("-P", "tcpraw", "-Q", "198.51.100.77",
					"--icmp-type", "8", "--icmp-code", "15",
					"-w", "/usr/bin/wget",
					"--use-wget-user-agent")), 0);
	assert_int_equal(c.proto, SPA_CLIENT_PROTO_TCPRAW);
	assert_true(spa_client_proto_is_raw(c.proto));
	assert_string_equal(c.spoof_src, "198.51.100.77");
	assert_int_equal(c.icmp_type, 8);
	assert_int_equal(c.icmp_code, 15);
	assert_string_equal(c.wget_cmd, "/usr/bin/wget");
	assert_true(c.use_wget_ua);
	assert_int_equal(ct_parse(&c, ARGS("-P", "ICMP", "--spoof-src",
					"203.0.113.4")), 0);
	assert_int_equal(c.proto, SPA_CLIENT_PROTO_ICMP);
	assert_string_equal(c.spoof_src, "203.0.113.4");
	assert_int_equal(ct_parse(&c, ARGS("-P", "udpraw")), 0);
	assert_int_equal(c.proto, SPA_CLIENT_PROTO_UDPRAW);
	assert_false(spa_client_proto_is_raw(SPA_CLIENT_PROTO_HTTP));
	assert_string_equal(spa_client_proto_name(SPA_CLIENT_PROTO_ICMP), "icmp");
	spa_client_cfg_free(&c);

	/* -Q outside the raw modes is refused before anything is sent. */
	assert_int_equal(ct_run(NULL, ARGS("-Q", "198.51.100.77", "-A", "tcp/22",
					 "-a", "198.51.100.1", "-D", "127.0.0.1",
					 "--key-rijndael", ENC_KEY, "--no-rc-file",
					 "--no-save-args")), 1);
}

/* A "NAME <spaces> value" line in an rc file. */
static bool has_var(const char *text, const char *name, const char *value)
{
	for (const char *p = text; (p = strstr(p, name)) != NULL; p++) {
		const char *v = p + strlen(name);

		if (p != text && p[-1] != '\n')
			continue;
		if (*v != ' ')
			continue;
		v += strspn(v, " ");
		if (strncmp(v, value, strlen(value)) == 0 &&
		    v[strlen(value)] == '\n')
			return true;
	}
	return false;
}

/* The rc variables fwknop has for these options load, and save back. */
static void test_rc_variables(void **state)
{
	struct fixture *f = *state;
	struct spa_client_cfg c;
	char rc[300];
	char *text;

	snprintf(rc, sizeof(rc), "%s/fwknoprc", f->home);
	ct_write_file(rc, "[default]\nSPA_SERVER_PROTO tcpraw\n"
		      "SPOOF_SOURCE_IP 198.51.100.77\nWGET_CMD /usr/bin/wget\n"
		      "USE_WGET_USER_AGENT Y\n", 0600);
	spa_client_cfg_init(&c);
	assert_int_equal(spa_client_rc_load(rc, NULL, true, &c), 0);
	assert_int_equal(c.proto, SPA_CLIENT_PROTO_TCPRAW);
	assert_string_equal(c.spoof_src, "198.51.100.77");
	assert_string_equal(c.wget_cmd, "/usr/bin/wget");
	assert_true(c.use_wget_ua);
	spa_client_cfg_free(&c);

	/* --save-rc-stanza writes them under fwknop's names */
	assert_int_equal(ct_run(NULL, ARGS("--rc-file", rc, "-n", "raw",
					 "--save-rc-stanza", "-P", "icmp",
					 "--spoof-src", "198.51.100.78", "-w",
					 "/opt/wget", "--use-wget-user-agent",
					 "-A", "tcp/22", "-a", "198.51.100.9", "-T",
					 "--key-rijndael", ENC_KEY, "--no-save-args")), 0);
	text = ct_read_file(rc);
	assert_non_null(strstr(text, "[raw]\n"));
	assert_true(has_var(text, "SPA_SERVER_PROTO", "icmp"));
	assert_true(has_var(text, "SPOOF_SOURCE_IP", "198.51.100.78"));
	assert_true(has_var(text, "WGET_CMD", "/opt/wget"));
	assert_true(has_var(text, "USE_WGET_USER_AGENT", "Y"));
	free(text);
}

/* Sum over a buffer that includes its checksum field: 0 when it is right. */
static uint16_t verify(const uint8_t *b, size_t len, uint32_t sum)
{
	return spa_client_inet_csum(b, len, sum);
}

static uint32_t pseudo(const uint8_t *ip, uint8_t proto, size_t len)
{
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = proto;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	return (uint16_t)~spa_client_inet_csum(ph, sizeof(ph), 0);
}

static void test_raw_build(void **state)
{
	/* odd length on purpose: the last byte is padded in the checksum */
	static const char payload[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg";
	const size_t plen = sizeof(payload) - 1;
	struct spa_client_raw_hdr h = {
		.sport = 40001, .dport = 62201, .ip_id = 0x1234,
		.tcp_seq = 0xdeadbeef, .icmp_id = 0x4242, .icmp_type = 8,
		.icmp_code = 0,
	};
	uint8_t pkt[2048];
	int len;

	(void)state;
	assert_int_equal(inet_pton(AF_INET, "198.51.100.77", &h.src), 1);
	assert_int_equal(inet_pton(AF_INET, "198.51.100.2", &h.dst), 1);
	/* RFC 1071 example bytes: sum 0xddf2, checksum 0x220d */
	assert_int_equal(spa_client_inet_csum((const uint8_t[]){ 0x00, 0x01, 0xf2,
			 0x03, 0xf4, 0xf5, 0xf6, 0xf7 }, 8, 0), 0x220d);

	len = spa_client_raw_build(SPA_CLIENT_PROTO_UDPRAW, &h, payload, plen,
				   pkt, sizeof(pkt));
	assert_int_equal(len, 20 + 8 + (int)plen);
	assert_int_equal(pkt[0], 0x45);
	assert_int_equal(pkt[8], 255);
	assert_int_equal(pkt[9], IPPROTO_UDP);
	assert_int_equal(pkt[2] << 8 | pkt[3], len);
	assert_memory_equal(pkt + 12, &h.src, 4);
	assert_memory_equal(pkt + 16, &h.dst, 4);
	assert_int_equal(verify(pkt, 20, 0), 0);
	assert_int_equal(pkt[20] << 8 | pkt[21], 40001);
	assert_int_equal(pkt[22] << 8 | pkt[23], 62201);
	assert_int_equal(pkt[24] << 8 | pkt[25], 8 + plen);
	assert_true((pkt[26] | pkt[27]) != 0);
	assert_int_equal(verify(pkt + 20, 8 + plen, pseudo(pkt, 17, 8 + plen)), 0);
	assert_memory_equal(pkt + 28, payload, plen);

	len = spa_client_raw_build(SPA_CLIENT_PROTO_TCPRAW, &h, payload, plen,
				   pkt, sizeof(pkt));
	assert_int_equal(len, 20 + 20 + (int)plen);
	assert_int_equal(pkt[9], IPPROTO_TCP);
	assert_int_equal(verify(pkt, 20, 0), 0);
	assert_int_equal(pkt[32] >> 4, 5);       /* data offset */
	assert_int_equal(pkt[33], 0x02);         /* SYN only */
	assert_int_equal((uint32_t)pkt[24] << 24 | (uint32_t)pkt[25] << 16 |
			 (uint32_t)pkt[26] << 8 | pkt[27], 0xdeadbeefu);
	assert_int_equal(verify(pkt + 20, 20 + plen, pseudo(pkt, 6, 20 + plen)), 0);
	assert_memory_equal(pkt + 40, payload, plen);

	len = spa_client_raw_build(SPA_CLIENT_PROTO_ICMP, &h, payload, plen,
				   pkt, sizeof(pkt));
	assert_int_equal(len, 20 + 8 + (int)plen);
	assert_int_equal(pkt[9], IPPROTO_ICMP);
	assert_int_equal(verify(pkt, 20, 0), 0);
	assert_int_equal(pkt[20], 8);
	assert_int_equal(pkt[24] << 8 | pkt[25], 0x4242);
	assert_int_equal(pkt[26] << 8 | pkt[27], 1);
	assert_int_equal(verify(pkt + 20, 8 + plen, 0), 0);
	assert_memory_equal(pkt + 28, payload, plen);

	/* a flipped payload bit must show up as a bad checksum */
	pkt[30] ^= 0x10;
	assert_true(verify(pkt + 20, 8 + plen, 0) != 0);

	assert_true(spa_client_raw_build(SPA_CLIENT_PROTO_UDP, &h, payload, plen,
					 pkt, sizeof(pkt)) < 0);
	assert_true(spa_client_raw_build(SPA_CLIENT_PROTO_UDPRAW, &h, payload,
					 plen, pkt, 20 + 8 + plen - 1) < 0);
}

static int listen_tcp(char port[8])
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 2), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(port, 8, "%u", ntohs(sa.sin_port));
	return fd;
}

static size_t recv_all(int lfd, char *buf, size_t cap)
{
	size_t used = 0;
	int fd = accept(lfd, NULL, NULL);

	assert_true(fd >= 0);
	for (;;) {
		ssize_t n = recv(fd, buf + used, cap - 1 - used, MSG_DONTWAIT);

		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	return used;
}

static void test_http_proxy(void **state)
{
	struct fixture *f = *state;
	struct spa_key_spec spec = {
		.enc_key = (const uint8_t *)ENC_KEY,
		.enc_key_len = strlen(ENC_KEY),
		.hmac_key = (const uint8_t *)HMAC_KEY,
		.hmac_key_len = strlen(HMAC_KEY),
		.hmac_type = SPA_DIGEST_SHA512,
		.enc_mode = SPA_MODE_CBC,
	};
	const char *prefix = "GET http://spa.example/";
	char buf[4096], wire[2048], proxy[64], port[8];
	struct spa_keys *k = NULL;
	struct spa_message m;
	const char *end;
	size_t len;
	int lfd;

	(void)f;
	lfd = listen_tcp(port);
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%s", port);
	/* -P udp is overridden: a proxy means HTTP. The server name is never
	 * resolved by us, only by the proxy. */
	assert_int_equal(ct_run(NULL, ARGS("-H", proxy, "-P", "udp", "-D",
					 "spa.example", "-A", "tcp/22", "-a",
					 "198.51.100.9", "-u", "ProxyTest/2",
					 "--key-rijndael", ENC_KEY, "--key-hmac",
					 HMAC_KEY, "--hmac-digest-type", "sha512",
					 "--no-rc-file", "--no-save-args")), 0);
	assert_true(recv_all(lfd, buf, sizeof(buf)) > 0);
	close(lfd);
	assert_int_equal(strncmp(buf, prefix, strlen(prefix)), 0);
	end = strstr(buf, " HTTP/1.0\r\nUser-Agent: ProxyTest/2\r\nAccept: */*\r\n"
			  "Host: spa.example\r\nConnection: close\r\n\r\n");
	assert_non_null(end);
	assert_int_equal(strlen(end), strlen(" HTTP/1.0\r\nUser-Agent: ProxyTest/2"
		"\r\nAccept: */*\r\nHost: spa.example\r\nConnection: close\r\n\r\n"));
	len = (size_t)(end - buf) - strlen(prefix);
	assert_true(len > 0 && len < sizeof(wire));
	for (size_t i = 0; i < len; i++) {
		char ch = buf[strlen(prefix) + i];

		assert_true(ch != '+' && ch != '/' && ch != ' ');
		wire[i] = ch == '-' ? '+' : ch == '_' ? '/' : ch;
	}
	wire[len] = '\0';
	assert_int_equal(spa_keys_new(&spec, &k), 0);
	assert_int_equal(spa_packet_open(wire, len, k, &m), 0);
	spa_keys_free(k);
	assert_string_equal(m.message, "198.51.100.9,tcp/22");

	/* no port in -H: the -p port is used (fwknop does the same) */
	lfd = listen_tcp(port);
	assert_int_equal(ct_run(NULL, ARGS("-H", "127.0.0.1", "-p", port, "-D",
					 "198.51.100.2", "-A", "tcp/22", "-a",
					 "198.51.100.9", "--key-rijndael", ENC_KEY,
					 "--no-rc-file", "--no-save-args")), 0);
	assert_true(recv_all(lfd, buf, sizeof(buf)) > 0);
	close(lfd);
	assert_int_equal(strncmp(buf, "GET http://198.51.100.2/", 24), 0);
	assert_non_null(strstr(buf, "\r\nHost: 198.51.100.2\r\n"));
	assert_non_null(strstr(buf, "\r\nUser-Agent: Fwknop/2.6.10\r\n"));

	/* no listener: one error line and exit 1 */
	assert_int_equal(ct_run(NULL, ARGS("-H", "127.0.0.1:1", "-D", "spa.example",
					 "-A", "tcp/22", "-a", "198.51.100.9",
					 "--key-rijndael", ENC_KEY, "--no-rc-file",
					 "--no-save-args")), 1);
}

/* A stand-in wget: records its argv and environment, prints an address. */
static void test_wget_cmd(void **state)
{
	struct fixture *f = *state;
	char script[300], log[300], out[300], text[2048];
	char *got;

	snprintf(script, sizeof(script), "%s/fake-wget", f->home);
	snprintf(log, sizeof(log), "%s/wget.log", f->home);
	snprintf(out, sizeof(out), "%s/out.txt", f->home);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\n"
		 "for a in \"$@\"; do printf '[%%s]' \"$a\"; done > %s\n"
		 "printf '%%s,' \"${HOME:-nohome}\" >> %s\n"
		 "env | grep -c SPA_TEST_MARKER >> %s\n"
		 "printf '203.0.113.45\\n'\n", log, log, log);
	ct_write_file(script, text, 0700);
	setenv("SPA_TEST_MARKER", "leak", 1);

	assert_int_equal(ct_run(out, ARGS("-R", "-w", script, "-u", "UA/1",
					"--resolve-url", "https://myip.example/ip",
					"-A", "tcp/22", "-T", "-v",
					"--key-rijndael", ENC_KEY, "--no-rc-file",
					"--no-save-args")), 0);
	got = ct_read_file(log);
	/* nothing comes from our environment (HOME and the marker are set) */
	assert_string_equal(got, "[-U][UA/1][--secure-protocol=auto][--quiet][-O][-]"
			    "[https://myip.example/ip]nohome,0\n");
	free(got);
	got = ct_read_file(out);
	assert_non_null(strstr(got, "203.0.113.45,tcp/22"));
	free(got);

	/* --use-wget-user-agent drops -U */
	assert_int_equal(ct_run(NULL, ARGS("-R", "-w", script, "--use-wget-user-agent",
					 "--resolve-url", "https://myip.example/ip",
					 "-A", "tcp/22", "-T", "--key-rijndael", ENC_KEY,
					 "--no-rc-file", "--no-save-args")), 0);
	got = ct_read_file(log);
	assert_int_equal(strncmp(got, "[--secure-protocol=auto]", 24), 0);
	free(got);
	unsetenv("SPA_TEST_MARKER");

	/* a wget that fails or prints garbage fails the run */
	ct_write_file(script, "#!/bin/sh\necho 'not an address'\n", 0700);
	assert_int_equal(ct_run(NULL, ARGS("-R", "-w", script, "-A", "tcp/22", "-T",
					 "--key-rijndael", ENC_KEY, "--no-rc-file",
					 "--no-save-args")), 1);
	ct_write_file(script, "#!/bin/sh\necho 203.0.113.45; exit 4\n", 0700);
	assert_int_equal(ct_run(NULL, ARGS("-R", "-w", script, "-A", "tcp/22", "-T",
					 "--key-rijndael", ENC_KEY, "--no-rc-file",
					 "--no-save-args")), 1);
	assert_int_equal(ct_run(NULL, ARGS("-R", "-w", "/nonexistent/wget", "-A",
					 "tcp/22", "-T", "--key-rijndael", ENC_KEY,
					 "--no-rc-file", "--no-save-args")), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxy_parse),
		cmocka_unit_test_setup_teardown(test_option_values, setup, teardown),
		cmocka_unit_test(test_raw_build),
		cmocka_unit_test_setup_teardown(test_rc_variables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_proxy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wget_cmd, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
