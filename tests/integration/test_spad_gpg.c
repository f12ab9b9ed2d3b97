/* SPDX-License-Identifier: MIT */
/*
 * test_spad_gpg.c - GnuPG knocks through the real spad (docs/GNUPG.md,
 * "spad: decisions at run time"): the real gpg with throwaway keys
 * (tests/unit/gpg_home.c), spad over loopback UDP with the recorder plugin,
 * and Debian's fwknop client 2.6.10 and our spa-client signing with and
 * without an HMAC.
 * Packets built here with spa_gpg_build give the refusals: unsigned, a
 * signer not listed, a wrong recipient, a corrupted message, an expired and
 * a revoked signing key, replays (the same bytes, and the same message
 * spelled another way), and a flood of well-framed GnuPG garbage without an
 * HMAC while a Rijndael knock still opens. The GnuPG helper must be gone
 * once spad stops.
 *
 * argv: spad, plugin dir, gpg, fwknop ("none" when not installed),
 * spa-client (optional).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "gpg_home.h"
#include "pcap_frames.h"
#include "spad_fixture.h"

#define DLT_EN10MB 1

#define GPG_HMAC "gpg-hmac-key-for-the-spad-test"


static const char *spad_path, *plugin_dir, *gpg_path, *fwknop_path, *spa_client_path;
static struct gpg_env env;
static struct fx *fx;
static struct spa_keys *hmac_keys;
static int helper_pid;
/* stanza labels: 2 is the fixture's Rijndael stanza */
static int line_plain, line_hmac;

static int group_setup(void **state)
{
	char conf[2048], access[4096];
	struct spa_key_spec ks = { .enc_mode = SPA_MODE_ASYMMETRIC,
				   .hmac_key = (const uint8_t *)GPG_HMAC,
				   .hmac_key_len = sizeof(GPG_HMAC) - 1,
				   .hmac_type = SPA_DIGEST_SHA256 };
	const char *pid;
	char *log;
	int rc;

	(void)state;
	rc = gh_setup(&env, gpg_path, true);
	if (rc != 0)
		return rc == 77 ? 0 : -1;
	if (spa_keys_new(&ks, &hmac_keys) < 0)
		return -1;
	fx = fx_new(spad_path, plugin_dir);
	if (!fx)
		return -1;
	snprintf(conf, sizeof(conf),
		 "GPG_HOME_DIR %s\nGPG_EXE %s\nGPG_MAX_CONCURRENT 2\nGPG_MAX_PER_SECOND 5\n"
		 /* back-to-back knocks without HMAC: no time share (spa_gpgq.h) */
		 "GPG_MAX_BUSY_PERCENT 100\n",
		 env.server, env.gpg);
	fx_append_conf(fx, conf);
	/* the fixture's stanza has 7 lines from line 2 on */
	line_plain = 9;
	line_hmac = line_plain + 7;
	snprintf(access, sizeof(access),
		 "SOURCE 127.0.0.0/8\n"
		 "GPG_DECRYPT_ID %s\n"
		 "GPG_DECRYPT_PW " GH_SERVER_PW "\n"
		 "GPG_FINGERPRINT_ID %s, %s, %s\n"
		 "OPEN_PORTS tcp/22\n"
		 "FW_ACCESS_TIMEOUT 2\n"
		 "MAX_FW_TIMEOUT 60\n"
		 "SOURCE 127.0.0.0/8\n"
		 "GPG_DECRYPT_ID %s\n"
		 "GPG_DECRYPT_PW " GH_SERVER_PW "\n"
		 "GPG_FINGERPRINT_ID %s\n"
		 "HMAC_KEY " GPG_HMAC "\n"
		 "OPEN_PORTS tcp/443\n"
		 "FW_ACCESS_TIMEOUT 2\n",
		 env.server_fpr, env.client_fpr, env.expiring_fpr, env.revoked_fpr,
		 env.server_fpr, env.client_fpr);
	fx_write_access(fx, access);
	if (!fx_start(fx)) {
		log = th_read(fx->log);
		fprintf(stderr, "spad did not start:\n%s\n", log ? log : "");
		free(log);
		return -1;
	}
	if (!fx_wait_for(fx->log, "GnuPG: helper pid ", 1, FX_WAIT_MS))
		return -1;
	log = th_read(fx->log);
	pid = log ? strstr(log, "GnuPG: helper pid ") : NULL;
	helper_pid = pid ? atoi(pid + strlen("GnuPG: helper pid ")) : 0;
	free(log);
	return helper_pid > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	fx_delete(fx);
	spa_keys_free(hmac_keys);
	gh_teardown(&env);
	return 0;
}

