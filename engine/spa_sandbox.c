/* SPDX-License-Identifier: MIT */
/* spa_sandbox.c - the packet process's sandbox (spa_sandbox.h). */
#include "spa_sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * Landlock's UAPI, by value: distributions ship kernel headers older than
 * the kernels they run on, and the ruleset attribute grew with the ABI.
 * The values are the kernel's stable interface (linux/landlock.h).
 */
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#define SPA_LL_FS_ABI1 ((1ULL << 13) - 1)      /* EXECUTE .. MAKE_SYM */
#define SPA_LL_FS_REFER (1ULL << 13)           /* ABI 2 */
#define SPA_LL_FS_TRUNCATE (1ULL << 14)        /* ABI 3 */
#define SPA_LL_FS_IOCTL_DEV (1ULL << 15)       /* ABI 5 */
#define SPA_LL_NET_TCP ((1ULL << 0) | (1ULL << 1)) /* ABI 4: bind, connect */
#define SPA_LL_SCOPE_ALL ((1ULL << 0) | (1ULL << 1)) /* ABI 6: abstract unix, signal */

/* struct landlock_ruleset_attr as of ABI 6; the size passed says how much
 * of it the running kernel is told about. */
struct spa_ll_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

__attribute__((format(printf, 4, 5)))
static int say(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (!pw)
		return errno && errno != ENOENT && errno != ESRCH ? -errno : -ENOENT;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int spa_sandbox_resolve_user(const char *name, uid_t *uid, gid_t *gid, char *err,
			     size_t errlen)
{
	const char *who = name && *name ? name : "_spad";
	int rc = lookup(who, uid, gid);

	/* The dedicated user is a packager's choice; nobody exists everywhere. */
	if (rc == -ENOENT && !(name && *name)) {
		who = "nobody";
		rc = lookup(who, uid, gid);
		if (rc == -ENOENT)
			return say(err, errlen, rc, "neither user '_spad' nor 'nobody' exists");
	}
	if (rc == -ENOENT)
		return say(err, errlen, rc, "user '%s' does not exist", who);
	if (rc < 0)
		return say(err, errlen, rc, "user '%s': %s", who, strerror(-rc));
	if (*uid == 0)
		return say(err, errlen, -EPERM, "user '%s' is root (uid 0): the packet process "
			   "must run as an unprivileged user", who);
	return 0;
}

int spa_sandbox_prepare_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	struct dirent *de;
	DIR *d = NULL;
	uid_t me = geteuid();
	int fd = -1, rc = 0;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return say(err, errlen, -errno, "chroot directory %s: mkdir: %s", dir,
			   strerror(errno));
	/* Opened without following a link and checked through the descriptor,
	 * so what we check is what the path names now, not a swapped-in link. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		/* O_DIRECTORY makes a link ENOTDIR too: tell the two apart */
		if ((rc == -ELOOP || rc == -ENOTDIR) && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
			say(err, errlen, rc, "chroot directory %s is a symbolic link", dir);
		else if (rc == -ENOTDIR)
			say(err, errlen, rc, "chroot directory %s is not a directory", dir);
		else
			say(err, errlen, rc, "chroot directory %s: %s", dir, strerror(-rc));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		rc = say(err, errlen, -errno, "chroot directory %s: %s", dir, strerror(errno));
		goto out;
	}
	/* Whoever may write there can plant files the packet process sees
	 * as its whole file system (a crafted /etc, device nodes). */
	if (st.st_uid != 0 && st.st_uid != me) {
		rc = say(err, errlen, -EPERM, "chroot directory %s is owned by uid %u, not %s",
			 dir, (unsigned)st.st_uid, me == 0 ? "root" : "root or us");
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		rc = say(err, errlen, -EPERM, "chroot directory %s is group- or world-writable "
			 "(mode %04o)", dir, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	d = fdopendir(fd);
	if (!d) {
		rc = say(err, errlen, -errno, "chroot directory %s: %s", dir, strerror(errno));
		goto out;
	}
	fd = -1;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			rc = say(err, errlen, -ENOTEMPTY, "chroot directory %s is not empty "
				 "(holds '%s')", dir, de->d_name);
			goto out;
		}
	}
	if (errno)
		rc = say(err, errlen, -errno, "chroot directory %s: %s", dir, strerror(errno));
out:
	if (d)
		closedir(d);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int drop_user(const struct spa_sandbox_opts *o, struct spa_sandbox_report *r,
		     char *err, size_t errlen)
{
	if (o->uid == 0)
		return say(err, errlen, -EPERM, "drop user: refusing to stay uid 0");
	if (!o->chroot_dir || !*o->chroot_dir)
		return say(err, errlen, -EINVAL, "chroot: no directory given");
	if (chroot(o->chroot_dir) < 0)
		return say(err, errlen, -errno, "chroot %s: %s", o->chroot_dir, strerror(errno));
	if (chdir("/") < 0)
		return say(err, errlen, -errno, "chdir / in the chroot: %s", strerror(errno));
	r->chrooted = true;
	/* Groups first: once the uid is gone, so is the right to change them. */
	if (setgroups(1, &o->gid) < 0)
		return say(err, errlen, -errno, "setgroups %u: %s", (unsigned)o->gid,
			   strerror(errno));
	if (setresgid(o->gid, o->gid, o->gid) < 0)
		return say(err, errlen, -errno, "setresgid %u: %s", (unsigned)o->gid,
			   strerror(errno));
	if (setresuid(o->uid, o->uid, o->uid) < 0)
		return say(err, errlen, -errno, "setresuid %u: %s", (unsigned)o->uid,
			   strerror(errno));
	/* A drop that left a saved uid or a capability behind shows here. */
	if (setuid(0) == 0)
		return say(err, errlen, -EPERM, "drop user: setuid(0) still succeeds");
	r->user_dropped = true;
	return 0;
}

int spa_sandbox_drop_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	/* Not dumpable: no core with key material, no ptrace by our own uid. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return say(err, errlen, -errno, "PR_SET_DUMPABLE: %s", strerror(errno));
	/* EINVAL: a kernel before 4.3 has no ambient set to clear. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return say(err, errlen, -errno, "clearing ambient capabilities: %s",
			   strerror(errno));
	/* A process that stayed uid 0 would get every capability back from an
	 * exec; with CAP_SETPCAP still held we empty the bounding set too
	 * (EPERM: we do not hold it, so there is nothing to give up there). */
	for (unsigned long cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL || errno == EPERM)
				break;
			return say(err, errlen, -errno, "dropping capability %lu from the "
				   "bounding set: %s", cap, strerror(errno));
		}
	}
	/* Zero permitted/effective/inheritable: covers a non-root spad
	 * started with file capabilities, which setresuid never touched. */
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return say(err, errlen, -errno, "capset (drop all): %s", strerror(errno));
	return 0;
}

