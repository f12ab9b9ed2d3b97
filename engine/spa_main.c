/* SPDX-License-Identifier: MIT */
/* spa_main.c - spad's command line (fwknopd's option letters). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spa_daemon.h"
#include "spa_fsutil.h"
#include "spa_log.h"
#include "spa_notify.h"
#include "spa_nat.h"

#define EXIT_CONFIG 2

enum {
	OPT_EXIT_PARSE = 256, OPT_ACCESS_FOLDER, OPT_ROTATE, OPT_FW_LIST, OPT_FW_FLUSH,
	OPT_FW_LIST_ALL, OPT_PCAP_FILE, OPT_ANY_DIR, OPT_PARSE_DIGEST, OPT_SYSLOG,
};

enum action {
	RUN, EXIT_PARSE, KILL, RESTART, STATUS, FW_LIST, FW_LIST_ALL, FW_FLUSH, DUMP, PARSE_DIGEST,
};

#define INTF_LIST_MAX 256

static const struct option long_opts[] = {
	{ "config-file", required_argument, NULL, 'c' },
	{ "access-file", required_argument, NULL, 'a' },
	{ "access-folder", required_argument, NULL, OPT_ACCESS_FOLDER },
	{ "digest-file", required_argument, NULL, 'd' },
	{ "pid-file", required_argument, NULL, 'p' },
	{ "run-dir", required_argument, NULL, 'r' },
	{ "packet-limit", required_argument, NULL, 'C' },
	{ "override-config", required_argument, NULL, 'O' },
	{ "interface", required_argument, NULL, 'i' },
	{ "pcap-filter", required_argument, NULL, 'P' },
	{ "pcap-file", required_argument, NULL, OPT_PCAP_FILE },
	{ "pcap-any-direction", no_argument, NULL, OPT_ANY_DIR },
	{ "dump-config", no_argument, NULL, 'D' },
	{ "syslog-enable", no_argument, NULL, OPT_SYSLOG },
	{ "exit-parse-digest-cache", no_argument, NULL, OPT_PARSE_DIGEST },
	{ "fw-list-all", no_argument, NULL, OPT_FW_LIST_ALL },
	{ "udp-server", no_argument, NULL, 'U' },
	{ "nfq-capture", no_argument, NULL, 'n' },
	{ "foreground", no_argument, NULL, 'f' },
	{ "test", no_argument, NULL, 't' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "kill", no_argument, NULL, 'K' },
	{ "restart", no_argument, NULL, 'R' },
	{ "status", no_argument, NULL, 'S' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ "exit-parse-config", no_argument, NULL, OPT_EXIT_PARSE },
	{ "rotate-digest-cache", no_argument, NULL, OPT_ROTATE },
	{ "fw-list", no_argument, NULL, OPT_FW_LIST },
	{ "fw-flush", no_argument, NULL, OPT_FW_FLUSH },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: spad [options]\n"
		"  -c, --config-file FILE     server config (default " SPA_DEFAULT_CONF_FILE ")\n"
		"  -O, --override-config F[,F] files read after the server config\n"
		"  -a, --access-file FILE     access stanzas (default: ACCESS_FILE, else access.conf\n"
		"                             beside the server config)\n"
		"      --access-folder DIR    every *.conf in DIR instead of -a\n"
		"  -d, --digest-file FILE     replay cache file\n"
		"  -p, --pid-file FILE        pid file\n"
		"  -r, --run-dir DIR          run directory (pid, digests, journal)\n"
		"  -U, --udp-server           receive on a UDP socket instead of capturing\n"
		"  -n, --nfq-capture          read the SPA port from an NFQUEUE (ENABLE_NFQ_CAPTURE)\n"
		"  -i, --interface IF[,IF]    capture on these interfaces (repeatable; PCAP_INTF)\n"
		"  -P, --pcap-filter BPF      capture filter (default 'udp port 62201')\n"
		"      --pcap-file FILE       replay a capture file and exit at its end\n"
		"      --pcap-any-direction   also look at packets this host sends\n"
		"  -C, --packet-limit N       exit after N captured packets\n"
		"  -f, --foreground           stay in the foreground, log to stderr (time-stamped)\n"
		"      --syslog-enable        in the foreground, log to syslog too\n"
		"  -t, --test                 decide but never open anything or record digests\n"
		"  -v, --verbose              more logging (repeatable)\n"
		"  -K, --kill | -R, --restart | -S, --status   signal/query a running spad\n"
		"                             (need the pid file only: -c is enough)\n"
		"  -D, --dump-config          print the configuration (keys redacted) and exit\n"
		"      --exit-parse-config    check the configuration, plugins included, and exit\n"
		"                             (2 on error)\n"
		"      --exit-parse-digest-cache  read the replay cache, report, exit\n"
		"      --rotate-digest-cache  move the replay cache aside at start\n"
		"      --fw-list | --fw-list-all | --fw-flush\n"
		"                             list or remove what the backends hold, exit\n"
		"  -V, --version | -h, --help\n");
}

static pid_t pid_from_file(const char *path, bool *locked)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t r;

	*locked = false;
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		*locked = true;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	return (pid_t)strtol(buf, NULL, 10);
}

/* " nat=forward+snat to=ADDR,PORT snat=ADDR" for a NAT grant, else "". A
 * plugin's listing may come from an older SDK: only what it carries. */
