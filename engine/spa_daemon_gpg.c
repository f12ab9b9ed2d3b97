/* SPDX-License-Identifier: MIT */
/*
 * spa_daemon_gpg.c - GnuPG in the packet process (docs/GNUPG.md, "spad:
 * decisions at run time"): the helper started before the sandbox
 * (spa_gpgd.h), the packets waiting for it and its budget (spa_gpgq.h),
 * the replies that resume their decisions, and what happens to waiting
 * packets at a stop or when the helper is lost.
 */
#include "spa_daemon.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "spa_gpgd.h"
#include "spa_gpgq.h"
#include "spa_log.h"

/* How long a stopping packet process waits for gpg runs under way (the
 * monitor gives it 3 s in all) */
#define GPG_GRACE_MS 2000
/* A gpg run that takes this long is stuck (a stale keyring lock, a wedged
 * gpg-agent): the packet process and its helper are replaced. */
#define GPG_RUN_DEADLINE_S 120

/* The GnuPG helper (spa_gpgd.h), when some stanza has GnuPG: its pair,
 * its pid, and the packets waiting for it. */
static int gpg_fd = -1;
static pid_t gpg_pid = -1;
static struct spa_gpgq gpgq;
/* --pcap-file: each packet's gpg runs are waited for (not the live loop) */
static bool gpg_sync;

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/*
 * Carries a decision to its end: while the pipeline wants a gpg run, the
 * packet is handed to the helper if the budget admits it (and the
 * decision continues when the reply comes, gpg_read), else that stanza
 * refuses it and the loop goes on. `from` is the job the decision came
 * from, released here.
 */
static void settle(struct spa_daemon *d, const struct spa_pkt *pkt, struct spa_decision *dec,
		   struct spa_gpg_job *from)
{
	struct spa_pipeline_opts o = { .test_mode = d->opt.test_mode, .host = NULL };

	while (dec->verdict == SPA_DEFERRED) {
		const char *why = "no GnuPG helper: not tried";
		struct spa_gpg_job *j = gpg_fd >= 0 ? spa_gpgq_admit(&gpgq, pkt, dec, now_s(),
										  mono_ms(), &why)
						    : NULL;
		struct spa_gpg_outcome out = { .rc = -SPA_E_GPG };
		struct spa_gpgd_req q;

		if (j) {
			if (spa_gpgd_pack_req(j->id, d->cfg.generation, (int32_t)dec->resume.gpg_stanza,
					      j->wire, j->pkt.len, &q) &&
			    send(gpg_fd, &q, sizeof(q), MSG_DONTWAIT | MSG_NOSIGNAL) ==
				    (ssize_t)sizeof(q)) {
				if (from)
					spa_gpgq_release(&gpgq, from);
				return;
			}
			spa_gpgq_release(&gpgq, j);
			gpgq.refused++;
			gpgq.refused_unreported++;
			why = "the GnuPG helper is busy: not tried";
		}
		out.not_tried = why;
		spa_pipeline_gpg_resume(&d->cfg, d->replay, pkt, &o, &out, dec);
	}
	spa_daemon_worker_send(d, pkt, dec);
	if (from)
		spa_gpgq_release(&gpgq, from);
}

/* The helper is gone or broke the protocol: what waits for it is refused,
 * and this process ends so that the monitor starts both again. */
static _Noreturn void gpg_lost(struct spa_daemon *d, const char *why)
{
	struct spa_pipeline_opts o = { .test_mode = d->opt.test_mode, .host = NULL };

	spa_log(SPA_L_ERR, "GnuPG helper %d: %s; the packet process restarts", (int)gpg_pid, why);
	close(gpg_fd);
	gpg_fd = -1;
	for (size_t i = 0; i < gpgq.cap; i++) {
		struct spa_gpg_job *j = &gpgq.jobs[i];
		struct spa_gpg_outcome out = { .rc = -SPA_E_GPG, .not_tried = "GnuPG helper gone" };

		if (!j->used)
			continue;
		spa_pipeline_gpg_resume(&d->cfg, d->replay, &j->pkt, &o, &out, &j->d);
		settle(d, &j->pkt, &j->d, j);
	}
	_exit(1);
}

/* Checked whenever the packet process is awake anyway (a packet, a
 * reply, the --pcap-file wait): a stuck gpg run only matters then. */
static void gpg_check_stuck(struct spa_daemon *d)
{
	int64_t oldest = gpg_fd >= 0 ? spa_gpgq_oldest(&gpgq) : 0;
	char why[96];

	if (!oldest || now_s() - oldest <= GPG_RUN_DEADLINE_S)
		return;
	snprintf(why, sizeof(why), "a gpg run took over %d s", GPG_RUN_DEADLINE_S);
	gpg_lost(d, why);
}

