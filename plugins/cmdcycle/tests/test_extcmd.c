/* SPDX-License-Identifier: MIT */
/*
 * test_extcmd.c - EXTERNAL_CMD_* (docs/man/spad.8, EXTERNAL COMMANDS): how
 * the config resolves them into the cmdcycle plugin's form (selection,
 * $VAR, the prefix, refusals naming file:line), how the plugin turns that
 * form into argv, and the argv the real plugin runs through the engine's
 * runner, as a recording program writes it down.
 *   test_extcmd /path/to/cmdcycle.so
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "spa_cc.h"
#include "spa_config.h"
#include "spa_plugin.h"

static const char *cmdcycle_so;

struct env {
	char dir[64];
	struct spa_config c;
	char err[SPA_CONF_ERR_LEN];
};

/* Loads the two files as spad does; the return code, err filled. */
static int load(struct env *e, const char *server, const char *access)
{
	char conf[4096], acc[4096];
	int rc;

	th_tmpdir(e->dir, sizeof(e->dir));
	th_write(e->dir, "fwknopd.conf", server, conf, sizeof(conf));
	th_write(e->dir, "access.conf", access, acc, sizeof(acc));
	spa_config_init(&e->c);
	e->err[0] = '\0';
	rc = spa_config_load_server(&e->c, conf, e->err, sizeof(e->err));
	if (rc == 0)
		rc = spa_config_load_access(&e->c, acc, false, e->err, sizeof(e->err));
	if (rc == 0)
		rc = spa_config_finish(&e->c, e->err, sizeof(e->err));
	return rc;
}

static void done(struct env *e)
{
	spa_config_free(&e->c);
	th_rmrf(e->dir);
}

/* A load that must fail with every piece of `want` in the message. */
static void refused(const char *server, const char *access, const char *want1,
		    const char *want2)
{
	struct env e;

	assert_int_equal(load(&e, server, access), -EINVAL);
	if (!strstr(e.err, want1) || (want2 && !strstr(e.err, want2)))
		fail_msg("'%s' lacks '%s' / '%s'", e.err, want1, want2 ? want2 : "");
	done(&e);
}

static const char *kv(const struct spa_config *c, size_t i, const char *name)
{
	return spa_stanza_kv_get(&c->stanzas[i], name);
}

#define EXT_ON "ENABLE_EXTERNAL_CMDS Y\n"

/* FIREWALL_TYPE external_cmd: the global commands, resolved per stanza;
 * a value is one argument whatever it holds. */
static void test_global_commands(void **state)
{
	struct env e;
	(void)state;

	assert_int_equal(load(&e, "FIREWALL_TYPE external_cmd\n" EXT_ON
			      "EXTERNAL_CMD_OPEN /usr/local/bin/open $SOURCE $OPEN_PORTS "
			      "-s $SRC/32 -p $PROTO --dport ${PORT}x a\\b 5$ $1\n"
			      "EXTERNAL_CMD_CLOSE /usr/local/bin/close $SRC\n",
			      "SOURCE 198.51.100.0/24, 203.0.113.0/24\nKEY k\n"
			      "OPEN_PORTS tcp/22, udp/53\n"
			      "SOURCE ANY\nKEY k2\nOPEN_PORTS tcp/80\n"
			      "EXTERNAL_CMD_ALARM 45\n"), 0);
	assert_string_equal(e.c.firewall_type, "cmdcycle");
	assert_true(e.c.firewall_type_external);
	assert_string_equal(spa_config_stanza_type(&e.c, &e.c.stanzas[0]), "cmdcycle");
	assert_string_equal(kv(&e.c, 0, "CMD_CYCLE_EXT_OPEN"),
			    "/usr/local/bin/open 198.51.100.0/24,\\ 203.0.113.0/24 tcp/22,\\ udp/53 "
			    "-s ${SRC}/32 -p ${PROTO} --dport ${PORT}x a\\\\b 5\\$ \\$1");
	assert_string_equal(kv(&e.c, 0, "CMD_CYCLE_EXT_CLOSE"), "/usr/local/bin/close ${SRC}");
	/* the default alarm is the cycle's timer, hence the grant's time */
	assert_string_equal(kv(&e.c, 0, "CMD_CYCLE_TIMER"), "30");
	assert_int_equal(e.c.stanzas[0].cmd_cycle_timer, 30);
	/* a stanza's own setting wins over fwknopd.conf's */
	assert_string_equal(kv(&e.c, 1, "CMD_CYCLE_EXT_OPEN"),
			    "/usr/local/bin/open ANY tcp/80 -s ${SRC}/32 -p ${PROTO} "
			    "--dport ${PORT}x a\\\\b 5\\$ \\$1");
	assert_int_equal(e.c.stanzas[1].cmd_cycle_timer, 45);
	/* the raw copies are gone once resolved; fwknopd.conf's keys are
	 * known to the key check without any plugin */
	assert_null(e.c.stanzas[0].vars);
	assert_int_equal(spa_config_check_keys(&e.c, NULL, 0, e.err, sizeof(e.err)), 0);
	done(&e);
}

