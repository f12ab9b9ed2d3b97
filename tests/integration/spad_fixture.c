/* SPDX-License-Identifier: MIT */
#include "spad_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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

extern char **environ;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

uint16_t fx_free_port(int type)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, type, 0);
	uint16_t port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		abort();
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static struct spa_keys *make_keys(const char *key_b64, const char *hmac_b64)
{
	uint8_t key[64], hmac[160];
	size_t klen, hlen;
	struct spa_key_spec spec = { 0 };
	struct spa_keys *k = NULL;

	if (spa_key_from_base64(key_b64, key, sizeof(key), &klen) < 0 ||
	    spa_key_from_base64(hmac_b64, hmac, sizeof(hmac), &hlen) < 0)
		abort();
	spec.enc_key = key;
	spec.enc_key_len = klen;
	spec.hmac_key = hmac;
	spec.hmac_key_len = hlen;
	spec.hmac_type = SPA_DIGEST_SHA256;
	spec.enc_mode = SPA_MODE_CBC;
	if (spa_keys_new(&spec, &k) < 0)
		abort();
	return k;
}

void fx_init(struct fx *f, const char *spad, const char *plugin_dir)
{
	char body[16384];

	memset(f, 0, sizeof(*f));
	f->spad = spad;
	f->plugin_dir = plugin_dir;
	f->pid = -1;
	th_tmpdir(f->dir, sizeof(f->dir));
	f->port = fx_free_port(SOCK_DGRAM);
	snprintf(f->calls, sizeof(f->calls), "%s/calls.log", f->dir);
	snprintf(f->log, sizeof(f->log), "%s/spad.log", f->dir);
	snprintf(f->run, sizeof(f->run), "%s/run", f->dir);
	snprintf(f->json, sizeof(f->json), "%s/decisions.json", f->dir);
	snprintf(body, sizeof(body),
		 "ENABLE_UDP_SERVER Y\n"
		 "UDPSERV_PORT %u\n"
		 "FIREWALL_TYPE recorder\n"
		 "PLUGIN_DIR %s\n"
		 "FWKNOP_RUN_DIR %s\n"
		 "RECORDER_FILE %s\n"
		 "MAX_SPA_PACKET_AGE 120\n"
		 "SPA_JSON_LOG %s\n",
		 f->port, plugin_dir, f->run, f->calls, f->json);
	th_write(f->dir, "fwknopd.conf", body, f->conf, sizeof(f->conf));
	fx_write_access(f, "");
	f->keys = make_keys(FX_KEY_B64, FX_HMAC_B64);
	f->wrong = make_keys("d3Jvbmcta2V5", "b3RoZXItaG1hYy1rZXk=");
}

void fx_write_access(struct fx *f, const char *extra)
{
	char body[4096];

	snprintf(body, sizeof(body),
		 "# the only stanza\n"
		 "SOURCE 127.0.0.0/8\n"
		 "KEY_BASE64 %s\n"
		 "HMAC_KEY_BASE64 %s\n"
		 "OPEN_PORTS tcp/22, tcp/80, tcp/443, tcp/8443, tcp/2222, tcp/23, udp/53\n"
		 "RESTRICT_PORTS tcp/23\n"
		 "FW_ACCESS_TIMEOUT 2\n"
		 "MAX_FW_TIMEOUT 60\n"
		 "%s",
		 FX_KEY_B64, FX_HMAC_B64, extra);
	th_write(f->dir, "access.conf", body, f->access, sizeof(f->access));
}

void fx_free(struct fx *f)
{
	if (f->pid > 0)
		fx_stop(f, SIGKILL);
	spa_keys_free(f->keys);
	spa_keys_free(f->wrong);
	/* SPA_TEST_KEEP=1: the logs and state stay for a post-mortem */
	if (getenv("SPA_TEST_KEEP"))
		fprintf(stderr, "kept %s\n", f->dir);
	else
		th_rmrf(f->dir);
}

struct fx *fx_new(const char *spad, const char *plugin_dir)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f)
		fx_init(f, spad, plugin_dir);
	return f;
}

void fx_delete(struct fx *f)
{
	if (!f)
		return;
	fx_free(f);
	free(f);
}

void fx_append_conf(struct fx *f, const char *lines)
{
	FILE *out = fopen(f->conf, "a");

	if (!out)
		abort();
	fputs(lines, out);
	fclose(out);
}

bool fx_start(struct fx *f)
{
	posix_spawn_file_actions_t fa;
	const char *argv[] = { f->spad, "-f", "-U", "-v", "-c", f->conf, "-a", f->access, NULL };
	int before = fx_count(f->log, "listening on UDP");

	if (f->quiet)
		argv[3] = "-f"; /* a repeated -f keeps argv's shape */

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, f->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, f->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (posix_spawn(&f->pid, f->spad, &fa, NULL, (char *const *)argv, environ) != 0)
		f->pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	if (f->pid < 0)
		return false;
	return fx_wait_for(f->log, "listening on UDP", before + 1, FX_WAIT_MS);
}

