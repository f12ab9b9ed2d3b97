/* SPDX-License-Identifier: MIT */
/*
 * Where the keys come from: options or rc variables, a key file (-G),
 * stdin, a file descriptor, or a prompt on the terminal without echo.
 * In GnuPG mode the first of them is the signing key's passphrase.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "spa_client.h"

void spa_client_keys_wipe(struct spa_client_keys *k)
{
	spa_wipe(k, sizeof(*k));
}

/* Reads up to a newline or EOF; the newline is not kept. */
static int read_fd_line(int fd, char *out, size_t cap)
{
	size_t n = 0;

	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -SPA_CE_KEY;
		if (r == 0 || ch == '\n')
			break;
		if (n + 1 >= cap)
			return -SPA_CE_KEY;
		out[n++] = ch;
	}
	if (n && out[n - 1] == '\r')
		n--;
	out[n] = '\0';
	return n ? 0 : -SPA_CE_KEY;
}

static int prompt_tty(const char *what, char *out, size_t cap)
{
	struct termios old, quiet;
	int fd, rc;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || tcgetattr(fd, &old) < 0) {
		if (fd >= 0)
			close(fd);
		return -SPA_CE_KEY;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, what, strlen(what)) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &quiet) < 0) {
		close(fd);
		return -SPA_CE_KEY;
	}
	rc = read_fd_line(fd, out, cap);
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		rc = rc ? rc : -SPA_CE_KEY;
	close(fd);
	return rc;
}

int spa_client_key_file_lookup(const char *path, const char *server,
			       char *out, size_t cap)
{
	char line[1024];
	FILE *f;
	int rc = -SPA_CE_KEY;

	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "spa-client: cannot read key file %s: %s\n", path,
			strerror(errno));
		return -SPA_CE_KEY;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *name, *key;
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		name = p;
		p += strcspn(p, ":= \t\r\n");
		if (*p == '\0' || *p == '\n' || *p == '\r')
			continue;
		*p++ = '\0';
		p += strspn(p, ":= \t");
		key = p;
		key[strcspn(key, "\r\n")] = '\0';
		len = strlen(key);
		if (strcmp(name, server) != 0 || len == 0)
			continue;
		if (len < cap) {
			memcpy(out, key, len + 1);
			rc = 0;
		}
		break;
	}
	spa_wipe(line, sizeof(line));
	fclose(f);
	if (rc < 0)
		fprintf(stderr, "spa-client: no key for '%s' in %s\n", server, path);
	return rc;
}

static int to_bytes(const char *text, bool b64, uint8_t *out, size_t cap,
		    size_t max, size_t *len, const char *what)
{
	size_t n = strlen(text);

	if (b64) {
		if (spa_key_from_base64(text, out, cap, len) < 0 || *len == 0 ||
		    *len > max) {
			fprintf(stderr, "spa-client: %s is not valid base64 of 1-%zu bytes\n",
				what, max);
			return -SPA_CE_KEY;
		}
		return 0;
	}
	if (n == 0 || n > max) {
		fprintf(stderr, "spa-client: %s must be 1-%zu bytes\n", what, max);
		return -SPA_CE_KEY;
	}
	memcpy(out, text, n);
	*len = n;
	return 0;
}

/*
 * --stdin and --fd stand in for the prompts, as in fwknop: a key given as
 * an option, in the rc file or through a key file wins, and the stream is
 * read only for the keys still missing, the encryption key first and then
 * the HMAC key, one line each. read_fd_line reads byte by byte, so the
 * second line is still there for the HMAC key.
 */
static int key_stream(const struct spa_client_cfg *c)
{
	if (c->key_stdin)
		return STDIN_FILENO;
	return c->key_fd;
}

/* One secret's text from the first of its sources: the setting (an
 * option or the rc file), a key file, the stream, the prompt. */
struct key_source {
	const char *value;      /* "" when not set */
	bool value_b64;
	const char *file;       /* "" when not set */
	const char *prompt;
	const char *stream_err; /* the messages when those fail */
	const char *prompt_err;
};

static int key_text(const struct spa_client_cfg *c, const struct key_source *s,
		    char *text, size_t cap, bool *b64)
{
	int rc, fd = key_stream(c);

	*b64 = false;
	if (s->value[0]) {
		snprintf(text, cap, "%s", s->value);
		*b64 = s->value_b64;
		return 0;
	}
	if (s->file[0])
		return spa_client_key_file_lookup(s->file, c->server, text, cap);
	if (fd >= 0) {
		rc = read_fd_line(fd, text, cap);
		if (rc < 0)
			fprintf(stderr, "spa-client: %s\n", s->stream_err);
		return rc;
	}
	rc = prompt_tty(s->prompt, text, cap);
	if (rc < 0)
		fprintf(stderr, "spa-client: %s\n", s->prompt_err);
	return rc;
}

