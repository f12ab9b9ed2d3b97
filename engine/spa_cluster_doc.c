/* SPDX-License-Identifier: MIT */
/*
 * spa_cluster_doc.c - a cluster grant's JSON document (spa_cluster_doc.h).
 * Decoding is as strict as the wire decoder: every field is typed, ranged
 * and length-checked, addresses must parse, names keep to the charset the
 * node that wrote them had to use, and the NAT fields must form one of
 * the forms spa_nat.c decides. Keys this version does not know are
 * ignored, so a later version 1 writer may add optional fields; a change
 * of meaning takes a new "v", which this reader refuses.
 */
#include "spa_cluster_doc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spa/plugin.h"
#include "spa/store.h"

/* the latest expiry taken: far beyond 2038, far below any overflow */
#define DOC_EXPIRES_MAX (INT32_MAX * 4LL)
#define NODE_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

static int fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* 0: copied; 1: absent and optional; < 0: refused (why says so). */
static int get_str(json_t *o, const char *name, bool required, char *out, size_t cap,
		   char *why, size_t whylen)
{
	json_t *v = json_object_get(o, name);
	const char *s;
	size_t n;

	if (!v)
		return required ? fail(why, whylen, "%s: missing", name) : 1;
	if (!json_is_string(v))
		return fail(why, whylen, "%s: not a string", name);
	s = json_string_value(v);
	n = json_string_length(v);
	/* jansson refuses \u0000 unless asked; a NUL would cut the text
	 * short of what was checked */
	if (strlen(s) != n)
		return fail(why, whylen, "%s: contains a NUL byte", name);
	if (n == 0)
		return fail(why, whylen, "%s: empty", name);
	if (n >= cap)
		return fail(why, whylen, "%s: longer than %zu bytes", name, cap - 1);
	memcpy(out, s, n + 1);
	return 0;
}

