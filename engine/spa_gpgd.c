/* SPDX-License-Identifier: MIT */
/* spa_gpgd.c - the GnuPG helper of the packet process (spa_gpgd.h). */
#include "spa_gpgd.h"

#include <dirent.h>
#include <errno.h>
#include <linux/securebits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "spa_sandbox.h"

#define MAX_THREADS 64

#define bad spa_privsep_bad

bool spa_gpgd_wanted(const struct spa_config *c)
{
	for (size_t i = 0; i < c->n_stanzas; i++)
		if (c->stanzas[i].gpg && c->stanzas[i].gpg->enabled)
			return true;
	return false;
}

bool spa_gpgd_pack_req(uint64_t id, uint64_t generation, int32_t stanza, const char *wire,
		       size_t len, struct spa_gpgd_req *out)
{
	memset(out, 0, sizeof(*out));
	if (len >= sizeof(out->wire))
		return false;
	out->magic = SPA_GPGD_MAGIC;
	out->type = SPA_GPGD_REQ;
	out->id = id;
	out->generation = generation;
	out->stanza = stanza;
	out->len = (uint32_t)len;
	memcpy(out->wire, wire, len);
	return true;
}

int spa_gpgd_check_req(const struct spa_config *c, const void *buf, size_t n, char *why,
		       size_t cap)
{
	struct spa_gpgd_req q;

	if (n != sizeof(q))
		return bad(why, cap, "request of %zu bytes", n);
	memcpy(&q, buf, sizeof(q));
	if (q.magic != SPA_GPGD_MAGIC || q.type != SPA_GPGD_REQ)
		return bad(why, cap, "not a request");
	if (q.generation != c->generation)
		return bad(why, cap, "request for configuration %llu",
			   (unsigned long long)q.generation);
	if (q.stanza < 0 || (size_t)q.stanza >= c->n_stanzas || !c->stanzas[q.stanza].gpg ||
	    !c->stanzas[q.stanza].gpg->enabled)
		return bad(why, cap, "stanza %d has no GnuPG", (int)q.stanza);
	if (q.len >= sizeof(q.wire))
		return bad(why, cap, "wire text of %u bytes", q.len);
	return 0;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
}

void spa_gpgd_pack_rep(const struct spa_gpgd_req *q, int rc, const struct spa_message *m,
		       const struct spa_gpg_result *r, struct spa_gpgd_rep *out)
{
	memset(out, 0, sizeof(*out));
	out->magic = SPA_GPGD_MAGIC;
	out->type = SPA_GPGD_REP;
	out->id = q->id;
	out->generation = q->generation;
	out->stanza = q->stanza;
	out->rc = rc;
	if (rc != 0)
		return;
	copy_str(out->msg.username, sizeof(out->msg.username), m->username);
	out->msg.timestamp = m->timestamp;
	out->msg.type = m->type;
	copy_str(out->msg.message, sizeof(out->msg.message), m->message);
	out->msg.client_timeout = m->client_timeout;
	out->sig = r->sig;
	out->validity = r->validity;
	copy_str(out->fingerprint, sizeof(out->fingerprint), r->fingerprint);
	copy_str(out->key_id, sizeof(out->key_id), r->key_id);
	copy_str(out->msg_digest, sizeof(out->msg_digest), r->msg_digest);
}

static bool terminated(const char *s, size_t cap, const char *alphabet, size_t min, size_t max)
{
	const char *end = memchr(s, '\0', cap);
	size_t n;

	if (!end)
		return false;
	n = (size_t)(end - s);
	if (n != 0 && (n < min || n > max))
		return false;
	if (!alphabet) {
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
				return false;
		return true;
	}
	return strspn(s, alphabet) == n;
}

#define HEX_UPPER "0123456789ABCDEF"
#define B64 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

int spa_gpgd_check_rep(const void *buf, size_t n, struct spa_message *m,
		       struct spa_gpg_result *r, char *why, size_t cap)
{
	struct spa_gpgd_rep p;