/* fwknopd.conf's comment: one stanza with commands, the others served by
 * the firewall as usual. */
static void test_mixed_deployment(void **state)
{
	struct env e;
	(void)state;

	assert_int_equal(load(&e, "FIREWALL_TYPE nftables\n",
			      "SOURCE 198.51.100.0/24\nKEY k\n" EXT_ON
			      "EXTERNAL_CMD_OPEN /sbin/iptables -I INPUT -s $SRC -j ACCEPT\n"
			      "EXTERNAL_CMD_CLOSE /sbin/iptables -D INPUT -s $SRC -j ACCEPT\n"
			      "EXTERNAL_CMD_ALARM 7\n"
			      "SOURCE 203.0.113.0/24\nKEY k2\n"
			      "SOURCE ANY\nKEY k3\nENABLE_EXTERNAL_CMDS N\n"
			      "EXTERNAL_CMD_OPEN /bin/true\n"), 0);
	assert_string_equal(spa_config_stanza_type(&e.c, &e.c.stanzas[0]), "cmdcycle");
	assert_string_equal(kv(&e.c, 0, "CMD_CYCLE_EXT_CLOSE"),
			    "/sbin/iptables -D INPUT -s ${SRC} -j ACCEPT");
	assert_int_equal(e.c.stanzas[0].cmd_cycle_timer, 7);
	assert_string_equal(spa_config_stanza_type(&e.c, &e.c.stanzas[1]), "nftables");
	assert_null(kv(&e.c, 1, "CMD_CYCLE_EXT_OPEN"));
	/* switched off in the stanza itself: kept unused */
	assert_string_equal(spa_config_stanza_type(&e.c, &e.c.stanzas[2]), "nftables");
	assert_int_equal(e.c.stanzas[2].cmd_cycle_timer, 0);
	done(&e);

	/* a stanza's own FIREWALL_TYPE external_cmd, the global switch on */
	assert_int_equal(load(&e, EXT_ON "EXTERNAL_CMD_CLOSE NONE\n",
			      "SOURCE ANY\nKEY k\nFIREWALL_TYPE external_cmd\n"
			      "EXTERNAL_CMD_OPEN /usr/sbin/ipset -exist add s $SRC\n"
			      "SOURCE ANY\nKEY k2\n"), 0);
	assert_string_equal(spa_config_stanza_type(&e.c, &e.c.stanzas[0]), "cmdcycle");
	assert_true(e.c.stanzas[0].firewall_type_external);
	assert_string_equal(kv(&e.c, 0, "CMD_CYCLE_EXT_CLOSE"), "NONE");
	assert_string_equal(spa_config_stanza_type(&e.c, &e.c.stanzas[1]), "iptables");
	done(&e);
}

