/* SPDX-License-Identifier: MIT */
/* ~/.fwknoprc reading and --save-rc-stanza, including files exchanged
 * with Debian's fwknop 2.6.10 when it is installed. */
#include "client_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define FWKNOP "/usr/bin/fwknop"

struct fixture {
	char dir[256];
	char rc[300];
	struct spa_client_cfg *c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	ct_mkdtemp(f->dir, sizeof(f->dir));
	snprintf(f->rc, sizeof(f->rc), "%s/fwknoprc", f->dir);
	f->c = calloc(1, sizeof(*f->c));
	assert_non_null(f->c);
	spa_client_cfg_init(f->c);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	spa_client_cfg_free(f->c);
	free(f->c);
	ct_rmtree(f->dir);
	free(f);
	return 0;
}

static const char sample_rc[] =
	"# a comment\n"
	"[default]\n"
	"DIGEST_TYPE         sha512\n"
	"SPA_SERVER_PORT     40001\n"
	"FW_TIMEOUT          10\n"
	"\n"
	"[other]\n"
	"SPA_SERVER_PORT     1\n"
	"\n"
	"  [Office]\n"
	"ACCESS              tcp/22,udp/53   # trailing comment\n"
	"ALLOW_IP            source\n"
	"SPA_SERVER          203.0.113.10\n"
	"KEY_BASE64:         c2VjcmV0a2V5\n"
	"HMAC_KEY            hmacsecret;x\n"
	"HMAC_DIGEST_TYPE    sha1\n"
	"TIME_OFFSET         -30\n"
	"ENCRYPTION_MODE     ctr\n"
	"VERBOSE             N\n"
	"VERBOSE             2\n"
	"USE_GPG             N\n"
	"GPG_HOMEDIR         /nowhere\n"
	"NO_SAVE_ARGS        y\n"
	"RAND_PORT           N\n"
	"\tNAT_LOCAL\tY\n";

static void test_load_default_and_stanza(void **state)
{
	struct fixture *f = *state;
	struct spa_client_cfg *c = f->c;

	ct_write_file(f->rc, sample_rc, 0600);
	assert_int_equal(spa_client_rc_load(f->rc, "office", true, c), 0);
	assert_int_equal(c->digest_type, SPA_DIGEST_SHA512);   /* from [default] */
	assert_int_equal(c->server_port, 40001);
	assert_int_equal(c->fw_timeout, 10);
	assert_string_equal(c->access, "tcp/22,udp/53");
	assert_int_equal(c->allow_mode, SPA_CLIENT_ALLOW_SOURCE);
	assert_string_equal(c->server, "203.0.113.10");
	assert_string_equal(c->key, "c2VjcmV0a2V5");
	assert_true(c->key_is_b64);
	assert_string_equal(c->hmac_key, "hmacsecret");
	assert_true(c->use_hmac);
	assert_int_equal(c->hmac_type, SPA_DIGEST_SHA1);
	assert_int_equal(c->time_offset, -30);
	assert_int_equal(c->enc_mode, SPA_MODE_CTR);
	assert_int_equal(c->verbose, 2);
	assert_true(c->no_save_args);
	assert_false(c->rand_port);
	assert_true(c->nat_local);
	/* rc values are not command-line values: nothing to save. */
	for (size_t i = 0; i < spa_opt_count; i++)
		assert_null(c->saved[i]);

	/* The command line wins over the file. */
	assert_int_equal(ct_parse(c, ARGS("-m", "md5", "-p", "999")), 0);
	assert_int_equal(c->digest_type, SPA_DIGEST_MD5);
	assert_int_equal(c->server_port, 999);
}

