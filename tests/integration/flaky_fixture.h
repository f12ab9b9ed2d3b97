/* SPDX-License-Identifier: MIT */
/*
 * flaky_fixture.h - spad (spad_fixture.h) in front of the flaky test plugin
 * (tests/plugins/flaky), for the plugin runtime's tests: a stanza on a
 * flaky backend and one on the recorder, knocks for distinct sources, the
 * backend's entries and its ops.log.
 *
 * Distinct sources are distinct allow IPs in the access message
 * (198.51.100.N), sent from 127.0.0.1 (SOURCE 127.0.0.0/8).
 */
#ifndef SPA_FLAKY_FIXTURE_H
#define SPA_FLAKY_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "spad_fixture.h"

/* The second stanza's keys (the fixture's "wrong" set): the recorder's. */
#define FF_KEY2_B64  "d3Jvbmcta2V5"
#define FF_HMAC2_B64 "b3RoZXItaG1hYy1rZXk="

/* One line of ops.log (format: tests/plugins/flaky/flaky.c). */
struct ff_op {
	char op[16];            /* open, close, open_batch, list, token, hang, ... */
	bool ok;                /* the second word: ok (for hang: false) */
	char arg[16];           /* the second word as written */
	uint64_t id;
	char src[48];
	unsigned n;
	long long exp;          /* the grant's expiry, epoch s */
	unsigned long long wall; /* when the call returned, epoch ms */
	char token[64];         /* token=, "" without one */
};

/* Where a backend keeps its entries and its ops.log. */
struct ff_backend {
	char dir[4200], ops[4300];
};

void ff_sleep_ms(int ms);
uint64_t ff_mono_ms(void);
/* A directory holding recorder.so, flaky.so and flakyb.so, as PLUGIN_DIR is
 * one (exits on failure); ff_unlink_plugins removes it. */
const char *ff_link_plugins(const char *recorder_dir, const char *flaky_dir);
void ff_unlink_plugins(void);
/* The flaky backend `name` (flaky or flakyb; extra: its fwknopd.conf
 * lines) behind the first stanza, its grants living `timeout` s, the
 * recorder behind the second (30 s); the engine's flushes off, so that only
 * opens and closes change what the backend holds; spad not started yet. */
void ff_prepare(struct fx *f, const char *name, const char *extra, unsigned timeout,
		struct ff_backend *b);
/* A knock for 198.51.100.<src>, tcp/22, with key set k, into out. */
size_t ff_packet(struct fx *f, const struct spa_keys *k, int src, char *out);
/* The same, sent; the decision line (fx_send). */
const char *ff_knock(struct fx *f, const struct spa_keys *k, int src);
/* Knocks for sources first .. first+n-1 (n <= 64) sent back to back. */
void ff_burst(struct fx *f, const struct spa_keys *k, int first, int n);
/* Entries the backend holds (its files but ops.log), -1 if unreadable. */
int ff_entries(const char *dir);
bool ff_wait_entries(const char *dir, int want, int timeout_ms);
/* Every line of ops.log to fn. */
void ff_each_op(const char *path, void (*fn)(const struct ff_op *, void *), void *ctx);
/* spad -S: its output (malloc'd). */
char *ff_status(struct fx *f);
void ff_assert_journal_empty(struct fx *f);

#endif