static void need_gpg(void)
{
	if (!env.root[0]) {
		printf("SKIP: gpg not installed\n");
		skip();
	}
}

static void stanza_is(const char *line, int n)
{
	char want[40];

	snprintf(want, sizeof(want), "stanza=access.conf:%d ", n);
	if (!strstr(line, want))
		fail_msg("want %s in: %s", want, line);
}

static void has(const char *line, const char *what)
{
	if (!strstr(line, what))
		fail_msg("want '%s' in: %s", what, line);
}

/* A GnuPG packet built here: to recipient, signed by signer (NULL: not). */
static size_t build(const char *recipient, const char *signer, bool hmac, const char *access,
		    char *out)
{
	struct spa_gpg_opts o = { .home_dir = env.client, .gpg_exe = env.gpg };
	struct spa_message m;
	size_t len = 0;
	int rc;

	assert_int_equal(spa_message_init(&m), 0);
	snprintf(m.username, sizeof(m.username), "alice");
	m.timestamp = (uint64_t)time(NULL);
	m.type = SPA_MSG_ACCESS;
	snprintf(m.message, sizeof(m.message), "%s", access);
	rc = spa_gpg_build(&o, recipient, signer, &m, hmac ? hmac_keys : NULL, out, SPA_WIRE_CAP,
			   &len, NULL);
	if (rc != 0)
		fail_msg("spa_gpg_build: %s", spa_strerror(rc));
	return len;
}

/* A client (Debian's fwknop or our spa-client: the same options) sends to
 * spad; returns the decision line. */
static const char *client_knock(const char *client, const char *signer, bool hmac,
				const char *port_spec)
{
	char dir[64], home[96], port[8];
	char *argv[32], *envp[] = { home, "PATH=/usr/bin:/bin", NULL };
	posix_spawn_file_actions_t fa;
	int before = fx_count(fx->log, "decision="), status = -1;
	size_t n = 0;
	pid_t pid;
	static char line[1024];

	th_tmpdir(dir, sizeof(dir));
	/* fwknop writes ~/.fwknop.run */
	snprintf(home, sizeof(home), "HOME=%s", dir);
	snprintf(port, sizeof(port), "%u", fx->port);
	argv[n++] = (char *)client;
	argv[n++] = "-A";
	argv[n++] = (char *)port_spec;
	argv[n++] = "-a";
	argv[n++] = "198.51.100.7";
	argv[n++] = "-D";
	argv[n++] = "127.0.0.1";
	argv[n++] = "-p";
	argv[n++] = port;
	argv[n++] = "--no-rc-file";
	argv[n++] = "-g";
	argv[n++] = "--gpg-recipient-key";
	argv[n++] = env.server_fpr;
	argv[n++] = "--gpg-home-dir";
	argv[n++] = env.client;
	argv[n++] = "--gpg-exe";
	argv[n++] = env.gpg;
	if (signer) {
		argv[n++] = "--gpg-signer-key";
		argv[n++] = (char *)signer;
		argv[n++] = "--gpg-no-signing-pw";
	}
	if (hmac) {
		argv[n++] = "--key-hmac";
		argv[n++] = GPG_HMAC;
	}
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, client, &fa, NULL, argv, envp) == 0)
		waitpid(pid, &status, 0);
	posix_spawn_file_actions_destroy(&fa);
	th_rmrf(dir);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s failed (status %d)", client, status);
	line[0] = '\0';
	if (fx_wait_for(fx->log, "decision=", before + 1, FX_WAIT_MS)) {
		char *log = th_read(fx->log), *p = log, *hit = NULL;

		while (p && (p = strstr(p, "decision=")))
			hit = p++;
		if (hit)
			snprintf(line, sizeof(line), "%.*s", (int)strcspn(hit, "\n"), hit);
		free(log);
	}
	return line;
}

static const char *fwknop_knock(const char *signer, bool hmac, const char *port_spec)
{
	return client_knock(fwknop_path, signer, hmac, port_spec);
}

/* (a) Debian's fwknop client, signed, without and with an HMAC; each
 * packet once more is a replay. */
