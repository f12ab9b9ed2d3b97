/* SPDX-License-Identifier: MIT */
/*
 * interop_mkpacket - TEST-ONLY helper for interop_fwknopd_e2e.sh: builds one
 * packet with our library, prints "RAND <rand>" and "WIRE <wire>", and
 * optionally sends it (and a one-character-mutated copy first) as UDP
 * datagrams to 127.0.0.1.
 *
 * Usage: interop_mkpacket --key K [--hmac-key H --hmac-type sha256]
 *        [--mode cbc] [--digest sha256] [--user U] --message "ip,tcp/22"
 *        [--type N] [--nat host,port] [--timeout N] [--port P] [--bad-first]
 *        [--repeat N]
 * --repeat sends the same packet N times (replay detection); the output
 * then also has "DIGEST <replay digest>" as spa_replay_digest() computes it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "spa_wire.h"

static int send_udp(const char *data, size_t len, unsigned port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc = -1;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sendto(fd, data, len, 0, (struct sockaddr *)&sa, sizeof(sa)) == (ssize_t)len)
		rc = 0;
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	const char *key = NULL, *hkey = NULL, *htype = "sha256", *mode = "cbc";
	const char *digest = "sha256", *user = "spa-interop", *msg = NULL;
	const char *nat = "";
	unsigned port = 0, timeout = 0, repeat = 1;
	int type = SPA_MSG_ACCESS;
	bool bad_first = false;
	struct spa_key_spec s;
	struct spa_keys *k = NULL;
	struct spa_message m;
	char wire[SPA_WIRE_CAP], bad[SPA_WIRE_CAP], replay[44];
	size_t len = 0;
	int err, ret = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--bad-first") == 0) {
			bad_first = true;
			continue;
		}
		if (!v) {
			fprintf(stderr, "missing value for %s\n", a);
			return 2;
		}
		i++;
		if (strcmp(a, "--key") == 0)
			key = v;
		else if (strcmp(a, "--hmac-key") == 0)
			hkey = v;
		else if (strcmp(a, "--hmac-type") == 0)
			htype = v;
		else if (strcmp(a, "--mode") == 0)
			mode = v;
		else if (strcmp(a, "--digest") == 0)
			digest = v;
		else if (strcmp(a, "--user") == 0)
			user = v;
		else if (strcmp(a, "--message") == 0)
			msg = v;
		else if (strcmp(a, "--nat") == 0)
			nat = v;
		else if (strcmp(a, "--type") == 0)
			type = atoi(v);
		else if (strcmp(a, "--timeout") == 0)
			timeout = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "--port") == 0)
			port = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "--repeat") == 0)
			repeat = (unsigned)strtoul(v, NULL, 10);
		else {
			fprintf(stderr, "unknown option %s\n", a);
			return 2;
		}
	}
	if (!key || !msg) {
		fprintf(stderr, "--key and --message are required\n");
		return 2;
	}
	memset(&s, 0, sizeof(s));
	s.enc_key = (const uint8_t *)key;
	s.enc_key_len = strlen(key);
	s.enc_mode = spa_mode_from_name(mode);
	if (hkey) {
		s.hmac_key = (const uint8_t *)hkey;
		s.hmac_key_len = strlen(hkey);
		s.hmac_type = spa_digest_from_name(htype);
	}
	err = spa_keys_new(&s, &k);
	if (err) {
		fprintf(stderr, "spa_keys_new: %s\n", spa_strerror(err));
		goto out;
	}
	err = spa_message_init(&m);
	if (err)
		goto fail;
	snprintf(m.username, sizeof(m.username), "%s", user);
	snprintf(m.message, sizeof(m.message), "%s", msg);
	snprintf(m.nat_access, sizeof(m.nat_access), "%s", nat);
	m.timestamp = (uint64_t)time(NULL);
	m.type = type;
	m.client_timeout = timeout;
	m.digest_type = spa_digest_from_name(digest);
	err = spa_packet_build(&m, k, NULL, wire, sizeof(wire), &len);
	if (err)
		goto fail;
	printf("RAND %s\nTYPE %d\nWIRE %s\n", m.rand_val, m.type, wire);
	err = spa_replay_digest(wire, len, replay);
	if (err)
		goto fail;
	printf("DIGEST %s\n", replay);
	if (bad_first) {
		/* Change one character in the middle: the MAC must catch it. */
		memcpy(bad, wire, len + 1);
		bad[len / 2] = bad[len / 2] == 'A' ? 'B' : 'A';
		printf("BAD %s\n", bad);
		if (port && send_udp(bad, len, port) != 0) {
			perror("sendto");
			goto out;
		}
		/* Two datagrams back to back could be read in one select round;
		 * spacing them keeps fwknopd's log order obvious. */
		usleep(300000);
	}
	for (unsigned i = 0; port && i < repeat; i++) {
		if (i)
			usleep(300000);
		if (send_udp(wire, len, port) != 0) {
			perror("sendto");
			goto out;
		}
	}
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "build failed: %s\n", spa_strerror(err));
out:
	fflush(stdout);
	spa_keys_free(k);
	return ret;
}
