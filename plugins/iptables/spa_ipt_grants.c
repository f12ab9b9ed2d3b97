/* SPDX-License-Identifier: MIT */
/*
 * Opening and closing grants, one or many at a time: open and close are a
 * batch of one, open_batch and close_batch (ABI 1.4) take what the engine
 * found due together. Per family, the grants are one iptables-restore
 * built from the view of what the plugin put there. When that is refused
 * because the firewall is not what the view says (an admin flushed the
 * chain, deleted a rule or the jump), the ruleset is read again and the
 * batch rebuilt from it; when even that is refused, each grant is tried
 * on its own, so that each gets its own result.
 */
#include "spa_ipt.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static int family_index(const struct spa_ipt_state *st, int af)
{
	for (int i = 0; i < 2; i++)
		if (st->fam[i].af == af)
			return i;
	return -1;
}

int spa_ipt_grant_ok(const struct spa_ipt_state *st, const struct spa_grant *g,
		     enum spa_ipt_op op)
{
	char body[SPA_IPT_LINE_LEN];
	const char *why = NULL;

	/* an engine before 1.5 hands a grant without the NAT fields */
	if (!g || g->struct_size < offsetof(struct spa_grant, nat_flags))
		return -EINVAL;
	if (family_index(st, g->family) < 0)
		return -EAFNOSUPPORT;
	if (op == SPA_IPT_OP_OPEN && spa_ipt_nat_ok(g, &why) < 0) {
		const struct spa_host_api *host = st->host;
		char src[SPA_GRANT_ADDR_LEN] = "?";

		spa_pu_addr_text(&g->src, src, sizeof(src));
		if (SPA_HOST_HAS(host, op_fail))
			return host->op_fail(host->self, g, SPA_FAIL_PERMANENT, "NAT grant for %s: %s",
					     src, why);
		host->log(host->self, SPA_LOG_ERR, "NAT grant for %s: %s", src, why);
		return -EINVAL;
	}
	/* a close of what no rule can be has nothing to delete, as before */
	for (int ci = 0; ci < SPA_IPT_NCHAINS && op == SPA_IPT_OP_OPEN; ci++) {
		int rc;

		if (!st->chains[ci].enabled)
			continue;
		rc = spa_ipt_rule_body(&st->chains[ci], g, body, sizeof(body));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* op on top of text, what spa_ipt_read just returned (the view loaded
 * from it): the batch the stateless code would write. */
static int apply_on(struct spa_ipt_state *st, int fi, enum spa_ipt_op op,
		    const struct spa_grant *g, const char *text)
{
	struct spa_pu_buf batch;
	unsigned int changes = 0;
	int rc;

	spa_pu_buf_init(&batch);
	/* text lives until the next command: used before the restore */
	rc = spa_ipt_batch(st, op, g, text, &batch, &changes);
	if (rc == 0 && changes > 0)
		rc = spa_ipt_restore(st, fi, &batch);
	if (rc < 0)
		spa_ipt_view_forget(st, fi);
	else
		spa_ipt_view_apply(st, fi, op, g);
	spa_pu_buf_free(&batch);
	return rc;
}

int spa_ipt_apply_from_save(struct spa_ipt_state *st, int fi, enum spa_ipt_op op,
			    const struct spa_grant *g)
{
	const char *text;
	int rc = spa_ipt_read(st, fi, &text);

	return rc < 0 ? rc : apply_on(st, fi, op, g, text);
}

static void fail_all(struct spa_ipt_state *st, int fi, const struct spa_grant *const *gs,
		     size_t k, int *rc, int err)
{
	/* whatever the firewall holds now is unknown: the next op reads it */
	spa_ipt_view_forget(st, fi);
	for (size_t i = 0; i < k; i++)
		rc[i] = spa_ipt_fail(st, gs[i], err);
}

/* Whether the view must be read before a batch: it is unknown, or a
 * close names a grant it does not hold (gone, or added by an earlier
 * run we never read: iptables-save tells). */
static int must_read(const struct spa_ipt_state *st, int fi, enum spa_ipt_op op,
		     const struct spa_grant *const *gs, size_t k)
{
	if (!spa_ipt_view_known(st, fi))
		return 1;
	for (size_t i = 0; i < k && op == SPA_IPT_OP_CLOSE; i++)
		if (!spa_ipt_view_holds(st, fi, gs[i]))
			return 1;
	return 0;
}

/*
 * k grants of family fi. fresh: the view was read from the firewall and
 * nothing has changed it since, so a refusal is not the view's fault.
 * A failure that says nothing about the view (the command could not
 * start or timed out, the xtables lock) ends the attempt for all: trying
 * each grant would only wait k times as long, and retrying is the
 * engine's job.
 */
static void run_group(struct spa_ipt_state *st, int fi, enum spa_ipt_op op,
		      const struct spa_grant *const *gs, size_t k, int *rc, int fresh)
{
	struct spa_pu_buf batch;
	unsigned int changes;
	const char *text = NULL;
	int r = 0;

	spa_pu_buf_init(&batch);
	spa_ipt_clock(st);
	/* what fails from here on is this group's */
	memset(&st->fail, 0, sizeof(st->fail));
	if (fresh ? !spa_ipt_view_known(st, fi) : must_read(st, fi, op, gs, k)) {
		r = spa_ipt_read(st, fi, &text);
		if (r < 0)
			goto fail;
		fresh = 1;
	}
	for (;;) {
		if (!spa_ipt_view_known(st, fi)) {
			/* past SPA_IPT_VIEW_MAX: one save and restore a grant,
			 * the first on what was just read */
			for (size_t i = 0; i < k; i++) {
				r = text ? apply_on(st, fi, op, gs[i], text)
					 : spa_ipt_apply_from_save(st, fi, op, gs[i]);
				text = NULL; /* valid until the next command */
				rc[i] = spa_ipt_fail(st, gs[i], r);
			}
			goto out;
		}
		spa_pu_buf_free(&batch);
		r = spa_ipt_view_batch(st, fi, op, gs, k, &batch, &changes);
		if (r < 0)
			goto fail; /* out of memory: no command to blame */
		if (changes > 0) {
			r = spa_ipt_restore(st, fi, &batch);
			text = NULL;
		}
		if (r == 0) {
			for (size_t i = 0; i < k; i++) {
				spa_ipt_view_apply(st, fi, op, gs[i]);
				rc[i] = 0;
			}
			goto out;
		}
		if (!spa_ipt_fail_refused(&st->fail) || (fresh && k == 1))
			goto fail;
		if (fresh)
			break;
		st->host->log(st->host->self, SPA_LOG_DEBUG,
			      "firewall differs from what we added; re-reading it");
		r = spa_ipt_read(st, fi, &text);
		if (r < 0)
			goto fail;
		fresh = 1;
	}
	/* refused even from what the firewall holds: which grant is it? */
	for (size_t i = 0; i < k; i++)
		run_group(st, fi, op, &gs[i], 1, &rc[i], 1);
	goto out;
fail:
	fail_all(st, fi, gs, k, rc, r);
out:
	spa_pu_buf_free(&batch);
}

int spa_ipt_grants(struct spa_ipt_state *st, const struct spa_grant *const *g, size_t n,
		   int *rc, enum spa_ipt_op op)
{
	const struct spa_grant **gv = calloc(n ? n : 1, sizeof(*gv));
	size_t *idx = calloc(n ? n : 1, sizeof(*idx));
	int *rv = calloc(n ? n : 1, sizeof(*rv));
	int ret = 0;

	if (!gv || !idx || !rv) {
		ret = -ENOMEM;
		for (size_t i = 0; i < n; i++)
			rc[i] = ret;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		rc[i] = spa_ipt_grant_ok(st, g[i], op);
	for (int fi = 0; fi < 2; fi++) {
		size_t k = 0;

		for (size_t i = 0; i <= n; i++) {
			if (i < n && rc[i] == 0 && g[i]->family == st->fam[fi].af) {
				gv[k] = g[i];
				idx[k++] = i;
			}
			if (k == 0 || (i < n && k < SPA_IPT_BATCH_MAX))
				continue;
			run_group(st, fi, op, gv, k, rv, 0);
			for (size_t j = 0; j < k; j++)
				rc[idx[j]] = rv[j];
			k = 0;
		}
	}
out:
	free(gv);
	free(idx);
	free(rv);
	return ret;
}