static void test_fwknop_client(void **state)
{
	const char *line;
	char want[128];

	(void)state;
	need_gpg();
	if (strcmp(fwknop_path, "none") == 0) {
		printf("SKIP: fwknop client not installed\n");
		skip();
	}
	line = fwknop_knock(env.client_fpr, false, "tcp/22");
	has(line, "decision=grant");
	stanza_is(line, line_plain);
	/* who signed: in the log line and the JSON line */
	snprintf(want, sizeof(want), "signer=%s", env.client_fpr);
	has(line, want);
	snprintf(want, sizeof(want), "\"signer\":\"%s\"", env.client_fpr);
	assert_true(fx_wait_for(fx->json, want, 1, FX_WAIT_MS));
	line = fwknop_knock(env.client_fpr, true, "tcp/443");
	has(line, "decision=grant");
	stanza_is(line, line_hmac);
	assert_true(fx_wait_for(fx->calls, "port=443 ", 1, FX_WAIT_MS));
}

/* (a') our spa-client, the same two knocks */
static void test_spa_client(void **state)
{
	const char *line;
	char want[128];

	(void)state;
	need_gpg();
	if (strcmp(spa_client_path, "none") == 0) {
		printf("SKIP: spa-client not built\n");
		skip();
	}
	line = client_knock(spa_client_path, env.client_fpr, false, "tcp/22");
	has(line, "decision=grant");
	stanza_is(line, line_plain);
	snprintf(want, sizeof(want), "signer=%s", env.client_fpr);
	has(line, want);
	line = client_knock(spa_client_path, env.client_fpr, true, "tcp/443");
	has(line, "decision=grant");
	stanza_is(line, line_hmac);
	has(line, want);
}

/* Our own packets, granted, then replayed: the same bytes, and the same
 * message with the encrypted packet's length spelled another way. */
static size_t respell(const char *wire, size_t len, char *out);

static void test_built_and_replays(void **state)
{
	char w[SPA_WIRE_CAP], again[SPA_WIRE_CAP];
	size_t len, len2;
	const char *line;

	(void)state;
	need_gpg();
	len = build(env.server_fpr, env.client_fpr, false, "198.51.100.7,tcp/22", w);
	line = fx_send(fx, w, len, false);
	has(line, "decision=grant");
	stanza_is(line, line_plain);
	line = fx_send(fx, w, len, false);
	has(line, "decision=reject");
	has(line, "replay");
	len2 = respell(w, len, again);
	assert_true(len2 != len || memcmp(w, again, len) != 0);
	line = fx_send(fx, again, len2, false);
	has(line, "decision=reject");
	has(line, "replay");

	len = build(env.server_fpr, env.client_fpr, true, "198.51.100.7,tcp/443", w);
	line = fx_send(fx, w, len, false);
	has(line, "decision=grant");
	stanza_is(line, line_hmac);
	line = fx_send(fx, w, len, false);
	has(line, "replay");
}

static void test_refusals(void **state)
{
	char w[SPA_WIRE_CAP], exp_w[SPA_WIRE_CAP], rev_w[SPA_WIRE_CAP];
	size_t len, exp_len, rev_len;
	const char *line;

	(void)state;
	need_gpg();
	/* unsigned, GPG_REQUIRE_SIG defaults to Y */
	len = build(env.server_fpr, NULL, false, "198.51.100.7,tcp/22", w);
	line = fx_send(fx, w, len, false);
	has(line, "decision=reject");
	has(line, "not signed");
	/* a certified signer the HMAC stanza does not list */
	len = build(env.server_fpr, env.revoked_fpr, true, "198.51.100.7,tcp/443", w);
	line = fx_send(fx, w, len, false);
	has(line, "decision=reject");
	has(line, "not in GPG_FINGERPRINT_ID");
	stanza_is(line, line_hmac);
	/* a signer the server does not know */
	len = build(env.server_fpr, env.stranger_fpr, false, "198.51.100.7,tcp/22", w);
	line = fx_send(fx, w, len, false);
	has(line, "decision=reject");
	has(line, "public key not in the keyring");
	/* encrypted to another key */
	len = build(env.other_fpr, env.client_fpr, false, "198.51.100.7,tcp/22", w);
	line = fx_send(fx, w, len, false);
	has(line, "decision=reject");
	has(line, "no GnuPG secret key");
	/* corrupted inside the encrypted data */
	len = build(env.server_fpr, env.client_fpr, false, "198.51.100.7,tcp/22", w);
	w[len - 40] = w[len - 40] == 'A' ? 'B' : 'A';
	line = fx_send(fx, w, len, false);
	has(line, "decision=reject");
	has(line, "GnuPG data malformed or corrupted");
	/* signed while the keys were good; expired and revoked on arrival */
	exp_len = build(env.server_fpr, env.expiring_fpr, false, "198.51.100.7,tcp/22", exp_w);
	rev_len = build(env.server_fpr, env.revoked_fpr, false, "198.51.100.7,tcp/22", rev_w);
	assert_int_equal(gh_expire(&env, env.expiring_fpr), 0);
	assert_int_equal(gh_revoke(&env, env.revoked_fpr), 0);
	line = fx_send(fx, exp_w, exp_len, false);
	has(line, "decision=reject");
	has(line, "expired");
	line = fx_send(fx, rev_w, rev_len, false);
	has(line, "decision=reject");
	has(line, "revoked");
}

