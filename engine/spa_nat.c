/* SPDX-License-Identifier: MIT */
/*
 * spa_nat.c - a knock's NAT form, decided by the engine as fwknopd decides
 * which NAT rules to make (docs/man/spad.8, NAT; docs/plugins.md, NAT):
 *
 *   types 2/4, or FORCE_NAT / FORWARD_ALL on a type 1/3 knock: FORWARD to
 *     the NAT target (FORCE_NAT's when set, else the knock's NAT field),
 *     plus FORWARD_ALL, NO_DNAT (DISABLE_DNAT) and a source translation:
 *     FORCE_MASQUERADE, else FORCE_SNAT's address, else with ENABLE_*_SNAT
 *     SNAT_TRANSLATE_IP or, without it, MASQUERADE;
 *   types 5/6: LOCAL, to the target (FORCE_NAT's, else the field's).
 *
 * Only the first requested proto/port is used, as in fwknopd. Runs in the
 * packet process and again in the monitor (spa_pipeline_recheck), so it
 * depends on nothing but the configuration and the message.
 */
#include "spa_nat.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "spa/plugin.h"
#include "spa_hostaddr.h"

/* A refusal returning policy()'s code rc. */
#define refuse(d, s, rc, ...) (spa_pipeline_reject((d), (s), __VA_ARGS__), (rc))

bool spa_nat_msg_type(int type)
{
	return type == SPA_MSG_NAT_ACCESS || type == SPA_MSG_CLIENT_TIMEOUT_NAT_ACCESS ||
	       type == SPA_MSG_LOCAL_NAT_ACCESS || type == SPA_MSG_CLIENT_TIMEOUT_LOCAL_NAT_ACCESS;
}

static bool local_type(int type)
{
	return type == SPA_MSG_LOCAL_NAT_ACCESS || type == SPA_MSG_CLIENT_TIMEOUT_LOCAL_NAT_ACCESS;
}

static void set_target(struct spa_decision *d, const uint8_t bin[4], uint16_t port)
{
	d->nat_family = AF_INET;
	memset(d->nat_bin, 0, sizeof(d->nat_bin));
	memcpy(d->nat_bin, bin, 4);
	inet_ntop(AF_INET, d->nat_bin, d->nat_addr, sizeof(d->nat_addr));
	d->nat_port = port;
}

/* Letters, digits and hyphens in dot-separated labels of 1 to 63, not
 * starting or ending with a hyphen (RFC 1123), the last not all digits
 * (a resolver would read "10.1" as an address): what a resolver is given. */
static bool hostname_ok(const char *h)
{
	size_t label = 0;
	bool digits = true;       /* the label so far: "10.1" is no name */

	for (const char *p = h;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || label > 63 || p[-1] == '-')
				return false;
			if (*p == '\0')
				return !digits;
			label = 0;
			digits = true;
			continue;
		}
		digits = digits && *p >= '0' && *p <= '9';
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || (*p == '-' && label > 0)))
			return false;
		label++;
	}
}

/* The knock's own "host,port" (validated by the decoder already). */
static int field_target(const struct spa_config *c, const struct spa_stanza *s,
			struct spa_decision *d)
{
	const char *f = d->msg.nat_access, *comma = strchr(f, ',');
	char host[72];
	uint8_t bin[4];
	unsigned long port;
	char *end;

	if (!comma || (size_t)(comma - f) >= sizeof(host))
		return refuse(d, s, 1, "malformed NAT field");
	memcpy(host, f, (size_t)(comma - f));
	host[comma - f] = '\0';
	port = strtoul(comma + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return refuse(d, s, 1, "malformed NAT field");
	if (spa_validate_ipv4(host) == 0 && inet_pton(AF_INET, host, bin) == 1) {
		set_target(d, bin, (uint16_t)port);
		return 0;
	}
	/* A name is never resolved here: this runs on the packet loop (in
	 * a sandbox without DNS) and a resolver can take seconds. The
	 * monitor resolves it off its loop (spa_daemon_natdns.c). */
	if (!c->nat_dns)
		return refuse(d, s, 1, "NAT host '%.72s' is a name and ENABLE_NAT_DNS is N", host);
	if (!hostname_ok(host))
		return refuse(d, s, 1, "NAT host '%.72s' is not a host name", host);
	d->nat_resolve = true;
	snprintf(d->nat_host, sizeof(d->nat_host), "%s", host);
	d->nat_port = (uint16_t)port;
	return 0;
}

static void source_translation(const struct spa_config *c, const struct spa_stanza_nat *n,
			       struct spa_decision *d)
{
	const uint8_t *ip = NULL;

	if (n->force_masquerade) {
		d->nat_flags |= SPA_NAT_MASQUERADE;
		return;
	}
	if (n->force_snat)
		ip = n->force_snat_bin;
	else if (c->nat_snat && c->has_snat_ip)
		ip = c->snat_translate_bin;
	else if (c->nat_snat)
		d->nat_flags |= SPA_NAT_MASQUERADE;
	if (ip) {
		d->nat_flags |= SPA_NAT_SNAT;
		memcpy(d->snat_bin, ip, 4);
		inet_ntop(AF_INET, d->snat_bin, d->snat_addr, sizeof(d->snat_addr));
	}
}

int spa_nat_decide(const struct spa_config *c, const struct spa_stanza *s,
		   struct spa_decision *d)
{
	const struct spa_stanza_nat *n = &s->nat;
	int type = d->msg.type;
	bool local = local_type(type), forced = n->force_nat || n->forward_all;
	const char *what;
	int rc;

	d->nat_flags = 0;
	d->nat_resolve = false;
	d->nat_host[0] = '\0';
	d->nat_family = 0;
	d->nat_port = 0;
	d->nat_addr[0] = d->snat_addr[0] = '\0';
	if (!spa_nat_msg_type(type) && !forced)
		return 0;
	if (spa_nat_msg_type(type) && !local && !c->nat_forwarding)
		return refuse(d, s, -1, "NAT access not enabled (%s N)", c->nat_forwarding_name);
	if (local && !c->nat_local)
		return refuse(d, s, -1, "local NAT access not enabled (%s N)", c->nat_local_name);
	if (n->force_nat)
		set_target(d, n->force_nat_bin, n->force_nat_port);
	else if (spa_nat_msg_type(type) && !(n->forward_all && !local) &&
		 (rc = field_target(c, s, d)) != 0)
		return rc;
	what = d->nat_family ? spa_addr_never_grantable(d->nat_family, d->nat_bin) : NULL;
	if (what)
		return refuse(d, s, 1, "NAT target %s is %s", d->nat_addr, what);
	if (local) {
		d->nat_flags = SPA_NAT_LOCAL;
	} else {
		d->nat_flags = SPA_NAT_FORWARD;
		if (n->forward_all)
			d->nat_flags |= SPA_NAT_FORWARD_ALL;
		if (n->disable_dnat)
			d->nat_flags |= SPA_NAT_NO_DNAT;
		source_translation(c, n, d);
	}
	/* only the first proto/port is forwarded, as in fwknopd */
	d->n_ports = 1;
	return 0;
}

const char *spa_nat_form_name(uint32_t f, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s%s%s", f & SPA_NAT_LOCAL ? "local" : "forward",
		 f & SPA_NAT_FORWARD_ALL ? "+all" : "", f & SPA_NAT_NO_DNAT ? "+nodnat" : "",
		 f & SPA_NAT_SNAT ? "+snat" : "", f & SPA_NAT_MASQUERADE ? "+masq" : "");
	return buf;
}
