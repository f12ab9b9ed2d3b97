/* SPDX-License-Identifier: MIT */
/*
 * test_spad_pcap.c - spad --pcap-file over capture files written here:
 * every link type and header shape the parser knows, valid packets from
 * the library, and frames that must be refused or ignored; the recorder
 * plugin shows exactly which grants were opened.
 * argv: spad, plugin dir.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pcap/dlt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "pcap_frames.h"
#include "spad_fixture.h"


static const char *spad_path, *plugin_dir;

#define ACCESS_BODY \
	"SOURCE 198.51.100.0/24, 2001:db8::/32\n" \
	"KEY_BASE64 " FX_KEY_B64 "\n" \
	"HMAC_KEY_BASE64 " FX_HMAC_B64 "\n" \
	"FW_ACCESS_TIMEOUT 30\n"

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	fx_init(f, spad_path, plugin_dir);
	th_write(f->dir, "access.conf", ACCESS_BODY, f->access, sizeof(f->access));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_free(*state);
	free(*state);
	return 0;
}

/* A valid SPA packet asking for proto/port for whoever sends it. */
static size_t spa(struct fx *f, const char *req, int64_t age, char *out)
{
	return fx_build(f, f->keys, "alice", req, age, 0, out);
}

/* Lines "open id=N <what> timeout=30 ..." in the recorder's log. */
static int opened(struct fx *f, const char *what)
{
	char needle[256], *text = th_read(f->calls), *line, *save = NULL;
	int n = 0;

	snprintf(needle, sizeof(needle), " %s timeout=30 ", what);
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "open ", 5) == 0 && strstr(line, needle))
			n++;
	free(text);
	return n;
}

static void test_ethernet_file(void **state)
{
	struct fx *f = *state;
	static struct pf_frame fr[12];
	uint8_t ip[SPA_FRAME_MAX];
	char p[SPA_WIRE_CAP], path[4200], garbage[64];
	size_t n = 0, len, iplen;
	const char *args[] = { "--pcap-file", path, "-P", "", NULL };

	snprintf(path, sizeof(path), "%s/eth.pcap", f->dir);
	/* 0: plain UDP, and 1: the same bytes again (a replay) */
	len = spa(f, "0.0.0.0,tcp/22", 0, p);
	iplen = pf_ipv4(ip, "198.51.100.7", "198.51.100.1", 17, 0, p, len);
	pf_ether(&fr[n++], 0, ip, iplen, 0);
	pf_ether(&fr[n++], 0, ip, iplen, 0);
	/* 2: VLAN tag and IP options; stamped a day ago: file mode has no aging */
	len = spa(f, "0.0.0.0,tcp/80", -86400, p);
	iplen = pf_ipv4(ip, "198.51.100.8", "198.51.100.1", 17, 2, p, len);
	pf_ether(&fr[n++], 42, ip, iplen, 0);
	/* 3: TCP with options, 4: ICMP */
	len = spa(f, "0.0.0.0,tcp/2222", 0, p);
	iplen = pf_ipv4(ip, "198.51.100.9", "198.51.100.1", 6, 0, p, len);
	pf_ether(&fr[n++], 0, ip, iplen, 0);
	len = spa(f, "0.0.0.0,udp/53", 0, p);
	iplen = pf_ipv4(ip, "198.51.100.10", "198.51.100.1", 1, 0, p, len);
	pf_ether(&fr[n++], 0, ip, iplen, 0);
	/* 5: IPv6 */
	len = spa(f, "0.0.0.0,tcp/443", 0, p);
	iplen = pf_ipv6(ip, "2001:db8::7", "2001:db8::1", p, len);
	pf_ether(&fr[n++], 0, ip, iplen, 1);
	/* 6: truncated by the capture; 7: cut inside the IP header */
	len = spa(f, "0.0.0.0,tcp/8443", 0, p);
	iplen = pf_ipv4(ip, "198.51.100.11", "198.51.100.1", 17, 0, p, len);
	pf_ether(&fr[n++], 0, ip, iplen, 0);
	fr[n - 1].len -= 30;
	pf_ether(&fr[n++], 0, ip, iplen, 0);
	fr[n - 1].len = 14 + 12;
	/* 8: garbage */
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(i * 37 + 11);
	memcpy(fr[n].b, garbage, sizeof(garbage));
	fr[n++].len = sizeof(garbage);
	/* 9: valid, but from outside SOURCE; 10: wrong keys */
	len = spa(f, "0.0.0.0,tcp/22", 0, p);
	iplen = pf_ipv4(ip, "203.0.113.9", "198.51.100.1", 17, 0, p, len);
	pf_ether(&fr[n++], 0, ip, iplen, 0);
	len = fx_build(f, f->wrong, "alice", "0.0.0.0,tcp/22", 0, 0, p);
	iplen = pf_ipv4(ip, "198.51.100.12", "198.51.100.1", 17, 0, p, len);
	pf_ether(&fr[n++], 0, ip, iplen, 0);
	/* 11: a UDP length that claims more than the packet holds */
	len = spa(f, "0.0.0.0,tcp/22", 0, p);
	iplen = pf_ipv4(ip, "198.51.100.13", "198.51.100.1", 17, 0, p, len);
	ip[20 + 4] = 0xff;
	pf_ether(&fr[n++], 0, ip, iplen, 0);
	pf_write(path, DLT_EN10MB, fr, n);

	assert_int_equal(fx_run(f, args), 0);
	assert_int_equal(opened(f, "family=4 src=198.51.100.7 proto=6 port=22"), 1);
	assert_int_equal(opened(f, "family=4 src=198.51.100.8 proto=6 port=80"), 1);
	assert_int_equal(opened(f, "family=4 src=198.51.100.9 proto=6 port=2222"), 1);
	assert_int_equal(opened(f, "family=4 src=198.51.100.10 proto=17 port=53"), 1);
	assert_int_equal(opened(f, "family=6 src=2001:db8::7 proto=6 port=443"), 1);
	assert_int_equal(fx_count(f->calls, "open "), 5);
	assert_int_equal(fx_count(f->log, "replay of a packet first seen from 198.51.100.7"), 1);
	assert_int_equal(fx_count(f->log, "decision=reject src=203.0.113.9"), 1);
	assert_int_equal(fx_count(f->log, "decision=reject src=198.51.100.12"), 1);
	assert_int_equal(fx_count(f->log, "IPv4 packet truncated by the capture"), 1);
	assert_int_equal(fx_count(f->log, "bad IPv4 header"), 1);
	assert_int_equal(fx_count(f->log, "bad UDP length"), 1);
	assert_int_equal(fx_count(f->log, "src=198.51.100.11"), 0);
	assert_int_equal(fx_count(f->log, "64 bytes ignored: not an IP frame"), 1);
	assert_int_equal(fx_count(f->log, "decision="), 8);
	assert_int_equal(fx_count(f->log, "end of "), 1);
	/* a clean exit closes what it opened */
	assert_int_equal(fx_count(f->calls, "close "), 5);

	/* with the default filter only plain UDP to 62201 is looked at */
	{
		const char *dflt[] = { "--pcap-file", path, NULL };
		int before = fx_count(f->log, "decision=");
		assert_int_equal(fx_run(f, dflt), 0);
		/* BPF passes the UDP frames 0, 1, 5 (IPv6), 6, 9, 10, 11; 6 and 11
		 * are dropped by the parser, the digest cache makes 0, 1, 5
		 * replays: five decisions, none of them a grant */
		assert_int_equal(fx_count(f->log, "decision=") - before, 5);
		assert_int_equal(fx_count(f->calls, "open "), 5);
		assert_int_equal(fx_count(f->log, "replay of a packet"), 4);
	}
	/* -C stops after that many captured packets */
	{
		const char *lim[] = { "--pcap-file", path, "-P", "", "-C", "3", NULL };
		assert_int_equal(fx_run(f, lim), 0);
		assert_int_equal(fx_count(f->log, "packet limit 3 reached"), 1);
		assert_int_equal(fx_count(f->log, "after 3 packets"), 1);
	}
}

