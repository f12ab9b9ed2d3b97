/* SPDX-License-Identifier: MIT */
/* spa_daemon.h - the running daemon: sockets, event loop, grants, plugins. */
#ifndef SPA_DAEMON_H
#define SPA_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "spa_capture.h"
#include "spa_config.h"
#include "spa_grants.h"
#include "spa_log.h"
#include "spa_opq.h"
#include "spa_pipeline.h"
#include "spa_plugin.h"
#include "spa_replay.h"

#define SPA_MAX_PLUGINS 8

/* Command-line settings that win over the files, kept for SIGHUP. */
struct spa_options {
	const char *config_file;
	const char *access_file;
	const char *access_folder;
	const char *digest_file;
	const char *pid_file;
	const char *run_dir;
	const char *override_files;   /* -O, comma list */
	const char *pcap_intf;        /* -i, comma list */
	const char *pcap_filter;      /* -P */
	const char *pcap_file;        /* --pcap-file */
	bool pcap_any_direction;
	bool udp_server;
	bool nfq_capture;             /* -n */
	bool syslog_enable;
	bool foreground;
	bool test_mode;
	int verbosity;
	long packet_limit;
};

/* A grant decision's log and JSON lines, written when the ops it submitted
 * are back (spa_daemon.c says why). */
struct spa_decision_note {
	struct spa_decision_note *next, *prev;
	unsigned left;               /* its ops not back yet */
	int level;
	char *json;                  /* the JSON line, newline included, or NULL */
	char line[1024];
};

struct spa_daemon {
	struct spa_options opt;
	struct spa_config cfg;
	struct spa_replay *replay;
	struct spa_grants grants;
	struct spa_plugin *plugins[SPA_MAX_PLUGINS];
	size_t n_plugins;
	int epfd, tfd, sfd, udp[2];
	int tcp[2];                  /* ENABLE_TCP_SERVER's listeners, -1: none */
	int rfd;                     /* RECONCILE_INTERVAL's timer, -1: off */
	int wfd;                     /* systemd watchdog's timer, -1: off */
	struct spa_capture cap[SPA_MAX_CAPTURES];
	size_t n_cap;
	struct spa_nfq *nfq;         /* NFQUEUE mode's queue, NULL: not in use */
	int json_fd;                 /* JSON decision lines, -1: off */
	long packets;
	unsigned long authenticated;     /* packets some key verified */
	struct spa_log_limit unauth_log; /* lines for packets no key verified */
	bool stop;
	/* the plugin runtime (spa_daemon_ops.c): plugins[i]'s worker is
	 * opq[i]; ofd wakes the loop when one has finished an op */
	struct spa_opq *opq[SPA_MAX_PLUGINS];
	int ofd;
	/* ENABLE_NAT_DNS (spa_daemon_natdns.c): answers come back on dns_fd[0] */
	int dns_fd[2];
	unsigned dns_pending;
	struct spa_decision_note *note;    /* the decision being acted on */
	struct spa_decision_note *notes;   /* decisions waiting for their ops */
	struct spa_daemon_retry *retries;  /* ops to try again, by time */
	size_t ops_since_trim;             /* ops done since the last malloc_trim */
	size_t n_retries, cap_retries;
	/* the host's addresses, for the allow IP checks (spa_hostaddr.h) */
	struct spa_hostaddrs host;
	/* privilege separation (spa_daemon_worker.c): the monitor's view of
	 * the packet process; worker is true in the packet process itself */
	bool worker;
	pid_t worker_pid;            /* -1: none running */
	int ps_fd;                   /* the monitor's end of the pair */
	bool worker_done;            /* its exit was asked for or announced */
	bool worker_ready;           /* it said it is sandboxed and reading */
	bool worker_failed;          /* a --pcap-file run ended by its death */
	uint64_t worker_started;     /* monotonic ms */
	uint64_t restart_at;         /* monotonic ms: start a new one then */
	uint32_t restart_delay_ms;
	bool captures_fresh;         /* no packet process has read them yet */
	/* cluster mode (spa_daemon_cluster.c, docs/CLUSTER.md): the
	 * STATE_STORE module and its runtime; NULL with STATE_STORE file */
	struct spa_plugin *store_plugin;
	struct spa_cluster *cluster;
};

void spa_daemon_init(struct spa_daemon *d, const struct spa_options *o);
/* Closes every grant, then flushes each plugin whose FLUSH_<prefix>AT_EXIT
 * is Y (the default); daemon mode only. */
