/* SPDX-License-Identifier: MIT */
/*
 * Stand-in for libFuzzer in builds without it: runs a harness over every
 * file of a corpus directory, then over a bounded number of mutated and
 * random inputs from a seeded PRNG, so the harness code and its
 * invariants run in the plain, valgrind and ASan builds too.
 *
 *   fuzz_replay_<name> CORPUS_DIR ITERATIONS [SEED]
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT 4096
#define REPLAY_MAX_FILES 4096

struct replay_seed {
	uint8_t *data;
	size_t len;
};

static uint64_t replay_state;

/* xorshift64*: reproducible from the printed seed, which is all a
 * replay driver needs. */
static uint64_t replay_rand(void)
{
	replay_state ^= replay_state >> 12;
	replay_state ^= replay_state << 25;
	replay_state ^= replay_state >> 27;
	return replay_state * 2685821657736338717ULL;
}

static size_t replay_below(size_t n)
{
	return n ? (size_t)(replay_rand() % n) : 0;
}

static uint8_t replay_wire_char(void)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	return (uint8_t)alphabet[replay_below(sizeof(alphabet) - 1)];
}

/* Runs one input from an exact-size heap copy so ASan and valgrind see
 * reads past its end. */
static void replay_run(const uint8_t *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (copy == NULL) {
		fprintf(stderr, "replay: out of memory\n");
		exit(1);
	}
	if (len)
		memcpy(copy, data, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
}

static int replay_load(const char *dir, struct replay_seed *seeds,
		       size_t *n_seeds)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	*n_seeds = 0;
	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL && *n_seeds < REPLAY_MAX_FILES) {
		char path[4096];
		FILE *f;
		struct replay_seed *s = &seeds[*n_seeds];

		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     e->d_name) >= sizeof(path))
			continue;
		f = fopen(path, "rb");
		if (f == NULL)
			continue;
		s->data = malloc(REPLAY_MAX_INPUT);
		if (s->data == NULL) {
			fclose(f);
			rc = -1;
			break;
		}
		s->len = fread(s->data, 1, REPLAY_MAX_INPUT, f);
		fclose(f);
		(*n_seeds)++;
	}
	closedir(d);
	return rc;
}

static size_t replay_mutate(uint8_t *buf, size_t len)
{
	size_t rounds = 1 + replay_below(4);

	for (size_t r = 0; r < rounds; r++) {
		size_t pos = replay_below(len);

		switch (replay_below(7)) {
		case 0:
			if (len)
				buf[pos] ^= (uint8_t)(1u << replay_below(8));
			break;
		case 1:
			if (len)
				buf[pos] = (uint8_t)replay_rand();
			break;
		case 2:
			if (len)
				buf[pos] = replay_wire_char();
			break;
		case 3:
			if (len < REPLAY_MAX_INPUT) {
				memmove(buf + pos + 1, buf + pos, len - pos);
				buf[pos] = replay_wire_char();
				len++;
			}
			break;
		case 4:
			if (len) {
				memmove(buf + pos, buf + pos + 1, len - pos - 1);
				len--;
			}
			break;
		case 5:
			len = replay_below(len + 1);
			break;
		default:
			if (len)
				buf[pos] = (uint8_t)":,/.=\n0"[replay_below(7)];
			break;
		}
	}
	return len;
}

int main(int argc, char **argv)
{
	static struct replay_seed seeds[REPLAY_MAX_FILES];
	static uint8_t buf[REPLAY_MAX_INPUT];
	size_t n_seeds = 0, iterations;
	uint64_t seed = 0x5eed5a5a12345678ULL;

	if (argc < 3) {
		fprintf(stderr, "usage: %s CORPUS_DIR ITERATIONS [SEED]\n",
			argv[0]);
		return 2;
	}
	iterations = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		seed = strtoull(argv[3], NULL, 0);
	replay_state = seed ? seed : 1;
	if (replay_load(argv[1], seeds, &n_seeds) != 0)
		return 1;
	if (n_seeds == 0) {
		fprintf(stderr, "replay: no seed files in %s\n", argv[1]);
		return 1;
	}
	for (size_t i = 0; i < n_seeds; i++)
		replay_run(seeds[i].data, seeds[i].len);

	for (size_t it = 0; it < iterations; it++) {
		size_t len;

		if (replay_below(8) == 0) {
			/* Pure noise, mostly in the wire alphabet and in the
			 * packet size range the prefilter lets through. */
			len = replay_below(2) ? 140 + replay_below(260)
					      : replay_below(600);
			for (size_t i = 0; i < len; i++)
				buf[i] = replay_below(4) ? replay_wire_char()
							 : (uint8_t)replay_rand();
		} else {
			const struct replay_seed *s =
				&seeds[replay_below(n_seeds)];

			memcpy(buf, s->data, s->len);
			len = replay_mutate(buf, s->len);
		}
		replay_run(buf, len);
	}
	printf("replay: %zu seed files, %zu generated inputs, seed 0x%" PRIx64
	       ": no invariant violated\n", n_seeds, iterations, seed);
	for (size_t i = 0; i < n_seeds; i++)
		free(seeds[i].data);
	return 0;
}
