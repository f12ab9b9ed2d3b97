/* SPDX-License-Identifier: MIT */
/*
 * cloud.h - a simulated cloud provider's security-group API, so that the
 * example can be read, built and tested without an account. The group's
 * ingress rules live in a text file, one rule a line:
 *
 *   <rule-id> <group> ingress <proto> <port> <cidr> <description>
 *
 * Each function is one API request. Replace cloud.c with the provider's
 * SDK calls (AuthorizeSecurityGroupIngress, RevokeSecurityGroupIngress,
 * DescribeSecurityGroupRules...) and cloudsg.c stays as it is.
 */
#ifndef CLOUDSG_CLOUD_H
#define CLOUDSG_CLOUD_H

#include <stddef.h>
#include <stdint.h>

#define CLOUD_ID_LEN    21   /* "sgr-" + 16 hex digits */
#define CLOUD_NAME_LEN  64   /* group, description */
#define CLOUD_CIDR_LEN  50   /* an IPv6 address, "/128" */
#define CLOUD_QUOTA     1000 /* rules per group */

struct cloud_rule {
	char id[CLOUD_ID_LEN];            /* chosen by the provider */
	char group[CLOUD_NAME_LEN];
	char proto[4];                    /* "tcp" / "udp" */
	uint16_t port;
	char cidr[CLOUD_CIDR_LEN];        /* "198.51.100.7/32" */
	char description[CLOUD_NAME_LEN];
};

struct cloud {
	const char *path;                 /* the file the simulation keeps */
	const char *token;                /* the API credential */
};

/*
 * Errors are a provider's, as negative errnos:
 *   -EAGAIN   throttled (RequestLimitExceeded): another request holds the
 *             group; trying again later works
 *   -EINVAL   a parameter refused (InvalidParameterValue)
 *   -EDQUOT   the group's rule quota is reached
 *   -EACCES   the credential is refused (AuthFailure)
 *   others    the request did not get through
 */

/* Adds n rules in one request, filling in each one's id; rc[i] is rule
 * i's result. A rule the group already holds (the same but for the id)
 * keeps its id: requests are idempotent. Returns 0, or the error of the
 * whole request (then in every rc[i]). */
int cloud_authorize(const struct cloud *c, struct cloud_rule *r, size_t n, int *rc);
/* Removes the rules of group with these ids; ids it does not hold are
 * fine. */
int cloud_revoke(const struct cloud *c, const char *group, const char *const *ids, size_t n);
/* The rules of group, in *out (malloc'd, NULL on error). */
int cloud_describe(const struct cloud *c, const char *group, struct cloud_rule **out,
		   size_t *n);

#endif
