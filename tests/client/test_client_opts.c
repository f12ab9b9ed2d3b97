/* SPDX-License-Identifier: MIT */
/* Option table, command-line parsing and value checks of spa-client. */
#include "client_test_util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static struct spa_client_cfg *new_cfg(void)
{
	struct spa_client_cfg *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	spa_client_cfg_init(c);
	return c;
}

static void free_cfg(struct spa_client_cfg *c)
{
	spa_client_cfg_free(c);
	free(c);
}

static const char *saved_value(const struct spa_client_cfg *c, const char *rc_name)
{
	const struct spa_opt_def *d = spa_opt_by_rc_name(rc_name);

	assert_non_null(d);
	return c->saved[d - spa_opt_table];
}

static void test_defaults(void **state)
{
	struct spa_client_cfg *c = new_cfg();

	(void)state;
	assert_int_equal(c->server_port, 62201);
	assert_int_equal(c->proto, SPA_CLIENT_PROTO_UDP);
	assert_int_equal(c->digest_type, SPA_DIGEST_SHA256);
	assert_int_equal(c->hmac_type, SPA_DIGEST_SHA256);
	assert_int_equal(c->enc_mode, SPA_MODE_CBC);
	assert_int_equal(c->key_fd, -1);
	assert_false(c->use_hmac);
	free_cfg(c);
}

static void test_short_and_long(void **state)
{
	struct spa_client_cfg *c = new_cfg();

	(void)state;
	assert_int_equal(ct_parse(c, ARGS("-A", "tcp/22,UDP/53", "-a", "198.51.100.7",
				       "-D", "server.example", "-p", "40000", "-P", "tcp",
				       "-f", "45", "-U", "bob smith", "-m", "sha3_512",
				       "--hmac-digest-type", "sha384", "-M", "legacy",
				       "-T", "-v", "-v", "-r", "-n", "office")), 0);
	assert_string_equal(c->access, "tcp/22,udp/53");
	assert_int_equal(c->allow_mode, SPA_CLIENT_ALLOW_IP);
	assert_string_equal(c->allow_ip, "198.51.100.7");
	assert_string_equal(c->server, "server.example");
	assert_int_equal(c->server_port, 40000);
	assert_int_equal(c->proto, SPA_CLIENT_PROTO_TCP);
	assert_int_equal(c->fw_timeout, 45);
	assert_string_equal(c->spoof_user, "bob smith");
	assert_int_equal(c->digest_type, SPA_DIGEST_SHA3_512);
	assert_int_equal(c->hmac_type, SPA_DIGEST_SHA384);
	assert_int_equal(c->enc_mode, SPA_MODE_CBC_LEGACY_IV);
	assert_true(c->test);
	assert_int_equal(c->verbose, 2);
	assert_true(c->rand_port);
	assert_string_equal(c->stanza, "office");
	free_cfg(c);

	c = new_cfg();
	assert_int_equal(ct_parse(c, ARGS("--access=tcp/443", "--source-ip",
				       "--destination", "2001:db8::1", "--server-proto=http",
				       "--key-base64-rijndael", "c2VjcmV0",
				       "--key-hmac", "mac", "-6", "--nat-access", "192.0.2.5:8080",
				       "--nat-port", "5555", "--time-offset-minus", "2h")), 0);
	assert_string_equal(c->access, "tcp/443");
	assert_int_equal(c->allow_mode, SPA_CLIENT_ALLOW_SOURCE);
	assert_string_equal(c->server, "2001:db8::1");
	assert_int_equal(c->proto, SPA_CLIENT_PROTO_HTTP);
	assert_true(c->key_is_b64);
	assert_string_equal(c->key, "c2VjcmV0");
	assert_true(c->use_hmac);
	assert_false(c->hmac_key_is_b64);
	assert_int_equal(c->family, AF_INET6);
	assert_string_equal(c->nat_access, "192.0.2.5,8080");
	assert_int_equal(c->nat_port, 5555);
	assert_int_equal(c->time_offset, -7200);
	assert_int_equal(c->allow_mode, SPA_CLIENT_ALLOW_SOURCE);
	/* What --save-rc-stanza would write. */
	assert_string_equal(saved_value(c, "ALLOW_IP"), "source");
	assert_string_equal(saved_value(c, "HMAC_KEY"), "mac");
	assert_string_equal(saved_value(c, "TIME_OFFSET"), "-2h");
	assert_string_equal(saved_value(c, "NAT_ACCESS"), "192.0.2.5:8080");
	assert_null(saved_value(c, "DIGEST_TYPE"));
	free_cfg(c);
}

