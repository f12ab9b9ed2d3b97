/* SPDX-License-Identifier: MIT */
/*
 * conf_cases.h - malformed configurations and the error each must give.
 * Shared by the parser unit test and the spad --exit-parse-config
 * integration test (which also expects exit status 2).
 */
#ifndef SPA_TEST_CONF_CASES_H
#define SPA_TEST_CONF_CASES_H

struct conf_case {
	int server;            /* 1: the text is fwknopd.conf, else access.conf */
	const char *text;
	unsigned line;         /* line the error must name */
	const char *expect;    /* substring the error must contain */
};

#define GOOD_ACCESS "SOURCE ANY\nKEY testkey12345\n"

static const struct conf_case conf_cases[] = {
	{ 0, "SOURCE 198.51.100.4/33\nKEY k\n", 1, "198.51.100.4/33" },
	{ 0, "SOURCE 198.51.100.0/0\nKEY k\n", 1, "198.51.100.0/0" },
	{ 0, "SOURCE 300.1.1.1\nKEY k\n", 1, "300.1.1.1" },
	{ 0, "SOURCE 198.51.100.0/255.0.255.0\nKEY k\n", 1, "255.0.255.0" },
	{ 0, "SOURCE ANY,\nKEY k\n", 1, "empty" },
	{ 0, "KEY abcdef\nSOURCE ANY\n", 1, "before the first SOURCE" },
	{ 0, "SOURCE ANY\nKEY __CHANGEME__\n", 2, "__CHANGEME__" },
	{ 0, "SOURCE ANY\nKEY 123456789012345678901234567890123\n", 2, "longer than 32" },
	{ 0, "SOURCE ANY\nKEY_BASE64 !!notbase64!!\n", 2, "!!notbase64!!" },
	{ 0, "SOURCE ANY\nKEY k\nHMAC_DIGEST_TYPE sha999\n", 3, "sha999" },
	{ 0, "SOURCE ANY\nKEY k\nENCRYPTION_MODE XTS\n", 3, "XTS" },
	{ 0, "SOURCE ANY\nKEY k\nENCRYPTION_MODE Asymmetric\n", 1, "Asymmetric is GnuPG's" },
	{ 0, "SOURCE ANY\nKEY k\nFW_ACCESS_TIMEOUT abc\n", 3, "'abc'" },
	{ 0, "SOURCE ANY\nKEY k\nFW_ACCESS_TIMEOUT 8388609\n", 3, "8388609" },
	{ 0, "SOURCE ANY\nKEY k\nMAX_FW_TIMEOUT -5\n", 3, "-5" },
	{ 0, "SOURCE ANY\nKEY k\nOPEN_PORTS tcp/22, tcp/99999\n", 3, "tcp/99999" },
	{ 0, "SOURCE ANY\nKEY k\nOPEN_PORTS sctp/22\n", 3, "sctp/22" },
	{ 0, "SOURCE ANY\nKEY k\nRESTRICT_PORTS tcp22\n", 3, "tcp22" },
	{ 0, "SOURCE ANY\nKEY k\nREQUIRE_SOURCE_ADDRESS maybe\n", 3, "maybe" },
	{ 0, "SOURCE ANY\nKEY k\nACCESS_EXPIRE 13/01/2030\n", 3, "13/01/2030" },
	{ 0, "SOURCE ANY\nKEY k\nACCESS_EXPIRE 02/30/2030\n", 3, "02/30/2030" },
	{ 0, "SOURCE ANY\nKEY k\nACCESS_EXPIRE 3/10/201\n", 3, "3/10/201" },
	{ 0, "SOURCE ANY\nKEY k\nACCESS_EXPIRE 3/1x/2030\n", 3, "3/1x/2030" },
	{ 0, "SOURCE ANY\nKEY k\nACCESS_EXPIRE 003/10/2030\n", 3, "003/10/2030" },
	{ 0, "SOURCE ANY\nKEY k\nACCESS_EXPIRE_EPOCH soon\n", 3, "soon" },
	{ 0, "SOURCE ANY\nKEY k\nREQUIRE_USERNAME bad:user\n", 3, "bad:user" },
	{ 0, "SOURCE ANY\nKEY k\nNO_SUCH_THING 1\n", 3, "unknown variable" },
	/* command messages: users and groups must exist (spa_conf_cmd.c) */
	{ 0, "SOURCE ANY\nKEY k\nENABLE_CMD_EXEC maybe\n", 3, "expected Y or N" },
	{ 0, "SOURCE ANY\nKEY k\nCMD_EXEC_USER spa-no-such-user\n", 3,
	  "no such user 'spa-no-such-user'" },
	{ 0, "SOURCE ANY\nKEY k\nCMD_EXEC_GROUP spa-no-such-group\n", 3,
	  "no such group 'spa-no-such-group'" },
	{ 0, "SOURCE ANY\nKEY k\nCMD_SUDO_EXEC_USER spa-no-such-user\n", 3, "no such user" },
	{ 0, "SOURCE ANY\nKEY k\nCMD_SUDO_EXEC_GROUP spa-no-such-group\n", 3, "no such group" },
	{ 0, "SOURCE ANY\nKEY k\nCOMMAND_MODULE ../evil\n", 3, "expected a plugin name" },
	/* GnuPG (docs/GNUPG.md): fwknopd's refusals, then ours */
	{ 0, "SOURCE ANY\nKEY k\nGPG_DECRYPT_PW secret\nGPG_HOME_DIR /tmp\n", 1,
	  "needs GPG_FINGERPRINT_ID or GPG_REMOTE_ID" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_REQUIRE_SIG N\n", 1,
	  "needs GPG_FINGERPRINT_ID or GPG_REMOTE_ID" },
	{ 0, "SOURCE ANY\nGPG_REMOTE_ID 6A3FAD56\nGPG_DECRYPT_ID 361BBAD4\n", 1, "no KEY" },
	{ 0, "SOURCE ANY\nKEY k\nGPG_DECRYPT_PW __CHANGEME__\n", 3, "placeholder" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW maybe\n", 2, "GPG_ALLOW_NO_PW 'maybe'" },
	{ 0, "SOURCE ANY\nGPG_REQUIRE_SIG sure\n", 2, "GPG_REQUIRE_SIG 'sure'" },
	{ 0, "SOURCE ANY\nGPG_DISABLE_SIG 1\n", 2, "GPG_DISABLE_SIG '1'" },
	{ 0, "SOURCE ANY\nGPG_IGNORE_SIG_VERIFY_ERROR x\n", 2, "GPG_IGNORE_SIG_VERIFY_ERROR" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_REMOTE_ID 6A3FAD5\n", 3,
	  "'6A3FAD5' is not a key id" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_REMOTE_ID 6A3FAD5G\n", 3, "'6A3FAD5G'" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_REMOTE_ID 6A3FAD56 361BBAD4\n", 3,
	  "separated by commas" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_REMOTE_ID 6A3FAD56,,361BBAD4\n", 3,
	  "empty entry" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_REMOTE_ID 0123456789ABCDEF0123\n", 3,
	  "GPG_FINGERPRINT_ID" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\n"
	  "GPG_FINGERPRINT_ID 0123456789ABCDEF0123456789ABCDEF0123456\n", 3,
	  "is not a fingerprint (40 or 64 hex digits)" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\n"
	  "GPG_FINGERPRINT_ID 0123456789ABCDEF0123456789ABCDEF0123456Z\n", 3,
	  "'0123456789ABCDEF0123456789ABCDEF0123456Z'" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_REMOTE_ID 00000001,00000002,00000003,00000004,"
	  "00000005,00000006,00000007,00000008,00000009,0000000A,0000000B,0000000C,0000000D,"
	  "0000000E,0000000F,00000010,00000011\n", 3, "more than 16 entries" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_HOME_DIR .gnupg\n", 3,
	  "GPG_HOME_DIR '.gnupg': expected an absolute path" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_EXE gpg\n", 3, "GPG_EXE 'gpg'" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_DISABLE_SIG Y\n"
	  "GPG_HOME_DIR /nonexistent-spa-gpg-home\n", 1,
	  "GPG_HOME_DIR /nonexistent-spa-gpg-home: No such file" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_DISABLE_SIG Y\nGPG_HOME_DIR /etc/passwd\n", 1,
	  "GPG_HOME_DIR /etc/passwd: not a directory" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_DISABLE_SIG Y\nGPG_HOME_DIR /tmp\n"
	  "GPG_EXE /nonexistent/gpg\n", 1, "GPG_EXE /nonexistent/gpg is not an executable file" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_DISABLE_SIG Y\nGPG_HOME_DIR /tmp\n"
	  "GPG_EXE /tmp\n", 1, "GPG_EXE /tmp is not an executable file" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_DECRYPT_ID a\tb\n", 3, "control character" },
	{ 0, "SOURCE ANY\nGPG_ALLOW_NO_PW Y\nGPG_DECRYPT_ID "
	  "0123456789012345678901234567890123456789012345678901234567890123456789\n", 3,
	  "longer than 64 characters" },
	/* NAT (spa_conf_nat.c): fwknopd.conf here has no forwarding switch */
	{ 0, "SOURCE ANY\nKEY k\nFORCE_NAT 198.51.100.9 22\n", 3,
	  "FORCE_NAT needs ENABLE_IPT_FORWARDING or ENABLE_IPT_LOCAL_NAT" },
	{ 0, "SOURCE ANY\nKEY k\nFORWARD_ALL Y\n", 3, "FORWARD_ALL needs ENABLE_IPT_FORWARDING" },
	{ 0, "SOURCE ANY\nKEY k\nFORCE_NAT 198.51.100.9\n", 3, "expected <IPv4 address> <port" },
	{ 0, "SOURCE ANY\nKEY k\nFORCE_NAT 198.51.100.9 0\n", 3, "<port 1..65535>" },
	{ 0, "SOURCE ANY\nKEY k\nFORCE_NAT internal.example 22\n", 3, "<IPv4 address>" },
	{ 0, "SOURCE ANY\nKEY k\nFORCE_SNAT 198.51.100\n", 3, "expected an IPv4 address" },
	{ 0, "SOURCE ANY\nKEY k\nFORCE_SNAT 198.51.100.1\n", 3,
	  "FORCE_SNAT needs FORCE_NAT or FORWARD_ALL" },
	{ 0, "SOURCE ANY\nKEY k\nFORCE_MASQUERADE Y\n", 3,
	  "FORCE_MASQUERADE needs FORCE_NAT or FORWARD_ALL" },
	{ 0, "SOURCE ANY\nKEY k\nDISABLE_DNAT perhaps\n", 3, "expected Y or N" },
	{ 0, "SOURCE ANY\nKEY k\nGRANT_SCOPE cluster\n", 3,
	  "GRANT_SCOPE cluster needs a shared store" },
	{ 0, "SOURCE ANY\nKEY k\nGRANT_SCOPE everywhere\n", 3, "expected 'local' or 'cluster'" },
	{ 0, "SOURCE ANY\nKEY k\nFIREWALL_TYPE Bad/Name\n", 3, "Bad/Name" },
	{ 0, "SOURCE ANY\nKEY k\nDESTINATION 198.51.100\n", 3, "198.51.100" },
	{ 0, "SOURCE ANY\nKEY k\n%include missing-file.conf\n", 3, "missing-file.conf" },
	{ 0, "SOURCE ANY\nKEY\n", 2, "missing value" },
	{ 0, "SOURCE ANY\nKEY k\nHMAC_KEY_BASE64 ***\n", 3, "***" },
	{ 0, "SOURCE ANY\nKEY samekey\nHMAC_KEY samekey\n", 1, "must differ" },
	{ 0, "SOURCE ANY\nFW_ACCESS_TIMEOUT 10\n", 1, "no KEY" },
	{ 0, "SOURCE ANY\nKEY k\n%bogus_directive x\n", 3, "unknown directive" },
	{ 0, "\n\n# comment\nSOURCE 2001:db8::/129\nKEY k\n", 4, "2001:db8::/129" },
	{ 1, "UDPSERV_PORT 0\n", 1, "'0'" },
	{ 1, "ENABLE_UDP_SERVER Y\nUDPSERV_PORT 65536\n", 2, "65536" },
	{ 1, "MAX_SPA_PACKET_AGE 0\n", 1, "MAX_SPA_PACKET_AGE" },
	{ 1, "ENABLE_DIGEST_PERSISTENCE sure\n", 1, "sure" },
	{ 1, "DIGEST_FILE relative/digest.cache\n", 1, "relative/digest.cache" },
	{ 1, "DIGEST_FILE $NOT_SET/digest.cache\n", 1, "$NOT_SET/digest.cache" },
	{ 1, "CMD_EXEC_TIMEOUT 0\n", 1, "expected an integer 1..3600" },
	{ 1, "SUDO_EXE sudo\n", 1, "expected an absolute path" },
	{ 1, "COMMAND_MODULE Cmd/Exec\n", 1, "expected a plugin name" },
	{ 1, "ENABLE_TCP_SERVER Y\nTCPSERV_READ_TIMEOUT 0\n", 2, "TCPSERV_READ_TIMEOUT" },
	{ 1, "ENABLE_IPT_FORWARDING maybe\n", 1, "expected Y or N" },
	{ 1, "ENABLE_FIREWD_LOCAL_NAT 1\n", 1, "expected Y or N" },
	{ 1, "SNAT_TRANSLATE_IP 198.51.100.300\n", 1, "expected an IPv4 address" },
	{ 1, "ENABLE_NAT_DNS sometimes\n", 1, "expected Y or N" },
	/* cluster mode (spa_conf_cluster.c, docs/CLUSTER.md) */
	{ 1, "STATE_STORE Etcd\n", 1, "expected 'file' or a store module name" },
	{ 1, "CLUSTER_FAIL_MODE open\n", 1, "expected 'closed' or 'local'" },
	{ 1, "CLUSTER_NODE_NAME bad/name\n", 1, "expected 1 to 63 characters" },
	{ 1, "STATE_STORE etcd\nENABLE_SPA_PACKET_AGING N\n", 1,
	  "needs ENABLE_SPA_PACKET_AGING Y" },
	{ 1, "# c\nENABLE_UDP_SERVER Y\nTYPO_VARIABLE 1\n", 3, "unknown variable" },
	{ 1, "MAX_SNIFF_BYTES 40000\n", 1, "40000" },
	{ 1, "ENABLE_PCAP_PROMISC maybe\n", 1, "maybe" },
	{ 1, "PCAP_FILE relative.pcap\n", 1, "relative.pcap" },
	{ 1, "SYSLOG_FACILITY LOG_USER\n", 1, "LOG_USER" },
	{ 1, "SYSLOG_FACILITY LOG_LOCAL8\n", 1, "LOG_LOCAL0..LOG_LOCAL7" },
	{ 1, "FIREWALL_TYPE ../evil\n", 1, "expected a plugin name" },
	{ 1, "GPG_HOME_DIR root/.gnupg\n", 1, "GPG_HOME_DIR 'root/.gnupg': expected an absolute" },
	{ 1, "GPG_EXE gpg\n", 1, "GPG_EXE 'gpg': expected an absolute path" },
	{ 1, "GPG_MAX_CONCURRENT 0\n", 1, "GPG_MAX_CONCURRENT '0': expected an integer 1..64" },
	{ 1, "GPG_MAX_CONCURRENT 65\n", 1, "GPG_MAX_CONCURRENT '65'" },
	{ 1, "GPG_MAX_PER_SECOND 100001\n", 1, "GPG_MAX_PER_SECOND '100001'" },
	{ 1, "GPG_MAX_PER_SECOND many\n", 1, "expected an integer 1..100000" },
	{ 1, "GPG_MAX_BUSY_PERCENT 0\n", 1, "GPG_MAX_BUSY_PERCENT '0'" },
	{ 1, "GPG_MAX_BUSY_PERCENT 101\n", 1, "GPG_MAX_BUSY_PERCENT '101'" },
};

#define N_CONF_CASES (sizeof(conf_cases) / sizeof(conf_cases[0]))

#endif
