/* SPDX-License-Identifier: MIT */
/*
 * test_conf_gpg.c - the GnuPG variables of fwknopd.conf and access.conf
 * (docs/GNUPG.md, "spad configuration"). The refusals that need only a
 * line of text are in conf_cases.h (also run through spad itself).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine_helpers.h"
#include "spa_config.h"
#include "spa_log.h"

#define FPR1 "0123456789ABCDEF0123456789ABCDEF01234567"
#define FPR2 "89ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01234567"

/* Warnings logged while loading, one per line. */
static char logged[8192];

static void sink(int level, const char *text)
{
	size_t n = strlen(logged);

	if (level <= SPA_L_WARNING)
		snprintf(logged + n, sizeof(logged) - n, "%s\n", text);
}

/*
 * A fresh dir holding "home" (a GnuPG home), fwknopd.conf, access.conf and,
 * when keys is not NULL, the file "keys"; "@HOME@" in the texts is that
 * home's path. gpg itself is /bin/true unless the server text says
 * otherwise: only its being executable is checked here.
 */
struct gpg_env {
	char dir[64];
	char home[128];
	char err[SPA_CONF_ERR_LEN];
	struct spa_config c;
};

static void subst(const char *text, const char *home, char *out, size_t cap)
{
	const char *at;
	size_t n = 0;

	out[0] = '\0';
	while ((at = strstr(text, "@HOME@"))) {
		n += (size_t)snprintf(out + n, cap - n, "%.*s%s", (int)(at - text), text, home);
		text = at + 6;
		assert_true(n < cap);
	}
	snprintf(out + n, cap - n, "%s", text);
}

static int env_load(struct gpg_env *e, const char *server, const char *access, const char *keys)
{
	char text[8192], path[4096], body[8192];
	int rc;

	th_tmpdir(e->dir, sizeof(e->dir));
	snprintf(e->home, sizeof(e->home), "%s/home", e->dir);
	assert_int_equal(mkdir(e->home, 0700), 0);
	spa_config_init(&e->c);
	e->err[0] = logged[0] = '\0';
	spa_log_set_sink(sink);
	if (keys)
		th_write(e->dir, "keys", keys, NULL, 0);
	snprintf(body, sizeof(body), "GPG_EXE /bin/true\n%s", server ? server : "");
	subst(body, e->home, text, sizeof(text));
	th_write(e->dir, "fwknopd.conf", text, path, sizeof(path));
	rc = spa_config_load_server(&e->c, path, e->err, sizeof(e->err));
	if (rc == 0) {
		subst(access, e->home, text, sizeof(text));
		th_write(e->dir, "access.conf", text, path, sizeof(path));
		rc = spa_config_load_access(&e->c, path, false, e->err, sizeof(e->err));
	}
	if (rc == 0)
		rc = spa_config_finish(&e->c, e->err, sizeof(e->err));
	spa_log_set_sink(NULL);
	return rc;
}

static void env_done(struct gpg_env *e)
{
	spa_config_free(&e->c);
	th_rmrf(e->dir);
}

static void test_server_defaults(void **state)
{
	struct gpg_env e;
	(void)state;

	spa_config_init(&e.c);
	assert_string_equal(e.c.gpg_home_dir, "/root/.gnupg");
	assert_string_equal(e.c.gpg_exe, "/usr/bin/gpg");
	assert_int_equal(e.c.gpg_max_concurrent, 2);
	assert_int_equal(e.c.gpg_max_per_second, 20);
	assert_int_equal(e.c.gpg_max_busy_percent, 25);
	spa_config_free(&e.c);

	assert_int_equal(env_load(&e, NULL, "SOURCE ANY\nKEY k\n", NULL), 0);
	/* no GPG_ variable: no GnuPG settings at all */
	assert_null(e.c.stanzas[0].gpg);
	env_done(&e);

	/* a missing /root/.gnupg does not matter while no stanza uses it */
	assert_int_equal(env_load(&e, "GPG_HOME_DIR /nonexistent-spa-gpg;\nGPG_EXE /bin/true\n"
				  "GPG_MAX_CONCURRENT 64\nGPG_MAX_PER_SECOND 100000\n",
				  "SOURCE ANY\nKEY k\n", NULL), 0);
	assert_string_equal(e.c.gpg_home_dir, "/nonexistent-spa-gpg");
	assert_string_equal(e.c.gpg_exe, "/bin/true");
	assert_int_equal(e.c.gpg_max_concurrent, 64);
	assert_int_equal(e.c.gpg_max_per_second, 100000);
	env_done(&e);
}