static void test_default_only(void **state)
{
	struct fixture *f = *state;

	ct_write_file(f->rc, sample_rc, 0600);
	assert_int_equal(spa_client_rc_load(f->rc, NULL, true, f->c), 0);
	assert_int_equal(f->c->server_port, 40001);
	assert_string_equal(f->c->access, "");
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	static const char *const bad_files[] = {
		"[default]\nNO_SUCH_VARIABLE 1\n",
		"[default]\nSPA_SERVER_PORT 0\n",
		"[default]\nACCESS tcp/22,\n",
		"[default]\nRESOLVE_URL gopher://x/\n",
		"[default]\nGPG_RECIPIENT\n",
		"[default]\nGPG_SIGNING_PW\n",
		"[default]\nSPA_SERVER_PROTO icmpx\n",
		"[default]\nSPOOF_SOURCE_IP 198.51.100.300\n",
		"[default]\nDIGEST_TYPE\n",
		"[default\nACCESS tcp/22\n",
		"[default]\nCLIENT_TIMEOUT 60\n",
	};

	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		struct spa_client_cfg c;

		spa_client_cfg_init(&c);
		ct_write_file(f->rc, bad_files[i], 0600);
		if (spa_client_rc_load(f->rc, NULL, true, &c) == 0)
			fail_msg("accepted rc file: %s", bad_files[i]);
		spa_client_cfg_free(&c);
	}
	/* Readable or writable by others. */
	ct_write_file(f->rc, sample_rc, 0644);
	assert_true(spa_client_rc_load(f->rc, NULL, true, f->c) < 0);
	ct_write_file(f->rc, sample_rc, 0640);
	assert_true(spa_client_rc_load(f->rc, NULL, true, f->c) < 0);
	ct_write_file(f->rc, sample_rc, 0602);
	assert_true(spa_client_rc_load(f->rc, NULL, true, f->c) < 0);
	/* Missing file, missing stanza. */
	assert_true(spa_client_rc_load("/nonexistent/rc", NULL, true, f->c) < 0);
	ct_write_file(f->rc, sample_rc, 0600);
	assert_true(spa_client_rc_load(f->rc, "nosuch", true, f->c) < 0);
	assert_int_equal(spa_client_rc_load(f->rc, "nosuch", false, f->c), 0);
}

