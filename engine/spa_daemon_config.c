/* SPDX-License-Identifier: MIT */
/* spa_daemon_config.c - config + options, and which plugin serves what. */
#include "spa_daemon.h"

#include "spa_plugin_keys.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "spa_log.h"

static int override(char *dst, size_t cap, const char *v, const char *what, char *err,
		    size_t errlen)
{
	if (!v)
		return 0;
	/* spa_main.c makes command-line paths absolute against the cwd */
	if (v[0] != '/') {
		snprintf(err, errlen, "%s '%s': expected an absolute path", what, v);
		return -EINVAL;
	}
	if (strlen(v) >= cap) {
		snprintf(err, errlen, "%s: path too long", what);
		return -EINVAL;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int copy_opt(char *dst, size_t cap, const char *v, const char *what, char *err,
		    size_t errlen)
{
	if (!v)
		return 0;
	if (strlen(v) >= cap) {
		snprintf(err, errlen, "%s '%s': too long (max %zu)", what, v, cap - 1);
		return -EINVAL;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* -O files are read after the main one, so their values win. */
static int load_overrides(struct spa_config *c, const char *list, char *err, size_t errlen)
{
	char buf[4096], *save = NULL;
	int rc = 0;

	if (!list)
		return 0;
	if (strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "-O: list too long");
		return -EINVAL;
	}
	memcpy(buf, list, strlen(list) + 1);
	for (char *f = strtok_r(buf, ",", &save); f && rc == 0; f = strtok_r(NULL, ",", &save))
		rc = spa_config_load_server(c, f, err, errlen);
	return rc;
}

static int apply_capture_opts(const struct spa_options *o, struct spa_config *c, char *err,
			      size_t errlen)
{
	int rc = copy_opt(c->pcap_intf, sizeof(c->pcap_intf), o->pcap_intf, "-i", err, errlen);

	if (rc == 0)
		rc = copy_opt(c->pcap_filter, sizeof(c->pcap_filter), o->pcap_filter, "-P", err,
			      errlen);
	if (rc == 0)
		rc = copy_opt(c->pcap_file, sizeof(c->pcap_file), o->pcap_file, "--pcap-file", err,
			      errlen);
	if (rc < 0)
		return rc;
	/* asking for a file means reading that file, whatever the config says */
	if (o->pcap_file)
		c->udp_server = false;
	/* the flag can only say yes: with it, the file's N does not count */
	if (o->pcap_any_direction)
		c->pcap_any_direction = true;
	/* a capture is replayed long after it was made */
	if (c->pcap_file[0] && !c->packet_aging_set)
		c->packet_aging = false;
	return 0;
}

/* Without ACCESS_FILE or -a, access.conf sits next to the server config:
 * /etc/spa/access.conf by default, /etc/fwknop/access.conf when spad runs
 * on fwknopd's files with -c /etc/fwknop/fwknopd.conf. */
static int default_access_file(struct spa_config *c, const char *config_file, char *err,
			       size_t errlen)
{
	char dir[PATH_MAX];
	int n;

	if (c->access_file[0])
		return 0;
	snprintf(dir, sizeof(dir), "%s", config_file ? config_file : SPA_DEFAULT_CONF_FILE);
	n = snprintf(c->access_file, sizeof(c->access_file), "%s/access.conf", dirname(dir));
	if (n < 0 || (size_t)n >= sizeof(c->access_file)) {
		snprintf(err, errlen, "%s: path too long for access.conf beside it", config_file);
		return -ENAMETOOLONG;
	}
	return 0;
}

int spa_daemon_load_config(const struct spa_options *o, struct spa_config *c, char *err,
			   size_t errlen)
{
	int rc;

	spa_config_init(c);
	rc = spa_config_load_server(c, o->config_file, err, errlen);
	if (rc == 0)
		rc = load_overrides(c, o->override_files, err, errlen);
	if (rc == 0)
		rc = override(c->run_dir, sizeof(c->run_dir), o->run_dir, "-r", err, errlen);
	if (rc == 0)
		rc = override(c->digest_file, sizeof(c->digest_file), o->digest_file, "-d", err, errlen);
	if (rc == 0)
		rc = override(c->pid_file, sizeof(c->pid_file), o->pid_file, "-p", err, errlen);
	if (rc == 0)
		rc = override(c->access_file, sizeof(c->access_file), o->access_file, "-a", err,
			      errlen);
	if (rc == 0)
		rc = override(c->access_folder, sizeof(c->access_folder), o->access_folder,
			      "--access-folder", err, errlen);
	if (rc < 0)
		return rc;
	if (o->udp_server)
		c->udp_server = true;
	rc = apply_capture_opts(o, c, err, errlen);
	if (o->nfq_capture)
		c->nfq.enable = true;
	if (rc == 0)
		rc = spa_nfq_conf_finish(&c->nfq, c->udp_server, c->pcap_file[0] != '\0', err,
					 errlen);
	if (rc < 0)
		return rc;
	spa_config_derive_paths(c);
	rc = default_access_file(c, o->config_file, err, errlen);
	if (rc < 0)
		return rc;
	c->server_loaded = true;
	if (c->access_folder[0])
		rc = spa_config_load_access(c, c->access_folder, true, err, errlen);
	else
		rc = spa_config_load_access(c, c->access_file, false, err, errlen);
	if (rc == 0)
		rc = spa_config_finish(c, err, errlen);
	return rc;
}

static struct spa_plugin *plugin_named(struct spa_daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_plugins; i++)
		if (strcmp(d->plugins[i]->d->name, name) == 0)
			return d->plugins[i];
	return NULL;
}

struct spa_plugin *spa_daemon_plugin_for(struct spa_daemon *d, const struct spa_stanza *s)
{
	return plugin_named(d, spa_config_stanza_type(&d->cfg, s));
}

#define MAX_INSTALLED 64

static int cmp_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Names of the *.so in dir, sorted; how many (0 if unreadable). */
static size_t installed_names(const char *dir, char names[][32], size_t max)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!dh)
		return 0;
	while ((de = readdir(dh)) && n < max) {
		size_t len = strlen(de->d_name);
		if (len > 3 && len - 3 < 32 && strcmp(de->d_name + len - 3, ".so") == 0 &&
		    de->d_name[0] != '.') {
			memcpy(names[n], de->d_name, len - 3);
			names[n++][len - 3] = '\0';
		}
	}
	closedir(dh);
	qsort(names, n, sizeof(names[0]), cmp_name);
	return n;
}

