/* SPDX-License-Identifier: MIT */
/* spa_main.c - spad's command line (fwknopd's option letters). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spa_daemon.h"
#include "spa_log.h"

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
		"  -c, --config-file FILE     server config (default /etc/fwknop/fwknopd.conf)\n"
		"  -O, --override-config F[,F] files read after the server config\n"
		"  -a, --access-file FILE     access stanzas (default /etc/fwknop/access.conf)\n"
		"      --access-folder DIR    every *.conf in DIR instead of -a\n"
		"  -d, --digest-file FILE     replay cache file\n"
		"  -p, --pid-file FILE        pid file\n"
		"  -r, --run-dir DIR          run directory (pid, digests, journal)\n"
		"  -U, --udp-server           receive on a UDP socket instead of capturing\n"
		"  -i, --interface IF[,IF]    capture on these interfaces (repeatable; PCAP_INTF)\n"
		"  -P, --pcap-filter BPF      capture filter (default 'udp port 62201')\n"
		"      --pcap-file FILE       replay a capture file and exit at its end\n"
		"      --pcap-any-direction   also look at packets this host sends\n"
		"  -C, --packet-limit N       exit after N captured packets\n"
		"  -f, --foreground           stay in the foreground, log to stderr\n"
		"      --syslog-enable        in the foreground, log to syslog too\n"
		"  -t, --test                 decide but never open anything or record digests\n"
		"  -v, --verbose              more logging (repeatable)\n"
		"  -K, --kill | -R, --restart | -S, --status   signal/query a running spad\n"
		"  -D, --dump-config          print the configuration (keys redacted) and exit\n"
		"      --exit-parse-config    check the configuration and exit (2 on error)\n"
		"      --exit-parse-digest-cache  read the replay cache, report, exit\n"
		"      --rotate-digest-cache  move the replay cache aside at start\n"
		"      --fw-list | --fw-list-all | --fw-flush\n"
		"                             list or remove what the backends hold, exit\n"
		"  -V, --version | -h, --help\n");
}

static pid_t pid_from_file(const char *path, bool *locked)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
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

static int signal_running(const char *pid_file, enum action a)
{
	bool locked;
	pid_t pid = pid_from_file(pid_file, &locked);

	if (pid <= 0 || !locked) {
		printf("spad is not running (%s)\n", pid_file);
		return 1;
	}
	if (a == STATUS) {
		printf("spad is running, pid %d\n", (int)pid);
		return 0;
	}
	if (kill(pid, a == KILL ? SIGTERM : SIGHUP) < 0) {
		fprintf(stderr, "spad: signal pid %d: %s\n", (int)pid, strerror(errno));
		return 1;
	}
	return 0;
}

/* The lock, not the file's existence, says "running": a stale file left by
 * a crash does not block a restart. */
static int take_pid_file(const char *path)
{
	char buf[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	int n;

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -EEXIST;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -EIO;
	}
	return fd;
}

static void print_grant(void *ctx, const struct spa_grant *g)
{
	(void)ctx;
	printf("  %s %s/%u expires %lld stanza %s\n", g->src.text, g->proto == 6 ? "tcp" : "udp",
	       g->port, (long long)g->expires, g->stanza);
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
	printf("journal %s: %zu grants\n", d->cfg.journal_file, gs.n);
	for (size_t i = 0; i < gs.n; i++) {
		printf("  [%s]", gs.recs[i].plugin);
		print_grant(NULL, &gs.recs[i].g);
	}
	spa_grants_close(&gs);
}

static int fw_op(struct spa_daemon *d, enum action a)
{
	int rc = 0;

	for (size_t i = 0; i < d->n_plugins && rc == 0; i++) {
		struct spa_plugin *p = d->plugins[i];
		rc = spa_plugin_init(p, &d->cfg);
		if (rc < 0)
			break;
		if (a == FW_FLUSH) {
			rc = p->d->ops.flush(p->state);
		} else if (p->d->ops.list) {
			printf("plugin %s %s:\n", p->d->name, p->d->version);
			rc = p->d->ops.list(p->state, print_grant, NULL);
		} else {
			printf("plugin %s %s: cannot list\n", p->d->name, p->d->version);
		}
	}
	if (rc == 0 && a == FW_LIST_ALL)
		list_journal(d);
	return rc < 0 ? 1 : 0;
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

static void daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0) {
		perror("spad: fork");
		exit(1);
	}
	if (pid > 0)
		_exit(0);
	setsid();
	if (chdir("/") < 0)
		exit(1);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
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

