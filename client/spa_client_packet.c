/* SPDX-License-Identifier: MIT */
/*
 * Turning the config into an SPA message and a wire string, and the
 * "SPA Field Values" dump that fwknop users know from -v and -T.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spa_client.h"

#define RAND_PORT_BASE 10000u
#define RAND_PORT_SPAN 55535u   /* 10000..65534, as fwknop picks them */

static int random_port(uint16_t *port)
{
	uint32_t r;
	int rc = spa_random_bytes((uint8_t *)&r, sizeof(r));

	if (rc == 0)
		*port = (uint16_t)(RAND_PORT_BASE + r % RAND_PORT_SPAN);
	return rc;
}

static int pick_username(const struct spa_client_cfg *c, char *out, size_t cap)
{
	const char *u = c->spoof_user[0] ? c->spoof_user : NULL;
	const char *envs[] = { "SPOOF_USER", "LOGNAME", NULL, "USER" };

	/* fwknop's order; the NULL slot is the login name, then the
	 * effective user's passwd entry (no tty, e.g. under cron). */
	for (size_t i = 0; !u && i < sizeof(envs) / sizeof(envs[0]); i++) {
		const char *v = envs[i] ? getenv(envs[i]) : getlogin();

		if (!v && !envs[i]) {
			struct passwd *pw = getpwuid(geteuid());

			v = pw ? pw->pw_name : NULL;
		}
		if (v && *v)
			u = v;
	}
	if (!u)
		u = "NO_USER";
	if (strlen(u) >= cap || strlen(u) > SPA_MAX_USERNAME_LEN ||
	    spa_validate_username(u) < 0) {
		fprintf(stderr, "spa-client: username '%s' cannot be sent (use -U)\n", u);
		return -SPA_CE_USAGE;
	}
	memcpy(out, u, strlen(u) + 1);
	return 0;
}

static int set_fields(const struct spa_client_cfg *c, struct spa_message *m)
{
	struct spa_port ports[SPA_MAX_PORTS];
	char norm[SPA_CLIENT_MAX_PORTLIST + 1];
	const char *ip;
	size_t n = 0;
	bool nat = c->nat_access[0] || c->nat_local;
	uint16_t ext_port;
	int w;

	if (c->allow_mode == SPA_CLIENT_ALLOW_SOURCE)
		ip = "0.0.0.0";
	else if (c->allow_mode == SPA_CLIENT_ALLOW_IP)
		ip = c->allow_ip;
	else {
		fprintf(stderr, "spa-client: say which IP to allow: -a <ip>, -s or -R\n");
		return -SPA_CE_USAGE;
	}
	if (c->server_cmd[0]) {
		if (nat) {
			fprintf(stderr, "spa-client: -C cannot be combined with NAT options\n");
			return -SPA_CE_USAGE;
		}
		m->type = SPA_MSG_COMMAND;
		w = snprintf(m->message, sizeof(m->message), "%s,%s", ip, c->server_cmd);
		return w > 0 && (size_t)w < sizeof(m->message) ? 0 : -SPA_CE_USAGE;
	}
	if (!c->access[0]) {
		fprintf(stderr, "spa-client: no access list given (e.g. -A tcp/22)\n");
		return -SPA_CE_USAGE;
	}
	if (spa_client_parse_ports(c->access, ports, SPA_MAX_PORTS, &n, norm,
				   sizeof(norm)) < 0)
		return -SPA_CE_USAGE;
	m->type = SPA_MSG_ACCESS;
	if (!nat) {
		w = snprintf(m->message, sizeof(m->message), "%s,%s", ip, norm);
		return w > 0 && (size_t)w < sizeof(m->message) ? 0 : -SPA_CE_USAGE;
	}
	if (n != 1) {
		fprintf(stderr, "spa-client: NAT requests take exactly one proto/port in -A\n");
		return -SPA_CE_USAGE;
	}
	m->type = c->nat_local ? SPA_MSG_LOCAL_NAT_ACCESS : SPA_MSG_NAT_ACCESS;
	if (c->nat_access[0] && strchr(c->nat_access, ',')) {
		snprintf(m->nat_access, sizeof(m->nat_access), "%s", c->nat_access);
	} else if (c->nat_access[0]) {
		/* -N host without a port: fwknop forwards to the requested
		 * service port (before --nat-port/--nat-rand-port move the
		 * external one below). */
		w = snprintf(m->nat_access, sizeof(m->nat_access), "%s,%u",
			     c->nat_access, ports[0].port);
		if (w < 0 || (size_t)w >= sizeof(m->nat_access) ||
		    spa_validate_nat_access(m->nat_access) < 0) {
			fprintf(stderr, "spa-client: bad NAT target '%s'\n", c->nat_access);
			return -SPA_CE_USAGE;
		}
	} else {
		w = snprintf(m->nat_access, sizeof(m->nat_access), "%s,%u",
			     c->server, ports[0].port);
		if (w < 0 || (size_t)w >= sizeof(m->nat_access) ||
		    spa_validate_nat_access(m->nat_access) < 0) {
			fprintf(stderr, "spa-client: --nat-local needs a valid -D\n");
			return -SPA_CE_USAGE;
		}
	}
	/* The externally opened port goes in the access request; the NAT
	 * field keeps the real service port. */
	ext_port = ports[0].port;
	if (c->nat_rand_port) {
		if (random_port(&ext_port) < 0)
			return -SPA_CE_USAGE;
		printf("[+] Randomly assigned port '%u' for NAT access.\n", ext_port);
	} else if (c->nat_port) {
		ext_port = c->nat_port;
	}
	w = snprintf(m->message, sizeof(m->message), "%s,%s/%u", ip,
		     ports[0].proto == 6 ? "tcp" : "udp", ext_port);
	return w > 0 && (size_t)w < sizeof(m->message) ? 0 : -SPA_CE_USAGE;
}