static void test_template(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	char *text;

	assert_int_equal(spa_client_rc_create_template(f->rc), 0);
	assert_int_equal(stat(f->rc, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	text = ct_read_file(f->rc);
	assert_non_null(strstr(text, "\n[default]\n"));
	free(text);
	assert_int_equal(spa_client_rc_load(f->rc, NULL, true, f->c), 0);
	/* An existing file is left alone. */
	ct_write_file(f->rc, "[default]\nFW_TIMEOUT 7\n", 0600);
	assert_int_equal(spa_client_rc_create_template(f->rc), 0);
	assert_int_equal(spa_client_rc_load(f->rc, NULL, true, f->c), 0);
	assert_int_equal(f->c->fw_timeout, 7);
}

/* One -T run with the given --rc-file; the exit status. */
static int run_with_rc(const char *rc)
{
	return ct_run(NULL, ARGS("-T", "-A", "tcp/22", "-a", "203.0.113.1", "-D",
				 "198.51.100.1", "--key-rijndael", "x",
				 "--no-save-args", "--rc-file", rc));
}

static void test_rc_file_created(void **state)
{
	/* fwknop creates a missing --rc-file (0600, [default] stanza). */
	struct fixture *f = *state;
	char target[320], link_path[320], ww[320], ww_rc[340], sticky[320],
	     sticky_rc[340];
	struct stat st;
	char *text;

	assert_int_equal(run_with_rc(f->rc), 0);
	assert_int_equal(lstat(f->rc, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	text = ct_read_file(f->rc);
	assert_non_null(text);
	assert_non_null(strstr(text, "\n[default]\n"));
	free(text);
	/* and it is used as is the next time */
	assert_int_equal(run_with_rc(f->rc), 0);

	/* A symlink, even a dangling one, is never followed. */
	snprintf(target, sizeof(target), "%s/target", f->dir);
	snprintf(link_path, sizeof(link_path), "%s/link", f->dir);
	assert_int_equal(symlink(target, link_path), 0);
	assert_int_equal(run_with_rc(link_path), 1);
	assert_int_equal(lstat(target, &st), -1);

	/* Not created in a directory everyone may write to... */
	snprintf(ww, sizeof(ww), "%s/ww", f->dir);
	snprintf(ww_rc, sizeof(ww_rc), "%s/rc", ww);
	assert_int_equal(mkdir(ww, 0700), 0);
	assert_int_equal(chmod(ww, 0777), 0);
	assert_int_equal(run_with_rc(ww_rc), 1);
	assert_int_equal(lstat(ww_rc, &st), -1);
	/* ...unless it is sticky, as /tmp is: nobody can swap our file. */
	snprintf(sticky, sizeof(sticky), "%s/sticky", f->dir);
	snprintf(sticky_rc, sizeof(sticky_rc), "%s/rc", sticky);
	assert_int_equal(mkdir(sticky, 0700), 0);
	assert_int_equal(chmod(sticky, 01777), 0);
	assert_int_equal(run_with_rc(sticky_rc), 0);
	assert_int_equal(lstat(sticky_rc, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* A world-writable rc file is refused, not rewritten. */
	assert_int_equal(chmod(sticky_rc, 0666), 0);
	assert_int_equal(run_with_rc(sticky_rc), 1);
	assert_int_equal(lstat(sticky_rc, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0666);
}

static void test_save_new_and_reload(void **state)
{
	struct fixture *f = *state;
	struct spa_client_cfg back;
	struct stat st;
	char *text;

	assert_int_equal(ct_parse(f->c, ARGS("-D", "198.51.100.20", "-A", "tcp/22",
					  "-s", "-m", "sha384", "--key-rijndael",
					  "k3y", "--key-base64-hmac", "aG1hYw",
					  "--time-offset-minus", "5m", "-f", "99")), 0);
	assert_int_equal(spa_client_rc_save_stanza(f->rc, "srv", f->c), 0);
	assert_int_equal(stat(f->rc, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	text = ct_read_file(f->rc);
	assert_non_null(strstr(text, "[default]\n"));
	assert_non_null(strstr(text, "[srv]\n"));
	/* fwknop's layout: name padded to 24 columns, then 4 spaces. */
	assert_non_null(strstr(text, "\nSPA_SERVER                  198.51.100.20\n"));
	assert_non_null(strstr(text, "\nUSE_HMAC                    Y\n"));
	free(text);

	spa_client_cfg_init(&back);
	assert_int_equal(spa_client_rc_load(f->rc, "srv", true, &back), 0);
	assert_string_equal(back.server, "198.51.100.20");
	assert_string_equal(back.access, "tcp/22");
	assert_int_equal(back.allow_mode, SPA_CLIENT_ALLOW_SOURCE);
	assert_int_equal(back.digest_type, SPA_DIGEST_SHA384);
	assert_string_equal(back.key, "k3y");
	assert_false(back.key_is_b64);
	assert_string_equal(back.hmac_key, "aG1hYw");
	assert_true(back.hmac_key_is_b64);
	assert_true(back.use_hmac);
	assert_int_equal(back.time_offset, -300);
	assert_int_equal(back.fw_timeout, 99);
	spa_client_cfg_free(&back);
}

static void test_save_replaces_in_place(void **state)
{
	struct fixture *f = *state;
	struct spa_client_cfg *c2 = calloc(1, sizeof(*c2));
	struct spa_client_cfg back;
	char *text;

	assert_non_null(c2);
	ct_write_file(f->rc, sample_rc, 0600);
	/* A key already in the stanza is not replaced without --force-stanza. */
	spa_client_cfg_init(c2);
	assert_int_equal(ct_parse(c2, ARGS("-A", "udp/500", "--key-rijndael", "new")), 0);
	assert_true(spa_client_rc_save_stanza(f->rc, "Office", c2) < 0);
	text = ct_read_file(f->rc);
	assert_string_equal(text, sample_rc);     /* untouched */
	free(text);
	spa_client_cfg_free(c2);

	spa_client_cfg_init(c2);
	assert_int_equal(ct_parse(c2, ARGS("-A", "udp/500", "--key-rijndael", "new",
					"--force-stanza")), 0);
	assert_int_equal(spa_client_rc_save_stanza(f->rc, "Office", c2), 0);
	spa_client_cfg_free(c2);
	free(c2);

	text = ct_read_file(f->rc);
	assert_null(strstr(text, "# a comment"));
	assert_null(strstr(text, "KEY_BASE64"));   /* replaced by KEY */
	assert_non_null(strstr(text, "[other]\n"));
	free(text);

	spa_client_cfg_init(&back);
	assert_int_equal(spa_client_rc_load(f->rc, "office", true, &back), 0);
	assert_string_equal(back.access, "udp/500");
	assert_string_equal(back.key, "new");
	assert_false(back.key_is_b64);
	assert_string_equal(back.server, "203.0.113.10");   /* kept */
	assert_string_equal(back.hmac_key, "hmacsecret");   /* kept */
	assert_int_equal(back.digest_type, SPA_DIGEST_SHA512);
	spa_client_cfg_free(&back);
	spa_client_cfg_init(&back);
	assert_int_equal(spa_client_rc_load(f->rc, "other", true, &back), 0);
	assert_int_equal(back.server_port, 1);
	spa_client_cfg_free(&back);
}

static const char gpg_rc[] =
	"[default]\n"
	"USE_GPG             Y\n"
	"GPG_RECIPIENT       server@example.org\n"
	"GPG_HOMEDIR         /default/gnupg\n"
	"KEY                 rijndael-key\n"
	"\n"
	"[gpg]\n"
	"GPG_SIGNER          ABCD1234\n"
	"GPG_HOMEDIR         /stanza/gnupg\n"
	"GPG_EXE             /usr/bin/gpg\n"
	"GPG_SIGNING_PW      signing-pw\n"
	"USE_GPG_AGENT       Y\n"
	"GPG_NO_SIGNING_PW   Y\n"
	"\n"
	"[gpg64]\n"
	"GPG_SIGNING_PW_BASE64 c2lnbmluZyBwdw\n"
	"\n"
	"[rijndael]\n"
	"USE_GPG             N\n"
	"\n"
	"[names]\n"
	"GPG_RECIPIENT       EC2D8B6F2CF7A5C680A43AB303B4FB75E116C260\n";

/* [default] then the stanza then the command line; GPG_SIGNING_PW is
 * KEY under another name (the later one wins, as in fwknop). */
static void test_gpg_variables(void **state)
{
	struct fixture *f = *state;
	struct spa_client_cfg *c = f->c;
	struct spa_client_cfg d;

	ct_write_file(f->rc, gpg_rc, 0600);
	assert_int_equal(spa_client_rc_load(f->rc, "gpg", true, c), 0);
	assert_true(c->use_gpg);
	assert_string_equal(c->gpg_recipient, "server@example.org");
	assert_string_equal(c->gpg_signer, "ABCD1234");
	assert_string_equal(c->gpg_home, "/stanza/gnupg");
	assert_string_equal(c->gpg_exe, "/usr/bin/gpg");
	assert_string_equal(c->key, "signing-pw");
	assert_false(c->key_is_b64);
	assert_true(c->gpg_agent);
	assert_true(c->gpg_no_signing_pw);
	for (size_t i = 0; i < spa_opt_count; i++)
		assert_null(c->saved[i]);
	assert_int_equal(ct_parse(c, ARGS("--gpg-home-dir", "/cli/gnupg",
					  "--gpg-signer-key", "EF015678")), 0);
	assert_string_equal(c->gpg_home, "/cli/gnupg");
	assert_string_equal(c->gpg_signer, "EF015678");

	spa_client_cfg_init(&d);
	assert_int_equal(spa_client_rc_load(f->rc, "gpg64", true, &d), 0);
	assert_string_equal(d.key, "c2lnbmluZyBwdw");
	assert_true(d.key_is_b64);
	assert_true(d.use_gpg);
	spa_client_cfg_free(&d);

	/* A stanza's N turns [default]'s Y off (fwknop ignores N). */
	spa_client_cfg_init(&d);
	assert_int_equal(spa_client_rc_load(f->rc, "rijndael", true, &d), 0);
	assert_false(d.use_gpg);
	assert_string_equal(d.key, "rijndael-key");
	spa_client_cfg_free(&d);

	/* GnuPG settings without USE_GPG do not switch the mode (fwknop). */
	ct_write_file(f->rc, "[default]\n[names]\nGPG_RECIPIENT x\nGPG_HOMEDIR /h\n"
		      "USE_GPG_AGENT Y\nGPG_NO_SIGNING_PW Y\n", 0600);
	spa_client_cfg_init(&d);
	assert_int_equal(spa_client_rc_load(f->rc, "names", true, &d), 0);
	assert_false(d.use_gpg);
	spa_client_cfg_free(&d);
}

/* --save-rc-stanza writes the GnuPG settings under fwknop's names with
 * USE_GPG Y; GPG_RECIPIENT, GPG_SIGNER and the signing passphrase are
 * kept unless --force-stanza, like the keys. */
static void test_gpg_save(void **state)
{
	struct fixture *f = *state;
	struct spa_client_cfg *c2 = calloc(1, sizeof(*c2));
	struct spa_client_cfg back;
	char *text;

	assert_non_null(c2);
	spa_client_cfg_init(c2);
	assert_int_equal(ct_parse(c2, ARGS("-A", "tcp/22", "--gpg-recip", "srv@example.org",
					"--gpg-signer-key", "ABCD1234", "--gpg-home-dir", "/g",
					"--gpg-exe", "/usr/bin/gpg", "--gpg-agent",
					"--gpg-no-signing-pw")), 0);
	assert_int_equal(spa_client_rc_save_stanza(f->rc, "gs", c2), 0);
	spa_client_cfg_free(c2);
	text = ct_read_file(f->rc);
	assert_non_null(strstr(text, "[gs]\n"));
	assert_non_null(strstr(text, "USE_GPG                     Y\n"));
	assert_non_null(strstr(text, "GPG_RECIPIENT               srv@example.org\n"));
	assert_non_null(strstr(text, "GPG_SIGNER                  ABCD1234\n"));
	assert_non_null(strstr(text, "GPG_HOMEDIR                 /g\n"));
	assert_non_null(strstr(text, "GPG_EXE                     /usr/bin/gpg\n"));
	assert_non_null(strstr(text, "USE_GPG_AGENT               Y\n"));
	assert_non_null(strstr(text, "GPG_NO_SIGNING_PW           Y\n"));
	free(text);
	spa_client_cfg_init(&back);
	assert_int_equal(spa_client_rc_load(f->rc, "gs", true, &back), 0);
	assert_true(back.use_gpg && back.gpg_agent && back.gpg_no_signing_pw);
	assert_string_equal(back.gpg_recipient, "srv@example.org");
	spa_client_cfg_free(&back);

	/* critical: an existing recipient, signer or signing passphrase */
	ct_write_file(f->rc, "[default]\n\n[gs]\nGPG_SIGNING_PW old-pw\n"
		      "GPG_RECIPIENT old@example.org\n", 0600);
	const char *const *refused[] = {
		ARGS("--gpg-recipient-key", "new@example.org"),
		ARGS("--key-rijndael", "new-pw", "-g"),
	};
	for (size_t i = 0; i < 2; i++) {
		spa_client_cfg_init(c2);
		assert_int_equal(ct_parse(c2, refused[i]), 0);
		assert_true(spa_client_rc_save_stanza(f->rc, "gs", c2) < 0);
		spa_client_cfg_free(c2);
	}
	ct_write_file(f->rc, "[default]\n\n[gs]\nGPG_SIGNER old\n", 0600);
	spa_client_cfg_init(c2);
	assert_int_equal(ct_parse(c2, ARGS("--gpg-signer-key", "new")), 0);
	assert_true(spa_client_rc_save_stanza(f->rc, "gs", c2) < 0);
	spa_client_cfg_free(c2);
	spa_client_cfg_init(c2);
	assert_int_equal(ct_parse(c2, ARGS("--gpg-signer-key", "new", "--force-stanza")), 0);
	assert_int_equal(spa_client_rc_save_stanza(f->rc, "gs", c2), 0);
	spa_client_cfg_free(c2);
	free(c2);
	text = ct_read_file(f->rc);
	assert_null(strstr(text, "old"));
	assert_non_null(strstr(text, "GPG_SIGNER                  new\n"));
	free(text);
}

static void test_stanza_list(void **state)
{
	struct fixture *f = *state;
	char out[300];
	char *text;
	FILE *o;

	ct_write_file(f->rc, sample_rc, 0600);
	snprintf(out, sizeof(out), "%s/list", f->dir);
	o = fopen(out, "w");
	assert_non_null(o);
	assert_int_equal(spa_client_rc_list(f->rc, o), 0);
	fclose(o);
	text = ct_read_file(out);
	assert_string_equal(text, "other\nOffice\n");
	free(text);
}

static bool have_fwknop(void)
{
	if (access(FWKNOP, X_OK) == 0)
		return true;
	printf("SKIP: %s not installed\n", FWKNOP);
	return false;
}

/* A stanza written by the real fwknop loads unchanged. */
static void test_reads_fwknop_stanza(void **state)
{
	struct fixture *f = *state;
	char cmd[1024], path[300];
	struct spa_client_cfg c;

	if (!have_fwknop())
		return;
	snprintf(cmd, sizeof(cmd),
		 "HOME='%s' " FWKNOP " -n fwk --save-rc-stanza --force-stanza "
		 "-D 198.51.100.30 -A tcp/22,udp/53 -a 203.0.113.4 "
		 "--key-rijndael fwkey123 --key-hmac fwhmac456 -m sha512 "
		 "--hmac-digest-type sha384 -M cfb -f 60 -p 40100 -U alice "
		 "--time-offset-plus 90 -T --no-save-args >/dev/null 2>&1",
		 f->dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/.fwknoprc", f->dir);
	spa_client_cfg_init(&c);
	assert_int_equal(spa_client_rc_load(path, "fwk", true, &c), 0);
	assert_string_equal(c.server, "198.51.100.30");
	assert_string_equal(c.access, "tcp/22,udp/53");
	assert_string_equal(c.allow_ip, "203.0.113.4");
	assert_string_equal(c.key, "fwkey123");
	assert_string_equal(c.hmac_key, "fwhmac456");
	assert_true(c.use_hmac);
	assert_int_equal(c.digest_type, SPA_DIGEST_SHA512);
	assert_int_equal(c.hmac_type, SPA_DIGEST_SHA384);
	assert_int_equal(c.enc_mode, SPA_MODE_CFB);
	assert_int_equal(c.fw_timeout, 60);
	assert_int_equal(c.server_port, 40100);
	assert_string_equal(c.spoof_user, "alice");
	assert_int_equal(c.time_offset, 90);
	assert_true(c.no_save_args);
	spa_client_cfg_free(&c);
	/* fwknop's template (the commented [default]) loads too. */
	spa_client_cfg_init(&c);
	snprintf(path, sizeof(path), "%s/fwk2", f->dir);
	mkdir(path, 0700);
	snprintf(cmd, sizeof(cmd), "HOME='%s' " FWKNOP " -T -A tcp/22 -a 203.0.113.4 "
		 "--key-rijndael x --no-save-args >/dev/null 2>&1", path);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/fwk2/.fwknoprc", f->dir);
	assert_int_equal(spa_client_rc_load(path, NULL, true, &c), 0);
	spa_client_cfg_free(&c);
}

/* A stanza we write is used by the real fwknop. */
static void test_fwknop_reads_ours(void **state)
{
	struct fixture *f = *state;
	char cmd[1024], out[300], path[300];
	char *text;

	if (!have_fwknop())
		return;
	snprintf(path, sizeof(path), "%s/.fwknoprc", f->dir);
	assert_int_equal(ct_parse(f->c, ARGS("-D", "198.51.100.31", "-A", "udp/53",
					  "-a", "203.0.113.5", "--key-rijndael",
					  "ourkey", "--key-hmac", "ourhmac", "-m",
					  "sha1", "-f", "77", "-U", "bob")), 0);
	assert_int_equal(spa_client_rc_save_stanza(path, "ours", f->c), 0);
	snprintf(out, sizeof(out), "%s/fwknop.out", f->dir);
	snprintf(cmd, sizeof(cmd), "HOME='%s' " FWKNOP " -n ours -T --no-save-args "
		 ">'%s' 2>&1", f->dir, out);
	assert_int_equal(system(cmd), 0);
	text = ct_read_file(out);
	assert_non_null(text);
	assert_non_null(strstr(text, "Message String: 203.0.113.5,udp/53\n"));
	assert_non_null(strstr(text, "Client Timeout: 77\n"));
	assert_non_null(strstr(text, "Username: bob\n"));
	assert_non_null(strstr(text, "Digest Type: 2 (SHA1)\n"));
	assert_non_null(strstr(text, "HMAC Type: 3 (SHA256)\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_default_and_stanza, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_template, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rc_file_created, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_new_and_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_replaces_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpg_variables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpg_save, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stanza_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reads_fwknop_stanza, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fwknop_reads_ours, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