static int landlock(struct spa_sandbox_report *r, char *err, size_t errlen)
{
#if defined(SYS_landlock_create_ruleset) && defined(SYS_landlock_restrict_self)
	struct spa_ll_attr attr = { 0 };
	size_t size = sizeof(attr.handled_access_fs);
	long abi;
	int fd, rc = 0;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		if (errno == ENOSYS || errno == EOPNOTSUPP)
			return 0;
		return say(err, errlen, -errno, "landlock ABI query: %s", strerror(errno));
	}
	/* Every right the kernel knows is handled and no rule grants any, so
	 * the file system and TCP are closed; a right newer than the ABI would
	 * make the kernel refuse the ruleset. */
	attr.handled_access_fs = SPA_LL_FS_ABI1;
	if (abi >= 2)
		attr.handled_access_fs |= SPA_LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= SPA_LL_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= SPA_LL_FS_IOCTL_DEV;
	if (abi >= 4) {
		attr.handled_access_net = SPA_LL_NET_TCP;
		size = offsetof(struct spa_ll_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = SPA_LL_SCOPE_ALL;
		size = sizeof(attr);
	}
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0)
		return say(err, errlen, -errno, "landlock ruleset (ABI %ld): %s", abi,
			   strerror(errno));
	if (syscall(SYS_landlock_restrict_self, fd, 0) < 0)
		rc = say(err, errlen, -errno, "landlock restrict_self: %s", strerror(errno));
	else
		r->landlock_abi = (int)abi;
	close(fd);
	return rc;
#else
	(void)r; (void)err; (void)errlen;
	return 0;
#endif
}

#if defined(__SANITIZE_ADDRESS__)
#define SPA_SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPA_SANDBOX_ASAN 1
#endif
#endif

/*
 * What the packet path calls after the sandbox is entered, and nothing
 * else: opening, creating sockets, exec, fork, signals to others, ioctl
 * and setsockopt all kill the process. Names the running architecture
 * lacks (time, poll, epoll_wait on arm64) are skipped.
 */