/* In GnuPG mode the key set carries only the HMAC layer. */
static int make_keys(const struct spa_client_cfg *c,
		     const struct spa_client_keys *keys, struct spa_keys **out)
{
	struct spa_key_spec spec = {
		.enc_key = c->use_gpg ? NULL : keys->enc,
		.enc_key_len = c->use_gpg ? 0 : keys->enc_len,
		.hmac_key = keys->have_hmac ? keys->hmac : NULL,
		.hmac_key_len = keys->have_hmac ? keys->hmac_len : 0,
		.hmac_type = keys->have_hmac ? c->hmac_type : SPA_HMAC_NONE,
		.enc_mode = c->use_gpg ? SPA_MODE_ASYMMETRIC : c->enc_mode,
	};
	int rc = spa_keys_new(&spec, out);

	if (rc < 0)
		fprintf(stderr, "spa-client: keys refused: %s\n", spa_strerror(rc));
	return rc;
}

/* Hands gpg the passphrase read before the build (keys->gpg_pw). */
static int gpg_passphrase(void *arg, const char *key_hint, bool retry,
			  char *buf, size_t cap)
{
	const struct spa_client_keys *k = arg;
	size_t n = strnlen(k->gpg_pw, sizeof(k->gpg_pw));

	(void)key_hint;
	if (retry || !k->have_gpg_pw || n >= cap)
		return -1;
	memcpy(buf, k->gpg_pw, n + 1);
	return 0;
}

void spa_client_gpg_opts(const struct spa_client_cfg *c,
			 const struct spa_client_keys *keys,
			 struct spa_gpg_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->home_dir = c->gpg_home[0] ? c->gpg_home : NULL;
	o->gpg_exe = c->gpg_exe[0] ? c->gpg_exe : NULL;
	o->agent_pinentry = c->gpg_agent;
	if (!c->gpg_agent && keys->have_gpg_pw) {
		o->passphrase = gpg_passphrase;
		o->passphrase_arg = (void *)keys;
	}
}

