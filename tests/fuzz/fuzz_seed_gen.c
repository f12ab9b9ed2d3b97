/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpora for the fuzz harnesses, made by the library
 * itself so they track the real format:
 *   OUTDIR/packet_open/     wire packets for every key set x sample, and
 *                           round-trip descriptions (FUZZ_ROUNDTRIP_MARK)
 *   OUTDIR/message_decode/  encoded plaintexts and field strings
 * Every seed is also read back (open / decode) and compared with what was
 * sent: a corpus the receiver refuses would leave the fuzzers stuck at
 * the first layer. Exit status is non-zero if the library refuses or
 * alters any sample, since every sample is valid by the wire format (docs/ARCHITECTURE.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_fixture.h"

static const char *const fuzz_field_seeds[] = {
	"198.51.100.7,tcp/22",
	"0.0.0.0,tcp/22,udp/53,tcp/443,udp/65535",
	"198.51.100.7,/usr/bin/uptime -p",
	"203.0.113.5,22",
	"nat-host.example,8080",
	"255.255.255.255",
	"bob smith",
	"cm9vdA==",
	"MTAuMC4wLjEsdGNwLzIy",
	"1518977831200244:cm9vdA:1795347877:3.0.0:1:MTAuMC4wLjEsdGNwLzIy",
};

static int fuzz_mkdir(const char *path)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "fuzz_seed_gen: mkdir %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int fuzz_write(const char *dir, const char *name, const void *buf,
		      size_t len)
{
	char path[4096];
	FILE *f;
	int rc = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -1;
	f = fopen(path, "wb");
	if (f == NULL) {
		fprintf(stderr, "fuzz_seed_gen: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	if (len == 0 || fwrite(buf, 1, len, f) == len)
		rc = 0;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* Serialises a sample in the layout fuzz_packet_open's round-trip mode
 * reads: mark, key set, salt[8], type, timeout (16 bit), digest, then the
 * '\n'-separated text fields. */
static size_t fuzz_roundtrip_seed(const struct fuzz_sample *s, size_t keyset,
				  uint8_t *out, size_t cap)
{
	size_t n = 0;
	int w;

	out[n++] = FUZZ_ROUNDTRIP_MARK;
	out[n++] = (uint8_t)keyset;
	for (int i = 0; i < 8; i++)
		out[n++] = (uint8_t)(0x11 * (i + 1));
	out[n++] = (uint8_t)s->type;
	out[n++] = (uint8_t)((s->client_timeout >> 8) & 0xff);
	out[n++] = (uint8_t)(s->client_timeout & 0xff);
	out[n++] = (uint8_t)s->digest_type;
	w = snprintf((char *)out + n, cap - n, "%s\n%s\n%s\n%s", s->user,
		     s->message, s->nat ? s->nat : "",
		     s->server_auth ? s->server_auth : "");
	if (w < 0 || (size_t)w >= cap - n)
		return 0;
	return n + (size_t)w;
}

static int fuzz_gen_packets(const char *dir, struct spa_keys **keys)
{
	int failures = 0;

	for (size_t k = 0; k < FUZZ_N_KEYSETS; k++) {
		for (size_t i = 0; i < fuzz_n_samples; i++) {
			struct spa_message m, back;
			char wire[SPA_WIRE_CAP], name[64];
			uint8_t rt[1024];
			size_t len = 0;
			int rc = fuzz_sample_to_message(&fuzz_samples[i], &m);

			if (rc == 0)
				rc = spa_packet_build(&m, keys[k], NULL, wire,
						      sizeof(wire), &len);
			if (rc == 0) {
				memset(&back, 0, sizeof(back));
				rc = spa_packet_open(wire, len, keys[k], &back);
			}
			if (rc == 0) {
				fuzz_check_message(&back);
				fuzz_check_same(&m, &back, "seed packet");
			}
			if (rc != 0) {
				fprintf(stderr,
					"fuzz_seed_gen: key set %zu sample %zu: %s\n",
					k, i, spa_strerror(rc));
				failures++;
				continue;
			}
			snprintf(name, sizeof(name), "wire-k%zu-s%zu", k, i);
			if (fuzz_write(dir, name, wire, len) != 0)
				failures++;
			len = fuzz_roundtrip_seed(&fuzz_samples[i], k, rt,
						  sizeof(rt));
			snprintf(name, sizeof(name), "rt-k%zu-s%zu", k, i);
			if (len == 0 || fuzz_write(dir, name, rt, len) != 0)
				failures++;
		}
	}
	return failures;
}

static int fuzz_gen_plaintexts(const char *dir)
{
	int failures = 0;

	for (size_t i = 0; i < fuzz_n_samples; i++) {
		struct spa_message m, back;
		char p[2048], name[64];
		size_t len = 0;
		int rc = fuzz_sample_to_message(&fuzz_samples[i], &m);

		if (rc == 0)
			rc = spa_message_encode(&m, p, sizeof(p), &len);
		if (rc == 0) {
			memset(&back, 0, sizeof(back));
			rc = spa_message_decode(p, len, &back);
		}
		if (rc == 0) {
			fuzz_check_message(&back);
			fuzz_check_same(&m, &back, "seed plaintext");
		}
		if (rc != 0) {
			fprintf(stderr, "fuzz_seed_gen: encode sample %zu: %s\n",
				i, spa_strerror(rc));
			failures++;
			continue;
		}
		snprintf(name, sizeof(name), "plain-s%zu", i);
		if (fuzz_write(dir, name, p, len) != 0)
			failures++;
	}
	for (size_t i = 0;
	     i < sizeof(fuzz_field_seeds) / sizeof(fuzz_field_seeds[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "field-%zu", i);
		if (fuzz_write(dir, name, fuzz_field_seeds[i],
			       strlen(fuzz_field_seeds[i])) != 0)
			failures++;
	}
	return failures;
}

int main(int argc, char **argv)
{
	struct spa_keys *keys[FUZZ_N_KEYSETS];
	char pdir[4096], ddir[4096];
	int failures;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	if ((size_t)snprintf(pdir, sizeof(pdir), "%s/packet_open", argv[1]) >=
		    sizeof(pdir) ||
	    (size_t)snprintf(ddir, sizeof(ddir), "%s/message_decode",
			     argv[1]) >= sizeof(ddir))
		return 2;
	if (fuzz_mkdir(argv[1]) || fuzz_mkdir(pdir) || fuzz_mkdir(ddir))
		return 1;
	fuzz_keys_load(keys);
	failures = fuzz_gen_packets(pdir, keys);
	failures += fuzz_gen_plaintexts(ddir);
	fuzz_keys_free(keys);
	if (failures != 0) {
		fprintf(stderr, "fuzz_seed_gen: %d seed(s) failed\n", failures);
		return 1;
	}
	printf("fuzz_seed_gen: wrote %zu packet and %zu plaintext seeds to %s\n",
	       2 * FUZZ_N_KEYSETS * fuzz_n_samples,
	       fuzz_n_samples + sizeof(fuzz_field_seeds) /
					sizeof(fuzz_field_seeds[0]),
	       argv[1]);
	return 0;
}
