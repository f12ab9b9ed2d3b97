/* SPDX-License-Identifier: MIT */
/*
 * Base64 as the SPA wire uses it: the standard alphabet, '=' padding
 * stripped on output, decoding that stops at the first '=' and ignores
 * leftover bits (a receiver must accept what fwknop's client sends).
 */
#include "spa_wire.h"

static const char spa_b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Per byte: its value + 1 for the alphabet, 65 for '=' and 0 for anything
 * else. A table keeps the per-character checks on every received packet
 * branch-light. */
#define SPA_B64_PAD_MARK 65
static const uint8_t spa_b64_table[256] = {
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 63,  0,  0,  0, 64,
	53, 54, 55, 56, 57, 58, 59, 60, 61, 62,  0,  0,  0, 65,  0,  0,
	 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,  0,  0,  0,  0,  0,
	 0, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
	42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
};

/* -1 for bytes outside the alphabet ('=' included). */
static int8_t spa_b64_value(unsigned char c)
{
	uint8_t v = spa_b64_table[c];

	return v == 0 || v == SPA_B64_PAD_MARK ? -1 : (int8_t)(v - 1);
}

size_t spa_b64_encoded_len(size_t len)
{
	return (len / 3) * 4 + ((len % 3) ? (len % 3) + 1 : 0);
}

/* Writes the padding only when asked: callers size their buffers with
 * spa_b64_encoded_len(), which counts no '='. */
static size_t spa_b64_encode_core(const uint8_t *in, size_t len, char *out,
				  bool pad)
{
	size_t o = 0, i = 0;

	for (; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = spa_b64_alphabet[(v >> 18) & 63];
		out[o++] = spa_b64_alphabet[(v >> 12) & 63];
		out[o++] = spa_b64_alphabet[(v >> 6) & 63];
		out[o++] = spa_b64_alphabet[v & 63];
	}
	if (i < len) {
		bool two = i + 1 < len;
		uint32_t v = (uint32_t)in[i] << 16 | (two ? (uint32_t)in[i + 1] << 8 : 0);

		out[o++] = spa_b64_alphabet[(v >> 18) & 63];
		out[o++] = spa_b64_alphabet[(v >> 12) & 63];
		if (two)
			out[o++] = spa_b64_alphabet[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

size_t spa_b64_encode_padded(const uint8_t *in, size_t len, char *out)
{
	return spa_b64_encode_core(in, len, out, true);
}

size_t spa_b64_encode(const uint8_t *in, size_t len, char *out)
{
	return spa_b64_encode_core(in, len, out, false);
}

int spa_b64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap,
		   size_t *out_len)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	if (!in || !out || !out_len)
		return -SPA_E_ARG;
	for (size_t i = 0; i < in_len && in[i] != '='; i++) {
		int8_t v = spa_b64_value((unsigned char)in[i]);
		if (v < 0)
			return -SPA_E_BASE64;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= out_cap)
				return -SPA_E_TOO_LONG;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*out_len = o;
	return 0;
}

int spa_b64_decode_canonical(const char *in, size_t in_len, uint8_t *out,
			     size_t out_cap, size_t *out_len)
{
	int8_t last;

	if (!in || in_len == 0 || in_len % 4 == 1)
		return -SPA_E_BASE64;
	for (size_t i = 0; i < in_len; i++)
		if (spa_b64_value((unsigned char)in[i]) < 0)
			return -SPA_E_BASE64;
	last = spa_b64_value((unsigned char)in[in_len - 1]);
	if ((in_len % 4 == 2 && (last & 0x0f)) || (in_len % 4 == 3 && (last & 0x03)))
		return -SPA_E_BASE64;
	return spa_b64_decode(in, in_len, out, out_cap, out_len);
}

bool spa_b64_text_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (spa_b64_table[(unsigned char)s[i]] == 0)
			return false;
	return true;
}
