/* SPDX-License-Identifier: MIT */
/*
 * spa_conf_nat.c - the NAT and forwarding settings of fwknopd.conf and
 * access.conf (docs/man/spad.8, NAT). fwknopd is built for one firewall
 * family and reads that family's names (ENABLE_IPT_FORWARDING or
 * ENABLE_FIREWD_FORWARDING); spad reads both, and Y under either name
 * enables the switch for whichever NAT-capable plugin serves a stanza, so
 * an fwknopd.conf keeps its meaning when FIREWALL_TYPE changes. The
 * engine decides a grant's NAT form from these (spa_nat.c).
 */
#include "spa_conf_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The switches: [0] iptables name, [1] firewalld name. */
static const char *const forwarding_names[] = { "ENABLE_IPT_FORWARDING",
						"ENABLE_FIREWD_FORWARDING" };
static const char *const local_names[] = { "ENABLE_IPT_LOCAL_NAT", "ENABLE_FIREWD_LOCAL_NAT" };
static const char *const snat_names[] = { "ENABLE_IPT_SNAT", "ENABLE_FIREWD_SNAT" };

static bool is_one_of(const char *name, const char *const names[2])
{
	return strcmp(name, names[0]) == 0 || strcmp(name, names[1]) == 0;
}

/* Y under either name; the last assignment of each name counts. */
static bool either_yes(const struct spa_config *c, const char *const names[2])
{
	bool yes = false, b;

	for (int i = 0; i < 2 && !yes; i++) {
		const char *v = spa_config_kv_get(c, names[i]);
		yes = v && spa_conf_yes_no(v, &b) == 0 && b;
	}
	return yes;
}

/* An IPv4 address as fwknop writes them (strict dotted quad, not 0.0.0.0). */
static int ipv4(const char *v, char text[16], uint8_t bin[4])
{
	size_t n = strlen(v);

	if (n >= 16 || spa_validate_ipv4(v) < 0 || inet_pton(AF_INET, v, bin) != 1 ||
	    strcmp(v, "0.0.0.0") == 0)
		return -EINVAL;
	memcpy(text, v, n + 1);
	return 0;
}

int spa_conf_nat_server_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p, const char *v)
{
	struct spa_config *c = x->c;
	const char *n = p->name;
	bool b;
	int rc;

	if (strcmp(n, "ENABLE_NAT_DNS") == 0) {
		if (spa_conf_yes_no(v, &b) < 0)
			return spa_conf_fail(x, p, "expected Y or N");
		c->nat_dns = b;
		return 0;
	}
	if (strcmp(n, "SNAT_TRANSLATE_IP") == 0) {
		/* fwknopd's sample leaves it empty: MASQUERADE then */
		c->has_snat_ip = v[0] != '\0';
		if (c->has_snat_ip && ipv4(v, c->snat_translate_ip, c->snat_translate_bin) < 0)
			return spa_conf_fail(x, p, "expected an IPv4 address (or nothing: "
					     "MASQUERADE)");
		return 0;
	}
	if (!is_one_of(n, forwarding_names) && !is_one_of(n, local_names) &&
	    !is_one_of(n, snat_names))
		return 1;
	if (spa_conf_yes_no(v, &b) < 0)
		return spa_conf_fail(x, p, "expected Y or N");
	/* kept among the plugin keys too: the plugin of that family reads
	 * its own name (whether to set up its NAT chains at init) */
	rc = spa_conf_kv_add(&c->kv, &c->n_kv, p, v);
	if (rc < 0)
		return rc;
	if (is_one_of(n, forwarding_names))
		snprintf(c->nat_forwarding_name, sizeof(c->nat_forwarding_name), "%s", n);
	if (is_one_of(n, local_names))
		snprintf(c->nat_local_name, sizeof(c->nat_local_name), "%s", n);
	c->nat_forwarding = either_yes(c, forwarding_names);
	c->nat_local = either_yes(c, local_names);
	c->nat_snat = either_yes(c, snat_names);
	return 0;
}

