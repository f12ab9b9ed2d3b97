/* SPDX-License-Identifier: MIT */
/*
 * spa_daemon_worker.c - privilege separation (docs/SECURITY.md). spad forks
 * a packet process once its sockets or captures are open: that process
 * reads the network, authenticates and decodes packets, and sends one
 * fixed-size record per decision (spa_privsep.h) to the monitor, which
 * re-checks it and owns everything with power: grants, journal, replay
 * cache, plugins, timers. The packet process runs as an unprivileged user
 * in an empty chroot, without capabilities, with NO_NEW_PRIVS, Landlock and
 * a seccomp allow-list (spa_sandbox.h). If it dies, the monitor starts a
 * new one; a reload stops it (it finishes what it read) and starts one with
 * the new configuration on the same sockets, so no queued packet is lost.
 */
#include "spa_daemon.h"

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spa_http.h"
#include "spa_log.h"
#include "spa_privsep.h"
#include "spa_sandbox.h"
#include "spa_tcpserv.h"

/* How long a stopping packet process may take to finish what it read. */
#define STOP_GRACE_MS 3000
/* How long a start waits for the new packet process's READY. */
#define READY_WAIT_MS 10000
/* Restarts after a crash: at once, then 1 s doubling to this. */
#define RESTART_MAX_MS 30000

/* ---- the packet process ------------------------------------------------ */

/* The packet process's end of the pair; its log lines go there too. */
static int worker_fd = -1;

static void send_record(const void *rec, size_t len)
{
	/* A full pair blocks: the packets wait in the kernel's socket queue
	 * meanwhile, which is where they are best kept. */
	while (send(worker_fd, rec, len, 0) < 0 && errno == EINTR)
		;
}

static void log_to_monitor(int level, const char *text)
{
	struct spa_ps_log m;
	size_t i;

	memset(&m, 0, sizeof(m));
	m.h.magic = SPA_PS_MAGIC;
	m.h.type = SPA_PS_LOG;
	m.level = level;
	/* the monitor refuses anything but one line of printable text */
	for (i = 0; text[i] && i < sizeof(m.text) - 1; i++)
		m.text[i] = (text[i] >= 0x20 && text[i] < 0x7f) ? text[i] : '?';
	send_record(&m, sizeof(m));
}

/* A final decision goes to the monitor. */
void spa_daemon_worker_send(struct spa_daemon *d, const struct spa_pkt *pkt,
			    const struct spa_decision *dec)
{
	struct spa_ps_decision rec;
	unsigned long dropped = 0;

	if (dec->authenticated)
		d->authenticated++;
	spa_daemon_gpg_report();
	/* The same budget the monitor applies, here already, so that a flood
	 * of garbage costs no record per packet. A packet that authenticated
	 * always goes across: its digest must be recorded. */
	if ((!dec->authenticated || dec->replayed) && d->opt.verbosity <= 0 &&
	    !spa_log_limit_allow(&d->unauth_log, pkt->now, &dropped))
		return;
	spa_privsep_pack_decision(&d->cfg, pkt, dec, (uint32_t)dropped, &rec);
	send_record(&rec, sizeof(rec));
}

/* NFQUEUE: the verdict for the packets read up to id, from the monitor
 * (spa_nfq.h says why). */
void spa_daemon_worker_verdict(struct spa_daemon *d, uint32_t id, uint32_t v)
{
	struct spa_ps_verdict m = { { SPA_PS_MAGIC, SPA_PS_VERDICT, d->cfg.generation }, id, v };

	send_record(&m, sizeof(m));
}