	memset(m, 0, sizeof(*m));
	memset(r, 0, sizeof(*r));
	if (n != sizeof(p))
		return bad(why, cap, "reply of %zu bytes", n);
	memcpy(&p, buf, sizeof(p));
	if (p.magic != SPA_GPGD_MAGIC || p.type != SPA_GPGD_REP)
		return bad(why, cap, "not a reply");
	if (p.rc > 0 || p.rc <= -SPA_E__COUNT)
		return bad(why, cap, "result %d", (int)p.rc);
	if (p.rc < 0)
		return 0;
	if (!terminated(p.msg.username, sizeof(p.msg.username), NULL, 1, 63) ||
	    spa_validate_username(p.msg.username) < 0)
		return bad(why, cap, "username not valid");
	if (!terminated(p.msg.message, sizeof(p.msg.message), NULL, 1, sizeof(p.msg.message) - 1))
		return bad(why, cap, "message not terminated printable text");
	if (p.sig < SPA_GPG_SIG_NONE || p.sig > SPA_GPG_SIG_REVOKED ||
	    p.validity < SPA_GPG_VALIDITY_UNKNOWN || p.validity > SPA_GPG_VALIDITY_ULTIMATE)
		return bad(why, cap, "signature state %d / validity %d", (int)p.sig,
			   (int)p.validity);
	if (!terminated(p.fingerprint, sizeof(p.fingerprint), HEX_UPPER, 40, SPA_GPG_FPR_MAX) ||
	    !terminated(p.key_id, sizeof(p.key_id), HEX_UPPER, 16, 16) ||
	    (p.fingerprint[0] && strcmp(p.fingerprint + strlen(p.fingerprint) - 16, p.key_id)))
		return bad(why, cap, "signer ids not hex of the right lengths");
	if (!terminated(p.msg_digest, sizeof(p.msg_digest), B64, 43, 43) || !p.msg_digest[0])
		return bad(why, cap, "plaintext digest not 43 base64 characters");
	copy_str(m->username, sizeof(m->username), p.msg.username);
	m->timestamp = p.msg.timestamp;
	m->type = p.msg.type;
	copy_str(m->message, sizeof(m->message), p.msg.message);
	m->client_timeout = p.msg.client_timeout;
	r->sig = p.sig;
	r->validity = p.validity;
	copy_str(r->fingerprint, sizeof(r->fingerprint), p.fingerprint);
	copy_str(r->key_id, sizeof(r->key_id), p.key_id);
	/* the short id is the key id's last 8 hex digits (spa_wire.h); r
	 * was zeroed, so it stays terminated */
	if (strlen(r->key_id) == sizeof(r->key_id) - 1)
		memcpy(r->short_id, r->key_id + 8, sizeof(r->short_id) - 1);
	copy_str(r->msg_digest, sizeof(r->msg_digest), p.msg_digest);
	return 0;
}

/* ---- the helper -------------------------------------------------------- */

struct gpgd {
	const struct spa_config *c;
	int fd;
};

/* GPG_DECRYPT_PW; asked once per gpg run, never again after a wrong one */
static int give_pw(void *arg, const char *key_hint, bool retry, char *buf, size_t cap)
{
	const struct spa_stanza_gpg *g = arg;
	size_t n = strlen(g->decrypt_pw);

	(void)key_hint;
	if (retry || n + 1 > cap)
		return -1;
	memcpy(buf, g->decrypt_pw, n + 1);
	return 0;
}