static void fmt_nat(const struct spa_grant *g, char *out, size_t cap)
{
	char form[64];

	out[0] = '\0';
	if (!SPA_GRANT_HAS(g, nat_flags) || !g->nat_flags)
		return;
	snprintf(out, cap, " nat=%s to=%s,%u%s%s", spa_nat_form_name(g->nat_flags, form,
								       sizeof(form)),
		 g->nat_addr.family ? g->nat_addr.text : "-", g->nat_port,
		 g->snat_addr.family ? " snat=" : "", g->snat_addr.family ? g->snat_addr.text : "");
}

/* What the journal says the daemon holds: a running one's view, or what
 * the next start will close or re-open. */
static void status_journal(const struct spa_config *c)
{
	struct spa_grants gs;
	size_t closing, tokens = 0;
	char nat[160];
	int rc;

	if (access(c->journal_file, F_OK) < 0) {
		printf("journal %s: none\n", c->journal_file);
		return;
	}
	rc = spa_grants_open(&gs, c->journal_file);
	if (rc < 0) {
		printf("journal %s: unreadable (%s)\n", c->journal_file, strerror(-rc));
		return;
	}
	closing = spa_grants_closing(&gs);
	for (size_t i = 0; i < gs.n; i++) {
		struct spa_grant_rec r;
		spa_grants_at(&gs, i, &r);
		tokens += r.token_len > 0;
	}
	printf("journal %s: %zu grant%s", c->journal_file, gs.n, spa_plural(gs.n));
	if (closing)
		printf(", %zu stuck closing (the backend refused the close; retried until it "
		       "succeeds)", closing);
	if (tokens)
		printf(", %zu with a plugin token", tokens);
	printf("\n");
	for (size_t i = 0; i < gs.n; i++) {
		struct spa_grant_rec r;
		spa_grants_at(&gs, i, &r);
		if (!r.closing)
			continue;
		fmt_nat(&r.g, nat, sizeof(nat));
		printf("  stuck: grant %llu, %s %s/%u%s, backend %s, stanza %s, %u failed "
		       "attempt%s, token %zu bytes", (unsigned long long)r.g.id, r.g.src.text,
		       r.g.proto == 6 ? "tcp" : "udp", r.g.port, nat, r.plugin, r.g.stanza,
		       r.attempts, spa_plural(r.attempts), r.token_len);
		if (r.error[0])
			printf(", last error (%s): %s", r.permanent ? "permanent" : "transient",
			       r.error);
		printf("\n");
	}
	spa_grants_close(&gs);
}

static int signal_running(const struct spa_config *c, enum action a)
{
	bool locked;
	pid_t pid = pid_from_file(c->pid_file, &locked);

	if (pid <= 0 || !locked) {
		printf("spad is not running (%s)\n", c->pid_file);
		if (a == STATUS)
			status_journal(c);
		return 1;
	}
	if (a == STATUS) {
		printf("spad is running, pid %d\n", (int)pid);
		status_journal(c);
		return 0;
	}
	if (kill(pid, a == KILL ? SIGTERM : SIGHUP) < 0) {
		fprintf(stderr, "spad: signal pid %d: %s\n", (int)pid, strerror(errno));
		return 1;
	}
	return 0;
}

