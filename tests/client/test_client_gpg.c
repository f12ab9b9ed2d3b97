/* SPDX-License-Identifier: MIT */
/*
 * spa-client in GnuPG mode with the real gpg and throwaway keys
 * (tests/unit/gpg_home.c): packets written by spa-client -g -B are opened
 * as the server would open them (spa_gpg_open), signed and unsigned, with
 * and without HMAC; the signing passphrase from --fd, the rc file and
 * --gpg-agent; and the refusals (no recipient, unknown recipient, wrong
 * passphrase) exit non-zero. Last, --gpg-agent with a passphrase that
 * only gpg-agent knows (preset into its cache).
 */
#include "client_test_util.h"
#include "gpg_home.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define HMAC_KEY "gpg-hmac-key"

static struct gpg_env env;
static const char *gpg_path;
static char dir[256], pkt[300], out[300], rc_file[300];

static int server_pw(void *arg, const char *hint, bool retry, char *buf,
		     size_t cap)
{
	(void)arg;
	(void)hint;
	(void)retry;
	if (strlen(GH_SERVER_PW) >= cap)
		return -1;
	strcpy(buf, GH_SERVER_PW);
	return 0;
}

static int group_setup(void **state)
{
	int rc = gh_setup(&env, gpg_path, true);

	(void)state;
	if (rc == 77)
		exit(77);
	if (rc < 0) {
		fprintf(stderr, "gpg key setup failed\n");
		return -1;
	}
	ct_mkdtemp(dir, sizeof(dir));
	snprintf(pkt, sizeof(pkt), "%s/packet", dir);
	snprintf(out, sizeof(out), "%s/stdout", dir);
	snprintf(rc_file, sizeof(rc_file), "%s/fwknoprc", dir);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	gh_teardown(&env);
	ct_rmtree(dir);
	return 0;
}

/* Opens the packet spa-client saved, as the server; returns its rc. */
static int open_saved(const char *hmac_key, struct spa_message *m,
		      struct spa_gpg_result *r)
{
	struct spa_gpg_opts o = { .home_dir = env.server, .gpg_exe = env.gpg,
				  .passphrase = server_pw };
	struct spa_keys *k = NULL;
	char *wire = ct_read_file(pkt);
	size_t len;
	int rc;

	assert_non_null(wire);
	len = strcspn(wire, "\n");
	if (hmac_key) {
		struct spa_key_spec spec = {
			.hmac_key = (const uint8_t *)hmac_key,
			.hmac_key_len = strlen(hmac_key),
			.hmac_type = SPA_DIGEST_SHA256,
			.enc_mode = SPA_MODE_ASYMMETRIC,
		};

		assert_int_equal(spa_keys_new(&spec, &k), 0);
	}
	rc = spa_gpg_open(&o, wire, len, k, m, r);
	spa_keys_free(k);
	free(wire);
	return rc;
}

/* spa-client -T -B <pkt> -A tcp/22 -a 198.51.100.9 + the GnuPG args. */
static int run_client(const char *const *extra)
{
	const char *args[40] = { "--no-save-args", "--rc-file", rc_file, "-T",
				 "-B", pkt, "-A", "tcp/22", "-a", "198.51.100.9",
				 "-D", "203.0.113.1", "--gpg-home-dir", env.client,
				 "--gpg-exe", env.gpg };
	size_t n = 16;

	for (size_t i = 0; extra[i]; i++) {
		assert_true(n < sizeof(args) / sizeof(args[0]) - 1);
		args[n++] = extra[i];
	}
	args[n] = NULL;
	unlink(pkt);
	return ct_run(out, args);
}

static int pipe_with(const char *text)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], text, strlen(text)), (ssize_t)strlen(text));
	close(fds[1]);
	return fds[0];
}

static void test_unsigned(void **state)
{
	struct spa_gpg_result r;
	struct spa_message m;

	(void)state;
	ct_write_file(rc_file, "[default]\n", 0600);
	assert_int_equal(run_client(ARGS("--gpg-recipient-key", env.server_fpr)), 0);
	assert_int_equal(open_saved(NULL, &m, &r), 0);
	assert_string_equal(m.message, "198.51.100.9,tcp/22");
	assert_int_equal(r.sig, SPA_GPG_SIG_NONE);
	/* the same packet with an HMAC, which the receiver then requires */
	assert_int_equal(run_client(ARGS("-g", "--gpg-recipient-key", env.server_fpr,
					 "--key-hmac", HMAC_KEY)), 0);
	assert_int_equal(open_saved(HMAC_KEY, &m, &r), 0);
	assert_int_equal(r.sig, SPA_GPG_SIG_NONE);
	assert_int_equal(open_saved("another key", &m, &r), -SPA_E_HMAC);
}