/* ENABLE_EXT_CMD_PREFIX: only $<prefix>NAME is substituted. */
static void test_prefix(void **state)
{
	struct env e;
	(void)state;

	assert_int_equal(load(&e, "FIREWALL_TYPE external_cmd\n" EXT_ON
			      "ENABLE_EXT_CMD_PREFIX Y\n"
			      "EXTERNAL_CMD_OPEN /opt/x $FWKNOP_SOURCE ${FWKNOP_SRC}:$FWKNOP_PORT "
			      "$SOURCE $SRC $FWKNOP_ $FWKNOP_1\n"
			      "EXTERNAL_CMD_CLOSE NONE\n",
			      "SOURCE 198.51.100.1\nKEY k\n"
			      "SOURCE 203.0.113.1\nKEY k\nEXT_CMD_PREFIX SPA_\n"
			      "EXTERNAL_CMD_OPEN /opt/y $SPA_SOURCE $FWKNOP_SOURCE\n"), 0);
	assert_string_equal(kv(&e.c, 0, "CMD_CYCLE_EXT_OPEN"),
			    "/opt/x 198.51.100.1 ${SRC}:${PORT} \\$SOURCE \\$SRC \\$FWKNOP_ "
			    "\\$FWKNOP_1");
	assert_string_equal(kv(&e.c, 1, "CMD_CYCLE_EXT_OPEN"),
			    "/opt/y 203.0.113.1 \\$FWKNOP_SOURCE");
	done(&e);
	refused("FIREWALL_TYPE external_cmd\n" EXT_ON "ENABLE_EXT_CMD_PREFIX Y\n"
		"EXTERNAL_CMD_OPEN /opt/x $FWKNOP_OPEN_PORTS\nEXTERNAL_CMD_CLOSE NONE\n",
		"SOURCE ANY\nKEY k\n",
		"fwknopd.conf:4: EXTERNAL_CMD_OPEN: $FWKNOP_OPEN_PORTS: OPEN_PORTS is not set "
		"in stanza access.conf:1", NULL);
}

