/* SPDX-License-Identifier: MIT */
/*
 * spa_daemon_cluster.c - cluster mode in the monitor (docs/CLUSTER.md).
 * With STATE_STORE naming a store module, a packet the monitor would act
 * on is first claimed in the store: `replay/<digest>` is created only if
 * absent, atomically across every node, so of all nodes that see one
 * packet exactly one acts on it. The decision waits off the loop for the
 * answer (a store worker thread, spa_store.c); the local replay cache
 * stays the first filter. Grants of GRANT_SCOPE cluster stanzas are put
 * under `grants/<node>/...` until they expire; every node watches
 * `grants/` and opens each other node's grant locally, as an ordinary
 * grant of its own (journaled, closed by its own timer at the same
 * expiry), so a hole closes on time on every node whatever the store does.
 */
#include "spa_daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spa_cluster_doc.h"
#include "spa_hostaddr.h"
#include "spa_log.h"
#include "spa_store.h"

#define CLUSTER_THREADS 8          /* claims in flight: each waits a quorum's fsync */
#define CLUSTER_MAX_WAITING 4096      /* knocks waiting for the store */
#define CLUSTER_SYNC_WAIT_MS 5000     /* at start: the catch-up's range read */
#define CLUSTER_PUB_RETRY_MAX_MS 8000u
#define GRANTS_PREFIX "grants/"
#define REPLAY_PREFIX "replay/"

/* A knock waiting for its claim; the job first, so it is freed as one. */
struct cluster_wait {
	struct spa_store_job job;
	struct spa_pkt pkt;
	struct spa_decision dec;
	uint64_t generation;
};

/* A grant of this node in the store: put again until the store has it. */
struct cluster_pub {
	struct cluster_pub *next;
	char key[SPA_STORE_KEY_MAX + 1];
	char *value;
	int64_t expires;
	uint64_t retry_at;            /* monotonic ms; 0: not due */
	unsigned attempt;
	bool inflight, stored;
};

struct spa_cluster {
	struct spa_store *rt;
	char own_prefix[SPA_STORE_KEY_MAX + 1];   /* grants/<node>/ */
	bool lost;                    /* the last claim got no answer */
	int64_t lost_since;
	unsigned long lost_accepts;   /* CLUSTER_FAIL_MODE local, while lost */
	bool synced;
	size_t mirrored;              /* other nodes' grants applied since start */
	struct cluster_pub *pubs;
	uint64_t pub_due_ms;          /* the earliest retry_at of pubs, 0: none */
	uint64_t pub_sweep_ms;        /* next look for expired pubs */
	int64_t log_sec;              /* one "no stanza" warning a second */
	/* each stanza's policy (by index), for the configuration of
	 * generation pol_gen: a listing of many grants would otherwise
	 * digest every stanza for every grant */
	const struct spa_policy **pols;
	uint64_t pol_gen;
};

/* The loop asks for the next due time at every wakeup: it is kept, not
 * searched for. */