/* Each --gpg-* option implies -g and is remembered for --save-rc-stanza
 * under fwknop's rc name, with USE_GPG Y. */
static void test_gpg_options(void **state)
{
	struct spa_client_cfg *c = new_cfg();
	const struct spa_opt_def *use = spa_opt_by_rc_name("USE_GPG");

	(void)state;
	assert_int_equal(ct_parse(c, ARGS("-A", "tcp/22", "-a", "198.51.100.7")), 0);
	assert_false(c->use_gpg);
	free_cfg(c);

	c = new_cfg();
	assert_int_equal(ct_parse(c, ARGS("-g")), 0);
	assert_true(c->use_gpg);
	free_cfg(c);

	const char *const *implying[] = {
		ARGS("--gpg-recipient-key", "0123456789ABCDEF0123456789ABCDEF01234567"),
		ARGS("--gpg-signer-key", "alice <alice@example.org>"),
		ARGS("--gpg-home-dir", "/tmp/gnupg"),
		ARGS("--gpg-exe", "/usr/bin/gpg"),
		ARGS("--gpg-agent"),
		ARGS("--gpg-no-signing-pw"),
		ARGS("--gpg-recip", "ABCD1234"),   /* fwknop's documented abbreviations */
		ARGS("--gpg-sign", "ABCD1234"),
	};
	for (size_t i = 0; i < sizeof(implying) / sizeof(implying[0]); i++) {
		c = new_cfg();
		assert_int_equal(ct_parse(c, implying[i]), 0);
		if (!c->use_gpg)
			fail_msg("%s does not imply -g", implying[i][0]);
		assert_non_null(c->saved[use - spa_opt_table]);
		assert_string_equal(c->saved[use - spa_opt_table], "Y");
		free_cfg(c);
	}

	c = new_cfg();
	assert_int_equal(ct_parse(c, ARGS("--gpg-recipient-key", "server@example.org",
					  "--gpg-signer-key", "ABCD1234",
					  "--gpg-home-dir", "/h", "--gpg-exe", "/g",
					  "--gpg-agent", "--gpg-no-signing-pw")), 0);
	assert_string_equal(c->gpg_recipient, "server@example.org");
	assert_string_equal(c->gpg_signer, "ABCD1234");
	assert_string_equal(c->gpg_home, "/h");
	assert_string_equal(c->gpg_exe, "/g");
	assert_true(c->gpg_agent);
	assert_true(c->gpg_no_signing_pw);
	assert_string_equal(c->saved[spa_opt_by_rc_name("GPG_RECIPIENT") - spa_opt_table],
			    "server@example.org");
	assert_string_equal(c->saved[spa_opt_by_rc_name("GPG_SIGNER") - spa_opt_table],
			    "ABCD1234");
	assert_string_equal(c->saved[spa_opt_by_rc_name("GPG_HOMEDIR") - spa_opt_table], "/h");
	assert_string_equal(c->saved[spa_opt_by_rc_name("GPG_EXE") - spa_opt_table], "/g");
	assert_string_equal(c->saved[spa_opt_by_rc_name("USE_GPG_AGENT") - spa_opt_table], "Y");
	assert_string_equal(c->saved[spa_opt_by_rc_name("GPG_NO_SIGNING_PW") - spa_opt_table],
			    "Y");
	free_cfg(c);
}