void spa_daemon_decide(struct spa_daemon *d, const struct spa_pkt *pkt)
{
	struct spa_pipeline_opts o = { .test_mode = d->opt.test_mode, .host = NULL };
	struct spa_decision dec;
	struct spa_http_req req;
	struct spa_pkt http;

	/* a captured TCP segment without data (handshake, ACK, FIN) is not
	 * something a client sent as a knock: no decision, no log line */
	if (pkt->proto == IPPROTO_TCP && pkt->len == 0)
		return;
	/* ENABLE_SPA_OVER_HTTP, whatever carried it (TCP server, capture): the
	 * SPA text of the request is the packet (spa_http.h) */
	if (d->cfg.tcp.http && spa_http_is_request(pkt->data, pkt->len)) {
		const char *why = NULL;

		if (spa_http_parse(pkt->data, pkt->len, d->cfg.tcp.xff, &req, &why) < 0) {
			memset(&dec, 0, sizeof(dec));
			snprintf(dec.reason, sizeof(dec.reason), "not SPA data: HTTP: %s", why);
			spa_daemon_worker_send(d, pkt, &dec);
			return;
		}
		http = *pkt;
		http.data = req.spa;
		http.len = req.spa_len;
		http.xff_family = req.xff_family;
		memcpy(http.xff_bin, req.xff_bin, sizeof(http.xff_bin));
		snprintf(http.xff, sizeof(http.xff), "%s", req.xff);
		pkt = &http;
	}
	/* host NULL: this process cannot list the interfaces (no sockets);
	 * the monitor checks the allow IP against them */
	spa_pipeline_run(&d->cfg, d->replay, pkt, &o, &dec);
	/* a GnuPG packet may wait for gpg; the others are final */
	spa_daemon_gpg_settle(d, pkt, &dec);
	/* after this packet is decided or waiting, so that a stuck helper's
	 * end refuses it with the others instead of dropping it */
	spa_daemon_gpg_check(d);
}

static bool keep_fd(const struct spa_daemon *d, int fd)
{
	if (fd <= 2 || fd == worker_fd || fd == spa_daemon_gpg_fd() || fd == d->udp[0] || fd == d->udp[1] ||
	    fd == spa_nfq_fd(d->nfq) || fd == d->tcp[0] || fd == d->tcp[1])
		return true;
	for (size_t i = 0; i < d->n_cap; i++)
		if (fd == spa_capture_fileno(&d->cap[i]))
			return true;
	return false;
}

/* Every descriptor the monitor holds is closed here: the journal, the
 * digest cache, the pid file and its lock, plugins' netlink sockets. */
static int close_other_fds(const struct spa_daemon *d)
{
	DIR *dir = opendir("/proc/self/fd");
	int fds[256], n = 0;
	struct dirent *e;

	if (!dir)
		return -errno;
	while ((e = readdir(dir)) && n < (int)(sizeof(fds) / sizeof(fds[0]))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] != '.' && fd != dirfd(dir) && !keep_fd(d, fd))
			fds[n++] = fd;
	}
	closedir(dir);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	return n == (int)(sizeof(fds) / sizeof(fds[0])) ? close_other_fds(d) : 0;
}

/* Secrets the packet process has no use for: plugins' keys (cloud
 * credentials, router passwords). The stanzas' SPA keys stay: checking
 * packets is this process's job. */
static void wipe_plugin_secrets(struct spa_daemon *d)
{
	for (size_t i = 0; i < d->cfg.n_kv; i++)
		explicit_bzero(d->cfg.kv[i].value, strlen(d->cfg.kv[i].value));
	for (size_t i = 0; i < d->cfg.n_stanzas; i++)
		for (size_t j = 0; j < d->cfg.stanzas[i].n_kv; j++)
			explicit_bzero(d->cfg.stanzas[i].kv[j].value,
				       strlen(d->cfg.stanzas[i].kv[j].value));
}

