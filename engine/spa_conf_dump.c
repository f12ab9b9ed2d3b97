/* SPDX-License-Identifier: MIT */
/*
 * spa_conf_dump.c - -D/--dump-config: what the daemon would run with.
 * Secrets are never printed, only whether they are set and how long they
 * are, so the output can be pasted into a bug report.
 */
#include "spa_config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

static const char *yn(bool b)
{
	return b ? "Y" : "N";
}

static unsigned prefix_len(const struct spa_cidr *c)
{
	unsigned bits = 0;
	size_t n = c->family == AF_INET6 ? 16 : 4;

	for (size_t i = 0; i < n; i++)
		for (int b = 7; b >= 0; b--)
			bits += (c->mask[i] >> b) & 1u;
	return bits;
}

static void print_addrs(FILE *out, const char *name, const struct spa_addr_list *l)
{
	fprintf(out, "    %-24s ", name);
	if (l->any)
		fputs("ANY", out);
	for (size_t i = 0; i < l->n; i++) {
		char text[INET6_ADDRSTRLEN] = "?";
		inet_ntop(l->items[i].family, l->items[i].net, text, sizeof(text));
		fprintf(out, "%s%s/%u", i || l->any ? ", " : "", text, prefix_len(&l->items[i]));
	}
	if (!l->any && l->n == 0)
		fputs("(unset)", out);
	fputc('\n', out);
}

static void print_ports(FILE *out, const char *name, const struct spa_port_list *l)
{
	fprintf(out, "    %-24s ", name);
	for (size_t i = 0; i < l->n; i++)
		fprintf(out, "%s%s/%u", i ? ", " : "", l->items[i].proto == 6 ? "tcp" : "udp",
			l->items[i].port);
	if (l->n == 0)
		fputs("(unset)", out);
	fputc('\n', out);
}

/* Plugin keys are opaque to us: anything that looks secret is hidden. */
static bool secret_name(const char *name)
{
	return strstr(name, "KEY") || strstr(name, "PASS") || strstr(name, "SECRET") ||
	       strstr(name, "TOKEN");
}

static const char *facility_name(int f)
{
	static const struct { int f; const char *name; } names[] = {
		{ LOG_DAEMON, "LOG_DAEMON" }, { LOG_LOCAL0, "LOG_LOCAL0" },
		{ LOG_LOCAL1, "LOG_LOCAL1" }, { LOG_LOCAL2, "LOG_LOCAL2" },
		{ LOG_LOCAL3, "LOG_LOCAL3" }, { LOG_LOCAL4, "LOG_LOCAL4" },
		{ LOG_LOCAL5, "LOG_LOCAL5" }, { LOG_LOCAL6, "LOG_LOCAL6" },
		{ LOG_LOCAL7, "LOG_LOCAL7" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].f == f)
			return names[i].name;
	return "?";
}

/* The stanza limits: unset means none, as in fwknopd. */
static void print_limit(FILE *out, const char *name, uint32_t v)
{
	if (v)
		fprintf(out, "    %-24s %u\n", name, v);
	else
		fprintf(out, "    %-24s (no limit)\n", name);
}

/* Where a stanza's plugin comes from, as spa_config_stanza_type decides. */
static void print_type(FILE *out, const struct spa_config *c, const struct spa_stanza *s)
{
	const char *why = spa_stanza_kv_get(s, "CMD_CYCLE_EXT_OPEN") ? " (EXTERNAL_CMD_*)" :
			  s->firewall_type[0] ? "" :
			  spa_stanza_kv_get(s, "CMD_CYCLE_OPEN") ? " (CMD_CYCLE_OPEN)" :
			  " (the global FIREWALL_TYPE)";

	fprintf(out, "    %-24s %s%s\n", "FIREWALL_TYPE", spa_config_stanza_type(c, s), why);
}

static void print_ids(FILE *out, const char *name, const char *first, size_t stride, size_t n)
{
	fprintf(out, "    %-24s ", name);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? ", " : "", first + i * stride);
	fputs(n ? "\n" : "(unset)\n", out);
}

/* A stanza's GnuPG settings as they take effect (spa_config_finish has set
 * `enabled` and applied GPG_DISABLE_SIG); the passphrase only as set. */
