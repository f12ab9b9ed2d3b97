/* SPDX-License-Identifier: MIT */
/*
 * spa_conf_extcmd.c - EXTERNAL_CMD_* on the command cycle. fwknopd.conf's
 * comments describe open/close commands run instead of firewall rules, with
 * the stanza's access.conf variables and the packet's $SRC $PORT $PROTO
 * substituted; fwknopd never built them. Here a stanza served by them gets,
 * once all files are read, the cmdcycle plugin's CMD_CYCLE_EXT_OPEN,
 * CMD_CYCLE_EXT_CLOSE and CMD_CYCLE_TIMER: the access.conf variables are
 * resolved now (a missing one is a load error naming the line), the
 * packet's are left for the plugin. Everything else (runner, timer, close
 * at expiry and at stop, journal) is the command cycle's.
 *
 * The form handed to the plugin keeps each substituted value one argument
 * whatever it holds: words are separated by blanks, '\' makes the next
 * byte literal, and ${SRC} ${PORT} ${PROTO} are the packet's values
 * (plugins/cmdcycle/README.md). A value is escaped, never re-read.
 */
#include "spa_conf_extcmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spa_conf_internal.h"

#define EXT_DEFAULT_ALARM "30"
#define EXT_DEFAULT_PREFIX "FWKNOP_"
#define EXT_PREFIX_MAX 32
#define EXT_NAME_MAX 64

static const char *const ext_vars[] = {
	"ENABLE_EXTERNAL_CMDS", "EXTERNAL_CMD_OPEN", "EXTERNAL_CMD_CLOSE",
	"EXTERNAL_CMD_ALARM", "ENABLE_EXT_CMD_PREFIX", "EXT_CMD_PREFIX",
};

/* the packet's values, left for the plugin */
static const char *const packet_vars[] = { "SRC", "PORT", "PROTO" };

bool spa_conf_extcmd_var(const char *name)
{
	for (size_t i = 0; i < sizeof(ext_vars) / sizeof(ext_vars[0]); i++)
		if (strcmp(name, ext_vars[i]) == 0)
			return true;
	return false;
}

bool spa_conf_extcmd_secret(const char *name)
{
	return strcmp(name, "KEY") == 0 || strcmp(name, "KEY_BASE64") == 0 ||
	       strcmp(name, "HMAC_KEY") == 0 || strcmp(name, "HMAC_KEY_BASE64") == 0 ||
	       strcmp(name, "GPG_DECRYPT_PW") == 0;
}

static bool is_none(const char *v)
{
	return strcmp(v, "__NONE__") == 0 || strcmp(v, "NONE") == 0;
}

