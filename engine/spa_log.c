/* SPDX-License-Identifier: MIT */
/* spa_log.c - one log call for stderr (-f) and syslog. */
#include "spa_log.h"

#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

static bool log_stderr = true;
static bool log_syslog;
static bool log_stamps;
static int log_verbosity;
static int log_facility = LOG_DAEMON;
static void (*log_sink)(int level, const char *text);

void spa_log_set_sink(void (*sink)(int level, const char *text))
{
	log_sink = sink;
}

void spa_log_set_facility(int facility)
{
	log_facility = facility;
}

void spa_log_set_timestamps(bool on)
{
	log_stamps = on;
}

int spa_log_facility_from_name(const char *name, int *facility)
{
	static const int local[] = { LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3,
				     LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7 };

	if (strcasecmp(name, "LOG_DAEMON") == 0) {
		*facility = LOG_DAEMON;
		return 0;
	}
	if (strncasecmp(name, "LOG_LOCAL", 9) == 0 && name[9] >= '0' && name[9] <= '7' &&
	    name[10] == '\0') {
		*facility = local[name[9] - '0'];
		return 0;
	}
	return -EINVAL;
}

void spa_log_setup(const char *ident, bool to_stderr, bool to_syslog, int verbosity)
{
	log_stderr = to_stderr;
	log_verbosity = verbosity;
	if (to_syslog && !log_syslog)
		openlog(ident ? ident : "spad", LOG_PID | LOG_NDELAY, log_facility);
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
	if (log_sink) {
		char buf[1024];
		vsnprintf(buf, sizeof(buf), fmt, ap);
		log_sink(level, buf);
		return;
	}
	if (log_syslog) {
		va_list cp;
		va_copy(cp, ap);
		vsyslog(level, fmt, cp);
		va_end(cp);
	}
	if (log_stderr) {
		char buf[1024], stamp[32] = "";
		vsnprintf(buf, sizeof(buf), fmt, ap);
		if (log_stamps) {
			time_t now = time(NULL);
			struct tm tm;
			/* syslog's order, with the year and the zone: a foreground
			 * log is often read on another machine or much later */
			if (localtime_r(&now, &tm))
				strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S %z ", &tm);
		}
		fprintf(stderr, "%sspad: %s\n", stamp, buf);
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
	if (!spa_rate_take(&l->budget, SPA_LOG_LIMIT_PER_SEC, 1, now)) {
		l->suppressed++;
		return false;
	}
	*report = l->suppressed;
	l->suppressed = 0;
	return true;
}