static int worker_watch(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return fd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

static _Noreturn void worker_main(struct spa_daemon *d, const struct spa_sandbox_opts *so,
				  pid_t monitor)
{
	struct spa_sandbox_report r = { 0 };
	struct spa_sandbox_opts sbo;
	char warm[44];
	struct spa_ps_header done = { SPA_PS_MAGIC, SPA_PS_DONE, 0 };
	struct spa_ps_header ready = { SPA_PS_MAGIC, SPA_PS_READY, 0 };
	uid_t monitor_uid = getuid();
	char err[256] = "";
	int epfd, rc;

	/* the monitor's death ends this process, even before it notices */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != monitor)
		_exit(1);
	signal(SIGPIPE, SIG_IGN);
	spa_log_set_sink(log_to_monitor);
	d->worker = true;
	d->stop = false;
	spa_replay_detach(d->replay);
	wipe_plugin_secrets(d);
	rc = close_other_fds(d);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (rc < 0 || epfd < 0) {
		spa_log(SPA_L_ERR, "packet process: setup failed: %s", strerror(rc < 0 ? -rc : errno));
		_exit(1);
	}
	rc = spa_daemon_gpg_start(d);
	if (rc < 0) {
		spa_log(SPA_L_ERR, "packet process: GnuPG helper: %s", strerror(-rc));
		_exit(1);
	}
	if (!(d->cfg.pcap_file[0] && !d->cfg.udp_server)) {
		rc = worker_watch(epfd, worker_fd);
		if (rc == 0)
			rc = worker_watch(epfd, spa_daemon_gpg_fd());
		for (int i = 0; i < 2 && rc == 0; i++)
			rc = worker_watch(epfd, d->udp[i]);
		if (rc == 0)
			rc = worker_watch(epfd, spa_nfq_fd(d->nfq));
		for (size_t i = 0; i < d->n_cap && rc == 0; i++)
			rc = worker_watch(epfd, d->cap[i].fd);
		if (rc == 0)
			rc = spa_tcpserv_start(d, epfd);
		if (rc < 0) {
			spa_log(SPA_L_ERR, "packet process: epoll: %s", strerror(-rc));
			_exit(1);
		}
	}
	/* The first SHA-256 makes OpenSSL read its configuration file: done
	 * here, since the sandbox forbids open. A Rijndael or HMAC key set
	 * prepared at load has done it already; a configuration of GnuPG
	 * stanzas without HMAC has not, and its first replay digest would
	 * otherwise be taken inside. */
	(void)spa_replay_digest("spad", 4, warm);
	sbo = *so;
	if (spa_daemon_gpg_fd() >= 0) {
		sbo.out_fd2_set = true;
		sbo.out_fd2 = spa_daemon_gpg_fd();
	}
	/* the TCP server accepts into this loop: accept4 on its listeners,
	 * epoll_ctl on this loop, and nothing else */
	for (int i = 0; i < 2; i++)
		if (d->tcp[i] >= 0 && !(d->cfg.pcap_file[0] && !d->cfg.udp_server))
			sbo.accept_fd[sbo.n_accept++] = d->tcp[i];
	sbo.epoll_fd = epfd;
	rc = spa_sandbox_enter(&sbo, &r, err, sizeof(err));
	if (rc < 0) {
		spa_log(SPA_L_ERR, "packet process: sandbox: %s", err);
		_exit(1);
	}
	/* TERM, INT and HUP stay blocked, as the monitor left them: a ^C to
	 * the terminal's process group must not cut a decision in half here
	 * (the monitor sends STOP) */
	spa_log(SPA_L_INFO, "packet process %d: uid %u%s, Landlock %s, seccomp %s", (int)getpid(),
		(unsigned)(r.user_dropped ? so->uid : monitor_uid), r.chrooted ? " in an empty chroot" : "",
		r.landlock_abi ? "on" : "not in this kernel", r.seccomp ? "on" : "OFF");
	spa_daemon_gpg_log_start();
	/* the monitor waits for this before it says spad is ready */
	send_record(&ready, sizeof(ready));
	if (d->cfg.pcap_file[0] && !d->cfg.udp_server) {
		(void)spa_daemon_replay_file(d);
		d->stop = true;
	} else {
		/* returns on STOP or the monitor's end, or with d->stop */
		spa_daemon_serve_packets(d, epfd, worker_fd);
	}
	/* gpg runs under way get a grace period (spa_daemon_gpg.c) */
	spa_daemon_gpg_stop(d);
	/* -C reached, the file read, a capture lost: the monitor stops too */
	if (d->stop)
		send_record(&done, sizeof(done));
	_exit(0);
}