void spa_daemon_close_all(struct spa_daemon *d);

/* Parses both files and applies the options; err holds "file:line: ...". */
int spa_daemon_load_config(const struct spa_options *o, struct spa_config *c, char *err,
			   size_t errlen);
/* Loads (checks) every plugin the config names and validates plugin keys
 * and capabilities; nothing is initialised yet. */
int spa_daemon_load_plugins(struct spa_daemon *d, char *err, size_t errlen);
/* What plugin p must be able to do for stanza s: IPv6 for an IPv6 SOURCE,
 * NAT (SPA_PLUGIN_CAP_NAT) for a stanza with NAT settings. */
int spa_daemon_stanza_caps(const struct spa_stanza *s, const struct spa_plugin *p, char *err,
			   size_t errlen);
struct spa_plugin *spa_daemon_plugin_for(struct spa_daemon *d, const struct spa_stanza *s);
/* Each loaded plugin's key schema over cfg (spa_plugin_keys.h): unknown
 * or ill-typed keys are errors, secrets' _FILEs are read into cfg. */
int spa_daemon_apply_schemas(struct spa_daemon *d, struct spa_config *cfg, char *err,
			     size_t errlen);
/* The config's variables against every loaded plugin's key_prefix (and
 * the state store's): unknown ones are errors naming file:line. */
int spa_daemon_check_keys(struct spa_daemon *d, const struct spa_config *cfg, char *err,
			  size_t errlen);
/* Runs each loaded plugin's check op over the global keys and the stanzas
 * it serves (spa_plugin_check); nothing is initialised. */
int spa_daemon_check_plugins(struct spa_daemon *d, const struct spa_config *cfg, char *err,
			     size_t errlen);

/* Initialises plugins, replay cache, journal reconciliation, sockets. */
int spa_daemon_start(struct spa_daemon *d);
int spa_daemon_run(struct spa_daemon *d);
void spa_daemon_free(struct spa_daemon *d);

/* pcap mode (spa_daemon_pcap.c): opens the file or every interface and
 * puts live descriptors in the epoll set. */
int spa_daemon_open_captures(struct spa_daemon *d);
/* Takes what a live capture has queued, up to a burst; true when that
 * drained it. */
bool spa_daemon_read_capture(struct spa_daemon *d, struct spa_capture *c);
/* Runs the whole capture file through the pipeline. */
int spa_daemon_replay_file(struct spa_daemon *d);
void spa_daemon_close_captures(struct spa_daemon *d);
/* Counts one captured packet; true once -C is reached. */
bool spa_daemon_count_packet(struct spa_daemon *d);
/* One frame of link type dlt from a capture or the queue (named by from
 * in the log): parsed, decided, counted; true once -C is reached. */
bool spa_daemon_take_frame(struct spa_daemon *d, const char *from, int dlt, const uint8_t *frame,
			   size_t caplen);

/* NFQUEUE mode (spa_daemon_nfq.c): the monitor binds the queue and adds
 * the rule; the packet process reads it (true when that drained it); the
 * monitor removes the rule and unbinds at exit. */
int spa_daemon_open_nfq(struct spa_daemon *d);
bool spa_daemon_read_nfq(struct spa_daemon *d);
void spa_daemon_close_nfq(struct spa_daemon *d);
/* In the monitor: a verdict the packet process asked for. */
void spa_daemon_nfq_verdict(struct spa_daemon *d, uint32_t id, uint32_t v);
/* In the packet process: asks the monitor for that verdict. */
void spa_daemon_worker_verdict(struct spa_daemon *d, uint32_t id, uint32_t v);

/* spa_daemon_net.c: the wildcard address of family on port, its length. */
socklen_t spa_daemon_any_addr(int family, uint16_t port, struct sockaddr_storage *ss);
/* Adds fd to the loop's epoll set (readable). */
int spa_daemon_watch(struct spa_daemon *d, int fd);
/* The IPv4 (required) and IPv6 (if possible) UDP
 * sockets on port, watched by the loop; fds[1] is -1 without IPv6. */
int spa_daemon_open_udp(struct spa_daemon *d, uint16_t port, int fds[2]);
/* For a reload: re-opens the UDP port if it changed, and the captures
 * (always: spa_daemon_renew_captures); on failure the running ones are
 * kept and a reason is logged. */
