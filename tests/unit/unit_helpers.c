/* SPDX-License-Identifier: MIT */
#include "unit_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

const uint8_t kat_salt[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

/* fwknop's fixed-salt vectors, copied verbatim; E of vector 5 is not printed there and
 * was assembled from its inputs (b64("10.1.2.3,echo test")). */
const struct kat_vector kat_vectors[] = {
	{ 1, SPA_MODE_CBC, KAT_KEY, SPA_DIGEST_SHA256, SPA_DIGEST_SHA256, 1,
	  "10.1.2.3,tcp/22", "", "", 0,
	  "1234567890123456:YWxpY2U:1500000000:3.0.0:1:MTAuMS4yLjMsdGNwLzIy",
	  "8BAgMEBQYHCHYP9psdAxxVFsFlEBLPg4kUra+EgO4KZmpo2suDf9RXuCOYq6vsfV9vb06afDn4PQaQFu9PYzptidYdyFiHNKFfV7FkwJuWp4xILyDM9ZMwVL8xhFjHfGg4oy9AwUC+SxN66eTssyv6WFpA8qqOJkUEpfHIyQfiZSbRgy6kpBF88Q93SLPbKILOCxTNf6Fg2c" },
	{ 2, SPA_MODE_CBC_LEGACY_IV, "short", SPA_DIGEST_SHA256, SPA_HMAC_NONE, 1,
	  "10.1.2.3,tcp/22", "", "", 0,
	  "1234567890123456:YWxpY2U:1500000000:3.0.0:1:MTAuMS4yLjMsdGNwLzIy",
	  "8BAgMEBQYHCOPAGJKWoEhuhbwq8p6v4mhNMvoxvroZpVdB9NhcaF9/ZdeuPjmyF1toqo15y2ZIpcQZo1J47IKYrjGM4foLDKecvgdXQKD61xj1LaA9mWQDyYVJiUYWLdmCy6LeolEzjay6gHadt5CPyqBT5WRnIBs" },
	{ 3, SPA_MODE_CTR, KAT_KEY, SPA_DIGEST_SHA512, SPA_DIGEST_SHA512, 3,
	  "10.1.2.3,tcp/22,udp/1194", "", "", 120,
	  "1234567890123456:YWxpY2U:1500000000:3.0.0:3:MTAuMS4yLjMsdGNwLzIyLHVkcC8xMTk0:120",
	  "8BAgMEBQYHCOEsaZYWvYCDZCTMsPHPEqRXi9Ck4al3KCtbxjnE0dG8CVKnzEkzN7PDGA6Ip86WLKaYrZfkagw0kY+BmTL/9lpYnY1/jo2Va9saOXwf83IT7EZ0IiRwho8YPKKxBPzFBbk8ogXG/hYjkNrFGw6yCTbTnqSWykOav8Mwbrq2j2ErIImkvOIm19ANVpEaI80CaDCajTwMDWDIVsPmzzF1+ROnrQ9RgMz4Q9pveJWkahEFic8e0vPD17vrSt4DxM2MFq84UJbdl6KVaWxqkFyTHMB3CkSVzUxcM1sjFgPMfBwdpjsSkh9fC4JhMJteu8tXGg" },
	{ 4, SPA_MODE_CFB, KAT_KEY, SPA_DIGEST_SHA1, SPA_DIGEST_MD5, 2,
	  "0.0.0.0,tcp/2222", "192.168.10.5,22", "", 0,
	  "1234567890123456:YWxpY2U:1500000000:3.0.0:2:MC4wLjAuMCx0Y3AvMjIyMg:MTkyLjE2OC4xMC41LDIy",
	  "8BAgMEBQYHCOEsaZYWvYCDZCTMsPHPEqRLGk+wdQr2x0nBWHy0ezyCycndcEN09k2R7Tb4P4li0SYy7w9L/DqTcQsz8AiIHwWtVekCkhVkEnjrhTkwrp388RWknHq/Giaq+SwLi8zqW/KH+bTWuEh+rkeeLCrk9Kc3qgkG8QWbrMAttx99doZgGSjn91OEsGRqWsz/hTmx3w" },
	{ 5, SPA_MODE_ECB, KAT_KEY, SPA_DIGEST_MD5, SPA_DIGEST_SHA3_256, 0,
	  "10.1.2.3,echo test", "", "", 0,
	  "1234567890123456:YWxpY2U:1500000000:3.0.0:0:MTAuMS4yLjMsZWNobyB0ZXN0",
	  "8BAgMEBQYHCPFeJ5SH5BjBxpqdm84JYF0P7/kqx8sLIes/DP7+/bOvIBsnsoKirkqaoD/KuaXP9KskRPPZxhF6Tpk+3jzfT29x/XBdoZ5GMKlKN8w55DHhq7pA8w1yKVtXCyd6/VSsowbuQqKopBCgbneNvQru6gIrHkMdgcfKen9wgMsWy85rQ" },
	{ 6, SPA_MODE_CBC, KAT_KEY, SPA_DIGEST_SHA256, SPA_DIGEST_SHA256, 4,
	  "0.0.0.0,tcp/2222", "intranet.example,22", "auth", 90,
	  "1234567890123456:YWxpY2U:1500000000:3.0.0:4:MC4wLjAuMCx0Y3AvMjIyMg:aW50cmFuZXQuZXhhbXBsZSwyMg:YXV0aA:90",
	  "8BAgMEBQYHCHYP9psdAxxVFsFlEBLPg4kUra+EgO4KZmpo2suDf9RXBy+Y/+SXd7j3rywBuiY0q6xlUHKFVdJSqJyqawve0fkkMt2WhaevMNVrrTx3fz4SBWITlV3y39L23pAWDbfJ+FzbXN85eZDev774qyLXyZnMbNQc8XAzhczuaF+2p75z8XYYMdnO6Mm33XuGH3HMcMhJWNWMQcUVo3s2QQX8pU8dsYOGzrltGMTrMouMt9ZKjooSK9bC9zd8lKfLCbPSpc" },
	{ 7, SPA_MODE_OFB, KAT_KEY, SPA_DIGEST_SHA384, SPA_DIGEST_SHA384, 6,
	  "10.1.2.3,tcp/5555", "127.0.0.1,22", "", 30,
	  "1234567890123456:YWxpY2U:1500000000:3.0.0:6:MTAuMS4yLjMsdGNwLzU1NTU:MTI3LjAuMC4xLDIy:30",
	  "8BAgMEBQYHCOEsaZYWvYCDZCTMsPHPEqRHnucIyVexLr92R2X/e9S/fDCtfDrl32kgKc7tEaohzTWRFEZKGGcKkLnjvBK8/XYtmxhDttJMotcgjuAnqUXZx2WYLyKdg73ibs2MRFWvCmw8QeM5CZhQuJmvnCM6aQjT0BCMCBvlHKGcNuwvLNjGA0JVWDTVT/+SH9lG6R9AdkOg3WB4vcJ1KFlzjuf1Uy8jHvdzg8XrTeBAIvIo9O7dB8Uf+Pio2/85PZ+9MuApqB/VH/IjjGajWOZcoB5Jwtt" },
};
const size_t kat_vector_count = sizeof(kat_vectors) / sizeof(kat_vectors[0]);

void ut_kat_message(const struct kat_vector *v, struct spa_message *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->rand_val, sizeof(m->rand_val), "%s", KAT_RAND);
	snprintf(m->username, sizeof(m->username), "%s", KAT_USER);
	m->timestamp = KAT_TS;
	snprintf(m->version, sizeof(m->version), "%s", "3.0.0");
	m->type = v->type;
	snprintf(m->message, sizeof(m->message), "%s", v->msg);
	snprintf(m->nat_access, sizeof(m->nat_access), "%s", v->nat);
	snprintf(m->server_auth, sizeof(m->server_auth), "%s", v->auth);
	m->client_timeout = v->timeout;
	m->digest_type = v->digest;
}