static void pub_due(struct spa_cluster *c, struct cluster_pub *pb, uint64_t at)
{
	pb->retry_at = at;
	if (!c->pub_due_ms || at < c->pub_due_ms)
		c->pub_due_ms = at;
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

int spa_daemon_cluster_load(struct spa_daemon *d, char *err, size_t errlen)
{
	char lerr[SPA_CONF_ERR_LEN / 2];
	int rc;

	if (!spa_conf_cluster_on(&d->cfg) || d->store_plugin)
		return 0;
	rc = spa_plugin_load_named(d->cfg.plugin_dir, d->cfg.cluster.store, &d->store_plugin,
				   lerr, sizeof(lerr));
	if (rc < 0) {
		snprintf(err, errlen, "%s: STATE_STORE '%s': %s",
			 d->cfg.cluster.store_where[0] ? d->cfg.cluster.store_where : "STATE_STORE",
			 d->cfg.cluster.store, lerr);
		return rc;
	}
	if (!(d->store_plugin->d->capabilities & SPA_PLUGIN_CAP_STORE)) {
		snprintf(err, errlen, "%s: STATE_STORE '%s': plugin %s is a firewall backend, "
			 "not a state store (no SPA_PLUGIN_CAP_STORE)", d->cfg.cluster.store_where,
			 d->cfg.cluster.store, d->store_plugin->path);
		spa_plugin_unload(d->store_plugin);
		d->store_plugin = NULL;
		return -EINVAL;
	}
	return 0;
}

int spa_daemon_cluster_reload_check(const struct spa_daemon *d, const struct spa_config *fresh,
				    char *err, size_t errlen)
{
	const struct spa_conf_cluster *a = &d->cfg.cluster, *b = &fresh->cluster;

	if (strcmp(a->store, b->store) != 0 || strcmp(a->node, b->node) != 0) {
		snprintf(err, errlen, "STATE_STORE or CLUSTER_NODE_NAME changed (%s/%s to %s/%s); "
			 "restart needed", a->store, a->node, b->store, b->node);
		return -EINVAL;
	}
	return 0;
}

int spa_daemon_cluster_fd(const struct spa_daemon *d)
{
	return d->cluster ? spa_store_fd(d->cluster->rt) : -1;
}

static void store_back(struct spa_daemon *d)
{
	struct spa_cluster *c = d->cluster;

	if (!c->lost)
		return;
	spa_log(SPA_L_NOTICE, "cluster: state store %s answers again after %lld s%s",
		d->cfg.cluster.store, (long long)(now_s() - c->lost_since),
		c->lost_accepts ? "; knocks accepted meanwhile were checked against this "
				  "node's replay cache only" : "");
	c->lost = false;
	c->lost_accepts = 0;
}

static void store_lost(struct spa_daemon *d, int rc)
{
	struct spa_cluster *c = d->cluster;

	if (c->lost)
		return;
	c->lost = true;
	c->lost_since = now_s();
	spa_log(SPA_L_ERR, "cluster: state store %s does not answer (%s): %s",
		d->cfg.cluster.store, strerror(-rc),
		d->cfg.cluster.fail_local ?
		"CLUSTER_FAIL_MODE local: knocks are checked against this node's replay cache "
		"only, so a packet replayed to another node may be accepted there too" :
		"CLUSTER_FAIL_MODE closed: knocks are refused until it answers");
}

bool spa_daemon_cluster_claim(struct spa_daemon *d, const struct spa_pkt *pkt,
			      struct spa_decision *dec)
{
	const char *digests[2] = { dec->spent ? dec->digest : NULL,
				   dec->msg_spent ? dec->msg_digest : NULL };
	struct cluster_wait *w;
	int k = 0;

	if (!d->cluster || d->opt.test_mode ||
	    (dec->verdict != SPA_GRANT && dec->verdict != SPA_COMMAND) ||
	    (!digests[0] && !digests[1]))
		return false;
	if (spa_store_pending(d->cluster->rt) >= CLUSTER_MAX_WAITING) {
		dec->verdict = SPA_REJECT;
		snprintf(dec->reason, sizeof(dec->reason), "cluster: %d knocks wait for the "
			 "state store already; knock refused", CLUSTER_MAX_WAITING);
		spa_daemon_act(d, pkt, dec);
		return true;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		dec->verdict = SPA_REJECT;
		snprintf(dec->reason, sizeof(dec->reason), "cluster: out of memory");
		spa_daemon_act(d, pkt, dec);
		return true;
	}
	w->job.kind = SPA_STORE_CLAIM;
	w->job.ttl = spa_conf_cluster_replay_ttl(&d->cfg);
	for (int i = 0; i < 2; i++)
		if (digests[i])
			snprintf(w->job.key[k++], sizeof(w->job.key[0]), REPLAY_PREFIX "%s",
				 digests[i]);
	w->pkt = *pkt;
	w->pkt.data = NULL;
	w->pkt.len = 0;
	w->dec = *dec;
	w->generation = d->cfg.generation;
	spa_store_submit(d->cluster->rt, &w->job);
	return true;
}

static void claim_done(struct spa_daemon *d, struct cluster_wait *w)
{
	struct spa_decision *dec = &w->dec;
	int rc = w->job.rc;

	if (w->generation != d->cfg.generation) {
		/* its stanza belonged to the configuration a reload replaced */
		dec->stanza = NULL;
		dec->verdict = SPA_REJECT;
		snprintf(dec->reason, sizeof(dec->reason), "cluster: the configuration was "
			 "reloaded while the state store was asked; knock refused");
	} else if (rc == SPA_STORE_NEW) {
		store_back(d);
	} else if (rc == SPA_STORE_SEEN) {
		store_back(d);
		dec->verdict = SPA_REJECT;
		dec->replayed = true;
		snprintf(dec->reason, sizeof(dec->reason), "replay: the cluster has seen this "
			 "packet already (accepted by a node)");
	} else {
		store_lost(d, rc);
		if (d->cfg.cluster.fail_local) {
			d->cluster->lost_accepts++;
			spa_log(SPA_L_WARNING, "cluster: state store unavailable (%s); knock from "
				"%s accepted on this node's replay cache only (CLUSTER_FAIL_MODE "
				"local)", strerror(-rc), w->pkt.src);
		} else {
			dec->verdict = SPA_REJECT;
			snprintf(dec->reason, sizeof(dec->reason), "cluster: state store "
				 "unavailable (%s); knock refused (CLUSTER_FAIL_MODE closed)",
				 strerror(-rc));
		}
	}
	spa_daemon_act(d, &w->pkt, dec);
}

/* ---- grants of GRANT_SCOPE cluster stanzas ---- */

static void pub_submit(struct spa_daemon *d, struct cluster_pub *pb)
{
	struct spa_store_job *j = calloc(1, sizeof(*j));
	int64_t left = pb->expires - now_s();

	if (!j || !(j->value = strdup(pb->value))) {
		free(j);
		pub_due(d->cluster, pb, spa_opq_now_ms() + 1000u);
		return;
	}
	j->kind = SPA_STORE_PUT;
	snprintf(j->key[0], sizeof(j->key[0]), "%s", pb->key);
	/* a little past the expiry: every node's own timer closes the grant,
	 * the store's copy only has to outlive it */
	j->ttl = (uint32_t)(left > 0 ? left : 0) + 2u;
	j->owner = pb;
	pb->inflight = true;
	pb->retry_at = 0;
	spa_store_submit(d->cluster->rt, j);
}

static void put_done(struct spa_daemon *d, struct spa_store_job *j)
{
	struct cluster_pub *pb = j->owner;
	uint64_t delay;

	pb->inflight = false;
	if (j->rc == 0) {
		pb->stored = true;
		pb->attempt = 0;
		/* a later expiry came while this put was out: its turn now */
		if (pb->retry_at)
			pub_due(d->cluster, pb, pb->retry_at);
		return;
	}
	pb->attempt++;
	delay = 250u << (pb->attempt < 6 ? pb->attempt : 6);
	if (delay > CLUSTER_PUB_RETRY_MAX_MS)
		delay = CLUSTER_PUB_RETRY_MAX_MS;
	pub_due(d->cluster, pb, spa_opq_now_ms() + delay);
	if (pb->attempt == 1)
		spa_log(SPA_L_WARNING, "cluster: grant %s not stored (%s); the other nodes do not "
			"open it until it is (retried while it lives)", pb->key, strerror(-j->rc));
}

static void addr_text(int family, const uint8_t *bin, char out[46])
{
	if (!inet_ntop(family, bin, out, 46))
		out[0] = '\0';
}

/* A string for the document, whole or not at all. */
static int doc_text(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, v, n + 1);
	return 0;
}