/* Every refusal names the line it is about. */
static void test_refusals(void **state)
{
	(void)state;
	/* a missing variable: the template's line, the variable, the stanza */
	refused("FIREWALL_TYPE external_cmd\n" EXT_ON
		"EXTERNAL_CMD_OPEN /opt/x $OPEN_PORTS\nEXTERNAL_CMD_CLOSE /opt/y $SRC\n",
		"SOURCE ANY\nKEY k\nOPEN_PORTS tcp/22\nSOURCE ANY\nKEY k\n",
		"fwknopd.conf:3: EXTERNAL_CMD_OPEN: $OPEN_PORTS: OPEN_PORTS is not set in "
		"stanza access.conf:4", NULL);
	refused(EXT_ON, "SOURCE ANY\nKEY k\nEXTERNAL_CMD_OPEN /opt/x\n"
		"EXTERNAL_CMD_CLOSE /opt/x $DESTINATION\n",
		"access.conf:4: EXTERNAL_CMD_CLOSE: $DESTINATION: DESTINATION is not set", NULL);
	/* secrets never reach a command line */
	refused(EXT_ON, "SOURCE ANY\nKEY k\nEXTERNAL_CMD_OPEN /opt/x $KEY\n"
		"EXTERNAL_CMD_CLOSE NONE\n",
		"access.conf:3: EXTERNAL_CMD_OPEN: $KEY: KEY is a secret", NULL);
	refused(EXT_ON, "SOURCE ANY\nKEY k\nHMAC_KEY h\n"
		"EXTERNAL_CMD_OPEN /opt/x ${HMAC_KEY}\nEXTERNAL_CMD_CLOSE NONE\n",
		"HMAC_KEY is a secret", NULL);
	/* the program is written out: no PATH search, no $VAR */
	refused(EXT_ON, "SOURCE ANY\nKEY k\nEXTERNAL_CMD_OPEN iptables -A INPUT -s $SRC\n",
		"access.conf:3: EXTERNAL_CMD_OPEN", "absolute path");
	refused("EXTERNAL_CMD_CLOSE $FWKNOP_RUN_DIR/x\n", "SOURCE ANY\nKEY k\n",
		"fwknopd.conf:1: EXTERNAL_CMD_CLOSE", "not set earlier");
	refused(EXT_ON "FWKNOP_RUN_DIR /run/x\nEXTERNAL_CMD_CLOSE /bin/$FWKNOP_RUN_DIR\n",
		"SOURCE ANY\nKEY k\n", "fwknopd.conf:3: EXTERNAL_CMD_CLOSE", "absolute path");
	/* values */
	refused("EXTERNAL_CMD_ALARM 0\n", "SOURCE ANY\nKEY k\n",
		"fwknopd.conf:1: EXTERNAL_CMD_ALARM '0': expected seconds", NULL);
	refused("ENABLE_EXTERNAL_CMDS maybe\n", "SOURCE ANY\nKEY k\n",
		"fwknopd.conf:1: ENABLE_EXTERNAL_CMDS 'maybe': expected Y or N", NULL);
	refused("", "SOURCE ANY\nKEY k\nEXT_CMD_PREFIX fw-\n",
		"access.conf:3: EXT_CMD_PREFIX 'fw-'", NULL);
	/* the switch */
	refused("FIREWALL_TYPE external_cmd\nEXTERNAL_CMD_OPEN /opt/x\n", "SOURCE ANY\nKEY k\n",
		"fwknopd.conf:1: FIREWALL_TYPE external_cmd (stanza access.conf:1) needs "
		"ENABLE_EXTERNAL_CMDS Y", NULL);
	refused("", "SOURCE ANY\nKEY k\nEXTERNAL_CMD_OPEN /opt/x\n",
		"access.conf:3: EXTERNAL_CMD_OPEN has no effect: ENABLE_EXTERNAL_CMDS is N", NULL);
	/* commands, and nothing to run */
	refused("FIREWALL_TYPE external_cmd\n" EXT_ON "EXTERNAL_CMD_OPEN __NONE__\n",
		"SOURCE ANY\nKEY k\nEXTERNAL_CMD_CLOSE NONE\n",
		"access.conf:1: stanza is served by external commands but EXTERNAL_CMD_OPEN is "
		"not set", NULL);
	refused("FIREWALL_TYPE external_cmd\n" EXT_ON "EXTERNAL_CMD_OPEN /opt/x\n",
		"SOURCE ANY\nKEY k\n", "EXTERNAL_CMD_CLOSE is not set", "NONE: no close");
	/* one backend per stanza */
	refused(EXT_ON, "SOURCE ANY\nKEY k\nFIREWALL_TYPE nftables\nEXTERNAL_CMD_OPEN /opt/x\n",
		"access.conf:4: EXTERNAL_CMD_OPEN: stanza access.conf:1 is served by",
		"FIREWALL_TYPE nftables");
	refused(EXT_ON, "SOURCE ANY\nKEY k\nCMD_CYCLE_OPEN /bin/true\nEXTERNAL_CMD_CLOSE /x\n",
		"access.conf:4: EXTERNAL_CMD_CLOSE: stanza access.conf:1 is served by "
		"CMD_CYCLE_OPEN", NULL);
	refused(EXT_ON "EXTERNAL_CMD_OPEN /opt/x\nEXTERNAL_CMD_CLOSE NONE\n",
		"SOURCE ANY\nKEY k\nFIREWALL_TYPE external_cmd\nCMD_CYCLE_TIMER 5\n",
		"access.conf:4: CMD_CYCLE_TIMER: stanza access.conf:1 is served by "
		"EXTERNAL_CMD_*", NULL);
	/* the plugin's form is spad's to write */
	refused("", "SOURCE ANY\nKEY k\nCMD_CYCLE_EXT_OPEN /bin/true\n",
		"access.conf:3: CMD_CYCLE_EXT_OPEN '/bin/true': reserved", NULL);
}

/* The global switch with the global backend: the settings are kept,
 * unused, as fwknopd.conf ships them commented in. */