struct spa_keys *ut_keys(const char *key, int mode, const char *hmac_key,
			 int hmac_type)
{
	struct spa_key_spec spec = {
		.enc_key = (const uint8_t *)key,
		.enc_key_len = strlen(key),
		.hmac_key = (const uint8_t *)hmac_key,
		.hmac_key_len = hmac_key ? strlen(hmac_key) : 0,
		.hmac_type = hmac_type,
		.enc_mode = mode,
	};
	struct spa_keys *k = NULL;
	int rc = spa_keys_new(&spec, &k);

	if (rc != 0 || !k)
		fail_msg("spa_keys_new(mode %d, hmac %d) = %d (%s)", mode,
			 hmac_type, rc, spa_strerror(rc));
	return k;
}

struct spa_keys *ut_kat_keys(const struct kat_vector *v)
{
	return ut_keys(v->key, v->mode,
		       v->hmac == SPA_HMAC_NONE ? NULL : KAT_HMAC_KEY, v->hmac);
}

size_t ut_b64(const void *in, size_t len, char *out, bool pad)
{
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);

	if (!pad)
		while (n > 0 && out[n - 1] == '=')
			out[--n] = '\0';
	return (size_t)n;
}

int ut_unb64(const char *in, size_t len, uint8_t *out, size_t cap,
	     size_t *out_len)
{
	size_t strip = len, padded, pads;
	char *tmp;
	uint8_t *raw;
	int n, rc = -1;

	while (strip > 0 && in[strip - 1] == '=')
		strip--;
	if (strip % 4 == 1)
		return -1;
	padded = (strip + 3) / 4 * 4;
	pads = padded - strip;
	tmp = malloc(padded + 1);
	raw = malloc(padded + 1);
	if (!tmp || !raw)
		goto out;
	memcpy(tmp, in, strip);
	memset(tmp + strip, '=', pads);
	n = EVP_DecodeBlock(raw, (unsigned char *)tmp, (int)padded);
	if (n < 0 || (size_t)n < pads || (size_t)n - pads > cap)
		goto out;
	memcpy(out, raw, (size_t)n - pads);
	*out_len = (size_t)n - pads;
	rc = 0;
out:
	free(tmp);
	free(raw);
	return rc;
}

