/* SPDX-License-Identifier: MIT */
/*
 * The option table and the command-line scanner. Option names and rc
 * variable names follow fwknop 2.6.10 so existing habits and files work.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spa_client.h"

#define R SPA_ARG_REQUIRED
#define F SPA_ARG_NONE

/* Rows sharing an rc name must list the rc-only row first: lookups by rc
 * name return the first match. */
const struct spa_opt_def spa_opt_table[] = {
	{ SPA_OPT_ACCESS, "access", 'A', R, "ACCESS", NULL, false },
	{ SPA_OPT_ALLOW_IP, "allow-ip", 'a', R, "ALLOW_IP", NULL, false },
	{ SPA_OPT_SOURCE_IP, "source-ip", 's', F, "ALLOW_IP", "source", false },
	{ SPA_OPT_DEST, "destination", 'D', R, "SPA_SERVER", NULL, false },
	{ SPA_OPT_IPV4, "server-resolve-ipv4", '4', F, "SERVER_RESOLVE_IPV4", "Y", false },
	{ SPA_OPT_IPV6, "server-resolve-ipv6", '6', F, NULL, NULL, false },
	{ SPA_OPT_SERVER_PORT, "server-port", 'p', R, "SPA_SERVER_PORT", NULL, false },
	{ SPA_OPT_PROTO, "server-proto", 'P', R, "SPA_SERVER_PROTO", NULL, false },
	{ SPA_OPT_RAND_PORT, "rand-port", 'r', F, "RAND_PORT", "Y", false },
	{ SPA_OPT_SOURCE_PORT, "source-port", 'S', R, "SPA_SOURCE_PORT", NULL, false },
	{ SPA_OPT_FW_TIMEOUT, "fw-timeout", 'f', R, "FW_TIMEOUT", NULL, false },
	{ SPA_OPT_SPOOF_USER, "spoof-user", 'U', R, "SPOOF_USER", NULL, false },
	{ SPA_OPT_DIGEST, "digest-type", 'm', R, "DIGEST_TYPE", NULL, false },
	{ SPA_OPT_HMAC_DIGEST, "hmac-digest-type", 0, R, "HMAC_DIGEST_TYPE", NULL, false },
	{ SPA_OPT_ENC_MODE, "encryption-mode", 'M', R, "ENCRYPTION_MODE", NULL, false },
	{ SPA_OPT_KEY, "key-rijndael", 0, R, "KEY", NULL, true },
	{ SPA_OPT_KEY_B64, "key-base64-rijndael", 0, R, "KEY_BASE64", NULL, true },
	{ SPA_OPT_HMAC_KEY, "key-hmac", 0, R, "HMAC_KEY", NULL, true },
	{ SPA_OPT_HMAC_KEY_B64, "key-base64-hmac", 0, R, "HMAC_KEY_BASE64", NULL, true },
	{ SPA_OPT_USE_HMAC, "use-hmac", 0, F, "USE_HMAC", "Y", false },
	{ SPA_OPT_GET_KEY, "get-key", 'G', R, "KEY_FILE", NULL, false },
	{ SPA_OPT_GET_HMAC_KEY, "get-hmac-key", 0, R, "HMAC_KEY_FILE", NULL, false },
	{ SPA_OPT_STDIN, "stdin", 0, F, NULL, NULL, false },
	{ SPA_OPT_FD, "fd", 0, R, NULL, NULL, false },
	{ SPA_OPT_KEYGEN, "key-gen", 'k', F, NULL, NULL, false },
	{ SPA_OPT_KEYGEN_FILE, "key-gen-file", 'K', R, NULL, NULL, false },
	{ SPA_OPT_KEY_LEN, "key-len", 0, R, NULL, NULL, false },
	{ SPA_OPT_HMAC_KEY_LEN, "hmac-key-len", 0, R, NULL, NULL, false },
	{ SPA_OPT_TIME_OFFSET, NULL, 0, R, "TIME_OFFSET", NULL, false },
	{ SPA_OPT_TIME_PLUS, "time-offset-plus", 0, R, "TIME_OFFSET", NULL, false },
	{ SPA_OPT_TIME_MINUS, "time-offset-minus", 0, R, "TIME_OFFSET", NULL, false },
	{ SPA_OPT_SERVER_CMD, "server-cmd", 'C', R, NULL, NULL, false },
	{ SPA_OPT_NAT, "nat-access", 'N', R, "NAT_ACCESS", NULL, false },
	{ SPA_OPT_NAT_LOCAL, "nat-local", 0, F, "NAT_LOCAL", "Y", false },
	{ SPA_OPT_NAT_PORT, "nat-port", 0, R, "NAT_PORT", NULL, false },
	{ SPA_OPT_NAT_RAND_PORT, "nat-rand-port", 0, F, "NAT_RAND_PORT", "Y", false },
	{ SPA_OPT_USER_AGENT, "user-agent", 'u', R, "HTTP_USER_AGENT", NULL, false },
	{ SPA_OPT_TEST, "test", 'T', F, NULL, NULL, false },
	{ SPA_OPT_SAVE_PACKET, "save-packet", 'B', R, NULL, NULL, false },
	{ SPA_OPT_SAVE_PACKET_APPEND, "save-packet-append", 'b', F, NULL, NULL, false },
	{ SPA_OPT_VERBOSE, "verbose", 'v', F, "VERBOSE", "Y", false },
	{ SPA_OPT_SAVE_RC, "save-rc-stanza", 0, F, NULL, NULL, false },
	{ SPA_OPT_FORCE_STANZA, "force-stanza", 0, F, NULL, NULL, false },
	{ SPA_OPT_STANZA_LIST, "stanza-list", 0, F, NULL, NULL, false },
	{ SPA_OPT_NAMED, "named-config", 'n', R, NULL, NULL, false },
	{ SPA_OPT_RC_FILE, "rc-file", 0, R, NULL, NULL, false },
	{ SPA_OPT_NO_RC_FILE, "no-rc-file", 0, F, NULL, NULL, false },
	{ SPA_OPT_NO_SAVE_ARGS, "no-save-args", 0, F, "NO_SAVE_ARGS", "Y", false },
	{ SPA_OPT_ARGS_FILE, "save-args-file", 'E', R, NULL, NULL, false },
	{ SPA_OPT_LAST_CMD, "last-cmd", 'l', F, NULL, NULL, false },
	{ SPA_OPT_SHOW_LAST, "show-last", 0, F, NULL, NULL, false },
	{ SPA_OPT_VERSION, "version", 'V', F, NULL, NULL, false },
	{ SPA_OPT_HELP, "help", 'h', F, NULL, NULL, false },
	{ SPA_OPT_USE_GPG, "gpg-encryption", 'g', F, "USE_GPG", "Y", false },
	{ SPA_OPT_GPG_AGENT, "gpg-agent", 0, F, "USE_GPG_AGENT", "Y", false },
	{ SPA_OPT_GPG_RECIPIENT, "gpg-recipient-key", 0, R, "GPG_RECIPIENT", NULL, false },
	{ SPA_OPT_GPG_SIGNER, "gpg-signer-key", 0, R, "GPG_SIGNER", NULL, false },
	{ SPA_OPT_GPG_HOME, "gpg-home-dir", 0, R, "GPG_HOMEDIR", NULL, false },
	{ SPA_OPT_GPG_EXE, "gpg-exe", 0, R, "GPG_EXE", NULL, false },
	{ SPA_OPT_GPG_NO_PW, "gpg-no-signing-pw", 0, F, "GPG_NO_SIGNING_PW", "Y", false },
	/* The signing passphrase only ever comes from the rc file (or a
	 * prompt, a stream, a key file): never from argv. */
	{ SPA_OPT_GPG_PW, NULL, 0, R, "GPG_SIGNING_PW", NULL, true },
	{ SPA_OPT_GPG_PW_B64, NULL, 0, R, "GPG_SIGNING_PW_BASE64", NULL, true },
	{ SPA_OPT_RESOLVE, "resolve-ip-https", 'R', F, "RESOLVE_IP_HTTPS", "Y", false },
	{ SPA_OPT_RESOLVE, "resolve-ip-http", 0, F, "RESOLVE_IP_HTTP", "Y", false },
	{ SPA_OPT_RESOLVE_HTTP_ONLY, "resolve-http-only", 0, F, "RESOLVE_HTTP_ONLY", "Y", false },
	{ SPA_OPT_RESOLVE_URL, "resolve-url", 0, R, "RESOLVE_URL", NULL, false },
	{ SPA_OPT_SPOOF_SRC, "spoof-source", 'Q', R, "SPOOF_SOURCE_IP", NULL, false },
	{ SPA_OPT_SPOOF_SRC, "spoof-src", 0, R, "SPOOF_SOURCE_IP", NULL, false },
	{ SPA_OPT_HTTP_PROXY, "http-proxy", 'H', R, NULL, NULL, false },
	{ SPA_OPT_WGET_CMD, "wget-cmd", 'w', R, "WGET_CMD", NULL, false },
	{ SPA_OPT_USE_WGET_UA, "use-wget-user-agent", 0, F, "USE_WGET_USER_AGENT", "Y", false },
	{ SPA_OPT_ICMP_TYPE, "icmp-type", 0, R, NULL, NULL, false },
	{ SPA_OPT_ICMP_CODE, "icmp-code", 0, R, NULL, NULL, false },
	{ SPA_OPT_UNSUPPORTED, "no-home-dir", 0, F, NULL, NULL, false },
};
const size_t spa_opt_count = sizeof(spa_opt_table) / sizeof(spa_opt_table[0]);

