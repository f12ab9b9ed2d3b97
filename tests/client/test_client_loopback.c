/* SPDX-License-Identifier: MIT */
/*
 * End to end over loopback: spa-client sends to a socket of this test, and
 * the packet is opened again with the wire library. UDP (IPv4, IPv6), TCP
 * and HTTP transports, message types, -B/-b, -l and ~/.fwknop.run.
 */
#include "client_test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define ENC_KEY "loopback-key"
#define HMAC_KEY "loopback-hmac-key"

struct fixture {
	char home[256];
	int fd;
	char port[8];
};

static int listen_on(int family, int type, char port[8])
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof(ss));
	fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*s4);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 4) < 0) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		close(fd);
		return -1;
	}
	snprintf(port, 8, "%u", ntohs(family == AF_INET6 ?
				      ((struct sockaddr_in6 *)&ss)->sin6_port :
				      ((struct sockaddr_in *)&ss)->sin_port));
	return fd;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	ct_mkdtemp(f->home, sizeof(f->home));
	setenv("HOME", f->home, 1);
	f->fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->fd >= 0)
		close(f->fd);
	ct_rmtree(f->home);
	free(f);
	return 0;
}

static void open_packet(const char *wire, size_t len, struct spa_message *m,
			int hmac_type, int mode)
{
	struct spa_key_spec spec = {
		.enc_key = (const uint8_t *)ENC_KEY,
		.enc_key_len = strlen(ENC_KEY),
		.hmac_key = (const uint8_t *)HMAC_KEY,
		.hmac_key_len = strlen(HMAC_KEY),
		.hmac_type = hmac_type,
		.enc_mode = mode,
	};
	struct spa_keys *k = NULL;

	assert_int_equal(spa_keys_new(&spec, &k), 0);
	assert_int_equal(spa_packet_open(wire, len, k, m), 0);
	spa_keys_free(k);
}

static size_t recv_udp(int fd, char *buf, size_t cap)
{
	ssize_t n = recv(fd, buf, cap - 1, MSG_DONTWAIT);

	assert_true(n > 0);
	buf[n] = '\0';
	return (size_t)n;
}

static size_t recv_stream(int lfd, char *buf, size_t cap)
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

static void check_recent(uint64_t ts, int64_t offset)
{
	int64_t now = (int64_t)time(NULL) + offset;

	assert_true((int64_t)ts >= now - 5 && (int64_t)ts <= now + 5);
}

static void test_udp4(void **state)
{
	struct fixture *f = *state;
	char buf[2048];
	struct spa_message m;
	size_t n;

	f->fd = listen_on(AF_INET, SOCK_DGRAM, f->port);
	assert_true(f->fd >= 0);
	assert_int_equal(ct_run(NULL, ARGS("-D", "127.0.0.1", "-p", f->port, "-A",
					 "tcp/22,udp/53", "-a", "203.0.113.7", "-U",
					 "alice", "-f", "30", "-m", "sha512",
					 "--hmac-digest-type", "sha384", "-M", "cfb",
					 "--key-rijndael", ENC_KEY, "--key-hmac",
					 HMAC_KEY, "--no-rc-file", "--no-save-args")), 0);
	n = recv_udp(f->fd, buf, sizeof(buf));
	assert_null(strchr(buf, '\n'));
	open_packet(buf, n, &m, SPA_DIGEST_SHA384, SPA_MODE_CFB);
	assert_string_equal(m.message, "203.0.113.7,tcp/22,udp/53");
	assert_string_equal(m.username, "alice");
	assert_int_equal(m.type, SPA_MSG_CLIENT_TIMEOUT_ACCESS);
	assert_int_equal(m.client_timeout, 30);
	assert_int_equal(m.digest_type, SPA_DIGEST_SHA512);
	assert_string_equal(m.version, "3.0.0");
	check_recent(m.timestamp, 0);
}

