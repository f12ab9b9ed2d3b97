/* SPDX-License-Identifier: MIT */
/*
 * GPGME set-up for the GnuPG modules: one-time library init, a context per
 * call, the passphrase bridge and the bounded output sink.
 *
 * Why a context per call rather than per key set: a context carries the
 * last operation's results and signers, so a shared one would need a lock
 * and care to leak nothing between stanzas; creating one is microseconds
 * next to the gpg process every operation starts anyway.
 */
#include "spa_gpg_internal.h"
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define SPA_GPG_PASSPHRASE_MAX 512

static pthread_once_t spa_gpg_once = PTHREAD_ONCE_INIT;
static bool spa_gpg_ready;

static void spa_gpg_init_once(void)
{
	/* GPGME's own rule: this call initialises it and must come first */
	spa_gpg_ready = gpgme_check_version(NULL) != NULL;
}

int spa_gpg_init(void)
{
	pthread_once(&spa_gpg_once, spa_gpg_init_once);
	return spa_gpg_ready ? 0 : -SPA_E_GPG;
}

int spa_gpg_error(gpgme_error_t e)
{
	switch (gpgme_err_code(e)) {
	case GPG_ERR_NO_ERROR:
		return 0;
	case GPG_ERR_ENOMEM:
		return -SPA_E_NOMEM;
	case GPG_ERR_BAD_PASSPHRASE:
	case GPG_ERR_NO_PASSPHRASE:
	case GPG_ERR_CANCELED:
		return -SPA_E_GPG_PASSPHRASE;
	case GPG_ERR_NO_SECKEY:
		return -SPA_E_GPG_NOSECKEY;
	case GPG_ERR_NO_PUBKEY:
	case GPG_ERR_EOF:               /* gpgme_get_key: no such key */
	case GPG_ERR_AMBIGUOUS_NAME:
	case GPG_ERR_UNUSABLE_PUBKEY:
	case GPG_ERR_UNUSABLE_SECKEY:
	case GPG_ERR_INV_USER_ID:
	case GPG_ERR_KEY_EXPIRED:
	case GPG_ERR_CERT_REVOKED:
		return -SPA_E_GPG_KEY;
	case GPG_ERR_NO_DATA:
	case GPG_ERR_BAD_DATA:
	case GPG_ERR_INV_PACKET:
	case GPG_ERR_INV_DATA:
	case GPG_ERR_BAD_MPI:
	case GPG_ERR_CHECKSUM:
	case GPG_ERR_DECRYPT_FAILED:
	case GPG_ERR_WRONG_SECKEY:      /* a session key packet decrypting to junk */
	case GPG_ERR_UNKNOWN_PACKET:
	case GPG_ERR_UNEXPECTED:
	case GPG_ERR_TRUNCATED:
	case GPG_ERR_UNSUPPORTED_ALGORITHM:
	case GPG_ERR_CIPHER_ALGO:
	case GPG_ERR_PUBKEY_ALGO:
	case GPG_ERR_DIGEST_ALGO:
	case GPG_ERR_COMPR_ALGO:
		return -SPA_E_GPG_BADDATA;
	default:
		return -SPA_E_GPG;
	}
}

/* GPGME's passphrase callback in front of the caller's: the passphrase
 * goes from a stack buffer to gpg's pipe and is wiped at once. */
static gpgme_error_t spa_gpg_passphrase(void *hook, const char *uid_hint,
					const char *info, int prev_was_bad,
					int fd)
{
	const struct spa_gpg_opts *o = hook;
	char pw[SPA_GPG_PASSPHRASE_MAX];
	gpgme_error_t err = 0;
	size_t n;

	(void)info;
	/* No answer is better than a loop: a wrong passphrase stays wrong. */
	if (!o->passphrase || prev_was_bad)
		return gpgme_error(prev_was_bad ? GPG_ERR_BAD_PASSPHRASE
					       : GPG_ERR_NO_PASSPHRASE);
	memset(pw, 0, sizeof(pw));
	if (o->passphrase(o->passphrase_arg, uid_hint ? uid_hint : "",
			  prev_was_bad != 0, pw, sizeof(pw)) < 0) {
		err = gpgme_error(GPG_ERR_CANCELED);
		goto out;
	}
	n = strnlen(pw, sizeof(pw));
	/* gpg reads one line: a newline would cut the passphrase short */
	if (n == sizeof(pw) || memchr(pw, '\n', n)) {
		err = gpgme_error(GPG_ERR_BAD_PASSPHRASE);
		goto out;
	}
	pw[n] = '\n';
	if (gpgme_io_writen(fd, pw, n + 1) != 0)
		err = gpgme_error_from_errno(errno);
out:
	spa_wipe(pw, sizeof(pw));
	return err;
}

int spa_gpg_ctx_new(const struct spa_gpg_opts *o, gpgme_ctx_t *out)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_engine_info_t info;
	gpgme_error_t e;
	int rc = spa_gpg_init();

	if (rc < 0)
		return rc;
	e = gpgme_new(&ctx);
	if (e)
		return spa_gpg_error(e);
	e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP);
	if (!e)
		e = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP,
					      o->gpg_exe, o->home_dir);
	/* loopback: gpg-agent asks us, never a terminal or a display */
	if (!e && !o->agent_pinentry)
		e = gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
	info = e ? NULL : gpgme_ctx_get_engine_info(ctx);
	/* GPGME reports a gpg it cannot start as "no such key" */
	if (!info || !info->file_name || access(info->file_name, X_OK) != 0) {
		gpgme_release(ctx);
		return -SPA_E_GPG;
	}
	gpgme_set_armor(ctx, 0);
	/* no keyserver, CRL or OCSP lookups on a packet's behalf */
	gpgme_set_offline(ctx, 1);
	if (!o->agent_pinentry)
		gpgme_set_passphrase_cb(ctx, spa_gpg_passphrase, (void *)o);
	*out = ctx;
	return 0;
}

static ssize_t spa_gpg_sink_write(void *handle, const void *buf, size_t size)
{
	struct spa_gpg_sink *s = handle;

	if (size > s->cap - s->len) {
		s->overflow = true;
		errno = EFBIG;
		return -1;
	}
	memcpy(s->buf + s->len, buf, size);
	s->len += size;
	return (ssize_t)size;
}

int spa_gpg_sink_data(struct spa_gpg_sink *s, gpgme_data_t *out)
{
	static struct gpgme_data_cbs cbs = { .write = spa_gpg_sink_write };

	s->len = 0;
	s->overflow = false;
	return gpgme_data_new_from_cbs(out, &cbs, s) ? -SPA_E_NOMEM : 0;
}
