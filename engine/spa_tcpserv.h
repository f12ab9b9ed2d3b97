/* SPDX-License-Identifier: MIT */
/*
 * spa_tcpserv.h - ENABLE_TCP_SERVER: SPA over TCP (fwknop's client -P tcp
 * and -P http, e.g. through Tor or an HTTP proxy). The monitor opens the
 * listening sockets; the sandboxed packet process accepts and reads. In
 * UDP-server mode the data read from a connection is the packet (its
 * source the connection's peer); in pcap mode, as fwknopd, the connection
 * only lets the client send, and the capture sees the data. Bounded
 * (docs/man/spad.8, SPA OVER TCP AND HTTP): TCPSERV_MAX_CONNECTIONS at once
 * (the oldest goes for a new one), TCPSERV_MAX_PER_SOURCE per address,
 * TCPSERV_READ_TIMEOUT from accept to the whole request, a size cap.
 */
#ifndef SPA_TCPSERV_H
#define SPA_TCPSERV_H

#include <stdbool.h>
#include <stdint.h>

struct spa_daemon;
struct spa_config;

/* Accepts taken per readable listener before the loop moves on. */
#define SPA_TCP_ACCEPT_BURST 16

/* In the monitor: listening sockets on TCPSERV_PORT, IPv4 (required) and
 * IPv6 (if the host has it; fds[1] -1 otherwise). 0 or -errno, logged. */
int spa_tcpserv_open(const struct spa_config *c, int fds[2]);
/* Opens, moves or closes d->tcp for a reload to fresh (new before old); on
 * failure the running ones stay. */
int spa_tcpserv_reopen(struct spa_daemon *d, const struct spa_config *fresh);
void spa_tcpserv_close(int fds[2]);

/* In the packet process, before the sandbox: the connection table, and
 * the listeners in epfd. 0 or -errno. */
int spa_tcpserv_start(struct spa_daemon *d, int epfd);
/* True when fd was a listener or a connection of ours (handled). */
bool spa_tcpserv_event(struct spa_daemon *d, int fd);
/* ms until the next connection's deadline, -1: none. */
int spa_tcpserv_timeout_ms(void);
/* Ends connections past their deadline. */
void spa_tcpserv_tick(struct spa_daemon *d);

#endif