static void test_signed(void **state)
{
	struct spa_gpg_result r;
	struct spa_message m;
	char *text;

	(void)state;
	ct_write_file(rc_file, "[default]\n", 0600);
	/* a key without passphrase: -v dump names both keys */
	assert_int_equal(run_client(ARGS("-v", "--gpg-recipient-key", env.server_fpr,
					 "--gpg-signer-key", env.client_fpr,
					 "--gpg-no-signing-pw", "--key-hmac",
					 HMAC_KEY)), 0);
	assert_int_equal(open_saved(HMAC_KEY, &m, &r), 0);
	assert_int_equal(r.sig, SPA_GPG_SIG_GOOD);
	assert_string_equal(r.fingerprint, env.client_fpr);
	assert_int_equal(spa_gpg_sig_error(&r), 0);
	text = ct_read_file(out);
	assert_non_null(strstr(text, "Encryption Type: 2 (GPG)\n"));
	assert_non_null(strstr(text, "Encryption Mode: 7 (Asymmetric)\n"));
	assert_non_null(strstr(text, "GPG signer: "));
	assert_non_null(strstr(text, env.client_fpr));
	assert_non_null(strstr(text, "HMAC Type: 3 (SHA256)\n"));
	assert_non_null(strstr(text, "signing passphrase not required"));
	free(text);

	/* --gpg-agent: gpg-agent's own way (here: nothing to ask) */
	assert_int_equal(run_client(ARGS("--gpg-recipient-key", env.server_fpr,
					 "--gpg-signer-key", env.client_fpr,
					 "--gpg-agent")), 0);
	assert_int_equal(open_saved(NULL, &m, &r), 0);
	assert_string_equal(r.fingerprint, env.client_fpr);
}

/* The signing passphrase: --fd (then the HMAC key on the next line), the
 * rc file's GPG_SIGNING_PW_BASE64 and its synonym KEY; never printed. */
static void test_passphrase_sources(void **state)
{
	struct spa_gpg_result r;
	struct spa_message m;
	char fdnum[16], *text;
	int fd;

	(void)state;
	ct_write_file(rc_file, "[default]\n", 0600);
	fd = pipe_with(GH_CLIENT_PW "\n" HMAC_KEY "\n");
	snprintf(fdnum, sizeof(fdnum), "%d", fd);
	assert_int_equal(run_client(ARGS("--gpg-recipient-key", env.server_fpr,
					 "--gpg-signer-key", env.client_pw_fpr,
					 "--use-hmac", "--fd", fdnum)), 0);
	close(fd);
	assert_int_equal(open_saved(HMAC_KEY, &m, &r), 0);
	assert_string_equal(r.fingerprint, env.client_pw_fpr);

	/* base64 of "client-pw" */
	ct_write_file(rc_file, "[default]\nKEY wrong-rijndael-key\n[gpg]\nUSE_GPG Y\n"
		      "GPG_SIGNING_PW_BASE64 Y2xpZW50LXB3\n", 0600);
	assert_int_equal(run_client(ARGS("-n", "gpg", "-v", "--gpg-recipient-key",
					 env.server_fpr, "--gpg-signer-key",
					 env.client_pw_fpr)), 0);
	assert_int_equal(open_saved(NULL, &m, &r), 0);
	assert_string_equal(r.fingerprint, env.client_pw_fpr);
	text = ct_read_file(out);
	assert_null(strstr(text, GH_CLIENT_PW));
	assert_null(strstr(text, "Y2xpZW50LXB3"));
	free(text);

	ct_write_file(rc_file, "[default]\nUSE_GPG Y\nKEY " GH_CLIENT_PW "\n", 0600);
	assert_int_equal(run_client(ARGS("--gpg-recipient-key", env.server_fpr,
					 "--gpg-signer-key", env.client_pw_fpr)), 0);
	assert_int_equal(open_saved(NULL, &m, &r), 0);
	assert_string_equal(r.fingerprint, env.client_pw_fpr);
}

/* A missing recipient, unknown or unusable keys, wrong or missing
 * passphrases: non-zero exit and no packet. */
