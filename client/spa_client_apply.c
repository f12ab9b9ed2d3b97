/* SPDX-License-Identifier: MIT */
/*
 * Checking and storing option values. Every value is validated here, once,
 * whether it came from the command line or from an rc file, so a bad value
 * fails early with one line that says where it came from.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "spa_client.h"

#define SPA_CLIENT_MAX_CLI_TIMEOUT 65536u

void spa_client_cfg_init(struct spa_client_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->family = AF_UNSPEC;
	c->server_port = SPA_DEFAULT_PORT;
	c->proto = SPA_CLIENT_PROTO_UDP;
	c->digest_type = SPA_DIGEST_SHA256;
	c->hmac_type = SPA_DIGEST_SHA256;
	c->enc_mode = SPA_MODE_CBC;
	c->key_fd = -1;
	snprintf(c->user_agent, sizeof(c->user_agent), "%s", SPA_CLIENT_DEFAULT_UA);
}

void spa_client_cfg_free(struct spa_client_cfg *c)
{
	for (size_t i = 0; i < sizeof(c->saved) / sizeof(c->saved[0]); i++) {
		if (c->saved[i]) {
			spa_wipe(c->saved[i], strlen(c->saved[i]));
			free(c->saved[i]);
			c->saved[i] = NULL;
		}
	}
	spa_wipe(c->key, sizeof(c->key));
	spa_wipe(c->hmac_key, sizeof(c->hmac_key));
}

static int fail(const char *where, const struct spa_opt_def *d,
		const char *value, const char *why)
{
	const char *name = d->long_name ? d->long_name : d->rc_name;

	if (d->rc_name && (!d->long_name || strcmp(where, "command line") != 0))
		name = d->rc_name;
	fprintf(stderr, "spa-client: %s: %s%s: %s%s%s\n", where,
		d->long_name && strcmp(where, "command line") == 0 ? "--" : "",
		name, why, value ? ": " : "", d->secret ? "(hidden)" :
		(value ? value : ""));
	return -SPA_CE_USAGE;
}

/* Strict unsigned decimal: digits only, no sign, no spaces. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s || strlen(s) > 19)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int spa_client_parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (parse_u64(s, 65535, &v) < 0 || v == 0)
		return -SPA_CE_USAGE;
	*port = (uint16_t)v;
	return 0;
}

int spa_client_parse_ports(const char *list, struct spa_port *ports,
			   size_t max, size_t *n, char *out, size_t out_cap)
{
	size_t count = 0, used = 0;
	const char *p = list;

	if (!list || !*list || out_cap == 0)
		return -SPA_CE_USAGE;
	out[0] = '\0';
	while (*p) {
		char item[16], num[8];
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *slash;
		uint16_t port;
		uint8_t proto;
		int w;

		if (len == 0 || len >= sizeof(item) || count >= max)
			return -SPA_CE_USAGE;
		memcpy(item, p, len);
		item[len] = '\0';
		slash = strchr(item, '/');
		if (!slash)
			return -SPA_CE_USAGE;
		if ((size_t)(slash - item) == 3 && strncasecmp(item, "tcp", 3) == 0)
			proto = 6;
		else if ((size_t)(slash - item) == 3 && strncasecmp(item, "udp", 3) == 0)
			proto = 17;
		else
			return -SPA_CE_USAGE;
		if (strlen(slash + 1) >= sizeof(num))
			return -SPA_CE_USAGE;
		if (spa_client_parse_port(slash + 1, &port) < 0)
			return -SPA_CE_USAGE;
		ports[count].proto = proto;
		ports[count].port = port;
		count++;
		w = snprintf(out + used, out_cap - used, "%s%s/%u",
			     used ? "," : "", proto == 6 ? "tcp" : "udp", port);
		if (w < 0 || (size_t)w >= out_cap - used)
			return -SPA_CE_USAGE;
		used += (size_t)w;
		if (!comma)
			break;
		p = comma + 1;
		if (!*p)
			return -SPA_CE_USAGE;   /* trailing comma */
	}
	*n = count;
	return 0;
}

