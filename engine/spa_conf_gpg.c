/* SPDX-License-Identifier: MIT */
/*
 * spa_conf_gpg.c - access.conf's GnuPG variables (GPG_*; docs/GNUPG.md,
 * "spad configuration"): parsing, the checks at the end of the load that
 * fwknopd makes before it starts, and freeing a stanza's settings.
 */
#include "spa_conf_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spa_log.h"

/* What %include_keys may set: key material and the signer lists, not where
 * gpg and its keyring are (as fwknopd). */
static const char *const gpg_key_vars[] = {
	"GPG_DECRYPT_ID", "GPG_DECRYPT_PW", "GPG_ALLOW_NO_PW", "GPG_REQUIRE_SIG",
	"GPG_DISABLE_SIG", "GPG_IGNORE_SIG_VERIFY_ERROR", "GPG_REMOTE_ID", "GPG_FINGERPRINT_ID",
};

bool spa_conf_gpg_keys_var(const char *name)
{
	for (size_t i = 0; i < sizeof(gpg_key_vars) / sizeof(gpg_key_vars[0]); i++)
		if (strcmp(name, gpg_key_vars[i]) == 0)
			return true;
	return false;
}

bool spa_conf_gpg_is_var(const char *name)
{
	return spa_conf_gpg_keys_var(name) || strcmp(name, "GPG_HOME_DIR") == 0 ||
	       strcmp(name, "GPG_EXE") == 0;
}

