/* SPDX-License-Identifier: MIT */
/* spa_daemon_config.c - config + options, and which plugin serves what. */
#include "spa_daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "spa_log.h"

static int override(char *dst, size_t cap, const char *v, const char *what, char *err,
		    size_t errlen)
{
	if (!v)
		return 0;
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
	/* a capture is replayed long after it was made */
	if (c->pcap_file[0] && !c->packet_aging_set)
		c->packet_aging = false;
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
	if (rc < 0)
		return rc;
	spa_config_derive_paths(c);
	if (c->access_folder[0])
		rc = spa_config_load_access(c, c->access_folder, true, err, errlen);
	else
		rc = spa_config_load_access(c, c->access_file, false, err, errlen);
	if (rc == 0)
		rc = spa_config_finish(c, err, errlen);
	return rc;
}

static const char *type_of(const struct spa_config *c, const struct spa_stanza *s)
{
	return s->firewall_type[0] ? s->firewall_type : c->firewall_type;
}

struct spa_plugin *spa_daemon_plugin_for(struct spa_daemon *d, const struct spa_stanza *s)
{
	const char *name = type_of(&d->cfg, s);

	for (size_t i = 0; i < d->n_plugins; i++)
		if (strcmp(d->plugins[i]->d->name, name) == 0)
			return d->plugins[i];
	return NULL;
}

int spa_daemon_load_plugins(struct spa_daemon *d, char *err, size_t errlen)
{
	const char *prefixes[SPA_MAX_PLUGINS];
	int rc;

	for (size_t i = 0; i < d->cfg.n_stanzas; i++) {
		const struct spa_stanza *s = &d->cfg.stanzas[i];
		const char *name = type_of(&d->cfg, s);
		struct spa_plugin *p;

		if (!*name) {
			snprintf(err, errlen, "%s: no FIREWALL_TYPE for this stanza (set it in "
				 "fwknopd.conf or the stanza)", s->label);
			return -EINVAL;
		}
		p = spa_daemon_plugin_for(d, s);
		if (!p) {
			if (d->n_plugins == SPA_MAX_PLUGINS) {
				snprintf(err, errlen, "too many plugins (max %d)", SPA_MAX_PLUGINS);
				return -EINVAL;
			}
			rc = spa_plugin_load_named(d->cfg.plugin_dir, name, &p, err, errlen);
			if (rc < 0)
				return rc;
			d->plugins[d->n_plugins++] = p;
		}
		if (spa_addr_list_has_v6(&s->source) &&
		    !(p->d->capabilities & SPA_PLUGIN_CAP_IPV6) && !s->source.any) {
			snprintf(err, errlen, "%s: SOURCE has IPv6 networks but plugin %s has no "
				 "IPv6 support", s->label, p->d->name);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < d->n_plugins; i++)
		prefixes[i] = d->plugins[i]->d->key_prefix;
	return spa_config_check_keys(&d->cfg, prefixes, d->n_plugins, err, errlen);
}
