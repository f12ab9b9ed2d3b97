/* SPDX-License-Identifier: MIT */
/*
 * test_sandbox.c - the packet process's sandbox: each case forks a child
 * that enters it (a sandbox cannot be left, so never in the test process)
 * and reports back over a socketpair; the parent looks at the child from
 * outside (/proc) and at how it ended.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "spa_sandbox.h"

/* Generous: a loaded CI machine must not turn a slow child into a failure. */
#define WAIT_MS 30000

/* What a child sends after entering the sandbox. */
struct entered {
	int rc;
	struct spa_sandbox_report r;
	char err[256];
};

struct box {
	char dir[64];            /* the chroot directory (root-owned, 0755, empty) */
	struct spa_sandbox_opts o;
};

static void box_init(struct box *b, bool seccomp)
{
	char err[256];

	memset(b, 0, sizeof(*b));
	th_tmpdir(b->dir, sizeof(b->dir));
	/* mkdtemp made it 0700: the chroot must be enterable by nobody. */
	assert_int_equal(chmod(b->dir, 0755), 0);
	assert_int_equal(spa_sandbox_prepare_dir(b->dir, err, sizeof(err)), 0);
	b->o.drop_user = true;
	b->o.chroot_dir = b->dir;
	b->o.seccomp = seccomp;
	if (spa_sandbox_resolve_user("", &b->o.uid, &b->o.gid, err, sizeof(err)) != 0)
		fail_msg("resolve_user(\"\"): %s", err);
}

static void box_fini(struct box *b)
{
	th_rmrf(b->dir);
}

/* In the child: enter, tell the parent how it went; exits on failure. */
static void child_enter(const struct spa_sandbox_opts *o, int fd)
{
	struct entered e;

	memset(&e, 0, sizeof(e));
	e.rc = spa_sandbox_enter(o, &e.r, e.err, sizeof(e.err));
	if (fd >= 0 && write(fd, &e, sizeof(e)) != (ssize_t)sizeof(e))
		_exit(90);
	if (e.rc != 0) {
		if (fd < 0)
			fprintf(stderr, "child: spa_sandbox_enter: %s\n", e.err);
		_exit(91);
	}
}

/* Reads exactly n bytes within WAIT_MS; 0 or -1. */
static int read_within(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&p, 1, WAIT_MS) != 1)
			return -1;
		k = read(fd, (char *)buf + got, n - got);
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

static void read_entered(int fd, struct entered *e)
{
	assert_int_equal(read_within(fd, e, sizeof(*e)), 0);
	if (e->rc != 0)
		fail_msg("spa_sandbox_enter in the child: %d: %s", e->rc, e->err);
}

/* waitpid with a deadline; a child still running then is killed and fails. */
static int reap(pid_t pid)
{
	int status = 0;

	for (int i = 0; i < WAIT_MS / 10; i++) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			return status;
		assert_int_equal(w, 0);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fail_msg("child %d did not end within %d ms", (int)pid, WAIT_MS);
	return -1;
}

static void assert_exit0(int status)
{
	if (WIFSIGNALED(status))
		fail_msg("child killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("child exited %d (the step that failed)", WEXITSTATUS(status));
}

static void status_field(pid_t pid, const char *name, char *out, size_t cap)
{
	if (th_proc_status((int)pid, name, out, cap) < 0)
		fail_msg("no %s: line in /proc/%d/status", name, (int)pid);
}

static void assert_status(pid_t pid, const char *name, const char *want)
{
	char v[256];

	status_field(pid, name, v, sizeof(v));
	if (strcmp(v, want))
		fail_msg("%s of the sandboxed child is '%s', want '%s'", name, v, want);
}

/* a. What the kernel says about the child once it is inside. */
static void test_status_inside(void **state)
{
	struct box b;
	struct entered e;
	int sp[2], status;
	char go = 'x';
	pid_t pid;
	(void)state;

	box_init(&b, true);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sp[0]);
		child_enter(&b.o, sp[1]);
		/* Stay until the parent has looked at us. */
		_exit(read(sp[1], &go, 1) == 1 ? 0 : 2);
	}
	close(sp[1]);
	read_entered(sp[0], &e);
	assert_true(e.r.seccomp);
	assert_status(pid, "NoNewPrivs", "1");
	assert_status(pid, "Seccomp", "2");
	assert_status(pid, "CapEff", "0000000000000000");
	assert_status(pid, "CapPrm", "0000000000000000");
	assert_status(pid, "CapInh", "0000000000000000");
	assert_status(pid, "CapAmb", "0000000000000000");
	if (geteuid() == 0) {
		char want[64], path[64], link[PATH_MAX], real[PATH_MAX];
		ssize_t n;

		snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", (unsigned)b.o.uid,
			 (unsigned)b.o.uid, (unsigned)b.o.uid, (unsigned)b.o.uid);
		assert_status(pid, "Uid", want);
		snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", (unsigned)b.o.gid,
			 (unsigned)b.o.gid, (unsigned)b.o.gid, (unsigned)b.o.gid);
		assert_status(pid, "Gid", want);
		snprintf(want, sizeof(want), "%u", (unsigned)b.o.gid);
		assert_status(pid, "Groups", want);
		assert_true(e.r.user_dropped);
		assert_true(e.r.chrooted);
		assert_non_null(realpath(b.dir, real));
		snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
		n = readlink(path, link, sizeof(link) - 1);
		assert_true(n > 0);
		link[n] = '\0';
		assert_string_equal(link, real);
		snprintf(path, sizeof(path), "/proc/%d/cwd", (int)pid);
		n = readlink(path, link, sizeof(link) - 1);
		assert_true(n > 0);
		link[n] = '\0';
		assert_string_equal(link, real);
	} else {
		printf("NOTE: not root: the user drop and chroot are not checked "
		       "(capabilities, NoNewPrivs and seccomp are)\n");
		assert_false(e.r.user_dropped);
		assert_false(e.r.chrooted);
	}
	assert_int_equal(write(sp[0], &go, 1), 1);
	status = reap(pid);
	assert_exit0(status);
	close(sp[0]);
	box_fini(&b);
}

