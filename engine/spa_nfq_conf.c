/* SPDX-License-Identifier: MIT */
/*
 * spa_nfq_conf.c - fwknopd.conf's NFQ_* variables and ENABLE_NFQ_CAPTURE.
 * Each value ends up in an iptables argument spad runs as root, so each is
 * held to the alphabet iptables itself accepts for it, here, with the
 * variable's file:line (spa_conf_server.c adds it), rather than failing
 * at start with iptables' own words.
 */
#include "spa_nfq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spa_conf_internal.h"
#include "spa_config.h"

void spa_nfq_conf_init(struct spa_nfq_conf *n)
{
	memset(n, 0, sizeof(*n));
	n->port = SPA_DEFAULT_PORT;
	snprintf(n->table, sizeof(n->table), "%s", SPA_NFQ_DEFAULT_TABLE);
	snprintf(n->chain, sizeof(n->chain), "%s", SPA_NFQ_DEFAULT_CHAIN);
	n->queue = SPA_NFQ_DEFAULT_QUEUE;
}

static const char *const nfq_vars[] = {
	"ENABLE_NFQ_CAPTURE", "NFQ_INTERFACE", "NFQ_PORT", "NFQ_TABLE", "NFQ_CHAIN",
	"NFQ_QUEUE_NUMBER",
};

bool spa_nfq_conf_var(const char *name)
{
	for (size_t i = 0; i < sizeof(nfq_vars) / sizeof(nfq_vars[0]); i++)
		if (strcmp(name, nfq_vars[i]) == 0)
			return true;
	return false;
}

static bool only(const char *v, const char *alphabet)
{
	for (; *v; v++)
		if (!strchr(alphabet, *v) && !((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
						(*v >= '0' && *v <= '9')))
			return false;
	return true;
}

static int number(const char *v, unsigned long min, unsigned long max, unsigned long *out)
{
	if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 6)
		return -EINVAL;
	*out = strtoul(v, NULL, 10);
	return *out < min || *out > max ? -EINVAL : 0;
}

static int fail(char *why, size_t cap, const char *msg)
{
	snprintf(why, cap, "%s", msg);
	return -EINVAL;
}

int spa_nfq_conf_set(struct spa_nfq_conf *n, const char *name, const char *v, char *why,
		     size_t cap)
{
	unsigned long u;
	bool b;

	if (strcmp(name, "ENABLE_NFQ_CAPTURE") == 0) {
		if (spa_conf_yes_no(v, &b) < 0)
			return fail(why, cap, "expected Y or N");
		if (b && !spa_nfq_available())
			return fail(why, cap, "NFQUEUE capture is not in this build (spad was "
				    "built without libnetfilter_queue; docs/MIGRATING.md)");
		n->enable = b;
		return 0;
	}
	if (strcmp(name, "NFQ_INTERFACE") == 0) {
		/* an interface name as the kernel takes it, with iptables'
		 * trailing + wildcard; nothing iptables would read as an option */
		if (strlen(v) >= sizeof(n->intf))
			return fail(why, cap, "interface name too long (max 15 characters)");
		if (v[0] == '-' || !only(v, "._-+@") || (strchr(v, '+') && strchr(v, '+')[1]))
			return fail(why, cap, "expected an interface name ([A-Za-z0-9._@-], "
				    "optionally ending in +)");
		snprintf(n->intf, sizeof(n->intf), "%s", v);
		return 0;
	}
	if (strcmp(name, "NFQ_PORT") == 0) {
		if (number(v, 1, 65535, &u) < 0)
			return fail(why, cap, "expected a port number 1..65535");
		n->port = (uint16_t)u;
		return 0;
	}
	if (strcmp(name, "NFQ_TABLE") == 0) {
		/* the jump is from INPUT: the tables that have it */
		if (strcmp(v, "mangle") && strcmp(v, "filter") && strcmp(v, "security"))
			return fail(why, cap, "expected mangle, filter or security (a table "
				    "with an INPUT chain, where spad jumps from)");
		snprintf(n->table, sizeof(n->table), "%s", v);
		return 0;
	}
	if (strcmp(name, "NFQ_CHAIN") == 0) {
		static const char *const builtin[] = { "INPUT", "OUTPUT", "FORWARD", "PREROUTING",
						       "POSTROUTING" };
		if (!*v || strlen(v) >= sizeof(n->chain))
			return fail(why, cap, "expected a chain name of 1 to 28 characters");
		if (v[0] == '-' || !only(v, "_-"))
			return fail(why, cap, "expected a chain name [A-Za-z0-9_-]");
		for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
			if (strcmp(v, builtin[i]) == 0)
				return fail(why, cap, "a chain of spad's own, not a built-in "
					    "one: spad flushes and deletes it");
		snprintf(n->chain, sizeof(n->chain), "%s", v);
		return 0;
	}
	if (strcmp(name, "NFQ_QUEUE_NUMBER") == 0) {
		if (number(v, 0, 65535, &u) < 0)
			return fail(why, cap, "expected a queue number 0..65535");
		n->queue = (uint16_t)u;
		return 0;
	}
	return fail(why, cap, "not an NFQ variable");
}

int spa_nfq_conf_finish(struct spa_nfq_conf *n, bool udp_server, bool pcap_file, char *err,
			size_t errlen)
{
	/* asking for a file means reading that file, whatever the config says */
	if (pcap_file)
		n->enable = false;
	/* -n: the file's ENABLE_NFQ_CAPTURE Y was refused at its line */
	if (n->enable && !spa_nfq_available()) {
		snprintf(err, errlen, "-n: NFQUEUE capture is not in this build (spad was built "
			 "without libnetfilter_queue)");
		return -EINVAL;
	}
	if (n->enable && udp_server) {
		snprintf(err, errlen, "ENABLE_NFQ_CAPTURE and ENABLE_UDP_SERVER (or -U) are two "
			 "capture modes: choose one");
		return -EINVAL;
	}
	return 0;
}

bool spa_nfq_conf_same(const struct spa_nfq_conf *a, const struct spa_nfq_conf *b)
{
	return a->enable == b->enable && a->port == b->port && a->queue == b->queue &&
	       strcmp(a->intf, b->intf) == 0 && strcmp(a->table, b->table) == 0 &&
	       strcmp(a->chain, b->chain) == 0;
}

void spa_nfq_conf_dump(const struct spa_nfq_conf *n, FILE *out)
{
	fprintf(out, "    %-24s %s%s\n", "ENABLE_NFQ_CAPTURE", n->enable ? "Y" : "N",
		spa_nfq_available() ? "" : " (not in this build)");
	fprintf(out, "    %-24s %s\n", "NFQ_INTERFACE", n->intf[0] ? n->intf : "(any)");
	fprintf(out, "    %-24s %u\n", "NFQ_PORT", n->port);
	fprintf(out, "    %-24s %s\n", "NFQ_TABLE", n->table);
	fprintf(out, "    %-24s %s\n", "NFQ_CHAIN", n->chain);
	fprintf(out, "    %-24s %u\n", "NFQ_QUEUE_NUMBER", n->queue);
}