static int get_enc(const struct spa_client_cfg *c, struct spa_client_keys *k)
{
	const struct key_source src = {
		c->key, c->key_is_b64, c->key_file, "Enter encryption key: ",
		"could not read the encryption key",
		"no encryption key given (use --key-rijndael, "
		"--key-base64-rijndael, -G, --stdin, --fd or KEY in the rc file)",
	};
	char text[SPA_CLIENT_KEY_CAP];
	bool b64;
	int rc = key_text(c, &src, text, sizeof(text), &b64);

	if (rc == 0)
		rc = to_bytes(text, b64, k->enc, sizeof(k->enc), SPA_MAX_KEY_LEN,
			      &k->enc_len, "encryption key");
	spa_wipe(text, sizeof(text));
	return rc;
}

static int get_hmac(const struct spa_client_cfg *c, struct spa_client_keys *k)
{
	const struct key_source src = {
		c->hmac_key, c->hmac_key_is_b64, c->hmac_key_file,
		"Enter HMAC key: ",
		"could not read the HMAC key (the line after the encryption key "
		"or signing passphrase, if that was read too)",
		"--use-hmac given but no HMAC key (use --key-hmac, "
		"--key-base64-hmac, --get-hmac-key, --stdin, --fd or HMAC_KEY in "
		"the rc file)",
	};
	char text[SPA_CLIENT_KEY_CAP];
	bool b64;
	int rc = key_text(c, &src, text, sizeof(text), &b64);

	if (rc == 0)
		rc = to_bytes(text, b64, k->hmac, sizeof(k->hmac),
			      SPA_MAX_HMAC_KEY_LEN, &k->hmac_len, "HMAC key");
	spa_wipe(text, sizeof(text));
	return rc;
}

/* The passphrase as gpg gets it: base64 decoded when it came from a
 * *_BASE64 setting; one line of text, so no NUL and no newline. */
static int gpg_pw_set(const char *text, bool b64, struct spa_client_keys *k)
{
	uint8_t raw[SPA_CLIENT_KEY_CAP];
	size_t n = strlen(text);
	int rc = 0;

	if (b64 && (spa_key_from_base64(text, raw, sizeof(raw), &n) < 0 || n == 0)) {
		fprintf(stderr, "spa-client: the signing passphrase is not valid base64\n");
		rc = -SPA_CE_KEY;
	} else if (b64 && (memchr(raw, '\0', n) || memchr(raw, '\n', n))) {
		fprintf(stderr, "spa-client: the signing passphrase cannot contain a "
			"NUL or newline byte\n");
		rc = -SPA_CE_KEY;
	} else if (n == 0 || n >= sizeof(k->gpg_pw)) {
		fprintf(stderr, "spa-client: the signing passphrase must be 1-%zu "
			"bytes\n", sizeof(k->gpg_pw) - 1);
		rc = -SPA_CE_KEY;
	} else {
		memcpy(k->gpg_pw, b64 ? (const char *)raw : text, n);
		k->gpg_pw[n] = '\0';
		k->have_gpg_pw = true;
	}
	spa_wipe(raw, sizeof(raw));
	return rc;
}

/*
 * GnuPG mode: the signing key's passphrase comes from where the Rijndael
 * key would (KEY or its synonym GPG_SIGNING_PW, -G, --stdin or --fd, the
 * prompt), read before the HMAC key as fwknop does. None is wanted
 * without a signer, with --gpg-agent (the agent asks with its own
 * pinentry, or has it cached) or with --gpg-no-signing-pw.
 */
static int get_gpg_pw(const struct spa_client_cfg *c, struct spa_client_keys *k)
{
	const struct key_source src = {
		c->key, c->key_is_b64, c->key_file,
		"Enter passphrase for signing: ",
		"could not read the signing passphrase",
		"no passphrase for the signing key (use GPG_SIGNING_PW in the rc "
		"file, -G, --stdin, --fd, --gpg-agent, or --gpg-no-signing-pw for "
		"a key without one)",
	};
	char text[SPA_CLIENT_KEY_CAP];
	bool b64;
	int rc;

	if (!c->gpg_signer[0] || c->gpg_agent || c->gpg_no_signing_pw)
		return 0;
	rc = key_text(c, &src, text, sizeof(text), &b64);
	if (rc == 0)
		rc = gpg_pw_set(text, b64, k);
	spa_wipe(text, sizeof(text));
	return rc;
}

int spa_client_keys_get(const struct spa_client_cfg *c,
			struct spa_client_keys *k)
{
	int rc;

	memset(k, 0, sizeof(*k));
	rc = c->use_gpg ? get_gpg_pw(c, k) : get_enc(c, k);
	if (rc == 0 && c->use_hmac) {
		rc = get_hmac(c, k);
		k->have_hmac = rc == 0;
	}
	if (rc < 0)
		spa_client_keys_wipe(k);
	return rc;
}

int spa_client_keygen(const struct spa_client_cfg *c, FILE *out,
		      char *key_b64, size_t key_cap,
		      char *hmac_b64, size_t hmac_cap)
{
	int rc;

	rc = spa_keygen(c->key_len, c->hmac_key_len, c->hmac_type, key_b64,
			key_cap, hmac_b64, hmac_cap);
	if (rc < 0) {
		fprintf(stderr, "spa-client: key generation failed: %s\n",
			spa_strerror(rc));
		return rc;
	}
	if (out && fprintf(out, "KEY_BASE64: %s\nHMAC_KEY_BASE64: %s\n",
			   key_b64, hmac_b64) < 0)
		return -SPA_CE_IO;
	return 0;
}
