/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the client's ~/.fwknoprc reader: the input is
 * written to a private 0600 file and read as spa-client reads it ([default]
 * then a named stanza, with and without the stanza required), listed
 * (--stanza-list), and rewritten by --save-rc-stanza with nothing given on
 * the command line. That rewrite keeps every variable, so a file that
 * loaded must load again from the rewrite to the very same settings.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_fixture.h"
#include "fuzz_tmp.h"
#include "spa_client.h"

/* Field by field: a memcmp of the whole struct would read its padding. */
#define SAME(f) (a->f == b->f)
#define SAME_TEXT(f) (strncmp(a->f, b->f, sizeof(a->f)) == 0)

static bool same_settings(const struct spa_client_cfg *a, const struct spa_client_cfg *b)
{
	return SAME_TEXT(access) && SAME_TEXT(allow_ip) && SAME(allow_mode) &&
	       SAME_TEXT(server) && SAME(family) && SAME(server_port) &&
	       SAME(source_port) && SAME(proto) && SAME(rand_port) && SAME(fw_timeout) &&
	       SAME_TEXT(spoof_user) && SAME(digest_type) && SAME(hmac_type) &&
	       SAME(enc_mode) && SAME_TEXT(key) && SAME(key_len) && SAME(key_is_b64) &&
	       SAME_TEXT(hmac_key) && SAME(hmac_key_len) && SAME(hmac_key_is_b64) &&
	       SAME(use_hmac) && SAME_TEXT(key_file) && SAME_TEXT(hmac_key_file) &&
	       SAME(time_offset) && SAME_TEXT(server_cmd) && SAME_TEXT(nat_access) &&
	       SAME(nat_local) && SAME(nat_port) && SAME(nat_rand_port) &&
	       SAME_TEXT(user_agent) && SAME_TEXT(spoof_src) && SAME_TEXT(proxy_host) &&
	       SAME(proxy_port) && SAME(icmp_type) && SAME(icmp_code) &&
	       SAME_TEXT(wget_cmd) && SAME(use_wget_ua) && SAME_TEXT(resolve_url) &&
	       SAME(resolve_http_only) && SAME(verbose) && SAME(no_save_args);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

/* --save-rc-stanza reports on stdout each time; the replay driver's
 * summary goes there too, so stdout is pointed away only around it
 * (stderr, where a sanitizer report goes, is left alone). */
static int save_quietly(const char *path, const struct spa_client_cfg *c)
{
	int saved, rc;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved >= 0)
		dup2(fileno(devnull), STDOUT_FILENO);
	rc = spa_client_rc_save_stanza(path, "srv", c);
	fflush(stdout);
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	return rc;
}

static int load(const char *path, const char *stanza, bool require,
		struct spa_client_cfg *c)
{
	int rc;

	spa_client_cfg_init(c);
	rc = spa_client_rc_load(path, stanza, require, c);
	if (rc > 0)
		fuzz_fail("rc load returned a positive code", NULL);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spa_client_cfg a, b, empty;
	const char *path;
	int rc;

	if (devnull == NULL) {
		devnull = fopen("/dev/null", "w");
		if (devnull == NULL)
			abort();
	}
	path = fuzz_tmp_write("fwknoprc", data, size);
	rc = load(path, "srv", true, &a);
	spa_client_cfg_free(&a);
	(void)spa_client_rc_list(path, devnull);

	rc = load(path, "srv", false, &a);
	spa_client_cfg_init(&empty);
	if (save_quietly(path, &empty) == 0) {
		int again = load(path, "srv", false, &b);

		if (rc == 0 && again != 0)
			fuzz_fail("an rc file that loaded does not load once rewritten", NULL);
		if (rc == 0 && again == 0 && !same_settings(&a, &b))
			fuzz_fail("rewriting an rc file changed its settings", NULL);
		spa_client_cfg_free(&b);
	}
	spa_client_cfg_free(&empty);
	spa_client_cfg_free(&a);
	return 0;
}
