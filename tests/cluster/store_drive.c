/* SPDX-License-Identifier: MIT */
/*
 * Test driver of a state-store module (spa/store.h, ABI 1.6): loads the
 * .so as spad would (the descriptor checked before any module code runs),
 * hands it a minimal host (config_get from KEY=VALUE arguments, the last
 * of a key winning, else the default of the module's key schema, as spad
 * does; KEY= unsets it; log to stderr), runs
 * check then init, then the commands, so that a shell test can script a
 * store without the engine.
 *
 *   store_drive MODULE.so [KEY=VALUE]... -- CMD [ARGS] [-- CMD [ARGS]]...
 *
 *   claim KEY TTL         prints NEW or SEEN
 *   put KEY VALUE TTL     prints ok
 *   del KEY               prints ok
 *   watch PREFIX SECONDS  prints each event as it comes, one a line
 *                         ("put KEY VALUE", "del KEY", "synced"), until
 *                         SECONDS have passed (then watch_stop: "stopped")
 *                         or the watch fails ("watch error RC (TEXT)")
 *   race KEY THREADS [TTL]  THREADS threads claim KEY at once; prints
 *                         "new N seen N errors N"
 *   bench N [THREADS]     N claims of distinct keys from THREADS threads
 *                         (default 4); prints "claims N threads T p50_ms X
 *                         p90_ms X p99_ms X max_ms X per_s X errors N"
 *   sleep SECONDS         waits (between two commands of one run)
 *   waitfile PATH         waits until PATH exists (at most 60 s): the
 *                         script acts between two commands of one run
 *   bgwatch PREFIX        a watch as above on a thread of its own, while
 *                         the next commands run (its lines interleave)
 *   endwatch SECONDS      waits at most SECONDS for that watch to end by
 *                         itself, then calls watch_stop; exit status as
 *                         watch's
 *   stop                  calls watch_stop (before a watch: it must then
 *                         return soon)
 *
 * A failing op prints "error RC (TEXT)" and ends the run. Exit status: the
 * last command's: 0 done, 2 SEEN (claim), 3 transient (SPA_ERR_TRANSIENT,
 * also for race/bench/watch), 1 any other error; check, init or a bad
 * descriptor exit 1 with a line saying which. Each op's time goes to
 * stderr ("time: claim 12 ms").
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <spa/plugin.h>
#include <spa/store.h>

#define MAX_KEYS 32
#define EXIT_SEEN 2
#define EXIT_TRANSIENT 3

struct drive {
	struct spa_host_api host;
	const struct spa_plugin_descriptor *desc;
	const struct spa_store_ops *ops;
	void *state;
	const char *keys[MAX_KEYS];
	const char *values[MAX_KEYS];
	unsigned int nkeys;
	pthread_mutex_t out_lock;      /* one whole line at a time on stdout */
	/* bgwatch: a watch on a thread of its own while other commands run,
	 * as the engine runs its watch beside its claims */
	struct {
		pthread_t thread;
		const char *prefix;
		int started, done, rc;
		pthread_mutex_t lock;
		pthread_cond_t cond;
	} bg;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void host_log(void *self, int level, const char *fmt, ...)
{
	struct drive *d = self;
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s[%d]: %s\n", d->desc ? d->desc->name : "module", level, line);
}

/* The value given on the command line, else the schema's default (spad
 * hands a module its defaults the same way). */
static const char *host_config_get(void *self, const char *key)
{
	struct drive *d = self;
	unsigned int i;
	size_t k;

	/* the last one given wins, so a test can override a common set */
	for (i = d->nkeys; i-- > 0;)
		if (strcmp(d->keys[i], key) == 0)
			return *d->values[i] ? d->values[i] : NULL;
	if (d->desc->struct_size >= offsetof(struct spa_plugin_descriptor, n_keys) +
				    sizeof(d->desc->n_keys) && d->desc->keys)
		for (k = 0; k < d->desc->n_keys; k++)
			if (strcmp(d->desc->keys[k].name, key) == 0)
				return d->desc->keys[k].def;
	return NULL;
}

/* A store has no business running commands. */
static int host_run(void *self, const char *const argv[], int timeout_ms,
		    struct spa_run_result *res)
{
	(void)self;
	(void)timeout_ms;
	(void)res;
	fprintf(stderr, "store_drive: the module tried to run %s\n", argv[0]);
	return -ENOSYS;
}