static void dump_gpg(FILE *out, const struct spa_config *c, const struct spa_stanza *s)
{
	const struct spa_stanza_gpg *g = s->gpg;

	if (!g) {
		fprintf(out, "    %-24s (no GPG_ variable: no GnuPG)\n", "GnuPG");
		return;
	}
	fprintf(out, "    %-24s %s\n", "GnuPG", g->enabled ? "enabled" :
		"off (no GPG_DECRYPT_PW, no GPG_ALLOW_NO_PW Y)");
	fprintf(out, "    %-24s %s%s\n", "GPG_HOME_DIR", g->home_dir[0] ? g->home_dir :
		c->gpg_home_dir, g->home_dir[0] ? "" : " (fwknopd.conf GPG_HOME_DIR)");
	fprintf(out, "    %-24s %s%s\n", "GPG_EXE", g->exe[0] ? g->exe : c->gpg_exe,
		g->exe[0] ? "" : " (fwknopd.conf GPG_EXE)");
	fprintf(out, "    %-24s %s\n", "GPG_DECRYPT_ID", g->decrypt_id[0] ? g->decrypt_id :
		"(unset)");
	if (g->has_decrypt_pw)
		fprintf(out, "    %-24s <redacted, %zu bytes>\n", "GPG_DECRYPT_PW",
			strlen(g->decrypt_pw));
	else
		fprintf(out, "    %-24s (unset)\n", "GPG_DECRYPT_PW");
	fprintf(out, "    %-24s %s\n", "GPG_ALLOW_NO_PW", yn(g->allow_no_pw));
	fprintf(out, "    %-24s %s\n", "GPG_REQUIRE_SIG", yn(g->require_sig));
	fprintf(out, "    %-24s %s\n", "GPG_DISABLE_SIG", yn(g->disable_sig));
	fprintf(out, "    %-24s %s\n", "GPG_IGNORE_SIG_VERIFY_ERROR",
		yn(g->ignore_sig_verify_error));
	print_ids(out, "GPG_REMOTE_ID", g->remote_ids[0], sizeof(g->remote_ids[0]),
		  g->n_remote_ids);
	print_ids(out, "GPG_FINGERPRINT_ID", g->fingerprints[0], sizeof(g->fingerprints[0]),
		  g->n_fingerprints);
	fprintf(out, "    %-24s %s\n", "GnuPG HMAC", g->hmac_keys ?
		spa_digest_name(spa_keys_hmac_type(g->hmac_keys)) :
		"(none: unauthenticated packets reach gpg)");
}

/* the stanza's NAT settings (spa_conf_nat.c) */
static void dump_nat(FILE *out, const struct spa_stanza *s)
{
	const struct spa_stanza_nat *n = &s->nat;

	if (n->force_nat)
		fprintf(out, "    %-24s %s %u\n", "FORCE_NAT", n->force_nat_ip, n->force_nat_port);
	else
		fprintf(out, "    %-24s (unset)\n", "FORCE_NAT");
	fprintf(out, "    %-24s %s\n", "FORCE_SNAT", n->force_snat ? n->force_snat_ip : "(unset)");
	fprintf(out, "    %-24s %s\n", "FORCE_MASQUERADE", yn(n->force_masquerade));
	fprintf(out, "    %-24s %s\n", "FORWARD_ALL", yn(n->forward_all));
	fprintf(out, "    %-24s %s\n", "DISABLE_DNAT", yn(n->disable_dnat));
}

static void dump_stanza(FILE *out, const struct spa_config *c, const struct spa_stanza *s,
			size_t idx)
{
	fprintf(out, "stanza %zu (%s):\n", idx + 1, s->label);
	print_addrs(out, "SOURCE", &s->source);
	print_addrs(out, "DESTINATION", &s->destination);
	print_ports(out, "OPEN_PORTS", &s->open_ports);
	print_ports(out, "RESTRICT_PORTS", &s->restrict_ports);
	/* the *_bytes fields: the raw keys are wiped once the key set is
	 * prepared, so their lengths would say "unset" here */
	if (s->has_key)
		fprintf(out, "    %-24s <redacted, %zu bytes>\n", "KEY", s->key_bytes);
	else
		fprintf(out, "    %-24s (unset)\n", "KEY");
	if (s->hmac_key_bytes) {
		fprintf(out, "    %-24s <redacted, %zu bytes>\n", "HMAC_KEY", s->hmac_key_bytes);
		fprintf(out, "    %-24s %s\n", "HMAC_DIGEST_TYPE",
			spa_digest_name(s->hmac_type ? s->hmac_type : SPA_DIGEST_SHA256));
	} else {
		fprintf(out, "    %-24s (unset)\n", "HMAC_KEY");
		fprintf(out, "    %-24s (none: no HMAC key)\n", "HMAC_DIGEST_TYPE");
	}
	fprintf(out, "    %-24s %s\n", "ENCRYPTION_MODE", !s->has_key ? "(no KEY: GnuPG only)" :
		spa_mode_name(s->enc_mode ? s->enc_mode : SPA_MODE_CBC));
	fprintf(out, "    %-24s %u\n", "FW_ACCESS_TIMEOUT", s->fw_access_timeout);
	fprintf(out, "    %-24s %u\n", "MAX_FW_TIMEOUT", s->max_fw_timeout);
	fprintf(out, "    %-24s %s\n", "REQUIRE_USERNAME",
		s->require_username[0] ? s->require_username : "(unset)");
	fprintf(out, "    %-24s %s\n", "REQUIRE_SOURCE_ADDRESS", yn(s->require_source_address));
	fprintf(out, "    %-24s %s\n", "REQUIRE_ALLOW_IP_IS_SOURCE", yn(s->require_allow_is_source));
	print_limit(out, "MAX_GRANTS", s->max_grants);
	print_limit(out, "MAX_GRANTS_PER_USER", s->max_grants_per_user);
	print_limit(out, "MAX_KNOCKS_PER_MINUTE", s->max_knocks);
	if (s->access_expire)
		fprintf(out, "    %-24s %lld\n", "ACCESS_EXPIRE_EPOCH", (long long)s->access_expire);
	else
		fprintf(out, "    %-24s (never)\n", "ACCESS_EXPIRE_EPOCH");
	print_type(out, c, s);
	dump_nat(out, s);
	fprintf(out, "    %-24s %s\n", "GRANT_SCOPE", s->grant_cluster ? "cluster" : "local");
	dump_gpg(out, c, s);
	spa_conf_cmd_dump_stanza(c, s, out);
	/* the stanza's plugin keys (CMD_CYCLE_OPEN, ...) as written */
	for (size_t i = 0; i < s->n_kv; i++)
		fprintf(out, "    %-24s %s\n", s->kv[i].name,
			s->kv[i].secret || secret_name(s->kv[i].name) ? "<redacted>" : s->kv[i].value);
}