/* ", "-separated names of the plugins in dir; "none" if there are none. */
static void installed_plugins(const char *dir, char *out, size_t cap)
{
	char names[MAX_INSTALLED][32];
	size_t n = installed_names(dir, names, MAX_INSTALLED), used = 0;

	snprintf(out, cap, "none");
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", names[i]);
		if (w > 0 && (size_t)w < cap - used)
			used += (size_t)w;
	}
}

/* Where the FIREWALL_TYPE that picked `name` for s was written. */
static void type_origin(const struct spa_config *c, const struct spa_stanza *s, char *out,
			size_t cap)
{
	if (s && s->firewall_type[0])
		snprintf(out, cap, "%s: FIREWALL_TYPE '%s'", s->firewall_type_where,
			 s->firewall_type);
	else if (s && spa_stanza_kv_get(s, "CMD_CYCLE_OPEN"))
		snprintf(out, cap, "%s: CMD_CYCLE_OPEN (plugin '%s')", s->label, SPA_CMD_CYCLE_TYPE);
	else if (c->firewall_type_where[0])
		snprintf(out, cap, "%s: FIREWALL_TYPE '%s'", c->firewall_type_where,
			 c->firewall_type);
	else
		snprintf(out, cap, "FIREWALL_TYPE unset (default '%s')", c->firewall_type);
}