static int get_int(json_t *o, const char *name, bool required, json_int_t lo, json_int_t hi,
		   json_int_t *out, char *why, size_t whylen)
{
	json_t *v = json_object_get(o, name);

	if (!v)
		return required ? fail(why, whylen, "%s: missing", name) : 1;
	if (!json_is_integer(v))
		return fail(why, whylen, "%s: not an integer", name);
	if (json_integer_value(v) < lo || json_integer_value(v) > hi)
		return fail(why, whylen, "%s: %" JSON_INTEGER_FORMAT " not in %" JSON_INTEGER_FORMAT
			    "..%" JSON_INTEGER_FORMAT, name, json_integer_value(v), lo, hi);
	*out = json_integer_value(v);
	return 0;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* The NAT form: the combinations spa_nat_decide makes, nothing else
 * (a backend renders what it is given). */
static int decode_nat(json_t *o, struct spa_cluster_doc *doc, char *why, size_t whylen)
{
	const uint32_t fwd_only = SPA_NAT_FORWARD_ALL | SPA_NAT_NO_DNAT | SPA_NAT_SNAT |
				  SPA_NAT_MASQUERADE;
	json_int_t flags = 0, port = 0;
	int rc, has_addr, has_port, has_snat;

	rc = get_int(o, "nat_flags", false, 1, 63, &flags, why, whylen);
	if (rc < 0)
		return rc;
	has_addr = get_str(o, "nat_addr", false, doc->nat_addr, sizeof(doc->nat_addr), why, whylen);
	if (has_addr < 0)
		return has_addr;
	has_port = get_int(o, "nat_port", false, 1, 65535, &port, why, whylen);
	if (has_port < 0)
		return has_port;
	has_snat = get_str(o, "snat_addr", false, doc->snat_addr, sizeof(doc->snat_addr), why,
			   whylen);
	if (has_snat < 0)
		return has_snat;
	has_addr = has_addr == 0;
	has_port = has_port == 0;
	has_snat = has_snat == 0;
	if (!flags) {
		if (has_addr || has_port || has_snat)
			return fail(why, whylen, "%s: given without nat_flags",
				    has_addr ? "nat_addr" : has_port ? "nat_port" : "snat_addr");
		return 0;
	}
	doc->nat_flags = (uint32_t)flags;
	if (!(flags & SPA_NAT_FORWARD) == !(flags & SPA_NAT_LOCAL))
		return fail(why, whylen, "nat_flags: %" JSON_INTEGER_FORMAT " is neither forward "
			    "nor local NAT", flags);
	if ((flags & SPA_NAT_LOCAL) && (flags & fwd_only))
		return fail(why, whylen, "nat_flags: %" JSON_INTEGER_FORMAT " combines local NAT "
			    "with forwarding flags", flags);
	if ((flags & SPA_NAT_SNAT) && (flags & SPA_NAT_MASQUERADE))
		return fail(why, whylen, "nat_flags: %" JSON_INTEGER_FORMAT " has both SNAT and "
			    "MASQUERADE", flags);
	if (has_addr != has_port)
		return fail(why, whylen, "%s: missing (nat_addr and nat_port go together)",
			    has_addr ? "nat_port" : "nat_addr");
	/* only FORWARD_ALL forwards without a target */
	if (!has_addr && !(flags & SPA_NAT_FORWARD_ALL))
		return fail(why, whylen, "nat_addr: missing (nat_flags %" JSON_INTEGER_FORMAT
			    " needs a target)", flags);
	if (has_addr) {
		if (inet_pton(AF_INET, doc->nat_addr, doc->nat_bin) != 1)
			return fail(why, whylen, "nat_addr: '%s' is not an IPv4 address",
				    doc->nat_addr);
		doc->nat_family = AF_INET;
		doc->nat_port = (uint16_t)port;
	}
	if (!(flags & SPA_NAT_SNAT) != !has_snat)
		return fail(why, whylen, "snat_addr: %s", has_snat ? "given without SNAT in "
			    "nat_flags" : "missing (SNAT in nat_flags)");
	if (has_snat && inet_pton(AF_INET, doc->snat_addr, doc->snat_bin) != 1)
		return fail(why, whylen, "snat_addr: '%s' is not an IPv4 address", doc->snat_addr);
	return 0;
}

static int decode_obj(json_t *o, struct spa_cluster_doc *doc, char *why, size_t whylen)
{
	json_int_t v = 0, proto = 0, port = 0, expires = 0, timeout = 0;
	int rc;

	if ((rc = get_int(o, "v", true, SPA_CLUSTER_DOC_VERSION, SPA_CLUSTER_DOC_VERSION, &v,
			  why, whylen)) < 0 ||
	    (rc = get_str(o, "node", true, doc->node, sizeof(doc->node), why, whylen)) < 0 ||
	    (rc = get_str(o, "src", true, doc->src, sizeof(doc->src), why, whylen)) < 0 ||
	    (rc = get_int(o, "proto", true, 0, 255, &proto, why, whylen)) < 0 ||
	    (rc = get_int(o, "port", true, 1, 65535, &port, why, whylen)) < 0 ||
	    (rc = get_int(o, "expires", true, 1, DOC_EXPIRES_MAX, &expires, why, whylen)) < 0 ||
	    (rc = get_int(o, "timeout", true, 1, INT32_MAX, &timeout, why, whylen)) < 0 ||
	    (rc = get_str(o, "user", true, doc->user, sizeof(doc->user), why, whylen)) < 0 ||
	    (rc = get_str(o, "policy", true, doc->policy, sizeof(doc->policy), why, whylen)) < 0 ||
	    (rc = get_str(o, "stanza", true, doc->stanza, sizeof(doc->stanza), why, whylen)) < 0)
		return rc;
	doc->version = (int)v;
	if (strspn(doc->node, NODE_CHARS) != strlen(doc->node))
		return fail(why, whylen, "node: '%s' has characters outside [A-Za-z0-9._-]",
			    doc->node);
	if (inet_pton(AF_INET, doc->src, doc->src_bin) == 1)
		doc->family = AF_INET;
	else if (inet_pton(AF_INET6, doc->src, doc->src_bin) == 1)
		doc->family = AF_INET6;
	else
		return fail(why, whylen, "src: '%s' is not an IPv4 or IPv6 address", doc->src);
	if (proto != 6 && proto != 17)
		return fail(why, whylen, "proto: %" JSON_INTEGER_FORMAT " is neither tcp (6) nor "
			    "udp (17)", proto);
	doc->proto = (uint8_t)proto;
	doc->port = (uint16_t)port;
	doc->expires = (int64_t)expires;
	doc->timeout = (uint32_t)timeout;
	if (spa_validate_username(doc->user) < 0)
		return fail(why, whylen, "user: '%s' is not a valid username", doc->user);
	if (strlen(doc->policy) != SPA_POLICY_ID_LEN - 1 ||
	    strspn(doc->policy, "0123456789abcdef") != SPA_POLICY_ID_LEN - 1)
		return fail(why, whylen, "policy: '%s' is not %d lower-case hex digits", doc->policy,
			    SPA_POLICY_ID_LEN - 1);
	if (!printable(doc->stanza))
		return fail(why, whylen, "stanza: has control characters");
	return decode_nat(o, doc, why, whylen);
}

int spa_cluster_doc_decode(const char *json, struct spa_cluster_doc *doc,
			   char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *o;
	int rc;

	memset(doc, 0, sizeof(*doc));
	if (why && whylen)
		why[0] = '\0';
	if (!json)
		return fail(why, whylen, "no document");
	/* a duplicate key would let two readers see two different grants */
	o = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return fail(why, whylen, "not JSON (%s)", jerr.text);
	if (!json_is_object(o))
		rc = fail(why, whylen, "not a JSON object");
	else
		rc = decode_obj(o, doc, why, whylen);
	json_decref(o);
	if (rc < 0) {
		char keep[sizeof(doc->node)];

		/* what the caller may log: the sender, when it parsed */
		memcpy(keep, doc->node, sizeof(keep));
		memset(doc, 0, sizeof(*doc));
		memcpy(doc->node, keep, sizeof(keep));
	}
	return rc;
}

static int addr_text(int family, const uint8_t *bin, char *out, size_t cap)
{
	return inet_ntop(family, bin, out, (socklen_t)cap) ? 0 : -EINVAL;
}

int spa_cluster_doc_encode(const struct spa_cluster_doc *doc, char **json)
{
	char src[46], nat[46], snat[16], why[128];
	struct spa_cluster_doc check;
	json_t *o;
	char *text = NULL;
	int rc = -ENOMEM;

	*json = NULL;
	if ((doc->family != AF_INET && doc->family != AF_INET6) ||
	    addr_text(doc->family, doc->src_bin, src, sizeof(src)) < 0)
		return -EINVAL;
	if (doc->nat_family && addr_text(doc->nat_family, doc->nat_bin, nat, sizeof(nat)) < 0)
		return -EINVAL;
	if ((doc->nat_flags & SPA_NAT_SNAT) &&
	    addr_text(AF_INET, doc->snat_bin, snat, sizeof(snat)) < 0)
		return -EINVAL;
	o = json_pack("{s:i,s:s,s:s,s:i,s:i,s:I,s:I,s:s,s:s,s:s}",
		      "v", doc->version, "node", doc->node, "src", src,
		      "proto", (int)doc->proto, "port", (int)doc->port,
		      "expires", (json_int_t)doc->expires, "timeout", (json_int_t)doc->timeout,
		      "user", doc->user, "policy", doc->policy, "stanza", doc->stanza);
	if (!o)
		return -EINVAL;   /* a string that is not UTF-8 */
	if (doc->nat_flags) {
		int bad = json_object_set_new(o, "nat_flags", json_integer(doc->nat_flags));

		if (doc->nat_family) {
			bad |= json_object_set_new(o, "nat_addr", json_string(nat));
			bad |= json_object_set_new(o, "nat_port", json_integer(doc->nat_port));
		}
		if (doc->nat_flags & SPA_NAT_SNAT)
			bad |= json_object_set_new(o, "snat_addr", json_string(snat));
		if (bad)
			goto out;
	}
	text = json_dumps(o, JSON_COMPACT);
	if (!text)
		goto out;
	rc = -E2BIG;
	if (strlen(text) > SPA_STORE_VALUE_MAX)
		goto out;
	/* what the other nodes would refuse is better not put at all */
	rc = spa_cluster_doc_decode(text, &check, why, sizeof(why));
	if (rc < 0)
		goto out;
	*json = text;
	text = NULL;
out:
	free(text);
	json_decref(o);
	return rc;
}
