/* SPDX-License-Identifier: MIT */
/*
 * spa_daemon_natdns.c - ENABLE_NAT_DNS: a host name in a knock's NAT field
 * resolved by the monitor, never on the packet path (docs/man/spad.8, NAT
 * AND FORWARDING). The decision waits while a thread of its own asks the
 * resolver (getaddrinfo_a, IPv4) for at most SPA_NATDNS_TIMEOUT_MS; the
 * answer comes back to the event loop through a pipe and the decision is
 * acted on then, with the address, or refused with why. The loop never
 * waits, and at most SPA_NATDNS_MAX names are being resolved at once: a
 * lookup that timed out still counts until the resolver gives up on it
 * (its thread says so through the pipe with a NULL job), since its thread
 * and the resolver's request live until then.
 */
#include "spa_daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "spa_hostaddr.h"
#include "spa_log.h"

#define SPA_NATDNS_TIMEOUT_MS 5000
#define SPA_NATDNS_MAX 16

/* One waiting decision: the loop's from submit until the thread writes
 * its pointer to the pipe, the loop's again from then on. */
struct natdns_job {
	struct spa_pkt pkt;
	struct spa_decision dec;
	uint64_t generation;          /* of the config the decision was made under */
	char host[sizeof(((struct spa_decision *)0)->nat_host)];
	int rc;                       /* 0: addr set; else a gai error or EAI_AGAIN (timeout) */
	bool timed_out;
	struct in_addr addr;
	int wfd;
};

/* The resolver's request: the thread's own, it may outlive the job. */
struct natdns_req {
	struct gaicb cb;
	struct addrinfo hints;
	char host[sizeof(((struct spa_decision *)0)->nat_host)];
};

static void *resolve(void *arg)
{
	struct natdns_job *job = arg;
	struct natdns_req *req = calloc(1, sizeof(*req));
	struct natdns_job *const ended = NULL;
	struct gaicb *list[1];
	const struct timespec ts = { SPA_NATDNS_TIMEOUT_MS / 1000, 0 };
	int wfd = job->wfd, rc;
	ssize_t n;
	bool done = false;

	if (!req) {
		job->rc = EAI_MEMORY;
		goto report;
	}
	snprintf(req->host, sizeof(req->host), "%s", job->host);
	req->hints.ai_family = AF_INET;
	req->hints.ai_socktype = SOCK_STREAM;
	req->cb.ar_name = req->host;
	req->cb.ar_request = &req->hints;
	list[0] = &req->cb;
	rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	/* named, so that an operator (and the tests) can count them; only
	 * now, as the resolver's helper threads inherit the name of the
	 * thread that starts them */
	(void)pthread_setname_np(pthread_self(), "spad-natdns");
	if (rc != 0) {
		job->rc = rc;
		free(req);
		req = NULL;
		goto report;
	}
	/* the daemon's signals are blocked in its threads: no early return
	 * but for the answer or the time */
	(void)gai_suspend((const struct gaicb *const *)list, 1, &ts);
	done = gai_error(&req->cb) != EAI_INPROGRESS;
	if (!done) {
		job->rc = EAI_AGAIN;
		job->timed_out = true;
	} else {
		job->rc = gai_error(&req->cb);
		if (job->rc == 0 && req->cb.ar_result && req->cb.ar_result->ai_family == AF_INET)
			job->addr = ((struct sockaddr_in *)req->cb.ar_result->ai_addr)->sin_addr;
		else if (job->rc == 0)
			job->rc = EAI_NONAME;
	}
report:
	/* from here on the job is the loop's */
	if (write(wfd, &job, sizeof(job)) != sizeof(job))
		free(job);      /* the loop is gone (a stop): nobody waits */
	if (req) {
		/* a request still running must finish before its memory goes */
		if (!done && gai_cancel(&req->cb) == EAI_NOTCANCELED)
			while (gai_error(&req->cb) == EAI_INPROGRESS)
				gai_suspend((const struct gaicb *const *)list, 1, NULL);
		if (req->cb.ar_result)
			freeaddrinfo(req->cb.ar_result);
		free(req);
	}
	/* the slot is free only now */
	n = write(wfd, &ended, sizeof(ended));
	(void)n;
	return NULL;
}

