/* SPDX-License-Identifier: MIT */
/* spa_notify.h - systemd's readiness protocol (sd_notify(3)) without
 * libsystemd: one datagram per state change to $NOTIFY_SOCKET, nothing at
 * all when it is unset (any start that is not systemd's Type=notify). */
#ifndef SPA_NOTIFY_H
#define SPA_NOTIFY_H

#include <stdint.h>

/* Sends "fmt..." (newline-separated NAME=VALUE lines, e.g. "READY=1") to
 * $NOTIFY_SOCKET. 0 when sent or when there is nobody to tell; a negative
 * errno when the socket named cannot be reached. */
int spa_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The watchdog interval systemd asks for (WatchdogSec=), in microseconds,
 * or 0 when there is none or it is meant for another process
 * ($WATCHDOG_PID). */
uint64_t spa_notify_watchdog_usec(void);

/* RELOADING=1 with the MONOTONIC_USEC= that systemd >= 253 wants. */
int spa_notify_reloading(void);

#endif