static void trim_copy(const char *v, char *out, size_t cap)
{
	size_t n;

	snprintf(out, cap, "%s", v);
	for (n = strlen(out); n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'); n--)
		out[n - 1] = '\0';
}

static bool all_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * One entry of GPG_REMOTE_ID / GPG_FINGERPRINT_ID, blanks already gone:
 * upper-cased into out. Key ids are 8 (fwknop's) or 16 hex digits,
 * fingerprints 40 (v4) or 64 (v5).
 */
static int id_entry(struct spa_conf_ctx *x, const struct spa_conf_pos *p, const char *e,
		    bool fpr, char *out, size_t cap)
{
	size_t len = strlen(e);

	if (len == 0)
		return spa_conf_fail(x, p, "empty entry in the list");
	if (!all_hex(e, len) ||
	    (fpr ? len != 40 && len != SPA_GPG_FPR_MAX : len != 8 && len != 16))
		return spa_conf_fail(x, p, fpr ?
				     "'%s' is not a fingerprint (40 or 64 hex digits)" :
				     "'%s' is not a key id (8 or 16 hex digits; full "
				     "fingerprints go in GPG_FINGERPRINT_ID)", e);
	if (len >= cap)
		return spa_conf_fail(x, p, "'%s' is too long", e);
	for (size_t i = 0; i <= len; i++)
		out[i] = (char)toupper((unsigned char)e[i]);
	return 0;
}

/*
 * A comma list into the stanza (a later line replaces an earlier one).
 * Fingerprints as gpg prints them ("ABCD 1234 ...") have their blanks
 * removed; in a key id list blanks only separate.
 */
static int id_list(struct spa_conf_ctx *x, const struct spa_conf_pos *p, struct spa_stanza_gpg *g,
		   bool fpr)
{
	char entry[SPA_CONF_LINE_MAX + 1];
	const char *v = p->value;
	size_t n = 0;

	for (;;) {
		size_t len = 0;
		int rc;

		for (; *v && *v != ','; v++) {
			if (*v == ' ' || *v == '\t')
				continue;
			if (!fpr && len && (v[-1] == ' ' || v[-1] == '\t'))
				return spa_conf_fail(x, p, "entries are separated by commas");
			entry[len++] = *v;
		}
		entry[len] = '\0';
		if (n == SPA_GPG_MAX_IDS)
			return spa_conf_fail(x, p, "more than %d entries", SPA_GPG_MAX_IDS);
		rc = fpr ? id_entry(x, p, entry, true, g->fingerprints[n], sizeof(g->fingerprints[n]))
			 : id_entry(x, p, entry, false, g->remote_ids[n], sizeof(g->remote_ids[n]));
		if (rc < 0)
			return rc;
		if (!fpr && len == 8)
			spa_log(SPA_L_WARNING, "%s:%u: GPG_REMOTE_ID %s: a short key id can be forged "
				"(docs/GNUPG.md); list the signer's full fingerprint in "
				"GPG_FINGERPRINT_ID instead", p->file, p->line, g->remote_ids[n]);
		n++;
		if (!*v)
			break;
		v++;
	}
	if (fpr)
		g->n_fingerprints = n;
	else
		g->n_remote_ids = n;
	return 0;
}

static int yes_no(struct spa_conf_ctx *x, const struct spa_conf_pos *p, bool *out)
{
	if (spa_conf_yes_no(p->value, out) < 0)
		return spa_conf_fail(x, p, "expected Y or N");
	return 0;
}

static int path_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p, char *dst, size_t cap)
{
	char v[SPA_CONF_LINE_MAX + 1];

	trim_copy(p->value, v, sizeof(v));
	if (v[0] != '/')
		return spa_conf_fail(x, p, "expected an absolute path");
	if (spa_conf_copy(v, dst, cap) < 0)
		return spa_conf_fail(x, p, "path too long");
	return 0;
}

/* The passphrase is never echoed into an error message (logs, -D). */
static int decrypt_pw(struct spa_conf_ctx *x, const struct spa_conf_pos *p,
		      struct spa_stanza_gpg *g)
{
	struct spa_conf_pos hidden = *p;
	size_t len = strlen(p->value);

	hidden.value = "<redacted>";
	if (strcmp(p->value, "__CHANGEME__") == 0)
		return spa_conf_fail(x, p, "placeholder passphrase; set the real one");
	/* trailing blanks are kept, as for KEY: fwknopd keeps them */
	if (len > SPA_GPG_PW_MAX)
		return spa_conf_fail(x, &hidden, "passphrase longer than %d bytes", SPA_GPG_PW_MAX);
	spa_wipe(g->decrypt_pw, sizeof(g->decrypt_pw));
	memcpy(g->decrypt_pw, p->value, len);
	g->has_decrypt_pw = true;
	return 0;
}

static int decrypt_id(struct spa_conf_ctx *x, const struct spa_conf_pos *p,
		      struct spa_stanza_gpg *g)
{
	char v[SPA_CONF_LINE_MAX + 1];

	/* a key id, fingerprint or user id (e-mail) that gpg resolves */
	trim_copy(p->value, v, sizeof(v));
	for (const char *c = v; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return spa_conf_fail(x, p, "control character in the key name");
	if (spa_conf_copy(v, g->decrypt_id, sizeof(g->decrypt_id)) < 0)
		return spa_conf_fail(x, p, "longer than %zu characters", sizeof(g->decrypt_id) - 1);
	return 0;
}

int spa_conf_gpg_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p, struct spa_stanza *s)
{
	struct spa_stanza_gpg *g = s->gpg;
	const char *n = p->name;

	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g)
			return -ENOMEM;
		g->require_sig = true;    /* fwknopd's default for GnuPG stanzas */
		s->gpg = g;
	}
	if (strcmp(n, "GPG_HOME_DIR") == 0)
		return path_var(x, p, g->home_dir, sizeof(g->home_dir));
	if (strcmp(n, "GPG_EXE") == 0)
		return path_var(x, p, g->exe, sizeof(g->exe));
	if (strcmp(n, "GPG_DECRYPT_ID") == 0)
		return decrypt_id(x, p, g);
	if (strcmp(n, "GPG_DECRYPT_PW") == 0)
		return decrypt_pw(x, p, g);
	if (strcmp(n, "GPG_ALLOW_NO_PW") == 0)
		return yes_no(x, p, &g->allow_no_pw);
	if (strcmp(n, "GPG_REQUIRE_SIG") == 0)
		return yes_no(x, p, &g->require_sig);
	if (strcmp(n, "GPG_DISABLE_SIG") == 0)
		return yes_no(x, p, &g->disable_sig);
	if (strcmp(n, "GPG_IGNORE_SIG_VERIFY_ERROR") == 0)
		return yes_no(x, p, &g->ignore_sig_verify_error);
	if (strcmp(n, "GPG_REMOTE_ID") == 0)
		return id_list(x, p, g, false);
	return id_list(x, p, g, true);
}

