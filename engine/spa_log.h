/* SPDX-License-Identifier: MIT */
/* spa_log.h - daemon logging: stderr in the foreground, syslog otherwise. */
#ifndef SPA_LOG_H
#define SPA_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spa_rate.h"

/* syslog levels, shared with the plugin ABI */
#define SPA_L_ERR     3
#define SPA_L_WARNING 4
#define SPA_L_NOTICE  5
#define SPA_L_INFO    6
#define SPA_L_DEBUG   7

void spa_log_setup(const char *ident, bool to_stderr, bool to_syslog, int verbosity);
/* The syslog facility of the next openlog (LOG_DAEMON by default): set it
 * before spa_log_setup turns syslog on. */
void spa_log_set_facility(int facility);
/* SYSLOG_FACILITY's values, as fwknopd takes them: LOG_DAEMON and
 * LOG_LOCAL0..LOG_LOCAL7 (case-insensitive). 0 or -EINVAL. */
int spa_log_facility_from_name(const char *name, int *facility);
/* Local-time stamps on stderr lines (-f): syslog adds its own. */
void spa_log_set_timestamps(bool on);
void spa_log_close(void);
/* Every line that passes the verbosity filter goes to sink instead of
 * stderr and syslog (NULL: back to those). The packet process sends its
 * lines to the monitor this way: it can open neither syslog's socket nor
 * the time zone file (docs/SECURITY.md). */
void spa_log_set_sink(void (*sink)(int level, const char *text));
void spa_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void spa_logv(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/*
 * A budget of lines per second for a source of log lines an attacker
 * controls (packets that do not authenticate): a garbage flood must cost
 * neither a write per packet nor the disk. Lines over the budget are
 * counted and reported with the next line that is let through.
 */
#define SPA_LOG_LIMIT_PER_SEC 10

struct spa_log_limit {
	struct spa_rate budget;    /* SPA_LOG_LIMIT_PER_SEC lines a second */
	unsigned long suppressed;  /* not let through since the last report */
};

/* True if a line may be written at time now (epoch seconds); *report is
 * then the number of lines dropped before it (0 if none), which the
 * caller should mention. */
bool spa_log_limit_allow(struct spa_log_limit *l, int64_t now, unsigned long *report);

/* "s" unless n is 1: "1 stanza", "2 stanzas" in messages. */
static inline const char *spa_plural(size_t n)
{
	return n == 1 ? "" : "s";
}

#endif