static int parse_args(int argc, char **argv, struct spa_options *o, enum action *a, bool *rotate,
		      char *intf)
{
	int c;
	char *end;

	while ((c = getopt_long(argc, argv, "a:c:C:d:Dfhi:O:p:P:r:tUvVKRS", long_opts, NULL)) != -1) {
		switch (c) {
		case 'a': o->access_file = optarg; break;
		case 'c': o->config_file = optarg; break;
		case 'd': o->digest_file = optarg; break;
		case 'p': o->pid_file = optarg; break;
		case 'r': o->run_dir = optarg; break;
		case 'C':
			errno = 0;
			o->packet_limit = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || o->packet_limit <= 0) {
				fprintf(stderr, "spad: -C '%s': expected a positive count\n", optarg);
				return EXIT_CONFIG;
			}
			break;
		case 'U': o->udp_server = true; break;
		case 'i':
			if (add_intf(intf, optarg))
				return EXIT_CONFIG;
			o->pcap_intf = intf;
			break;
		case 'P': o->pcap_filter = optarg; break;
		case 'O': o->override_files = optarg; break;
		case 'D':
			if (set_action(a, DUMP))
				return EXIT_CONFIG;
			break;
		case OPT_PCAP_FILE: o->pcap_file = optarg; break;
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
		case 'V': printf("spad %s (fwknop 2.6 compatible), plugin ABI %u.%u\n",
				 SPA_VERSION, SPA_PLUGIN_ABI_MAJOR, SPA_PLUGIN_ABI_MINOR);
			exit(0);
		case 'h': usage(stdout); exit(0);
		case OPT_ACCESS_FOLDER: o->access_folder = optarg; break;
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

int main(int argc, char **argv)
{
	struct spa_options o = { .config_file = "/etc/fwknop/fwknopd.conf" };
	char err[SPA_CONF_ERR_LEN] = "";
	struct spa_daemon d;
	enum action a = RUN;
	bool rotate = false;
	static char intf[INTF_LIST_MAX];
	int rc, pid_fd = -1, status = 1;

	rc = parse_args(argc, argv, &o, &a, &rotate, intf);
	if (rc)
		return rc;
	spa_log_setup("spad", true, false, o.verbosity);
	spa_daemon_init(&d, &o);
	rc = spa_daemon_load_config(&o, &d.cfg, err, sizeof(err));
	/* signalling the running daemon needs its pid file, not the plugins:
	 * a plugin that no longer loads must not stop an admin stopping it */
	if (rc == 0 && a != KILL && a != RESTART && a != STATUS)
		rc = spa_daemon_load_plugins(&d, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "spad: %s\n", err);
		status = EXIT_CONFIG;
		goto out;
	}
	switch (a) {
	case EXIT_PARSE:
		printf("spad: configuration OK: %zu stanzas, %zu plugins\n", d.cfg.n_stanzas,
		       d.n_plugins);
		status = 0;
		goto out;
	case KILL: case RESTART: case STATUS:
		status = signal_running(d.cfg.pid_file, a);
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
	if (mkdir(d.cfg.run_dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "spad: run dir %s: %s\n", d.cfg.run_dir, strerror(errno));
		goto out;
	}
	if (!o.foreground)
		daemonize();
	spa_log_setup(d.cfg.syslog_identity, o.foreground, !o.foreground || o.syslog_enable,
		      o.verbosity);
	pid_fd = take_pid_file(d.cfg.pid_file);
	if (pid_fd < 0) {
		spa_log(SPA_L_ERR, "pid file %s: %s", d.cfg.pid_file,
			pid_fd == -EEXIST ? "another spad holds the lock" : strerror(-pid_fd));
		goto out;
	}
	if (rotate && (rc = spa_replay_rotate(d.cfg.digest_file)) < 0) {
		spa_log(SPA_L_ERR, "rotate %s: %s", d.cfg.digest_file, strerror(-rc));
		goto out;
	}
	if (spa_daemon_start(&d) < 0 || spa_daemon_run(&d) < 0)
		goto out;
	spa_daemon_close_all(&d);
	spa_log(SPA_L_NOTICE, "exiting");
	status = 0;
out:
	spa_daemon_free(&d);
	if (pid_fd >= 0) {
		unlink(d.cfg.pid_file);
		close(pid_fd);
	}
	spa_log_close();
	return status;
}