void spa_daemon_cluster_publish(struct spa_daemon *d, const struct spa_decision *dec,
				const struct spa_plugin *p, int64_t now)
{
	const struct spa_policy *pol;
	struct spa_cluster_doc doc;
	char src[46];

	memset(&doc, 0, sizeof(doc));
	if (!d->cluster || !dec->stanza || !dec->stanza->grant_cluster || dec->from_cluster ||
	    d->opt.test_mode)
		return;
	pol = spa_policy_of_stanza(&d->grants.policies, p->d->name, dec->stanza);
	if (!pol || doc_text(doc.node, sizeof(doc.node), d->cfg.cluster.node) < 0 ||
	    doc_text(doc.user, sizeof(doc.user), dec->msg.username) < 0 ||
	    doc_text(doc.policy, sizeof(doc.policy), pol->id) < 0 ||
	    doc_text(doc.stanza, sizeof(doc.stanza), dec->stanza->label) < 0)
		return;
	addr_text(dec->allow_family, dec->allow_bin, src);
	doc.version = SPA_CLUSTER_DOC_VERSION;
	doc.family = dec->allow_family;
	memcpy(doc.src_bin, dec->allow_bin, sizeof(doc.src_bin));
	doc.expires = now + dec->timeout;
	doc.timeout = dec->timeout;
	doc.nat_flags = dec->nat_flags;
	if (dec->nat_flags && dec->nat_family) {
		doc.nat_family = dec->nat_family;
		memcpy(doc.nat_bin, dec->nat_bin, sizeof(doc.nat_bin));
		doc.nat_port = dec->nat_port;
	}
	if (dec->nat_flags & SPA_NAT_SNAT)
		memcpy(doc.snat_bin, dec->snat_bin, sizeof(doc.snat_bin));
	for (size_t i = 0; i < dec->n_ports; i++) {
		struct cluster_pub *pb = NULL;
		char key[SPA_STORE_KEY_MAX + 1];
		char *text;
		int n, rc;

		n = snprintf(key, sizeof(key), "%s%s-%u-%u-%s-%" PRIu32, d->cluster->own_prefix,
			     pol->id, dec->ports[i].proto, dec->ports[i].port, src, dec->nat_flags);
		if (n < 0 || (size_t)n >= sizeof(key))
			continue;
		doc.proto = dec->ports[i].proto;
		doc.port = dec->ports[i].port;
		rc = spa_cluster_doc_encode(&doc, &text);
		if (rc < 0) {
			spa_log(SPA_L_WARNING, "cluster: grant %s not put in the store: no valid "
				"document for it (%s)", key, strerror(-rc));
			continue;
		}
		for (pb = d->cluster->pubs; pb && strcmp(pb->key, key) != 0; pb = pb->next)
			;
		if (!pb) {
			pb = calloc(1, sizeof(*pb));
			if (!pb) {
				free(text);
				continue;
			}
			memcpy(pb->key, key, strlen(key) + 1);
			pb->next = d->cluster->pubs;
			d->cluster->pubs = pb;
		} else if (now + dec->timeout <= pb->expires) {
			free(text);       /* nothing later to say */
			continue;
		}
		free(pb->value);
		pb->value = text;
		pb->expires = now + dec->timeout;
		pb->stored = false;
		pb->attempt = 0;
		/* one put at a time per key: a later one waits its turn */
		if (pb->inflight)
			pub_due(d->cluster, pb, spa_opq_now_ms());
		else
			pub_submit(d, pb);
	}
}