/* fwknop's own test suite's GnuPG stanza, as fwknopd takes it. */
static void test_fwknop_stanza(void **state)
{
	struct gpg_env e;
	const struct spa_stanza_gpg *g;
	(void)state;

	assert_int_equal(env_load(&e, NULL,
				  "SOURCE ANY\n"
				  "GPG_REMOTE_ID 6a3fad56\n"
				  "GPG_DECRYPT_ID 361BBAD4\n"
				  "GPG_DECRYPT_PW fwknoptest\n"
				  "GPG_HOME_DIR @HOME@\n"
				  "FW_ACCESS_TIMEOUT 3\n", NULL), 0);
	assert_non_null(e.c.stanzas[0].gpg);
	g = e.c.stanzas[0].gpg;
	assert_true(g->enabled);
	assert_true(g->has_decrypt_pw);
	assert_string_equal(g->decrypt_pw, "fwknoptest");
	assert_false(g->allow_no_pw);
	assert_true(g->require_sig);        /* fwknopd's default */
	assert_false(g->disable_sig);
	assert_false(g->ignore_sig_verify_error);
	assert_string_equal(g->decrypt_id, "361BBAD4");
	assert_string_equal(g->home_dir, e.home);
	assert_string_equal(g->exe, "");    /* fwknopd.conf's */
	assert_int_equal(e.c.stanzas[0].fw_access_timeout, 3);
	assert_int_equal(g->n_remote_ids, 1);
	assert_string_equal(g->remote_ids[0], "6A3FAD56");
	assert_int_equal(g->n_fingerprints, 0);
	/* no AES key and no HMAC key: neither key set */
	assert_null(e.c.stanzas[0].keys);
	assert_null(g->hmac_keys);
	/* the short id is accepted, with a warning naming where it is */
	assert_non_null(strstr(logged, "access.conf:2: GPG_REMOTE_ID 6A3FAD56: a short key id "
				       "can be forged"));
	assert_non_null(strstr(logged, "GPG_FINGERPRINT_ID"));
	env_done(&e);
}

static void test_lists_and_switches(void **state)
{
	struct gpg_env e;
	const struct spa_stanza_gpg *g;
	(void)state;

	assert_int_equal(env_load(&e, "GPG_HOME_DIR @HOME@\n",
				  "SOURCE ANY\n"
				  "GPG_ALLOW_NO_PW Y\n"
				  "GPG_REMOTE_ID 0123456789abcdef , 89ABCDEF01234567\n"
				  /* as gpg --fingerprint prints it, and lower case */
				  "GPG_FINGERPRINT_ID 0123 4567 89AB CDEF 0123  4567 89ab cdef 0123 "
				  "4567, " FPR2 "\n"
				  "GPG_IGNORE_SIG_VERIFY_ERROR Y\n"
				  "ENCRYPTION_MODE Asymmetric\n"
				  "HMAC_KEY_BASE64 aG1hY2tleWhtYWNrZXk=\n"
				  "HMAC_DIGEST_TYPE sha512\n", NULL), 0);
	g = e.c.stanzas[0].gpg;
	assert_true(g->enabled);
	assert_true(g->allow_no_pw);
	assert_false(g->has_decrypt_pw);
	assert_int_equal(g->n_remote_ids, 2);
	assert_string_equal(g->remote_ids[0], "0123456789ABCDEF");
	assert_string_equal(g->remote_ids[1], "89ABCDEF01234567");
	assert_int_equal(g->n_fingerprints, 2);
	assert_string_equal(g->fingerprints[0], FPR1);
	assert_string_equal(g->fingerprints[1], FPR2);
	assert_true(g->ignore_sig_verify_error);
	/* long ids and fingerprints: no forgery warning; the verify switch
	 * gets one */
	assert_null(strstr(logged, "can be forged"));
	assert_non_null(strstr(logged, "GPG_IGNORE_SIG_VERIFY_ERROR Y accepts"));
	/* the HMAC key makes an HMAC-only key set for the GnuPG path */
	assert_null(e.c.stanzas[0].keys);
	assert_non_null(g->hmac_keys);
	assert_int_equal(spa_keys_hmac_type(g->hmac_keys), SPA_DIGEST_SHA512);
	assert_int_equal(spa_keys_enc_mode(g->hmac_keys), SPA_MODE_ASYMMETRIC);
	env_done(&e);

	/* GPG_DISABLE_SIG: no signer list needed, no signature required
	 * whatever GPG_REQUIRE_SIG says; a stanza with both an AES key and
	 * GnuPG gets both key sets from one HMAC key */
	assert_int_equal(env_load(&e, NULL,
				  "SOURCE ANY\nKEY aeskey\nHMAC_KEY hmackey\n"
				  "GPG_DECRYPT_PW pw\nGPG_REQUIRE_SIG Y\nGPG_DISABLE_SIG Y\n"
				  "GPG_HOME_DIR @HOME@\nGPG_EXE /bin/sh\n", NULL), 0);
	g = e.c.stanzas[0].gpg;
	assert_true(g->enabled);
	assert_true(g->disable_sig);
	assert_false(g->require_sig);
	assert_string_equal(g->exe, "/bin/sh");
	assert_non_null(e.c.stanzas[0].keys);
	assert_non_null(g->hmac_keys);
	assert_int_equal(spa_keys_hmac_type(g->hmac_keys), SPA_DIGEST_SHA256);
	env_done(&e);

	/* GPG_ variables without a passphrase or GPG_ALLOW_NO_PW: an AES
	 * stanza that loads, with a warning; nothing about GnuPG is checked */
	assert_int_equal(env_load(&e, NULL, "SOURCE ANY\nKEY k\nGPG_REMOTE_ID 6A3FAD56\n"
				  "GPG_HOME_DIR /nonexistent-spa-gpg\n", NULL), 0);
	assert_false(e.c.stanzas[0].gpg->enabled);
	assert_null(e.c.stanzas[0].gpg->hmac_keys);
	assert_non_null(strstr(logged, "access.conf:1: GPG_ variables without GPG_DECRYPT_PW"));
	env_done(&e);

	/* a later line replaces the list */
	assert_int_equal(env_load(&e, NULL, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_HOME_DIR @HOME@\n"
				  "GPG_FINGERPRINT_ID " FPR2 "," FPR1 "\n"
				  "GPG_FINGERPRINT_ID " FPR1 "\n", NULL), 0);
	assert_int_equal(e.c.stanzas[0].gpg->n_fingerprints, 1);
	assert_string_equal(e.c.stanzas[0].gpg->fingerprints[0], FPR1);
	env_done(&e);
}