static void one_frame_file(struct fx *f, int dlt, const char *src, const char *req, int v6,
			   const char *expect)
{
	static struct pf_frame fr;
	uint8_t ip[SPA_FRAME_MAX];
	char p[SPA_WIRE_CAP], path[4200];
	size_t len, iplen;
	const char *args[] = { "--pcap-file", path, "-P", "", NULL };

	snprintf(path, sizeof(path), "%s/dlt%d.pcap", f->dir, dlt);
	len = spa(f, req, 0, p);
	iplen = v6 ? pf_ipv6(ip, src, v6 ? "2001:db8::1" : "", p, len)
		   : pf_ipv4(ip, src, "198.51.100.1", 17, 0, p, len);
	if (dlt == DLT_LINUX_SLL)
		pf_sll(&fr, ip, iplen, v6);
	else if (dlt == DLT_LINUX_SLL2)
		pf_sll2(&fr, ip, iplen, v6);
	else if (dlt == DLT_NULL)
		pf_null(&fr, ip, iplen, v6);
	else {
		memcpy(fr.b, ip, iplen);
		fr.len = iplen;
	}
	pf_write(path, dlt, &fr, 1);
	assert_int_equal(fx_run(f, args), 0);
	if (opened(f, expect) != 1)
		fail_msg("link type %d: no '%s' in the recorder's calls", dlt, expect);
}

static void test_other_link_types(void **state)
{
	struct fx *f = *state;

	one_frame_file(f, DLT_LINUX_SLL, "198.51.100.20", "0.0.0.0,tcp/22", 0,
		       "family=4 src=198.51.100.20 proto=6 port=22");
	one_frame_file(f, DLT_LINUX_SLL2, "2001:db8::20", "0.0.0.0,tcp/22", 1,
		       "family=6 src=2001:db8::20 proto=6 port=22");
	one_frame_file(f, DLT_NULL, "198.51.100.21", "0.0.0.0,tcp/22", 0,
		       "family=4 src=198.51.100.21 proto=6 port=22");
	one_frame_file(f, DLT_RAW, "198.51.100.22", "0.0.0.0,tcp/22", 0,
		       "family=4 src=198.51.100.22 proto=6 port=22");
	assert_int_equal(fx_count(f->calls, "open "), 4);
}

static void test_bad_file_and_filter(void **state)
{
	struct fx *f = *state;
	char path[4200];
	const char *missing[] = { "--pcap-file", path, NULL };
	const char *badbpf[] = { "--pcap-file", path, "-P", "udp port nonsense-xyz", NULL };

	snprintf(path, sizeof(path), "%s/none.pcap", f->dir);
	assert_int_not_equal(fx_run(f, missing), 0);
	pf_write(path, DLT_EN10MB, NULL, 0);
	assert_int_not_equal(fx_run(f, badbpf), 0);
	assert_true(fx_count(f->log, "filter 'udp port nonsense-xyz'") >= 1);
	/* an empty capture is fine: nothing decided, clean exit */
	assert_int_equal(fx_run(f, missing), 0);
	assert_int_equal(fx_count(f->log, "decision="), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ethernet_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_link_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_file_and_filter, setup, teardown),
	};
	if (argc < 3) {
		fprintf(stderr, "usage: test_spad_pcap spad plugin-dir\n");
		return 1;
	}
	spad_path = argv[1];
	plugin_dir = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