/*
 * fwknop's time offsets: an optional sign, digits, and an optional unit in
 * either case: s/sec/secs/second(s), m/min/mins/minute(s), h/hr/hrs/hour(s),
 * d/day(s) ("60", "-1s", "+1H", "60min", "2days"). Seconds by default.
 * *neg is set for a leading '-'. fwknop ignores anything after the unit
 * letter (it reads "5x" as 5 seconds and "5m5" as 5 minutes); we refuse
 * such values rather than guess what was meant.
 */
static int parse_offset(const char *s, int64_t *out, bool *neg)
{
	static const struct { const char *name; uint64_t mult; } units[] = {
		{ "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "second", 1 },
		{ "seconds", 1 }, { "m", 60 }, { "min", 60 }, { "mins", 60 },
		{ "minute", 60 }, { "minutes", 60 }, { "h", 3600 },
		{ "hr", 3600 }, { "hrs", 3600 }, { "hour", 3600 },
		{ "hours", 3600 }, { "d", 86400 }, { "day", 86400 },
		{ "days", 86400 },
	};
	char digits[16];
	size_t n;
	uint64_t v, mult = 1;

	*neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	n = strspn(s, "0123456789");
	if (n == 0 || n >= sizeof(digits))
		return -1;
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (s[n]) {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (strcasecmp(s + n, units[i].name) == 0)
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		mult = units[i].mult;
	}
	/* ~68 years: anything larger cannot give a timestamp the server takes. */
	if (parse_u64(digits, (uint64_t)INT32_MAX / mult, &v) < 0)
		return -1;
	*out = (int64_t)(v * mult);
	return 0;
}

static bool rc_yes(const char *v)
{
	return v && (v[0] == 'Y' || v[0] == 'y') && v[1] == '\0';
}

static int copy_str(char *dst, size_t cap, const char *v)
{
	size_t len = strlen(v);

	if (len == 0 || len >= cap)
		return -1;
	memcpy(dst, v, len + 1);
	return 0;
}

static int remember(struct spa_client_cfg *c, const struct spa_opt_def *d,
		    const char *value)
{
	const struct spa_opt_def *row;
	size_t idx;

	if (!d->rc_name)
		return 0;
	row = spa_opt_by_rc_name(d->rc_name);
	idx = (size_t)(row - spa_opt_table);
	if (idx >= sizeof(c->saved) / sizeof(c->saved[0]))
		return -SPA_E_ARG;
	if (c->saved[idx]) {
		spa_wipe(c->saved[idx], strlen(c->saved[idx]));
		free(c->saved[idx]);
	}
	c->saved[idx] = strdup(value);
	return c->saved[idx] ? 0 : -SPA_E_NOMEM;
}

int spa_client_cfg_remember(struct spa_client_cfg *c, const char *rc_name,
			    const char *value)
{
	const struct spa_opt_def *d = spa_opt_by_rc_name(rc_name);

	return d ? remember(c, d, value) : -SPA_E_ARG;
}

static int apply_nat(struct spa_client_cfg *c, const char *v)
{
	char buf[SPA_MAX_NAT_LEN], probe[SPA_MAX_NAT_LEN + 8];
	char *sep;

	if (copy_str(buf, sizeof(buf), v) < 0)
		return -1;
	/* fwknop accepts host:port and host,port; the wire wants a comma.
	 * Only one separator is allowed, so IPv6 literals are refused. */
	sep = strchr(buf, ',');
	if (!sep)
		sep = strchr(buf, ':');
	if (sep && (strchr(sep + 1, ':') || strchr(sep + 1, ',')))
		return -1;
	if (!sep) {
		/* A bare host: like fwknop, the port of the access request
		 * (-A) goes with it when the packet is built. Checked here
		 * with a stand-in port so a bad host fails early. */
		if (snprintf(probe, sizeof(probe), "%s,1", buf) >= (int)sizeof(probe) ||
		    strlen(buf) + 6 >= sizeof(buf) ||
		    spa_validate_nat_access(probe) < 0)
			return -1;
		memcpy(c->nat_access, buf, sizeof(buf));
		return 0;
	}
	*sep = ',';
	if (spa_validate_nat_access(buf) < 0)
		return -1;
	memcpy(c->nat_access, buf, sizeof(buf));
	return 0;
}

static int apply_value(struct spa_client_cfg *c, const struct spa_opt_def *d,
		       const char *v, bool on, enum spa_opt_source src,
		       const char **why)
{
	struct spa_port ports[SPA_MAX_PORTS];
	uint64_t u;
	size_t n;
	int t;

	*why = "invalid value";
	switch (d->id) {
	case SPA_OPT_ACCESS:
		*why = "bad port list (want e.g. tcp/22,udp/53)";
		return spa_client_parse_ports(v, ports, SPA_MAX_PORTS, &n,
					      c->access, sizeof(c->access));
	case SPA_OPT_ALLOW_IP:
		if (src == SPA_SRC_RC && strcasecmp(v, "source") == 0) {
			c->allow_mode = SPA_CLIENT_ALLOW_SOURCE;
			return 0;
		}
		if (src == SPA_SRC_RC && strcasecmp(v, "resolve") == 0) {
			c->allow_mode = SPA_CLIENT_ALLOW_RESOLVE;
			return 0;
		}
		*why = "bad IPv4 address";
		if (spa_validate_ipv4(v) < 0)
			return -1;
		snprintf(c->allow_ip, sizeof(c->allow_ip), "%s", v);
		c->allow_mode = SPA_CLIENT_ALLOW_IP;
		return 0;
	case SPA_OPT_SOURCE_IP:
		c->allow_mode = on ? SPA_CLIENT_ALLOW_SOURCE : c->allow_mode;
		return 0;
	case SPA_OPT_DEST:
		*why = "bad server name or address";
		if (strpbrk(v, " \t/\\,;"))
			return -1;
		return copy_str(c->server, sizeof(c->server), v);
	case SPA_OPT_IPV4:
		if (on)
			c->family = AF_INET;
		return 0;
	case SPA_OPT_IPV6:
		c->family = AF_INET6;
		return 0;
	case SPA_OPT_SERVER_PORT:
		*why = "bad port (1-65535)";
		return spa_client_parse_port(v, &c->server_port);
	case SPA_OPT_SOURCE_PORT:
		*why = "bad port (1-65535)";
		return spa_client_parse_port(v, &c->source_port);
	case SPA_OPT_PROTO:
		*why = "unknown protocol (udp, tcp, http, udpraw, tcpraw, icmp)";
		for (int pr = SPA_CLIENT_PROTO_UDP; pr <= SPA_CLIENT_PROTO_ICMP; pr++) {
			if (strcasecmp(v, spa_client_proto_name(pr)) == 0) {
				c->proto = pr;
				return 0;
			}
		}
		return -1;
	case SPA_OPT_RAND_PORT:
		c->rand_port = on;
		return 0;
	case SPA_OPT_FW_TIMEOUT:
		/* fwknop allows up to 131072 but its server refuses > 65536. */
		*why = "bad timeout (0-65536 seconds)";
		if (parse_u64(v, SPA_CLIENT_MAX_CLI_TIMEOUT, &u) < 0)
			return -1;
		c->fw_timeout = (uint32_t)u;
		return 0;
	case SPA_OPT_SPOOF_USER:
		*why = "bad username";
		if (strlen(v) > SPA_MAX_USERNAME_LEN || spa_validate_username(v) < 0)
			return -1;
		return copy_str(c->spoof_user, sizeof(c->spoof_user), v);
	case SPA_OPT_DIGEST:
	case SPA_OPT_HMAC_DIGEST:
		*why = "unknown digest (md5, sha1, sha256, sha384, sha512, sha3_256, sha3_512)";
		t = spa_digest_from_name(v);
		if (t <= 0)
			return -1;
		if (d->id == SPA_OPT_DIGEST)
			c->digest_type = t;
		else
			c->hmac_type = t;
		return 0;
	case SPA_OPT_ENC_MODE:
		*why = "unknown encryption mode (cbc, ecb, cfb, ofb, ctr, legacy)";
		t = spa_mode_from_name(v);
		if (t <= 0 || t == SPA_MODE_ASYMMETRIC)
			return -1;
		c->enc_mode = t;
		return 0;
	case SPA_OPT_KEY:
	case SPA_OPT_KEY_B64:
		*why = "key too long or empty";
		c->key_is_b64 = d->id == SPA_OPT_KEY_B64;
		return copy_str(c->key, sizeof(c->key), v);
	case SPA_OPT_HMAC_KEY:
	case SPA_OPT_HMAC_KEY_B64:
		*why = "key too long or empty";
		c->hmac_key_is_b64 = d->id == SPA_OPT_HMAC_KEY_B64;
		c->use_hmac = true;
		return copy_str(c->hmac_key, sizeof(c->hmac_key), v);
	case SPA_OPT_USE_HMAC:
		c->use_hmac = on;
		return 0;
	case SPA_OPT_GET_KEY:
		*why = "bad path";
		return copy_str(c->key_file, sizeof(c->key_file), v);
	case SPA_OPT_GET_HMAC_KEY:
		*why = "bad path";
		c->use_hmac = true;
		return copy_str(c->hmac_key_file, sizeof(c->hmac_key_file), v);
	case SPA_OPT_STDIN:
		c->key_stdin = true;
		return 0;
	case SPA_OPT_FD:
		*why = "bad file descriptor number";
		if (parse_u64(v, 1024, &u) < 0)
			return -1;
		c->key_fd = (int)u;
		return 0;
	case SPA_OPT_KEYGEN:
		c->keygen = true;
		return 0;
	case SPA_OPT_KEYGEN_FILE:
		c->keygen = true;
		*why = "bad path";
		return copy_str(c->keygen_file, sizeof(c->keygen_file), v);
	case SPA_OPT_KEY_LEN:
		*why = "bad key length (1-32)";
		if (parse_u64(v, SPA_MAX_KEY_LEN, &u) < 0 || u == 0)
			return -1;
		c->key_len = (size_t)u;
		return 0;
	case SPA_OPT_HMAC_KEY_LEN:
		*why = "bad HMAC key length (1-128)";
		if (parse_u64(v, SPA_MAX_HMAC_KEY_LEN, &u) < 0 || u == 0)
			return -1;
		c->hmac_key_len = (size_t)u;
		return 0;
	case SPA_OPT_TIME_OFFSET:
	case SPA_OPT_TIME_PLUS:
	case SPA_OPT_TIME_MINUS: {
		bool minus = d->id == SPA_OPT_TIME_MINUS, neg;
		int64_t off;

		*why = "bad time offset ([+-]N with an optional unit s, m, h or d)";
		if (parse_offset(v, &off, &neg) < 0)
			return -1;
		/* As fwknop: the rc variable takes its direction from the
		 * sign; the two options from their name, whatever the sign. */
		if (src == SPA_SRC_RC || d->id == SPA_OPT_TIME_OFFSET)
			minus = neg;
		c->time_offset = minus ? -off : off;
		return 0;
	}
	case SPA_OPT_SERVER_CMD:
		*why = "command empty or too long";
		return copy_str(c->server_cmd, SPA_MAX_MSG_LEN - 16, v);
	case SPA_OPT_NAT:
		*why = "bad NAT target (want host[:port])";
		return apply_nat(c, v);
	case SPA_OPT_NAT_LOCAL:
		c->nat_local = on;
		return 0;
	case SPA_OPT_NAT_PORT:
		*why = "bad port (1-65535)";
		return spa_client_parse_port(v, &c->nat_port);
	case SPA_OPT_NAT_RAND_PORT:
		c->nat_rand_port = on;
		return 0;
	case SPA_OPT_USER_AGENT:
		*why = "user agent empty, too long or not printable";
		for (const char *p = v; *p; p++) {
			if (*p < 0x20 || *p > 0x7e)
				return -1;
		}
		return copy_str(c->user_agent, sizeof(c->user_agent), v);
	case SPA_OPT_TEST:
		c->test = true;
		return 0;
	case SPA_OPT_SAVE_PACKET:
		*why = "bad path";
		return copy_str(c->save_packet, sizeof(c->save_packet), v);
	case SPA_OPT_SAVE_PACKET_APPEND:
		c->save_packet_append = true;
		return 0;
	case SPA_OPT_VERBOSE:
		if (src == SPA_SRC_CMDLINE) {
			c->verbose++;
			return 0;
		}
		if (rc_yes(v)) {
			c->verbose = c->verbose ? c->verbose : 1;
			return 0;
		}
		if ((v[0] == 'N' || v[0] == 'n') && v[1] == '\0')
			return 0;
		*why = "bad verbosity (Y, N or a number)";
		if (parse_u64(v, 10, &u) < 0)
			return -1;
		c->verbose = (int)u;
		return 0;
	case SPA_OPT_SAVE_RC:
		c->save_rc = true;
		return 0;
	case SPA_OPT_FORCE_STANZA:
		c->force_stanza = true;
		return 0;
	case SPA_OPT_STANZA_LIST:
		c->stanza_list = true;
		return 0;
	case SPA_OPT_NAMED:
		*why = "bad stanza name";
		if (strpbrk(v, "[]\n\r"))
			return -1;
		return copy_str(c->stanza, sizeof(c->stanza), v);
	case SPA_OPT_RC_FILE:
		*why = "bad path";
		return copy_str(c->rc_file, sizeof(c->rc_file), v);
	case SPA_OPT_NO_RC_FILE:
		c->no_rc_file = true;
		return 0;
	case SPA_OPT_NO_SAVE_ARGS:
		c->no_save_args = on;
		return 0;
	case SPA_OPT_ARGS_FILE:
		*why = "bad path";
		return copy_str(c->args_file, sizeof(c->args_file), v);
	case SPA_OPT_LAST_CMD:
		c->last_cmd = true;
		return 0;
	case SPA_OPT_SHOW_LAST:
		c->show_last = true;
		return 0;
	case SPA_OPT_VERSION:
		c->version = true;
		return 0;
	case SPA_OPT_HELP:
		c->help = true;
		return 0;
	case SPA_OPT_RESOLVE:
		if (on)
			c->allow_mode = SPA_CLIENT_ALLOW_RESOLVE;
		return 0;
	case SPA_OPT_RESOLVE_HTTP_ONLY:
		c->resolve_http_only = on;
		if (on)
			c->allow_mode = SPA_CLIENT_ALLOW_RESOLVE;
		return 0;
	case SPA_OPT_RESOLVE_URL:
		*why = "bad URL (want http://host[:port]/path or https://...)";
		if (strncasecmp(v, "http://", 7) != 0 &&
		    strncasecmp(v, "https://", 8) != 0)
			return -1;
		for (const char *p = v; *p; p++) {
			if (*p <= 0x20 || *p > 0x7e)
				return -1;
		}
		c->allow_mode = SPA_CLIENT_ALLOW_RESOLVE;
		return copy_str(c->resolve_url, sizeof(c->resolve_url), v);
	case SPA_OPT_SPOOF_SRC:
		*why = "bad IPv4 address";
		if (spa_validate_ipv4(v) < 0)
			return -1;
		snprintf(c->spoof_src, sizeof(c->spoof_src), "%s", v);
		return 0;
	case SPA_OPT_HTTP_PROXY:
		*why = "bad proxy (want [http://]host[:port][/path])";
		return spa_client_parse_proxy(v, c->proxy_host,
					      sizeof(c->proxy_host), &c->proxy_port);
	case SPA_OPT_ICMP_TYPE:
	case SPA_OPT_ICMP_CODE: {
		bool type = d->id == SPA_OPT_ICMP_TYPE;

		*why = type ? "bad ICMP type (0-40)" : "bad ICMP code (0-15)";
		if (parse_u64(v, type ? SPA_CLIENT_MAX_ICMP_TYPE :
			      SPA_CLIENT_MAX_ICMP_CODE, &u) < 0)
			return -1;
		if (type)
			c->icmp_type = (uint8_t)u;
		else
			c->icmp_code = (uint8_t)u;
		return 0;
	}
	case SPA_OPT_WGET_CMD:
		/* Only ever exec'd directly (never via a shell), so any
		 * absolute or relative path is acceptable here. */
		*why = "bad path";
		return copy_str(c->wget_cmd, sizeof(c->wget_cmd), v);
	case SPA_OPT_USE_WGET_UA:
		c->use_wget_ua = on;
		return 0;
	case SPA_OPT_USE_GPG:
		c->use_gpg = on;
		return 0;
	case SPA_OPT_GPG_AGENT:
		c->gpg_agent = on;
		return 0;
	case SPA_OPT_GPG_NO_PW:
		c->gpg_no_signing_pw = on;
		return 0;
	case SPA_OPT_GPG_RECIPIENT:
	case SPA_OPT_GPG_SIGNER:
		/* handed to gpg as a key specification, never to a shell */
		*why = "bad GnuPG key name (empty, too long or not printable)";
		for (const char *p = v; *p; p++) {
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return -1;
		}
		if (d->id == SPA_OPT_GPG_RECIPIENT)
			return copy_str(c->gpg_recipient, sizeof(c->gpg_recipient), v);
		return copy_str(c->gpg_signer, sizeof(c->gpg_signer), v);
	case SPA_OPT_GPG_HOME:
		*why = "bad path";
		return copy_str(c->gpg_home, sizeof(c->gpg_home), v);
	case SPA_OPT_GPG_EXE:
		*why = "bad path";
		return copy_str(c->gpg_exe, sizeof(c->gpg_exe), v);
	case SPA_OPT_GPG_PW:
	case SPA_OPT_GPG_PW_B64:
		/* fwknop: GPG_SIGNING_PW is KEY under another name */
		*why = "passphrase too long or empty";
		c->key_is_b64 = d->id == SPA_OPT_GPG_PW_B64;
		return copy_str(c->key, sizeof(c->key), v);
	case SPA_OPT_UNSUPPORTED:
		*why = "not supported by spa-client";
		return on ? -1 : 0;
	}
	return -1;
}

static bool is_gpg_option(enum spa_opt_id id)
{
	return id == SPA_OPT_GPG_AGENT || id == SPA_OPT_GPG_RECIPIENT ||
	       id == SPA_OPT_GPG_SIGNER || id == SPA_OPT_GPG_HOME ||
	       id == SPA_OPT_GPG_EXE || id == SPA_OPT_GPG_NO_PW;
}

int spa_client_apply(struct spa_client_cfg *c, const struct spa_opt_def *d,
		     const char *value, enum spa_opt_source src,
		     const char *where)
{
	const char *why = NULL;
	bool on = true;
	int rc;

	if (d->arg == SPA_ARG_NONE && src == SPA_SRC_CMDLINE)
		value = NULL;
	if (d->arg == SPA_ARG_NONE && src == SPA_SRC_RC)
		on = rc_yes(value);
	if ((d->arg == SPA_ARG_REQUIRED || src == SPA_SRC_RC) &&
	    (!value || !*value))
		return fail(where, d, NULL, "missing value");
	rc = apply_value(c, d, value, on, src, &why);
	if (rc < 0)
		return fail(where, d, value, why);
	/* As in fwknop, each --gpg-* option implies -g; in the rc file only
	 * USE_GPG does (a stanza may carry GnuPG settings unused). */
	if (src == SPA_SRC_CMDLINE && is_gpg_option(d->id)) {
		c->use_gpg = true;
		rc = remember(c, spa_opt_by_id(SPA_OPT_USE_GPG), "Y");
		if (rc < 0)
			return rc;
	}
	if (src == SPA_SRC_CMDLINE && d->rc_name) {
		char buf[32];
		const char *save = d->flag_rc_value ? d->flag_rc_value : value;

		/* In the rc file the sign is the direction: the option's,
		 * whatever sign its value had. Every unit we accept starts
		 * with its letter, which is all fwknop reads of it. */
		if (d->id == SPA_OPT_TIME_PLUS || d->id == SPA_OPT_TIME_MINUS) {
			const char *mag = value + (value[0] == '+' || value[0] == '-');

			snprintf(buf, sizeof(buf), "%s%s",
				 d->id == SPA_OPT_TIME_MINUS ? "-" : "", mag);
			save = buf;
		}
		rc = remember(c, d, save);
	}
	return rc;
}
