/* SPDX-License-Identifier: MIT */
/*
 * spa_sandbox.h - what the packet process gives up before it reads its
 * first byte from the network (docs/SECURITY.md): root (an unprivileged
 * user in an empty chroot), every capability, the right to gain privileges
 * again (NO_NEW_PRIVS), the file system and TCP (Landlock, where the kernel
 * has it) and every system call the packet path does not make (a seccomp
 * allow-list; anything else kills the process).
 */
#ifndef SPA_SANDBOX_H
#define SPA_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct spa_sandbox_opts {
	/* When started as root: the user to become and the empty directory
	 * to chroot into (root-owned, not group/world-writable). Ignored when
	 * not root: the process keeps its uid and file system view. */
	bool drop_user;
	uid_t uid;
	gid_t gid;
	const char *chroot_dir;
	bool seccomp;              /* install the allow-list (PRIVSEP_SECCOMP) */
	/* With the allow-list: the one descriptor anything may be sent or
	 * written to (the pair to the monitor; write also to stderr), so the
	 * process cannot send through the sockets it reads. */
	bool restrict_out;
	int out_fd;
	/* A second such descriptor when out_fd2_set: the pair to the GnuPG
	 * helper (spa_gpgd.h). */
	bool out_fd2_set;
	int out_fd2;
	/* With the allow-list: listeners the process may accept4 on (the TCP
	 * server, spa_tcpserv.h), and then epoll_ctl on epoll_fd (to watch
	 * what it accepted) and getsockname (the address a client reached). */
	size_t n_accept;
	int accept_fd[2];
	int epoll_fd;
};

/* What spa_sandbox_enter achieved, for the log line. */
struct spa_sandbox_report {
	bool user_dropped;
	bool chrooted;
	int landlock_abi;          /* 0: the kernel has no Landlock */
	bool seccomp;
};

/*
 * Before the fork, as root: the uid/gid of name, or when name is "" the
 * dedicated user _spad and, if that does not exist, nobody. 0, -ENOENT
 * (no such user) or -EPERM (its uid is 0) with the reason in err.
 */
int spa_sandbox_resolve_user(const char *name, uid_t *uid, gid_t *gid, char *err,
			     size_t errlen);

/*
 * Before the fork, as root: makes sure dir exists as an empty directory
 * owned by root and not writable by group or others (creates it 0755 if
 * missing). 0, or a negative code with the reason in err.
 */
int spa_sandbox_prepare_dir(const char *dir, char *err, size_t errlen);

/*
 * Every capability (bounding, ambient, effective, permitted, inheritable)
 * and the dumpable flag, nothing else: what the GnuPG helper, which keeps
 * uid 0 and the file system, gives up. 0, or a negative code with why.
 */
int spa_sandbox_drop_caps(char *err, size_t errlen);

/*
 * In the child, after every descriptor it needs is open: drops what
 * spa_sandbox.h lists, in that order. On any error the caller must exit:
 * a half-entered sandbox is not one. 0, or a negative code with the step
 * that failed in err.
 */
int spa_sandbox_enter(const struct spa_sandbox_opts *o, struct spa_sandbox_report *r, char *err,
		      size_t errlen);

#endif