/* The lock, not the file's existence, says "running": a stale file left by
 * a crash does not block a restart. Taken before anything else is touched
 * (and before going to the background, so a second instance says so on
 * the terminal); *holder is the running one's pid on -EEXIST. */
static int lock_pid_file(const char *path, pid_t *holder)
{
	const char *base;
	bool locked;
	int dfd, fd;

	*holder = -1;
	/* root writes it: in the checked directory, never through a link */
	fd = spa_fs_open_dir(path, &dfd, &base, NULL, 0);
	if (fd < 0)
		return fd;
	fd = spa_fs_openat(dfd, base, O_RDWR | O_CREAT, 0600);
	close(dfd);
	if (fd < 0)
		return fd;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		*holder = pid_from_file(path, &locked);
		return -EEXIST;
	}
	return fd;
}

/* After the fork: the pid is the daemon's, not the parent's. */
static int write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	ssize_t w;

	if (ftruncate(fd, 0) < 0)
		return -errno;
	w = pwrite(fd, buf, (size_t)n, 0);
	if (w == n)
		return 0;
	/* a partial pid would name another process: leave the file empty */
	n = w < 0 ? -errno : -ENOSPC;
	if (ftruncate(fd, 0) < 0)
		n = -errno; /* the pid file may still hold a partial pid: say why */
	return n;
}

static void fmt_expiry(int64_t expires, time_t now, char *out, size_t cap)
{
	time_t t = (time_t)expires;
	struct tm tm;
	char when[40] = "?";

	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
	if (expires >= (int64_t)now)
		snprintf(out, cap, "%s (in %lld s)", when, (long long)(expires - (int64_t)now));
	else
		snprintf(out, cap, "%s (%lld s ago)", when, (long long)((int64_t)now - expires));
}

static void print_grant(void *ctx, const struct spa_grant *g)
{
	char when[80], nat[160];

	(void)ctx;
	fmt_expiry(g->expires, time(NULL), when, sizeof(when));
	fmt_nat(g, nat, sizeof(nat));
	printf("  %s %s/%u expires %s stanza %s%s\n", g->src.text, g->proto == 6 ? "tcp" : "udp",
	       g->port, when, g->stanza[0] ? g->stanza : "?", nat);
}

/* --fw-list-all adds what the engine's journal says it holds, per plugin:
 * a backend that cannot list still has its grants shown. */
static void list_journal(const struct spa_daemon *d)
{
	struct spa_grants gs;
	int rc = spa_grants_open(&gs, d->cfg.journal_file);

	if (rc < 0) {
		printf("journal %s: unreadable (%s)\n", d->cfg.journal_file, strerror(-rc));
		return;
	}
	printf("journal %s: %zu grant%s\n", d->cfg.journal_file, gs.n, spa_plural(gs.n));
	for (size_t i = 0; i < gs.n; i++) {
		struct spa_grant_rec r;
		spa_grants_at(&gs, i, &r);
		printf("  [%s]", r.plugin);
		print_grant(NULL, &r.g);
	}
	spa_grants_close(&gs);
}

/* Every plugin is asked even after one fails; the exit status says
 * whether every answer is complete (a backend that cannot list is not). */
static int fw_op(struct spa_daemon *d, enum action a)
{
	int status = 0;

	for (size_t i = 0; i < d->n_plugins; i++) {
		struct spa_plugin *p = d->plugins[i];
		int rc = spa_plugin_init(p, &d->cfg);

		if (rc < 0) {
			fprintf(stderr, "spad: plugin %s: init failed: %s\n", p->d->name,
				strerror(-rc));
			status = 1;
			continue;
		}
		if (a == FW_FLUSH) {
			rc = p->d->ops.flush(p->state);
		} else if (p->d->ops.list) {
			printf("plugin %s %s:\n", p->d->name, p->d->version);
			rc = p->d->ops.list(p->state, print_grant, NULL);
		} else {
			printf("plugin %s %s: cannot list%s\n", p->d->name, p->d->version,
			       a == FW_LIST ? " (--fw-list-all adds the journal's grants)" : "");
			status = 1;
		}
		if (rc < 0) {
			fprintf(stderr, "spad: plugin %s: %s failed: %s\n", p->d->name,
				a == FW_FLUSH ? "flush" : "list", strerror(-rc));
			status = 1;
		}
	}
	if (a == FW_LIST_ALL)
		list_journal(d);
	return status;
}

