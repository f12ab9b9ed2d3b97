/* SPDX-License-Identifier: MIT */
/* Key generation (docs/man/spa-client.1) and the ways a key reaches the client. */
#include "client_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Checks one "NAME: <padded base64>" line and returns the decoded size. */
static size_t check_line(const char *line, const char *name)
{
	uint8_t raw[256];
	size_t nlen = strlen(name), len, b64len;
	const char *b64;

	assert_int_equal(strncmp(line, name, nlen), 0);
	assert_int_equal(strncmp(line + nlen, ": ", 2), 0);
	b64 = line + nlen + 2;
	b64len = strcspn(b64, "\n");
	assert_int_equal(b64len % 4, 0);   /* padding kept */
	assert_int_equal(spa_b64_decode(b64, b64len, raw, sizeof(raw), &len), 0);
	assert_int_equal(b64len, (len + 2) / 3 * 4);
	return len;
}

static void keygen_sizes(const char *const *args, size_t want_key,
			 size_t want_hmac)
{
	char dir[256], out[300];
	char *text, *second;

	ct_mkdtemp(dir, sizeof(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	assert_int_equal(ct_run(out, args), 0);
	text = ct_read_file(out);
	assert_non_null(text);
	assert_int_equal(check_line(text, "KEY_BASE64"), want_key);
	second = strchr(text, '\n');
	assert_non_null(second);
	assert_int_equal(check_line(second + 1, "HMAC_KEY_BASE64"), want_hmac);
	assert_string_equal(strchr(second + 1, '\n'), "\n");   /* two lines only */
	free(text);
	ct_rmtree(dir);
}

static void test_keygen_sizes(void **state)
{
	(void)state;
	keygen_sizes(ARGS("-k", "--no-rc-file", "--no-save-args"), 32, 64);
	keygen_sizes(ARGS("--key-gen", "--hmac-digest-type", "md5", "--no-rc-file",
			  "--no-save-args"), 32, 16);
	keygen_sizes(ARGS("-k", "--hmac-digest-type", "sha1", "--no-rc-file",
			  "--no-save-args"), 32, 20);
	keygen_sizes(ARGS("-k", "--hmac-digest-type", "sha384", "--no-rc-file",
			  "--no-save-args"), 32, 128);
	keygen_sizes(ARGS("-k", "--hmac-digest-type", "sha512", "--no-rc-file",
			  "--no-save-args"), 32, 128);
	keygen_sizes(ARGS("-k", "--key-len", "16", "--hmac-key-len", "100",
			  "--no-rc-file", "--no-save-args"), 16, 100);
	keygen_sizes(ARGS("-k", "--key-len", "1", "--hmac-key-len", "1",
			  "--no-rc-file", "--no-save-args"), 1, 1);
}

static void test_keygen_random_and_file(void **state)
{
	char k1[64], h1[192], k2[64], h2[192];
	char dir[256], path[300], rc[300];
	struct spa_client_cfg c;
	struct stat st;
	char *text, *rctext;

	(void)state;
	spa_client_cfg_init(&c);
	assert_int_equal(spa_client_keygen(&c, NULL, k1, sizeof(k1), h1, sizeof(h1)), 0);
	assert_int_equal(spa_client_keygen(&c, NULL, k2, sizeof(k2), h2, sizeof(h2)), 0);
	assert_string_not_equal(k1, k2);
	assert_string_not_equal(h1, h2);
	spa_client_cfg_free(&c);

	ct_mkdtemp(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	snprintf(rc, sizeof(rc), "%s/rc", dir);
	ct_write_file(path, "old content that must go away\n", 0644);
	assert_int_equal(ct_run(NULL, ARGS("-K", path, "--rc-file", rc,
					 "--save-rc-stanza", "-n", "gen",
					 "--no-save-args")), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	text = ct_read_file(path);
	assert_null(strstr(text, "old content"));
	assert_int_equal(check_line(text, "KEY_BASE64"), 32);
	/* The same keys went into the stanza. */
	rctext = ct_read_file(rc);
	assert_non_null(rctext);
	{
		char want[200];
		const char *k = text + strlen("KEY_BASE64: ");

		snprintf(want, sizeof(want), "KEY_BASE64                  %.*s\n",
			 (int)strcspn(k, "\n"), k);
		assert_non_null(strstr(rctext, want));
		assert_non_null(strstr(rctext, "[gen]\n"));
		assert_non_null(strstr(rctext, "\nUSE_HMAC                    Y\n"));
		assert_non_null(strstr(rctext, "\nHMAC_KEY_BASE64             "));
	}
	free(rctext);
	free(text);
	ct_rmtree(dir);
}

static void test_key_file_lookup(void **state)
{
	char dir[256], path[300], key[128];

	(void)state;
	ct_mkdtemp(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	ct_write_file(path,
		      "# keys\n"
		      "198.51.100.1: alpha\n"
		      "host.example = beta\n"
		      "other   gamma\r\n"
		      "2001:db8::5: delta\n", 0600);
	assert_int_equal(spa_client_key_file_lookup(path, "198.51.100.1", key,
						    sizeof(key)), 0);
	assert_string_equal(key, "alpha");
	assert_int_equal(spa_client_key_file_lookup(path, "host.example", key,
						    sizeof(key)), 0);
	assert_string_equal(key, "beta");
	assert_int_equal(spa_client_key_file_lookup(path, "other", key, sizeof(key)), 0);
	assert_string_equal(key, "gamma");
	assert_true(spa_client_key_file_lookup(path, "198.51.100.2", key,
					       sizeof(key)) < 0);
	assert_true(spa_client_key_file_lookup(path, "keys", key, sizeof(key)) < 0);
	assert_true(spa_client_key_file_lookup("/nonexistent", "x", key,
					       sizeof(key)) < 0);
	ct_rmtree(dir);
}

static void test_key_sources(void **state)
{
	struct spa_client_cfg c;
	struct spa_client_keys k;
	int fds[2];

	(void)state;
	/* base64 key and HMAC key */
	spa_client_cfg_init(&c);
	assert_int_equal(ct_parse(&c, ARGS("--key-base64-rijndael", "c2VjcmV0",
					"--key-base64-hmac", "aG1hYw==")), 0);
	assert_int_equal(spa_client_keys_get(&c, &k), 0);
	assert_int_equal(k.enc_len, 6);
	assert_memory_equal(k.enc, "secret", 6);
	assert_true(k.have_hmac);
	assert_int_equal(k.hmac_len, 4);
	assert_memory_equal(k.hmac, "hmac", 4);
	spa_client_keys_wipe(&k);
	spa_client_cfg_free(&c);

	/* A 33-byte Rijndael key is refused. */
	spa_client_cfg_init(&c);
	assert_int_equal(ct_parse(&c, ARGS("--key-rijndael",
					"012345678901234567890123456789012")), 0);
	assert_true(spa_client_keys_get(&c, &k) < 0);
	spa_client_cfg_free(&c);

	/* As in fwknop, --fd stands in for the prompt: a key given otherwise
	 * wins and the descriptor is not read for it. */
	spa_client_cfg_init(&c);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "piped-key\nrest", 14), 14);
	close(fds[1]);
	{
		char num[16];

		snprintf(num, sizeof(num), "%d", fds[0]);
		assert_int_equal(ct_parse(&c, ARGS("--key-rijndael", "given",
						"--fd", num)), 0);
	}
	assert_int_equal(spa_client_keys_get(&c, &k), 0);
	assert_int_equal(k.enc_len, 5);
	assert_memory_equal(k.enc, "given", 5);
	assert_false(k.have_hmac);
	close(fds[0]);
	spa_client_keys_wipe(&k);
	spa_client_cfg_free(&c);

	/* Both keys from one descriptor: the key, then the HMAC key. */
	spa_client_cfg_init(&c);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "enc-line\nhmac-line\n", 19), 19);
	close(fds[1]);
	{
		char num[16];

		snprintf(num, sizeof(num), "%d", fds[0]);
		assert_int_equal(ct_parse(&c, ARGS("--fd", num, "--use-hmac")), 0);
	}
	assert_int_equal(spa_client_keys_get(&c, &k), 0);
	assert_int_equal(k.enc_len, 8);
	assert_memory_equal(k.enc, "enc-line", 8);
	assert_true(k.have_hmac);
	assert_int_equal(k.hmac_len, 9);
	assert_memory_equal(k.hmac, "hmac-line", 9);
	close(fds[0]);
	spa_client_keys_wipe(&k);
	spa_client_cfg_free(&c);

	/* Key given, HMAC key missing: the descriptor's first line is the
	 * HMAC key (fwknop 2.6.10 does the same). */
	spa_client_cfg_init(&c);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "hmac-only\n", 10), 10);
	close(fds[1]);
	{
		char num[16];

		snprintf(num, sizeof(num), "%d", fds[0]);
		assert_int_equal(ct_parse(&c, ARGS("--key-rijndael", "given",
						"--use-hmac", "--fd", num)), 0);
	}
	assert_int_equal(spa_client_keys_get(&c, &k), 0);
	assert_memory_equal(k.enc, "given", 5);
	assert_true(k.have_hmac);
	assert_int_equal(k.hmac_len, 9);
	assert_memory_equal(k.hmac, "hmac-only", 9);
	close(fds[0]);
	spa_client_keys_wipe(&k);
	spa_client_cfg_free(&c);

	/* Both needed and only one line: an error, never an empty key. */
	spa_client_cfg_init(&c);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "enc-line\n", 9), 9);
	close(fds[1]);
	{
		char num[16];

		snprintf(num, sizeof(num), "%d", fds[0]);
		assert_int_equal(ct_parse(&c, ARGS("--fd", num, "--use-hmac")), 0);
	}
	assert_true(spa_client_keys_get(&c, &k) < 0);
	assert_int_equal(k.enc_len, 0);   /* wiped on failure */
	close(fds[0]);
	spa_client_cfg_free(&c);

	/* --stdin the same way: two lines for two keys. */
	spa_client_cfg_init(&c);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "s-enc\ns-hmac\n", 14), 14);
	close(fds[1]);
	{
		int saved = dup(STDIN_FILENO);

		assert_true(saved >= 0);
		assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
		close(fds[0]);
		assert_int_equal(ct_parse(&c, ARGS("--stdin", "--use-hmac")), 0);
		assert_int_equal(spa_client_keys_get(&c, &k), 0);
		dup2(saved, STDIN_FILENO);
		close(saved);
	}
	assert_int_equal(k.enc_len, 5);
	assert_memory_equal(k.enc, "s-enc", 5);
	assert_true(k.have_hmac);
	assert_int_equal(k.hmac_len, 6);
	assert_memory_equal(k.hmac, "s-hmac", 6);
	spa_client_keys_wipe(&k);
	spa_client_cfg_free(&c);

	/* --stdin reads the first line of standard input. */
	spa_client_cfg_init(&c);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "stdin-key\n", 10), 10);
	close(fds[1]);
	{
		int saved = dup(STDIN_FILENO);

		assert_true(saved >= 0);
		assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
		close(fds[0]);
		assert_int_equal(ct_parse(&c, ARGS("--stdin", "--key-hmac", "hk")), 0);
		assert_int_equal(spa_client_keys_get(&c, &k), 0);
		dup2(saved, STDIN_FILENO);
		close(saved);
	}
	assert_int_equal(k.enc_len, 9);
	assert_memory_equal(k.enc, "stdin-key", 9);
	assert_true(k.have_hmac);
	assert_memory_equal(k.hmac, "hk", 2);
	spa_client_keys_wipe(&k);
	spa_client_cfg_free(&c);

	/* --fd with nothing to read is an error, not an empty key. */
	spa_client_cfg_init(&c);
	assert_int_equal(pipe(fds), 0);
	close(fds[1]);
	{
		char num[16];

		snprintf(num, sizeof(num), "%d", fds[0]);
		assert_int_equal(ct_parse(&c, ARGS("--fd", num)), 0);
	}
	assert_true(spa_client_keys_get(&c, &k) < 0);
	close(fds[0]);
	spa_client_cfg_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keygen_sizes),
		cmocka_unit_test(test_keygen_random_and_file),
		cmocka_unit_test(test_key_file_lookup),
		cmocka_unit_test(test_key_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
