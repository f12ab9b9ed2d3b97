/* SPDX-License-Identifier: MIT */
/*
 * GnuPG mode against Debian's libfko 2.6.10 (the library inside fwknop and
 * fwknopd), both ways, signed and unsigned, with and without HMAC: our
 * packets decrypted, verified and decoded by libfko; libfko's by us; and
 * the datagrams the fwknop client sends to 127.0.0.1 decoded by us. The
 * keys are throwaway ones (tests/unit/gpg_home.c); the server key has no
 * passphrase because libfko cannot answer gpg-agent in loopback mode
 * (fwknopd's GPG_ALLOW_NO_PW).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fko.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gpg_home.h"
#include "interop_proc.h"
#include "spa_wire.h"

#define IO_HMAC_KEY "interop-gpg-hmac-key"
#define IO_MSG "198.51.100.7,tcp/22"

static struct gpg_env env;
static const char *gpg_path, *fwknop_path;
static struct spa_keys *hmac_keys;

static int group_setup(void **state)
{
	struct spa_key_spec s = { .hmac_key = (const uint8_t *)IO_HMAC_KEY,
				  .hmac_key_len = strlen(IO_HMAC_KEY),
				  .enc_mode = SPA_MODE_ASYMMETRIC };
	int rc = gh_setup(&env, gpg_path, false);

	(void)state;
	if (rc == 77)
		exit(77);
	if (rc < 0 || spa_keys_new(&s, &hmac_keys) != 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	spa_keys_free(hmac_keys);
	gh_teardown(&env);
	return 0;
}

static void check_fko(int rc, const char *what)
{
	if (rc != FKO_SUCCESS)
		fail_msg("libfko %s: %s", what, fko_errstr(rc));
}

/* spa -> libfko, as fwknopd drives it: HMAC, then GnuPG settings, then
 * decryption with the empty passphrase of GPG_ALLOW_NO_PW. */
static void spa_to_fko(const char *signer, bool hmac)
{
	struct spa_gpg_opts o = { .home_dir = env.client, .gpg_exe = env.gpg };
	struct spa_message m;
	char wire[SPA_WIRE_CAP], *s = NULL;
	size_t len = 0;
	fko_ctx_t ctx = NULL;
	int rc;

	assert_int_equal(spa_message_init(&m), 0);
	strcpy(m.username, "alice");
	strcpy(m.message, IO_MSG);
	rc = spa_gpg_build(&o, env.server_fpr, signer, &m, hmac ? hmac_keys : NULL,
			   wire, sizeof(wire), &len, NULL);
	if (rc != 0)
		fail_msg("spa_gpg_build: %s", spa_strerror(rc));

	check_fko(fko_new_with_data(&ctx, wire, NULL, 0, FKO_ENC_MODE_ASYMMETRIC,
				    NULL, 0, hmac ? FKO_HMAC_SHA256 : FKO_HMAC_UNKNOWN),
		  "new_with_data");
	if (hmac) {
		fko_ctx_t other = NULL;

		/* the MAC is really checked: another key fails */
		check_fko(fko_new_with_data(&other, wire, NULL, 0,
					    FKO_ENC_MODE_ASYMMETRIC, NULL, 0,
					    FKO_HMAC_SHA256), "new_with_data");
		assert_int_not_equal(fko_verify_hmac(other, "another-hmac-key", 16),
				     FKO_SUCCESS);
		fko_destroy(other);
		check_fko(fko_verify_hmac(ctx, IO_HMAC_KEY, (int)strlen(IO_HMAC_KEY)),
			  "verify_hmac");
	}
	check_fko(fko_set_gpg_exe(ctx, env.gpg), "set_gpg_exe");
	check_fko(fko_set_gpg_home_dir(ctx, env.server), "set_gpg_home_dir");
	check_fko(fko_set_gpg_signature_verify(ctx, signer != NULL),
		  "set_gpg_signature_verify");
	check_fko(fko_decrypt_spa_data(ctx, "", 0), "decrypt_spa_data");
	check_fko(fko_get_spa_message(ctx, &s), "get_spa_message");
	assert_string_equal(s, IO_MSG);
	check_fko(fko_get_username(ctx, &s), "get_username");
	assert_string_equal(s, "alice");
	check_fko(fko_get_rand_value(ctx, &s), "get_rand_value");
	assert_string_equal(s, m.rand_val);
	if (signer) {
		check_fko(fko_get_gpg_signature_fpr(ctx, &s), "get_gpg_signature_fpr");
		assert_string_equal(s, signer);
	}
	fko_destroy(ctx);
}