const char *ut_md_name(int digest_type)
{
	switch (digest_type) {
	case SPA_DIGEST_MD5: return "MD5";
	case SPA_DIGEST_SHA1: return "SHA1";
	case SPA_DIGEST_SHA256: return "SHA256";
	case SPA_DIGEST_SHA384: return "SHA384";
	case SPA_DIGEST_SHA512: return "SHA512";
	case SPA_DIGEST_SHA3_256: return "SHA3-256";
	case SPA_DIGEST_SHA3_512: return "SHA3-512";
	default: return NULL;
	}
}

int ut_digest_b64(int type, const void *data, size_t len, char *out)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	const char *name = ut_md_name(type);
	EVP_MD *md_alg;
	int ok;

	if (!name)
		return -1;
	md_alg = EVP_MD_fetch(NULL, name, NULL);
	if (!md_alg)
		return -1;
	ok = EVP_Digest(data, len, md, &md_len, md_alg, NULL);
	EVP_MD_free(md_alg);
	if (!ok)
		return -1;
	return (int)ut_b64(md, md_len, out, false);
}

int ut_hmac_b64(int type, const void *key, size_t key_len,
		const void *data, size_t len, char *out)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	size_t mac_len = 0;
	const char *name = ut_md_name(type);

	if (!name)
		return -1;
	if (!EVP_Q_mac(NULL, "HMAC", NULL, name, NULL, key, key_len, data,
		       len, mac, sizeof(mac), &mac_len))
		return -1;
	return (int)ut_b64(mac, mac_len, out, false);
}