static void test_global_settings_unused(void **state)
{
	struct env e;
	(void)state;

	assert_int_equal(load(&e, "ENABLE_EXTERNAL_CMDS N\nEXTERNAL_CMD_OPEN __NONE__\n"
			      "EXTERNAL_CMD_CLOSE __NONE__\nEXTERNAL_CMD_ALARM 30\n"
			      "ENABLE_EXT_CMD_PREFIX N\nEXT_CMD_PREFIX FWKNOP_\n",
			      "SOURCE ANY\nKEY k\n"), 0);
	assert_string_equal(spa_config_stanza_type(&e.c, &e.c.stanzas[0]), "iptables");
	assert_false(e.c.firewall_type_external);
	assert_int_equal(spa_config_check_keys(&e.c, NULL, 0, e.err, sizeof(e.err)), 0);
	done(&e);
}

static struct spa_grant grant(const char *src, unsigned proto, unsigned port)
{
	struct spa_grant g;

	memset(&g, 0, sizeof(g));
	g.struct_size = sizeof(g);
	g.family = strchr(src, ':') ? AF_INET6 : AF_INET;
	g.src.family = g.family;
	snprintf(g.src.text, sizeof(g.src.text), "%s", src);
	g.proto = (uint8_t)proto;
	g.port = (uint16_t)port;
	g.timeout = 30;
	snprintf(g.stanza, sizeof(g.stanza), "access.conf:1");
	return g;
}

/* The plugin's side of the form: one word, one argument. */
static void test_ext_argv(void **state)
{
	struct spa_grant g = grant("2001:db8::7", 17, 53);
	const char *argv[SPA_CC_ARGV_MAX];
	char buf[SPA_CC_EXT_MAX], big[SPA_CC_EXT_MAX + 8];
	(void)state;

	assert_int_equal(spa_cc_ext_argv("  /bin/x a\\ b\\\\c ${SRC}/${PORT}:${PROTO} \\$SRC\t",
					 &g, buf, sizeof(buf), argv, SPA_CC_ARGV_MAX), 4);
	assert_string_equal(argv[0], "/bin/x");
	assert_string_equal(argv[1], "a b\\c");
	assert_string_equal(argv[2], "2001:db8::7/53:udp");
	assert_string_equal(argv[3], "$SRC");
	assert_null(argv[4]);
	g.proto = 6;
	assert_int_equal(spa_cc_ext_argv("/bin/x ${PROTO}", &g, buf, sizeof(buf), argv,
					 SPA_CC_ARGV_MAX), 2);
	assert_string_equal(argv[1], "tcp");
	/* forms spad never writes */
	assert_int_equal(spa_cc_ext_argv("/bin/x $SRC", &g, buf, sizeof(buf), argv,
					 SPA_CC_ARGV_MAX), -EINVAL);
	assert_int_equal(spa_cc_ext_argv("/bin/x \\", &g, buf, sizeof(buf), argv,
					 SPA_CC_ARGV_MAX), -EINVAL);
	assert_int_equal(spa_cc_ext_argv("${SRC}/x", &g, buf, sizeof(buf), argv,
					 SPA_CC_ARGV_MAX), -EINVAL);
	assert_int_equal(spa_cc_ext_argv("  ", &g, buf, sizeof(buf), argv, SPA_CC_ARGV_MAX),
			 -EINVAL);
	/* limits: words and bytes */
	assert_int_equal(spa_cc_ext_argv("/x 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 "
					 "21 22 23 24 25 26 27 28 29 30 31", &g, buf, sizeof(buf),
					 argv, SPA_CC_ARGV_MAX), -E2BIG);
	memset(big, 'a', sizeof(big));
	big[0] = '/';
	big[SPA_CC_EXT_MAX - 1] = '\0';
	assert_int_equal(spa_cc_ext_argv(big, &g, buf, sizeof(buf), argv, SPA_CC_ARGV_MAX), 1);
	big[SPA_CC_EXT_MAX - 1] = 'a';
	big[SPA_CC_EXT_MAX] = '\0';
	assert_int_equal(spa_cc_ext_argv(big, &g, buf, sizeof(buf), argv, SPA_CC_ARGV_MAX),
			 -ENAMETOOLONG);
}