static void test_udp6(void **state)
{
	struct fixture *f = *state;
	char buf[2048];
	struct spa_message m;
	size_t n;

	f->fd = listen_on(AF_INET6, SOCK_DGRAM, f->port);
	if (f->fd < 0) {
		printf("SKIP: no IPv6 loopback\n");
		return;
	}
	assert_int_equal(ct_run(NULL, ARGS("-6", "-D", "::1", "-p", f->port, "-A",
					 "udp/500", "-s", "--key-rijndael", ENC_KEY,
					 "--key-hmac", HMAC_KEY, "--no-rc-file",
					 "--no-save-args", "--time-offset-minus", "1h")), 0);
	n = recv_udp(f->fd, buf, sizeof(buf));
	open_packet(buf, n, &m, SPA_DIGEST_SHA256, SPA_MODE_CBC);
	assert_string_equal(m.message, "0.0.0.0,udp/500");
	assert_int_equal(m.type, SPA_MSG_ACCESS);
	check_recent(m.timestamp, -3600);
	/* -4 with an IPv6 literal cannot resolve. */
	assert_int_equal(ct_run(NULL, ARGS("-4", "-D", "::1", "-p", f->port, "-A",
					 "udp/500", "-s", "--key-rijndael", ENC_KEY,
					 "--no-rc-file", "--no-save-args")), 1);
}

static void test_tcp_nat(void **state)
{
	struct fixture *f = *state;
	char buf[2048];
	struct spa_message m;
	size_t n;

	f->fd = listen_on(AF_INET, SOCK_STREAM, f->port);
	assert_true(f->fd >= 0);
	assert_int_equal(ct_run(NULL, ARGS("-P", "tcp", "-D", "127.0.0.1", "-p", f->port,
					 "-A", "tcp/22", "-a", "203.0.113.8", "-N",
					 "192.0.2.9:22", "--nat-port", "5555",
					 "--key-rijndael", ENC_KEY, "--key-hmac",
					 HMAC_KEY, "--no-rc-file", "--no-save-args")), 0);
	n = recv_stream(f->fd, buf, sizeof(buf));
	open_packet(buf, n, &m, SPA_DIGEST_SHA256, SPA_MODE_CBC);
	assert_int_equal(m.type, SPA_MSG_NAT_ACCESS);
	assert_string_equal(m.message, "203.0.113.8,tcp/5555");
	assert_string_equal(m.nat_access, "192.0.2.9,22");
}

