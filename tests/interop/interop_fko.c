/* SPDX-License-Identifier: MIT */
#include "interop_fko.h"

#include <stdio.h>
#include <string.h>

#include "spa_wire.h"

size_t io_fko_key_len(const struct io_case *c)
{
	if (c->mode == SPA_MODE_CBC_LEGACY_IV && c->key_len > 16)
		return 16;
	return c->key_len;
}

int io_fko_open(const struct io_case *c, const char *wire, fko_ctx_t *ctx)
{
	*ctx = NULL;
	return fko_new_with_data(ctx, wire, (const char *)c->key,
				 (int)io_fko_key_len(c), c->mode,
				 c->hmac ? (const char *)c->hmac_key : NULL,
				 c->hmac ? (int)c->hmac_key_len : 0,
				 c->hmac ? c->hmac : FKO_HMAC_UNKNOWN);
}

void io_fko_close(fko_ctx_t ctx)
{
	if (ctx)
		fko_destroy(ctx);
}

int io_fko_build(const struct io_case *c, const struct io_fko_fields *f,
		 char *out, size_t cap)
{
	fko_ctx_t ctx = NULL;
	char *data = NULL;
	int rc;

	rc = fko_new(&ctx);
	if (rc != FKO_SUCCESS)
		return rc;
	/* libfko retypes the message when NAT or a timeout is set, so the
	 * type goes in after the NAT field and before the timeout. */
	if (f->rand_val && (rc = fko_set_rand_value(ctx, f->rand_val)) != FKO_SUCCESS)
		goto out;
	if (f->user && (rc = fko_set_username(ctx, f->user)) != FKO_SUCCESS)
		goto out;
	if (f->nat && f->nat[0] &&
	    (rc = fko_set_spa_nat_access(ctx, f->nat)) != FKO_SUCCESS)
		goto out;
	if ((rc = fko_set_spa_message_type(ctx, (short)f->type)) != FKO_SUCCESS ||
	    (rc = fko_set_spa_message(ctx, f->message)) != FKO_SUCCESS)
		goto out;
	if (f->server_auth && f->server_auth[0] &&
	    (rc = fko_set_spa_server_auth(ctx, f->server_auth)) != FKO_SUCCESS)
		goto out;
	if (f->client_timeout &&
	    (rc = fko_set_spa_client_timeout(ctx, f->client_timeout)) != FKO_SUCCESS)
		goto out;
	if ((rc = fko_set_spa_digest_type(ctx, (short)c->digest)) != FKO_SUCCESS ||
	    (rc = fko_set_spa_encryption_mode(ctx, c->mode)) != FKO_SUCCESS)
		goto out;
	if (c->hmac && (rc = fko_set_spa_hmac_type(ctx, (short)c->hmac)) != FKO_SUCCESS)
		goto out;
	rc = fko_spa_data_final(ctx, (const char *)c->key, (int)io_fko_key_len(c),
				c->hmac ? (const char *)c->hmac_key : NULL,
				c->hmac ? (int)c->hmac_key_len : 0);
	if (rc != FKO_SUCCESS)
		goto out;
	rc = fko_get_spa_data(ctx, &data);
	if (rc != FKO_SUCCESS)
		goto out;
	if (!data || strlen(data) + 1 > cap) {
		rc = FKO_ERROR_INVALID_DATA;
		goto out;
	}
	memcpy(out, data, strlen(data) + 1);
out:
	io_fko_close(ctx);
	return rc;
}