/* Well-framed GnuPG garbage without an HMAC (it passes the precheck, so
 * only the budget stands between it and gpg), with a Rijndael knock in the
 * middle: the knock opens, the budget refuses some of the garbage and
 * says so. Outcomes only, no timing. */
static void test_flood(void **state)
{
	char w[SPA_WIRE_CAP], knock[SPA_WIRE_CAP];
	uint8_t bin[372];
	int opens = fx_count(fx->calls, "port=2222 ");
	size_t klen;
	const int n = 120;

	(void)state;
	need_gpg();
	for (int i = 0; i < n; i++) {
		char b64[600];
		int len;

		memset(bin, 0, sizeof(bin));
		bin[0] = 0x85;
		bin[1] = 0x01;
		bin[2] = 0x0c;
		bin[3] = 3;
		bin[12] = 1;
		for (size_t j = 4; j < sizeof(bin); j++)
			if (j != 12 && j != 271 && j != 272)
				bin[j] = (uint8_t)(rand() & 0xff);
		bin[271] = 0xd2;
		bin[272] = 99;
		len = EVP_EncodeBlock((unsigned char *)b64, bin, sizeof(bin));
		snprintf(w, sizeof(w), "%.*s", len - 2, b64 + 2);
		assert_true(fx_send_raw(fx, w, strlen(w), false));
		/* a breath now and then, so loopback's socket buffer keeps up */
		if (i % 10 == 9)
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
		if (i == n / 2) {
			klen = fx_build(fx, fx->keys, "bob", "198.51.100.9,tcp/2222", 0, 0, knock);
			assert_true(fx_send_raw(fx, knock, klen, false));
		}
	}
	assert_true(fx_wait_for(fx->calls, "port=2222 ", opens + 1, FX_WAIT_MS));
	assert_true(fx_count(fx->log, "GnuPG budget reached: not tried") > 0);
	assert_true(fx_wait_for(fx->log, "refused without a gpg run since the last report", 1,
				FX_WAIT_MS));
}

/* A configuration of GnuPG stanzas alone, without HMAC: no key set is
 * prepared at load, so nothing has touched OpenSSL before the sandbox
 * (its first digest must not need a file). */
static void test_gnupg_only_config(void **state)
{
	char conf[2048], access[2048], w[SPA_WIRE_CAP], path[4096];
	struct fx *g = fx_new(spad_path, plugin_dir);
	const char *line;
	size_t len;

	(void)state;
	need_gpg();
	assert_non_null(g);
	snprintf(conf, sizeof(conf), "GPG_HOME_DIR %s\nGPG_EXE %s\n", env.server, env.gpg);
	fx_append_conf(g, conf);
	snprintf(access, sizeof(access),
		 "SOURCE 127.0.0.0/8\nGPG_DECRYPT_PW " GH_SERVER_PW "\nGPG_FINGERPRINT_ID %s\n"
		 "OPEN_PORTS tcp/22\nFW_ACCESS_TIMEOUT 2\n", env.client_fpr);
	th_write(g->dir, "access.conf", access, path, sizeof(path));
	assert_true(fx_start(g));
	len = build(env.server_fpr, env.client_fpr, false, "198.51.100.7,tcp/22", w);
	line = fx_send(g, w, len, false);
	has(line, "decision=grant");
	assert_int_equal(fx_count(g->log, "killed by signal"), 0);
	fx_delete(g);
}

/* Unsigned knocks from both clients, accepted by a stanza with
 * GPG_DISABLE_SIG Y (and refused by one that wants a signature, in
 * test_refusals). */