/* b. The packet path's own calls keep working inside. */
static void child_packet_path(const struct spa_sandbox_opts *o, int sp, int udp, int ep)
{
	char buf[2][128];
	struct iovec iov[2] = { { buf[0], sizeof(buf[0]) }, { buf[1], sizeof(buf[1]) } };
	struct mmsghdr mm[2];
	struct epoll_event ev;
	struct timespec t0, nap = { 0, 1000000 };
	char *big;
	void *page;
	int n;

	child_enter(o, sp);
	if (epoll_wait(ep, &ev, 1, WAIT_MS) != 1)
		_exit(10);
	memset(mm, 0, sizeof(mm));
	mm[0].msg_hdr.msg_iov = &iov[0];
	mm[0].msg_hdr.msg_iovlen = 1;
	mm[1].msg_hdr.msg_iov = &iov[1];
	mm[1].msg_hdr.msg_iovlen = 1;
	n = recvmmsg(udp, mm, 2, MSG_DONTWAIT, NULL);
	if (n < 1)
		_exit(11);
	/* The inherited socketpair: Landlock leaves open descriptors alone. */
	if (write(sp, buf[0], mm[0].msg_len) != (ssize_t)mm[0].msg_len)
		_exit(12);
	big = malloc(10 << 20);
	if (!big)
		_exit(13);
	memset(big, 0x5a, 10 << 20);
	free(big);
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED || mprotect(page, 4096, PROT_READ) != 0 || munmap(page, 4096))
		_exit(14);
	if (clock_gettime(CLOCK_MONOTONIC, &t0) != 0 || clock_gettime(CLOCK_REALTIME, &t0))
		_exit(15);
	if (nanosleep(&nap, NULL) != 0)
		_exit(16);
	_exit(0);
}

static void test_allowed_calls(void **state)
{
	struct box b;
	struct entered e;
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLIN };
	socklen_t alen = sizeof(a);
	static const char msg[] = "a knock";
	char got[sizeof(msg)];
	int sp[2], udp, ep, tx;
	pid_t pid;
	(void)state;

	box_init(&b, true);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(udp >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(udp, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(udp, (struct sockaddr *)&a, &alen), 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(ep >= 0);
	ev.data.fd = udp;
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, udp, &ev), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sp[0]);
		child_packet_path(&b.o, sp[1], udp, ep);
	}
	close(sp[1]);
	read_entered(sp[0], &e);
	/* Sent only now, so the child's epoll_wait runs inside the sandbox. */
	tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(tx >= 0);
	assert_int_equal(sendto(tx, msg, sizeof(msg), 0, (struct sockaddr *)&a, sizeof(a)),
			 (ssize_t)sizeof(msg));
	memset(got, 0, sizeof(got));
	assert_exit0(reap(pid));
	assert_int_equal(read_within(sp[0], got, sizeof(got)), 0);
	assert_memory_equal(got, msg, sizeof(msg));
	close(tx);
	close(ep);
	close(udp);
	close(sp[0]);
	box_fini(&b);
}