int spa_daemon_cluster_timeout_ms(struct spa_daemon *d)
{
	uint64_t now = spa_opq_now_ms(), due;

	if (!d->cluster || !d->cluster->pub_due_ms)
		return -1;
	due = d->cluster->pub_due_ms;
	return due <= now ? 0 : (int)(due - now > 60000u ? 60000u : due - now);
}

void spa_daemon_cluster_tick(struct spa_daemon *d)
{
	struct spa_cluster *c = d->cluster;
	struct cluster_pub **pp;
	uint64_t now = spa_opq_now_ms();
	int64_t wall = now_s();

	/* a walk when a retry is due, or once a second for expired entries */
	if (!c || ((!c->pub_due_ms || now < c->pub_due_ms) && now < c->pub_sweep_ms))
		return;
	c->pub_due_ms = 0;
	c->pub_sweep_ms = now + 1000u;
	for (pp = &c->pubs; *pp;) {
		struct cluster_pub *pb = *pp;
		if (pb->expires <= wall && !pb->inflight) {
			*pp = pb->next;
			free(pb->value);
			free(pb);
			continue;
		}
		if (pb->retry_at && !pb->inflight && pb->retry_at <= now && pb->expires > wall)
			pub_submit(d, pb);
		else if (pb->retry_at && !pb->inflight && pb->expires > wall)
			pub_due(c, pb, pb->retry_at);
		pp = &pb->next;
	}
}

/* ---- other nodes' grants ---- */

static const struct spa_stanza *stanza_of_policy(struct spa_daemon *d, const char *id,
						 struct spa_plugin **pp)
{
	struct spa_cluster *c = d->cluster;

	if (c->pol_gen != d->cfg.generation) {
		const struct spa_policy **pols = calloc(d->cfg.n_stanzas ? d->cfg.n_stanzas : 1,
							sizeof(*pols));
		if (!pols)
			return NULL;
		for (size_t i = 0; i < d->cfg.n_stanzas; i++) {
			struct spa_plugin *p = spa_daemon_plugin_for(d, &d->cfg.stanzas[i]);
			pols[i] = p ? spa_policy_of_stanza(&d->grants.policies, p->d->name,
							   &d->cfg.stanzas[i]) : NULL;
		}
		free(c->pols);
		c->pols = pols;
		c->pol_gen = d->cfg.generation;
	}
	for (size_t i = 0; i < d->cfg.n_stanzas; i++) {
		const struct spa_stanza *s = &d->cfg.stanzas[i];
		const struct spa_policy *pol = c->pols[i];
		struct spa_plugin *p = spa_daemon_plugin_for(d, s);

		if (p && pol && strcmp(pol->id, id) == 0) {
			*pp = p;
			return s;
		}
	}
	return NULL;
}

