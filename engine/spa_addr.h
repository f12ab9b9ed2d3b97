/* SPDX-License-Identifier: MIT */
/* spa_addr.h - SOURCE/DESTINATION address lists and OPEN/RESTRICT_PORTS. */
#ifndef SPA_ADDR_H
#define SPA_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spa_wire.h"

struct spa_cidr {
	int family;          /* AF_INET / AF_INET6 */
	uint8_t net[16];     /* already masked */
	uint8_t mask[16];
};

struct spa_addr_list {
	bool any;
	struct spa_cidr *items;
	size_t n;
};

struct spa_port_list {
	struct spa_port *items;
	size_t n;
};

/* "ANY", "a.b.c.d", "a.b.c.d/NN", "a.b.c.d/m.m.m.m", "2001:db8::/32", comma
 * separated. On error returns negative and names the bad item in err. */
int spa_addr_list_parse(const char *s, struct spa_addr_list *l, char *err, size_t errlen);
/* addr is 4 or 16 bytes in network order, per family. */
bool spa_addr_list_match(const struct spa_addr_list *l, int family, const void *addr);
bool spa_addr_list_has_v6(const struct spa_addr_list *l);
void spa_addr_list_free(struct spa_addr_list *l);

/* "tcp/22, udp/53" */
int spa_port_list_parse(const char *s, struct spa_port_list *l, char *err, size_t errlen);
bool spa_port_list_has(const struct spa_port_list *l, const struct spa_port *p);
void spa_port_list_free(struct spa_port_list *l);

#endif