static void test_http_command(void **state)
{
	struct fixture *f = *state;
	char buf[4096], wire[2048];
	struct spa_message m;
	const char *path_end;
	size_t n, len;

	f->fd = listen_on(AF_INET, SOCK_STREAM, f->port);
	assert_true(f->fd >= 0);
	assert_int_equal(ct_run(NULL, ARGS("-P", "http", "-u", "TestAgent/1", "-D",
					 "127.0.0.1", "-p", f->port, "-C",
					 "echo hello world", "-a", "203.0.113.9",
					 "--key-rijndael", ENC_KEY, "--key-hmac",
					 HMAC_KEY, "--no-rc-file", "--no-save-args")), 0);
	n = recv_stream(f->fd, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(strncmp(buf, "GET /", 5), 0);
	path_end = strstr(buf, " HTTP/1.0\r\n");
	assert_non_null(path_end);
	assert_non_null(strstr(buf, "\r\nUser-Agent: TestAgent/1\r\n"));
	assert_non_null(strstr(buf, "\r\nHost: 127.0.0.1\r\n"));
	assert_non_null(strstr(buf, "\r\nConnection: close\r\n\r\n"));
	len = (size_t)(path_end - buf) - 5;
	assert_true(len < sizeof(wire));
	for (size_t i = 0; i < len; i++) {
		char ch = buf[5 + i];

		assert_true(ch != '+' && ch != '/');
		wire[i] = ch == '-' ? '+' : ch == '_' ? '/' : ch;
	}
	wire[len] = '\0';
	open_packet(wire, len, &m, SPA_DIGEST_SHA256, SPA_MODE_CBC);
	assert_int_equal(m.type, SPA_MSG_COMMAND);
	assert_string_equal(m.message, "203.0.113.9,echo hello world");
}

static void test_save_packet_and_last_cmd(void **state)
{
	struct fixture *f = *state;
	char rc[300], run[300], pkt[300], out[300], buf[2048];
	char *text;
	struct spa_message m;
	struct stat st;
	size_t n1, n2;

	f->fd = listen_on(AF_INET, SOCK_DGRAM, f->port);
	assert_true(f->fd >= 0);
	snprintf(rc, sizeof(rc), "%s/.fwknoprc", f->home);
	snprintf(run, sizeof(run), "%s/.fwknop.run", f->home);
	snprintf(pkt, sizeof(pkt), "%s/packets", f->home);
	snprintf(out, sizeof(out), "%s/stdout", f->home);
	ct_write_file(rc, "[default]\nHMAC_KEY " HMAC_KEY "\n", 0600);

	/* The key comes from the command line and must not be saved. */
	assert_int_equal(ct_run(NULL, ARGS("-D", "127.0.0.1", "-p", f->port, "-A",
					 "tcp/22", "-a", "203.0.113.10",
					 "--key-rijndael", ENC_KEY, "-B", pkt)), 0);
	n1 = recv_udp(f->fd, buf, sizeof(buf));
	assert_int_equal(stat(run, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	text = ct_read_file(run);
	assert_null(strstr(text, ENC_KEY));
	assert_non_null(strstr(text, "-A tcp/22 "));
	free(text);
	text = ct_read_file(pkt);
	assert_int_equal(strlen(text), n1 + 1);
	assert_memory_equal(text, buf, n1);
	assert_int_equal(text[n1], '\n');
	free(text);

	/* -l replays the saved line, which has no key: the rc file gives it. */
	ct_write_file(rc, "[default]\nKEY " ENC_KEY "\nHMAC_KEY " HMAC_KEY "\n", 0600);
	assert_int_equal(ct_run(NULL, ARGS("-l", "-b")), 0);
	n2 = recv_udp(f->fd, buf, sizeof(buf));
	open_packet(buf, n2, &m, SPA_DIGEST_SHA256, SPA_MODE_CBC);
	assert_string_equal(m.message, "203.0.113.10,tcp/22");
	/* -l ignores the other arguments (fwknop does too), so -B from the
	 * saved line truncated the packet file again. */
	text = ct_read_file(pkt);
	assert_int_equal(strlen(text), n2 + 1);
	free(text);

	assert_int_equal(ct_run(out, ARGS("--show-last")), 0);
	text = ct_read_file(out);
	assert_non_null(strstr(text, "-D 127.0.0.1 "));
	assert_null(strstr(text, ENC_KEY));
	free(text);

	/* -b appends. */
	assert_int_equal(ct_run(NULL, ARGS("-D", "127.0.0.1", "-p", f->port, "-A",
					 "tcp/22", "-a", "203.0.113.10", "-B", pkt,
					 "-b", "--no-save-args")), 0);
	n1 = recv_udp(f->fd, buf, sizeof(buf));
	text = ct_read_file(pkt);
	assert_int_equal(strlen(text), n2 + 1 + n1 + 1);
	free(text);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	char rc[300];

	(void)f;
	assert_int_equal(ct_run(NULL, ARGS("-D", "no-such-host.invalid", "-A", "tcp/22",
					 "-a", "203.0.113.1", "--key-rijndael", "x",
					 "--no-rc-file", "--no-save-args")), 1);
	assert_int_equal(ct_run(NULL, ARGS("-A", "tcp/22", "-a", "203.0.113.1",
					 "--key-rijndael", "x", "--no-rc-file",
					 "--no-save-args")), 1);   /* no -D */
	assert_int_equal(ct_run(NULL, ARGS("-T", "-A", "tcp/22", "--key-rijndael",
					 "x", "--no-rc-file", "--no-save-args")), 1);
	assert_int_equal(ct_run(NULL, ARGS("-T", "-a", "203.0.113.1",
					 "--key-rijndael", "x", "--no-rc-file",
					 "--no-save-args")), 1);   /* no -A */
	assert_int_equal(ct_run(NULL, ARGS("-T", "-A", "tcp/22,udp/53", "-a",
					 "203.0.113.1", "-N", "192.0.2.1:22",
					 "--key-rijndael", "x", "--no-rc-file",
					 "--no-save-args")), 1);   /* NAT + 2 ports */
	snprintf(rc, sizeof(rc), "%s/.fwknoprc", f->home);
	ct_write_file(rc, "[default]\n", 0644);
	assert_int_equal(ct_run(NULL, ARGS("-T", "-A", "tcp/22", "-a", "203.0.113.1",
					 "--key-rijndael", "x", "--no-save-args")), 1);
	/* and the same run works once the file is private */
	chmod(rc, 0600);
	assert_int_equal(ct_run(NULL, ARGS("-T", "-A", "tcp/22", "-a", "203.0.113.1",
					 "--key-rijndael", "x", "--no-save-args",
					 "-n", "missing")), 1);
	assert_int_equal(ct_run(NULL, ARGS("-T", "-A", "tcp/22", "-a", "203.0.113.1",
					 "--key-rijndael", "x", "--no-save-args")), 0);
}

/* A one-shot "what is my IP" server in a child; it exits 0 only if the
 * request looked right. */
static pid_t myip_server(int lfd, const char *reply)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char req[2048] = "";
		size_t used = 0;
		int fd = accept(lfd, NULL, NULL), ok;

		if (fd < 0)
			_exit(2);
		while (used + 1 < sizeof(req) && !strstr(req, "\r\n\r\n")) {
			ssize_t n = recv(fd, req + used, sizeof(req) - 1 - used, 0);

			if (n <= 0)
				break;
			used += (size_t)n;
			req[used] = '\0';
		}
		ok = strncmp(req, "GET /myip HTTP/1.0\r\n", 20) == 0 &&
		     strstr(req, "\r\nHost: 127.0.0.1:") != NULL &&
		     strstr(req, "\r\nUser-Agent: Fwknop/2.6.10\r\n") != NULL;
		if (send(fd, reply, strlen(reply), MSG_NOSIGNAL) < 0)
			ok = 0;
		close(fd);
		_exit(ok ? 0 : 3);
	}
	return pid;
}

static void test_resolve_ip(void **state)
{
	struct fixture *f = *state;
	char url[64], out[300];
	char *text;
	int status;
	pid_t pid;
	static const char *const bad[] = {
		"HTTP/1.1 200 OK\r\n\r\n203.0.113.300\n",
		"HTTP/1.1 301 Moved\r\nLocation: http://198.51.100.9/\r\n\r\n",
		"HTTP/1.1 200 OK\r\n\r\n<b>203.0.113.77</b>\n",
	};

	f->fd = listen_on(AF_INET, SOCK_STREAM, f->port);
	assert_true(f->fd >= 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%s/myip", f->port);
	snprintf(out, sizeof(out), "%s/out", f->home);
	pid = myip_server(f->fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			  "\r\n203.0.113.77\n");
	assert_int_equal(ct_run(out, ARGS("-T", "-v", "--resolve-url", url, "-A",
					"tcp/22", "--key-rijndael", "x",
					"--no-rc-file", "--no-save-args")), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	text = ct_read_file(out);
	assert_non_null(strstr(text, "Message String: 203.0.113.77,tcp/22\n"));
	free(text);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pid = myip_server(f->fd, bad[i]);
		assert_int_equal(ct_run(NULL, ARGS("-T", "--resolve-url", url, "-A",
						 "tcp/22", "--key-rijndael", "x",
						 "--no-rc-file", "--no-save-args")), 1);
		assert_int_equal(waitpid(pid, &status, 0), pid);
	}
	/* Nobody listening: an error, not a hang. */
	close(f->fd);
	f->fd = -1;
	assert_int_equal(ct_run(NULL, ARGS("-T", "--resolve-url", url, "-A", "tcp/22",
					 "--key-rijndael", "x", "--no-rc-file",
					 "--no-save-args")), 1);
}

static void test_argv_keys_hidden(void **state)
{
	char a0[] = "spa-client", a1[] = "-T", a2[] = "-A", a3[] = "tcp/22",
	     a4[] = "-a", a5[] = "203.0.113.2", a6[] = "--key-rijndael",
	     a7[] = "argv-secret", a8[] = "--key-hmac=argv-hmac",
	     a9[] = "--no-save-args", a10[] = "--no-rc-file";
	char *argv[] = { a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, NULL };
	int saved = dup(STDOUT_FILENO);
	FILE *null = fopen("/dev/null", "w");
	int rc;

	(void)state;
	assert_true(saved >= 0 && null);
	fflush(stdout);
	dup2(fileno(null), STDOUT_FILENO);
	rc = spa_client_main(11, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	fclose(null);
	assert_int_equal(rc, 0);
	for (int i = 0; argv[i]; i++) {
		assert_null(strstr(argv[i], "argv-secret"));
		assert_null(strstr(argv[i], "argv-hmac"));
	}
	assert_string_equal(a5, "203.0.113.2");   /* others untouched */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_udp4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_nat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_packet_and_last_cmd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test(test_argv_keys_hidden),
		cmocka_unit_test_setup_teardown(test_resolve_ip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
