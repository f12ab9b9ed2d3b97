/* SPDX-License-Identifier: MIT */
/*
 * One client invocation, start to end: options, rc file, keys, packet,
 * output, sending. Kept out of main() so tests can drive it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spa_client.h"

static const char *item_value(const struct spa_cmdline *cl, enum spa_opt_id id)
{
	const struct spa_cmdline_item *it = spa_cmdline_find(cl, id);

	return it ? it->value : NULL;
}

static int args_path(const struct spa_cmdline *cl, char *out, size_t cap)
{
	const char *e = item_value(cl, SPA_OPT_ARGS_FILE);

	if (e) {
		if (strlen(e) >= cap)
			return -SPA_CE_IO;
		memcpy(out, e, strlen(e) + 1);
		return 0;
	}
	return spa_client_args_default_path(out, cap);
}

static int load_rc(const struct spa_cmdline *cl, struct spa_client_cfg *c,
		   char *path, size_t cap)
{
	const char *rcf = item_value(cl, SPA_OPT_RC_FILE);
	const char *named = item_value(cl, SPA_OPT_NAMED);
	bool save = spa_cmdline_find(cl, SPA_OPT_SAVE_RC) != NULL;
	struct stat st;
	int rc;

	path[0] = '\0';
	if (spa_cmdline_find(cl, SPA_OPT_NO_RC_FILE))
		return 0;
	if (rcf) {
		if (strlen(rcf) >= cap)
			return -SPA_CE_RC;
		memcpy(path, rcf, strlen(rcf) + 1);
		/* About to be written whole by --save-rc-stanza. */
		if (save && lstat(path, &st) != 0)
			return 0;
	} else {
		rc = spa_client_rc_default_path(path, cap);
		if (rc < 0)
			return rc;
	}
	/* Like fwknop, a missing rc file (the default one or --rc-file's)
	 * is created with a [default] stanza, mode 0600. */
	rc = spa_client_rc_create_template(path);
	if (rc < 0)
		return rc;
	return spa_client_rc_load(path, named, !save, c);
}

static int save_packet(const struct spa_client_cfg *c,
		       const struct spa_client_packet *p)
{
	int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC;
	int fd, rc = 0;

	flags |= c->save_packet_append ? O_APPEND : O_TRUNC;
	fd = open(c->save_packet, flags, 0600);
	if (fd < 0) {
		fprintf(stderr, "spa-client: cannot write %s: %s\n", c->save_packet,
			strerror(errno));
		return -SPA_CE_IO;
	}
	if (write(fd, p->wire, p->wire_len) != (ssize_t)p->wire_len ||
	    write(fd, "\n", 1) != 1)
		rc = -SPA_CE_IO;
	if (close(fd) < 0)
		rc = -SPA_CE_IO;
	if (rc < 0)
		fprintf(stderr, "spa-client: cannot write %s\n", c->save_packet);
	return rc;
}

static int do_keygen(struct spa_client_cfg *c, const char *rc_path)
{
	char key[64], hmac[192];
	FILE *out = stdout;
	int rc, fd = -1;

	if (c->keygen_file[0]) {
		fd = open(c->keygen_file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
			  O_CLOEXEC, 0600);
		/* An existing file keeps its mode on O_TRUNC: force private. */
		if (fd >= 0 && fchmod(fd, 0600) < 0) {
			close(fd);
			fd = -1;
		}
		out = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!out) {
			fprintf(stderr, "spa-client: cannot write %s: %s\n",
				c->keygen_file, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -SPA_CE_IO;
		}
	}
	rc = spa_client_keygen(c, out, key, sizeof(key), hmac, sizeof(hmac));
	if (out != stdout && fclose(out) != 0 && rc == 0)
		rc = -SPA_CE_IO;
	if (rc == 0 && c->save_rc) {
		const char *stanza = c->stanza[0] ? c->stanza : c->server;

		rc = spa_client_cfg_remember(c, "KEY_BASE64", key);
		if (rc == 0)
			rc = spa_client_cfg_remember(c, "HMAC_KEY_BASE64", hmac);
		if (rc == 0 && (!stanza[0] || !rc_path[0])) {
			fprintf(stderr, "spa-client: --save-rc-stanza needs -n or -D "
				"and an rc file\n");
			rc = -SPA_CE_USAGE;
		}
		if (rc == 0)
			rc = spa_client_rc_save_stanza(rc_path, stanza, c);
	}
	spa_wipe(key, sizeof(key));
	spa_wipe(hmac, sizeof(hmac));
	return rc;
}

