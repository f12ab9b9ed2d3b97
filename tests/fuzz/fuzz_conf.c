/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the daemon's configuration parser: the input is
 * written to a private 0600 file (the parser only reads paths, and refuses
 * files others may write) and loaded as fwknopd.conf, as access.conf (then
 * spa_config_finish, which prepares every stanza's keys) and, when it
 * holds a line "%%", as fwknopd.conf before it and access.conf after it
 * into one configuration. A finished configuration is dumped (-D) to
 * /dev/null so the redacting printer reads every value the parser stored.
 * Next to the input lie a keys file and a conf.d folder, so that seeds
 * with %include, %include_keys and %include_folder reach them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_fixture.h"
#include "fuzz_tmp.h"
#include "spa_config.h"
#include "spa_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEP "\n%%\n"

static FILE *devnull;
static int debug;   /* SPA_FUZZ_DEBUG set: say why an input was refused */

static void setup(void)
{
	static const char keys[] = "KEY fuzzkey\nHMAC_KEY fuzzhmackey\n";
	static const char stanza[] = "SOURCE ANY\nKEY folderkey\n";
	char path[512];

	debug = getenv("SPA_FUZZ_DEBUG") != NULL;
	spa_log_setup("fuzz", debug, false, 0);
	devnull = fopen("/dev/null", "w");
	if (devnull == NULL)
		abort();
	fuzz_tmp_write("keys.conf", (const uint8_t *)keys, sizeof(keys) - 1);
	snprintf(path, sizeof(path), "%s/conf.d", fuzz_tmp_dir());
	if (mkdir(path, 0700) < 0)
		abort();
	fuzz_tmp_write("conf.d/a.conf", (const uint8_t *)stanza, sizeof(stanza) - 1);
}

/* A refusal must say why, within the buffer it was given. */
static void check_err(int rc, const char *err, size_t cap)
{
	if (rc == 0)
		return;
	if (rc > 0)
		fuzz_fail("config loader returned a positive code", err);
	if (memchr(err, '\0', cap) == NULL || err[0] == '\0')
		fuzz_fail("config refusal without a message", NULL);
	if (debug)
		fprintf(stderr, "refused: %s\n", err);
}

static void load(const char *server, const char *access)
{
	struct spa_config c;
	char err[1024];
	int rc = 0;

	spa_config_init(&c);
	memset(err, 0, sizeof(err));
	if (server != NULL) {
		rc = spa_config_load_server(&c, server, err, sizeof(err));
		check_err(rc, err, sizeof(err));
	}
	if (rc == 0 && access != NULL) {
		rc = spa_config_load_access(&c, access, false, err, sizeof(err));
		check_err(rc, err, sizeof(err));
		if (rc == 0) {
			rc = spa_config_finish(&c, err, sizeof(err));
			check_err(rc, err, sizeof(err));
		}
		if (rc == 0) {
			if (c.n_stanzas == 0)
				fuzz_fail("finished a configuration without stanzas", NULL);
			rc = spa_config_check_keys(&c, NULL, 0, err, sizeof(err));
			check_err(rc, err, sizeof(err));
		}
	}
	if (rc == 0) {
		spa_config_derive_paths(&c);
		spa_config_dump(&c, devnull);
	}
	spa_config_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const uint8_t *sep;
	const char *path;

	if (!ready) {
		setup();
		ready = 1;
	}
	path = fuzz_tmp_write("input.conf", data, size);
	load(path, NULL);
	load(NULL, path);

	sep = size >= sizeof(SEP) - 1 ? memmem(data, size, SEP, sizeof(SEP) - 1) : NULL;
	if (sep != NULL) {
		size_t head = (size_t)(sep - data) + 1;
		size_t tail_at = head + sizeof(SEP) - 2;
		const char *srv = fuzz_tmp_write("fwknopd.conf", data, head);
		const char *acc = fuzz_tmp_write("access.conf", data + tail_at,
						 size - tail_at);

		load(srv, acc);
	}
	return 0;
}
