/* SPDX-License-Identifier: MIT */
/* spa_conf_access.c - access.conf stanzas (docs/man/spad.8, ACCESS STANZAS). */
#include "spa_conf_internal.h"
#include "spa_conf_extcmd.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "spa_log.h"

static int new_stanza(struct spa_conf_ctx *x, const struct spa_conf_pos *p)
{
	struct spa_config *c = x->c;
	struct spa_stanza *grown, *s;
	char file[PATH_MAX], aerr[256];
	int rc;

	if (x->keys_only)
		return spa_conf_fail(x, p, "not allowed in a %%include_keys file");
	grown = realloc(c->stanzas, (c->n_stanzas + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	c->stanzas = grown;
	s = &c->stanzas[c->n_stanzas];
	memset(s, 0, sizeof(*s));
	snprintf(file, sizeof(file), "%s", p->file);
	snprintf(s->label, sizeof(s->label), "%.40s:%u", basename(file), p->line);
	s->fw_access_timeout = SPA_DEFAULT_FW_TIMEOUT;
	s->max_fw_timeout = SPA_DEFAULT_MAX_FW_TIMEOUT;
	rc = spa_addr_list_parse(p->value, &s->source, aerr, sizeof(aerr));
	if (rc < 0)
		return rc == -ENOMEM ? rc : spa_conf_fail(x, p, "%s", aerr);
	x->cur = (ssize_t)c->n_stanzas++;
	/* as written, for EXTERNAL_CMD_*'s $SOURCE */
	return spa_conf_kv_add(&s->vars, &s->n_vars, p, p->value);
}

/* Digits only, 1..max of them; the value or -1. */
static int date_part(const char *s, size_t len, size_t max)
{
	int v = 0;

	if (len == 0 || len > max)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * MM/DD/YYYY -> local midnight at the start of that day. Month and day
 * take one or two digits, as fwknopd's strptime("%m/%d/%Y") does. A
 * two-digit year is read as strptime's %y would (69..99: 19xx, else 20xx):
 * %Y would make "01" the year 1, an expiry nobody means.
 */
static int parse_date(const char *v, int64_t *out, bool *short_year)
{
	const char *s1 = strchr(v, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
	int mon, day, year;
	struct tm tm;
	time_t t;

	if (!s1 || !s2)
		return -EINVAL;
	mon = date_part(v, (size_t)(s1 - v), 2);
	day = date_part(s1 + 1, (size_t)(s2 - s1 - 1), 2);
	year = date_part(s2 + 1, strlen(s2 + 1), 4);
	*short_year = strlen(s2 + 1) == 2;
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || year < 0 ||
	    (strlen(s2 + 1) != 2 && strlen(s2 + 1) != 4))
		return -EINVAL;
	if (*short_year)
		year += year < 69 ? 2000 : 1900;
	if (year < 1970)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_year = year - 1900;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	/* mktime normalises 02/31 to March; a real date round-trips. */
	if (t == (time_t)-1 || tm.tm_mday != day || tm.tm_mon != mon - 1)
		return -EINVAL;
	*out = (int64_t)t;
	return 0;
}

/* The calendar year of a local-time epoch, for the message above. */
static int local_year(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	return localtime_r(&tt, &tm) ? tm.tm_year + 1900 : 0;
}

static int set_raw_key(struct spa_conf_ctx *x, const struct spa_conf_pos *p, uint8_t *dst,
		       size_t cap, size_t *len, bool b64)
{
	int rc;

	if (b64) {
		uint8_t big[2 * SPA_MAX_HMAC_KEY_LEN];
		size_t big_len = 0;

		rc = spa_key_from_base64(p->value, dst, cap, len);
		if (rc == 0)
			return 0;
		/* "invalid" would send the admin looking for a typo in a key
		 * that is only too long */
		if (spa_key_from_base64(p->value, big, sizeof(big), &big_len) == 0 || big_len > cap)
			rc = spa_conf_fail(x, p, "key decodes to more than %zu bytes", cap);
		else
			rc = spa_conf_fail(x, p, "invalid base64 key: %s", spa_strerror(rc));
		spa_wipe(big, sizeof(big));
		return rc;
	}
	if (strlen(p->value) > cap)
		return spa_conf_fail(x, p, "key longer than %zu bytes", cap);
	*len = strlen(p->value);
	memcpy(dst, p->value, *len);
	return 0;
}

static int key_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p, struct spa_stanza *s)
{
	const char *n = p->name;

	if (strcmp(p->value, "__CHANGEME__") == 0)
		return spa_conf_fail(x, p, "placeholder key; set a real one");
	if (strcmp(n, "KEY") == 0 || strcmp(n, "KEY_BASE64") == 0) {
		s->has_key = true;
		return set_raw_key(x, p, s->key, sizeof(s->key), &s->key_len, n[3] == '_');
	}
	return set_raw_key(x, p, s->hmac_key, sizeof(s->hmac_key), &s->hmac_key_len, n[8] == '_');
}

static bool is_key_var(const char *n)
{
	return strcmp(n, "KEY") == 0 || strcmp(n, "KEY_BASE64") == 0 ||
	       strcmp(n, "HMAC_KEY") == 0 || strcmp(n, "HMAC_KEY_BASE64") == 0;
}

static void trim(char *v)
{
	for (size_t n = strlen(v); n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'); n--)
		v[n - 1] = '\0';
}

static int list_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p, const char *v,
		    struct spa_stanza *s)
{
	char aerr[256];
	int rc;

	if (strcmp(p->name, "DESTINATION") == 0) {
		spa_addr_list_free(&s->destination);
		rc = spa_addr_list_parse(v, &s->destination, aerr, sizeof(aerr));
	} else {
		struct spa_port_list *l = strcmp(p->name, "OPEN_PORTS") == 0 ?
			&s->open_ports : &s->restrict_ports;
		spa_port_list_free(l);
		rc = spa_port_list_parse(v, l, aerr, sizeof(aerr));
	}
	if (rc == -ENOMEM)
		return rc;
	return rc < 0 ? spa_conf_fail(x, p, "%s", aerr) : 0;
}

static int scalar_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p, const char *v,
		      struct spa_stanza *s)
{
	const char *n = p->name;
	bool b;
	int id;

	if (strcmp(n, "HMAC_DIGEST_TYPE") == 0) {
		id = spa_digest_from_name(v);
		if (id <= 0)
			return spa_conf_fail(x, p, "unknown HMAC digest type");
		s->hmac_type = id;
	} else if (strcmp(n, "ENCRYPTION_MODE") == 0) {
		/* Asymmetric (GnuPG) is checked against KEY at finish */
		id = spa_mode_from_name(v);
		if (id <= 0)
			return spa_conf_fail(x, p, "unknown encryption mode");
		s->enc_mode = id;
	} else if (strcmp(n, "FW_ACCESS_TIMEOUT") == 0 || strcmp(n, "MAX_FW_TIMEOUT") == 0) {
		uint32_t t;
		if (spa_conf_u32(v, 0, SPA_MAX_TIMEOUT_VALUE, &t) < 0)
			return spa_conf_fail(x, p, "expected seconds 0..%u", SPA_MAX_TIMEOUT_VALUE);
		/* 0 means "the default", as in fwknop */
		if (n[0] == 'F')
			s->fw_access_timeout = t ? t : SPA_DEFAULT_FW_TIMEOUT;
		else
			s->max_fw_timeout = t ? t : SPA_DEFAULT_MAX_FW_TIMEOUT;
	} else if (strcmp(n, "REQUIRE_USERNAME") == 0) {
		if (spa_validate_username(v) < 0 ||
		    spa_conf_copy(v, s->require_username, sizeof(s->require_username)) < 0)
			return spa_conf_fail(x, p, "not a valid SPA username");
	} else if (strcmp(n, "REQUIRE_SOURCE_ADDRESS") == 0 || strcmp(n, "REQUIRE_SOURCE") == 0) {
		if (spa_conf_yes_no(v, &b) < 0)
			return spa_conf_fail(x, p, "expected Y or N");
		s->require_source_address = b;
	} else if (strcmp(n, "REQUIRE_ALLOW_IP_IS_SOURCE") == 0) {
		if (spa_conf_yes_no(v, &b) < 0)
			return spa_conf_fail(x, p, "expected Y or N");
		s->require_allow_is_source = b;
	} else if (strcmp(n, "MAX_GRANTS") == 0 || strcmp(n, "MAX_GRANTS_PER_USER") == 0) {
		/* 0 is refused rather than read as "no limit" (or as "no
		 * grants"): leaving the variable out says that unambiguously */
		uint32_t *dst = strcmp(n, "MAX_GRANTS") == 0 ? &s->max_grants
							      : &s->max_grants_per_user;
		if (spa_conf_u32(v, 1, SPA_MAX_GRANTS_LIMIT, dst) < 0)
			return spa_conf_fail(x, p, "expected a number of grants 1..%u (leave it "
					     "out for no limit)", SPA_MAX_GRANTS_LIMIT);
	} else if (strcmp(n, "MAX_KNOCKS_PER_MINUTE") == 0) {
		if (spa_conf_u32(v, 1, SPA_MAX_KNOCKS_LIMIT, &s->max_knocks) < 0)
			return spa_conf_fail(x, p, "expected a number of knocks 1..%u (leave it "
					     "out for no limit)", SPA_MAX_KNOCKS_LIMIT);
	} else if (strcmp(n, "ACCESS_EXPIRE") == 0) {
		if (parse_date(v, &s->access_expire, &b) < 0)
			return spa_conf_fail(x, p, "expected a date MM/DD/YYYY (1970 or later)");
		if (b)
			spa_log(SPA_L_NOTICE, "%s:%u: ACCESS_EXPIRE %s: two-digit year read as %d",
				p->file, p->line, v, local_year(s->access_expire));
	} else if (strcmp(n, "ACCESS_EXPIRE_EPOCH") == 0) {
		if (spa_conf_i64(v, &s->access_expire) < 0 || s->access_expire <= 0)
			return spa_conf_fail(x, p, "expected epoch seconds");
	} else if (strcmp(n, "FIREWALL_TYPE") == 0) {
		/* external_cmd is the command cycle with EXTERNAL_CMD_* */
		s->firewall_type_external = strcmp(v, SPA_EXTERNAL_CMD_TYPE) == 0;
		if (s->firewall_type_external)
			v = SPA_CMD_CYCLE_TYPE;
		if (strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(v) ||
		    spa_conf_copy(v, s->firewall_type, sizeof(s->firewall_type)) < 0)
			return spa_conf_fail(x, p, "expected a plugin name [a-z0-9_-]");
		snprintf(s->firewall_type_where, sizeof(s->firewall_type_where), "%s:%u", p->file,
			 p->line);
	} else if (strcmp(n, "CMD_CYCLE_TIMER") == 0) {
		if (spa_conf_u32(v, 1, SPA_MAX_TIMEOUT_VALUE, &s->cmd_cycle_timer) < 0)
			return spa_conf_fail(x, p, "expected seconds 1..%u", SPA_MAX_TIMEOUT_VALUE);
		return spa_conf_kv_add(&s->kv, &s->n_kv, p, v);
	} else if (strncmp(n, SPA_EXTCMD_KEY_PREFIX, strlen(SPA_EXTCMD_KEY_PREFIX)) == 0) {
		return spa_conf_fail(x, p, "reserved: spad sets it from EXTERNAL_CMD_*");
	} else {
		/* Perhaps a plugin's (CMD_CYCLE_OPEN, ...): which plugins are
		 * loaded is known only once every stanza is read, so the name
		 * is checked then (spa_config_check_keys). */
		return spa_conf_kv_add(&s->kv, &s->n_kv, p, v);
	}
	return 0;
}

int spa_conf_access_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p)
{
	char v[SPA_CONF_LINE_MAX + 1];
	struct spa_stanza *s;
	int rc;

	if (strcmp(p->name, "SOURCE") == 0) {
		snprintf(v, sizeof(v), "%s", p->value);
		trim(v);
		struct spa_conf_pos tp = *p;
		tp.value = v;
		return new_stanza(x, &tp);
	}
	if (x->cur < 0)
		return spa_conf_fail(x, p, "variable before the first SOURCE line");
	s = &x->c->stanzas[x->cur];
	if (is_key_var(p->name))
		return key_var(x, p, s);
	if (x->keys_only && !spa_conf_gpg_keys_var(p->name))
		return spa_conf_fail(x, p, "only key variables are allowed in a %%include_keys file");
	/* as written, for EXTERNAL_CMD_*'s $VAR; a secret (GPG_DECRYPT_PW
	 * here) is neither copied nor kept */
	if (!spa_conf_extcmd_secret(p->name)) {
		snprintf(v, sizeof(v), "%s", p->value);
		trim(v);
		rc = spa_conf_kv_add(&s->vars, &s->n_vars, p, v);
		if (rc < 0)
			return rc;
	}
	if (spa_conf_gpg_is_var(p->name))
		return spa_conf_gpg_var(x, p, s);
	if (spa_conf_cmd_is_var(p->name))
		return spa_conf_cmd_var(x, p, s, v);
	rc = spa_conf_nat_access_var(x, p, v, s);
	if (rc <= 0)
		return rc;
	rc = spa_conf_cluster_access_var(x, p, v, s);
	if (rc <= 0)
		return rc;
	if (spa_conf_extcmd_var(p->name)) {
		char why[160];
		/* used (or not) once the stanza and fwknopd.conf are complete */
		if (spa_conf_extcmd_value(p->name, v, why, sizeof(why)) < 0)
			return spa_conf_fail(x, p, "%s", why);
		return 0;
	}
	if (strcmp(p->name, "DESTINATION") == 0 || strcmp(p->name, "OPEN_PORTS") == 0 ||
	    strcmp(p->name, "RESTRICT_PORTS") == 0)
		return list_var(x, p, v, s);
	return scalar_var(x, p, v, s);
}