static int parse_digest_cache(const struct spa_config *c)
{
	struct spa_replay *r = NULL;
	int rc;

	if (access(c->digest_file, R_OK) < 0) {
		printf("digest cache %s: %s\n", c->digest_file, strerror(errno));
		return 1;
	}
	/* keep 0: a check must not compact (drop entries from) the file */
	rc = spa_replay_open(c->digest_file, (int64_t)time(NULL), 0, &r);
	if (rc < 0) {
		printf("digest cache %s: %s\n", c->digest_file, strerror(-rc));
		return 1;
	}
	printf("digest cache %s: %zu entries\n", c->digest_file, spa_replay_count(r));
	spa_replay_close(r);
	return 0;
}

static int add_intf(char *list, const char *arg)
{
	size_t used = strlen(list);
	int n = snprintf(list + used, INTF_LIST_MAX - used, "%s%s", used ? "," : "", arg);

	if (n < 0 || (size_t)n >= INTF_LIST_MAX - used) {
		fprintf(stderr, "spad: -i: interface list too long\n");
		return EXIT_CONFIG;
	}
	return 0;
}

/*
 * The parent stays until the child says how its start went, so a failed
 * start is an error on the terminal and a non-zero exit, not a silent
 * success with a line in a syslog that may not exist. The child reports
 * "ready" on the pipe (report_ready) or dies; its stderr stays the
 * caller's until then. Returns the pipe's write end in the child.
 */
static int go_background(void)
{
	int p[2], status;
	char c;
	pid_t pid;
	ssize_t r;

	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("spad: pipe");
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		perror("spad: fork");
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		do
			r = read(p[0], &c, 1);
		while (r < 0 && errno == EINTR);
		if (r == 1 && c == 'R')
			_exit(0);
		/* the child died before it was ready: its status is ours */
		if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status))
			_exit(WEXITSTATUS(status));
		fprintf(stderr, "spad: the daemon died during start\n");
		_exit(1);
	}
	close(p[0]);
	setsid();
	if (chdir("/") < 0) {
		perror("spad: chdir /");
		exit(1);
	}
	return p[1];
}

/* From now on the daemon is on its own: stdio to /dev/null, log to syslog. */
static void report_ready(int fd)
{
	int null = open("/dev/null", O_RDWR);

	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	if (write(fd, "R", 1) != 1)
		spa_log(SPA_L_WARNING, "could not tell the starting process we are ready");
	close(fd);
}

/* The options that pick what this run does, by enum action. */
static const char *const action_opts[] = {
	[RUN] = "", [EXIT_PARSE] = "--exit-parse-config", [KILL] = "-K", [RESTART] = "-R",
	[STATUS] = "-S", [FW_LIST] = "--fw-list", [FW_LIST_ALL] = "--fw-list-all",
	[FW_FLUSH] = "--fw-flush", [DUMP] = "-D", [PARSE_DIGEST] = "--exit-parse-digest-cache",
};

/* Each of those options is a whole run of its own: two of them together
 * is a mistake to report, not a choice to guess at. */
static int set_action(enum action *a, enum action next)
{
	if (*a != RUN && *a != next) {
		fprintf(stderr, "spad: %s and %s cannot be combined\n", action_opts[*a],
			action_opts[next]);
		return EXIT_CONFIG;
	}
	*a = next;
	return 0;
}

/*
 * -a, -c, -d, -p, -r (and the other file options) may be relative, as for
 * fwknopd: they are made absolute against the cwd now, since the daemon
 * chdirs to / and re-reads its files on SIGHUP. The strings live until
 * exit (struct spa_options keeps pointers to them), in static slots: one
 * per option at most, so nothing is allocated that exit would leak.
 */