static void test_time_offsets(void **state)
{
	/* fwknop's forms: optional sign, digits, optional unit in either
	 * case. The options take their direction from their name (fwknop
	 * reads "--time-offset-plus -1s" as +1 s). */
	static const struct { const char *opt, *val; int64_t want; } ok[] = {
		{ "--time-offset-plus", "30", 30 },
		{ "--time-offset-plus", "2m", 120 },
		{ "--time-offset-plus", "3h", 10800 },
		{ "--time-offset-plus", "1d", 86400 },
		{ "--time-offset-minus", "15", -15 },
		{ "--time-offset-plus", "5s", 5 },
		{ "--time-offset-plus", "5S", 5 },
		{ "--time-offset-plus", "+1H", 3600 },
		{ "--time-offset-plus", "2M", 120 },
		{ "--time-offset-plus", "1D", 86400 },
		{ "--time-offset-plus", "-1s", 1 },
		{ "--time-offset-plus", "-5", 5 },
		{ "--time-offset-minus", "-1s", -1 },
		{ "--time-offset-minus", "+1H", -3600 },
		{ "--time-offset-plus", "60sec", 60 },
		{ "--time-offset-plus", "60min", 3600 },
		{ "--time-offset-plus", "2days", 172800 },
		{ "--time-offset-minus", "2Hours", -7200 },
	};
	static const char *const bad[] = { "", "5x", "m", "1.5", "99999999999",
					   "+", "-", "--5", "+-5", "5m5", " 5",
					   "5 m", "1w", "1y", "5ms" };

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct spa_client_cfg *c = new_cfg();

		if (ct_parse(c, ARGS(ok[i].opt, ok[i].val)) != 0)
			fail_msg("refused: %s %s", ok[i].opt, ok[i].val);
		assert_int_equal(c->time_offset, ok[i].want);
		free_cfg(c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct spa_client_cfg *c = new_cfg();

		if (ct_parse(c, ARGS("--time-offset-plus", bad[i])) == 0)
			fail_msg("accepted: --time-offset-plus '%s'", bad[i]);
		free_cfg(c);
	}
}

static void test_rc_time_offsets(void **state)
{
	/* TIME_OFFSET in an rc file: the sign gives the direction. */
	static const struct { const char *val; int64_t want; } ok[] = {
		{ "90", 90 }, { "-30", -30 }, { "-1s", -1 }, { "+1H", 3600 },
		{ "-2m", -120 }, { "1d", 86400 }, { "-1D", -86400 },
	};
	const struct spa_opt_def *d = spa_opt_by_rc_name("TIME_OFFSET");

	(void)state;
	assert_non_null(d);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct spa_client_cfg *c = new_cfg();

		if (spa_client_apply(c, d, ok[i].val, SPA_SRC_RC, "test") != 0)
			fail_msg("refused: TIME_OFFSET %s", ok[i].val);
		assert_int_equal(c->time_offset, ok[i].want);
		free_cfg(c);
	}
	{
		struct spa_client_cfg *c = new_cfg();

		assert_true(spa_client_apply(c, d, "5x", SPA_SRC_RC, "test") < 0);
		free_cfg(c);
	}
}