int ut_derive(const char *pw, size_t pw_len, const uint8_t salt[8],
	      bool legacy, uint8_t key[32], uint8_t iv[16])
{
	char lpw[16];

	if (legacy) {
		/* legacy mode: '0'-pad to 16, truncate to 16 (PROTOCOL 2.1) */
		memset(lpw, '0', sizeof(lpw));
		memcpy(lpw, pw, pw_len < 16 ? pw_len : 16);
		pw = lpw;
		pw_len = 16;
	}
	if (EVP_BytesToKey(EVP_aes_256_cbc(), EVP_md5(), salt,
			   (const uint8_t *)pw, (int)pw_len, 1, key, iv) != 32)
		return -1;
	return 0;
}

static const EVP_CIPHER *ut_cipher(int mode)
{
	switch (mode) {
	case SPA_MODE_ECB: return EVP_aes_256_ecb();
	case SPA_MODE_CBC:
	case SPA_MODE_CBC_LEGACY_IV: return EVP_aes_256_cbc();
	case SPA_MODE_CFB: return EVP_aes_256_cfb128();
	case SPA_MODE_OFB: return EVP_aes_256_ofb();
	case SPA_MODE_CTR: return EVP_aes_256_ctr();
	default: return NULL;
	}
}

static int ut_crypt(int mode, const char *pw, const uint8_t salt[8],
		    const uint8_t *in, size_t len, uint8_t *out, int enc)
{
	uint8_t key[32], iv[16];
	const EVP_CIPHER *c = ut_cipher(mode);
	EVP_CIPHER_CTX *ctx = NULL;
	int n1 = 0, n2 = 0, rc = -1;

	if (!c || ut_derive(pw, strlen(pw), salt,
			    mode == SPA_MODE_CBC_LEGACY_IV, key, iv))
		return -1;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || !EVP_CipherInit_ex(ctx, c, NULL, key, iv, enc))
		goto out;
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	if (!EVP_CipherUpdate(ctx, out, &n1, in, (int)len) ||
	    !EVP_CipherFinal_ex(ctx, out + n1, &n2))
		goto out;
	rc = n1 + n2;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int ut_wrap_raw(const uint8_t *r, size_t r_len, int hmac_type,
		const char *hmac_key, char *wire, size_t cap)
{
	char *c = malloc(r_len * 2 + 16);
	char mac[128];
	size_t c_len;
	int mac_len = 0, rc = -1;

	if (!c)
		return -1;
	c_len = ut_b64(r, r_len, c, false);
	if (hmac_type != SPA_HMAC_NONE) {
		mac_len = ut_hmac_b64(hmac_type, hmac_key, strlen(hmac_key),
				      c, c_len, mac);
		if (mac_len < 0)
			goto out;
	}
	if (c_len < 10 || c_len - 10 + (size_t)mac_len + 1 > cap)
		goto out;
	memcpy(wire, c + 10, c_len - 10);
	memcpy(wire + c_len - 10, mac, (size_t)mac_len);
	wire[c_len - 10 + (size_t)mac_len] = '\0';
	rc = (int)(c_len - 10 + (size_t)mac_len);
out:
	free(c);
	return rc;
}

int ut_encrypt(int mode, const char *pw, const uint8_t salt[8],
	       const void *p, size_t p_len, int hmac_type,
	       const char *hmac_key, char *wire, size_t cap)
{
	size_t padded = (p_len / 16 + 1) * 16;
	uint8_t *buf = malloc(padded), *r = malloc(16 + padded);
	int n, rc = -1;

	if (!buf || !r)
		goto out;
	memcpy(buf, p, p_len);
	/* PKCS#7 in every mode, even the stream ones (PROTOCOL 2.2) */
	memset(buf + p_len, (int)(padded - p_len), padded - p_len);
	memcpy(r, "Salted__", 8);
	memcpy(r + 8, salt, 8);
	n = ut_crypt(mode, pw, salt, buf, padded, r + 16, 1);
	if (n != (int)padded)
		goto out;
	rc = ut_wrap_raw(r, 16 + padded, hmac_type, hmac_key, wire, cap);
out:
	free(buf);
	free(r);
	return rc;
}