/* ---- the monitor's side ------------------------------------------------ */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int sandbox_opts(struct spa_daemon *d, struct spa_sandbox_opts *so)
{
	char err[512] = "";
	int rc = 0;

	memset(so, 0, sizeof(*so));
	so->seccomp = d->cfg.privsep_seccomp;
	so->chroot_dir = d->cfg.privsep_chroot;
	if (geteuid() != 0)
		return 0;
	so->drop_user = true;
	rc = spa_sandbox_resolve_user(d->cfg.privsep_user, &so->uid, &so->gid, err, sizeof(err));
	if (rc == 0)
		rc = spa_sandbox_prepare_dir(so->chroot_dir, err, sizeof(err));
	if (rc < 0)
		spa_log(SPA_L_ERR, "packet process: %s", err);
	return rc;
}

static bool take_record(struct spa_daemon *d);

/* Until the new packet process says it is sandboxed and reading (its log
 * lines before that are acted on): "ready", at start and after a reload,
 * means packets are being read, and an idle spad is idle from then on. A
 * process that never says so is left to the crash handling. */
static void wait_ready(struct spa_daemon *d)
{
	uint64_t deadline = mono_ms() + READY_WAIT_MS;

	while (d->ps_fd >= 0 && !d->worker_ready) {
		struct pollfd pfd = { .fd = d->ps_fd, .events = POLLIN };
		uint64_t now = mono_ms();

		if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0) {
			spa_log(SPA_L_WARNING, "packet process %d: not ready after %d ms",
				(int)d->worker_pid, READY_WAIT_MS);
			return;
		}
		while (d->ps_fd >= 0 && !d->worker_ready && take_record(d))
			;
	}
}

/* At start and reload the caller waits for READY, so that "listening"
 * means it; a replacement after a crash does not: the loop keeps serving
 * the plugins' results and timers meanwhile, and READY arrives as a record
 * like any other. */
static int start_worker(struct spa_daemon *d, bool wait);

int spa_daemon_worker_start(struct spa_daemon *d)
{
	return start_worker(d, true);
}

static int start_worker(struct spa_daemon *d, bool wait)
{
	struct spa_sandbox_opts so;
	pid_t monitor = getpid();
	int sv[2], rc;

	rc = sandbox_opts(d, &so);
	if (rc < 0)
		return rc;
	if (!d->captures_fresh && spa_daemon_renew_captures(d, &d->cfg) < 0)
		spa_log(SPA_L_ERR, "captures could not be re-opened for the new packet process; "
			"it may miss packets until restart");
	d->captures_fresh = false;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	d->worker_pid = fork();
	if (d->worker_pid < 0) {
		rc = -errno;
		close(sv[0]);
		close(sv[1]);
		return rc;
	}
	if (d->worker_pid == 0) {
		close(sv[0]);
		worker_fd = sv[1];
		so.restrict_out = true;
		so.out_fd = worker_fd;
		worker_main(d, &so, monitor);
	}
	close(sv[1]);
	d->ps_fd = sv[0];
	d->worker_started = mono_ms();
	d->worker_done = false;
	d->worker_ready = false;
	rc = spa_daemon_watch(d, d->ps_fd);
	if (rc == 0 && wait)
		wait_ready(d);
	return rc;
}