/* libfko -> spa, as fwknop's client builds it. */
static void fko_to_spa(const char *signer, bool hmac)
{
	struct spa_gpg_opts o = { .home_dir = env.server, .gpg_exe = env.gpg };
	struct spa_message m;
	struct spa_gpg_result r;
	char *wire = NULL, *rand = NULL;
	fko_ctx_t ctx = NULL;
	int rc;

	check_fko(fko_new(&ctx), "new");
	check_fko(fko_set_username(ctx, "bob"), "set_username");
	check_fko(fko_set_spa_message(ctx, IO_MSG), "set_spa_message");
	check_fko(fko_set_spa_encryption_type(ctx, FKO_ENCRYPTION_GPG),
		  "set_encryption_type");
	check_fko(fko_set_gpg_exe(ctx, env.gpg), "set_gpg_exe");
	check_fko(fko_set_gpg_home_dir(ctx, env.client), "set_gpg_home_dir");
	check_fko(fko_set_gpg_recipient(ctx, env.server_fpr), "set_gpg_recipient");
	if (signer)
		check_fko(fko_set_gpg_signer(ctx, signer), "set_gpg_signer");
	if (hmac)
		check_fko(fko_set_spa_hmac_type(ctx, FKO_HMAC_SHA256), "set_hmac_type");
	check_fko(fko_spa_data_final(ctx, "", 0, hmac ? IO_HMAC_KEY : NULL,
				     hmac ? (int)strlen(IO_HMAC_KEY) : 0),
		  "spa_data_final");
	check_fko(fko_get_spa_data(ctx, &wire), "get_spa_data");
	check_fko(fko_get_rand_value(ctx, &rand), "get_rand_value");

	assert_int_equal(spa_packet_enc_type(wire, strlen(wire)), SPA_ENC_GPG);
	assert_int_equal(spa_packet_prefilter(wire, strlen(wire)), 0);
	rc = spa_gpg_open(&o, wire, strlen(wire), hmac ? hmac_keys : NULL, &m, &r);
	if (rc != 0)
		fail_msg("spa_gpg_open: %s", spa_strerror(rc));
	assert_string_equal(m.message, IO_MSG);
	assert_string_equal(m.username, "bob");
	assert_string_equal(m.rand_val, rand);
	if (signer) {
		assert_int_equal(r.sig, SPA_GPG_SIG_GOOD);
		assert_string_equal(r.fingerprint, signer);
		assert_int_equal(spa_gpg_sig_error(&r), 0);
	} else {
		assert_int_equal(r.sig, SPA_GPG_SIG_NONE);
	}
	fko_destroy(ctx);
}

/* Unsigned and signed, each without and with an HMAC. */
static void each_variant(void (*fn)(const char *signer, bool hmac))
{
	for (int i = 0; i < 4; i++)
		fn(i & 2 ? env.client_fpr : NULL, i & 1);
}

static void test_spa_to_fko(void **state)
{
	(void)state;
	each_variant(spa_to_fko);
}

static void test_fko_to_spa(void **state)
{
	(void)state;
	each_variant(fko_to_spa);
}

/* A UDP socket on 127.0.0.1 for the client to send to; its port in port. */
static int udp_listener(char port[8])
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	snprintf(port, 8, "%u", ntohs(a.sin_port));
	return fd;
}

/* The fwknop client, as a user runs it: the datagram it sends to
 * 127.0.0.1, which must also be what it saves with --save-packet. (Not
 * -T: in test mode it also decrypts its own packet, which needs the
 * server's secret key.) */
static void fwknop_cli_to_spa(const char *signer, bool hmac)
{
	struct spa_gpg_opts o = { .home_dir = env.server, .gpg_exe = env.gpg };
	char dir[256], pkt[300], home[300], port[8], wire[SPA_MAX_WIRE_LEN + 1];
	char *argv[32], *envp[] = { home, "PATH=/usr/bin:/bin", NULL };
	struct io_proc_result res;
	struct spa_message m;
	struct spa_gpg_result r;
	size_t n = 0, saved_len = 0;
	ssize_t len;
	char *saved;
	int rc, fd = udp_listener(port);

	assert_int_equal(io_tmpdir_create(dir, sizeof(dir)), 0);
	snprintf(pkt, sizeof(pkt), "%s/packet", dir);
	/* fwknop writes ~/.fwknop.run: keep it in the temporary directory */
	snprintf(home, sizeof(home), "HOME=%s", dir);
	argv[n++] = (char *)fwknop_path;
	argv[n++] = "-A";
	argv[n++] = "tcp/22";
	argv[n++] = "-a";
	argv[n++] = "198.51.100.7";
	argv[n++] = "-D";
	argv[n++] = "127.0.0.1";
	argv[n++] = "-p";
	argv[n++] = port;
	argv[n++] = "--no-rc-file";
	argv[n++] = "--save-packet";
	argv[n++] = pkt;
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
		argv[n++] = IO_HMAC_KEY;
	}
	argv[n] = NULL;
	rc = io_proc_run(argv, envp, dir, 60000, &res);
	if (rc != 0 || res.exit_code != 0)
		fail_msg("fwknop failed (%d): %s", res.exit_code, res.err);
	io_proc_result_free(&res);
	len = recv(fd, wire, sizeof(wire) - 1, MSG_DONTWAIT);
	close(fd);
	assert_true(len > 0);
	wire[len] = '\0';
	saved = io_read_file(pkt, &saved_len);
	assert_non_null(saved);
	assert_int_equal(saved_len, (size_t)len + 1);   /* plus '\n' */
	assert_memory_equal(saved, wire, (size_t)len);
	free(saved);
	io_tmpdir_remove(dir);

	rc = spa_gpg_open(&o, wire, (size_t)len, hmac ? hmac_keys : NULL, &m, &r);
	if (rc != 0)
		fail_msg("spa_gpg_open of fwknop's packet: %s", spa_strerror(rc));
	assert_string_equal(m.message, "198.51.100.7,tcp/22");
	assert_int_equal(r.sig, signer ? SPA_GPG_SIG_GOOD : SPA_GPG_SIG_NONE);
	if (signer)
		assert_string_equal(r.fingerprint, signer);
}

static void test_fwknop_cli_to_spa(void **state)
{
	(void)state;
	if (!fwknop_path) {
		printf("SKIP: fwknop not installed (the client leg)\n");
		skip();
	}
	each_variant(fwknop_cli_to_spa);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spa_to_fko),
		cmocka_unit_test(test_fko_to_spa),
		cmocka_unit_test(test_fwknop_cli_to_spa),
	};

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--gpg") == 0)
			gpg_path = argv[i + 1];
		else if (strcmp(argv[i], "--fwknop") == 0)
			fwknop_path = argv[i + 1];
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