#define PATH_SLOTS 16
static char path_slots[PATH_SLOTS][PATH_MAX];
static size_t path_slots_used;

static char *path_slot(const char *what)
{
	if (path_slots_used == PATH_SLOTS) {
		fprintf(stderr, "spad: %s: too many path options\n", what);
		return NULL;
	}
	return path_slots[path_slots_used++];
}

/* cwd + "/" + path into out (PATH_MAX); path unchanged when absolute. */
static int make_absolute(const char *what, const char *path, char *out)
{
	static char cwd[PATH_MAX];
	int n;

	if (path[0] == '/' || path[0] == '\0')
		n = snprintf(out, PATH_MAX, "%s", path);
	else if (!cwd[0] && !getcwd(cwd, sizeof(cwd))) {
		fprintf(stderr, "spad: %s '%s': cannot resolve against the current directory: %s\n",
			what, path, strerror(errno));
		return -1;
	} else
		n = snprintf(out, PATH_MAX, "%s/%s", cwd, path);
	if (n < 0 || n >= PATH_MAX) {
		fprintf(stderr, "spad: %s '%s': path too long\n", what, path);
		return -1;
	}
	return 0;
}

static const char *absolute(const char *what, const char *path)
{
	char *out;

	if (path[0] == '/' || path[0] == '\0')
		return path;
	out = path_slot(what);
	return out && make_absolute(what, path, out) == 0 ? out : NULL;
}

/* -O F[,F]: each file of the list made absolute. */
static const char *absolute_list(const char *list)
{
	char copy[PATH_MAX], one[PATH_MAX], *save = NULL, *out = path_slot("-O");
	size_t used = 0;

	if (!out)
		return NULL;
	if (snprintf(copy, sizeof(copy), "%s", list) >= (int)sizeof(copy)) {
		fprintf(stderr, "spad: -O: list too long\n");
		return NULL;
	}
	out[0] = '\0';
	for (char *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		int n;
		if (make_absolute("-O", f, one) < 0)
			return NULL;
		n = snprintf(out + used, PATH_MAX - used, "%s%s", used ? "," : "", one);
		if (n < 0 || (size_t)n >= PATH_MAX - used) {
			fprintf(stderr, "spad: -O: list too long\n");
			return NULL;
		}
		used += (size_t)n;
	}
	return out;
}

#define PATH_ARG(field, what)                                   \
	do {                                                    \
		if (!(o->field = absolute(what, optarg)))       \
			return EXIT_CONFIG;                     \
	} while (0)

