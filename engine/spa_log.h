/* SPDX-License-Identifier: MIT */
/* spa_log.h - daemon logging: stderr in the foreground, syslog otherwise. */
#ifndef SPA_LOG_H
#define SPA_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/* syslog levels, shared with the plugin ABI */
#define SPA_L_ERR     3
#define SPA_L_WARNING 4
#define SPA_L_NOTICE  5
#define SPA_L_INFO    6
#define SPA_L_DEBUG   7

void spa_log_setup(const char *ident, bool to_stderr, bool to_syslog, int verbosity);
void spa_log_close(void);
void spa_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void spa_logv(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
