/* SPDX-License-Identifier: MIT */
/*
 * A host API for plugin unit tests: config from a table, and a runner
 * that records every argv (and the content of a batch file given as the
 * last argument, or the input given to run_input) and answers with canned
 * output chosen by argv[0]. It is a 1.1 host (run_input, stanza_get); a
 * test of a 1.0 engine sets api.struct_size to
 * offsetof(struct spa_host_api, run_input).
 */
#ifndef FAKE_HOST_H
#define FAKE_HOST_H

#include <spa/plugin.h>

#define FAKE_MAX_CALLS 32
#define FAKE_MAX_KEYS 16

struct fake_call {
	char argv[512];   /* arguments joined with single spaces */
	char *file;       /* batch file content if the last arg was a file,
			   * or the stdin given through run_input */
	int from_stdin;   /* file came from run_input */
};

struct fake_host {
	struct spa_host_api api;
	const char *keys[FAKE_MAX_KEYS];
	const char *values[FAKE_MAX_KEYS];
	unsigned int nkeys;
	/* canned stdout for commands whose argv[0] ends with this suffix */
	const char *reply_suffix[4];
	const char *reply_out[4];
	int reply_status[4];
	unsigned int nreplies;
	struct fake_call calls[FAKE_MAX_CALLS];
	unsigned int ncalls;
	unsigned int nerrors; /* log lines at SPA_LOG_ERR */
	char last_err[512];   /* the latest of them, for tests of what it names */
	/* ABI 1.1 stanza_get: one stanza's variables, whatever the grant */
	const char *skeys[FAKE_MAX_KEYS];
	const char *svalues[FAKE_MAX_KEYS];
	unsigned int nskeys;
};

void fake_host_init(struct fake_host *h);
void fake_host_reset_calls(struct fake_host *h);
void fake_host_free(struct fake_host *h);
void fake_host_set(struct fake_host *h, const char *key, const char *value);
void fake_host_reply(struct fake_host *h, const char *suffix, const char *out, int status);
/* Index of the first call whose argv starts with prefix, or -1. */
int fake_host_find(const struct fake_host *h, const char *prefix);
/* Reads a whole file; NULL on error. The caller frees. */
char *fake_host_slurp(const char *path);
/* A variable stanza_get returns (later calls win). */
void fake_host_set_stanza(struct fake_host *h, const char *key, const char *value);

/* A probe as the engine hands ops.check for one stanza: id 0, the
 * stanza's label, nothing else. */
struct spa_grant fake_host_probe(const char *stanza);

/* What an ops.list reported, one "src proto/port expires" line a grant,
 * for fake_host_seen as the list callback. */
#define FAKE_SEEN_MAX 8
struct fake_seen {
	char text[FAKE_SEEN_MAX][128];
	unsigned int n;
};
void fake_host_seen(void *ctx, const struct spa_grant *g);

/* The grants an ops.list reported, whole, for fake_host_collect as the
 * list callback (the first FAKE_SEEN_MAX of them). */
struct fake_listed {
	struct spa_grant g[FAKE_SEEN_MAX];
	unsigned int n;
};
void fake_host_collect(void *ctx, const struct spa_grant *g);

/*
 * A grant as the engine would hand it over, from address text (dst may be
 * NULL). src.text is set to `poison`, never to the address: plugins must
 * build commands from the binary form, and a test that finds the poison
 * in a command has caught one that does not. Aborts on a bad address.
 */
struct spa_grant fake_host_grant(int af, const char *src, const char *dst,
				 int proto, int port, uint32_t timeout,
				 int64_t expires, const char *poison);

#endif