static void print_send_block(const struct spa_client_cfg *c,
			     const struct spa_client_packet *p)
{
	char sport[8];

	snprintf(sport, sizeof(sport), "%u", c->source_port);
	printf("Generating SPA packet:\n");
	printf("%20s: %s\n", "protocol", spa_client_proto_name(c->proto));
	printf("%20s: %s\n", "source port", c->source_port ? sport : "<OS assigned>");
	printf("%20s: %u\n", "destination port", p->dest_port);
	printf("%20s: %s\n", "IP/host", c->server[0] ? c->server : "<NULL>");
}

static int run_packet(struct spa_client_cfg *c)
{
	struct spa_client_keys keys;
	struct spa_client_gpg_dump g;
	struct spa_client_packet *p;
	size_t sent = 0;
	int rc;

	if (!c->test && !c->server[0]) {
		fprintf(stderr, "spa-client: no SPA server given (use -D)\n");
		return -SPA_CE_USAGE;
	}
	/* A proxy only makes sense for HTTP; fwknop switches to it too. */
	if (c->proxy_host[0])
		c->proto = SPA_CLIENT_PROTO_HTTP;
	if (c->spoof_src[0] && !spa_client_proto_is_raw(c->proto)) {
		fprintf(stderr, "spa-client: --spoof-source needs -P udpraw, "
			"tcpraw or icmp\n");
		return -SPA_CE_USAGE;
	}
	if (c->use_gpg && !c->gpg_recipient[0]) {
		fprintf(stderr, "spa-client: GnuPG mode needs the server's key: "
			"give --gpg-recipient-key (or GPG_RECIPIENT in the rc file)\n");
		return -SPA_CE_USAGE;
	}
	/* The server would refuse it too (docs/man/spa-client.1). */
	if (!c->use_gpg && c->enc_mode == SPA_MODE_CBC_LEGACY_IV && c->use_hmac) {
		fprintf(stderr, "spa-client: legacy encryption mode cannot be used "
			"with an HMAC\n");
		return -SPA_CE_USAGE;
	}
	if (c->allow_mode == SPA_CLIENT_ALLOW_RESOLVE) {
		rc = spa_client_resolve_ip(c, c->allow_ip);
		if (rc < 0)
			return rc;
		c->allow_mode = SPA_CLIENT_ALLOW_IP;
		if (c->verbose)
			printf("    Resolved external IP (via %s) as: %s\n",
			       c->resolve_url[0] ? c->resolve_url :
			       SPA_CLIENT_RESOLVE_URL, c->allow_ip);
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -SPA_E_NOMEM;
	/* fwknop's notes, whether or not a signer is set */
	if (c->use_gpg && c->gpg_agent)
		printf("[+] GPG mode set, signing passphrase acquired via gpg-agent\n");
	else if (c->use_gpg && c->gpg_no_signing_pw)
		printf("[+] GPG mode set, signing passphrase not required\n");
	rc = spa_client_keys_get(c, &keys);
	if (rc < 0)
		goto out;
	rc = spa_client_build(c, &keys, p);
	if (rc < 0)
		goto out;
	spa_client_gpg_dump_init(c, &g);
	if (c->test || c->verbose)
		spa_client_dump(stdout, &p->msg, &p->info,
				keys.have_hmac ? c->hmac_type : SPA_HMAC_NONE,
				c->use_gpg ? SPA_MODE_ASYMMETRIC : c->enc_mode,
				c->use_gpg ? &g : NULL, p->wire);
	if (c->save_packet[0]) {
		rc = save_packet(c, p);
		if (rc < 0)
			goto out;
	}
	if (c->verbose)
		print_send_block(c, p);
	if (c->verbose && c->proto == SPA_CLIENT_PROTO_HTTP) {
		char req[SPA_WIRE_CAP + 512];

		if (spa_client_http_request(c, p, req, sizeof(req)) > 0)
			printf("%s\n", req);
	}
	if (c->test) {
		/* fwknop capitalises this line in HTTP mode only. */
		printf("%cest mode enabled, SPA packet not actually sent.\n",
		       c->proto == SPA_CLIENT_PROTO_HTTP ? 'T' : 't');
		if (c->verbose) {
			printf("send_spa_packet: bytes sent: 0\n\n");
			rc = spa_client_dump_decoded(stdout, c, &keys, p);
		}
		goto out;
	}
	fflush(stdout);
	rc = spa_client_send(c, p, &sent);
	if (rc == 0 && c->verbose)
		printf("send_spa_packet: bytes sent: %zu\n", sent);
out:
	spa_client_keys_wipe(&keys);
	spa_wipe(p, sizeof(*p));
	free(p);
	return rc;
}

/* Keys given as arguments are copied by now; blanking them in argv takes
 * them out of /proc/<pid>/cmdline for the rest of the run. */
static void hide_secrets(const struct spa_cmdline *cl)
{
	for (size_t i = 0; i < cl->n; i++) {
		char *v = (char *)cl->items[i].value;

		if (cl->items[i].def->secret && v)
			spa_wipe(v, strlen(v));
	}
}

static int run(struct spa_client_cfg *c, const struct spa_cmdline *cl)
{
	char rc_path[PATH_MAX], run_path[PATH_MAX];
	int rc;

	rc = load_rc(cl, c, rc_path, sizeof(rc_path));
	if (rc == 0)
		rc = spa_cmdline_apply(cl, c);
	if (rc < 0)
		return rc;
	hide_secrets(cl);
	if (c->keygen)
		return do_keygen(c, rc_path);
	if (c->stanza_list) {
		if (!rc_path[0]) {
			fprintf(stderr, "spa-client: --stanza-list needs an rc file\n");
			return -SPA_CE_USAGE;
		}
		return spa_client_rc_list(rc_path, stdout);
	}
	if (c->save_rc) {
		const char *stanza = c->stanza[0] ? c->stanza : c->server;

		if (!stanza[0] || !rc_path[0]) {
			fprintf(stderr, "spa-client: --save-rc-stanza needs -n or -D "
				"and an rc file\n");
			return -SPA_CE_USAGE;
		}
		rc = spa_client_rc_save_stanza(rc_path, stanza, c);
		if (rc < 0)
			return rc;
	}
	if (!c->no_save_args) {
		rc = args_path(cl, run_path, sizeof(run_path));
		if (rc == 0)
			rc = spa_client_args_save(run_path, cl);
		if (rc < 0)
			return rc;
	}
	return run_packet(c);
}

int spa_client_main(int argc, char **argv)
{
	struct spa_client_cfg *c = NULL;
	struct spa_cmdline cl = { 0 };
	char path[PATH_MAX];
	char **re_argv = NULL;
	int re_argc = 0, rc;

	rc = spa_cmdline_parse(argc, argv, &cl);
	if (rc < 0)
		goto out;
	if (spa_cmdline_find(&cl, SPA_OPT_HELP)) {
		spa_client_usage(stdout);
		goto out;
	}
	if (spa_cmdline_find(&cl, SPA_OPT_VERSION)) {
		printf("%s\n", SPA_CLIENT_VERSION_LINE);
		goto out;
	}
	if (spa_cmdline_find(&cl, SPA_OPT_SHOW_LAST) ||
	    spa_cmdline_find(&cl, SPA_OPT_LAST_CMD)) {
		rc = args_path(&cl, path, sizeof(path));
		if (rc == 0 && spa_cmdline_find(&cl, SPA_OPT_SHOW_LAST)) {
			rc = spa_client_args_show(path, stdout);
			goto out;
		}
		if (rc == 0)
			rc = spa_client_args_load(path, argv[0], &re_argc, &re_argv);
		if (rc < 0)
			goto out;
		spa_cmdline_free(&cl);
		rc = spa_cmdline_parse(re_argc, re_argv, &cl);
		if (rc < 0)
			goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		rc = -SPA_E_NOMEM;
		goto out;
	}
	spa_client_cfg_init(c);
	rc = run(c, &cl);
out:
	if (c) {
		spa_client_cfg_free(c);
		free(c);
	}
	spa_cmdline_free(&cl);
	spa_client_args_free(re_argc, re_argv);
	fflush(stdout);
	return rc < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