#undef R
#undef F

const struct spa_opt_def *spa_opt_by_rc_name(const char *name)
{
	for (size_t i = 0; i < spa_opt_count; i++) {
		if (spa_opt_table[i].rc_name &&
		    strcasecmp(spa_opt_table[i].rc_name, name) == 0)
			return &spa_opt_table[i];
	}
	return NULL;
}

const struct spa_opt_def *spa_opt_by_id(enum spa_opt_id id)
{
	for (size_t i = 0; i < spa_opt_count; i++) {
		if (spa_opt_table[i].id == id)
			return &spa_opt_table[i];
	}
	return NULL;
}

static void build_getopt(struct option *lo, char *so)
{
	size_t n = 0, s = 0;

	/* Leading ':' makes getopt report a missing argument as ':'. */
	so[s++] = ':';
	for (size_t i = 0; i < spa_opt_count; i++) {
		const struct spa_opt_def *d = &spa_opt_table[i];

		if (d->long_name) {
			lo[n].name = d->long_name;
			lo[n].has_arg = d->arg == SPA_ARG_REQUIRED ?
					required_argument : no_argument;
			lo[n].flag = NULL;
			lo[n].val = 256 + (int)i;
			n++;
		}
		if (d->short_name) {
			so[s++] = (char)d->short_name;
			if (d->arg == SPA_ARG_REQUIRED)
				so[s++] = ':';
		}
	}
	memset(&lo[n], 0, sizeof(lo[n]));
	so[s] = '\0';
}