static int gpg_build(const struct spa_client_cfg *c,
		     const struct spa_client_keys *keys,
		     const struct spa_keys *k, struct spa_client_packet *p)
{
	struct spa_gpg_opts o;
	const char *signer = c->gpg_signer[0] ? c->gpg_signer : NULL;
	int rc;

	spa_client_gpg_opts(c, keys, &o);
	rc = spa_gpg_build(&o, c->gpg_recipient, signer, &p->msg,
			   keys->have_hmac ? k : NULL, p->wire, sizeof(p->wire),
			   &p->wire_len, &p->info);
	switch (-rc) {
	case 0:
		break;
	case SPA_E_GPG_KEY:
		fprintf(stderr, "spa-client: GnuPG key '%s'%s%s%s is missing from "
			"the keyring (%s), ambiguous, or cannot be used\n",
			c->gpg_recipient, signer ? " (recipient) or '" : "",
			signer ? signer : "", signer ? "' (signer)" : "",
			o.home_dir ? o.home_dir : "gpg's default home");
		break;
	case SPA_E_GPG_PASSPHRASE:
		/* KEY doubles as the signing passphrase (fwknop): a Rijndael
		 * key left in [default] is a likely wrong one */
		fprintf(stderr, "spa-client: GnuPG could not unlock signing key '%s': "
			"%s\n", c->gpg_signer, c->gpg_agent ?
			"gpg-agent gave no passphrase" : !keys->have_gpg_pw ?
			"it needs a passphrase (drop --gpg-no-signing-pw)" :
			c->key[0] || c->key_file[0] ? "wrong passphrase (taken "
			"from GPG_SIGNING_PW or KEY in the rc file, --key-rijndael "
			"or -G)" : "wrong passphrase");
		break;
	case SPA_E_GPG:
		if (c->gpg_agent && signer)
			fprintf(stderr, "spa-client: gpg failed to sign with '%s' "
				"through gpg-agent (no cached passphrase and no "
				"pinentry it could show?)\n", signer);
		else
			fprintf(stderr, "spa-client: cannot run gpg%s%s\n",
				o.gpg_exe ? " " : "", o.gpg_exe ? o.gpg_exe : "");
		break;
	case SPA_E_TOO_LONG:
		fprintf(stderr, "spa-client: the GnuPG packet is too long for one "
			"datagram (use an RSA-2048 recipient or a smaller signing key)\n");
		break;
	default:
		fprintf(stderr, "spa-client: cannot build the SPA packet: %s\n",
			spa_strerror(rc));
	}
	return rc;
}

int spa_client_build(const struct spa_client_cfg *c,
		     const struct spa_client_keys *keys,
		     struct spa_client_packet *p)
{
	struct spa_keys *k = NULL;
	int64_t ts;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = spa_message_init(&p->msg);
	if (rc < 0)
		goto out;
	rc = pick_username(c, p->msg.username, sizeof(p->msg.username));
	if (rc < 0)
		goto out;
	ts = (int64_t)time(NULL) + c->time_offset;
	if (ts < 0) {
		fprintf(stderr, "spa-client: time offset gives a negative timestamp\n");
		rc = -SPA_CE_USAGE;
		goto out;
	}
	p->msg.timestamp = (uint64_t)ts;
	p->msg.digest_type = c->digest_type;
	p->msg.client_timeout = c->fw_timeout;
	rc = set_fields(c, &p->msg);
	if (rc < 0)
		goto out;
	p->dest_port = c->server_port;
	if (c->rand_port) {
		rc = random_port(&p->dest_port);
		if (rc < 0)
			goto out;
	}
	rc = make_keys(c, keys, &k);
	if (rc < 0)
		goto out;
	if (c->use_gpg) {
		rc = gpg_build(c, keys, k, p);
		goto out;
	}
	rc = spa_packet_build_ex(&p->msg, k, NULL, p->wire, sizeof(p->wire),
				 &p->wire_len, &p->info);
	if (rc < 0)
		fprintf(stderr, "spa-client: cannot build the SPA packet: %s\n",
			spa_strerror(rc));
out:
	spa_keys_free(k);
	return rc;
}