static void test_unsigned_clients(void **state)
{
	char conf[2048], access[2048], path[4096];
	struct fx *g = fx_new(spad_path, plugin_dir), *saved = fx;
	const char *clients[2] = { fwknop_path, spa_client_path };
	const char *line;

	(void)state;
	need_gpg();
	assert_non_null(g);
	/* knocks back to back without an HMAC: no time share */
	snprintf(conf, sizeof(conf), "GPG_HOME_DIR %s\nGPG_EXE %s\nGPG_MAX_BUSY_PERCENT 100\n",
		 env.server, env.gpg);
	fx_append_conf(g, conf);
	snprintf(access, sizeof(access),
		 "SOURCE 127.0.0.0/8\nGPG_DECRYPT_PW " GH_SERVER_PW "\nGPG_DISABLE_SIG Y\n"
		 "OPEN_PORTS tcp/22\nFW_ACCESS_TIMEOUT 2\n");
	th_write(g->dir, "access.conf", access, path, sizeof(path));
	assert_true(fx_start(g));
	fx = g;
	for (int i = 0; i < 2; i++) {
		if (strcmp(clients[i], "none") == 0) {
			printf("SKIP: unsigned knock: client %d not available\n", i);
			continue;
		}
		line = client_knock(clients[i], NULL, false, "tcp/22");
		has(line, "decision=grant");
		assert_null(strstr(line, "signer="));
	}
	fx = saved;
	fx_delete(g);
}

/* The last helper pid spad logged. */
static int logged_helper(void)
{
	char *log = th_read(fx->log), *p = log, *hit = NULL;
	int pid = 0;

	while (p && (p = strstr(p, "GnuPG: helper pid ")))
		hit = p++;
	if (hit)
		pid = atoi(hit + strlen("GnuPG: helper pid "));
	free(log);
	return pid;
}