/* "NAME_" for plugin "name", appended to prefixes (cap entries). */
static void add_guess(char guessed[][40], const char **prefixes, size_t *n, size_t cap,
		      const char *name)
{
	size_t k = 0;

	if (*n >= cap)
		return;
	for (size_t i = 0; i < *n; i++)
		if (strncasecmp(prefixes[i], name, strlen(name)) == 0 &&
		    prefixes[i][strlen(name)] == '_' && prefixes[i][strlen(name) + 1] == '\0')
			return;
	for (; name[k] && k < sizeof(guessed[0]) - 2; k++)
		guessed[*n][k] = (char)toupper((unsigned char)name[k]);
	guessed[*n][k++] = '_';
	guessed[*n][k] = '\0';
	prefixes[*n] = guessed[*n];
	(*n)++;
}

/*
 * Before blaming a plugin that does not load, the variables are checked
 * against the prefixes plugins would most likely have (the shipped ones,
 * and NAME_ for each plugin named in the config or installed in
 * PLUGIN_DIR): a typo such as FIREWAL_TYPE is then reported as itself,
 * not as a missing plugin.
 */
static int precheck_keys(const struct spa_config *c, char *err, size_t errlen)
{
	static const char *const shipped[] = { "NFT_", "IPSET_", "CMD_CYCLE_", "FIREWD_", "IPT_",
					       "IPFW_", "PF" };
	enum { CAP = 8 + SPA_MAX_PLUGINS + 1 + MAX_INSTALLED };
	char guessed[CAP][40], names[MAX_INSTALLED][32];
	const char *prefixes[CAP];
	size_t n = 0, n_names = installed_names(c->plugin_dir, names, MAX_INSTALLED);

	for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++)
		prefixes[n++] = shipped[i];
	add_guess(guessed, prefixes, &n, CAP, c->firewall_type);
	for (size_t i = 0; i < c->n_stanzas; i++)
		add_guess(guessed, prefixes, &n, CAP, spa_config_stanza_type(c, &c->stanzas[i]));
	for (size_t i = 0; i < n_names; i++)
		add_guess(guessed, prefixes, &n, CAP, names[i]);
	return spa_config_check_keys(c, prefixes, n, err, errlen);
}

static int load_one(struct spa_daemon *d, const struct spa_stanza *s, struct spa_plugin **out,
		    char *err, size_t errlen)
{
	const char *name = s ? spa_config_stanza_type(&d->cfg, s) : d->cfg.firewall_type;
	char why[160], lerr[SPA_CONF_ERR_LEN / 2], have[256];
	int rc;

	if (d->n_plugins == SPA_MAX_PLUGINS) {
		snprintf(err, errlen, "too many plugins (max %d)", SPA_MAX_PLUGINS);
		return -EINVAL;
	}
	rc = spa_plugin_load_named(d->cfg.plugin_dir, name, out, lerr, sizeof(lerr));
	if (rc == 0)
		rc = spa_plugin_refuse_store(*out, lerr, sizeof(lerr));
	if (rc < 0) {
		if (precheck_keys(&d->cfg, err, errlen) < 0) {
			size_t used = strlen(err);
			snprintf(err + used, errlen - used, " (and plugin '%s' did not load)", name);
			return -EINVAL;
		}
		type_origin(&d->cfg, s, why, sizeof(why));
		installed_plugins(d->cfg.plugin_dir, have, sizeof(have));
		snprintf(err, errlen, "%s: %s; plugins installed in %s: %s", why, lerr,
			 d->cfg.plugin_dir, have);
		return rc;
	}
	d->plugins[d->n_plugins++] = *out;
	return 0;
}