static const char *or_null(const char *s)
{
	return s && *s ? s : "<NULL>";
}

void spa_client_gpg_dump_init(const struct spa_client_cfg *c,
			      struct spa_client_gpg_dump *g)
{
	memset(g, 0, sizeof(*g));
	g->signer = c->gpg_signer;
	g->recipient = c->gpg_recipient;
	g->home = c->gpg_home;
	g->exe = c->gpg_exe[0] ? c->gpg_exe : "<GPGME default>";
}

/*
 * fwknop's GnuPG lines. "sig summary" and "sig status" are GPGME's
 * summary bits and error code; we know them for a good signature (VALID|
 * GREEN = 3 for a key of full validity, else 0; status 0). For the other
 * verdicts the status line names the problem instead of a bare number.
 */
static void dump_gpg(FILE *out, const struct spa_client_gpg_dump *g)
{
	const struct spa_gpg_result *r = g->r;
	bool good = r && r->sig == SPA_GPG_SIG_GOOD;
	bool signed_ = r && r->sig != SPA_GPG_SIG_NONE;

	fprintf(out, "%15s: %s\n", "GPG signer", or_null(g->signer));
	fprintf(out, "%15s: %s\n", "GPG recipient", or_null(g->recipient));
	fprintf(out, "%15s: %s\n", "GPG sig verify", "Yes");
	fprintf(out, "%15s: %s\n", "GPG ignore sig", "No");
	fprintf(out, "%15s: %s\n", "GPG sig ID", or_null(signed_ ? r->short_id : NULL));
	fprintf(out, "%15s: %s\n", "GPG sig fpr",
		or_null(signed_ ? r->fingerprint : NULL));
	if (!signed_) {
		fprintf(out, "%15s: %d\n", "GPG sig summary", -1);
		fprintf(out, "%15s: %d\n", "GPG sig status", -1);
	} else if (good) {
		fprintf(out, "%15s: %d\n", "GPG sig summary",
			r->validity >= SPA_GPG_VALIDITY_FULL ? 3 : 0);
		fprintf(out, "%15s: %d\n", "GPG sig status", 0);
	} else {
		fprintf(out, "%15s: %d\n", "GPG sig summary", -1);
		fprintf(out, "%15s: %s\n", "GPG sig status",
			spa_strerror(spa_gpg_sig_error(r)));
	}
	fprintf(out, "%15s: %s\n", "GPG home dir", or_null(g->home));
	fprintf(out, "%15s: %s\n", "GPG exe", or_null(g->exe));
}

void spa_client_dump(FILE *out, const struct spa_message *m,
		     const struct spa_build_info *info, int hmac_type,
		     int enc_mode, const struct spa_client_gpg_dump *g,
		     const char *final_data)
{
	fprintf(out, "SPA Field Values:\n=================\n");
	fprintf(out, "%15s: %s\n", "Random Value", m->rand_val);
	fprintf(out, "%15s: %s\n", "Username", m->username);
	fprintf(out, "%15s: %llu\n", "Timestamp", (unsigned long long)m->timestamp);
	fprintf(out, "%15s: %s\n", "FKO Version", m->version);
	fprintf(out, "%15s: %d (%s)\n", "Message Type", m->type,
		spa_msg_type_name(m->type));
	fprintf(out, "%15s: %s\n", "Message String", m->message);
	fprintf(out, "%15s: %s\n", "Nat Access", or_null(m->nat_access));
	fprintf(out, "%15s: %s\n", "Server Auth", or_null(m->server_auth));
	fprintf(out, "%15s: %u\n", "Client Timeout", m->client_timeout);
	fprintf(out, "%15s: %d (%s)\n", "Digest Type", m->digest_type,
		spa_digest_label(m->digest_type));
	fprintf(out, "%15s: %d (%s)\n", "HMAC Type", hmac_type,
		hmac_type ? spa_digest_label(hmac_type) : "None");
	fprintf(out, "%15s: %d (%s)\n", "Encryption Type", g ? SPA_ENC_GPG :
		SPA_ENC_RIJNDAEL, g ? "GPG" : "Rijndael");
	fprintf(out, "%15s: %d (%s)\n", "Encryption Mode", enc_mode,
		spa_mode_name(enc_mode));
	if (g)
		dump_gpg(out, g);
	fprintf(out, "%15s: %s\n", "Encoded Data", info->encoded);
	fprintf(out, "%15s: %s\n", "SPA Data Digest", info->digest);
	fprintf(out, "%15s: %s\n", "HMAC", or_null(info->hmac));
	fprintf(out, "%15s: %s\n\n", "Final SPA Data", final_data);
}