static bool gone(int pid)
{
	char st[64];

	for (int i = 0; i < 500; i++) {
		struct timespec ts = { 0, 10000000 };

		if (th_proc_status(pid, "State", st, sizeof(st)) < 0 || st[0] == 'Z')
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* A reload replaces the packet process and its helper together; GnuPG
 * knocks go on under the new ones. */
static void test_reload_replaces_helper(void **state)
{
	char w[SPA_WIRE_CAP];
	int old = helper_pid;
	const char *line;
	size_t len;

	(void)state;
	need_gpg();
	assert_int_equal(kill(fx->pid, SIGHUP), 0);
	assert_true(fx_wait_for(fx->log, "GnuPG: helper pid ", 2, FX_WAIT_MS));
	helper_pid = logged_helper();
	assert_true(helper_pid > 0 && helper_pid != old);
	if (!gone(old))
		fail_msg("the old GnuPG helper %d outlived the reload", old);
	len = build(env.server_fpr, env.client_fpr, true, "198.51.100.7,tcp/443", w);
	line = fx_send(fx, w, len, false);
	has(line, "decision=grant");
}

/* The helper dies with spad. */
static void test_helper_gone_after_stop(void **state)
{
	char st[64];

	(void)state;
	need_gpg();
	assert_int_equal(th_proc_status(helper_pid, "State", st, sizeof(st)), 0);
	assert_int_equal(fx_stop(fx, SIGTERM), 0);
	if (!gone(helper_pid))
		fail_msg("GnuPG helper %d still running after spad stopped", helper_pid);
}

/* --pcap-file (each packet waits for its gpg run: not the live loop), in
 * test mode (decided, nothing opened or spent) and then for real. */
static void test_pcap_file_and_test_mode(void **state)
{
	char w[SPA_WIRE_CAP], path[4200];
	const char *test_args[] = { "--pcap-file", path, "-P", "", "-t", NULL };
	const char *args[] = { "--pcap-file", path, "-P", "", NULL };
	uint8_t ip[SPA_FRAME_MAX];
	struct pf_frame fr[2];
	int grants = fx_count(fx->log, "decision=grant"), opens = fx_count(fx->calls, "open ");
	int replays;
	size_t len, iplen;

	(void)state;
	need_gpg();
	len = build(env.server_fpr, env.client_fpr, false, "198.51.100.7,tcp/22", w);
	memset(fr, 0, sizeof(fr));
	iplen = pf_ipv4(ip, "127.0.0.5", "127.0.0.1", 17, 0, w, len);
	pf_ether(&fr[0], 0, ip, iplen, 0);
	/* and the same packet again: a replay */
	fr[1] = fr[0];
	snprintf(path, sizeof(path), "%s/gpg.pcap", fx->dir);
	pf_write(path, DLT_EN10MB, fr, 2);
	/* -t records no digest (as for Rijndael): both copies decide alike */
	assert_int_equal(fx_run(fx, test_args), 0);
	assert_int_equal(fx_count(fx->log, "decision=grant"), grants + 2);
	assert_int_equal(fx_count(fx->log, "not opened (test mode)"), 2);
	assert_int_equal(fx_count(fx->calls, "open "), opens);
	replays = fx_count(fx->log, "replay of a packet");
	assert_int_equal(fx_run(fx, args), 0);
	assert_int_equal(fx_count(fx->log, "decision=grant"), grants + 3);
	assert_int_equal(fx_count(fx->log, "replay of a packet"), replays + 1);
	assert_true(fx_wait_for(fx->calls, "open ", opens + 1, FX_WAIT_MS));
}

/*
 * The same OpenPGP message spelled another way: the encrypted data
 * packet's length (partial chunks or a short form) written as one
 * five-octet length. gpg reads both; the wire digest differs.
 */
static size_t respell(const char *wire, size_t len, char *out)
{
	char text[SPA_WIRE_CAP + 8];
	uint8_t bin[1200], body[1200], res[1200];
	size_t n, o, blen = 0, r = 0, pk;
	bool five = false;
	int dl;

	snprintf(text, sizeof(text), "hQ%.*s", (int)len, wire);
	while (strlen(text) % 4)
		strcat(text, "=");
	dl = EVP_DecodeBlock(bin, (const unsigned char *)text, (int)strlen(text));
	assert_true(dl > 0);
	n = (size_t)dl - (strlen(text) - strcspn(text, "="));
	assert_int_equal(bin[0], 0x85);
	pk = 3 + ((size_t)bin[1] << 8 | bin[2]);
	o = pk;
	assert_int_equal(bin[o] & 0xc0, 0xc0);   /* new format */
	memcpy(res, bin, o);
	r = o;
	res[r++] = bin[o++];
	for (;;) {
		uint8_t c = bin[o++];
		size_t k;

		if (c < 192) {
			k = c;
		} else if (c < 224) {
			k = ((size_t)(c - 192) << 8) + bin[o] + 192;
			o++;
		} else if (c == 255) {
			k = (size_t)bin[o] << 24 | (size_t)bin[o + 1] << 16 |
			    (size_t)bin[o + 2] << 8 | bin[o + 3];
			o += 4;
			five = true;
		} else {
			k = (size_t)1 << (c & 0x1f);
			memcpy(body + blen, bin + o, k);
			blen += k;
			o += k;
			continue;
		}
		memcpy(body + blen, bin + o, k);
		blen += k;
		o += k;
		break;
	}
	assert_int_equal(o, n);
	if (five && blen >= 192 && blen < 8384) {
		res[r++] = (uint8_t)(((blen - 192) >> 8) + 192);
		res[r++] = (uint8_t)((blen - 192) & 0xff);
	} else {
		res[r++] = 255;
		res[r++] = (uint8_t)(blen >> 24);
		res[r++] = (uint8_t)(blen >> 16);
		res[r++] = (uint8_t)(blen >> 8);
		res[r++] = (uint8_t)blen;
	}
	memcpy(res + r, body, blen);
	r += blen;
	dl = EVP_EncodeBlock((unsigned char *)text, res, (int)r);
	while (dl > 0 && text[dl - 1] == '=')
		text[--dl] = '\0';
	assert_int_equal(strncmp(text, "hQ", 2), 0);
	assert_true((size_t)dl - 2 < SPA_WIRE_CAP);
	memcpy(out, text + 2, (size_t)dl - 2 + 1);
	return (size_t)dl - 2;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fwknop_client),
		cmocka_unit_test(test_spa_client),
		cmocka_unit_test(test_built_and_replays),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_gnupg_only_config),
		cmocka_unit_test(test_unsigned_clients),
		cmocka_unit_test(test_reload_replaces_helper),
		cmocka_unit_test(test_helper_gone_after_stop),
		cmocka_unit_test(test_pcap_file_and_test_mode),
	};

	if (argc < 5) {
		fprintf(stderr, "usage: %s spad plugin-dir gpg fwknop [spa-client]\n", argv[0]);
		return 2;
	}
	spad_path = argv[1];
	plugin_dir = argv[2];
	gpg_path = argv[3];
	fwknop_path = argv[4];
	spa_client_path = argc > 5 ? argv[5] : "none";
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
