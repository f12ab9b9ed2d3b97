/* SPDX-License-Identifier: MIT */
#include "spa_policy.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length-prefixed fields: "ab"+"c" and "a"+"bc" must not collide. */
static int feed(EVP_MD_CTX *md, const void *data, size_t len)
{
	unsigned char n[4] = { (unsigned char)(len >> 24), (unsigned char)(len >> 16),
			       (unsigned char)(len >> 8), (unsigned char)len };

	return EVP_DigestUpdate(md, n, sizeof(n)) == 1 &&
	       EVP_DigestUpdate(md, data, len) == 1 ? 0 : -EIO;
}

static int digest_stanza(const char *plugin, const struct spa_stanza *s,
			 char id[SPA_POLICY_ID_LEN])
{
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int outlen = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? 0 : -ENOMEM;

	if (rc == 0)
		rc = feed(md, plugin, strlen(plugin));
	/* SOURCE tells two stanzas of one backend apart; the networks as
	 * parsed, so spacing and order of the line's text do not matter */
	if (rc == 0)
		rc = feed(md, &s->source.any, sizeof(s->source.any));
	for (size_t i = 0; rc == 0 && i < s->source.n; i++)
		rc = feed(md, &s->source.items[i], sizeof(s->source.items[i]));
	for (size_t i = 0; rc == 0 && i < s->n_kv; i++) {
		rc = feed(md, s->kv[i].name, strlen(s->kv[i].name));
		if (rc == 0)
			rc = feed(md, s->kv[i].value, strlen(s->kv[i].value));
	}
	if (rc == 0 && EVP_DigestFinal_ex(md, out, &outlen) != 1)
		rc = -EIO;
	for (size_t i = 0; rc == 0 && i < (SPA_POLICY_ID_LEN - 1) / 2; i++)
		snprintf(id + 2 * i, 3, "%02x", out[i]);
	EVP_MD_CTX_free(md);
	return rc;
}

static const struct spa_policy *find(const struct spa_policy_set *set, const char *id,
				     const char *plugin)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->items[i]->id, id) == 0 &&
		    strcmp(set->items[i]->plugin, plugin) == 0)
			return set->items[i];
	return NULL;
}

const struct spa_policy *spa_policy_intern(struct spa_policy_set *set, const char *id,
					   const char *plugin, const struct spa_conf_kv *vars,
					   size_t n_vars)
{
	const struct spa_policy *have = find(set, id, plugin);
	struct spa_policy *p, **grown;
	int rc = 0;

	if (have)
		return have;
	if (strlen(id) >= SPA_POLICY_ID_LEN || strlen(plugin) >= sizeof(p->plugin))
		return NULL;
	p = calloc(1, sizeof(*p));
	grown = p ? realloc(set->items, (set->n + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		free(p);
		return NULL;
	}
	set->items = grown;
	snprintf(p->id, sizeof(p->id), "%s", id);
	snprintf(p->plugin, sizeof(p->plugin), "%s", plugin);
	for (size_t i = 0; i < n_vars && rc == 0; i++)
		rc = spa_conf_kv_append(&p->vars, &p->n_vars, vars[i].name, vars[i].value,
					vars[i].where);
	if (rc < 0) {
		spa_conf_kv_free(p->vars, p->n_vars);
		free(p);
		return NULL;
	}
	set->items[set->n++] = p;
	return p;
}

const struct spa_policy *spa_policy_of_stanza(struct spa_policy_set *set, const char *plugin,
					      const struct spa_stanza *s)
{
	char id[SPA_POLICY_ID_LEN];

	if (digest_stanza(plugin, s, id) < 0)
		return NULL;
	return spa_policy_intern(set, id, plugin, s->kv, s->n_kv);
}

void spa_policy_set_free(struct spa_policy_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		spa_conf_kv_free(set->items[i]->vars, set->items[i]->n_vars);
		free(set->items[i]);
	}
	free(set->items);
	set->items = NULL;
	set->n = 0;
}

const char *spa_policy_var(const struct spa_policy *p, const char *name, bool *found)
{
	*found = p && p->id[0];
	return *found ? spa_conf_kv_find(p->vars, p->n_vars, name) : NULL;
}