static const struct spa_opt_def *row_for_short(int ch)
{
	for (size_t i = 0; i < spa_opt_count; i++) {
		if (spa_opt_table[i].short_name == ch)
			return &spa_opt_table[i];
	}
	return NULL;
}

int spa_cmdline_parse(int argc, char **argv, struct spa_cmdline *out)
{
	struct option *lo = NULL;
	char so[2 * 64 + 2];
	int ch, rc = 0;

	memset(out, 0, sizeof(*out));
	lo = calloc(spa_opt_count + 1, sizeof(*lo));
	out->items = calloc((size_t)argc + 1, sizeof(*out->items));
	if (!lo || !out->items) {
		rc = -SPA_E_NOMEM;
		goto out;
	}
	build_getopt(lo, so);
	opterr = 0;
	optind = 0;   /* 0 fully re-initialises glibc's scanner (for -l) */
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		const struct spa_opt_def *d;

		if (ch == '?' || ch == ':') {
			const char *bad = argv[optind - 1];

			fprintf(stderr, "spa-client: %s option '%s' (see --help)\n",
				ch == ':' ? "missing value for" : "unknown",
				optopt && ch == '?' && bad[1] != '-' ?
				(char[]){ '-', (char)optopt, 0 } : bad);
			rc = -SPA_CE_USAGE;
			goto out;
		}
		d = ch >= 256 ? &spa_opt_table[ch - 256] : row_for_short(ch);
		if (!d) {
			rc = -SPA_CE_USAGE;
			goto out;
		}
		out->items[out->n].def = d;
		out->items[out->n].value = optarg;
		out->n++;
	}
	if (optind < argc) {
		fprintf(stderr, "spa-client: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		rc = -SPA_CE_USAGE;
	}
out:
	free(lo);
	if (rc < 0)
		spa_cmdline_free(out);
	return rc;
}

void spa_cmdline_free(struct spa_cmdline *cl)
{
	free(cl->items);
	cl->items = NULL;
	cl->n = 0;
}

int spa_cmdline_apply(const struct spa_cmdline *cl, struct spa_client_cfg *c)
{
	for (size_t i = 0; i < cl->n; i++) {
		int rc = spa_client_apply(c, cl->items[i].def, cl->items[i].value,
					  SPA_SRC_CMDLINE, "command line");
		if (rc < 0)
			return rc;
	}
	return 0;
}

const struct spa_cmdline_item *spa_cmdline_find(const struct spa_cmdline *cl,
						enum spa_opt_id id)
{
	for (size_t i = 0; i < cl->n; i++) {
		if (cl->items[i].def->id == id)
			return &cl->items[i];
	}
	return NULL;
}
