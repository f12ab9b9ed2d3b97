/* SPDX-License-Identifier: MIT */
/* spa_hostaddr.c - address classes and the host's own addresses (spa_hostaddr.h). */
#include "spa_hostaddr.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* IPv4-mapped IPv6 becomes IPv4, so ::ffff:127.0.0.1 is loopback too. */
static int normalise(int family, const uint8_t *bin, uint8_t out[16])
{
	memset(out, 0, 16);
	if (family == AF_INET6 && memcmp(bin, v4mapped, sizeof(v4mapped)) == 0) {
		memcpy(out, bin + 12, 4);
		return AF_INET;
	}
	memcpy(out, bin, family == AF_INET6 ? 16 : 4);
	return family;
}

bool spa_addr_same(int fa, const uint8_t *a, int fb, const uint8_t *b)
{
	uint8_t na[16], nb[16];

	fa = normalise(fa, a, na);
	fb = normalise(fb, b, nb);
	return fa == fb && memcmp(na, nb, 16) == 0;
}

const char *spa_addr_never_grantable(int family, const uint8_t *bin)
{
	static const uint8_t zero[16];
	uint8_t a[16];

	family = normalise(family, bin, a);
	if (family == AF_INET) {
		/* 0.0.0.0/8 is "this network": never a host that can connect */
		if (a[0] == 0)
			return "unspecified";
		if ((a[0] & 0xf0) == 0xe0)
			return "multicast";
		if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
			return "broadcast";
		return NULL;
	}
	if (memcmp(a, zero, 16) == 0)
		return "unspecified";
	if (a[0] == 0xff)
		return "multicast";
	return NULL;
}

bool spa_addr_is_loopback(int family, const uint8_t *bin)
{
	static const uint8_t one[16] = { [15] = 1 };
	uint8_t a[16];

	family = normalise(family, bin, a);
	return family == AF_INET ? a[0] == 127 : memcmp(a, one, 16) == 0;
}

static bool in_table(const struct spa_hostaddr *t, size_t n, int family, const uint8_t *bin)
{
	for (size_t i = 0; i < n; i++)
		if (spa_addr_same(t[i].family, t[i].bin, family, bin))
			return true;
	return false;
}

bool spa_hostaddrs_is_own(const struct spa_hostaddrs *h, int family, const uint8_t *bin)
{
	return h && in_table(h->own, h->n_own, family, bin);
}

bool spa_hostaddrs_is_broadcast(const struct spa_hostaddrs *h, int family, const uint8_t *bin)
{
	return h && in_table(h->bcast, h->n_bcast, family, bin);
}

static void put(struct spa_hostaddr *t, size_t *n, const struct sockaddr *sa)
{
	if (!sa || *n >= SPA_HOSTADDR_MAX)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		memset(&t[*n], 0, sizeof(t[*n]));
		t[*n].family = AF_INET;
		memcpy(t[*n].bin, &s4->sin_addr, 4);
		(*n)++;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		t[*n].family = AF_INET6;
		memcpy(t[*n].bin, &s6->sin6_addr, 16);
		(*n)++;
	}
}

int spa_hostaddrs_refresh(struct spa_hostaddrs *h, int64_t now, uint64_t generation)
{
	struct ifaddrs *list = NULL;

	if (h->fixed)
		return 0;
	if (h->loaded && h->generation == generation && now >= h->loaded_at &&
	    now - h->loaded_at < SPA_HOSTADDR_TTL)
		return 0;
	if (getifaddrs(&list) < 0)
		return -errno;
	h->n_own = h->n_bcast = 0;
	for (const struct ifaddrs *i = list; i; i = i->ifa_next) {
		put(h->own, &h->n_own, i->ifa_addr);
		/* ifa_broadaddr shares a union with the point-to-point peer:
		 * only IFF_BROADCAST makes it a broadcast address */
		if ((i->ifa_flags & IFF_BROADCAST) && i->ifa_addr &&
		    i->ifa_addr->sa_family == AF_INET)
			put(h->bcast, &h->n_bcast, i->ifa_broadaddr);
	}
	freeifaddrs(list);
	h->loaded = true;
	h->loaded_at = now;
	h->generation = generation;
	return 0;
}

int spa_hostaddrs_add(struct spa_hostaddrs *h, bool broadcast, int family, const uint8_t *bin)
{
	struct spa_hostaddr *t = broadcast ? h->bcast : h->own;
	size_t *n = broadcast ? &h->n_bcast : &h->n_own;

	if (*n >= SPA_HOSTADDR_MAX)
		return -ENOSPC;
	memset(&t[*n], 0, sizeof(t[*n]));
	t[*n].family = family;
	memcpy(t[*n].bin, bin, family == AF_INET6 ? 16 : 4);
	(*n)++;
	h->fixed = h->loaded = true;
	return 0;
}