static void note_exit(struct spa_daemon *d, int status)
{
	uint64_t now = mono_ms();

	if (d->worker_done || d->stop)
		return;
	if (d->cfg.pcap_file[0] && !d->cfg.udp_server) {
		/* a file cannot be read again from where a dead process was */
		spa_log(SPA_L_ERR, "packet process %d died reading %s (%s %d); stopping",
			(int)d->worker_pid, d->cfg.pcap_file,
			WIFSIGNALED(status) ? "signal" : "status",
			WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		d->stop = true;
		d->worker_failed = true;
		return;
	}
	if (WIFSIGNALED(status))
		spa_log(SPA_L_ERR, "packet process %d killed by signal %d%s; starting a new one",
			(int)d->worker_pid, WTERMSIG(status),
			WTERMSIG(status) == SIGSYS ? " (a system call outside its allow-list)" : "");
	else
		spa_log(SPA_L_ERR, "packet process %d exited with status %d; starting a new one",
			(int)d->worker_pid, WEXITSTATUS(status));
	/* a process that keeps dying (a packet that crashes it, a sandbox
	 * this kernel refuses) must not turn the monitor into a fork loop */
	if (now - d->worker_started > 10000u)
		d->restart_delay_ms = 0;
	else
		d->restart_delay_ms = d->restart_delay_ms ? d->restart_delay_ms * 2 : 1000;
	if (d->restart_delay_ms > RESTART_MAX_MS)
		d->restart_delay_ms = RESTART_MAX_MS;
	d->restart_at = now + d->restart_delay_ms;
}

static void reap(struct spa_daemon *d)
{
	int status = 0;

	if (d->ps_fd >= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->ps_fd, NULL);
		close(d->ps_fd);
		d->ps_fd = -1;
	}
	if (d->worker_pid > 0) {
		while (waitpid(d->worker_pid, &status, 0) < 0 && errno == EINTR)
			;
		note_exit(d, status);
	}
	d->worker_pid = -1;
}

/* Replay, persistent: the monitor's cache on disk decides. A GnuPG
 * packet has two digests, the wire text's and the plaintext's
 * (docs/GNUPG.md): either one seen makes it a replay, and both are kept. */
static void spend(struct spa_daemon *d, const struct spa_pkt *pkt, struct spa_decision *dec)
{
	const char *digests[2] = { dec->spent ? dec->digest : NULL,
				   dec->msg_spent ? dec->msg_digest : NULL };
	struct spa_replay_entry e = { .proto = pkt->proto, .sport = pkt->sport,
				      .dport = pkt->dport, .created = pkt->now };

	if (d->opt.test_mode || !d->replay)
		return;
	for (int i = 0; i < 2; i++) {
		const struct spa_replay_entry *seen = digests[i] ?
			spa_replay_find(d->replay, digests[i]) : NULL;

		if (seen) {
			dec->verdict = SPA_REJECT;
			dec->replayed = true;
			snprintf(dec->reason, sizeof(dec->reason),
				 "replay of a packet first seen from %s:%u at %lld", seen->src,
				 seen->sport, (long long)seen->created);
			return;
		}
	}
	snprintf(e.src, sizeof(e.src), "%s", pkt->src);
	snprintf(e.dst, sizeof(e.dst), "%s", pkt->dst[0] ? pkt->dst : "0.0.0.0");
	for (int i = 0; i < 2; i++) {
		if (!digests[i])
			continue;
		memcpy(e.digest, digests[i], sizeof(e.digest));
		if (spa_replay_add(d->replay, &e) < 0) {
			dec->verdict = SPA_REJECT;
			snprintf(dec->reason, sizeof(dec->reason), "replay cache write failed");
			return;
		}
	}
}

/* A record that breaks the protocol means the packet process is not the
 * program we started: it is replaced, never argued with. */
static void misbehaved(struct spa_daemon *d, const char *why)
{
	spa_log(SPA_L_ERR, "packet process %d sent a bad record (%s); replacing it",
		(int)d->worker_pid, why);
	if (d->worker_pid > 0)
		kill(d->worker_pid, SIGKILL);
}

static void on_decision(struct spa_daemon *d, const struct spa_ps_decision *m)
{
	struct spa_decision dec;
	struct spa_pkt pkt;
	int64_t now = (int64_t)time(NULL);
	int rc = spa_privsep_recheck(&d->cfg, &d->host, m, &pkt, &dec);

	if (rc == -ESTALE)
		return;   /* decided under a configuration since replaced */
	if (rc < 0) {
		misbehaved(d, "stanza index out of range");
		return;
	}
	/* The packet's time feeds the age check: a packet process may not
	 * move it into the future or further back than a record can wait
	 * here while a slow backend is served. */
	if (pkt.now > now + 2 || pkt.now < now - 3600) {
		misbehaved(d, "packet time not now");
		return;
	}
	if (m->unlogged)
		spa_log(SPA_L_WARNING, "%lu more packets that did not authenticate or were replays "
			"were not logged (at most %d lines a second)", (unsigned long)m->unlogged,
			SPA_LOG_LIMIT_PER_SEC);
	spend(d, &pkt, &dec);
	/* cluster mode: the store decides whether any node took it first */
	if (spa_daemon_cluster_claim(d, &pkt, &dec))
		return;
	spa_daemon_act(d, &pkt, &dec);
}

