/* SPDX-License-Identifier: MIT */
/* Throwaway GnuPG homes (gpg_home.h): gpg run directly, never by a shell. */
#include "gpg_home.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define GH_MAX_ARGS 24

/* Runs argv with stdin from /dev/null and stdout into out (cap bytes,
 * NUL-terminated; NULL: discarded); stderr is kept for failures only. */
static int gh_exec(char *const argv[], char *out, size_t cap)
{
	int pfd[2], status = 0;
	size_t len = 0;
	pid_t pid;

	if (pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(pfd[1], 1);
		close(pfd[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		char buf[512];
		ssize_t n = read(pfd[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out && len + (size_t)n < cap) {
			memcpy(out + len, buf, (size_t)n);
			len += (size_t)n;
		}
	}
	close(pfd[0]);
	if (out && cap)
		out[len] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* gpg --homedir home --batch ... then the NULL-terminated arguments. */
static int gh_gpg(const struct gpg_env *e, const char *home, char *out,
		  size_t cap, ...)
{
	char *argv[GH_MAX_ARGS];
	size_t n = 0;
	va_list ap;
	const char *a;

	argv[n++] = (char *)e->gpg;
	argv[n++] = "--homedir";
	argv[n++] = (char *)home;
	argv[n++] = "--batch";
	argv[n++] = "--no-tty";
	argv[n++] = "--quiet";
	argv[n++] = "--pinentry-mode";
	argv[n++] = "loopback";
	va_start(ap, cap);
	while ((a = va_arg(ap, const char *)) != NULL && n < GH_MAX_ARGS - 1)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	return gh_exec(argv, out, cap);
}

static int gh_mkhome(char *dst, size_t cap, const char *root, const char *name)
{
	FILE *f;
	char conf[160];

	if ((size_t)snprintf(dst, cap, "%s/%s", root, name) >= cap ||
	    mkdir(dst, 0700) < 0)
		return -1;
	/* no cached passphrases: a wrong one must fail every time */
	snprintf(conf, sizeof(conf), "%s/gpg-agent.conf", dst);
	f = fopen(conf, "w");
	if (!f)
		return -1;
	fputs("default-cache-ttl 0\nmax-cache-ttl 0\nallow-loopback-pinentry\n", f);
	return fclose(f) == 0 ? 0 : -1;
}

/* The first fingerprint gpg lists for uid, from --with-colons output. */
static int gh_fpr(const struct gpg_env *e, const char *home, const char *uid,
		  char fpr[65])
{
	char out[4096], *p;

	if (gh_gpg(e, home, out, sizeof(out), "--with-colons", "--list-keys",
		   uid, NULL) < 0)
		return -1;
	p = strstr(out, "\nfpr:");
	if (!p || sscanf(p, "\nfpr:::::::::%64[0-9A-F]:", fpr) != 1)
		return -1;
	return 0;
}

static int gh_genkey(const struct gpg_env *e, const char *home, const char *uid,
		     const char *algo, const char *usage, const char *pw,
		     char fpr[65])
{
	if (gh_gpg(e, home, NULL, 0, "--passphrase", pw, "--quick-gen-key", uid,
		   algo, usage, "never", NULL) < 0)
		return -1;
	return gh_fpr(e, home, uid, fpr);
}

static int gh_copy_pub(const struct gpg_env *e, const char *from,
		       const char *to, const char *fpr)
{
	char file[160];
	int rc;

	snprintf(file, sizeof(file), "%s/export.gpg", e->root);
	unlink(file);
	rc = gh_gpg(e, from, NULL, 0, "--output", file, "--export", fpr, NULL);
	if (rc == 0)
		rc = gh_gpg(e, to, NULL, 0, "--import", file, NULL);
	unlink(file);
	return rc;
}

/* A client key the server has certified: validity "full" there. */
static int gh_trusted_client(struct gpg_env *e, const char *uid,
			     const char *pw, char fpr[65])
{
	if (gh_genkey(e, e->client, uid, "ed25519", "sign", pw, fpr) < 0 ||
	    gh_copy_pub(e, e->client, e->server, fpr) < 0)
		return -1;
	return gh_gpg(e, e->server, NULL, 0, "--passphrase", e->server_pw,
		      "--quick-lsign-key", fpr, NULL);
}

static int gh_keys(struct gpg_env *e)
{
	char *const version[] = { e->gpg, "--version", NULL };

	if (access(e->gpg, X_OK) < 0 || gh_exec(version, NULL, 0) < 0)
		return 77;
	if (gh_mkhome(e->server, sizeof(e->server), e->root, "server") < 0 ||
	    gh_mkhome(e->client, sizeof(e->client), e->root, "client") < 0 ||
	    gh_mkhome(e->other, sizeof(e->other), e->root, "other") < 0)
		return -1;
	if (gh_genkey(e, e->server, "spa-server <server@spa.test>", "rsa2048",
		      "sign,encr", e->server_pw, e->server_fpr) < 0 ||
	    gh_copy_pub(e, e->server, e->client, e->server_fpr) < 0 ||
	    gh_genkey(e, e->other, "spa-other <other@spa.test>", "rsa2048",
		      "sign,encr", "", e->other_fpr) < 0 ||
	    gh_copy_pub(e, e->other, e->client, e->other_fpr) < 0)
		return -1;
	if (gh_trusted_client(e, "spa-client <client@spa.test>", "",
			      e->client_fpr) < 0 ||
	    gh_trusted_client(e, "spa-expiring <expiring@spa.test>", "",
			      e->expiring_fpr) < 0 ||
	    gh_trusted_client(e, "spa-revoked <revoked@spa.test>", "",
			      e->revoked_fpr) < 0)
		return -1;
	if (gh_genkey(e, e->client, "spa-client-pw <client-pw@spa.test>",
		      "ed25519", "sign", GH_CLIENT_PW, e->client_pw_fpr) < 0 ||
	    gh_copy_pub(e, e->client, e->server, e->client_pw_fpr) < 0 ||
	    gh_genkey(e, e->client, "spa-stranger <stranger@spa.test>",
		      "ed25519", "sign", "", e->stranger_fpr) < 0 ||
	    gh_genkey(e, e->client, "spa-ecc <ecc@spa.test>", "future-default",
		      "default", "", e->ecc_fpr) < 0)
		return -1;
	return 0;
}

int gh_setup(struct gpg_env *e, const char *gpg, bool server_pw)
{
	const char *slash;
	int rc;

	memset(e, 0, sizeof(*e));
	e->server_pw = server_pw ? GH_SERVER_PW : "";
	if (!gpg || strlen(gpg) >= sizeof(e->gpg) - 8) {
		printf("SKIP: gpg not installed (no path given)\n");
		return 77;
	}
	strcpy(e->gpg, gpg);
	slash = strrchr(gpg, '/');
	snprintf(e->gpgconf, sizeof(e->gpgconf), "%.*sgpgconf",
		 slash ? (int)(slash - gpg + 1) : 0, gpg);
	/* short: gpg-agent's socket path must fit sun_path */
	strcpy(e->root, "/tmp/spa-gpg-XXXXXX");
	if (!mkdtemp(e->root)) {
		e->root[0] = '\0';
		return -1;
	}
	rc = gh_keys(e);
	if (rc == 77)
		printf("SKIP: gpg not installed (%s does not run)\n", gpg);
	if (rc != 0)
		gh_teardown(e);
	return rc;
}

static void gh_rm_rf(const char *root)
{
	char *const argv[] = { "/bin/rm", "-rf", (char *)root, NULL };

	gh_exec(argv, NULL, 0);
}

void gh_teardown(struct gpg_env *e)
{
	const char *homes[] = { e->server, e->client, e->other };

	if (!e->root[0])
		return;
	for (size_t i = 0; i < 3; i++) {
		char *const argv[] = { e->gpgconf, "--homedir", (char *)homes[i],
				       "--kill", "gpg-agent", NULL };

		if (homes[i][0] && access(e->gpgconf, X_OK) == 0)
			gh_exec(argv, NULL, 0);
	}
	gh_rm_rf(e->root);
	e->root[0] = '\0';
}

int gh_expire(const struct gpg_env *e, const char *fpr)
{
	if (gh_gpg(e, e->client, NULL, 0, "--passphrase", "", "--quick-set-expire",
		   fpr, "seconds=1", NULL) < 0)
		return -1;
	sleep(2);
	return gh_copy_pub(e, e->client, e->server, fpr);
}

int gh_revoke(const struct gpg_env *e, const char *fpr)
{
	char src[200], dst[160], line[256];
	FILE *in, *out;
	int rc;

	snprintf(src, sizeof(src), "%s/openpgp-revocs.d/%s.rev", e->client, fpr);
	snprintf(dst, sizeof(dst), "%s/revoke.asc", e->root);
	in = fopen(src, "r");
	if (!in)
		return -1;
	out = fopen(dst, "w");
	if (!out) {
		fclose(in);
		return -1;
	}
	/* gpg guards the stored certificate with a ':' before its armor */
	while (fgets(line, sizeof(line), in))
		fputs(line[0] == ':' ? line + 1 : line, out);
	fclose(in);
	if (fclose(out) != 0)
		return -1;
	rc = gh_gpg(e, e->server, NULL, 0, "--import", dst, NULL);
	unlink(dst);
	return rc;
}
