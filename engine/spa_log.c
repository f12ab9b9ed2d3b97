/* SPDX-License-Identifier: MIT */
#include "spa_log.h"

#include <stdio.h>
#include <syslog.h>
#include <time.h>

static bool log_stderr = true;
static bool log_syslog;
static int log_verbosity;

void spa_log_setup(const char *ident, bool to_stderr, bool to_syslog, int verbosity)
{
	log_stderr = to_stderr;
	log_verbosity = verbosity;
	if (to_syslog && !log_syslog)
		openlog(ident ? ident : "spad", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!to_syslog && log_syslog)
		closelog();
	log_syslog = to_syslog;
}

void spa_log_close(void)
{
	if (log_syslog)
		closelog();
	log_syslog = false;
}

void spa_logv(int level, const char *fmt, va_list ap)
{
	/* Debug and info lines cost a syscall each; a flood of garbage must not
	 * turn into a flood of writes unless the operator asked for -v. */
	if (level >= SPA_L_INFO && level - SPA_L_NOTICE > log_verbosity)
		return;
	if (log_syslog) {
		va_list cp;
		va_copy(cp, ap);
		vsyslog(level, fmt, cp);
		va_end(cp);
	}
	if (log_stderr) {
		char buf[1024];
		vsnprintf(buf, sizeof(buf), fmt, ap);
		fprintf(stderr, "spad: %s\n", buf);
	}
}

void spa_log(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	spa_logv(level, fmt, ap);
	va_end(ap);
}

bool spa_log_limit_allow(struct spa_log_limit *l, int64_t now, unsigned long *report)
{
	*report = 0;
	if (now != l->second) {
		l->second = now;
		l->used = 0;
	}
	if (l->used >= SPA_LOG_LIMIT_PER_SEC) {
		l->suppressed++;
		return false;
	}
	l->used++;
	*report = l->suppressed;
	l->suppressed = 0;
	return true;
}