int spa_daemon_reopen_network(struct spa_daemon *d, struct spa_config *fresh);
/* A new set of live captures under cfg for the next packet process, new
 * before old (spa_daemon_net.c says why); no-op for UDP or a file. */
int spa_daemon_renew_captures(struct spa_daemon *d, const struct spa_config *cfg);

/* An op that failed transiently, to submit again at `at` (monotonic ms). */
struct spa_daemon_retry {
	uint64_t id;
	uint64_t at;
	enum spa_op_kind kind;
	unsigned attempt;
};

/* What became of an op, as its handlers see it: from the worker, or from
 * the loop when PLUGIN_OP_TIMEOUT ran out first. */
struct spa_op_result {
	enum spa_op_kind kind;
	const struct spa_grant *g;
	unsigned attempt;
	int rc;
	bool transient;
	const char *msg;              /* "": none given */
	const char *why;
	bool lost;                    /* an open reconciliation asked for */
};

/* An op of the note's decision is back: the last one writes its lines. */
void spa_daemon_note_done(struct spa_daemon *d, struct spa_decision_note *n);
/* Writes the lines of decisions still waiting (at exit). */
void spa_daemon_notes_flush(struct spa_daemon *d);

/* spa_daemon_ops.c: the plugin runtime of the daemon. */
/* The eventfd and a worker per initialised plugin. */
int spa_daemon_ops_start(struct spa_daemon *d);
/* Stops the workers; a worker that does not stop in wait_ms is left hung
 * and its plugin is never unloaded. */
void spa_daemon_ops_stop(struct spa_daemon *d, int wait_ms);
struct spa_opq *spa_daemon_opq_of(struct spa_daemon *d, const struct spa_plugin *p);
/* Submits an op on grant r (a copy is taken, with its token and policy);
 * a close marks the grant busy so that it is not due again meanwhile. */
int spa_daemon_submit(struct spa_daemon *d, struct spa_plugin *p, enum spa_op_kind kind,
		      const struct spa_grant_rec *r, const char *why, unsigned attempt);
/* The same, returning the op (NULL: not submitted) for the caller to mark
 * before the loop releases it. */
struct spa_op *spa_daemon_submit_op(struct spa_daemon *d, struct spa_plugin *p,
				    enum spa_op_kind kind, const struct spa_grant_rec *r,
				    const char *why, unsigned attempt);
/* A close of a backend entry no grant covers (reconciliation). */
int spa_daemon_submit_foreign_close(struct spa_daemon *d, struct spa_plugin *p,
				    const struct spa_grant *g, const char *why);
int spa_daemon_submit_list(struct spa_daemon *d, struct spa_plugin *p, const char *why);
/* Hands what was submitted to the workers: after the journal is synced. */
void spa_daemon_ops_release(struct spa_daemon *d);
/* The eventfd fired: answers token_set requests, handles finished ops. */
void spa_daemon_ops_event(struct spa_daemon *d);
/* ms until a retry or an op's deadline is due, -1 none. */
int spa_daemon_ops_timeout_ms(struct spa_daemon *d);
/* Ops past PLUGIN_OP_TIMEOUT fail; retries that are due are submitted. */
void spa_daemon_ops_tick(struct spa_daemon *d);
bool spa_daemon_ops_idle(struct spa_daemon *d);
/* Whether an op's failure is worth a retry: op_fail's class, else errno. */
bool spa_daemon_op_transient(int rc, int fail_kind);
/* Schedules another try of an op on grant id, with backoff. */
void spa_daemon_retry_later(struct spa_daemon *d, uint64_t id, enum spa_op_kind kind,
			    unsigned attempt, uint64_t delay_ms);
/* spa_daemon.c: runs the loop's runtime part (journal sync, release,
 * finished ops, retries) until every worker is idle or wait_ms passed;
 * true when idle. */
bool spa_daemon_drain(struct spa_daemon *d, int wait_ms);

/* spa_daemon_grants.c: the open/refresh/close cycle. */
struct spa_plugin *spa_daemon_plugin_named(struct spa_daemon *d, const char *name);
/* Lets p's stanza_get answer from the policies of d's grants. */
void spa_daemon_bind_plugin(struct spa_daemon *d, struct spa_plugin *p);
/* Timer at the earliest expiry or close retry; disarmed when none. */
void spa_daemon_arm_timer(struct spa_daemon *d);
/* Closes what is due: expired grants and closes to retry. */
void spa_daemon_expire_due(struct spa_daemon *d);
/* MAX_GRANTS_TOTAL, and the deciding stanza's MAX_GRANTS and
 * MAX_GRANTS_PER_USER, against the grants the decision would add (refreshes
 * are free). 0, or -EDQUOT with the log reason in why; -ENOMEM. */