/* Handles one record; false once the packet process is gone. */
static bool take_record(struct spa_daemon *d)
{
	union {
		struct spa_ps_decision dec;
		struct spa_ps_log log;
		struct spa_ps_verdict ver;
		char raw[SPA_PS_MAX_RECORD + 1];
	} buf;
	char why[128];
	ssize_t n = recv(d->ps_fd, &buf, sizeof(buf), MSG_DONTWAIT);
	int type;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? false : (reap(d), false);
	if (n == 0) {
		reap(d);
		return false;
	}
	type = spa_privsep_decode(&buf, (size_t)n, why, sizeof(why));
	switch (type) {
	case SPA_PS_DECISION:
	case SPA_PS_COMMAND:
		on_decision(d, &buf.dec);
		break;
	case SPA_PS_LOG:
		spa_log(buf.log.level, "%s", buf.log.text);
		break;
	case SPA_PS_DONE:
		d->worker_done = true;
		d->stop = true;
		break;
	case SPA_PS_READY:
		d->worker_ready = true;
		break;
	case SPA_PS_VERDICT:
		if (!d->nfq)
			misbehaved(d, "an NFQUEUE verdict without a queue");
		else
			spa_daemon_nfq_verdict(d, buf.ver.id, buf.ver.verdict);
		break;
	default:
		misbehaved(d, type < 0 ? why : "a record only the monitor sends");
		break;
	}
	return true;
}

bool spa_daemon_worker_read(struct spa_daemon *d)
{
	for (int i = 0; i < 64 && d->ps_fd >= 0; i++)
		if (!take_record(d))
			return true;
	return d->ps_fd < 0;
}

void spa_daemon_worker_stop(struct spa_daemon *d)
{
	struct spa_ps_header stop = { SPA_PS_MAGIC, SPA_PS_STOP, 0 };
	uint64_t deadline = mono_ms() + STOP_GRACE_MS;
	bool killed = false;

	if (d->ps_fd < 0)
		return;
	d->worker_done = true;   /* an exit now is the one asked for */
	if (send(d->ps_fd, &stop, sizeof(stop), MSG_DONTWAIT) < 0)
		kill(d->worker_pid, SIGKILL);
	/* what it decided before it saw STOP is still acted on */
	while (d->ps_fd >= 0) {
		struct pollfd pfd = { .fd = d->ps_fd, .events = POLLIN };
		uint64_t now = mono_ms();
		int left = now < deadline ? (int)(deadline - now) : 0;

		if (poll(&pfd, 1, killed ? 1000 : left) == 0 && !killed) {
			spa_log(SPA_L_WARNING, "packet process %d did not stop in %d ms; killed",
				(int)d->worker_pid, STOP_GRACE_MS);
			kill(d->worker_pid, SIGKILL);
			killed = true;
			continue;
		}
		while (d->ps_fd >= 0 && take_record(d))
			;
	}
}

int spa_daemon_worker_timeout_ms(const struct spa_daemon *d)
{
	uint64_t now;

	if (d->worker_pid > 0 || d->stop)
		return -1;
	now = mono_ms();
	return d->restart_at > now ? (int)(d->restart_at - now) : 0;
}

void spa_daemon_worker_tick(struct spa_daemon *d)
{
	int rc;

	if (d->worker_pid > 0 || d->stop || mono_ms() < d->restart_at)
		return;
	rc = start_worker(d, false);
	if (rc < 0) {
		spa_log(SPA_L_ERR, "cannot start the packet process: %s", strerror(-rc));
		d->restart_delay_ms = RESTART_MAX_MS;
		d->restart_at = mono_ms() + RESTART_MAX_MS;
	}
}