/* c. Calls off the list kill the process with SIGSYS. */
enum forbidden { F_SOCKET, F_OPENAT, F_EXECVE, F_FORK, F_MPROTECT_EXEC, F_SETSOCKOPT,
		 F_SEND_OTHER, F_WRITE_OTHER };
static const char *const forbidden_name[] = {
	"socket", "openat", "execve", "clone (fork)", "mprotect PROT_EXEC", "setsockopt",
	"sendto on a socket other than out_fd", "write to a descriptor other than out_fd",
};

static void child_forbidden(const struct spa_sandbox_opts *o, int sp, enum forbidden f)
{
	char *const argv[] = { (char *)"true", NULL };
	char *const envp[] = { NULL };
	void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	int one = 1, udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (page == MAP_FAILED || udp < 0)
		_exit(20);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	child_enter(o, sp);
	switch (f) {
	case F_SOCKET:
		(void)socket(AF_INET, SOCK_DGRAM, 0);
		break;
	case F_OPENAT:
		(void)openat(AT_FDCWD, "/etc/hostname", O_RDONLY);
		break;
	case F_EXECVE:
		(void)execve("/bin/true", argv, envp);
		break;
	case F_FORK:
		/* the raw call, so nothing glibc does around fork() is tested */
		if (syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0) == 0)
			_exit(22);
		break;
	case F_MPROTECT_EXEC:
		(void)mprotect(page, 4096, PROT_READ | PROT_EXEC);
		break;
	case F_SETSOCKOPT:
		(void)setsockopt(sp, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
		break;
	case F_SEND_OTHER:
		/* the packet process must not send through what it reads */
		(void)sendto(udp, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
		break;
	case F_WRITE_OTHER:
		if (write(udp, "x", 1) == 1)
			_exit(23);
		break;
	}
	/* Still alive: the call was let through. */
	_exit(21);
}

static void test_forbidden_calls(void **state)
{
	struct box b;
	(void)state;

	box_init(&b, true);
	b.o.restrict_out = true;
	for (int f = F_SOCKET; f <= F_WRITE_OTHER; f++) {
		struct entered e;
		int sp[2], status;
		pid_t pid;

		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(sp[0]);
			b.o.out_fd = sp[1];
			child_forbidden(&b.o, sp[1], (enum forbidden)f);
		}
		close(sp[1]);
		read_entered(sp[0], &e);
		status = reap(pid);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
			fail_msg("%s inside the sandbox: child %s %d, want killed by SIGSYS",
				 forbidden_name[f], WIFSIGNALED(status) ? "killed by signal" :
				 "exited", WIFSIGNALED(status) ? WTERMSIG(status) :
				 WEXITSTATUS(status));
		close(sp[0]);
	}
	box_fini(&b);
}

/* c2. The second descriptor (the pair to the GnuPG helper): sending there
 * is allowed, anywhere else still kills. */
static void test_second_out_fd(void **state)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct entered e;
	struct box b;
	int sp[2], gp[2], status, udp;
	char got = 0;
	pid_t pid;
	(void)state;

	box_init(&b, true);
	b.o.restrict_out = true;
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, gp), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		close(sp[0]);
		close(gp[0]);
		b.o.out_fd = sp[1];
		b.o.out_fd2_set = true;
		b.o.out_fd2 = gp[1];
		if (udp < 0)
			_exit(20);
		child_enter(&b.o, sp[1]);
		if (send(gp[1], "g", 1, 0) != 1)
			_exit(24);
		(void)sendto(udp, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
		_exit(21);
	}
	close(sp[1]);
	close(gp[1]);
	read_entered(sp[0], &e);
	assert_int_equal(read_within(gp[0], &got, 1), 0);
	assert_int_equal(got, 'g');
	status = reap(pid);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		fail_msg("sendto on a socket other than out_fd/out_fd2: child %s %d, want SIGSYS",
			 WIFSIGNALED(status) ? "killed by signal" : "exited",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	close(sp[0]);
	close(gp[0]);
	box_fini(&b);
}

/* d. Landlock alone (no seccomp, no chroot, no user drop): the file system
 * is closed, descriptors opened before are not. */
static void test_landlock(void **state)
{
	struct spa_sandbox_opts o = { .drop_user = false, .seccomp = false };
	struct entered e;
	char dir[64], path[4096], got[4];
	int sp[2], pre, result[2];
	pid_t pid;
	/* Asked here, not taken from the report: a sandbox that skipped
	 * Landlock must not turn this case into a skip. */
	long kernel_abi = 0;
	(void)state;

#ifdef SYS_landlock_create_ruleset
	kernel_abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1U /* VERSION */);
	if (kernel_abi < 0)
		kernel_abi = 0;
