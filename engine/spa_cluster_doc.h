/* SPDX-License-Identifier: MIT */
/*
 * spa_cluster_doc.h - the grant document a node puts in the state store
 * for a grant of a GRANT_SCOPE cluster stanza (docs/CLUSTER.md, "Grants"),
 * and its strict reading: the store is written with every node's
 * credentials, so another node's document is parsed as what the network
 * sends. No configuration here: what the fields mean on this node
 * (stanza, address classes, limits) is spa_daemon_cluster.c's.
 */
#ifndef SPA_CLUSTER_DOC_H
#define SPA_CLUSTER_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "spa_config.h"
#include "spa_policy.h"
#include "spa_wire.h"

#define SPA_CLUSTER_DOC_VERSION 1

struct spa_cluster_doc {
	int version;                          /* SPA_CLUSTER_DOC_VERSION */
	char node[SPA_CLUSTER_NODE_LEN];      /* [A-Za-z0-9._-], as CLUSTER_NODE_NAME */
	int family;                           /* AF_INET or AF_INET6 */
	uint8_t src_bin[16];
	char src[46];                         /* decode: the text as sent */
	uint8_t proto;                        /* 6 or 17 */
	uint16_t port;                        /* 1..65535 */
	int64_t expires;                      /* absolute, seconds since the epoch */
	uint32_t timeout;                     /* 1..INT32_MAX */
	char user[SPA_MAX_USERNAME_LEN + 1];  /* as spa_validate_username */
	char policy[SPA_POLICY_ID_LEN];       /* 16 lower-case hex digits */
	char stanza[64];                      /* the publishing node's label, for logs */
	/* the NAT form (spa_nat.c): 0 for plain access; else the
	 * target (nat_family AF_INET, absent for FORWARD_ALL without one)
	 * and, with SPA_NAT_SNAT, the source translation */
	uint32_t nat_flags;
	int nat_family;
	uint8_t nat_bin[16];
	char nat_addr[46];
	uint16_t nat_port;
	uint8_t snat_bin[4];
	char snat_addr[16];
};

/* *json (malloc'd, compact, at most SPA_STORE_VALUE_MAX bytes) for doc,
 * whose addresses are taken from the binary forms. A document that
 * spa_cluster_doc_decode would refuse is not written: -EINVAL (the
 * other nodes would ignore it), -E2BIG, -ENOMEM. */
int spa_cluster_doc_encode(const struct spa_cluster_doc *doc, char **json);

/* Fills doc from json, 0; or a negative errno (-EINVAL) with `why`
 * naming the field and what is wrong with it. */
int spa_cluster_doc_decode(const char *json, struct spa_cluster_doc *doc,
			   char *why, size_t whylen);

#endif
