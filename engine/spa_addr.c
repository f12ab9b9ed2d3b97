/* SPDX-License-Identifier: MIT */
#include "spa_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Copies one comma-separated item without surrounding blanks. */
static const char *next_item(const char *s, char *item, size_t cap, int *toolong)
{
	const char *end;
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	end = strchr(s, ',');
	if (!end)
		end = s + strlen(s);
	len = (size_t)(end - s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	*toolong = len >= cap;
	if (*toolong)
		len = cap - 1;
	memcpy(item, s, len);
	item[len] = '\0';
	return *end ? end + 1 : NULL;
}

static void prefix_mask(uint8_t *mask, size_t bytes, unsigned bits)
{
	for (size_t i = 0; i < bytes; i++) {
		unsigned b = bits >= 8 ? 8 : bits;
		mask[i] = (uint8_t)(b ? 0xffu << (8 - b) : 0);
		bits -= b;
	}
}

static int parse_prefix_len(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < 1 || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_cidr(char *item, struct spa_cidr *c)
{
	char *slash = strchr(item, '/');
	size_t bytes;
	unsigned bits;

	memset(c, 0, sizeof(*c));
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, item, c->net) == 1) {
		c->family = AF_INET;
		bytes = 4;
	} else if (inet_pton(AF_INET6, item, c->net) == 1) {
		c->family = AF_INET6;
		bytes = 16;
	} else {
		return -1;
	}
	if (!slash) {
		prefix_mask(c->mask, bytes, (unsigned)bytes * 8);
	} else if (c->family == AF_INET && strchr(slash, '.')) {
		uint8_t m[4];
		uint32_t v, inv;
		if (inet_pton(AF_INET, slash, m) != 1)
			return -1;
		v = ((uint32_t)m[0] << 24) | ((uint32_t)m[1] << 16) | ((uint32_t)m[2] << 8) | m[3];
		inv = ~v;
		/* A dotted mask must be contiguous ones, and /0 is spelled ANY. */
		if (v == 0 || (inv & (inv + 1)) != 0)
			return -1;
		memcpy(c->mask, m, 4);
	} else {
		if (parse_prefix_len(slash, (unsigned)bytes * 8, &bits) < 0)
			return -1;
		prefix_mask(c->mask, bytes, bits);
	}
	/* Mask every byte of the array: past the family's length both net
	 * and mask are zero from the memset, so this is the same as masking
	 * `bytes` bytes, and the bound is the array's own size (a loop bound
	 * of `bytes` made GCC 12 at -O3 warn of a write past net[]). */
	for (size_t i = 0; i < sizeof(c->net); i++)
		c->net[i] &= c->mask[i];
	return 0;
}

int spa_addr_list_parse(const char *s, struct spa_addr_list *l, char *err, size_t errlen)
{
	char item[128];
	int toolong, rc = 0;
	const char *p = s;

	memset(l, 0, sizeof(*l));
	if (!s || !*s) {
		snprintf(err, errlen, "empty address list");
		return -EINVAL;
	}
	while (p) {
		struct spa_cidr *grown;

		p = next_item(p, item, sizeof(item), &toolong);
		if (!*item || toolong) {
			snprintf(err, errlen, "empty or overlong list item");
			rc = -EINVAL;
			goto out;
		}
		if (strcasecmp(item, "ANY") == 0) {
			l->any = true;
			continue;
		}
		grown = realloc(l->items, (l->n + 1) * sizeof(*grown));
		if (!grown) {
			rc = -ENOMEM;
			goto out;
		}
		l->items = grown;
		{
			char copy[128];
			memcpy(copy, item, sizeof(copy));
			if (parse_cidr(copy, &l->items[l->n]) < 0) {
				snprintf(err, errlen, "invalid address or network '%s'", item);
				rc = -EINVAL;
				goto out;
			}
		}
		l->n++;
	}
out:
	if (rc < 0)
		spa_addr_list_free(l);
	return rc;
}

bool spa_addr_list_match(const struct spa_addr_list *l, int family, const void *addr)
{
	const uint8_t *a = addr;
	size_t bytes = family == AF_INET6 ? 16 : 4;

	if (l->any)
		return true;
	for (size_t i = 0; i < l->n; i++) {
		const struct spa_cidr *c = &l->items[i];
		size_t k;
		if (c->family != family)
			continue;
		for (k = 0; k < bytes; k++)
			if ((a[k] & c->mask[k]) != c->net[k])
				break;
		if (k == bytes)
			return true;
	}
	return false;
}

bool spa_addr_list_has_v6(const struct spa_addr_list *l)
{
	if (l->any)
		return true;
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].family == AF_INET6)
			return true;
	return false;
}

void spa_addr_list_free(struct spa_addr_list *l)
{
	free(l->items);
	memset(l, 0, sizeof(*l));
}

int spa_port_list_parse(const char *s, struct spa_port_list *l, char *err, size_t errlen)
{
	char item[40];
	int toolong, rc = 0;
	const char *p = s;

	memset(l, 0, sizeof(*l));
	while (p) {
		struct spa_port *grown;
		char *slash, *end;
		unsigned long port;
		uint8_t proto;

		p = next_item(p, item, sizeof(item), &toolong);
		slash = strchr(item, '/');
		if (toolong || !slash)
			goto bad;
		*slash = '\0';
		if (strcasecmp(item, "tcp") == 0)
			proto = 6;
		else if (strcasecmp(item, "udp") == 0)
			proto = 17;
		else
			goto bad;
		if (slash[1] < '0' || slash[1] > '9')
			goto bad;
		errno = 0;
		port = strtoul(slash + 1, &end, 10);
		if (errno || *end || port < 1 || port > 65535)
			goto bad;
		grown = realloc(l->items, (l->n + 1) * sizeof(*grown));
		if (!grown) {
			rc = -ENOMEM;
			goto out;
		}
		l->items = grown;
		l->items[l->n].proto = proto;
		l->items[l->n].port = (uint16_t)port;
		l->n++;
		continue;
bad:
		if (slash)
			*slash = '/';
		snprintf(err, errlen, "invalid proto/port item '%s'", item);
		rc = -EINVAL;
		goto out;
	}
out:
	if (rc < 0)
		spa_port_list_free(l);
	return rc;
}

bool spa_port_list_has(const struct spa_port_list *l, const struct spa_port *p)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].proto == p->proto && l->items[i].port == p->port)
			return true;
	return false;
}

void spa_port_list_free(struct spa_port_list *l)
{
	free(l->items);
	memset(l, 0, sizeof(*l));
}