int fx_stop(struct fx *f, int sig)
{
	int status = -1;

	if (f->pid <= 0)
		return -1;
	kill(f->pid, sig);
	for (int i = 0; i < FX_WAIT_MS / 10; i++) {
		pid_t r = waitpid(f->pid, &status, WNOHANG);
		if (r == f->pid)
			break;
		sleep_ms(10);
		if (i == FX_WAIT_MS / 10 - 1) {
			kill(f->pid, SIGKILL);
			waitpid(f->pid, &status, 0);
		}
	}
	f->pid = -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

size_t fx_build(struct fx *f, const struct spa_keys *k, const char *user, const char *msg,
		int64_t ts_offset, uint32_t client_timeout, char *out)
{
	struct spa_message m;
	size_t len = 0;
	(void)f;

	if (spa_message_init(&m) < 0)
		abort();
	snprintf(m.username, sizeof(m.username), "%s", user);
	m.timestamp = (uint64_t)((int64_t)time(NULL) + ts_offset);
	snprintf(m.message, sizeof(m.message), "%s", msg);
	m.client_timeout = client_timeout;
	m.type = SPA_MSG_ACCESS;
	if (spa_packet_build(&m, k, NULL, out, SPA_WIRE_CAP, &len) < 0)
		abort();
	return len;
}

int fx_count(const char *path, const char *needle)
{
	char *text = th_read(path);
	int n = th_count(text, needle);

	free(text);
	return n;
}

bool fx_wait_for(const char *path, const char *needle, int n, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		if (fx_count(path, needle) >= n)
			return true;
		sleep_ms(10);
	}
	return false;
}

static void last_line_with(const char *path, const char *needle, char *out, size_t cap)
{
	char *text = th_read(path), *p, *hit = NULL, *end;

	out[0] = '\0';
	if (!text)
		return;
	for (p = text; (p = strstr(p, needle)); p++)
		hit = p;
	if (hit) {
		while (hit > text && hit[-1] != '\n')
			hit--;
		end = strchr(hit, '\n');
		snprintf(out, cap, "%.*s", end ? (int)(end - hit) : (int)strlen(hit), hit);
	}
	free(text);
}

bool fx_send_raw(const struct fx *f, const char *data, size_t len, bool ipv6)
{
	int fd = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	ssize_t sent;

	if (fd < 0)
		return false;
	if (ipv6) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(f->port),
					  .sin6_addr = IN6ADDR_LOOPBACK_INIT };
		sent = sendto(fd, data, len, 0, (struct sockaddr *)&a, sizeof(a));
	} else {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(f->port) };
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sent = sendto(fd, data, len, 0, (struct sockaddr *)&a, sizeof(a));
	}
	close(fd);
	return sent == (ssize_t)len;
}

int fx_opened(const struct fx *f, const char *what)
{
	char *text = th_read(f->calls), *line, *save = NULL;
	int n = 0;

	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "open ", 5) == 0 && strstr(line, what))
			n++;
	free(text);
	return n;
}

const char *fx_next_decision(struct fx *f, int before)
{
	static char line[1024];

	line[0] = '\0';
	if (fx_wait_for(f->log, "decision=", before + 1, FX_WAIT_MS))
		last_line_with(f->log, "decision=", line, sizeof(line));
	return line;
}

const char *fx_send(struct fx *f, const char *data, size_t len, bool ipv6)
{
	int before = fx_count(f->log, "decision=");

	if (!fx_send_raw(f, data, len, ipv6))
		return "";
	return fx_next_decision(f, before);
}

/* "spad <opt> -c conf -a access", its stdout and stderr to out (opened
 * with O_APPEND or O_TRUNC as `mode` says). */
static int run_cli(struct fx *f, const char *opt, const char *out, int mode)
{
	const char *argv[] = { f->spad, opt, "-c", f->conf, "-a", f->access, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | mode, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, out, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (posix_spawn(&pid, f->spad, &fa, NULL, (char *const *)argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int fx_run(struct fx *f, const char *const *extra)
{
	const char *argv[24] = { f->spad, "-f", "-v", "-c", f->conf, "-a", f->access };
	posix_spawn_file_actions_t fa;
	size_t n = 7;
	pid_t pid;
	int status;

	for (; *extra && n < 23; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, f->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, f->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (posix_spawn(&pid, f->spad, &fa, NULL, (char *const *)argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int fx_cli(struct fx *f, const char *opt)
{
	return run_cli(f, opt, f->log, O_APPEND);
}

char *fx_cli_out(struct fx *f, const char *opt, int *status)
{
	char path[4200];
	int rc;

	snprintf(path, sizeof(path), "%s/cli.out", f->dir);
	rc = run_cli(f, opt, path, O_TRUNC);
	if (status)
		*status = rc;
	return th_read(path);
}

long fx_wakeups(struct fx *f)
{
	char path[64], line[256];
	const char *key = "voluntary_ctxt_switches:";
	FILE *in;
	long n = -1;

	/* /proc files have no size, so read them line by line */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)f->pid);
	in = fopen(path, "r");
	if (!in)
		return -1;
	while (fgets(line, sizeof(line), in))
		if (strncmp(line, key, strlen(key)) == 0)
			n = strtol(line + strlen(key), NULL, 10);
	fclose(in);
	return n;
}