/* The home dir and gpg a stanza uses: its own, else fwknopd.conf's; the
 * error names the stanza, the path and where it came from. */
static void test_paths(void **state)
{
	struct gpg_env e;
	(void)state;

	assert_int_equal(env_load(&e, "GPG_HOME_DIR /nonexistent-spa-gpg\n",
				  "SOURCE ANY\nKEY k\n"
				  "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_DISABLE_SIG Y\n", NULL),
			 -EINVAL);
	assert_non_null(strstr(e.err, "access.conf:3: GPG_HOME_DIR /nonexistent-spa-gpg "
				      "(fwknopd.conf GPG_HOME_DIR): No such file"));
	env_done(&e);
	/* the stanza's own dir wins */
	assert_int_equal(env_load(&e, "GPG_HOME_DIR /nonexistent-spa-gpg\n",
				  "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_DISABLE_SIG Y\n"
				  "GPG_HOME_DIR @HOME@\n", NULL), 0);
	env_done(&e);
	assert_int_equal(env_load(&e, "GPG_HOME_DIR @HOME@\nGPG_EXE /nonexistent/gpg2\n",
				  "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_DISABLE_SIG Y\n", NULL),
			 -EINVAL);
	assert_non_null(strstr(e.err, "access.conf:1: GPG_EXE /nonexistent/gpg2 (fwknopd.conf "
				      "GPG_EXE) is not an executable file"));
	env_done(&e);
	assert_int_equal(env_load(&e, "GPG_HOME_DIR @HOME@\nGPG_EXE /nonexistent/gpg2\n",
				  "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_DISABLE_SIG Y\n"
				  "GPG_EXE /bin/true\n", NULL), 0);
	env_done(&e);
}

/* %include_keys takes the key and signer variables, not the paths. */
static void test_include_keys(void **state)
{
	struct gpg_env e;
	const struct spa_stanza_gpg *g;
	(void)state;

	assert_int_equal(env_load(&e, NULL, "SOURCE ANY\nGPG_HOME_DIR @HOME@\n%include_keys keys\n",
				  "GPG_DECRYPT_PW fromfile\nGPG_DECRYPT_ID 361BBAD4\n"
				  "GPG_ALLOW_NO_PW N\nGPG_REQUIRE_SIG Y\nGPG_DISABLE_SIG N\n"
				  "GPG_IGNORE_SIG_VERIFY_ERROR N\nGPG_FINGERPRINT_ID " FPR1 "\n"
				  "GPG_REMOTE_ID 6A3FAD56\nHMAC_KEY hmackey\n"), 0);
	g = e.c.stanzas[0].gpg;
	assert_true(g->enabled);
	assert_string_equal(g->decrypt_pw, "fromfile");
	assert_string_equal(g->decrypt_id, "361BBAD4");
	assert_string_equal(g->fingerprints[0], FPR1);
	assert_non_null(g->hmac_keys);
	/* the warning names the keys file's line */
	assert_non_null(strstr(logged, "keys:8: GPG_REMOTE_ID 6A3FAD56: a short key id"));
	env_done(&e);

	assert_int_equal(env_load(&e, NULL, "SOURCE ANY\n%include_keys keys\n",
				  "GPG_ALLOW_NO_PW Y\nGPG_HOME_DIR @HOME@\n"), -EINVAL);
	assert_non_null(strstr(e.err, "keys:2: GPG_HOME_DIR"));
	assert_non_null(strstr(e.err, "only key variables"));
	env_done(&e);
	assert_int_equal(env_load(&e, NULL, "SOURCE ANY\n%include_keys keys\n",
				  "GPG_ALLOW_NO_PW Y\nGPG_EXE /bin/true\n"), -EINVAL);
	assert_non_null(strstr(e.err, "keys:2: GPG_EXE"));
	env_done(&e);
}