/* Replies from the helper; each continues its packet's decision. */
static void gpg_read(struct spa_daemon *d)
{
	struct spa_pipeline_opts o = { .test_mode = d->opt.test_mode, .host = NULL };

	for (int i = 0; i < 64 && gpg_fd >= 0; i++) {
		union {
			struct spa_gpgd_rep r;
			char raw[sizeof(struct spa_gpgd_rep) + 1];
		} buf;
		struct spa_gpg_outcome out;
		struct spa_gpg_job *j;
		char why[128];
		ssize_t n = recv(gpg_fd, &buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			gpg_lost(d, n == 0 ? "exited" : strerror(errno));
		memset(&out, 0, sizeof(out));
		if (spa_gpgd_check_rep(&buf, (size_t)n, &out.msg, &out.res, why, sizeof(why)) < 0)
			gpg_lost(d, why);
		j = spa_gpgq_find(&gpgq, buf.r.id);
		if (!j || buf.r.stanza != (int32_t)j->d.resume.gpg_stanza)
			gpg_lost(d, "a reply to no request");
		out.rc = buf.r.rc;
		spa_gpgq_ran(&gpgq, j, mono_ms());
		spa_pipeline_gpg_resume(&d->cfg, d->replay, &j->pkt, &o, &out, &j->d);
		explicit_bzero(&out, sizeof(out));
		explicit_bzero(&buf, sizeof(buf));
		settle(d, &j->pkt, &j->d, j);
	}
	gpg_check_stuck(d);
}

/* Waits up to ms (< 0: for good) for every gpg run under way. */
static void gpg_wait_all(struct spa_daemon *d, int ms)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (gpg_fd >= 0 && spa_gpgq_busy(&gpgq)) {
		struct pollfd pfd = { .fd = gpg_fd, .events = POLLIN };
		struct timespec t;
		long left = -1;

		if (ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			left = ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
			if (left <= 0)
				return;
		}
		/* wake at least once a second to see a stuck run */
		if (poll(&pfd, 1, left < 0 || left > 1000 ? 1000 : (int)left) > 0)
			gpg_read(d);
		gpg_check_stuck(d);
	}
}

bool spa_daemon_worker_event(struct spa_daemon *d, int fd)
{
	if (fd < 0 || fd != gpg_fd)
		return false;
	gpg_read(d);
	return true;
}

void spa_daemon_gpg_settle(struct spa_daemon *d, const struct spa_pkt *pkt,
			   struct spa_decision *dec)
{
	settle(d, pkt, dec, NULL);
	if (gpg_sync)
		gpg_wait_all(d, -1);
}

void spa_daemon_gpg_check(struct spa_daemon *d)
{
	gpg_check_stuck(d);
}

int spa_daemon_gpg_fd(void)
{
	return gpg_fd;
}

void spa_daemon_gpg_report(void)
{
	unsigned long n = 0;

	if (gpg_fd >= 0 && spa_gpgq_report_due(&gpgq, now_s(), &n))
		spa_log(SPA_L_WARNING, "GnuPG: %lu packets were refused without a gpg run since "
			"the last report (the budget for packets without an HMAC, "
			"GPG_MAX_CONCURRENT %u, GPG_MAX_PER_SECOND %u and GPG_MAX_BUSY_PERCENT "
			"%u, or too many waiting; %lu since start)", n, gpgq.max_concurrent,
			gpgq.per_second, gpgq.busy_percent ? gpgq.busy_percent : 100,
			gpgq.refused);
}

/* Before the sandbox: the helper (forked now, while fork is allowed and
 * this process is still root), then the passphrases it has and this
 * process never needs are wiped here. */
int spa_daemon_gpg_start(struct spa_daemon *d)
{
	int rc;

	if (!spa_gpgd_wanted(&d->cfg))
		return 0;
	rc = spa_gpgq_init(&gpgq, d->cfg.gpg_max_concurrent, d->cfg.gpg_max_per_second);
	spa_gpgq_set_busy_percent(&gpgq, d->cfg.gpg_max_busy_percent);
	if (rc == 0)
		rc = spa_gpgd_start(&d->cfg, &gpg_fd, &gpg_pid);
	for (size_t i = 0; i < d->cfg.n_stanzas; i++)
		if (d->cfg.stanzas[i].gpg)
			explicit_bzero(d->cfg.stanzas[i].gpg->decrypt_pw,
				       sizeof(d->cfg.stanzas[i].gpg->decrypt_pw));
	gpg_sync = d->cfg.pcap_file[0] && !d->cfg.udp_server;
	return rc;
}

void spa_daemon_gpg_log_start(void)
{
	if (gpg_fd >= 0) {
		spa_log(SPA_L_INFO, "GnuPG: helper pid %d, at most %u gpg runs at once, %u/s and "
			"%u%% of the time for packets without HMAC", (int)gpg_pid,
			gpgq.max_concurrent, gpgq.per_second,
			gpgq.busy_percent ? gpgq.busy_percent : 100);
		if (!gpgq.per_second)
			spa_log(SPA_L_INFO, "GnuPG: GPG_MAX_PER_SECOND 0: no per-second limit");
	}
}

void spa_daemon_gpg_stop(struct spa_daemon *d)
{
	/* gpg runs under way are waited for a while; what is left then is
	 * refused (one line each), not dropped silently */
	gpg_wait_all(d, GPG_GRACE_MS);
	if (gpg_fd >= 0 && spa_gpgq_busy(&gpgq)) {
		struct spa_pipeline_opts o = { .test_mode = d->opt.test_mode, .host = NULL };

		close(gpg_fd);
		gpg_fd = -1;
		for (size_t i = 0; i < gpgq.cap; i++) {
			struct spa_gpg_job *j = &gpgq.jobs[i];
			struct spa_gpg_outcome out = { .rc = -SPA_E_GPG,
						       .not_tried = "spad stopping before gpg answered" };

			if (!j->used)
				continue;
			spa_pipeline_gpg_resume(&d->cfg, d->replay, &j->pkt, &o, &out, &j->d);
			settle(d, &j->pkt, &j->d, j);
		}
	}
}