/* A grant decision whose NAT field names a host (dec->nat_resolve): the
 * name is resolved off the loop and the decision acted on once answered. */
void spa_daemon_natdns_submit(struct spa_daemon *d, const struct spa_pkt *pkt,
			      struct spa_decision *dec);
void spa_daemon_natdns_event(struct spa_daemon *d);
/* ", nat=forward+snat to=ADDR,PORT snat=ADDR" for a NAT decision's log line. */
void spa_daemon_nat_detail(const struct spa_decision *dec, char *out, size_t cap);
/* The same for the JSON decision line: {"form", "to", "port", "snat"}. */
struct json_t *spa_daemon_nat_json(const struct spa_decision *dec);
int spa_daemon_check_limits(struct spa_daemon *d, const struct spa_decision *dec,
			    struct spa_plugin *p, int64_t now, char *why, size_t cap);
/* Opens or refreshes the grant of one port of a decision. On an error,
 * *what is spa_daemon_journal_failed when the journal, not the backend,
 * refused (nothing was asked of the backend then). */
extern const char spa_daemon_journal_failed[];
int spa_daemon_apply_port(struct spa_daemon *d, const struct spa_decision *dec,
			  struct spa_plugin *p, const struct spa_port *port, int64_t now,
			  const char **what);
/* Loads the plugins that journal grants name but the config does not. */
int spa_daemon_load_journal_plugins(struct spa_daemon *d);
/* At start: closes what is due, re-opens live journal grants. */
void spa_daemon_reconcile(struct spa_daemon *d);
/* Asks grant id's backend to open it again (it lost it); 0 or negative.
 * The outcome is logged when the open comes back. */
int spa_daemon_grant_reopen(struct spa_daemon *d, uint64_t id, const char *why);
/* Submits the close of grant id (unless one is already with the backend). */
int spa_daemon_grant_close(struct spa_daemon *d, uint64_t id, const char *why);
/* What became of an open, refresh or close of a grant. */
void spa_daemon_grant_done(struct spa_daemon *d, struct spa_plugin *p,
			   const struct spa_op_result *res);
/* spa_daemon_reconcile.c: compares what each backend that can list holds
 * with the grant store; re-opens live grants a backend lost and closes
 * entries no grant covers. `why` names the trigger for the log. */
void spa_daemon_reconcile_backends(struct spa_daemon *d, const char *why);
/* A listing (or a reconciliation close) is back. */
void spa_daemon_list_done(struct spa_daemon *d, struct spa_plugin *p, struct spa_op *op,
			  const struct spa_op_result *res);
void spa_daemon_foreign_done(struct spa_daemon *d, struct spa_plugin *p,
			     const struct spa_op_result *res);

/* In the packet process: decides one packet and sends the record. */
void spa_daemon_decide(struct spa_daemon *d, const struct spa_pkt *pkt);
/* In the packet process (spa_daemon_worker.c): a final decision's record
 * to the monitor. */
void spa_daemon_worker_send(struct spa_daemon *d, const struct spa_pkt *pkt,
			    const struct spa_decision *dec);
/* In the packet process, GnuPG (spa_daemon_gpg.c): handles fd if it is the
 * GnuPG helper's pair, false for any other descriptor. */
bool spa_daemon_worker_event(struct spa_daemon *d, int fd);
/* Before the sandbox: the helper when a stanza has GnuPG; 0 or -errno. */
int spa_daemon_gpg_start(struct spa_daemon *d);
/* The helper's pair, -1 without GnuPG. */
int spa_daemon_gpg_fd(void);
/* The start-up line: helper pid and limits. */
void spa_daemon_gpg_log_start(void);
/* Carries dec to its end: sent to the monitor now, or once gpg answered. */
void spa_daemon_gpg_settle(struct spa_daemon *d, const struct spa_pkt *pkt,
			   struct spa_decision *dec);
