/* SPDX-License-Identifier: MIT */
/*
 * Packets built by spa-client (saved with -B) are opened by Debian's
 * libfko 2.6.10, for each message type the client makes and a spread of
 * modes, digests and HMAC types.
 */
#include "client_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fko.h>

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct fko_case {
	const char *const *args;  /* beyond -T -B <file> and the keys */
	const char *key;
	const char *hmac_key;     /* NULL: no HMAC */
	int mode, hmac_type, digest;
	short type;
	const char *msg, *nat;
	int timeout;
	const char *user;
};

static void check_case(const struct fko_case *k)
{
	char dir[256], pkt[300];
	const char *argv[40];
	size_t n = 0;
	char *wire, *s = NULL;
	fko_ctx_t ctx = NULL;
	short t = -1;
	int rc, to = -1;
	time_t ts = 0;

	ct_mkdtemp(dir, sizeof(dir));
	snprintf(pkt, sizeof(pkt), "%s/pkt", dir);
	argv[n++] = "-T";
	argv[n++] = "-B";
	argv[n++] = pkt;
	argv[n++] = "--no-rc-file";
	argv[n++] = "--no-save-args";
	argv[n++] = "--key-rijndael";
	argv[n++] = k->key;
	if (k->hmac_key) {
		argv[n++] = "--key-hmac";
		argv[n++] = k->hmac_key;
	}
	for (size_t i = 0; k->args[i]; i++)
		argv[n++] = k->args[i];
	argv[n] = NULL;
	assert_int_equal(ct_run(NULL, argv), 0);
	wire = ct_read_file(pkt);
	assert_non_null(wire);
	wire[strcspn(wire, "\n")] = '\0';

	rc = fko_new_with_data(&ctx, wire, k->key, (int)strlen(k->key), k->mode,
			       k->hmac_key, k->hmac_key ? (int)strlen(k->hmac_key) : 0,
			       k->hmac_type);
	if (rc != FKO_SUCCESS)
		fail_msg("libfko refused the packet: %s (%s)", fko_errstr(rc), wire);
	assert_int_equal(fko_get_spa_message_type(ctx, &t), FKO_SUCCESS);
	assert_int_equal(t, k->type);
	assert_int_equal(fko_get_spa_message(ctx, &s), FKO_SUCCESS);
	assert_string_equal(s, k->msg);
	assert_int_equal(fko_get_spa_nat_access(ctx, &s), FKO_SUCCESS);
	if (k->nat)
		assert_string_equal(s, k->nat);
	else
		assert_true(s == NULL || *s == '\0');
	assert_int_equal(fko_get_spa_client_timeout(ctx, &to), FKO_SUCCESS);
	assert_int_equal(to, k->timeout);
	assert_int_equal(fko_get_spa_digest_type(ctx, &t), FKO_SUCCESS);
	assert_int_equal(t, k->digest);
	assert_int_equal(fko_get_username(ctx, &s), FKO_SUCCESS);
	if (k->user)
		assert_string_equal(s, k->user);
	assert_int_equal(fko_get_timestamp(ctx, &ts), FKO_SUCCESS);
	assert_true(ts > time(NULL) - 10 && ts < time(NULL) + 10);
	fko_destroy(ctx);
	free(wire);
	ct_rmtree(dir);
}

static void test_libfko_opens_client_packets(void **state)
{
	const struct fko_case cases[] = {
		{ ARGS("-A", "tcp/22", "-a", "198.51.100.4"), "key1", "hmac1",
		  FKO_ENC_MODE_CBC, FKO_HMAC_SHA256, FKO_DIGEST_SHA256,
		  FKO_ACCESS_MSG, "198.51.100.4,tcp/22", NULL, 0, NULL },
		{ ARGS("-A", "tcp/22,udp/53", "-s", "-f", "120", "-U", "carol",
		       "-m", "sha512", "--hmac-digest-type", "sha384", "-M", "cfb"),
		  "key2", "hmac2", FKO_ENC_MODE_CFB, FKO_HMAC_SHA384,
		  FKO_DIGEST_SHA512, FKO_CLIENT_TIMEOUT_ACCESS_MSG,
		  "0.0.0.0,tcp/22,udp/53", NULL, 120, "carol" },
		{ ARGS("-A", "tcp/22", "-a", "198.51.100.4", "-N", "192.0.2.7:2222",
		       "-M", "ofb", "-m", "md5", "--hmac-digest-type", "sha1"),
		  "key3", "hmac3", FKO_ENC_MODE_OFB, FKO_HMAC_SHA1, FKO_DIGEST_MD5,
		  FKO_NAT_ACCESS_MSG, "198.51.100.4,tcp/22", "192.0.2.7,2222", 0, NULL },
		{ ARGS("-A", "udp/5000", "-a", "198.51.100.4", "-D", "203.0.113.3",
		       "--nat-local", "--nat-port", "6000", "-f", "30", "-M", "ctr",
		       "--hmac-digest-type", "sha512"),
		  "key4", "hmac4", FKO_ENC_MODE_CTR, FKO_HMAC_SHA512,
		  FKO_DIGEST_SHA256, FKO_CLIENT_TIMEOUT_LOCAL_NAT_ACCESS_MSG,
		  "198.51.100.4,udp/6000", "203.0.113.3,5000", 30, NULL },
		{ ARGS("-C", "uptime", "-a", "198.51.100.4", "-m", "sha1"),
		  "key5", "hmac5", FKO_ENC_MODE_CBC, FKO_HMAC_SHA256, FKO_DIGEST_SHA1,
		  FKO_COMMAND_MSG, "198.51.100.4,uptime", NULL, 0, NULL },
		{ ARGS("-A", "tcp/443", "-a", "198.51.100.4", "-M", "legacy", "-m",
		       "sha384"),
		  "short", NULL, FKO_ENC_MODE_CBC_LEGACY_IV, 0, FKO_DIGEST_SHA384,
		  FKO_ACCESS_MSG, "198.51.100.4,tcp/443", NULL, 0, NULL },
		{ ARGS("-A", "tcp/22", "-a", "198.51.100.4", "-M", "ecb", "-N",
		       "192.0.2.8,22", "-f", "60", "-m", "sha3_256",
		       "--hmac-digest-type", "sha3_512"),
		  "key7", "hmac7", FKO_ENC_MODE_ECB, FKO_HMAC_SHA3_512,
		  FKO_DIGEST_SHA3_256, FKO_CLIENT_TIMEOUT_NAT_ACCESS_MSG,
		  "198.51.100.4,tcp/22", "192.0.2.8,22", 60, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libfko_opens_client_packets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