static int rc_exit(int rc)
{
	if (rc == SPA_ERR_TRANSIENT)
		return EXIT_TRANSIENT;
	return rc < 0 ? 1 : 0;
}

static void print_line(struct drive *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void print_line(struct drive *d, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&d->out_lock);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	pthread_mutex_unlock(&d->out_lock);
}

static int print_error(struct drive *d, const char *what, int rc)
{
	print_line(d, "error %d (%s)%s", rc, strerror(-rc),
		   rc == SPA_ERR_TRANSIENT ? " transient" : "");
	fprintf(stderr, "store_drive: %s failed: %d (%s)\n", what, rc, strerror(-rc));
	return rc_exit(rc);
}

static int parse_uint(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX || s[0] == '-')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* --- watch ---------------------------------------------------------------- */

struct stopper {
	struct drive *d;
	unsigned int seconds;
	int done;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void *stopper_main(void *arg)
{
	struct stopper *s = arg;
	struct timespec until;
	int timed_out = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += s->seconds;
	pthread_mutex_lock(&s->lock);
	while (!s->done && !timed_out)
		timed_out = pthread_cond_timedwait(&s->cond, &s->lock, &until) == ETIMEDOUT;
	pthread_mutex_unlock(&s->lock);
	if (timed_out)
		s->d->ops->watch_stop(s->d->state);
	return NULL;
}

static void watch_event(void *ctx, int event, const char *key, const char *value)
{
	struct drive *d = ctx;

	switch (event) {
	case SPA_STORE_EV_PUT:
		print_line(d, "put %s %s", key ? key : "(null)", value ? value : "(null)");
		break;
	case SPA_STORE_EV_DEL:
		print_line(d, "del %s", key ? key : "(null)");
		break;
	case SPA_STORE_EV_SYNCED:
		print_line(d, "synced");
		break;
	default:
		print_line(d, "event %d %s", event, key ? key : "(null)");
	}
}

static int cmd_watch(struct drive *d, const char *prefix, unsigned int seconds)
{
	struct stopper s = { .d = d, .seconds = seconds };
	pthread_t t;
	int rc;

	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	if (pthread_create(&t, NULL, stopper_main, &s) != 0) {
		fprintf(stderr, "store_drive: no thread for the watch's timer\n");
		return 1;
	}
	rc = d->ops->watch(d->state, prefix, watch_event, d);
	pthread_mutex_lock(&s.lock);
	s.done = 1;
	pthread_cond_signal(&s.cond);
	pthread_mutex_unlock(&s.lock);
	pthread_join(t, NULL);
	pthread_cond_destroy(&s.cond);
	pthread_mutex_destroy(&s.lock);
	if (rc < 0) {
		print_line(d, "watch error %d (%s)", rc, strerror(-rc));
		return rc_exit(rc);
	}
	print_line(d, "stopped");
	return 0;
}

static void *bgwatch_main(void *arg)
{
	struct drive *d = arg;
	int rc = d->ops->watch(d->state, d->bg.prefix, watch_event, d);

	if (rc < 0)
		print_line(d, "watch error %d (%s)", rc, strerror(-rc));
	else
		print_line(d, "stopped");
	pthread_mutex_lock(&d->bg.lock);
	d->bg.rc = rc;
	d->bg.done = 1;
	pthread_cond_signal(&d->bg.cond);
	pthread_mutex_unlock(&d->bg.lock);
	return NULL;
}

static int cmd_bgwatch(struct drive *d, const char *prefix)
{
	if (d->bg.started) {
		fprintf(stderr, "store_drive: one bgwatch at a time\n");
		return 1;
	}
	d->bg.prefix = prefix;
	if (pthread_create(&d->bg.thread, NULL, bgwatch_main, d) != 0) {
		fprintf(stderr, "store_drive: no thread for bgwatch\n");
		return 1;
	}
	d->bg.started = 1;
	return 0;
}

/* Waits up to seconds for the bgwatch to end by itself, then stops it. */
static int cmd_endwatch(struct drive *d, unsigned int seconds)
{
	struct timespec until;
	int rc;

	if (!d->bg.started) {
		fprintf(stderr, "store_drive: endwatch without bgwatch\n");
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&d->bg.lock);
	while (!d->bg.done)
		if (pthread_cond_timedwait(&d->bg.cond, &d->bg.lock, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&d->bg.lock);
	d->ops->watch_stop(d->state);
	pthread_join(d->bg.thread, NULL);
	d->bg.started = 0;
	d->bg.done = 0;
	rc = d->bg.rc;
	return rc_exit(rc);
}

/* --- race and bench: claims from several threads ------------------------- */

struct claimer {
	struct drive *d;
	pthread_barrier_t *start;
	const char *key;               /* race: the one key; bench: NULL */
	unsigned int index, stride, count;
	uint32_t ttl;
	double *lat_ms;                /* bench: one slot per claim */
	unsigned int n_new, n_seen, n_err, n_transient;
	int last_err;
};

static void *claimer_main(void *arg)
{
	struct claimer *c = arg;
	char key[SPA_STORE_KEY_MAX + 1];
	unsigned int i;
	double t0;
	int rc;

	pthread_barrier_wait(c->start);
	for (i = c->index; i < c->count; i += c->stride) {
		if (c->key)
			snprintf(key, sizeof(key), "%s", c->key);
		else
			snprintf(key, sizeof(key), "bench/%ld/%u", (long)getpid(), i);
		t0 = now_ms();
		rc = c->d->ops->claim(c->d->state, key, c->ttl);
		if (c->lat_ms)
			c->lat_ms[i] = now_ms() - t0;
		if (rc == SPA_STORE_NEW) {
			c->n_new++;
		} else if (rc == SPA_STORE_SEEN) {
			c->n_seen++;
		} else {
			c->n_err++;
			c->last_err = rc < 0 ? rc : -EPROTO;
			if (rc == SPA_ERR_TRANSIENT)
				c->n_transient++;
		}
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Runs count claims over threads; fills totals in *sum. */
static int run_claimers(struct drive *d, const char *key, unsigned int threads,
			unsigned int count, uint32_t ttl, double *lat, struct claimer *sum)
{
	struct claimer *c = calloc(threads, sizeof(*c));
	pthread_t *t = calloc(threads, sizeof(*t));
	pthread_barrier_t start;
	unsigned int i, started = 0;
	int rc = 0;

	if (!c || !t || pthread_barrier_init(&start, NULL, threads) != 0) {
		free(c);
		free(t);
		fprintf(stderr, "store_drive: out of memory\n");
		return -ENOMEM;
	}
	for (i = 0; i < threads; i++) {
		c[i] = (struct claimer){ .d = d, .start = &start, .key = key, .index = i,
					 .stride = threads, .count = count, .ttl = ttl,
					 .lat_ms = lat };
		if (pthread_create(&t[i], NULL, claimer_main, &c[i]) != 0) {
			/* the barrier waits for all: nothing can start short-handed */
			fprintf(stderr, "store_drive: cannot start thread %u\n", i);
			abort();
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		sum->n_new += c[i].n_new;
		sum->n_seen += c[i].n_seen;
		sum->n_err += c[i].n_err;
		sum->n_transient += c[i].n_transient;
		if (c[i].last_err)
			sum->last_err = c[i].last_err;
	}
	pthread_barrier_destroy(&start);
	free(c);
	free(t);
	return rc;
}

static int claims_exit(const struct claimer *sum)
{
	if (!sum->n_err)
		return 0;
	fprintf(stderr, "store_drive: %u claims failed, last %d (%s)\n", sum->n_err,
		sum->last_err, strerror(-sum->last_err));
	return sum->n_transient == sum->n_err ? EXIT_TRANSIENT : 1;
}

static int cmd_race(struct drive *d, const char *key, unsigned int threads, uint32_t ttl)
{
	struct claimer sum = { 0 };
	int rc = run_claimers(d, key, threads, threads, ttl, NULL, &sum);

	if (rc < 0)
		return 1;
	print_line(d, "new %u seen %u errors %u", sum.n_new, sum.n_seen, sum.n_err);
	return claims_exit(&sum);
}

static int cmd_bench(struct drive *d, unsigned int n, unsigned int threads)
{
	struct claimer sum = { 0 };
	double *lat = calloc(n, sizeof(*lat));
	double t0, wall;
	int rc;

	if (!lat)
		return 1;
	t0 = now_ms();
	rc = run_claimers(d, NULL, threads, n, 60, lat, &sum);
	wall = now_ms() - t0;
	if (rc < 0) {
		free(lat);
		return 1;
	}
	qsort(lat, n, sizeof(*lat), cmp_double);
	print_line(d, "claims %u threads %u p50_ms %.2f p90_ms %.2f p99_ms %.2f max_ms %.2f "
		   "per_s %.0f errors %u", n, threads, lat[n / 2], lat[(n * 9) / 10],
		   lat[(n * 99) / 100], lat[n - 1], wall > 0 ? n * 1000.0 / wall : 0.0,
		   sum.n_err);
	free(lat);
	return claims_exit(&sum);
}

/* --- commands ------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr, "usage: store_drive MODULE.so [KEY=VALUE]... -- CMD [ARGS] [-- CMD ...]\n"
		"  claim KEY TTL | put KEY VALUE TTL | del KEY | watch PREFIX SECONDS |\n"
		"  race KEY THREADS [TTL] | bench N [THREADS] | sleep SECONDS |\n"
		"  waitfile PATH | bgwatch PREFIX | endwatch SECONDS | stop\n");
	return 1;
}

/* Runs argv[0..argc) as one command. */
static int run_command(struct drive *d, int argc, char **argv)
{
	const char *cmd = argv[0];
	uint32_t a = 0, b = 0;
	double t0 = now_ms();
	int rc, ex;

	if (strcmp(cmd, "claim") == 0 && argc == 3 && parse_uint(argv[2], &a) == 0) {
		rc = d->ops->claim(d->state, argv[1], a);
		if (rc == SPA_STORE_NEW || rc == SPA_STORE_SEEN)
			print_line(d, "%s", rc == SPA_STORE_NEW ? "NEW" : "SEEN");
		ex = rc == SPA_STORE_SEEN ? EXIT_SEEN : rc == SPA_STORE_NEW ? 0 :
		     print_error(d, "claim", rc < 0 ? rc : -EPROTO);
	} else if (strcmp(cmd, "put") == 0 && argc == 4 && parse_uint(argv[3], &a) == 0) {
		rc = d->ops->put(d->state, argv[1], argv[2], a);
		ex = rc == 0 ? (print_line(d, "ok"), 0) : print_error(d, "put", rc < 0 ? rc : -EPROTO);
	} else if (strcmp(cmd, "del") == 0 && argc == 2) {
		rc = d->ops->del(d->state, argv[1]);
		ex = rc == 0 ? (print_line(d, "ok"), 0) : print_error(d, "del", rc < 0 ? rc : -EPROTO);
	} else if (strcmp(cmd, "watch") == 0 && argc == 3 && parse_uint(argv[2], &a) == 0) {
		ex = cmd_watch(d, argv[1], a);
	} else if (strcmp(cmd, "race") == 0 && (argc == 3 || argc == 4) &&
		   parse_uint(argv[2], &a) == 0 && a >= 1 && a <= 256 &&
		   (argc == 3 || parse_uint(argv[3], &b) == 0)) {
		ex = cmd_race(d, argv[1], a, argc == 4 ? b : 30);
	} else if (strcmp(cmd, "bench") == 0 && (argc == 2 || argc == 3) &&
		   parse_uint(argv[1], &a) == 0 && a >= 1 && a <= 1000000 &&
		   (argc == 2 || (parse_uint(argv[2], &b) == 0 && b >= 1 && b <= 256))) {
		ex = cmd_bench(d, a, argc == 3 ? b : 4);
	} else if (strcmp(cmd, "sleep") == 0 && argc == 2 && parse_uint(argv[1], &a) == 0) {
		sleep(a);
		ex = 0;
	} else if (strcmp(cmd, "waitfile") == 0 && argc == 2) {
		for (a = 0; a < 600 && access(argv[1], F_OK) != 0; a++)
			usleep(100 * 1000);
		ex = a < 600 ? 0 : (fprintf(stderr, "store_drive: no %s after 60 s\n", argv[1]), 1);
	} else if (strcmp(cmd, "bgwatch") == 0 && argc == 2) {
		ex = cmd_bgwatch(d, argv[1]);
	} else if (strcmp(cmd, "endwatch") == 0 && argc == 2 && parse_uint(argv[1], &a) == 0) {
		ex = cmd_endwatch(d, a);
	} else if (strcmp(cmd, "stop") == 0 && argc == 1) {
		d->ops->watch_stop(d->state);
		print_line(d, "ok");
		ex = 0;
	} else {
		fprintf(stderr, "store_drive: bad command:");
		for (rc = 0; rc < argc; rc++)
			fprintf(stderr, " %s", argv[rc]);
		fprintf(stderr, "\n");
		return usage();
	}
	fprintf(stderr, "time: %s %.0f ms\n", cmd, now_ms() - t0);
	return ex;
}

/* The checks spad's loader makes of a store's descriptor. */
static int check_descriptor(const struct spa_plugin_descriptor *desc, const char *path)
{
	const char *why = NULL;

	if (desc->magic != SPA_PLUGIN_MAGIC)
		why = "bad magic";
	else if (desc->abi_major != SPA_PLUGIN_ABI_MAJOR)
		why = "another ABI major";
	else if (desc->struct_size < offsetof(struct spa_plugin_descriptor, store) +
				     sizeof(desc->store))
		why = "descriptor older than ABI 1.6 (no store member)";
	else if (!(desc->capabilities & SPA_PLUGIN_CAP_STORE))
		why = "no SPA_PLUGIN_CAP_STORE";
	else if (!desc->name || !*desc->name || !desc->version)
		why = "no name or version";
	else if (!desc->ops.init || !desc->ops.fini)
		why = "no init or fini";
	else if (!desc->store || desc->store->struct_size < sizeof(struct spa_store_ops))
		why = "no store ops, or an older struct spa_store_ops";
	else if (!desc->store->claim || !desc->store->put || !desc->store->del ||
		 !desc->store->watch || !desc->store->watch_stop)
		why = "a store op is NULL";
	if (why) {
		printf("descriptor refused: %s: %s\n", path, why);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct drive d = { 0 };
	void *so;
	int i, start, rc, ex = 0;

	if (argc < 4)
		return usage();
	pthread_mutex_init(&d.out_lock, NULL);
	pthread_mutex_init(&d.bg.lock, NULL);
	pthread_cond_init(&d.bg.cond, NULL);
	for (i = 2; i < argc && strcmp(argv[i], "--") != 0; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq || eq == argv[i] || d.nkeys == MAX_KEYS)
			return usage();
		*eq = '\0';
		d.keys[d.nkeys] = argv[i];
		d.values[d.nkeys++] = eq + 1;
	}
	if (i >= argc - 1)
		return usage();

	so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!so) {
		printf("cannot load %s: %s\n", argv[1], dlerror());
		return 1;
	}
	d.desc = dlsym(so, SPA_PLUGIN_SYMBOL);
	if (!d.desc) {
		printf("%s: no %s\n", argv[1], SPA_PLUGIN_SYMBOL);
		dlclose(so);
		return 1;
	}
	if (check_descriptor(d.desc, argv[1]) < 0) {
		dlclose(so);
		return 1;
	}
	d.ops = d.desc->store;
	d.host = (struct spa_host_api){ .struct_size = sizeof(d.host), .self = &d,
					.log = host_log, .config_get = host_config_get,
					.run = host_run };
	if (d.desc->ops.check) {
		rc = d.desc->ops.check(&d.host, NULL);
		if (rc < 0) {
			printf("check failed (%d)\n", rc);
			dlclose(so);
			return 1;
		}
	}
	rc = d.desc->ops.init(&d.host, &d.state);
	if (rc < 0) {
		printf("init failed (%d: %s)\n", rc, strerror(-rc));
		dlclose(so);
		return 1;
	}

	/* commands separated by "--" */
	for (start = ++i; start < argc; start = i + 1) {
		for (i = start; i < argc && strcmp(argv[i], "--") != 0; i++)
			;
		if (i == start) {
			ex = usage();
			break;
		}
		ex = run_command(&d, i - start, argv + start);
		if (ex != 0 && ex != EXIT_SEEN)
			break;
	}
	if (d.bg.started)
		cmd_endwatch(&d, 0);
	d.desc->ops.fini(d.state);
	dlclose(so);
	pthread_mutex_destroy(&d.out_lock);
	pthread_mutex_destroy(&d.bg.lock);
	pthread_cond_destroy(&d.bg.cond);
	return ex;
}
