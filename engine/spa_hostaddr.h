/* SPDX-License-Identifier: MIT */
/*
 * spa_hostaddr.h - which allow IPs a grant must never be for: addresses
 * that are not one host (unspecified, multicast, broadcast) and, unless the
 * packet itself comes from there, loopback and this host's own addresses
 * (docs/man/spad.8, access.conf, "Allow IP"). The host's addresses come from
 * getifaddrs, cached: re-read at most every SPA_HOSTADDR_TTL seconds and
 * after a configuration (re)load.
 */
#ifndef SPA_HOSTADDR_H
#define SPA_HOSTADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPA_HOSTADDR_TTL 5
/* A host with more addresses than this has the rest unchecked: a fixed
 * table keeps the cache free of allocations (and of leaks at exit). */
#define SPA_HOSTADDR_MAX 512

struct spa_hostaddr {
	int family;
	uint8_t bin[16];
};

struct spa_hostaddrs {
	struct spa_hostaddr own[SPA_HOSTADDR_MAX];
	size_t n_own;
	struct spa_hostaddr bcast[SPA_HOSTADDR_MAX];  /* IPv4 interface broadcasts */
	size_t n_bcast;
	bool loaded;
	bool fixed;              /* set by hand (tests): never re-read */
	int64_t loaded_at;
	uint64_t generation;     /* of the configuration it was read for */
};

/* Re-reads the interfaces when the cache is older than SPA_HOSTADDR_TTL at
 * now, or was read for another configuration generation. A failed read
 * keeps the previous table; 0 or -errno. */
int spa_hostaddrs_refresh(struct spa_hostaddrs *h, int64_t now, uint64_t generation);
/* Adds one entry by hand (tests); marks the table fixed. 0 or -ENOSPC. */
int spa_hostaddrs_add(struct spa_hostaddrs *h, bool broadcast, int family, const uint8_t *bin);

/* Why a grant for (family, bin) is never acceptable ("multicast", ...), or
 * NULL. bin is 4 or 16 bytes as family says; IPv4-mapped IPv6 is read as
 * IPv4. */
const char *spa_addr_never_grantable(int family, const uint8_t *bin);
/* Loopback (127/8, ::1). */
bool spa_addr_is_loopback(int family, const uint8_t *bin);
bool spa_hostaddrs_is_own(const struct spa_hostaddrs *h, int family, const uint8_t *bin);
bool spa_hostaddrs_is_broadcast(const struct spa_hostaddrs *h, int family, const uint8_t *bin);
/* Same address, an IPv4-mapped IPv6 one equal to its IPv4 form. */
bool spa_addr_same(int fa, const uint8_t *a, int fb, const uint8_t *b);

#endif