static void test_time_offset_saved_signed(void **state)
{
	/* --save-rc-stanza: in TIME_OFFSET the sign is the direction, so a
	 * sign the option ignored must not reach the file. */
	static const struct { const char *opt, *val, *saved; } cases[] = {
		{ "--time-offset-minus", "1h", "-1h" },
		{ "--time-offset-minus", "-1s", "-1s" },
		{ "--time-offset-minus", "+1H", "-1H" },
		{ "--time-offset-plus", "-5", "5" },
		{ "--time-offset-plus", "+2m", "2m" },
		{ "--time-offset-plus", "2days", "2days" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spa_client_cfg *c = new_cfg();

		assert_int_equal(ct_parse(c, ARGS(cases[i].opt, cases[i].val)), 0);
		assert_string_equal(saved_value(c, "TIME_OFFSET"), cases[i].saved);
		free_cfg(c);
	}
}

static void test_nat_without_port(void **state)
{
	/* fwknop: -N host takes the port of the access request. */
	char dir[256], out[300];
	char *text;
	struct spa_client_cfg *c = new_cfg();

	(void)state;
	assert_int_equal(ct_parse(c, ARGS("-N", "192.0.2.5")), 0);
	assert_string_equal(c->nat_access, "192.0.2.5");
	free_cfg(c);
	c = new_cfg();
	assert_int_equal(ct_parse(c, ARGS("--nat-access", "intranet.example")), 0);
	assert_string_equal(c->nat_access, "intranet.example");
	free_cfg(c);

	ct_mkdtemp(dir, sizeof(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	assert_int_equal(ct_run(out, ARGS("-T", "-v", "-A", "tcp/2222", "-a",
					  "203.0.113.1", "-D", "198.51.100.1", "-N",
					  "192.0.2.5", "--key-rijndael", "x",
					  "--no-rc-file", "--no-save-args")), 0);
	text = ct_read_file(out);
	assert_non_null(text);
	if (!strstr(text, "Nat Access: 192.0.2.5,2222\n"))
		fail_msg("no NAT field with the -A port in:\n%s", text);
	free(text);
	/* --nat-port moves the external port, not the service port */
	assert_int_equal(ct_run(out, ARGS("-T", "-v", "-A", "tcp/22", "-a",
					  "203.0.113.1", "-D", "198.51.100.1", "-N",
					  "192.0.2.5", "--nat-port", "40022",
					  "--key-rijndael", "x", "--no-rc-file",
					  "--no-save-args")), 0);
	text = ct_read_file(out);
	assert_non_null(text);
	if (!strstr(text, "Nat Access: 192.0.2.5,22\n") ||
	    !strstr(text, "203.0.113.1,tcp/40022"))
		fail_msg("unexpected NAT request:\n%s", text);
	free(text);
	ct_rmtree(dir);
}

static void test_bad_values(void **state)
{
	const char *const *cases[] = {
		ARGS("--no-such-option"),
		ARGS("-x"),
		ARGS("-A"),
		ARGS("stray-argument"),
		ARGS("-a", "198.51.100.256"),
		ARGS("-a", "2001:db8::1"),
		ARGS("-a", "host.example"),
		ARGS("-p", "0"),
		ARGS("-p", "65536"),
		ARGS("-p", "22a"),
		ARGS("-P", "icmpx"),
		ARGS("-P", "raw"),
		ARGS("--icmp-type", "41"),
		ARGS("--icmp-code", "16"),
		ARGS("--icmp-type", "-1"),
		ARGS("-Q", "198.51.100.256"),
		ARGS("--spoof-src", "host.example"),
		ARGS("-H", ""),
		ARGS("-H", "http://"),
		ARGS("-H", "proxy.example:0"),
		ARGS("-H", "proxy.example:65536"),
		ARGS("-H", "[2001:db8::1"),
		ARGS("-H", "user@proxy.example"),
		ARGS("-w", ""),
		ARGS("-f", "65537"),
		ARGS("-f", "-1"),
		ARGS("-m", "sha999"),
		ARGS("--hmac-digest-type", "crc32"),
		ARGS("-M", "pcbc"),
		ARGS("-M", "asymmetric"),
		ARGS("-U", "bob:x"),
		ARGS("-U", "0123456789012345678901234567890123456789012345678"),
		ARGS("-N", "host:0"),
		ARGS("-N", "a:1:2"),
		ARGS("-N", "host,"),
		ARGS("-N", "host:"),
		ARGS("-N", "bad host"),
		ARGS("-N", "2001:db8::1"),
		ARGS("--key-len", "33"),
		ARGS("--hmac-key-len", "0"),
		ARGS("--hmac-key-len", "129"),
		ARGS("-D", "bad host"),
		ARGS("--resolve-url", "ftp://198.51.100.1/"),
		ARGS("--resolve-url", "http://host/a b"),
		ARGS("--gpg-recipient-key", ""),
		ARGS("--gpg-recipient-key", "bad\tname"),
		ARGS("--gpg-signer-key", "line\nbreak"),
		ARGS("--gpg-home-dir", ""),
		ARGS("--gpg-exe", ""),
		ARGS("--gpg-signing-pw", "secret"),   /* never in argv */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spa_client_cfg *c = new_cfg();

		if (ct_parse(c, cases[i]) == 0)
			fail_msg("accepted: %s %s", cases[i][0],
				 cases[i][1] ? cases[i][1] : "");
		free_cfg(c);
	}
}

static void test_port_lists(void **state)
{
	static const char *const bad[] = {
		"", "tcp", "tcp/", "tcp/0", "tcp/65536", "icmp/1", "none/0",
		"tcp/22,", ",tcp/22", "tcp/22;udp/53", "tcp/-1", "tcp/ 22",
		"tcp//22", "tcpx/22", "tcp/22,,udp/53", "tcp/2222222",
	};
	struct spa_port ports[SPA_MAX_PORTS];
	char norm[256];
	size_t n = 0;

	(void)state;
	assert_int_equal(spa_client_parse_ports("tcp/22", ports, SPA_MAX_PORTS, &n,
						norm, sizeof(norm)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ports[0].proto, 6);
	assert_int_equal(ports[0].port, 22);
	assert_int_equal(spa_client_parse_ports("tcp/22,UDP/53,tcp/65535", ports,
						SPA_MAX_PORTS, &n, norm,
						sizeof(norm)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ports[1].proto, 17);
	assert_int_equal(ports[1].port, 53);
	assert_int_equal(ports[2].port, 65535);
	assert_string_equal(norm, "tcp/22,udp/53,tcp/65535");
	/* The normalised list must pass the wire validator. */
	{
		char msg[300];

		snprintf(msg, sizeof(msg), "198.51.100.1,%s", norm);
		assert_int_equal(spa_validate_access_msg(msg), 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (spa_client_parse_ports(bad[i], ports, SPA_MAX_PORTS, &n, norm,
					   sizeof(norm)) == 0)
			fail_msg("accepted port list '%s'", bad[i]);
	}
	/* More pairs than the caller has room for is an error, not a cut. */
	assert_true(spa_client_parse_ports("tcp/1,tcp/2,tcp/3", ports, 2, &n, norm,
					   sizeof(norm)) < 0);
}

static void test_reparse(void **state)
{
	/* getopt state must be reset between parses (-l parses twice). */
	for (int round = 0; round < 3; round++) {
		struct spa_client_cfg *c = new_cfg();

		(void)state;
		assert_int_equal(ct_parse(c, ARGS("-A", "udp/53", "-a", "203.0.113.9")), 0);
		assert_string_equal(c->access, "udp/53");
		free_cfg(c);
	}
}

static void test_table_consistency(void **state)
{
	(void)state;
	for (size_t i = 0; i < spa_opt_count; i++) {
		const struct spa_opt_def *a = &spa_opt_table[i];

		assert_true(a->long_name || a->rc_name);
		assert_true(i < sizeof(((struct spa_client_cfg *)0)->saved) /
				sizeof(char *));
		for (size_t j = i + 1; j < spa_opt_count; j++) {
			const struct spa_opt_def *b = &spa_opt_table[j];

			if (a->long_name && b->long_name)
				assert_string_not_equal(a->long_name, b->long_name);
			if (a->short_name)
				assert_int_not_equal(a->short_name, b->short_name);
		}
	}
	/* Every fwknop rc variable (docs/man/spa-client.1) is known. */
	{
		static const char *const vars[] = {
			"DIGEST_TYPE", "SPA_SERVER_PROTO", "SPA_SERVER_PORT",
			"SPA_SOURCE_PORT", "FW_TIMEOUT", "ALLOW_IP", "TIME_OFFSET",
			"ENCRYPTION_MODE", "USE_GPG", "USE_GPG_AGENT", "GPG_RECIPIENT",
			"GPG_SIGNER", "GPG_HOMEDIR", "GPG_EXE", "GPG_SIGNING_PW",
			"GPG_SIGNING_PW_BASE64", "GPG_NO_SIGNING_PW", "SPOOF_USER",
			"SPOOF_SOURCE_IP", "ACCESS", "SPA_SERVER", "RAND_PORT", "KEY",
			"KEY_BASE64", "HMAC_DIGEST_TYPE", "HMAC_KEY_BASE64", "HMAC_KEY",
			"USE_HMAC", "USE_WGET_USER_AGENT", "KEY_FILE", "HMAC_KEY_FILE",
			"NAT_ACCESS", "HTTP_USER_AGENT", "RESOLVE_URL",
			"SERVER_RESOLVE_IPV4", "NAT_LOCAL", "NAT_RAND_PORT", "NAT_PORT",
			"VERBOSE", "RESOLVE_IP_HTTP", "RESOLVE_IP_HTTPS",
			"RESOLVE_HTTP_ONLY", "WGET_CMD", "NO_SAVE_ARGS",
		};
		for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
			if (!spa_opt_by_rc_name(vars[i]))
				fail_msg("rc variable %s unknown", vars[i]);
		}
		assert_null(spa_opt_by_rc_name("CLIENT_TIMEOUT"));
	}
}

static void test_args_line_redacts_keys(void **state)
{
	const char *const *cases[] = {
		ARGS("-A", "tcp/22", "--key-rijndael", "TOPSECRET1", "-D", "h"),
		ARGS("--key-rijndael=TOPSECRET1", "-A", "tcp/22", "-D", "h"),
		ARGS("--key-r", "TOPSECRET1", "-A", "tcp/22", "-D", "h"),
		ARGS("-A", "tcp/22", "--key-base64-rijndael", "TOPSECRET1",
		     "--key-base64-hmac", "TOPSECRET2", "-D", "h"),
		ARGS("-A", "tcp/22", "--key-hmac", "TOPSECRET2", "-D", "h"),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const *a = cases[i];
		size_t n = 0;
		char **argv;
		struct spa_cmdline cl;
		char line[4096];

		while (a[n])
			n++;
		argv = calloc(n + 2, sizeof(*argv));
		assert_non_null(argv);
		argv[0] = (char *)"spa-client";
		for (size_t j = 0; j < n; j++)
			argv[j + 1] = (char *)a[j];
		assert_int_equal(spa_cmdline_parse((int)n + 1, argv, &cl), 0);
		assert_int_equal(spa_client_args_format(&cl, line, sizeof(line)), 0);
		assert_null(strstr(line, "TOPSECRET"));
		assert_non_null(strstr(line, "-A tcp/22 "));
		assert_non_null(strstr(line, "-D h "));
		assert_int_equal(strncmp(line, "spa-client ", 11), 0);
		assert_int_equal(line[strlen(line) - 1], '\n');
		spa_cmdline_free(&cl);
		free(argv);
	}
}

static void test_myip_replies(void **state)
{
	static const struct { const char *reply, *ip; } good[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n203.0.113.7\n", "203.0.113.7" },
		{ "HTTP/1.0 200 OK\r\n\r\n198.51.100.255", "198.51.100.255" },
		{ "HTTP/1.1 200 OK\r\n\r\n\r\n  192.0.2.1 \r\nmore\n", "192.0.2.1" },
	};
	static const char *const bad[] = {
		"",
		"203.0.113.7",
		"HTTP/1.1 302 Found\r\nLocation: http://x/\r\n\r\n203.0.113.7\n",
		"HTTP/1.1 500 Oops\r\n\r\n203.0.113.7\n",
		"HTTP/1.1 200 OK\r\n\r\n203.0.113.300\n",
		"HTTP/1.1 200 OK\r\n\r\n203.0.113\n",
		"HTTP/1.1 200 OK\r\n\r\n203.0.113.7x\n",
		"HTTP/1.1 200 OK\r\n\r\n<html>203.0.113.7</html>\n",
		"HTTP/1.1 200 OK\r\n\r\n1234.1.1.1\n",
		"HTTP/1.1 200 OK\r\n\r\n203.0.113.7.1\n",
		"HTTP/1.1 200 OK\r\n203.0.113.7\n",
	};
	char ip[16];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(ip, 0, sizeof(ip));
		assert_int_equal(spa_client_parse_myip_reply(good[i].reply, ip), 0);
		assert_string_equal(ip, good[i].ip);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (spa_client_parse_myip_reply(bad[i], ip) == 0)
			fail_msg("accepted reply %zu: %s", i, bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_short_and_long),
		cmocka_unit_test(test_gpg_options),
		cmocka_unit_test(test_time_offsets),
		cmocka_unit_test(test_rc_time_offsets),
		cmocka_unit_test(test_time_offset_saved_signed),
		cmocka_unit_test(test_nat_without_port),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_port_lists),
		cmocka_unit_test(test_reparse),
		cmocka_unit_test(test_table_consistency),
		cmocka_unit_test(test_args_line_redacts_keys),
		cmocka_unit_test(test_myip_replies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