static int open_pipe(struct spa_daemon *d)
{
	int rc;

	if (d->dns_fd[0] >= 0)
		return 0;
	if (pipe2(d->dns_fd, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	rc = spa_daemon_watch(d, d->dns_fd[0]);
	if (rc < 0) {
		close(d->dns_fd[0]);
		close(d->dns_fd[1]);
		d->dns_fd[0] = d->dns_fd[1] = -1;
	}
	return rc;
}

void spa_daemon_natdns_submit(struct spa_daemon *d, const struct spa_pkt *pkt,
			      struct spa_decision *dec)
{
	struct natdns_job *job;
	pthread_attr_t attr;
	pthread_t t;
	int rc = -ENOMEM;

	if (d->dns_pending >= SPA_NATDNS_MAX) {
		snprintf(dec->reason, sizeof(dec->reason), "NAT host '%.72s': %u names are being "
			 "resolved already; knock refused", dec->nat_host, d->dns_pending);
		goto refuse;
	}
	job = calloc(1, sizeof(*job));
	if (job && (rc = open_pipe(d)) == 0) {
		job->pkt = *pkt;
		job->pkt.data = NULL;
		job->dec = *dec;
		job->generation = d->cfg.generation;
		snprintf(job->host, sizeof(job->host), "%s", dec->nat_host);
		job->wfd = d->dns_fd[1];
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		rc = -pthread_create(&t, &attr, resolve, job);
		pthread_attr_destroy(&attr);
	}
	if (rc == 0) {
		d->dns_pending++;
		return;
	}
	free(job);
	snprintf(dec->reason, sizeof(dec->reason), "NAT host '%.72s' not resolved: %s",
		 dec->nat_host, strerror(-rc));
refuse:
	dec->verdict = SPA_REJECT;
	dec->nat_resolve = false;
	spa_daemon_act(d, pkt, dec);
}

/* The answer, applied to the waiting decision, which is then acted on. */
static void finish(struct spa_daemon *d, struct natdns_job *job)
{
	struct spa_decision *dec = &job->dec;
	const char *what;

	dec->nat_resolve = false;
	if (job->generation != d->cfg.generation) {
		/* its stanza belonged to the configuration a reload replaced */
		dec->stanza = NULL;
		dec->verdict = SPA_REJECT;
		snprintf(dec->reason, sizeof(dec->reason), "NAT host '%.72s': the configuration "
			 "was reloaded while it was resolved; knock refused", job->host);
	} else if (job->rc != 0) {
		dec->verdict = SPA_REJECT;
		snprintf(dec->reason, sizeof(dec->reason), "NAT host '%.72s' not resolved: %s",
			 job->host, job->timed_out ? "no answer within 5 s" : gai_strerror(job->rc));
	} else {
		dec->nat_family = AF_INET;
		memset(dec->nat_bin, 0, sizeof(dec->nat_bin));
		memcpy(dec->nat_bin, &job->addr, 4);
		inet_ntop(AF_INET, dec->nat_bin, dec->nat_addr, sizeof(dec->nat_addr));
		what = spa_addr_never_grantable(AF_INET, dec->nat_bin);
		if (what) {
			dec->verdict = SPA_REJECT;
			snprintf(dec->reason, sizeof(dec->reason), "NAT host '%.72s' is %s, %s",
				 job->host, dec->nat_addr, what);
		}
	}
	spa_daemon_act(d, &job->pkt, dec);
}

void spa_daemon_natdns_event(struct spa_daemon *d)
{
	struct natdns_job *job;

	while (read(d->dns_fd[0], &job, sizeof(job)) == sizeof(job)) {
		if (!job) {
			if (d->dns_pending)
				d->dns_pending--;
			continue;
		}
		finish(d, job);
		free(job);
	}
}