/* A program that appends its arguments, one a line, to the file named
 * by its first argument. */
static void write_recorder(const char *dir, char *path, size_t cap)
{
	th_write(dir, "rec", "#!/bin/sh\nf=$1\nshift\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; "
		 "done >> \"$f\"\n", path, cap);
	assert_int_equal(chmod(path, 0700), 0);
}

/* The real plugin, loaded as spad loads it, runs the real commands
 * through the engine's runner: the recording program shows each argument. */
static void test_recorded_argv(void **state)
{
	char dir[64], rec[128], conf[4096], acc[4096], server[2048], err[SPA_CONF_ERR_LEN] = "";
	char path[4200];
	struct spa_config c;
	struct spa_plugin *p = NULL;
	struct spa_grant g = grant("198.51.100.7", 6, 22);
	char *got;
	(void)state;

	th_tmpdir(dir, sizeof(dir));
	write_recorder(dir, rec, sizeof(rec));
	snprintf(server, sizeof(server),
		 "FIREWALL_TYPE external_cmd\n" EXT_ON "EXTERNAL_CMD_ALARM 45\n"
		 "EXTERNAL_CMD_OPEN %s %s/open.log $SOURCE $OPEN_PORTS $SRC $PORT $PROTO "
		 "x$SRC:${PORT}y 100$ \\back $IPSET_NOTE\n"
		 "EXTERNAL_CMD_CLOSE %s %s/close.log -D INPUT -s $SRC -p $PROTO --dport $PORT\n",
		 rec, dir, rec, dir);
	th_write(dir, "fwknopd.conf", server, conf, sizeof(conf));
	/* IPSET_NOTE: any variable; its "$SRC" is text, never substituted */
	th_write(dir, "access.conf", "SOURCE 198.51.100.0/24, 203.0.113.0/24\nKEY k\n"
		 "OPEN_PORTS tcp/22, udp/53\nIPSET_NOTE a $SRC  b\n", acc, sizeof(acc));
	spa_config_init(&c);
	if (spa_config_load_server(&c, conf, err, sizeof(err)) != 0 ||
	    spa_config_load_access(&c, acc, false, err, sizeof(err)) != 0 ||
	    spa_config_finish(&c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	if (spa_plugin_load(cmdcycle_so, &p, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(p->d->name, "cmdcycle");
	assert_int_equal(spa_plugin_check(p, &c, NULL), 0);
	assert_int_equal(spa_plugin_init(p, &c), 0);
	assert_int_equal(p->d->ops.open(p->state, &g), 0);
	snprintf(path, sizeof(path), "%s/open.log", dir);
	got = th_read(path);
	assert_non_null(got);
	assert_string_equal(got, "198.51.100.0/24, 203.0.113.0/24\ntcp/22, udp/53\n198.51.100.7\n"
				 "22\ntcp\nx198.51.100.7:22y\n100$\n\\back\na $SRC  b\n");
	free(got);
	g.proto = 17;
	g.port = 53;
	assert_int_equal(p->d->ops.close(p->state, &g), 0);
	snprintf(path, sizeof(path), "%s/close.log", dir);
	got = th_read(path);
	assert_non_null(got);
	assert_string_equal(got, "-D\nINPUT\n-s\n198.51.100.7\n-p\nudp\n--dport\n53\n");
	free(got);
	spa_plugin_unload(p);
	spa_config_free(&c);
	th_rmrf(dir);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_global_commands),
		cmocka_unit_test(test_mixed_deployment),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_global_settings_unused),
		cmocka_unit_test(test_ext_argv),
		cmocka_unit_test(test_recorded_argv),
	};
	if (argc < 2) {
		fprintf(stderr, "usage: test_extcmd cmdcycle.so\n");
		return 1;
	}
	cmdcycle_so = argv[1];
	spa_log_setup("test", false, false, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