int spa_client_dump_decoded(FILE *out, const struct spa_client_cfg *c,
			    const struct spa_client_keys *keys,
			    const struct spa_client_packet *p)
{
	struct spa_build_info info;
	struct spa_client_gpg_dump g;
	struct spa_gpg_result r;
	struct spa_message m;
	struct spa_keys *k = NULL;
	char plain[SPA_WIRE_CAP], final[SPA_WIRE_CAP];
	size_t plain_len = 0, hmac_len, colon;
	int rc;

	memset(&info, 0, sizeof(info));
	memset(&r, 0, sizeof(r));
	rc = make_keys(c, keys, &k);
	if (rc < 0)
		goto out;
	if (c->use_gpg) {
		struct spa_gpg_opts o;

		spa_client_gpg_opts(c, keys, &o);
		rc = spa_gpg_open(&o, p->wire, p->wire_len,
				  keys->have_hmac ? k : NULL, &m, &r);
		/* The sender rarely holds the server's secret key. */
		if (rc == -SPA_E_GPG_NOSECKEY) {
			fprintf(out, "(Not decoded: the recipient's secret key is "
				"not in this keyring.)\n");
			rc = 0;
			goto out;
		}
	} else {
		rc = spa_packet_open(p->wire, p->wire_len, k, &m);
	}
	if (rc < 0) {
		fprintf(stderr, "spa-client: our own packet does not decode: %s\n",
			spa_strerror(rc));
		goto out;
	}
	/* Rebuild E and D from what was decoded, not from what was sent. */
	rc = spa_message_encode(&m, plain, sizeof(plain), &plain_len);
	if (rc < 0)
		goto out;
	if (!strchr(plain, ':')) {
		rc = -SPA_E_FIELDS;
		goto out;
	}
	colon = (size_t)(strrchr(plain, ':') - plain);
	if (colon >= sizeof(info.encoded) ||
	    plain_len - colon - 1 >= sizeof(info.digest)) {
		rc = -SPA_E_TOO_LONG;
		goto out;
	}
	memcpy(info.encoded, plain, colon);
	info.encoded[colon] = '\0';
	memcpy(info.digest, plain + colon + 1, plain_len - colon);
	hmac_len = keys->have_hmac ? strlen(p->info.hmac) : 0;
	if (hmac_len) {
		memcpy(info.hmac, p->wire + p->wire_len - hmac_len, hmac_len);
		info.hmac[hmac_len] = '\0';
	}
	memcpy(final, p->wire, p->wire_len - hmac_len);
	final[p->wire_len - hmac_len] = '\0';
	/* fwknop's decoder knows no signer or recipient names */
	spa_client_gpg_dump_init(c, &g);
	g.signer = g.recipient = NULL;
	g.r = &r;
	fprintf(out, "Dump of the Decoded Data\n");
	spa_client_dump(out, &m, &info, spa_keys_hmac_type(k),
			spa_keys_enc_mode(k), c->use_gpg ? &g : NULL, final);
out:
	spa_wipe(plain, sizeof(plain));
	spa_keys_free(k);
	return rc;
}
