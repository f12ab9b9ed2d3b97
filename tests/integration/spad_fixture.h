/* SPDX-License-Identifier: MIT */
/* spad_fixture.h - run spad with the recorder plugin over loopback UDP. */
#ifndef SPA_SPAD_FIXTURE_H
#define SPA_SPAD_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spa_wire.h"

#define FX_KEY_B64  "dGVzdC1lbmNyeXB0aW9uLWtleS0zMmJ5dGVzLi4uLi4="
#define FX_HMAC_B64 "dGVzdC1obWFjLWtleS1mb3ItdGhlLWludGVncmF0aW9uLXRlc3Qtb2Ytc3BhZC1vaw=="

/* Deadlines for a state the test waits for (spad started, a decision
 * logged, a plugin call recorded): generous, so that a loaded machine or an
 * ASan build does not fail a test, and free when things are fast since the
 * waits return as soon as the state holds. A grant that must close is
 * waited for up to its timeout + FX_CLOSE_MARGIN_MS, and must close. */
#define FX_WAIT_MS         30000
#define FX_CLOSE_MARGIN_MS 10000

struct fx {
	char dir[64];
	char conf[4096], access[4096], calls[4096], log[4096], run[4096], json[4096];
	const char *spad, *plugin_dir;
	uint16_t port;
	pid_t pid;
	bool quiet;            /* start without -v (the production log level) */
	struct spa_keys *keys, *wrong;
};

void fx_init(struct fx *f, const char *spad, const char *plugin_dir);
void fx_free(struct fx *f);
/* fx_init on the heap, for cmocka setups (NULL on ENOMEM); and its undo. */
struct fx *fx_new(const char *spad, const char *plugin_dir);
void fx_delete(struct fx *f);
/* Appends lines to fwknopd.conf. */
void fx_append_conf(struct fx *f, const char *lines);
/* (Re)writes access.conf; extra lines are appended to the one stanza. */
void fx_write_access(struct fx *f, const char *extra);
/* Starts spad -f -U -v (no -v when quiet); waits (FX_WAIT_MS) for "listening".
 * Returns false on failure. */
bool fx_start(struct fx *f);
/* Sends sig and waits (FX_WAIT_MS, then SIGKILL) for exit; returns the exit
 * status (or -1). */
int fx_stop(struct fx *f, int sig);
/* Builds a packet for user/access message with the given key set. */
size_t fx_build(struct fx *f, const struct spa_keys *k, const char *user, const char *msg,
		int64_t ts_offset, uint32_t client_timeout, char *out);
/* Sends and waits (FX_WAIT_MS) until the log holds one more decision line;
 * returns that line (static buffer) or "" on timeout. */
const char *fx_send(struct fx *f, const char *data, size_t len, bool ipv6);
/* Waits (FX_WAIT_MS) until the log holds more than `before` decision lines;
 * returns the last one (static buffer) or "" on timeout. */
const char *fx_next_decision(struct fx *f, int before);
/* The recorder's "open" lines that contain what ("src=A proto=6 port=22 "). */
int fx_opened(const struct fx *f, const char *what);
/* A loopback port free for this socket type (SOCK_DGRAM, SOCK_STREAM) now. */
uint16_t fx_free_port(int type);
/* Sends one datagram without waiting for anything; false if not sent. */
bool fx_send_raw(const struct fx *f, const char *data, size_t len, bool ipv6);
/* Waits until file contains needle n times (timeout ms). */
bool fx_wait_for(const char *path, const char *needle, int n, int timeout_ms);
int fx_count(const char *path, const char *needle);
/* Runs "spad -f -v -c conf -a access <extra...>" (NULL-terminated, at most
 * 16) to completion, output appended to the log; its exit status or -1. */
int fx_run(struct fx *f, const char *const *extra);
/* Runs "spad <opt> -c conf -a access" to completion; returns its exit status. */
int fx_cli(struct fx *f, const char *opt);
/* The same, its output alone (malloc'd, NULL if unreadable) and its exit
 * status in *status (may be NULL). */
char *fx_cli_out(struct fx *f, const char *opt, int *status);
/* Voluntary context switches of the running daemon, or -1. */
long fx_wakeups(struct fx *f);

#endif