void spa_config_dump(const struct spa_config *c, FILE *out)
{
	fprintf(out, "server configuration:\n");
	fprintf(out, "    %-24s %s\n", "ENABLE_UDP_SERVER", yn(c->udp_server));
	fprintf(out, "    %-24s %u\n", "UDPSERV_PORT", c->udp_port);
	fprintf(out, "    %-24s %s\n", "ENABLE_TCP_SERVER", yn(c->tcp.server));
	fprintf(out, "    %-24s %u\n", "TCPSERV_PORT", c->tcp.port);
	fprintf(out, "    %-24s %u\n", "TCPSERV_MAX_CONNECTIONS", c->tcp.max_connections);
	fprintf(out, "    %-24s %u\n", "TCPSERV_MAX_PER_SOURCE", c->tcp.max_per_source);
	fprintf(out, "    %-24s %u\n", "TCPSERV_READ_TIMEOUT", c->tcp.read_timeout);
	fprintf(out, "    %-24s %s\n", "ENABLE_SPA_OVER_HTTP", yn(c->tcp.http));
	fprintf(out, "    %-24s %s\n", "ENABLE_X_FORWARDED_FOR", yn(c->tcp.xff));
	fprintf(out, "    %-24s %s\n", "PCAP_INTF", c->pcap_intf);
	fprintf(out, "    %-24s %s\n", "PCAP_FILTER", c->pcap_filter);
	fprintf(out, "    %-24s %s\n", "PCAP_FILE", c->pcap_file[0] ? c->pcap_file : "(unset)");
	fprintf(out, "    %-24s %s\n", "ENABLE_PCAP_PROMISC", yn(c->pcap_promisc));
	fprintf(out, "    %-24s %s\n", "ENABLE_PCAP_ANY_DIRECTION", yn(c->pcap_any_direction));
	fprintf(out, "    %-24s %u\n", "MAX_SNIFF_BYTES", c->max_sniff_bytes);
	spa_nfq_conf_dump(&c->nfq, out);
	fprintf(out, "    %-24s %u\n", "MAX_GRANTS_TOTAL", c->max_grants_total);
	fprintf(out, "    %-24s %u%s\n", "RECONCILE_INTERVAL", c->reconcile_interval,
		c->reconcile_interval ? "" : " (off)");
	fprintf(out, "    %-24s %u\n", "PLUGIN_OP_TIMEOUT", c->plugin_op_timeout);
	fprintf(out, "    %-24s %u%s\n", "PLUGIN_QUEUE_MAX", c->plugin_queue_max,
		c->plugin_queue_max ? "" : " (MAX_GRANTS_TOTAL)");
	fprintf(out, "    %-24s %u\n", "PLUGIN_BATCH_MAX", c->plugin_batch_max);
	fprintf(out, "    %-24s %s\n", "PRIVSEP_USER",
		c->privsep_user[0] ? c->privsep_user : "(unset: _spad, else nobody)");
	fprintf(out, "    %-24s %s\n", "PRIVSEP_CHROOT", c->privsep_chroot);
	fprintf(out, "    %-24s %s\n", "PRIVSEP_SECCOMP", yn(c->privsep_seccomp));
	fprintf(out, "    %-24s %s\n", "ENABLE_SPA_PACKET_AGING", yn(c->packet_aging));
	fprintf(out, "    %-24s %u\n", "MAX_SPA_PACKET_AGE", c->max_packet_age);
	fprintf(out, "    %-24s %s\n", "ENABLE_DIGEST_PERSISTENCE", yn(c->digest_persistence));
	fprintf(out, "    %-24s %s\n", "FWKNOP_RUN_DIR", c->run_dir);
	fprintf(out, "    %-24s %s\n", "DIGEST_FILE", c->digest_file);
	fprintf(out, "    %-24s %s\n", "FWKNOP_PID_FILE", c->pid_file);
	fprintf(out, "    %-24s %s\n", "SPA_JOURNAL_FILE", c->journal_file);
	fprintf(out, "    %-24s %s\n", "SPA_JSON_LOG", c->json_log[0] ? c->json_log : "(unset)");
	fprintf(out, "    %-24s %s\n", "ACCESS_FILE", c->access_file);
	fprintf(out, "    %-24s %s\n", "ACCESS_FOLDER",
		c->access_folder[0] ? c->access_folder : "(unset)");
	fprintf(out, "    %-24s %s\n", "PLUGIN_DIR", c->plugin_dir);
	fprintf(out, "    %-24s %s%s\n", "FIREWALL_TYPE", c->firewall_type,
		c->firewall_type_external ? " (external_cmd)" :
		c->firewall_type_where[0] ? "" : " (default)");
	fprintf(out, "    %-24s %s\n", "SYSLOG_IDENTITY", c->syslog_identity);
	fprintf(out, "    %-24s %s\n", "SYSLOG_FACILITY", facility_name(c->syslog_facility));
	fprintf(out, "    %-24s %s\n", "LOCALE", c->locale[0] ? c->locale : "(unset)");
	fprintf(out, "    %-24s %s\n", "GPG_HOME_DIR", c->gpg_home_dir);
	fprintf(out, "    %-24s %s\n", "GPG_EXE", c->gpg_exe);
	fprintf(out, "    %-24s %u\n", "GPG_MAX_CONCURRENT", c->gpg_max_concurrent);
	fprintf(out, "    %-24s %u\n", "GPG_MAX_PER_SECOND", c->gpg_max_per_second);
	fprintf(out, "    %-24s %u\n", "GPG_MAX_BUSY_PERCENT", c->gpg_max_busy_percent);
	spa_conf_cmd_dump_server(&c->cmd, out);
	/* what the engine makes of either family's names (spa_conf_nat.c) */
	fprintf(out, "    %-24s %s (ENABLE_IPT_FORWARDING or ENABLE_FIREWD_FORWARDING)\n",
		"NAT forwarding", yn(c->nat_forwarding));
	fprintf(out, "    %-24s %s (ENABLE_IPT_LOCAL_NAT or ENABLE_FIREWD_LOCAL_NAT)\n",
		"NAT local", yn(c->nat_local));
	fprintf(out, "    %-24s %s (ENABLE_IPT_SNAT or ENABLE_FIREWD_SNAT)\n", "NAT SNAT",
		yn(c->nat_snat));
	fprintf(out, "    %-24s %s\n", "SNAT_TRANSLATE_IP",
		c->has_snat_ip ? c->snat_translate_ip : "(unset: MASQUERADE)");
	fprintf(out, "    %-24s %s\n", "ENABLE_NAT_DNS", yn(c->nat_dns));
	/* cluster mode (spa_conf_cluster.c, docs/CLUSTER.md) */
	fprintf(out, "    %-24s %s%s\n", "STATE_STORE", c->cluster.store,
		c->cluster.store_where[0] ? "" : " (default)");
	if (spa_conf_cluster_on(c)) {
		fprintf(out, "    %-24s %s\n", "CLUSTER_FAIL_MODE",
			c->cluster.fail_local ? "local" : "closed");
		fprintf(out, "    %-24s %s\n", "CLUSTER_NODE_NAME", c->cluster.node);
	}
	for (size_t i = 0; i < c->n_kv; i++)
		fprintf(out, "    %-24s %s\n", c->kv[i].name,
			c->kv[i].secret || secret_name(c->kv[i].name) ? "<redacted>" : c->kv[i].value);
	fprintf(out, "access stanzas: %zu\n", c->n_stanzas);
	for (size_t i = 0; i < c->n_stanzas; i++)
		dump_stanza(out, c, &c->stanzas[i], i);
}
