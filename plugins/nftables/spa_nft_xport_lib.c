/* SPDX-License-Identifier: MIT */
/*
 * Transport through libnftables, in-process: no fork/exec per grant, which
 * is most of the time an open takes. One context lives for the plugin's
 * lifetime (creating one is costly). Its output and errors are captured in
 * memory: the daemon's stderr is not ours to write to, errors go to the
 * host's log. With the JSON output flag set, libnftables (>= 0.9) parses
 * its input as JSON first, which is how our documents are read.
 */
#include "spa_nft.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <nftables/libnftables.h>

#define SPA_NFT_FD_SCAN 1024

/* libnftables opens its netlink socket without close-on-exec, and the
 * host's runner would hand it to every command spad runs: mark what
 * nft_ctx_new opened (fds that were closed before it, below a bound). */
static struct nft_ctx *new_ctx_cloexec(void)
{
	unsigned char was_open[SPA_NFT_FD_SCAN / 8] = { 0 };
	struct nft_ctx *ctx;

	for (int fd = 0; fd < SPA_NFT_FD_SCAN; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			was_open[fd / 8] |= (unsigned char)(1u << (fd % 8));
	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	for (int fd = 0; ctx && fd < SPA_NFT_FD_SCAN; fd++) {
		int flags;

		if (was_open[fd / 8] & (1u << (fd % 8)))
			continue;
		flags = fcntl(fd, F_GETFD);
		if (flags >= 0 && !(flags & FD_CLOEXEC))
			fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
	return ctx;
}

static int lib_init(struct spa_nft_state *st)
{
	struct nft_ctx *ctx = new_ctx_cloexec();

	if (!ctx) {
		st->host->log(st->host->self, SPA_LOG_ERR, "libnftables: cannot create a context");
		return -ENOMEM;
	}
	nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
	if (nft_ctx_buffer_output(ctx) < 0 || nft_ctx_buffer_error(ctx) < 0) {
		nft_ctx_free(ctx);
		return -ENOMEM;
	}
	st->xctx = ctx;
	return 0;
}

/* Runs one document; *out is the buffered output. Both buffers are read
 * after every run, which also rewinds them for the next one. */
static int lib_run(struct spa_nft_state *st, const char *json, const char **out)
{
	struct nft_ctx *ctx = st->xctx;
	const char *err;
	size_t n;
	int rc = nft_run_cmd_from_buffer(ctx, json);

	*out = nft_ctx_get_output_buffer(ctx);
	err = nft_ctx_get_error_buffer(ctx);
	if (rc != 0) {
		/* the first line says what failed; the rest only points at
		 * the input */
		if (!err || !*err)
			err = "command failed";
		n = strcspn(err, "\n");
		st->host->log(st->host->self, SPA_LOG_ERR, "libnftables: %.*s",
			      (int)(n > 400 ? 400 : n), err);
		return -EIO;
	}
	return 0;
}

static int lib_apply(struct spa_nft_state *st, const struct spa_pu_buf *doc)
{
	const char *out;

	return lib_run(st, doc->data, &out);
}

static int lib_list(struct spa_nft_state *st, const char **out)
{
	json_t *doc = spa_nft_batch_new();
	char *text = NULL;
	int rc = -ENOMEM;

	*out = "";
	if (!doc || spa_nft_batch_list(st, doc) < 0)
		goto out;
	text = json_dumps(doc, JSON_COMPACT);
	if (!text)
		goto out;
	rc = lib_run(st, text, out);
	if (!*out)
		*out = "";
out:
	free(text);
	json_decref(doc);
	return rc;
}

static void lib_fini(struct spa_nft_state *st)
{
	if (st->xctx)
		nft_ctx_free(st->xctx);
	st->xctx = NULL;
}

const struct spa_nft_xport spa_nft_xport_lib = {
	.name = "library",
	.init = lib_init,
	.apply = lib_apply,
	.list = lib_list,
	.fini = lib_fini,
};