static void serve_one(const struct gpgd *h, const struct spa_gpgd_req *q)
{
	const struct spa_stanza_gpg *g = h->c->stanzas[q->stanza].gpg;
	struct spa_gpg_opts o = {
		.home_dir = g->home_dir[0] ? g->home_dir : h->c->gpg_home_dir,
		.gpg_exe = g->exe[0] ? g->exe : h->c->gpg_exe,
		/* GPG_ALLOW_NO_PW alone: the key has none */
		.passphrase = g->has_decrypt_pw ? give_pw : NULL,
		.passphrase_arg = (void *)g,
	};
	struct spa_message m;
	struct spa_gpg_result r;
	struct spa_gpgd_rep rep;
	int rc;

	if (!o.home_dir[0])
		o.home_dir = NULL;
	if (!o.gpg_exe[0])
		o.gpg_exe = NULL;
	rc = spa_gpg_open(&o, q->wire, q->len, g->hmac_keys, &m, &r);
	spa_gpgd_pack_rep(q, rc, &m, &r, &rep);
	explicit_bzero(&m, sizeof(m));
	while (send(h->fd, &rep, sizeof(rep), MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
	explicit_bzero(&rep, sizeof(rep));
}

/* Each thread takes whole requests from the one socket: a SOCK_SEQPACKET
 * recv never splits or merges them. */
static void *serve_thread(void *arg)
{
	const struct gpgd *h = arg;
	union {
		struct spa_gpgd_req q;
		char raw[sizeof(struct spa_gpgd_req) + 1];
	} buf;
	char why[128];

	for (;;) {
		ssize_t n = recv(h->fd, &buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* a request that breaks the protocol: the packet process is
		 * not the program that started us; end, it will notice */
		if (spa_gpgd_check_req(h->c, &buf, (size_t)n, why, sizeof(why)) < 0)
			_exit(2);
		serve_one(h, &buf.q);
		explicit_bzero(&buf, sizeof(buf));
	}
	return NULL;
}

int spa_gpgd_serve(const struct spa_config *c, int fd, unsigned threads)
{
	struct gpgd h = { .c = c, .fd = fd };
	pthread_t t[MAX_THREADS];
	unsigned started = 0;
	int rc = spa_gpg_init();

	if (rc < 0)
		return rc;
	if (threads == 0)
		threads = 1;
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	while (started + 1 < threads && pthread_create(&t[started], NULL, serve_thread, &h) == 0)
		started++;
	serve_thread(&h);
	for (unsigned i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	return 0;
}

/* Everything but stdin/out/err (gpg expects them) and keep. */
static void close_all_but(int keep)
{
	DIR *dir = opendir("/proc/self/fd");
	int fds[256], n = 0;
	struct dirent *e;

	if (!dir) {
		for (int fd = 3; fd < 65536; fd++)
			if (fd != keep)
				close(fd);
		return;
	}
	while ((e = readdir(dir)) && n < (int)(sizeof(fds) / sizeof(fds[0]))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] != '.' && fd > 2 && fd != keep && fd != dirfd(dir))
			fds[n++] = fd;
	}
	closedir(dir);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	if (n == (int)(sizeof(fds) / sizeof(fds[0])))
		close_all_but(keep);
}

static _Noreturn void helper_main(struct spa_config *c, int fd, pid_t parent)
{
	sigset_t none;
	char err[256];

	/* dies with the packet process, whatever killed it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	close_all_but(fd);
	/* a ^C at spad's terminal goes to spad's process group: the monitor
	 * handles it, the helper (and the gpg it runs) must not die of it */
	(void)setpgid(0, 0);
	/* gpg and gpg-agent inherit the mask: the packet process's blocked
	 * TERM/HUP/INT must not be theirs */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* The Rijndael keys are the packet process's business, not ours. */
	for (size_t i = 0; i < c->n_stanzas; i++) {
		spa_keys_free(c->stanzas[i].keys);
		c->stanzas[i].keys = NULL;
	}
	/* uid 0 keeps owning root's keyring, but as root no more than any
	 * user: no capability now, none from an exec (an empty bounding set,
	 * and with these bits uid 0 is not special to exec); EPERM when not
	 * root, where there is nothing to lock */
	(void)prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
		    SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED, 0, 0, 0);
	if (spa_sandbox_drop_caps(err, sizeof(err)) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		(void)!write(2, "spad GnuPG helper: cannot drop privileges\n", 42);
		_exit(1);
	}
	_exit(spa_gpgd_serve(c, fd, c->gpg_max_concurrent) < 0 ? 1 : 0);
}

int spa_gpgd_start(struct spa_config *c, int *fd, pid_t *pid)
{
	pid_t parent = getpid();
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	*pid = fork();
	if (*pid < 0) {
		rc = -errno;
		close(sv[0]);
		close(sv[1]);
		return rc;
	}
	if (*pid == 0) {
		close(sv[0]);
		helper_main(c, sv[1], parent);
	}
	close(sv[1]);
	*fd = sv[0];
	return 0;
}