static int parse_args(int argc, char **argv, struct spa_options *o, enum action *a, bool *rotate,
		      char *intf)
{
	int c;
	char *end;

	while ((c = getopt_long(argc, argv, "a:c:C:d:Dfhi:nO:p:P:r:tUvVKRS", long_opts, NULL)) != -1) {
		switch (c) {
		case 'a': PATH_ARG(access_file, "-a"); break;
		case 'c': PATH_ARG(config_file, "-c"); break;
		case 'd': PATH_ARG(digest_file, "-d"); break;
		case 'p': PATH_ARG(pid_file, "-p"); break;
		case 'r': PATH_ARG(run_dir, "-r"); break;
		case 'C':
			errno = 0;
			o->packet_limit = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || o->packet_limit <= 0) {
				fprintf(stderr, "spad: -C '%s': expected a positive count\n", optarg);
				return EXIT_CONFIG;
			}
			break;
		case 'U': o->udp_server = true; break;
		case 'n': o->nfq_capture = true; break;
		case 'i':
			if (add_intf(intf, optarg))
				return EXIT_CONFIG;
			o->pcap_intf = intf;
			break;
		case 'P': o->pcap_filter = optarg; break;
		case 'O':
			if (!(o->override_files = absolute_list(optarg)))
				return EXIT_CONFIG;
			break;
		case 'D':
			if (set_action(a, DUMP))
				return EXIT_CONFIG;
			break;
		case OPT_PCAP_FILE: PATH_ARG(pcap_file, "--pcap-file"); break;
		case OPT_ANY_DIR: o->pcap_any_direction = true; break;
		case OPT_SYSLOG: o->syslog_enable = true; break;
		case OPT_PARSE_DIGEST:
			if (set_action(a, PARSE_DIGEST))
				return EXIT_CONFIG;
			break;
		case OPT_FW_LIST_ALL:
			if (set_action(a, FW_LIST_ALL))
				return EXIT_CONFIG;
			break;
		case 'f': o->foreground = true; break;
		case 't': o->test_mode = true; break;
		case 'v': o->verbosity++; break;
		case 'K':
			if (set_action(a, KILL))
				return EXIT_CONFIG;
			break;
		case 'R':
			if (set_action(a, RESTART))
				return EXIT_CONFIG;
			break;
		case 'S':
			if (set_action(a, STATUS))
				return EXIT_CONFIG;
			break;
		case 'V': {
			struct spa_config dflt;
			spa_config_init(&dflt);
			printf("spad %s (fwknop 2.6 compatible), plugin ABI %u.%u\n"
			       "default PLUGIN_DIR %s\n",
			       SPA_VERSION, SPA_PLUGIN_ABI_MAJOR, SPA_PLUGIN_ABI_MINOR, dflt.plugin_dir);
			exit(0);
		}
		case 'h': usage(stdout); exit(0);
		case OPT_ACCESS_FOLDER: PATH_ARG(access_folder, "--access-folder"); break;
		case OPT_EXIT_PARSE:
			if (set_action(a, EXIT_PARSE))
				return EXIT_CONFIG;
			break;
		case OPT_ROTATE: *rotate = true; break;
		case OPT_FW_LIST:
			if (set_action(a, FW_LIST))
				return EXIT_CONFIG;
			break;
		case OPT_FW_FLUSH:
			if (set_action(a, FW_FLUSH))
				return EXIT_CONFIG;
			break;
		default: usage(stderr); return EXIT_CONFIG;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "spad: unexpected argument '%s'\n", argv[optind]);
		return EXIT_CONFIG;
	}
	return 0;
}

/* "plugin NAME VERSION (PATH) serves: LABEL, LABEL (CMD_CYCLE_OPEN)..."
 * for plugin i: what each stanza is served by, said once at start. */
static void plugin_map(struct spa_daemon *d, size_t i, char *out, size_t cap)
{
	const struct spa_plugin *p = d->plugins[i];
	const struct spa_config *c = &d->cfg;
	size_t used, shown = 0, n = 0;
	bool by_default = false;
	int w;

	w = snprintf(out, cap, "plugin %s %s (%s) serves", p->d->name, p->d->version, p->path);
	used = w > 0 && (size_t)w < cap ? (size_t)w : cap - 1;
	for (size_t k = 0; k < c->n_stanzas; k++) {
		const struct spa_stanza *s = &c->stanzas[k];
		if (spa_daemon_plugin_for(d, s) != p)
			continue;
		n++;
		if (!s->firewall_type[0] && !spa_stanza_kv_get(s, "CMD_CYCLE_OPEN"))
			by_default = by_default || !c->firewall_type_where[0];
		/* a thousand stanzas make a line nobody reads: the first ones */
		if (shown < 8 && used < cap - 1) {
			w = snprintf(out + used, cap - used, "%s %s%s", shown ? "," : ":", s->label,
				     spa_stanza_kv_get(s, "CMD_CYCLE_EXT_OPEN") ? " (EXTERNAL_CMD_*)" :
				     s->firewall_type[0] ? "" :
				     spa_stanza_kv_get(s, "CMD_CYCLE_OPEN") ? " (CMD_CYCLE_OPEN)" : "");
			used += w > 0 && (size_t)w < cap - used ? (size_t)w : cap - 1 - used;
			shown++;
		}
	}
	if (n == 0 && used < cap - 1)
		snprintf(out + used, cap - used, "%s", (p->d->capabilities & SPA_PLUGIN_CAP_COMMAND) ?
			 " command messages (ENABLE_CMD_EXEC), no access" :
			 " no stanza (grants in the journal only)");
	else if (used < cap - 1)
		snprintf(out + used, cap - used, "%s%s", n > shown ? ", ..." : "",
			 by_default ? " (FIREWALL_TYPE unset: the default)" : "");
}