/* -D shows every setting, never the passphrase. */
static void test_dump(void **state)
{
	struct gpg_env e;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	(void)state;

	assert_int_equal(env_load(&e, "GPG_HOME_DIR @HOME@\nGPG_MAX_PER_SECOND 7\n",
				  "SOURCE ANY\nKEY k\n"
				  "SOURCE ANY\nGPG_DECRYPT_PW Sup3r-s3cret-pw\n"
				  "GPG_FINGERPRINT_ID " FPR1 "\nGPG_REMOTE_ID 6A3FAD56\n"
				  "HMAC_KEY hmackey\n", NULL), 0);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	spa_config_dump(&e.c, f);
	fclose(f);
	assert_null(strstr(text, "Sup3r-s3cret-pw"));
	assert_non_null(strstr(text, "GPG_DECRYPT_PW           <redacted, 15 bytes>"));
	assert_non_null(strstr(text, "GPG_MAX_PER_SECOND       7\n"));
	assert_non_null(strstr(text, "GPG_MAX_CONCURRENT       2\n"));
	assert_non_null(strstr(text, "GPG_EXE                  /bin/true\n"));
	assert_non_null(strstr(text, "GnuPG                    (no GPG_ variable"));
	assert_non_null(strstr(text, "GnuPG                    enabled\n"));
	assert_non_null(strstr(text, "GPG_FINGERPRINT_ID       " FPR1 "\n"));
	assert_non_null(strstr(text, "GPG_REMOTE_ID            6A3FAD56\n"));
	assert_non_null(strstr(text, "GPG_REQUIRE_SIG          Y\n"));
	assert_non_null(strstr(text, "(fwknopd.conf GPG_HOME_DIR)"));
	assert_non_null(strstr(text, "GnuPG HMAC               sha256\n"));
	free(text);
	env_done(&e);
}

/* A refused passphrase is not repeated in the error (it ends up in logs). */
static void test_pw_not_in_errors(void **state)
{
	struct gpg_env e;
	char access[1024], pw[SPA_GPG_PW_MAX + 2];
	(void)state;

	memset(pw, 'q', sizeof(pw) - 1);
	pw[sizeof(pw) - 1] = '\0';
	snprintf(access, sizeof(access), "SOURCE ANY\nGPG_DECRYPT_PW %s\n", pw);
	assert_int_equal(env_load(&e, NULL, access, NULL), -EINVAL);
	assert_non_null(strstr(e.err, "access.conf:2: GPG_DECRYPT_PW '<redacted>': passphrase "
				      "longer than 256 bytes"));
	assert_null(strstr(e.err, "qqqq"));
	env_done(&e);
	/* exactly the limit loads, trailing blanks kept as fwknopd does */
	pw[SPA_GPG_PW_MAX - 2] = ' ';
	pw[SPA_GPG_PW_MAX] = '\0';
	snprintf(access, sizeof(access), "SOURCE ANY\nGPG_DECRYPT_PW %s;\nGPG_DISABLE_SIG Y\n"
		 "GPG_HOME_DIR @HOME@\n", pw);
	assert_int_equal(env_load(&e, NULL, access, NULL), 0);
	assert_int_equal(strlen(e.c.stanzas[0].gpg->decrypt_pw), SPA_GPG_PW_MAX);
	assert_memory_equal(e.c.stanzas[0].gpg->decrypt_pw, pw, SPA_GPG_PW_MAX);
	env_done(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_defaults),
		cmocka_unit_test(test_fwknop_stanza),
		cmocka_unit_test(test_lists_and_switches),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_include_keys),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_pw_not_in_errors),
	};
	spa_log_setup("test", false, false, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