int spa_config_load_access(struct spa_config *c, const char *path, bool folder,
			   char *err, size_t errlen)
{
	struct spa_conf_ctx x = { .c = c, .access = true, .cur = -1, .err = err, .errlen = errlen };
	struct spa_conf_pos p = { .file = path, .line = 0 };

	if (folder)
		return spa_conf_parse_folder(&x, path, 0, &p);
	return spa_conf_parse_file(&x, path, 0);
}

static int finish_stanza(const struct spa_config *c, struct spa_stanza *s, char *err,
			 size_t errlen)
{
	struct spa_key_spec spec = { 0 };
	bool rijndael = s->has_key && s->key_len, gpg;
	int rc;

	rc = spa_conf_gpg_check(c, s, err, errlen);
	if (rc < 0)
		return rc;
	gpg = s->gpg && s->gpg->enabled;
	if (!rijndael && !gpg) {
		snprintf(err, errlen, "%s: stanza has no KEY or KEY_BASE64 and no GnuPG key "
			 "(GPG_DECRYPT_PW or GPG_ALLOW_NO_PW Y)", s->label);
		return -EINVAL;
	}
	if (rijndael && s->enc_mode == SPA_MODE_ASYMMETRIC) {
		snprintf(err, errlen, "%s: ENCRYPTION_MODE Asymmetric is GnuPG's; KEY needs an AES "
			 "mode (CBC, the default)", s->label);
		return -EINVAL;
	}
	if (rijndael && s->hmac_key_len && s->hmac_key_len == s->key_len &&
	    memcmp(s->hmac_key, s->key, s->key_len) == 0) {
		snprintf(err, errlen, "%s: HMAC key must differ from the encryption key", s->label);
		return -EINVAL;
	}
	if (s->hmac_type && !s->hmac_key_len)
		spa_log(SPA_L_WARNING, "%s: HMAC_DIGEST_TYPE without an HMAC key has no effect",
			s->label);
	if (s->enc_mode == SPA_MODE_CBC_LEGACY_IV && s->key_len > 16) {
		spa_log(SPA_L_WARNING, "%s: legacy mode uses only the first 16 key bytes", s->label);
		s->key_len = 16;
	}
	spec.enc_key = s->key;
	spec.enc_key_len = s->key_len;
	spec.hmac_key = s->hmac_key_len ? s->hmac_key : NULL;
	spec.hmac_key_len = s->hmac_key_len;
	spec.hmac_type = s->hmac_type;
	spec.enc_mode = s->enc_mode;
	/* a GnuPG-only stanza has no AES key set: s->keys stays NULL */
	rc = rijndael ? spa_keys_new(&spec, &s->keys) : 0;
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot prepare keys: %s", s->label, spa_strerror(rc));
		return -EINVAL;
	}
	rc = spa_conf_gpg_prepare(s, err, errlen);
	if (rc < 0)
		return rc;
	rc = spa_conf_extcmd_finish(c, s, err, errlen);
	if (rc < 0)
		return rc;
	rc = spa_conf_cmd_finish(c, s, err, errlen);
	if (rc < 0)
		return rc;
	rc = spa_conf_nat_finish(c, s, err, errlen);
	if (rc < 0)
		return rc;
	spa_conf_kv_free(s->vars, s->n_vars);
	s->vars = NULL;
	s->n_vars = 0;
	if (s->max_knocks && !s->knocks) {
		s->knocks = calloc(1, sizeof(*s->knocks));
		if (!s->knocks) {
			snprintf(err, errlen, "%s: out of memory", s->label);
			return -ENOMEM;
		}
	}
	s->key_bytes = s->key_len;
	s->hmac_key_bytes = s->hmac_key_len;
	/* the prepared key set holds its own copy */
	spa_wipe(s->key, sizeof(s->key));
	spa_wipe(s->hmac_key, sizeof(s->hmac_key));
	s->key_len = s->hmac_key_len = 0;
	return 0;
}

int spa_config_finish(struct spa_config *c, char *err, size_t errlen)
{
	static uint64_t generations;

	c->generation = ++generations;
	if (c->n_stanzas == 0) {
		snprintf(err, errlen, "%s: no access stanza (SOURCE line) found",
			 c->access_folder[0] ? c->access_folder : c->access_file);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->n_stanzas; i++) {
		int rc = finish_stanza(c, &c->stanzas[i], err, errlen);
		if (rc < 0)
			return rc;
	}
	return spa_conf_cluster_finish(c, err, errlen);
}
