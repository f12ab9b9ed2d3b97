/* SPDX-License-Identifier: MIT */
/*
 * spa_nfq.h - NFQUEUE capture (ENABLE_NFQ_CAPTURE, docs/man/spad.8 CAPTURE
 * MODES): the SPA port stays dropped, an iptables rule spad installs hands
 * its packets to a netfilter queue, the packet process reads them from the
 * queue's netlink socket, and the monitor gives the verdicts it asks for
 * (the kernel takes a verdict only from a sender with CAP_NET_ADMIN).
 *
 * Three parts: the NFQ_* settings (spa_nfq_conf.c, always built), the
 * rule spad installs and removes (spa_nfq_rules.c) and the queue itself
 * (spa_nfq.c, with libnetfilter_queue; without it ENABLE_NFQ_CAPTURE Y is
 * refused at its file:line).
 */
#ifndef SPA_NFQ_H
#define SPA_NFQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SPA_NFQ_DEFAULT_TABLE "mangle"
#define SPA_NFQ_DEFAULT_CHAIN "FWKNOP_NFQ"
#define SPA_NFQ_DEFAULT_QUEUE 1

/* Verdicts as the privsep record carries them. */
#define SPA_NFQ_DROP 0u
#define SPA_NFQ_ACCEPT 1u

struct spa_nfq_conf {
	bool enable;            /* ENABLE_NFQ_CAPTURE */
	char intf[16];          /* NFQ_INTERFACE, "": every interface */
	uint16_t port;          /* NFQ_PORT (UDP) */
	char table[16];         /* NFQ_TABLE */
	char chain[29];         /* NFQ_CHAIN: iptables' longest chain name */
	uint16_t queue;         /* NFQ_QUEUE_NUMBER */
};

/* Whether this spad was built with libnetfilter_queue. */
bool spa_nfq_available(void);

void spa_nfq_conf_init(struct spa_nfq_conf *n);
/* true for the fwknopd.conf variables spa_nfq_conf_set takes. */
bool spa_nfq_conf_var(const char *name);
/* One variable; 0, or -EINVAL with the reason (no file:line) in why. */
int spa_nfq_conf_set(struct spa_nfq_conf *n, const char *name, const char *value, char *why,
		     size_t cap);
/* After the command line: --pcap-file wins over NFQ (as over the UDP
 * server); NFQ and the UDP server are two capture modes, refused
 * together. 0 or -EINVAL with err. */
int spa_nfq_conf_finish(struct spa_nfq_conf *n, bool udp_server, bool pcap_file, char *err,
			size_t errlen);
bool spa_nfq_conf_same(const struct spa_nfq_conf *a, const struct spa_nfq_conf *b);
/* The -D lines. */
void spa_nfq_conf_dump(const struct spa_nfq_conf *n, FILE *out);

/* The rule (spa_nfq_rules.c): in NFQ_TABLE, the chain NFQ_CHAIN with
 * [-i NFQ_INTERFACE] -p udp --dport NFQ_PORT -j NFQUEUE --queue-num N, and
 * a jump to it at the top of INPUT, for IPv4 (required) and IPv6 (a
 * warning if ip6tables cannot). Leftovers of an earlier run (kill -9) are
 * replaced, never doubled. 0 or a negative code, logged. */
int spa_nfq_rules_add(const struct spa_nfq_conf *n);
/* Removes what spa_nfq_rules_add installed; errors are logged. */
void spa_nfq_rules_remove(const struct spa_nfq_conf *n);
/* The iptables-restore input of one family (exposed for the tests);
 * the length written, or -ENOSPC. */
int spa_nfq_rules_text(const struct spa_nfq_conf *n, char *out, size_t cap);

/* The queue (spa_nfq.c). */
struct spa_nfq;

/* As root (CAP_NET_ADMIN), before the packet process starts: binds queue
 * n->queue, copy mode "packet" up to copy_bytes. NULL with err. */
struct spa_nfq *spa_nfq_open(const struct spa_nfq_conf *n, uint32_t copy_bytes, char *err,
			     size_t errlen);
int spa_nfq_fd(const struct spa_nfq *q);
/* A queued packet: its IP header onward (DLT_RAW), cut at copy_bytes. */
typedef void spa_nfq_cb(void *ctx, const uint8_t *ip, size_t len);
/* Every packet of the queue up to id is to get verdict v. */
typedef void spa_nfq_verdict_cb(void *ctx, uint32_t id, uint32_t v);
/* In the packet process: reads what is waiting, up to max packets, hands
 * each to cb, and asks verdict_cb for their verdicts (docs/man/spad.8:
 * DROP on the local input hook, where the SPA port is, ACCEPT elsewhere)
 * in as few calls as the runs of equal verdicts allow, the last at the
 * end. Returns how many, 0 when none was waiting, a negative code when the
 * socket failed. */
int spa_nfq_read(struct spa_nfq *q, int max, spa_nfq_cb *cb, spa_nfq_verdict_cb *verdict_cb,
		 void *ctx);
/* In the monitor: gives every packet of the queue up to id verdict v (a
 * batch verdict, so a packet a dead packet process read without asking
 * is settled by its successor's first one). 0 or a negative code. */
int spa_nfq_verdict(struct spa_nfq *q, uint32_t id, uint32_t v);
/* Closing the socket unbinds the queue. */
void spa_nfq_close(struct spa_nfq *q);

#endif