static bool name_start(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static bool name_char(char ch)
{
	return name_start(ch) || (ch >= '0' && ch <= '9');
}

int spa_conf_extcmd_value(const char *name, const char *v, char *why, size_t cap)
{
	bool b;
	uint32_t u;
	size_t prog;

	if (strncmp(name, "ENABLE_", 7) == 0) {
		if (spa_conf_yes_no(v, &b) == 0)
			return 0;
		snprintf(why, cap, "expected Y or N");
		return -EINVAL;
	}
	if (strcmp(name, "EXTERNAL_CMD_ALARM") == 0) {
		if (spa_conf_u32(v, 1, SPA_MAX_TIMEOUT_VALUE, &u) == 0)
			return 0;
		snprintf(why, cap, "expected seconds 1..%u", SPA_MAX_TIMEOUT_VALUE);
		return -EINVAL;
	}
	if (strcmp(name, "EXT_CMD_PREFIX") == 0) {
		size_t n = strlen(v);
		bool ok = n > 0 && n <= EXT_PREFIX_MAX && name_start(v[0]);
		for (size_t i = 0; ok && i < n; i++)
			ok = name_char(v[i]);
		if (ok)
			return 0;
		snprintf(why, cap, "expected up to %d of A-Z 0-9 _, not starting with a digit",
			 EXT_PREFIX_MAX);
		return -EINVAL;
	}
	/* EXTERNAL_CMD_OPEN / _CLOSE: the program is taken as written */
	if (is_none(v))
		return 0;
	prog = strcspn(v, " \t");
	if (v[0] != '/' || memchr(v, '$', prog)) {
		snprintf(why, cap, "the program (first word) must be an absolute path, written "
			 "out: no PATH search, no $VAR");
		return -EINVAL;
	}
	return 0;
}

/* The last assignment of name in arr, as for every variable. */
static const struct spa_conf_kv *last(const struct spa_conf_kv *arr, size_t n, const char *name)
{
	for (size_t i = n; arr && i-- > 0;)
		if (strcmp(arr[i].name, name) == 0)
			return &arr[i];
	return NULL;
}

/* The stanza's own setting, else fwknopd.conf's. */
static const struct spa_conf_kv *setting(const struct spa_config *c, const struct spa_stanza *s,
					 const char *name)
{
	const struct spa_conf_kv *kv = last(s->vars, s->n_vars, name);

	return kv ? kv : last(c->kv, c->n_kv, name);
}

static bool yes(const struct spa_conf_kv *kv)
{
	bool b = false;

	return kv && spa_conf_yes_no(kv->value, &b) == 0 && b;
}

struct sbuf {
	char *p;
	size_t len, cap;
	int rc;
};

static void put(struct sbuf *b, const char *s, size_t n)
{
	if (b->rc)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *grown = realloc(b->p, cap);
		if (!grown) {
			b->rc = -ENOMEM;
			return;
		}
		b->p = grown;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* A literal byte (or a value), escaped where the plugin's form would
 * read it otherwise. */
static void put_literal(struct sbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' || s[i] == '$' || s[i] == ' ' || s[i] == '\t')
			put(b, "\\", 1);
		put(b, s + i, 1);
	}
}

/* Length of a reference at t ('$' NAME or '${' NAME '}'), 0 if none; the
 * name in name[]. */
static size_t reference(const char *t, char *name, size_t cap)
{
	bool brace = t[1] == '{';
	const char *n = t + 1 + brace, *e = n;

	if (!name_start(*n))
		return 0;
	while (name_char(*e))
		e++;
	if (brace && *e != '}')
		return 0;
	if ((size_t)(e - n) >= cap)
		return 0;
	memcpy(name, n, (size_t)(e - n));
	name[e - n] = '\0';
	return (size_t)(e - t) + brace;
}

/*
 * One command as written -> the plugin's form, for stanza s. prefix NULL:
 * every reference is substituted; otherwise only those starting with it
 * (the rest stay as written). what/where name the line for errors.
 */
static int prepare(const struct spa_stanza *s, const struct spa_conf_kv *cmd, const char *prefix,
		   char **out, char *err, size_t errlen)
{
	struct sbuf b = { 0 };
	const char *t = cmd->value;
	size_t plen = prefix ? strlen(prefix) : 0;
	bool first = true;

	while (*t && b.rc == 0) {
		size_t wlen;

		while (*t == ' ' || *t == '\t')
			t++;
		if (!*t)
			break;
		if (!first)
			put(&b, " ", 1);
		first = false;
		wlen = strcspn(t, " \t");
		for (const char *w = t, *end = t + wlen; w < end && b.rc == 0;) {
			char name[EXT_NAME_MAX + 1];
			const char *var;
			size_t rlen = *w == '$' ? reference(w, name, sizeof(name)) : 0;
			const struct spa_conf_kv *kv;
			bool packet = false;

			if (rlen == 0 || (prefix && (strncmp(name, prefix, plen) != 0 ||
						     !name_start(name[plen])))) {
				put_literal(&b, w, 1);
				w++;
				continue;
			}
			var = name + plen;
			for (size_t i = 0; i < sizeof(packet_vars) / sizeof(packet_vars[0]); i++)
				packet = packet || strcmp(var, packet_vars[i]) == 0;
			if (packet) {
				put(&b, "${", 2);
				put(&b, var, strlen(var));
				put(&b, "}", 1);
			} else if (spa_conf_extcmd_secret(var)) {
				snprintf(err, errlen, "%s: %s: $%s: %s is a secret and is never "
					 "substituted", cmd->where, cmd->name, name, var);
				b.rc = -EINVAL;
			} else if ((kv = last(s->vars, s->n_vars, var)) != NULL) {
				put_literal(&b, kv->value, strlen(kv->value));
			} else {
				snprintf(err, errlen, "%s: %s: $%s: %s is not set in stanza %s",
					 cmd->where, cmd->name, name, var, s->label);
				b.rc = -EINVAL;
			}
			w += rlen;
		}
		t += wlen;
	}
	if (b.rc == 0 && !b.p)
		put(&b, "", 0);
	if (b.rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", s->label);
	if (b.rc < 0) {
		free(b.p);
		return b.rc;
	}
	*out = b.p;
	return 0;
}

/* Why s is not served by external commands, for the conflict message. */
static void other_backend(const struct spa_stanza *s, char *out, size_t cap)
{
	if (s->firewall_type[0])
		snprintf(out, cap, "%s: FIREWALL_TYPE %s", s->firewall_type_where,
			 s->firewall_type);
	else
		snprintf(out, cap, "CMD_CYCLE_OPEN");
}

/* Whether s is served by external commands (docs/man/spad.8): 1, 0, or
 * a negative code for a stanza whose settings contradict each other. */
static int served(const struct spa_config *c, const struct spa_stanza *s, char *err,
		  size_t errlen)
{
	const struct spa_conf_kv *own_enable = last(s->vars, s->n_vars, "ENABLE_EXTERNAL_CMDS");
	const struct spa_conf_kv *own_cmd = last(s->vars, s->n_vars, "EXTERNAL_CMD_OPEN");
	bool on = yes(setting(c, s, "ENABLE_EXTERNAL_CMDS")), by_type;
	char why[128];

	if (!own_cmd)
		own_cmd = last(s->vars, s->n_vars, "EXTERNAL_CMD_CLOSE");
	if (s->firewall_type[0] || spa_stanza_kv_get(s, "CMD_CYCLE_OPEN")) {
		by_type = s->firewall_type_external;
		if (!by_type) {
			if (own_cmd && (on || !own_enable)) {
				other_backend(s, why, sizeof(why));
				snprintf(err, errlen, "%s: %s: stanza %s is served by %s: one "
					 "backend per stanza", own_cmd->where, own_cmd->name,
					 s->label, why);
				return -EINVAL;
			}
			return 0;
		}
	} else {
		by_type = c->firewall_type_external;
	}
	if (by_type && !on) {
		snprintf(err, errlen, "%s: FIREWALL_TYPE %s (stanza %s) needs ENABLE_EXTERNAL_CMDS Y "
			 "(in fwknopd.conf or the stanza)",
			 s->firewall_type_external ? s->firewall_type_where : c->firewall_type_where,
			 SPA_EXTERNAL_CMD_TYPE, s->label);
		return -EINVAL;
	}
	if (by_type || (on && (own_cmd || yes(own_enable))))
		return 1;
	/* commands written into a stanza and switched off by no one: they
	 * would silently not run, and the global backend would open instead */
	if (own_cmd && !own_enable) {
		snprintf(err, errlen, "%s: %s has no effect: ENABLE_EXTERNAL_CMDS is N (Y, in the "
			 "stanza or fwknopd.conf, runs it; N in the stanza keeps it unused)",
			 own_cmd->where, own_cmd->name);
		return -EINVAL;
	}
	return 0;
}

int spa_conf_extcmd_finish(const struct spa_config *c, struct spa_stanza *s, char *err,
			   size_t errlen)
{
	const struct spa_conf_kv *open, *close, *alarm, *pfx;
	char *o = NULL, *cl = NULL;
	const char *prefix = NULL;
	uint32_t secs = 0;
	int rc = served(c, s, err, errlen);

	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < s->n_kv; i++) {
		if (strncmp(s->kv[i].name, "CMD_CYCLE_", 10) == 0) {
			snprintf(err, errlen, "%s: %s: stanza %s is served by EXTERNAL_CMD_*: "
				 "CMD_CYCLE_* and EXTERNAL_CMD_* cannot share a stanza",
				 s->kv[i].where, s->kv[i].name, s->label);
			return -EINVAL;
		}
	}
	open = setting(c, s, "EXTERNAL_CMD_OPEN");
	close = setting(c, s, "EXTERNAL_CMD_CLOSE");
	if (!open || is_none(open->value) || !close) {
		snprintf(err, errlen, "%s: stanza is served by external commands but %s is not set "
			 "(in the stanza or in fwknopd.conf)%s", s->label,
			 !open || is_none(open->value) ? "EXTERNAL_CMD_OPEN" : "EXTERNAL_CMD_CLOSE",
			 !open || is_none(open->value) ? "" : "; NONE: no close command");
		return -EINVAL;
	}
	alarm = setting(c, s, "EXTERNAL_CMD_ALARM");
	if (spa_conf_u32(alarm ? alarm->value : EXT_DEFAULT_ALARM, 1, SPA_MAX_TIMEOUT_VALUE,
			 &secs) < 0)
		return -EINVAL; /* checked as it was read */
	if (yes(setting(c, s, "ENABLE_EXT_CMD_PREFIX"))) {
		pfx = setting(c, s, "EXT_CMD_PREFIX");
		prefix = pfx ? pfx->value : EXT_DEFAULT_PREFIX;
	}
	rc = prepare(s, open, prefix, &o, err, errlen);
	if (rc == 0 && !is_none(close->value))
		rc = prepare(s, close, prefix, &cl, err, errlen);
	if (rc == 0)
		rc = spa_conf_kv_append(&s->kv, &s->n_kv, SPA_EXTCMD_OPEN_KEY, o, open->where);
	if (rc == 0)
		rc = spa_conf_kv_append(&s->kv, &s->n_kv, SPA_EXTCMD_CLOSE_KEY, cl ? cl : "NONE",
					close->where);
	if (rc == 0)
		rc = spa_conf_kv_append(&s->kv, &s->n_kv, "CMD_CYCLE_TIMER",
					alarm ? alarm->value : EXT_DEFAULT_ALARM,
					alarm ? alarm->where : s->label);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", s->label);
	if (rc == 0)
		s->cmd_cycle_timer = secs;
	free(o);
	free(cl);
	return rc;
}