/* The one-shot options that need only the server config and pid file (or,
 * for the --fw-* ones, FIREWALL_TYPE's plugin) carry on without a working
 * access.conf; they say so once. */
static bool needs_access(enum action a)
{
	return a != KILL && a != RESTART && a != STATUS && a != FW_LIST && a != FW_LIST_ALL &&
	       a != FW_FLUSH;
}

/*
 * spad writes its state as root: a directory someone else owns or may
 * write to would let them plant a link at a state file's name and have
 * root write through it (OpenSSH's StrictModes, for the same reason).
 */
static int check_state_dirs(const struct spa_config *c)
{
	const char *files[] = { c->pid_file, c->journal_file,
				c->digest_persistence ? c->digest_file : NULL,
				c->json_log[0] ? c->json_log : NULL };
	char err[PATH_MAX + 128];
	int rc = spa_fs_check_dir(c->run_dir, err, sizeof(err));

	for (size_t i = 0; rc == 0 && i < sizeof(files) / sizeof(files[0]); i++) {
		const char *base;
		int dfd;
		if (!files[i])
			continue;
		rc = spa_fs_open_dir(files[i], &dfd, &base, err, sizeof(err));
		if (rc == 0)
			close(dfd);
	}
	if (rc < 0)
		fprintf(stderr, "spad: %s\n", err);
	return rc;
}

static int run_daemon(struct spa_daemon *d, const struct spa_options *o, bool rotate)
{
	char err[SPA_CONF_ERR_LEN] = "", line[SPA_CONF_ERR_LEN];
	int rc, pid_fd, ready_fd = -1, status = 1;
	pid_t holder;

	/* before init and before the background: a plugin refusing its
	 * configuration is a configuration error on the terminal */
	rc = spa_daemon_check_plugins(d, &d->cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "spad: %s\n", err);
		return EXIT_CONFIG;
	}
	if (mkdir(d->cfg.run_dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "spad: run dir %s: %s\n", d->cfg.run_dir, strerror(errno));
		return 1;
	}
	if (check_state_dirs(&d->cfg) < 0)
		return 1;
	pid_fd = lock_pid_file(d->cfg.pid_file, &holder);
	if (pid_fd == -EEXIST) {
		fprintf(stderr, "spad: another spad (pid %d) holds %s\n", (int)holder,
			d->cfg.pid_file);
		return 1;
	}
	if (pid_fd < 0) {
		fprintf(stderr, "spad: pid file %s: %s\n", d->cfg.pid_file,
			spa_fs_strerror(pid_fd));
		return 1;
	}
	if (!o->foreground)
		ready_fd = go_background();
	/* The lock, held on the open file, is what keeps a second spad out;
	 * the number is for -K/-R/-S. Not writing it (a full disk) is no
	 * reason to stop: the journal's grants must still be closed. */
	rc = write_pid(pid_fd);
	if (rc < 0)
		fprintf(stderr, "spad: pid file %s: cannot write the pid (%s); -K, -R and -S "
			"will not find this daemon\n", d->cfg.pid_file, strerror(-rc));
	spa_log_set_facility(d->cfg.syslog_facility);
	spa_log_set_timestamps(o->foreground);
	/* stderr until ready even in the background: the caller is waiting */
	spa_log_setup(d->cfg.syslog_identity, true, !o->foreground || o->syslog_enable,
		      o->verbosity);
	for (size_t i = 0; i < d->n_plugins; i++) {
		plugin_map(d, i, line, sizeof(line));
		spa_log(SPA_L_NOTICE, "%s", line);
	}
	if (rotate && (rc = spa_replay_rotate(d->cfg.digest_file)) < 0) {
		spa_log(SPA_L_ERR, "rotate %s: %s", d->cfg.digest_file, strerror(-rc));
		goto out;
	}
	if (spa_daemon_start(d) < 0) {
		spa_log(SPA_L_ERR, "start failed, exiting");
		goto out;
	}
	if (ready_fd >= 0) {
		report_ready(ready_fd);
		ready_fd = -1;
		spa_log_setup(d->cfg.syslog_identity, false, true, o->verbosity);
	}
	/* Type=notify: ready once the journal's grants are back and spad
	 * listens, as for the background start above */
	rc = spa_notify("READY=1\nSTATUS=%zu stanza%s, %zu grant%s\n", d->cfg.n_stanzas,
			spa_plural(d->cfg.n_stanzas), d->grants.n, spa_plural(d->grants.n));
	if (rc < 0)
		spa_log(SPA_L_WARNING, "NOTIFY_SOCKET: cannot tell systemd we are ready: %s",
			strerror(-rc));
	/* a failed run still closes what it opened: the journal would
	 * otherwise keep it open until the next start */
	rc = spa_daemon_run(d);
	(void)spa_notify("STOPPING=1\nSTATUS=closing %zu grant%s\n", d->grants.n,
			 spa_plural(d->grants.n));
	spa_daemon_close_all(d);
	spa_log(SPA_L_NOTICE, "exiting%s", rc < 0 ? " after an error" : "");
	status = rc < 0 ? 1 : 0;
