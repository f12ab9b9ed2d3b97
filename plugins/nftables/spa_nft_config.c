/* SPDX-License-Identifier: MIT */
#include "spa_nft.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Table names go into nft scripts: letters, digits and '_' only, so a
 * config value can never add a statement. */
int spa_nft_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= SPA_NFT_NAME_LEN || !isalpha((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* "tcp/22, udp/53" (the OPEN_PORTS syntax) */
int spa_nft_parse_ports(const char *value, struct spa_nft_port *out, unsigned int max,
			unsigned int *n)
{
	const char *p = value;

	*n = 0;
	while (*p) {
		char proto[4];
		size_t plen;
		char *end;
		unsigned long port;
		int num;

		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (!*p)
			break;
		plen = strcspn(p, "/");
		if (plen == 0 || plen >= sizeof(proto) || p[plen] != '/')
			return -EINVAL;
		memcpy(proto, p, plen);
		proto[plen] = '\0';
		num = spa_pu_proto_number(proto);
		if (num < 0 || !isalpha((unsigned char)proto[0]))
			return -EINVAL;
		p += plen + 1;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		errno = 0;
		port = strtoul(p, &end, 10);
		if (errno || port == 0 || port > 65535)
			return -EINVAL;
		p = end;
		while (isspace((unsigned char)*p))
			p++;
		if (*p && *p != ',')
			return -EINVAL;
		if (*n >= max)
			return -E2BIG;
		out[*n].proto = (uint8_t)num;
		out[*n].port = (uint16_t)port;
		(*n)++;
	}
	return 0;
}

static int get_long(const struct spa_host_api *host, const char *key, long def, long min,
		    long max, long *out)
{
	const char *v = host->config_get(host->self, key);
	char *end;
	long x;

	*out = def;
	if (!v || !*v)
		return 0;
	errno = 0;
	x = strtol(v, &end, 0);
	if (errno || *end || x < min || x > max) {
		host->log(host->self, SPA_LOG_ERR, "%s: expected an integer %ld..%ld, got '%s'",
			  key, min, max, v);
		return -EINVAL;
	}
	*out = x;
	return 0;
}

#ifdef SPA_NFT_HAVE_LIBNFTABLES
#define SPA_NFT_XPORT_NAMES "library, exec"
#else
#define SPA_NFT_XPORT_NAMES "exec (built without libnftables)"
#endif

/* NFT_TRANSPORT: the library when built in, else the nft command. */
static int pick_transport(const struct spa_host_api *host, struct spa_nft_state *st)
{
	static const struct spa_nft_xport *const known[] = {
#ifdef SPA_NFT_HAVE_LIBNFTABLES
		&spa_nft_xport_lib,
#endif
		&spa_nft_xport_exec,
	};
	const char *v = host->config_get(host->self, "NFT_TRANSPORT");

	st->xport = known[0];
	if (!v || !*v)
		return 0;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcmp(v, known[i]->name) == 0) {
			st->xport = known[i];
			return 0;
		}
	}
	host->log(host->self, SPA_LOG_ERR, "NFT_TRANSPORT: '%s' is not one of: %s", v,
		  SPA_NFT_XPORT_NAMES);
	return -EINVAL;
}

int spa_nft_load_config(const struct spa_host_api *host, struct spa_nft_state *st)
{
	const char *v;
	long x;
	int rc;

	st->host = host;
	st->exe = spa_pu_config_exe(host, "NFT_EXE", "/usr/sbin/nft");
	if (!st->exe)
		return -EINVAL;
	rc = pick_transport(host, st);
	if (rc < 0)
		return rc;
	v = host->config_get(host->self, "NFT_TABLE");
	if (!v || !*v)
		v = "spa";
	if (!spa_nft_valid_name(v)) {
		host->log(host->self, SPA_LOG_ERR, "NFT_TABLE: invalid table name '%s'", v);
		return -EINVAL;
	}
	memcpy(st->table, v, strlen(v) + 1);
	rc = get_long(host, "NFT_PRIORITY", -10, -400, 400, &x);
	if (rc < 0)
		return rc;
	st->priority = (int)x;
	rc = get_long(host, "NFT_MARK", 0x5350, 0, 0xffffffffL, &x);
	if (rc < 0)
		return rc;
	st->mark = (uint32_t)x;
	v = host->config_get(host->self, "NFT_PROTECT_PORTS");
	if (v && *v) {
		rc = spa_nft_parse_ports(v, st->protect, SPA_NFT_MAX_PROTECT, &st->nprotect);
		if (rc < 0) {
			host->log(host->self, SPA_LOG_ERR,
				  "NFT_PROTECT_PORTS: expected 'tcp/22, udp/53', got '%s'", v);
			return rc;
		}
	}
	/* One knob per behaviour: the engine's FLUSH_NFT_AT_INIT/EXIT (it
	 * calls ops.flush, in daemon mode only, never for --fw-list). */
	rc = spa_pu_config_replaced(host, "NFT_FLUSH_AT_INIT", "FLUSH_NFT_AT_INIT");
	if (rc == 0)
		rc = spa_pu_config_replaced(host, "NFT_FLUSH_AT_EXIT", "FLUSH_NFT_AT_EXIT");
	if (rc < 0)
		return rc;
	return 0;
}