static int check_paths(const struct spa_config *c, const struct spa_stanza *s,
		       char *err, size_t errlen)
{
	const struct spa_stanza_gpg *g = s->gpg;
	const char *dir = g->home_dir[0] ? g->home_dir : c->gpg_home_dir;
	const char *exe = g->exe[0] ? g->exe : c->gpg_exe;
	const char *dfrom = g->home_dir[0] ? "" : " (fwknopd.conf GPG_HOME_DIR)";
	const char *efrom = g->exe[0] ? "" : " (fwknopd.conf GPG_EXE)";
	struct stat st;

	if (stat(dir, &st) < 0) {
		snprintf(err, errlen, "%s: GPG_HOME_DIR %s%s: %s", s->label, dir, dfrom,
			 strerror(errno));
		return -EINVAL;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: GPG_HOME_DIR %s%s: not a directory", s->label, dir,
			 dfrom);
		return -EINVAL;
	}
	if (exe[0] != '/' || stat(exe, &st) < 0 || !S_ISREG(st.st_mode) ||
	    access(exe, X_OK) < 0) {
		snprintf(err, errlen, "%s: GPG_EXE %s%s is not an executable file", s->label, exe,
			 efrom);
		return -EINVAL;
	}
	return 0;
}

int spa_conf_gpg_check(const struct spa_config *c, struct spa_stanza *s, char *err,
		       size_t errlen)
{
	struct spa_stanza_gpg *g = s->gpg;

	if (!g)
		return 0;
	g->enabled = g->has_decrypt_pw || g->allow_no_pw;
	if (!g->enabled) {
		spa_log(SPA_L_WARNING, "%s: GPG_ variables without GPG_DECRYPT_PW or "
			"GPG_ALLOW_NO_PW Y have no effect", s->label);
		return 0;
	}
	if (g->disable_sig)
		g->require_sig = false;
	if (!g->disable_sig && g->n_remote_ids == 0 && g->n_fingerprints == 0) {
		snprintf(err, errlen, "%s: GnuPG stanza needs GPG_FINGERPRINT_ID or GPG_REMOTE_ID "
			 "(the signers to accept), or GPG_DISABLE_SIG Y", s->label);
		return -EINVAL;
	}
	if (g->ignore_sig_verify_error && g->require_sig)
		spa_log(SPA_L_WARNING, "%s: GPG_IGNORE_SIG_VERIFY_ERROR Y accepts signatures that "
			"do not verify (bad, expired, revoked)", s->label);
	return check_paths(c, s, err, errlen);
}

int spa_conf_gpg_prepare(struct spa_stanza *s, char *err, size_t errlen)
{
	struct spa_key_spec spec = { 0 };
	int rc;

	if (!s->gpg || !s->gpg->enabled || !s->hmac_key_len || s->gpg->hmac_keys)
		return 0;
	spec.hmac_key = s->hmac_key;
	spec.hmac_key_len = s->hmac_key_len;
	spec.hmac_type = s->hmac_type;
	spec.enc_mode = SPA_MODE_ASYMMETRIC;
	rc = spa_keys_new(&spec, &s->gpg->hmac_keys);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot prepare the GnuPG HMAC key: %s", s->label,
			 spa_strerror(rc));
		return -EINVAL;
	}
	return 0;
}

void spa_conf_gpg_free(struct spa_stanza *s)
{
	if (!s->gpg)
		return;
	spa_keys_free(s->gpg->hmac_keys);
	spa_wipe(s->gpg, sizeof(*s->gpg));
	free(s->gpg);
	s->gpg = NULL;
}
