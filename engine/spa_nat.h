/* SPDX-License-Identifier: MIT */
/*
 * spa_nat.h - where a knock's NAT form is decided (docs/ARCHITECTURE.md,
 * NAT): from the message type and NAT field, the stanza's FORCE_NAT,
 * FORCE_SNAT, FORCE_MASQUERADE, FORWARD_ALL, DISABLE_DNAT and the server's
 * switches. Plugins only render the result (SPA_PLUGIN_CAP_NAT).
 */
#ifndef SPA_NAT_H
#define SPA_NAT_H

#include <stdbool.h>

#include "spa_config.h"
#include "spa_pipeline.h"

/* fwknop's NAT message types: 2, 4 (forwarding), 5, 6 (local NAT). */
bool spa_nat_msg_type(int type);

/*
 * Fills d's NAT form for the message d->msg under stanza s, once the
 * access request and the port policy passed (d->ports, d->n_ports set).
 * Returns as policy() does: 0 to go on (plain access too: nat_flags 0),
 * 1 for a final refusal (the NAT field cannot be used), -1 for a refusal
 * of this stanza (NAT not enabled). Never resolves a name: a host name in
 * the NAT field is refused with ENABLE_NAT_DNS N, else checked and left
 * in d->nat_host with d->nat_resolve set (no target yet) for the monitor
 * to resolve off its loop (spa_daemon_natdns.c).
 */
int spa_nat_decide(const struct spa_config *c, const struct spa_stanza *s,
		   struct spa_decision *d);

/* "forward", "local", "forward+all+snat": the form for log lines. */
const char *spa_nat_form_name(uint32_t nat_flags, char *buf, size_t cap);

#endif
