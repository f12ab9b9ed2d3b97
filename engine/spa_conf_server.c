/* SPDX-License-Identifier: MIT */
/* spa_conf_server.c - fwknopd.conf variables (docs/man/spad.8, FILES). */
#include "spa_conf_internal.h"
#include "spa_conf_extcmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "spa_log.h"

#define SPA_DEFAULT_RUN_DIR "/run/spad"
#define SPA_DEFAULT_SNIFF_BYTES 1500

/*
 * The compiled default is the configure-time prefix; a spad installed
 * under another one (cmake --install --prefix X, a staged package) looks
 * beside itself: <prefix>/<sbindir>/spad -> <prefix>/<plugin dir>, when
 * that directory exists.
 */
static void default_plugin_dir(char *out, size_t cap)
{
	char exe[PATH_MAX], tail[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t tlen;
	struct stat st;

	snprintf(out, cap, "%s", SPA_PLUGIN_DIR_DEFAULT);
	if (n <= 0 || !SPA_PLUGIN_DIR_REL[0] || !SPA_SBINDIR_REL[0])
		return;
	exe[n] = '\0';
	snprintf(tail, sizeof(tail), "/%s/spad", SPA_SBINDIR_REL);
	tlen = strlen(tail);
	if ((size_t)n <= tlen || strcmp(exe + n - tlen, tail) != 0)
		return;     /* not an installed layout (a build tree, a test) */
	exe[(size_t)n - tlen] = '\0';
	if (snprintf(tail, sizeof(tail), "%s/%s", exe, SPA_PLUGIN_DIR_REL) < (int)sizeof(tail) &&
	    stat(tail, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(out, cap, "%s", tail);
}

void spa_config_init(struct spa_config *c)
{
	memset(c, 0, sizeof(*c));
	c->udp_port = SPA_DEFAULT_PORT;
	c->packet_aging = true;
	c->max_packet_age = SPA_MAX_PACKET_AGE_DEFAULT;
	c->digest_persistence = true;
	snprintf(c->run_dir, sizeof(c->run_dir), "%s", SPA_DEFAULT_RUN_DIR);
	/* access_file stays "": spa_daemon_load_config puts it next to the
	 * server config unless ACCESS_FILE or -a says otherwise */
	default_plugin_dir(c->plugin_dir, sizeof(c->plugin_dir));
	snprintf(c->firewall_type, sizeof(c->firewall_type), "%s", SPA_DEFAULT_FIREWALL_TYPE);
	snprintf(c->syslog_identity, sizeof(c->syslog_identity), "spad");
	c->syslog_facility = LOG_DAEMON;
	snprintf(c->pcap_filter, sizeof(c->pcap_filter), "udp port %u", SPA_DEFAULT_PORT);
	snprintf(c->pcap_intf, sizeof(c->pcap_intf), "eth0");
	c->max_sniff_bytes = SPA_DEFAULT_SNIFF_BYTES;
	spa_nfq_conf_init(&c->nfq);
	c->max_grants_total = SPA_DEFAULT_MAX_GRANTS_TOTAL;
	c->plugin_op_timeout = SPA_DEFAULT_PLUGIN_OP_TIMEOUT;
	c->plugin_queue_max = SPA_DEFAULT_PLUGIN_QUEUE_MAX;
	c->plugin_batch_max = SPA_DEFAULT_PLUGIN_BATCH_MAX;
	c->privsep_seccomp = true;
	snprintf(c->gpg_home_dir, sizeof(c->gpg_home_dir), "%s", SPA_DEFAULT_GPG_HOME_DIR);
	snprintf(c->gpg_exe, sizeof(c->gpg_exe), "%s", SPA_DEFAULT_GPG_EXE);
	spa_conf_cmd_init(&c->cmd);
	spa_conf_cluster_init(&c->cluster);
	c->gpg_max_concurrent = SPA_DEFAULT_GPG_MAX_CONCURRENT;
	c->gpg_max_per_second = SPA_DEFAULT_GPG_MAX_PER_SECOND;
	c->gpg_max_busy_percent = SPA_DEFAULT_GPG_MAX_BUSY_PERCENT;
	c->tcp.port = SPA_DEFAULT_PORT;
	c->tcp.max_connections = SPA_DEFAULT_TCP_MAX_CONNECTIONS;
	c->tcp.max_per_source = SPA_DEFAULT_TCP_MAX_PER_SOURCE;
	c->tcp.read_timeout = SPA_DEFAULT_TCP_READ_TIMEOUT;
	c->nat_dns = true;
	snprintf(c->nat_forwarding_name, sizeof(c->nat_forwarding_name), "ENABLE_IPT_FORWARDING");
	snprintf(c->nat_local_name, sizeof(c->nat_local_name), "ENABLE_IPT_LOCAL_NAT");
}

void spa_config_drop_stanzas(struct spa_config *c)
{
	for (size_t i = 0; i < c->n_stanzas; i++) {
		struct spa_stanza *s = &c->stanzas[i];
		spa_addr_list_free(&s->source);
		spa_addr_list_free(&s->destination);
		spa_port_list_free(&s->open_ports);
		spa_port_list_free(&s->restrict_ports);
		spa_keys_free(s->keys);
		spa_conf_gpg_free(s);
		spa_conf_cmd_free(s);
		spa_conf_kv_free(s->kv, s->n_kv);
		spa_conf_kv_free(s->vars, s->n_vars);
		free(s->knocks);
		spa_wipe(s, sizeof(*s));
	}
	free(c->stanzas);
	c->stanzas = NULL;
	c->n_stanzas = 0;
}

void spa_config_free(struct spa_config *c)
{
	spa_config_drop_stanzas(c);
	spa_conf_kv_free(c->kv, c->n_kv);
	c->kv = NULL;
	c->n_kv = 0;
}

const char *spa_config_stanza_type(const struct spa_config *c, const struct spa_stanza *s)
{
	if (s->firewall_type[0])
		return s->firewall_type;
	if (spa_stanza_kv_get(s, "CMD_CYCLE_OPEN") || spa_stanza_kv_get(s, SPA_EXTCMD_OPEN_KEY))
		return SPA_CMD_CYCLE_TYPE;
	return c->firewall_type;
}

const struct spa_stanza *spa_config_stanza(const struct spa_config *c, const char *label)
{
	for (size_t i = 0; c && label && i < c->n_stanzas; i++)
		if (strcmp(c->stanzas[i].label, label) == 0)
			return &c->stanzas[i];
	return NULL;
}

const char *spa_conf_kv_find(const struct spa_conf_kv *arr, size_t n, const char *name)
{
	/* Last assignment wins, as for every other variable. */
	for (size_t i = n; arr && name && i-- > 0;)
		if (strcmp(arr[i].name, name) == 0)
			return arr[i].value;
	return NULL;
}

const char *spa_stanza_kv_get(const struct spa_stanza *s, const char *name)
{
	return s ? spa_conf_kv_find(s->kv, s->n_kv, name) : NULL;
}

const char *spa_config_kv_get(const struct spa_config *c, const char *name)
{
	return spa_conf_kv_find(c->kv, c->n_kv, name);
}

enum var_kind { V_BOOL, V_PORT, V_U32, V_PATH, V_STR, V_TYPE, V_FACILITY, V_LATER, V_INERT,
		V_NFQ };

struct server_var {
	const char *name;
	enum var_kind kind;
	size_t off;        /* into struct spa_config */
	size_t cap;
	uint32_t min, max;
};

#define F(m) offsetof(struct spa_config, m), sizeof(((struct spa_config *)0)->m)
#define NOF 0, 0

static const struct server_var server_vars[] = {
	{ "ENABLE_UDP_SERVER", V_BOOL, F(udp_server), 0, 0 },
	{ "UDPSERV_PORT", V_PORT, F(udp_port), 1, 65535 },
	{ "ENABLE_SPA_PACKET_AGING", V_BOOL, F(packet_aging), 0, 0 },
	{ "MAX_SPA_PACKET_AGE", V_U32, F(max_packet_age), 1, 100000 },
	{ "ENABLE_DIGEST_PERSISTENCE", V_BOOL, F(digest_persistence), 0, 0 },
	{ "FWKNOP_RUN_DIR", V_PATH, F(run_dir), 0, 0 },
	{ "DIGEST_FILE", V_PATH, F(digest_file), 0, 0 },
	{ "FWKNOP_PID_FILE", V_PATH, F(pid_file), 0, 0 },
	{ "SPA_JOURNAL_FILE", V_PATH, F(journal_file), 0, 0 },
	{ "SPA_JSON_LOG", V_PATH, F(json_log), 0, 0 },
	{ "ACCESS_FILE", V_PATH, F(access_file), 0, 0 },
	{ "ACCESS_FOLDER", V_PATH, F(access_folder), 0, 0 },
	{ "PLUGIN_DIR", V_PATH, F(plugin_dir), 0, 0 },
	{ "FIREWALL_TYPE", V_TYPE, F(firewall_type), 0, 0 },
	{ "SYSLOG_IDENTITY", V_STR, F(syslog_identity), 0, 0 },
	{ "LOCALE", V_STR, F(locale), 0, 0 },
	{ "PCAP_INTF", V_STR, F(pcap_intf), 0, 0 },
	{ "PCAP_FILTER", V_STR, F(pcap_filter), 0, 0 },
	/* meaningful only for fwknop's sleep-polling loops; an event loop has
	 * nothing to tune, so these are accepted without effect */
	{ "UDPSERV_SELECT_TIMEOUT", V_INERT, NOF, 0, 0 },
	{ "RULES_CHECK_THRESHOLD", V_INERT, NOF, 0, 0 },
	{ "FWKNOP_CONF_DIR", V_INERT, NOF, 0, 0 },
	{ "SYSLOG_FACILITY", V_FACILITY, F(syslog_facility), 0, 0 },
	{ "VERBOSE", V_INERT, NOF, 0, 0 },
	{ "PCAP_FILE", V_PATH, F(pcap_file), 0, 0 },
	{ "ENABLE_PCAP_PROMISC", V_BOOL, F(pcap_promisc), 0, 0 },
	{ "MAX_SNIFF_BYTES", V_U32, F(max_sniff_bytes), 1, 32768 },
	/* no "unlimited": the point is that memory is bounded */
	{ "MAX_GRANTS_TOTAL", V_U32, F(max_grants_total), 1, SPA_MAX_GRANTS_LIMIT },
	{ "RECONCILE_INTERVAL", V_U32, F(reconcile_interval), 0, 86400 },
	{ "PLUGIN_OP_TIMEOUT", V_U32, F(plugin_op_timeout), 1, 3600 },
	{ "PLUGIN_QUEUE_MAX", V_U32, F(plugin_queue_max), 0, SPA_MAX_GRANTS_LIMIT },
	{ "PLUGIN_BATCH_MAX", V_U32, F(plugin_batch_max), 1, 4096 },
	{ "PRIVSEP_USER", V_STR, F(privsep_user), 0, 0 },
	{ "PRIVSEP_CHROOT", V_PATH, F(privsep_chroot), 0, 0 },
	{ "PRIVSEP_SECCOMP", V_BOOL, F(privsep_seccomp), 0, 0 },
	/* the capture descriptor is polled, so batch size and sleep have no
	 * meaning; a capture error always ends the daemon here. fwknop
	 * ignores the direction variable (only the flag works): spad does
	 * what its documentation says */
	{ "PCAP_DISPATCH_COUNT", V_INERT, NOF, 0, 0 },
	{ "PCAP_LOOP_SLEEP", V_INERT, NOF, 0, 0 },
	{ "NFQ_LOOP_SLEEP", V_INERT, NOF, 0, 0 },
	{ "ENABLE_PCAP_ANY_DIRECTION", V_BOOL, F(pcap_any_direction), 0, 0 },
	{ "ENABLE_NFQ_CAPTURE", V_NFQ, NOF, 0, 0 },
	{ "NFQ_INTERFACE", V_NFQ, NOF, 0, 0 },
	{ "NFQ_PORT", V_NFQ, NOF, 0, 0 },
	{ "NFQ_TABLE", V_NFQ, NOF, 0, 0 },
	{ "NFQ_CHAIN", V_NFQ, NOF, 0, 0 },
	{ "NFQ_QUEUE_NUMBER", V_NFQ, NOF, 0, 0 },
	{ "EXIT_AT_INTF_DOWN", V_INERT, NOF, 0, 0 },
	/* checked (an existing directory, an executable) only at the end of
	 * the load and only when a GnuPG stanza uses them: every stock
	 * fwknopd.conf names /root/.gnupg */
	{ "GPG_HOME_DIR", V_PATH, F(gpg_home_dir), 0, 0 },
	{ "GPG_EXE", V_PATH, F(gpg_exe), 0, 0 },
	{ "GPG_MAX_CONCURRENT", V_U32, F(gpg_max_concurrent), 1, 64 },
	{ "GPG_MAX_PER_SECOND", V_U32, F(gpg_max_per_second), 1, 100000 },
	{ "GPG_MAX_BUSY_PERCENT", V_U32, F(gpg_max_busy_percent), 1, 100 },
	/* command messages (spa_conf_cmd.h) */
	{ "SUDO_EXE", V_PATH, F(cmd.sudo_exe), 0, 0 },
	{ "CMD_EXEC_TIMEOUT", V_U32, F(cmd.timeout), 1, SPA_MAX_CMD_EXEC_TIMEOUT },
	{ "ENABLE_SPA_OVER_HTTP", V_BOOL, F(tcp.http), 0, 0 },
	{ "ENABLE_X_FORWARDED_FOR", V_BOOL, F(tcp.xff), 0, 0 },
	{ "ENABLE_TCP_SERVER", V_BOOL, F(tcp.server), 0, 0 },
	{ "TCPSERV_PORT", V_PORT, F(tcp.port), 1, 65535 },
	{ "TCPSERV_MAX_CONNECTIONS", V_U32, F(tcp.max_connections), 1, 1024 },
	{ "TCPSERV_MAX_PER_SOURCE", V_U32, F(tcp.max_per_source), 1, 1024 },
	{ "TCPSERV_READ_TIMEOUT", V_U32, F(tcp.read_timeout), 1, 300 },
	{ "DIGEST_DB_FILE", V_LATER, NOF, 0, 0 },
};

/* fwknop's backend variables: kept for whichever plugin asks for them. */
static const char *const backend_prefixes[] = {
	"IPT_", "ENABLE_IPT_", "FLUSH_IPT_", "FIREWD_", "ENABLE_FIREWD_", "FLUSH_FIREWD_",
	"IPFW_", "FLUSH_IPFW_", "PF_", "ENABLE_DESTINATION_RULE",
	"ENABLE_RULE_PREPEND", "SNAT_TRANSLATE_IP", "FIREWALL_EXE",
};

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "$NAME/rest" -> value of an earlier NAME + "/rest". */
static int expand(struct spa_conf_ctx *x, const struct spa_conf_pos *p, char *out, size_t cap)
{
	const char *v = p->value, *end;
	size_t nlen;

	if (v[0] != '$')
		return spa_conf_copy(v, out, cap) < 0 ? spa_conf_fail(x, p, "value too long") : 0;
	end = v + 1;
	while ((*end >= 'A' && *end <= 'Z') || (*end >= '0' && *end <= '9') || *end == '_')
		end++;
	nlen = (size_t)(end - v - 1);
	for (size_t i = x->n_seen; i-- > 0;) {
		if (strlen(x->seen[i].name) == nlen && memcmp(x->seen[i].name, v + 1, nlen) == 0) {
			int n = snprintf(out, cap, "%s%s", x->seen[i].value, end);
			if (n < 0 || (size_t)n >= cap)
				return spa_conf_fail(x, p, "value too long after expansion");
			return 0;
		}
	}
	return spa_conf_fail(x, p, "refers to a variable not set earlier in the file");
}

static int set_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p,
		   const struct server_var *d, const char *v)
{
	char *field = (char *)x->c + d->off;
	uint32_t u;
	bool b;

	switch (d->kind) {
	case V_BOOL:
		if (spa_conf_yes_no(v, &b) < 0)
			return spa_conf_fail(x, p, "expected Y or N");
		*(bool *)field = b;
		return 0;
	case V_PORT:
		if (spa_conf_u32(v, d->min, d->max, &u) < 0)
			return spa_conf_fail(x, p, "expected a port number 1..65535");
		*(uint16_t *)field = (uint16_t)u;
		return 0;
	case V_U32:
		if (spa_conf_u32(v, d->min, d->max, &u) < 0)
			return spa_conf_fail(x, p, "expected an integer %u..%u", d->min, d->max);
		*(uint32_t *)field = u;
		return 0;
	case V_PATH:
		if (v[0] != '/')
			return spa_conf_fail(x, p, "expected an absolute path");
		/* fall through */
	case V_STR:
		if (spa_conf_copy(v, field, d->cap) < 0)
			return spa_conf_fail(x, p, "value too long (max %zu)", d->cap - 1);
		return 0;
	case V_TYPE:
		/* external_cmd is the command cycle with EXTERNAL_CMD_* */
		x->c->firewall_type_external = strcmp(v, SPA_EXTERNAL_CMD_TYPE) == 0;
		if (x->c->firewall_type_external)
			v = SPA_CMD_CYCLE_TYPE;
		/* a plugin file name: no path, nothing a shell would read */
		if (strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(v))
			return spa_conf_fail(x, p, "expected a plugin name [a-z0-9_-]");
		if (spa_conf_copy(v, field, d->cap) < 0)
			return spa_conf_fail(x, p, "value too long (max %zu)", d->cap - 1);
		snprintf(x->c->firewall_type_where, sizeof(x->c->firewall_type_where), "%s:%u",
			 p->file, p->line);
		return 0;
	case V_FACILITY:
		if (spa_log_facility_from_name(v, (int *)field) < 0)
			return spa_conf_fail(x, p, "expected LOG_DAEMON or LOG_LOCAL0..LOG_LOCAL7");
		return 0;
	case V_LATER:
		/* Only a feature switched on changes what fwknopd would do; its
		 * settings alone (SUDO_EXE, TCPSERV_PORT...) sit in every
		 * stock fwknopd.conf and are not worth a warning. */
		if (spa_conf_yes_no(v, &b) == 0 && b && has_prefix(d->name, "ENABLE_"))
			return spa_conf_fail(x, p, "not supported yet");
		spa_log(SPA_L_DEBUG, "%s:%u: %s: feature not supported yet, setting ignored",
			p->file, p->line, p->name);
		return 0;
	case V_INERT:
		return 0;
	case V_NFQ: {
		char why[160];
		if (spa_nfq_conf_set(&x->c->nfq, d->name, v, why, sizeof(why)) < 0)
			return spa_conf_fail(x, p, "%s", why);
		return 0;
	}
	}
	return -EINVAL;
}

int spa_conf_server_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p)
{
	char v[PATH_MAX];
	int rc;

	rc = expand(x, p, v, sizeof(v));
	if (rc < 0)
		return rc;
	/* Trailing blanks are kept only where they can be meant (raw keys in
	 * access.conf); here they are always a typo. */
	for (size_t n = strlen(v); n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'); n--)
		v[n - 1] = '\0';
	rc = spa_conf_kv_add(&x->seen, &x->n_seen, p, v);
	if (rc < 0)
		return rc;
	if (strcmp(p->name, "ENABLE_SPA_PACKET_AGING") == 0)
		x->c->packet_aging_set = true;
	if (strcmp(p->name, "COMMAND_MODULE") == 0)
		return spa_conf_cmd_module(x, p, v);
	for (size_t i = 0; i < sizeof(server_vars) / sizeof(server_vars[0]); i++)
		if (strcmp(server_vars[i].name, p->name) == 0)
			return set_var(x, p, &server_vars[i], v);
	rc = spa_conf_nat_server_var(x, p, v);
	if (rc <= 0)
		return rc;
	rc = spa_conf_cluster_server_var(x, p, v);
	if (rc <= 0)
		return rc;
	if (spa_conf_extcmd_var(p->name)) {
		char why[160];
		/* kept as written: each stanza served by them resolves them */
		if (spa_conf_extcmd_value(p->name, v, why, sizeof(why)) < 0)
			return spa_conf_fail(x, p, "%s", why);
	}
	/* Anything else is a plugin's key or a typo; plugin keys are checked
	 * once the plugins are loaded (spa_config_check_keys). */
	return spa_conf_kv_add(&x->c->kv, &x->c->n_kv, p, v);
}

static bool is_flush_switch(const char *name)
{
	size_t n = strlen(name);

	return n > 8 && (strcmp(name + n - 8, "_AT_INIT") == 0 ||
			 strcmp(name + n - 8, "_AT_EXIT") == 0);
}

int spa_config_check_keys(const struct spa_config *c, const char *const *prefixes,
			  size_t n_prefixes, char *err, size_t errlen)
{
	bool yes;

	for (size_t i = 0; i < c->n_kv; i++) {
		const char *name = c->kv[i].name;
		bool ok = spa_conf_extcmd_var(name);
		for (size_t k = 0; !ok && k < sizeof(backend_prefixes) / sizeof(backend_prefixes[0]); k++)
			ok = has_prefix(name, backend_prefixes[k]);
		for (size_t k = 0; !ok && k < n_prefixes; k++)
			ok = prefixes[k] && *prefixes[k] &&
			     (has_prefix(name, prefixes[k]) ||
			      (has_prefix(name, "ENABLE_") && has_prefix(name + 7, prefixes[k])) ||
			      (has_prefix(name, "FLUSH_") && has_prefix(name + 6, prefixes[k])));
		if (!ok) {
			snprintf(err, errlen, "%s: %s '%s': unknown variable", c->kv[i].where,
				 name, c->kv[i].value);
			return -EINVAL;
		}
		/* the engine acts on these itself, so a typo must not mean "no" */
		if (has_prefix(name, "FLUSH_") && is_flush_switch(name) &&
		    spa_conf_yes_no(c->kv[i].value, &yes) < 0) {
			snprintf(err, errlen, "%s: %s '%s': expected Y or N", c->kv[i].where, name,
				 c->kv[i].value);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < c->n_stanzas; i++) {
		const struct spa_stanza *s = &c->stanzas[i];
		for (size_t j = 0; j < s->n_kv; j++) {
			const char *name = s->kv[j].name;
			bool ok = has_prefix(name, "CMD_CYCLE_");
			for (size_t k = 0; !ok && k < n_prefixes; k++)
				ok = prefixes[k] && *prefixes[k] && has_prefix(name, prefixes[k]);
			if (!ok) {
				snprintf(err, errlen, "%s: %s '%s': unknown variable",
					 s->kv[j].where, name, s->kv[j].value);
				return -EINVAL;
			}
		}
	}
	return 0;
}

void spa_config_derive_paths(struct spa_config *c)
{
	if (!c->digest_file[0])
		snprintf(c->digest_file, sizeof(c->digest_file), "%.*s/digest.cache",
			 PATH_MAX - 20, c->run_dir);
	if (!c->pid_file[0])
		snprintf(c->pid_file, sizeof(c->pid_file), "%.*s/spad.pid", PATH_MAX - 20, c->run_dir);
	if (!c->journal_file[0])
		snprintf(c->journal_file, sizeof(c->journal_file), "%.*s/grants.json",
			 PATH_MAX - 20, c->run_dir);
	if (!c->privsep_chroot[0])
		snprintf(c->privsep_chroot, sizeof(c->privsep_chroot), "%.*s/empty",
			 PATH_MAX - 20, c->run_dir);
}

int spa_config_load_server(struct spa_config *c, const char *path, char *err, size_t errlen)
{
	struct spa_conf_ctx x = { .c = c, .cur = -1, .err = err, .errlen = errlen };
	int rc = spa_conf_parse_file(&x, path, 0);

	spa_conf_kv_free(x.seen, x.n_seen);
	return rc;
}