out:
	/* the pid file is removed while still locked: a new instance that
	 * opens it after the unlink makes a new one */
	unlink(d->cfg.pid_file);
	close(pid_fd);
	if (ready_fd >= 0)
		close(ready_fd);
	return status;
}

int main(int argc, char **argv)
{
	struct spa_options o = { .config_file = SPA_DEFAULT_CONF_FILE };
	char err[SPA_CONF_ERR_LEN] = "", line[SPA_CONF_ERR_LEN];
	struct spa_daemon d;
	enum action a = RUN;
	bool rotate = false;
	static char intf[INTF_LIST_MAX];
	int rc, status = 1;

	rc = parse_args(argc, argv, &o, &a, &rotate, intf);
	if (rc)
		return rc;
	spa_log_setup("spad", true, false, o.verbosity);
	spa_daemon_init(&d, &o);
	rc = spa_daemon_load_config(&o, &d.cfg, err, sizeof(err));
	/* signalling the running daemon needs its pid file, not access.conf
	 * nor the plugins: neither must stop an admin stopping it */
	if (rc < 0 && d.cfg.server_loaded && !needs_access(a)) {
		fprintf(stderr, "spad: %s (ignored for %s)\n", err, action_opts[a]);
		if (a == RESTART)
			fprintf(stderr, "spad: the daemon will refuse this reload and keep its "
				"running configuration\n");
		spa_config_drop_stanzas(&d.cfg);
		rc = 0;
	}
	if (rc == 0 && a != KILL && a != RESTART && a != STATUS)
		rc = spa_daemon_load_plugins(&d, err, sizeof(err));
	if (rc == 0 && a == EXIT_PARSE)
		rc = spa_daemon_check_plugins(&d, &d.cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "spad: %s\n", err);
		status = EXIT_CONFIG;
		goto out;
	}
	switch (a) {
	case EXIT_PARSE:
		printf("spad: configuration OK: %zu stanza%s, %zu plugin%s\n", d.cfg.n_stanzas,
		       spa_plural(d.cfg.n_stanzas), d.n_plugins, spa_plural(d.n_plugins));
		for (size_t i = 0; i < d.n_plugins; i++) {
			plugin_map(&d, i, line, sizeof(line));
			printf("spad: %s\n", line);
		}
		if (d.store_plugin)
			printf("spad: state store %s %s (%s): node %s, CLUSTER_FAIL_MODE %s\n",
			       d.store_plugin->d->name, d.store_plugin->d->version,
			       d.store_plugin->path, d.cfg.cluster.node,
			       d.cfg.cluster.fail_local ? "local" : "closed");
		status = 0;
		goto out;
	case KILL: case RESTART: case STATUS:
		status = signal_running(&d.cfg, a);
		goto out;
	case FW_LIST: case FW_LIST_ALL: case FW_FLUSH:
		status = fw_op(&d, a);
		goto out;
	case DUMP:
		spa_config_dump(&d.cfg, stdout);
		status = 0;
		goto out;
	case PARSE_DIGEST:
		status = parse_digest_cache(&d.cfg);
		goto out;
	case RUN:
		break;
	}
	status = run_daemon(&d, &o, rotate);
out:
	spa_daemon_free(&d);
	spa_log_close();
	return status;
}
