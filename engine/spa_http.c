/* SPDX-License-Identifier: MIT */
/*
 * spa_http.c - the request of fwknop's HTTP mode (spa_http.h). What is
 * refused here is refused whole, with a reason: a request that parses only
 * "mostly" would be a second, looser reading of the same bytes, and the
 * replay digest is taken over the SPA text it yields.
 */
#include "spa_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

static int fail(const char **why, const char *text)
{
	*why = text;
	return -EBADMSG;
}

bool spa_http_is_request(const char *buf, size_t len)
{
	return len >= 4 && strncasecmp(buf, "GET ", 4) == 0;
}

bool spa_http_is_complete(const char *buf, size_t len)
{
	for (size_t i = 1; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i - 1] == '\n' || (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n'))
			return true;
	}
	return false;
}

/* One line of [p, end): its text without the line end, and where the next
 * one starts. 0, or -1 when no line end is there (an incomplete request). */
static int next_line(const char *p, const char *end, const char **text, size_t *len,
		     const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	if (!nl)
		return -1;
	*text = p;
	*len = (size_t)(nl - p);
	if (*len > 0 && p[*len - 1] == '\r')
		(*len)--;
	*next = nl + 1;
	return 0;
}

static bool tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool vchar(char c)
{
	return (c >= 0x20 && c < 0x7f) || c == '\t';
}

static bool spa_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '-' || c == '_';
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
}

/* "GET <target> HTTP/1.x": the SPA text out of the target. */
static int request_line(const char *l, size_t n, struct spa_http_req *out, const char **why)
{
	const char *t, *sp, *end = l + n;
	size_t k = 0;

	if (n < 4 || strncasecmp(l, "GET ", 4) != 0)
		return fail(why, "not a GET request");
	t = l + 4;
	sp = memchr(t, ' ', (size_t)(end - t));
	if (!sp)
		return fail(why, "request line has no HTTP version");
	if ((size_t)(end - sp - 1) != 8 ||
	    (memcmp(sp + 1, "HTTP/1.0", 8) != 0 && memcmp(sp + 1, "HTTP/1.1", 8) != 0))
		return fail(why, "request line does not end in HTTP/1.0 or HTTP/1.1");
	/* a proxy's absolute form: the host is not ours to judge, only to skip */
	if ((size_t)(sp - t) > 7 && strncasecmp(t, "http://", 7) == 0) {
		t += 7;
		while (t < sp && *t != '/') {
			if (!host_char(*t))
				return fail(why, "request target: bad character in the host");
			t++;
		}
	}
	if (t >= sp || *t != '/')
		return fail(why, "request target does not start with '/'");
	for (t++; t < sp; t++) {
		if (!spa_char(*t))
			return fail(why, "request path: character outside the SPA alphabet");
		if (k >= sizeof(out->spa) - 1)
			return fail(why, "request path: SPA data too long");
		out->spa[k++] = *t == '-' ? '+' : *t == '_' ? '/' : *t;
	}
	if (k == 0)
		return fail(why, "request path is empty");
	out->spa[k] = '\0';
	out->spa_len = k;
	return 0;
}

/* The entries of one X-Forwarded-For value: each must be an address; the
 * last one wins. */
static int forwarded_for(const char *v, size_t n, struct spa_http_req *out, const char **why)
{
	const char *p = v, *end = v + n;

	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		char a[48];
		size_t len;

		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		len = (size_t)(e - p);
		if (len == 0 || len >= sizeof(a))
			return fail(why, "X-Forwarded-For: an entry is not an IP address");
		memcpy(a, p, len);
		a[len] = '\0';
		memset(out->xff_bin, 0, sizeof(out->xff_bin));
		if (inet_pton(AF_INET, a, out->xff_bin) == 1)
			out->xff_family = AF_INET;
		else if (inet_pton(AF_INET6, a, out->xff_bin) == 1)
			out->xff_family = AF_INET6;
		else
			return fail(why, "X-Forwarded-For: an entry is not an IP address");
		/* ::ffff:a.b.c.d is a.b.c.d: the allow IP checks (loopback, this
		 * host's addresses) must see it as what it is */
		if (out->xff_family == AF_INET6 &&
		    memcmp(out->xff_bin, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
			memmove(out->xff_bin, out->xff_bin + 12, 4);
			memset(out->xff_bin + 4, 0, 12);
			out->xff_family = AF_INET;
		}
		inet_ntop(out->xff_family, out->xff_bin, out->xff, sizeof(out->xff));
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

static int header(const char *l, size_t n, bool want_xff, struct spa_http_req *out,
		  const char **why)
{
	const char *colon = memchr(l, ':', n), *v, *end = l + n;

	if (l[0] == ' ' || l[0] == '\t')
		return fail(why, "folded header line");
	if (!colon || colon == l)
		return fail(why, "header line without a name");
	for (const char *p = l; p < colon; p++)
		if (!tchar(*p))
			return fail(why, "bad character in a header name");
	for (v = colon + 1; v < end; v++)
		if (!vchar(*v))
			return fail(why, "control character in a header value");
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (want_xff && colon - l == 15 && strncasecmp(l, "X-Forwarded-For", 15) == 0)
		return forwarded_for(v, (size_t)(end - v), out, why);
	return 0;
}

int spa_http_parse(const char *buf, size_t len, bool want_xff, struct spa_http_req *out,
		   const char **why)
{
	const char *p = buf, *end = buf + len, *l;
	size_t n, headers = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > SPA_HTTP_MAX_REQUEST)
		return fail(why, "request over 4096 bytes");
	if (memchr(buf, '\0', len))
		return fail(why, "NUL byte in the request");
	if (next_line(p, end, &l, &n, &p) < 0)
		return fail(why, "request incomplete (no end of line)");
	if ((size_t)(p - l) > SPA_HTTP_MAX_REQUEST / 2)
		return fail(why, "request line too long");
	for (size_t i = 0; i < n; i++)
		if (l[i] < 0x20 || l[i] >= 0x7f)
			return fail(why, "control character in the request line");
	rc = request_line(l, n, out, why);
	if (rc < 0)
		return rc;
	for (;;) {
		if (next_line(p, end, &l, &n, &p) < 0)
			return fail(why, "request incomplete (no blank line after the headers)");
		if (n == 0)
			break;
		if ((size_t)(p - l) > SPA_HTTP_MAX_LINE)
			return fail(why, "header line too long");
		if (++headers > SPA_HTTP_MAX_HEADERS)
			return fail(why, "too many header lines");
		rc = header(l, n, want_xff, out, why);
		if (rc < 0)
			return rc;
	}
	if (p != end)
		return fail(why, "data after the request headers");
	return 0;
}
