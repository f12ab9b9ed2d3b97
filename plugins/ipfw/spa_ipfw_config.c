/* SPDX-License-Identifier: MIT */
#include "spa_ipfw.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int get_uint(const struct spa_host_api *host, const char *key, unsigned long def,
		    unsigned long min, unsigned long max, unsigned int *out)
{
	const char *v = host->config_get(host->self, key);
	unsigned long n = def;
	char *end;

	if (v && *v) {
		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || *end || v[0] == '-' || n < min || n > max) {
			host->log(host->self, SPA_LOG_ERR, "%s: expected a number in %lu..%lu, got '%s'",
				  key, min, max, v);
			return -EINVAL;
		}
	}
	*out = (unsigned int)n;
	return 0;
}

int spa_ipfw_load_config(const struct spa_host_api *host, struct spa_ipfw_state *st)
{
	int rc;

	st->host = host;
	st->exe = spa_pu_config_exe(host, "IPFW_EXE", "/sbin/ipfw");
	if (!st->exe)
		return -EINVAL;
	/* ipfw rule numbers are 1..65535 and 65535 is the default rule */
	rc = get_uint(host, "IPFW_START_RULE_NUM", 10000, 1, 65534, &st->start);
	if (rc == 0)
		rc = get_uint(host, "IPFW_MAX_RULES", 1000, 1, 65534, &st->max);
	if (rc == 0)
		rc = get_uint(host, "IPFW_ACTIVE_SET_NUM", 1, 0, 31, &st->active_set);
	if (rc == 0)
		rc = get_uint(host, "IPFW_EXPIRE_SET_NUM", 2, 1, 30, &st->expire_set);
	if (rc == 0)
		rc = get_uint(host, "IPFW_EXPIRE_PURGE_INTERVAL", 180, 0, 86400, &st->purge_interval);
	if (rc < 0)
		return rc;
	if (st->start + st->max - 1 > 65534) {
		host->log(host->self, SPA_LOG_ERR,
			  "IPFW_START_RULE_NUM %u + IPFW_MAX_RULES %u goes past rule 65534",
			  st->start, st->max);
		return -EINVAL;
	}
	/* closing disables by moving to the expire set: the two must differ */
	if (st->expire_set == st->active_set) {
		host->log(host->self, SPA_LOG_ERR,
			  "IPFW_EXPIRE_SET_NUM %u must differ from IPFW_ACTIVE_SET_NUM",
			  st->expire_set);
		return -EINVAL;
	}
	return spa_pu_config_flag(host, "IPFW_ADD_CHECK_STATE", 0, &st->check_state);
}