static void test_refusals(void **state)
{
	char fdnum[16];
	int fd;

	(void)state;
	ct_write_file(rc_file, "[default]\n", 0600);
	assert_int_not_equal(run_client(ARGS("-g")), 0);
	assert_int_not_equal(run_client(ARGS("--gpg-signer-key", env.client_fpr,
					     "--gpg-no-signing-pw")), 0);
	assert_int_not_equal(run_client(ARGS("--gpg-recipient-key",
					     "nobody@spa.test")), 0);
	/* "spa" names several keys: ambiguous, not the first one listed */
	assert_int_not_equal(run_client(ARGS("--gpg-recipient-key", "spa")), 0);
	/* an ECC recipient cannot give fwknop's "hQ" wire form */
	assert_int_not_equal(run_client(ARGS("--gpg-recipient-key", env.ecc_fpr)), 0);
	assert_int_not_equal(run_client(ARGS("--gpg-recipient-key", env.server_fpr,
					     "--gpg-signer-key",
					     "nobody@spa.test",
					     "--gpg-no-signing-pw")), 0);
	fd = pipe_with("not-the-passphrase\n");
	snprintf(fdnum, sizeof(fdnum), "%d", fd);
	assert_int_not_equal(run_client(ARGS("--gpg-recipient-key", env.server_fpr,
					     "--gpg-signer-key", env.client_pw_fpr,
					     "--fd", fdnum)), 0);
	close(fd);
	/* the key needs its passphrase */
	assert_int_not_equal(run_client(ARGS("--gpg-recipient-key", env.server_fpr,
					     "--gpg-signer-key", env.client_pw_fpr,
					     "--gpg-no-signing-pw")), 0);
	/* nothing to read it from: an empty stream */
	fd = pipe_with("");
	snprintf(fdnum, sizeof(fdnum), "%d", fd);
	assert_int_not_equal(run_client(ARGS("--gpg-recipient-key", env.server_fpr,
					     "--gpg-signer-key", env.client_pw_fpr,
					     "--fd", fdnum)), 0);
	close(fd);
	assert_int_not_equal(run_client(ARGS("--gpg-recipient-key", env.server_fpr,
					     "--gpg-exe", "/nonexistent/gpg")), 0);
	/* a Rijndael KEY left in [default] is taken as the passphrase */
	ct_write_file(rc_file, "[default]\nKEY some-rijndael-key\n", 0600);
	assert_int_not_equal(run_client(ARGS("--gpg-recipient-key", env.server_fpr,
					     "--gpg-signer-key", env.client_pw_fpr)), 0);
	assert_int_not_equal(access(pkt, F_OK), 0);
}

/* The recipient's name may be a user id (fwknop's documented form). */
static void test_names(void **state)
{
	struct spa_gpg_result r;
	struct spa_message m;

	(void)state;
	ct_write_file(rc_file, "[default]\n[s]\nUSE_GPG Y\nGPG_RECIPIENT "
		      "server@spa.test\nGPG_SIGNER client@spa.test\n"
		      "GPG_NO_SIGNING_PW Y\n", 0600);
	assert_int_equal(run_client(ARGS("-n", "s")), 0);
	assert_int_equal(open_saved(NULL, &m, &r), 0);
	assert_string_equal(r.fingerprint, env.client_fpr);
}

/* Runs argv directly (no shell); its stdout into buf. 0 on exit 0. */
static int run_cmd(char *const argv[], char *buf, size_t cap)
{
	int pfd[2], status = 0;
	size_t len = 0;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(pfd[1], 1);
		dup2(null, 2);
		close(pfd[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t n = read(pfd[0], buf + len, cap - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/*
 * --gpg-agent: no loopback and no callback, so the passphrase must come
 * from gpg-agent itself; here from its cache, preset with
 * gpg-preset-passphrase (a pinentry cannot be driven from a test). Runs
 * last: the client home's agent then keeps passphrases.
 */
static void test_agent_cache(void **state)
{
	static const char preset[] = "/usr/lib/gnupg/gpg-preset-passphrase";
	char conf[160], listing[8192], grip[41] = "", *p;
	struct spa_gpg_result r;
	struct spa_message m;

	(void)state;
	if (access(preset, X_OK) != 0) {
		printf("SKIP: %s not installed: --gpg-agent cache test left out\n", preset);
		return;
	}
	/* Not tried without the cache: gpg-agent would start its pinentry,
	 * which would wait on the terminal of whoever runs the test. */
	ct_write_file(rc_file, "[default]\n", 0600);
	snprintf(conf, sizeof(conf), "%s/gpg-agent.conf", env.client);
	ct_write_file(conf, "allow-loopback-pinentry\nallow-preset-passphrase\n", 0600);
	{
		char *const reload[] = { env.gpgconf, "--homedir", env.client,
					 "--reload", "gpg-agent", NULL };
		char *const list[] = { env.gpg, "--homedir", env.client, "--batch",
				       "--with-colons", "--with-keygrip",
				       "--list-secret-keys", env.client_pw_fpr, NULL };

		assert_int_equal(run_cmd(reload, listing, sizeof(listing)), 0);
		assert_int_equal(run_cmd(list, listing, sizeof(listing)), 0);
	}
	p = strstr(listing, "\ngrp:");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "\ngrp:::::::::%40[0-9A-F]:", grip), 1);
	{
		char *const set[] = { (char *)preset, "--homedir", env.client,
				      "--preset", "-P", GH_CLIENT_PW, grip, NULL };

		assert_int_equal(run_cmd(set, listing, sizeof(listing)), 0);
	}
	assert_int_equal(run_client(ARGS("--gpg-recipient-key", env.server_fpr,
					 "--gpg-signer-key", env.client_pw_fpr,
					 "--gpg-agent")), 0);
	assert_int_equal(open_saved(NULL, &m, &r), 0);
	assert_string_equal(r.fingerprint, env.client_pw_fpr);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unsigned),
		cmocka_unit_test(test_signed),
		cmocka_unit_test(test_passphrase_sources),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_agent_cache),   /* last: see there */
	};

	if (argc == 3 && strcmp(argv[1], "--gpg") == 0)
		gpg_path = argv[2];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