/* Whether a warning about the store's content may be logged now: at most
 * one a second, whatever a node (or a bug) puts there. */
static bool warn_due(struct spa_daemon *d)
{
	if (d->cluster->log_sec == now_s())
		return false;
	d->cluster->log_sec = now_s();
	return true;
}

/* The decision a grant document stands for: parsed strictly, as what
 * the network sends (a store is shared by every node's credentials). */
static int doc_decision(struct spa_daemon *d, const char *value, const char *key,
			struct spa_pkt *pkt, struct spa_decision *dec, int64_t *expires)
{
	struct spa_cluster_doc doc;
	struct spa_plugin *p = NULL;
	const char *what, *addr;
	char why[160];

	memset(pkt, 0, sizeof(*pkt));
	memset(dec, 0, sizeof(*dec));
	if (spa_cluster_doc_decode(value, &doc, why, sizeof(why)) < 0) {
		if (warn_due(d))
			spa_log(SPA_L_WARNING, "cluster: grant %s: not a grant document (%s); "
				"ignored", key, why);
		return -EINVAL;
	}
	addr = doc.src;
	what = spa_addr_never_grantable(doc.family, doc.src_bin);
	/* a grant for this host's own loopback is no one's access */
	if (!what && spa_addr_is_loopback(doc.family, doc.src_bin))
		what = "loopback";
	if (!what && doc.nat_family) {
		addr = doc.nat_addr;
		what = spa_addr_never_grantable(doc.nat_family, doc.nat_bin);
	}
	if (what) {
		if (warn_due(d))
			spa_log(SPA_L_WARNING, "cluster: grant %s: address '%s' is %s; ignored", key,
				addr, what);
		return -EINVAL;
	}
	dec->stanza = stanza_of_policy(d, doc.policy, &p);
	if (!dec->stanza) {
		if (warn_due(d))
			spa_log(SPA_L_WARNING, "cluster: grant %s: no stanza here has its policy %s "
				"(is access.conf the same on every node?); not opened", key,
				doc.policy);
		return -ENOENT;
	}
	dec->allow_family = doc.family;
	memcpy(dec->allow_bin, doc.src_bin, sizeof(dec->allow_bin));
	dec->nat_flags = doc.nat_flags;
	dec->nat_family = doc.nat_family;
	memcpy(dec->nat_bin, doc.nat_bin, sizeof(dec->nat_bin));
	memcpy(dec->nat_addr, doc.nat_addr, sizeof(dec->nat_addr));
	dec->nat_port = doc.nat_port;
	memcpy(dec->snat_bin, doc.snat_bin, sizeof(dec->snat_bin));
	memcpy(dec->snat_addr, doc.snat_addr, sizeof(dec->snat_addr));
	dec->verdict = SPA_GRANT;
	dec->authenticated = true;
	dec->from_cluster = true;
	memcpy(dec->allow, doc.src, sizeof(dec->allow));
	memcpy(dec->msg.username, doc.user, sizeof(doc.user));
	snprintf(dec->reason, sizeof(dec->reason), "cluster grant of node %s", doc.node);
	dec->timeout = doc.timeout;
	dec->n_ports = 1;
	dec->ports[0].proto = doc.proto;
	dec->ports[0].port = doc.port;
	pkt->family = doc.family;
	memcpy(pkt->src_bin, doc.src_bin, sizeof(pkt->src_bin));
	memcpy(pkt->src, doc.src, sizeof(pkt->src));
	/* the grant ends when it ends on its node, not timeout from now */
	pkt->now = doc.expires - (int64_t)doc.timeout;
	*expires = doc.expires;
	return 0;
}

static void apply_remote(struct spa_daemon *d, const char *key, const char *value)
{
	struct spa_decision dec;
	struct spa_pkt pkt;
	int64_t expires = 0;

	if (strncmp(key, GRANTS_PREFIX, strlen(GRANTS_PREFIX)) != 0 ||
	    strncmp(key, d->cluster->own_prefix, strlen(d->cluster->own_prefix)) == 0)
		return;   /* this node's own grants, or not a grant */
	if (doc_decision(d, value, key, &pkt, &dec, &expires) < 0)
		return;
	if (expires <= now_s())
		return;   /* over already: its node has closed it */
	d->cluster->mirrored++;
	spa_daemon_act(d, &pkt, &dec);
}

