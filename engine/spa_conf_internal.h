/* SPDX-License-Identifier: MIT */
/* spa_conf_internal.h - shared by the config parser's files only. */
#ifndef SPA_CONF_INTERNAL_H
#define SPA_CONF_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "spa_config.h"

#define SPA_CONF_MAX_DEPTH 2     /* root file plus two nested include levels */
#define SPA_CONF_LINE_MAX 1024

struct spa_conf_ctx {
	struct spa_config *c;
	bool access;                 /* access.conf rules, else fwknopd.conf */
	bool keys_only;              /* inside %include_keys */
	ssize_t cur;                 /* current stanza index, -1 before SOURCE */
	char *err;
	size_t errlen;
	/* fwknopd.conf values seen so far, for $NAME expansion */
	struct spa_conf_kv *seen;
	size_t n_seen;
};

/* Where a value came from, for error messages. */
struct spa_conf_pos {
	const char *file;
	unsigned line;
	const char *name;
	const char *value;
};

int spa_conf_fail(struct spa_conf_ctx *x, const struct spa_conf_pos *p,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int spa_conf_parse_file(struct spa_conf_ctx *x, const char *path, int depth);
int spa_conf_parse_folder(struct spa_conf_ctx *x, const char *dir, int depth,
			  const struct spa_conf_pos *p);

/* Value helpers: 0 or -EINVAL (the caller reports). */
int spa_conf_yes_no(const char *v, bool *out);
int spa_conf_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out);
int spa_conf_i64(const char *v, int64_t *out);
int spa_conf_copy(const char *v, char *dst, size_t cap);

int spa_conf_server_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p);
int spa_conf_access_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p);
/* access.conf GPG_* (spa_conf_gpg.c) */
bool spa_conf_gpg_is_var(const char *name);
/* the ones %include_keys may set */
bool spa_conf_gpg_keys_var(const char *name);
int spa_conf_gpg_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p, struct spa_stanza *s);
/* At finish: sets `enabled`, applies GPG_DISABLE_SIG, refuses a stanza
 * fwknopd would refuse and checks the home dir and gpg program. */
int spa_conf_gpg_check(const struct spa_config *c, struct spa_stanza *s, char *err,
		       size_t errlen);
/* The HMAC-only key set, while the stanza's raw HMAC key is still there. */
int spa_conf_gpg_prepare(struct spa_stanza *s, char *err, size_t errlen);
/* Frees and wipes s->gpg (the passphrase with it). */
void spa_conf_gpg_free(struct spa_stanza *s);
int spa_conf_kv_add(struct spa_conf_kv **arr, size_t *n, const struct spa_conf_pos *p,
		    const char *value);
/* NAT (spa_conf_nat.c): 1 when name is not a NAT variable, else 0 or the
 * error of spa_conf_fail; v is the value as the caller trimmed it. */
int spa_conf_nat_server_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p, const char *v);
int spa_conf_nat_access_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p, const char *v,
			    struct spa_stanza *s);
/* At finish: FORCE_SNAT/MASQUERADE need FORCE_NAT or FORWARD_ALL, and
 * those need forwarding or local NAT enabled. */
int spa_conf_nat_finish(const struct spa_config *c, const struct spa_stanza *s, char *err,
			size_t errlen);
/* Cluster mode (spa_conf_cluster.c): as the NAT ones, 1 when not its
 * variable; finish checks GRANT_SCOPE against STATE_STORE and names the
 * node. */
void spa_conf_cluster_init(struct spa_conf_cluster *cl);
int spa_conf_cluster_server_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p,
				const char *v);
int spa_conf_cluster_access_var(struct spa_conf_ctx *x, const struct spa_conf_pos *p,
				const char *v, struct spa_stanza *s);
int spa_conf_cluster_finish(struct spa_config *c, char *err, size_t errlen);
/* ENABLE_*_FORWARDING, _LOCAL_NAT, _SNAT: the engine's, not a plugin's. */
bool spa_conf_nat_engine_key(const char *name);

#endif
