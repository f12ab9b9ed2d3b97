/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the firewall plugins (statically linked into each .so,
 * never exported): a growable text buffer for batch files, the command
 * runner wrapped with logging, and safe formatting of grant addresses.
 */
#ifndef SPA_PU_H
#define SPA_PU_H

#include <stddef.h>
#include <spa/plugin.h>

#define SPA_PU_RUN_TIMEOUT_MS 10000
#define SPA_PU_ARGV_MAX 16
/* The most a host's run_input accepts (sdk/include/spa/plugin.h). */
#define SPA_PU_INPUT_MAX (1024 * 1024)

struct spa_pu_buf {
	char *data;
	size_t len;
	size_t cap;
	int failed; /* sticky: an append ran out of memory */
};

void spa_pu_buf_init(struct spa_pu_buf *b);
void spa_pu_buf_free(struct spa_pu_buf *b);
int spa_pu_buf_printf(struct spa_pu_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Text form of an address, rebuilt from its binary form so that nothing
 * the grant carries as text can reach a command line. */
int spa_pu_addr_text(const struct spa_grant_addr *a, char *out, size_t len);

/* Protocol name understood by iptables and nft; NULL if unsupported. */
const char *spa_pu_proto_name(unsigned int proto);
int spa_pu_proto_number(const char *name);

/* Whether host is usable by a plugin that needs only the ABI 1.0 members
 * (log, config_get, run): a 1.0 engine's struct ends after run. Members of
 * a later minor are checked with SPA_HOST_HAS where they are used. */
int spa_pu_host_ok(const struct spa_host_api *host);

/* Start of an ops.init: a zeroed state of size bytes for a usable host
 * (spa_pu_host_ok). NULL with *rc -EINVAL or -ENOMEM otherwise. */
void *spa_pu_state_new(const struct spa_host_api *host, size_t size, int *rc);

/* The parser a plugin's init and check share: reads and validates every
 * global key into st (a zeroed state of the plugin), logging the key and
 * value of what is wrong, and touches no backend. */
typedef int (*spa_pu_load_fn)(const struct spa_host_api *host, void *st);

/* ops.check of a plugin whose keys are all global (config_get): probe
 * NULL runs load on a scratch zeroed state of size bytes, then drops it;
 * a stanza probe has nothing to check. -EINVAL for an unusable host. */
int spa_pu_check_global(const struct spa_host_api *host, const struct spa_grant *probe,
			size_t size, spa_pu_load_fn load);

/* Y/N config value into *out (def when unset). fwknop reads only the
 * first character; so do we, but anything other than Y or N (either case)
 * is refused, logged with key and value, so a typo is not a silent "no". */
int spa_pu_config_flag(const struct spa_host_api *host, const char *key, int def, int *out);

/* For a key that was replaced by another: -EINVAL, logged with both
 * names, when old is set at all; 0 when it is not. */
int spa_pu_config_replaced(const struct spa_host_api *host, const char *old,
			   const char *by);

/* Executable path from config (must be absolute) or the default. */
const char *spa_pu_config_exe(const struct spa_host_api *host, const char *key,
			      const char *def);

/* The longest first line of a command's stderr the helpers keep. */
#define SPA_PU_ERR_LINE 201

/* The first non-empty line of text (NULL: none), without surrounding
 * blanks, cut to fit out (len bytes, len > 0): what a log line or an
 * op_fail message quotes of a command's stderr. */
void spa_pu_first_line(const char *text, char *out, size_t len);

/* Runs argv; returns 0 only when it exited with status 0. With quiet set a
 * non-zero exit is logged at debug level only (callers probing for
 * existence, or with a fallback). */
int spa_pu_run(const struct spa_host_api *host, const char *const argv[],
	       struct spa_run_result *res, int quiet);

/* Writes batch to a private temporary file, runs argv followed by that
 * file's path, and removes the file: for commands that only read a file,
 * or an engine without run_input (ABI 1.0). */
int spa_pu_run_batch(const struct spa_host_api *host, const char *const argv[],
		     const struct spa_pu_buf *batch);

/* Runs argv with batch on its stdin through the host's run_input (ABI
 * 1.1); 0 only when it exited with status 0. -ENOTSUP, without logging,
 * when the engine is 1.0 and has no run_input: the caller decides whether
 * to fall back to spa_pu_run_batch or to fail. With quiet set a refused
 * batch is logged at debug level only (a caller with a fallback). */
int spa_pu_run_input(const struct spa_host_api *host, const char *const argv[],
		     const struct spa_pu_buf *batch, int quiet);

/* Runs argv with batch as its input: on stdin through run_input (ABI
 * 1.1), or from a private temporary file appended to argv for a 1.0
 * engine. Returns as spa_pu_run_input; *res tells, for a plugin classing
 * a failure, whether the command ran (exit_status, timed_out, err; valid
 * until the next run) or could not start (all zero, a negative errno
 * returned). */
int spa_pu_run_feed(const struct spa_host_api *host, const char *const argv[],
		    const struct spa_pu_buf *batch, int quiet, struct spa_run_result *res);

#endif