int spa_daemon_stanza_caps(const struct spa_stanza *s, const struct spa_plugin *p, char *err,
			   size_t errlen)
{
	if (spa_addr_list_has_v6(&s->source) &&
	    !(p->d->capabilities & SPA_PLUGIN_CAP_IPV6) && !s->source.any) {
		snprintf(err, errlen, "%s: SOURCE has IPv6 networks but plugin %s has no "
			 "IPv6 support", s->label, p->d->name);
		return -EINVAL;
	}
	/* fwknopd's ipfw and pf builds have no NAT either */
	if (spa_stanza_has_nat(s) && !(p->d->capabilities & SPA_PLUGIN_CAP_NAT)) {
		snprintf(err, errlen, "%s: the stanza sets NAT (FORCE_NAT, FORCE_SNAT, "
			 "FORCE_MASQUERADE, FORWARD_ALL or DISABLE_DNAT) but plugin %s has "
			 "no NAT", s->label, p->d->name);
		return -EINVAL;
	}
	return 0;
}

int spa_daemon_check_keys(struct spa_daemon *d, const struct spa_config *cfg, char *err,
			  size_t errlen)
{
	const char *prefixes[SPA_MAX_PLUGINS + 1];
	size_t n = 0;

	for (size_t i = 0; i < d->n_plugins; i++)
		prefixes[n++] = d->plugins[i]->d->key_prefix;
	if (d->store_plugin)
		prefixes[n++] = d->store_plugin->d->key_prefix;
	return spa_config_check_keys(cfg, prefixes, n, err, errlen);
}

int spa_daemon_load_plugins(struct spa_daemon *d, char *err, size_t errlen)
{
	struct spa_plugin *p;
	int rc;

	/* no stanza (access.conf unreadable, for --fw-list): the global one */
	if (d->cfg.n_stanzas == 0 && !plugin_named(d, d->cfg.firewall_type)) {
		rc = load_one(d, NULL, &p, err, errlen);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < d->cfg.n_stanzas; i++) {
		const struct spa_stanza *s = &d->cfg.stanzas[i];

		p = spa_daemon_plugin_for(d, s);
		if (!p) {
			rc = load_one(d, s, &p, err, errlen);
			if (rc < 0)
				return rc;
		}
		rc = spa_daemon_stanza_caps(s, p, err, errlen);
		if (rc < 0)
			return rc;
	}
	rc = spa_daemon_load_command_modules(d, err, errlen);
	if (rc == 0)
		rc = spa_daemon_cluster_load(d, err, errlen);
	if (rc == 0)
		rc = spa_daemon_check_keys(d, &d->cfg, err, errlen);
	return rc < 0 ? rc : spa_daemon_apply_schemas(d, &d->cfg, err, errlen);
}

static bool serves(const struct spa_config *cfg, const struct spa_stanza *s,
		   const struct spa_plugin *p)
{
	return strcmp(spa_config_stanza_type(cfg, s), p->d->name) == 0;
}

int spa_daemon_apply_schemas(struct spa_daemon *d, struct spa_config *cfg, char *err,
			     size_t errlen)
{
	for (size_t i = 0; i <= d->n_plugins; i++) {
		struct spa_plugin *p = i < d->n_plugins ? d->plugins[i] : d->store_plugin;
		int rc = p ? spa_plugin_keys_apply(p, cfg, serves, err, errlen) : 0;
		if (rc < 0)
			return rc;
	}
	return 0;
}

int spa_daemon_check_plugins(struct spa_daemon *d, const struct spa_config *cfg, char *err,
			     size_t errlen)
{
	for (size_t i = 0; i <= d->n_plugins; i++) {
		struct spa_plugin *p = i < d->n_plugins ? d->plugins[i] : d->store_plugin;
		int rc = p ? spa_plugin_check(p, cfg, serves) : 0;

		/* the plugin logs what it found wrong through the host API */
		if (rc < 0) {
			snprintf(err, errlen, "plugin %s refuses the configuration (%s)",
				 p->d->name, rc == -EINVAL ? "see the lines above" : strerror(-rc));
			return rc;
		}
	}
	return 0;
}