bool spa_conf_nat_engine_key(const char *name)
{
	return is_one_of(name, forwarding_names) || is_one_of(name, local_names) ||
	       is_one_of(name, snat_names);
}

/* as the stanza's label: the file's name, so the line always fits */
static void where(const struct spa_conf_pos *p, char out[64])
{
	const char *slash = strrchr(p->file, '/');

	snprintf(out, 64, "%.40s:%u", slash ? slash + 1 : p->file, p->line);
}

static int yes_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p, const char *v,
		   bool *dst, char w[64])
{
	if (spa_conf_yes_no(v, dst) < 0)
		return spa_conf_fail(x, p, "expected Y or N");
	if (*dst)
		where(p, w);
	return 0;
}

int spa_conf_nat_access_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p, const char *v,
			    struct spa_stanza *s)
{
	struct spa_stanza_nat *nat = &s->nat;
	const char *n = p->name;

	if (strcmp(n, "FORCE_NAT") == 0) {
		char ip[64];
		uint32_t port;
		const char *sp = v + strcspn(v, " \t");
		size_t len = (size_t)(sp - v);

		sp += strspn(sp, " \t");
		if (len == 0 || len >= sizeof(ip))
			return spa_conf_fail(x, p, "expected <IPv4 address> <port>");
		memcpy(ip, v, len);
		ip[len] = '\0';
		if (ipv4(ip, nat->force_nat_ip, nat->force_nat_bin) < 0 ||
		    spa_conf_u32(sp, 1, 65535, &port) < 0)
			return spa_conf_fail(x, p, "expected <IPv4 address> <port 1..65535>");
		nat->force_nat = true;
		nat->force_nat_port = (uint16_t)port;
		where(p, nat->where_nat);
		return 0;
	}
	if (strcmp(n, "FORCE_SNAT") == 0) {
		if (ipv4(v, nat->force_snat_ip, nat->force_snat_bin) < 0)
			return spa_conf_fail(x, p, "expected an IPv4 address");
		nat->force_snat = true;
		where(p, nat->where_snat);
		return 0;
	}
	if (strcmp(n, "FORCE_MASQUERADE") == 0)
		return yes_var(x, p, v, &nat->force_masquerade, nat->where_snat);
	if (strcmp(n, "FORWARD_ALL") == 0)
		return yes_var(x, p, v, &nat->forward_all, nat->where_all);
	if (strcmp(n, "DISABLE_DNAT") == 0)
		return yes_var(x, p, v, &nat->disable_dnat, nat->where_dnat);
	return 1;
}

bool spa_stanza_has_nat(const struct spa_stanza *s)
{
	const struct spa_stanza_nat *n = &s->nat;

	return n->force_nat || n->force_snat || n->force_masquerade || n->forward_all ||
	       n->disable_dnat;
}

/* fwknopd's rules for a stanza (its access.conf checks), with file:line. */
int spa_conf_nat_finish(const struct spa_config *c, const struct spa_stanza *s, char *err,
			size_t errlen)
{
	const struct spa_stanza_nat *n = &s->nat;

	if ((n->force_snat || n->force_masquerade) && !n->force_nat && !n->forward_all) {
		snprintf(err, errlen, "%s: %s needs FORCE_NAT or FORWARD_ALL in the stanza",
			 n->where_snat, n->force_masquerade ? "FORCE_MASQUERADE" : "FORCE_SNAT");
		return -EINVAL;
	}
	if ((n->force_nat || n->forward_all) && !c->nat_forwarding && !c->nat_local) {
		snprintf(err, errlen, "%s: %s needs ENABLE_IPT_FORWARDING or ENABLE_IPT_LOCAL_NAT "
			 "(or the ENABLE_FIREWD_ names) Y in the server configuration",
			 n->force_nat ? n->where_nat : n->where_all,
			 n->force_nat ? "FORCE_NAT" : "FORWARD_ALL");
		return -EINVAL;
	}
	return 0;
}