int ut_encrypt_nopad(int mode, const char *pw, const uint8_t salt[8],
		     const void *p, size_t p_len, int hmac_type,
		     const char *hmac_key, char *wire, size_t cap)
{
	uint8_t *r = malloc(16 + p_len + 1);
	int n, rc = -1;

	if (!r)
		return -1;
	memcpy(r, "Salted__", 8);
	memcpy(r + 8, salt, 8);
	n = ut_crypt(mode, pw, salt, p, p_len, r + 16, 1);
	if (n == (int)p_len)
		rc = ut_wrap_raw(r, 16 + p_len, hmac_type, hmac_key, wire, cap);
	free(r);
	return rc;
}

int ut_decrypt(int mode, const char *pw, const char *wire, size_t wire_len,
	       int hmac_type, const char *hmac_key, char *p, size_t cap)
{
	size_t mac_len = 0, c_len, r_len = 0;
	char *c = malloc(wire_len + 16), mac[128];
	uint8_t *r = malloc(wire_len + 16), *pt = malloc(wire_len + 16);
	int n, rc = -1;

	if (!c || !r || !pt)
		goto out;
	if (hmac_type != SPA_HMAC_NONE) {
		int l = ut_digest_b64(hmac_type, "", 0, mac);

		if (l < 0 || (size_t)l > wire_len)
			goto out;
		mac_len = (size_t)l;
	}
	memcpy(c, "U2FsdGVkX1", 10);
	memcpy(c + 10, wire, wire_len - mac_len);
	c_len = 10 + wire_len - mac_len;
	if (hmac_type != SPA_HMAC_NONE) {
		n = ut_hmac_b64(hmac_type, hmac_key, strlen(hmac_key), c,
				c_len, mac);
		if (n != (int)mac_len ||
		    memcmp(mac, wire + wire_len - mac_len, mac_len) != 0)
			goto out;
	}
	if (ut_unb64(c, c_len, r, wire_len + 16, &r_len) || r_len < 32 ||
	    (r_len - 16) % 16 != 0)
		goto out;
	n = ut_crypt(mode, pw, r + 8, r + 16, r_len - 16, pt, 0);
	if (n < 16)
		goto out;
	if (pt[n - 1] >= 1 && pt[n - 1] <= 16)
		n -= pt[n - 1];
	if ((size_t)n + 1 > cap)
		goto out;
	memcpy(p, pt, (size_t)n);
	p[n] = '\0';
	rc = n;
out:
	free(c);
	free(r);
	free(pt);
	return rc;
}

int ut_plaintext(const char *e, int digest_type, char *out, size_t cap)
{
	char d[128];
	size_t e_len = strlen(e);
	int d_len = ut_digest_b64(digest_type, e, e_len, d);

	if (d_len < 0 || e_len + 1 + (size_t)d_len + 1 > cap)
		return -1;
	memcpy(out, e, e_len);
	out[e_len] = ':';
	memcpy(out + e_len + 1, d, (size_t)d_len + 1);
	return (int)(e_len + 1 + (size_t)d_len);
}

char *ut_dup_exact(const void *p, size_t len)
{
	char *d = malloc(len ? len : 1);

	if (!d)
		fail_msg("out of memory");
	memcpy(d, p, len);
	return d;
}

void ut_assert_rc_in(int rc, const int *codes, size_t n, const char *expr,
		     const char *file, int line)
{
	char want[256] = "";
	size_t used = 0;

	for (size_t i = 0; i < n; i++) {
		if (rc == -codes[i])
			return;
		used += (size_t)snprintf(want + used, sizeof(want) - used,
					 "%s-%d(%s)", i ? " or " : "",
					 codes[i], spa_strerror(codes[i]));
		if (used >= sizeof(want))
			break;
	}
	print_error("%s = %d (%s), expected %s\n", expr, rc, spa_strerror(rc),
		    want);
	_fail(file, line);
}