static const char *const allowed[] = {
	/* packets in: UDP sockets and pcap handles opened before the fork */
	"read", "readv", "recvfrom", "recvmsg", "recvmmsg",
	/* (write, writev, sendto, sendmsg: see out_rules) */
	/* the event loop */
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "poll", "ppoll",
	/* time for replay windows and rate limits (vDSO fallbacks), sleeps */
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
	/* OpenSSL's fork check and logging */
	"getpid", "gettid",
	/* malloc (mmap/mprotect have their own rules below) */
	"brk", "munmap", "mremap", "madvise",
	/* locks, and OpenSSL's DRBG reseeding */
	"futex", "getrandom",
	/* stdio on inherited descriptors (glibc's fstat is newfstatat) */
	"fstat", "newfstatat", "lseek", "close",
	/* libpcap's packet counters */
	"getsockopt",
	/* signal delivery and masking around the loop */
	"rt_sigreturn", "rt_sigprocmask", "sched_yield", "restart_syscall",
	"exit", "exit_group",
#ifdef SPA_SANDBOX_ASAN
	/* ASan builds: the runtime reads the alternate signal stack at _exit.
	 * Its leak check at exit() (clone, ptrace, /proc) cannot run in here:
	 * the packet process ends with _exit. */
	"sigaltstack",
#endif
};

/* Records to the monitor over the pair (and to the GnuPG helper over its
 * own), and stderr for a dying process's last words; with restrict_out
 * nothing else, so a compromised packet
 * process cannot send through the UDP sockets it reads. */
static int out_rules(scmp_filter_ctx ctx, const struct spa_sandbox_opts *o, const char **what)
{
	static const char *const out[] = { "write", "writev", "sendto", "sendmsg" };
	int rc = 0;

	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]) && rc == 0; i++) {
		int nr = seccomp_syscall_resolve_name(out[i]);

		*what = out[i];
		if (!o->restrict_out) {
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
			continue;
		}
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)o->out_fd, 0));
		if (rc == 0 && o->out_fd2_set)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)o->out_fd2, 0));
		if (rc == 0 && (strcmp(out[i], "write") == 0 || strcmp(out[i], "writev") == 0))
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)2, 0));
	}
	return rc;
}

/* The TCP server: connections come in on its listeners only, and join
 * this process's own loop. accept4 creates a descriptor, but only one the
 * kernel hands over for a peer that connected; Landlock's TCP rules cover
 * bind and connect, which stay forbidden. */
static int accept_rules(scmp_filter_ctx ctx, const struct spa_sandbox_opts *o, const char **what)
{
	int rc = 0;

	if (o->n_accept == 0)
		return 0;
	for (size_t i = 0; i < o->n_accept && rc == 0; i++) {
		*what = "accept4";
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(accept4), 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)o->accept_fd[i], 0));
	}
	if (rc == 0) {
		*what = "epoll_ctl";
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(epoll_ctl), 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)o->epoll_fd, 0));
	}
	if (rc == 0) {
		*what = "getsockname";
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getsockname), 0);
	}
	return rc;
}

static int seccomp_install(const struct spa_sandbox_opts *o, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	const char *what = "seccomp_init";
	int rc = 0;

	if (!ctx)
		return say(err, errlen, -ENOMEM, "seccomp_init failed");
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		if (nr == __NR_SCMP_ERROR || nr < 0)
			continue;
		what = allowed[i];
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc < 0)
			goto out;
	}
	rc = out_rules(ctx, o, &what);
	if (rc < 0)
		goto out;
	rc = accept_rules(ctx, o, &what);
	if (rc < 0)
		goto out;
	/* Memory, but never executable memory: no W^X bypass for an
	 * attacker who gets a write primitive into the packet process. */
	what = "mmap";
	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
			      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc < 0)
		goto out;
	what = "mprotect";
	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
			      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc < 0)
		goto out;
	what = "seccomp_load";
	rc = seccomp_load(ctx);
out:
	if (rc < 0)
		say(err, errlen, rc, "seccomp: %s: %s", what, strerror(-rc));
	seccomp_release(ctx);
	return rc;
}

int spa_sandbox_enter(const struct spa_sandbox_opts *o, struct spa_sandbox_report *r, char *err,
		      size_t errlen)
{
	int rc;

	/* The order is forced: chroot and the id changes need root's
	 * capabilities, Landlock needs NO_NEW_PRIVS, and seccomp comes last
	 * because it forbids every call made before it. */
	memset(r, 0, sizeof(*r));
	if (geteuid() == 0 && o->drop_user) {
		rc = drop_user(o, r, err, errlen);
		if (rc < 0)
			return rc;
	}
	rc = spa_sandbox_drop_caps(err, errlen);
	if (rc < 0)
		return rc;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return say(err, errlen, -errno, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	rc = landlock(r, err, errlen);
	if (rc < 0)
		return rc;
	if (o->seccomp) {
		rc = seccomp_install(o, err, errlen);
		if (rc < 0)
			return rc;
		r->seccomp = true;
	}
	return 0;
}
