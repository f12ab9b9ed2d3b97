/* SPDX-License-Identifier: MIT */
#include "spa_cc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Tried in this order at each '$', so no name shadows a longer one. */
static const char *const names[] = {
	"IP", "SRC", "PKT_SRC", "DST", "PORT", "PROTO", "TIMEOUT", "CLIENT_TIMEOUT",
};

static void value_of(size_t i, const struct spa_grant *g, char *v, size_t cap)
{
	switch (i) {
	case 0:
	case 1:
	case 2:
		/* the engine's grant source is the authenticated address: the
		 * message's, or the packet's when the message said 0.0.0.0 */
		snprintf(v, cap, "%s", g->src.text);
		break;
	case 3:
		snprintf(v, cap, "%s", g->dst.family ? g->dst.text : "0.0.0.0");
		break;
	case 4:
		snprintf(v, cap, "%u", (unsigned)g->port);
		break;
	case 5:
		snprintf(v, cap, "%u", (unsigned)g->proto);
		break;
	case 6:
		snprintf(v, cap, "%" PRId64, g->expires);
		break;
	default:
		snprintf(v, cap, "%" PRIu32, g->timeout);
		break;
	}
}

int spa_cc_expand(const char *tmpl, const struct spa_grant *g, char *out, size_t cap)
{
	size_t o = 0;

	if (strlen(tmpl) >= SPA_CC_CMD_MAX || cap == 0)
		return -ENAMETOOLONG;
	for (const char *t = tmpl; *t;) {
		char v[64] = "";
		size_t vlen;

		if (*t != '$') {
			v[0] = *t++;
		} else {
			t++;
			for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
				if (strncmp(t, names[i], strlen(names[i])) == 0) {
					value_of(i, g, v, sizeof(v));
					t += strlen(names[i]);
					break;
				}
			}
		}
		vlen = strlen(v);
		if (o + vlen >= cap || o + vlen >= SPA_CC_CMD_MAX)
			return -ENAMETOOLONG;
		memcpy(out + o, v, vlen);
		o += vlen;
	}
	out[o] = '\0';
	return 0;
}

int spa_cc_split(char *cmd, const char *argv[], size_t cap)
{
	size_t n = 0;
	char *save = NULL;

	for (char *w = strtok_r(cmd, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n + 1 >= cap)
			return -E2BIG;
		argv[n++] = w;
	}
	argv[n] = NULL;
	/* no shell and no PATH search: the config names the program */
	if (n == 0 || argv[0][0] != '/')
		return -EINVAL;
	return (int)n;
}

/* The value of ${NAME} at t (its length in *len), or -EINVAL. */
static int ext_value(const char *t, const struct spa_grant *g, char *v, size_t cap,
		     size_t *len)
{
	if (strncmp(t, "${SRC}", 6) == 0) {
		snprintf(v, cap, "%s", g->src.text);
		*len = 6;
	} else if (strncmp(t, "${PORT}", 7) == 0) {
		snprintf(v, cap, "%u", (unsigned)g->port);
		*len = 7;
	} else if (strncmp(t, "${PROTO}", 8) == 0) {
		/* a name, as access.conf writes it (tcp/22) and iptables -p takes */
		if (g->proto == IPPROTO_TCP)
			snprintf(v, cap, "tcp");
		else if (g->proto == IPPROTO_UDP)
			snprintf(v, cap, "udp");
		else
			snprintf(v, cap, "%u", (unsigned)g->proto);
		*len = 8;
	} else {
		return -EINVAL;
	}
	return 0;
}

int spa_cc_ext_argv(const char *tmpl, const struct spa_grant *g, char *buf, size_t cap,
		    const char *argv[], size_t argv_cap)
{
	size_t o = 0, n = 0;
	const char *t = tmpl;

	for (;;) {
		while (*t == ' ' || *t == '\t')
			t++;
		if (!*t)
			break;
		if (n + 1 >= argv_cap)
			return -E2BIG;
		argv[n++] = buf + o;
		while (*t && *t != ' ' && *t != '\t') {
			char v[SPA_GRANT_ADDR_LEN + 1];
			size_t vlen, used;

			if (*t == '\\') {
				if (!t[1])
					return -EINVAL;
				v[0] = t[1];
				v[1] = '\0';
				used = 2;
			} else if (*t == '$') {
				if (ext_value(t, g, v, sizeof(v), &used) < 0)
					return -EINVAL;
			} else {
				v[0] = *t;
				v[1] = '\0';
				used = 1;
			}
			t += used;
			vlen = strlen(v);
			/* room for this and the word's NUL */
			if (o + vlen + 1 > cap)
				return -ENAMETOOLONG;
			memcpy(buf + o, v, vlen);
			o += vlen;
		}
		if (o + 1 > cap)
			return -ENAMETOOLONG;
		buf[o++] = '\0';
	}
	argv[n] = NULL;
	if (n == 0 || argv[0][0] != '/')
		return -EINVAL;
	return (int)n;
}
