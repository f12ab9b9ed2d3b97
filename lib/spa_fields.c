/* SPDX-License-Identifier: MIT */
/*
 * Validators for the fields carried inside an SPA message. They are
 * deliberately strict: what passes here is what fwknopd 2.6.10 accepts,
 * minus its ambiguities (octal-looking addresses, protocols it advertises
 * but cannot honour).
 */
#include "spa_wire.h"
#include <string.h>

static bool spa_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Parses 1..5 digits with value 1..65535. */
static int spa_parse_port(const char *s, size_t len, uint16_t *port)
{
	uint32_t v = 0;

	if (len < 1 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!spa_is_digit(s[i]))
			return -1;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int spa_check_ipv4_span(const char *s, size_t len)
{
	size_t i = 0;

	if (len < 7 || len > 15)
		return -SPA_E_MESSAGE;
	for (int octet = 0; octet < 4; octet++) {
		size_t start = i;
		unsigned v = 0;

		while (i < len && spa_is_digit(s[i]) && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		/* leading zeros read as octal by inet_aton: refuse the ambiguity */
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return -SPA_E_MESSAGE;
		if (octet < 3) {
			if (i >= len || s[i] != '.')
				return -SPA_E_MESSAGE;
			i++;
		}
	}
	return i == len ? 0 : -SPA_E_MESSAGE;
}

int spa_validate_ipv4(const char *ip)
{
	if (!ip)
		return -SPA_E_ARG;
	return spa_check_ipv4_span(ip, strlen(ip));
}

int spa_validate_username(const char *user)
{
	static const char forbidden[] = "\"/\\[]:;|=,+*?<>";
	size_t len;

	if (!user)
		return -SPA_E_ARG;
	len = strlen(user);
	if (len == 0 || len > SPA_MAX_USERNAME_LEN)
		return -SPA_E_USERNAME;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)user[i];
		if (c < 0x20 || c > 0x7e || strchr(forbidden, c))
			return -SPA_E_USERNAME;
	}
	return 0;
}

/* Splits "ip,rest": the IP must be a strict dotted quad. */
static int spa_split_ip(const char *msg, const char **rest)
{
	const char *comma;

	if (!msg)
		return -SPA_E_ARG;
	comma = strchr(msg, ',');
	if (!comma || spa_check_ipv4_span(msg, (size_t)(comma - msg)) < 0)
		return -SPA_E_MESSAGE;
	*rest = comma + 1;
	return 0;
}

int spa_access_parse(const char *msg, char ip[16], struct spa_port *ports,
		     size_t max_ports, size_t *n_ports)
{
	const char *p;
	size_t n = 0;

	if (!msg || strlen(msg) >= SPA_MAX_MSG_LEN)
		return msg ? -SPA_E_MESSAGE : -SPA_E_ARG;
	if (spa_split_ip(msg, &p) < 0)
		return -SPA_E_MESSAGE;
	if (ip) {
		size_t ip_len = (size_t)(p - 1 - msg);
		memcpy(ip, msg, ip_len);
		ip[ip_len] = '\0';
	}
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct spa_port pp;

		if (len > 4 && memcmp(p, "tcp/", 4) == 0)
			pp.proto = 6;
		else if (len > 4 && memcmp(p, "udp/", 4) == 0)
			pp.proto = 17;
		else
			return -SPA_E_MESSAGE;
		if (spa_parse_port(p + 4, len - 4, &pp.port) < 0)
			return -SPA_E_MESSAGE;
		if (ports) {
			if (n >= max_ports)
				return -SPA_E_TOO_LONG;
			ports[n] = pp;
		}
		n++;
		if (!end)
			break;
		p = end + 1;   /* a trailing comma leaves an empty item: refused above */
	}
	if (n_ports)
		*n_ports = n;
	return 0;
}

int spa_validate_access_msg(const char *msg)
{
	return spa_access_parse(msg, NULL, NULL, 0, NULL);
}

int spa_validate_command_msg(const char *msg)
{
	const char *cmd;

	if (!msg)
		return -SPA_E_ARG;
	/* Any bytes after the comma, as fwknop allows: the command runner
	 * (not the wire format) decides what it is willing to execute. */
	if (strlen(msg) >= SPA_MAX_MSG_LEN || spa_split_ip(msg, &cmd) < 0 ||
	    *cmd == '\0')
		return -SPA_E_MESSAGE;
	return 0;
}

int spa_validate_nat_access(const char *nat)
{
	const char *comma;
	size_t host_len;
	uint16_t port;

	if (!nat)
		return -SPA_E_ARG;
	if (strlen(nat) >= SPA_MAX_NAT_LEN)
		return -SPA_E_NAT;
	comma = strchr(nat, ',');
	if (!comma || strchr(comma + 1, ','))
		return -SPA_E_NAT;
	host_len = (size_t)(comma - nat);
	if (host_len == 0 || host_len > 70)
		return -SPA_E_NAT;
	for (size_t i = 0; i < host_len; i++) {
		unsigned char c = (unsigned char)nat[i];
		if (c <= 0x20 || c > 0x7e || strchr("/?\"'\\", c))
			return -SPA_E_NAT;
	}
	if (spa_parse_port(comma + 1, strlen(comma + 1), &port) < 0)
		return -SPA_E_NAT;
	return 0;
}