static void take_events(struct spa_daemon *d, struct spa_store_event *ev)
{
	for (; ev; ev = ev->next) {
		if (ev->event == SPA_STORE_EV_PUT && ev->key && ev->value) {
			apply_remote(d, ev->key, ev->value);
		} else if (ev->event == SPA_STORE_EV_SYNCED) {
			/* after a lost watch too: the listing was applied again
			 * (refreshes of what was there, opens of what is new) */
			spa_log(SPA_L_INFO, "cluster: in step with the state store (%zu grant%s of "
				"other nodes applied since start)", d->cluster->mirrored,
				spa_plural(d->cluster->mirrored));
			d->cluster->synced = true;
		} else if (ev->event == SPA_STORE_EV_DEL && ev->key) {
			/* a node's grant ends by its expiry on every node: each
			 * node's own timer closes it, the store's copy lapsing
			 * changes nothing */
			spa_log(SPA_L_DEBUG, "cluster: %s left the store", ev->key);
		}
	}
}

void spa_daemon_cluster_event(struct spa_daemon *d)
{
	struct spa_store_job *jobs;
	struct spa_store_event *events;

	if (!d->cluster)
		return;
	spa_store_take(d->cluster->rt, &jobs, &events);
	while (jobs) {
		struct spa_store_job *next = jobs->next;
		if (jobs->kind == SPA_STORE_CLAIM)
			claim_done(d, (struct cluster_wait *)jobs);
		else if (jobs->kind == SPA_STORE_PUT)
			put_done(d, jobs);
		spa_store_job_free(jobs);
		jobs = next;
	}
	take_events(d, events);
	spa_store_events_free(events);
	spa_daemon_arm_timer(d);
}

int spa_daemon_cluster_start(struct spa_daemon *d)
{
	struct spa_cluster *c;
	uint64_t end;
	int rc;

	if (!d->store_plugin || d->opt.test_mode)
		return 0;
	rc = spa_plugin_init(d->store_plugin, &d->cfg);
	if (rc < 0) {
		spa_log(SPA_L_ERR, "cluster: state store %s: init failed (%s)",
			d->cfg.cluster.store, strerror(-rc));
		return rc;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	snprintf(c->own_prefix, sizeof(c->own_prefix), GRANTS_PREFIX "%s/", d->cfg.cluster.node);
	rc = spa_store_start(d->store_plugin, CLUSTER_THREADS, GRANTS_PREFIX, &c->rt);
	if (rc < 0) {
		free(c);
		return rc;
	}
	d->cluster = c;
	rc = spa_daemon_watch(d, spa_store_fd(c->rt));
	if (rc < 0)
		return rc;
	spa_log(SPA_L_NOTICE, "cluster: node %s, state store %s, CLUSTER_FAIL_MODE %s",
		d->cfg.cluster.node, d->cfg.cluster.store,
		d->cfg.cluster.fail_local ? "local" : "closed");
	/* catch up before listening: the other nodes' live grants open here
	 * first, as the journal's did */
	end = spa_opq_now_ms() + CLUSTER_SYNC_WAIT_MS;
	while (!c->synced) {
		uint64_t now = spa_opq_now_ms();
		struct pollfd pfd = { .fd = spa_store_fd(c->rt), .events = POLLIN };

		if (now >= end) {
			spa_log(SPA_L_WARNING, "cluster: no listing from the state store within %d "
				"ms; listening meanwhile, other nodes' grants open once it comes",
				CLUSTER_SYNC_WAIT_MS);
			break;
		}
		if (poll(&pfd, 1, (int)(end - now)) > 0)
			spa_daemon_cluster_event(d);
	}
	return 0;
}

void spa_daemon_cluster_stop(struct spa_daemon *d)
{
	struct spa_cluster *c = d->cluster;
	bool clean = true;

	if (c) {
		clean = spa_store_stop(c->rt, 5000);
		while (c->pubs) {
			struct cluster_pub *next = c->pubs->next;
			free(c->pubs->value);
			free(c->pubs);
			c->pubs = next;
		}
		free(c->pols);
		free(c);
		d->cluster = NULL;
	}
	if (d->store_plugin && clean) {
		spa_plugin_unload(d->store_plugin);
		d->store_plugin = NULL;
	}
}
