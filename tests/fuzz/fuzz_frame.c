/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the capture path's frame parser (spa_frame.c):
 * the same bytes are parsed as a frame of every link type pcap mode
 * accepts (Ethernet with VLAN tags, Linux cooked v1/v2, BSD loopback,
 * raw IP), straight from the buffer libFuzzer gives, so ASan sees a read
 * past the captured length. A parsed frame's payload must lie inside the
 * frame and its addresses be printable text of its family.
 */
#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_fixture.h"
#include "spa_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int link_types[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP,
	DLT_RAW, DLT_IPV4, DLT_IPV6, 101 /* LINKTYPE_RAW in files */,
	DLT_IEEE802_11 /* refused */,
};

static void check_addr(int family, const char *text, size_t cap)
{
	unsigned char bin[16];

	if (memchr(text, '\0', cap) == NULL)
		fuzz_fail("frame address not terminated", NULL);
	if (inet_pton(family, text, bin) != 1)
		fuzz_fail("frame address is not an address of its family", text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < sizeof(link_types) / sizeof(link_types[0]); i++) {
		struct spa_pkt pkt;
		const char *why = NULL;
		int rc;

		memset(&pkt, 0, sizeof(pkt));
		rc = spa_frame_parse(link_types[i], data, size, &pkt, &why);
		if (rc < 0) {
			if (why == NULL || why[0] == '\0')
				fuzz_fail("frame refused without a reason", NULL);
			continue;
		}
		if (rc > 0)
			fuzz_fail("frame parser returned a positive code", NULL);
		if (pkt.family != AF_INET && pkt.family != AF_INET6)
			fuzz_fail("parsed frame of no IP family", NULL);
		if (pkt.len > size ||
		    (pkt.len && ((const uint8_t *)pkt.data < data ||
				 (const uint8_t *)pkt.data + pkt.len > data + size)))
			fuzz_fail("frame payload outside the frame", NULL);
		check_addr(pkt.family, pkt.src, sizeof(pkt.src));
		if (pkt.dst[0])
			check_addr(pkt.family, pkt.dst, sizeof(pkt.dst));
	}
	return 0;
}