/* A gpg run unanswered past its deadline replaces this process. */
void spa_daemon_gpg_check(struct spa_daemon *d);
/* At most once a minute, the count of packets refused without a gpg run. */
void spa_daemon_gpg_report(void);
/* At the end: waits a while for gpg runs under way, refuses the rest. */
void spa_daemon_gpg_stop(struct spa_daemon *d);
/* In the packet process: reads the sockets or captures in epfd until
 * ctl_fd is readable (STOP, or the monitor gone) or d->stop. */
void spa_daemon_serve_packets(struct spa_daemon *d, int epfd, int ctl_fd);
/* In the monitor: acts on a decision the monitor re-checked (grant store,
 * journal, plugins) and logs it. */
void spa_daemon_act(struct spa_daemon *d, const struct spa_pkt *pkt, struct spa_decision *dec);

/* spa_daemon_worker.c: the packet process, from the monitor's side. */
int spa_daemon_worker_start(struct spa_daemon *d);
/* Asks it to stop, acts on what it still sends, reaps it. */
void spa_daemon_worker_stop(struct spa_daemon *d);
/* Takes what it sent (a burst); true when that drained the pair. */
bool spa_daemon_worker_read(struct spa_daemon *d);
/* After a crash: ms until a new one is due (-1: none due), and starting it. */
int spa_daemon_worker_timeout_ms(const struct spa_daemon *d);
void spa_daemon_worker_tick(struct spa_daemon *d);

/* spa_daemon_cmd.c: command messages (docs/ARCHITECTURE.md, "Command
 * messages"). The op deadline of p's worker: PLUGIN_OP_TIMEOUT, and for a
 * command module at least CMD_EXEC_TIMEOUT plus a margin. */
uint32_t spa_daemon_op_timeout_ms(const struct spa_daemon *d, const struct spa_plugin *p);
/* Loads the command module of each stanza with ENABLE_CMD_EXEC Y (none
 * when no stanza has it); err names the stanza. */
int spa_daemon_load_command_modules(struct spa_daemon *d, char *err, size_t errlen);
/* A reload: every command module cfg needs must be loaded already. */
int spa_daemon_check_command_modules(struct spa_daemon *d, const struct spa_config *cfg,
				     char *err, size_t errlen);
/* Hands a SPA_COMMAND decision to its module's worker (the op carries
 * d->note); detail gets the decision line's end. 0, or a negative error
 * with dec->reason saying why. */
int spa_daemon_command_submit(struct spa_daemon *d, const struct spa_pkt *pkt,
			      struct spa_decision *dec, char *detail, size_t cap);
/* A command op is back (or failed at its deadline: op's result unread). */
void spa_daemon_command_done(struct spa_daemon *d, struct spa_plugin *p, struct spa_op *op,
			     const struct spa_op_result *res);

/* spa_daemon_cluster.c: cluster mode (docs/CLUSTER.md). Loads the
 * STATE_STORE module (none for "file"). */
int spa_daemon_cluster_load(struct spa_daemon *d, char *err, size_t errlen);
/* A reload may not change the store or the node's name. */
int spa_daemon_cluster_reload_check(const struct spa_daemon *d, const struct spa_config *fresh,
				    char *err, size_t errlen);
/* Initialises the module, starts its threads and the watch of the
 * cluster's grants, and applies the listing (bounded wait) before spad
 * listens. */
int spa_daemon_cluster_start(struct spa_daemon *d);
void spa_daemon_cluster_stop(struct spa_daemon *d);
/* The store runtime's descriptor in the loop, -1 without one. */
int spa_daemon_cluster_fd(const struct spa_daemon *d);
void spa_daemon_cluster_event(struct spa_daemon *d);
/* In the monitor, after the local replay check: a decision to act on is
 * claimed in the store first; true when the claim took it (acted on
 * once the store answers). */
bool spa_daemon_cluster_claim(struct spa_daemon *d, const struct spa_pkt *pkt,
			      struct spa_decision *dec);
/* A grant of a GRANT_SCOPE cluster stanza opened or refreshed here: put
 * in the store for the other nodes. */
void spa_daemon_cluster_publish(struct spa_daemon *d, const struct spa_decision *dec,
				const struct spa_plugin *p, int64_t now);
/* Puts to try again: ms until one is due (-1 none), and trying them. */
int spa_daemon_cluster_timeout_ms(struct spa_daemon *d);
void spa_daemon_cluster_tick(struct spa_daemon *d);

#endif
