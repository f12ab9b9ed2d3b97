/* SPDX-License-Identifier: MIT */
/*
 * test_frame.c - spa_frame_parse: each link type and header shape gives the
 * right payload and addresses; every truncation and corruption of a valid
 * frame is refused without reading past the captured bytes (run under
 * valgrind and ASan, the frames live in exactly-sized heap buffers).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pcap/dlt.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>

#include "pcap_frames.h"
#include "spa_frame.h"

static const char payload[] = "this-stands-for-an-spa-message";

/* Parses a heap copy of exactly len bytes. */
static int parse(int dlt, const uint8_t *frame, size_t len, struct spa_pkt *pkt)
{
	uint8_t *copy = malloc(len ? len : 1);
	const char *why;
	int rc;

	assert_non_null(copy);
	memcpy(copy, frame, len);
	pkt->now = 1;
	rc = spa_frame_parse(dlt, copy, len, pkt, &why);
	if (rc == 0) {
		assert_true(pkt->data >= (const char *)copy);
		assert_true(pkt->data + pkt->len <= (const char *)copy + len);
		/* compare while the buffer is alive */
		if (pkt->len == sizeof(payload) - 1)
			assert_memory_equal(pkt->data, payload, pkt->len);
		pkt->data = NULL;
	} else {
		assert_true(why && *why);
	}
	free(copy);
	return rc;
}

static void check_ok(int dlt, const struct pf_frame *fr, int family, const char *src,
		     uint8_t proto)
{
	struct spa_pkt pkt;

	assert_int_equal(parse(dlt, fr->b, fr->len, &pkt), 0);
	assert_int_equal(pkt.family, family);
	assert_string_equal(pkt.src, src);
	assert_int_equal(pkt.proto, proto);
	assert_int_equal(pkt.len, sizeof(payload) - 1);
	assert_int_equal(pkt.now, 1);
	/* every shorter capture is refused */
	for (size_t cut = 0; cut < fr->len; cut++)
		assert_int_not_equal(parse(dlt, fr->b, cut, &pkt), 0);
}

static void test_link_types(void **state)
{
	uint8_t ip[SPA_FRAME_MAX];
	struct pf_frame fr;
	size_t n;
	(void)state;

	n = pf_ipv4(ip, "198.51.100.7", "198.51.100.1", 17, 0, payload, sizeof(payload) - 1);
	pf_ether(&fr, 0, ip, n, 0);
	check_ok(DLT_EN10MB, &fr, AF_INET, "198.51.100.7", 17);
	pf_ether(&fr, 7, ip, n, 0);
	check_ok(DLT_EN10MB, &fr, AF_INET, "198.51.100.7", 17);
	pf_sll(&fr, ip, n, 0);
	check_ok(DLT_LINUX_SLL, &fr, AF_INET, "198.51.100.7", 17);
	pf_null(&fr, ip, n, 0);
	check_ok(DLT_NULL, &fr, AF_INET, "198.51.100.7", 17);
	memcpy(fr.b, ip, n);
	fr.len = n;
	check_ok(DLT_RAW, &fr, AF_INET, "198.51.100.7", 17);

	n = pf_ipv4(ip, "203.0.113.5", "203.0.113.1", 6, 3, payload, sizeof(payload) - 1);
	pf_ether(&fr, 0, ip, n, 0);
	check_ok(DLT_EN10MB, &fr, AF_INET, "203.0.113.5", 6);
	n = pf_ipv4(ip, "203.0.113.6", "203.0.113.1", 1, 10, payload, sizeof(payload) - 1);
	pf_sll2(&fr, ip, n, 0);
	check_ok(DLT_LINUX_SLL2, &fr, AF_INET, "203.0.113.6", 1);

	n = pf_ipv6(ip, "2001:db8::5", "2001:db8::1", payload, sizeof(payload) - 1);
	pf_ether(&fr, 0, ip, n, 1);
	check_ok(DLT_EN10MB, &fr, AF_INET6, "2001:db8::5", 17);
	pf_sll2(&fr, ip, n, 1);
	check_ok(DLT_LINUX_SLL2, &fr, AF_INET6, "2001:db8::5", 17);
	pf_null(&fr, ip, n, 1);
	check_ok(DLT_NULL, &fr, AF_INET6, "2001:db8::5", 17);
}

static void test_refusals(void **state)
{
	uint8_t ip[SPA_FRAME_MAX];
	struct pf_frame fr;
	struct spa_pkt pkt;
	size_t n;
	(void)state;

	n = pf_ipv4(ip, "198.51.100.7", "198.51.100.1", 17, 0, payload, sizeof(payload) - 1);
	/* a fragment */
	ip[6] = 0x20;
	pf_ether(&fr, 0, ip, n, 0);
	assert_int_not_equal(parse(DLT_EN10MB, fr.b, fr.len, &pkt), 0);
	ip[6] = 0;
	/* IHL below 5, and larger than the packet */
	ip[0] = 0x44;
	pf_ether(&fr, 0, ip, n, 0);
	assert_int_not_equal(parse(DLT_EN10MB, fr.b, fr.len, &pkt), 0);
	ip[0] = 0x4f;
	pf_ether(&fr, 0, ip, 60, 0);
	assert_int_not_equal(parse(DLT_EN10MB, fr.b, fr.len, &pkt), 0);
	ip[0] = 0x45;
	/* GRE is not a transport we read */
	ip[9] = 47;
	pf_ether(&fr, 0, ip, n, 0);
	assert_int_not_equal(parse(DLT_EN10MB, fr.b, fr.len, &pkt), 0);
	ip[9] = 17;
	/* an unknown link type */
	assert_int_not_equal(parse(DLT_IEEE802_11, fr.b, fr.len, &pkt), 0);
	/* trailing Ethernet padding is not payload */
	pf_ether(&fr, 0, ip, n, 0);
	memset(fr.b + fr.len, 0, 20);
	fr.len += 20;
	assert_int_equal(parse(DLT_EN10MB, fr.b, fr.len, &pkt), 0);
	assert_int_equal(pkt.len, sizeof(payload) - 1);
	/* pseudo-random bytes through every link type: no crash, no overread */
	srand(7);
	for (int round = 0; round < 4000; round++) {
		static const int dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL,
					    DLT_LOOP, DLT_RAW };
		uint8_t junk[128];
		size_t len = (size_t)rand() % sizeof(junk);
		for (size_t i = 0; i < len; i++)
			junk[i] = (uint8_t)rand();
		/* often a plausible start, so the deeper headers get exercised */
		if (len > 20 && round % 2) {
			memcpy(junk, fr.b, 14 + (size_t)rand() % 20);
		}
		(void)parse(dlts[round % 6], junk, len, &pkt);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_types),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