#endif
	th_tmpdir(dir, sizeof(dir));
	th_write(dir, "secret", "key", path, sizeof(path));
	pre = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(pre >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd, r[2];

		close(sp[0]);
		child_enter(&o, sp[1]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		r[0] = fd < 0 ? errno : 0;
		/* the descriptor opened before entering still reads */
		r[1] = read(pre, got, 3) == 3 && !memcmp(got, "key", 3) ? 0 : 1;
		if (write(sp[1], r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(30);
		/* Stay until the parent has looked at us. */
		_exit(read(sp[1], got, 1) == 1 ? 0 : 31);
	}
	close(sp[1]);
	read_entered(sp[0], &e);
	if (e.r.landlock_abi != kernel_abi)
		fail_msg("report says Landlock ABI %d, the kernel has %ld", e.r.landlock_abi,
			 kernel_abi);
	assert_false(e.r.seccomp);
	assert_false(e.r.chrooted);
	assert_false(e.r.user_dropped);
	assert_int_equal(read_within(sp[0], result, sizeof(result)), 0);
	/* Without seccomp (which sets it too), NO_NEW_PRIVS is ours. */
	assert_status(pid, "NoNewPrivs", "1");
	assert_status(pid, "Seccomp", "0");
	assert_status(pid, "CapEff", "0000000000000000");
	assert_status(pid, "CapPrm", "0000000000000000");
	assert_int_equal(write(sp[0], "x", 1), 1);
	assert_exit0(reap(pid));
	if (kernel_abi <= 0) {
		printf("SKIP: kernel has no Landlock (the open is not checked)\n");
		close(sp[0]);
		close(pre);
		th_rmrf(dir);
		skip();
	}
	if (result[0] != EACCES)
		fail_msg("open(%s) under Landlock: %s, want EACCES", path,
			 result[0] ? strerror(result[0]) : "succeeded");
	assert_int_equal(result[1], 0);
	close(sp[0]);
	close(pre);
	th_rmrf(dir);
}

static void expect_refused(const char *dir, const char *what)
{
	char err[512] = "";

	assert_true(spa_sandbox_prepare_dir(dir, err, sizeof(err)) < 0);
	if (!strstr(err, dir) || !strstr(err, what))
		fail_msg("prepare_dir(%s): '%s' names neither the path nor '%s'", dir, err,
			 what);
}

/* e. The checks made before the fork. */
static void test_prepare_and_resolve(void **state)
{
	char top[64], p[256], q[256], err[512];
	struct passwd *pw;
	struct stat st;
	uid_t uid;
	gid_t gid;
	int fd;
	(void)state;

	th_tmpdir(top, sizeof(top));
	assert_int_equal(chmod(top, 0755), 0);

	snprintf(p, sizeof(p), "%s/new", top);
	assert_int_equal(spa_sandbox_prepare_dir(p, err, sizeof(err)), 0);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 022, 0);
	/* again, now that it exists */
	assert_int_equal(spa_sandbox_prepare_dir(p, err, sizeof(err)), 0);

	snprintf(p, sizeof(p), "%s/gw", top);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(chmod(p, 0775), 0);
	expect_refused(p, "writable");

	snprintf(q, sizeof(q), "%s/link", top);
	snprintf(p, sizeof(p), "%s/new", top);
	assert_int_equal(symlink(p, q), 0);
	expect_refused(q, "symbolic link");

	snprintf(p, sizeof(p), "%s/full", top);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(q, sizeof(q), "%s/full/etc", top);
	fd = open(q, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	expect_refused(p, "not empty");

	expect_refused(q, "not a directory");

	/* no _spad on a test machine as a rule; if there is one, it wins */
	pw = getpwnam("_spad");
	if (!pw)
		pw = getpwnam("nobody");
	assert_non_null(pw);
	assert_int_equal(spa_sandbox_resolve_user("", &uid, &gid, err, sizeof(err)), 0);
	assert_int_equal(uid, pw->pw_uid);
	assert_int_equal(gid, pw->pw_gid);
	assert_int_equal(spa_sandbox_resolve_user("nobody", &uid, &gid, err, sizeof(err)), 0);
	assert_int_equal(spa_sandbox_resolve_user("spa-no-such-user", &uid, &gid, err,
						  sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "spa-no-such-user"));
	assert_true(spa_sandbox_resolve_user("root", &uid, &gid, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "root"));
	th_rmrf(top);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_inside),
		cmocka_unit_test(test_allowed_calls),
		cmocka_unit_test(test_forbidden_calls),
		cmocka_unit_test(test_second_out_fd),
		cmocka_unit_test(test_landlock),
		cmocka_unit_test(test_prepare_and_resolve),
	};

	/* stdout is shared with the children: nothing buffered twice */
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
