/* SPDX-License-Identifier: MIT */
/*
 * test_spad_nat.c - NAT knocks through the real spad (engine/spa_nat.c):
 * the recorder plugin (SPA_PLUGIN_CAP_NAT) gets each grant's NAT form,
 * the same form after a kill -9 and a restart, and in the close; a plugin
 * without NAT (recorder2, ipfw, pf) never gets one: a NAT stanza is refused
 * at load naming it, a NAT knock is rejected and, for ipfw and pf, their
 * recording executable shows that no command ran for it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "flaky_fixture.h"
#include "spad_fixture.h"

static const char *spad_bin, *plugin_dir, *shipped_dir, *flaky_dir;

#define NAT_CONF                                                             \
	"ENABLE_IPT_FORWARDING Y\nENABLE_IPT_LOCAL_NAT Y\nENABLE_IPT_SNAT Y\n" \
	"SNAT_TRANSLATE_IP 203.0.113.1\n"

static int setup(void **state)
{
	struct fx *f = fx_new(spad_bin, plugin_dir);

	if (f)
		fx_append_conf(f, NAT_CONF);
	*state = f;
	return f ? 0 : -1;
}

/* PLUGIN_DIR holding recorder and flaky (ff_link_plugins) */
static int setup_flaky(void **state)
{
	*state = fx_new(spad_bin, flaky_dir);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	fx_delete(*state);
	return 0;
}

/* fwknopd.conf for another plugin (the fixture's names the recorder). */
static void write_conf(struct fx *f, const char *dir, const char *lines)
{
	char body[32768], path[4096];

	snprintf(body, sizeof(body),
		 "ENABLE_UDP_SERVER Y\nUDPSERV_PORT %u\nPLUGIN_DIR %s\nFWKNOP_RUN_DIR %s\n"
		 "MAX_SPA_PACKET_AGE 120\nSPA_JSON_LOG %s\n" NAT_CONF "%s",
		 f->port, dir, f->run, f->json, lines);
	th_write(f->dir, "fwknopd.conf", body, path, sizeof(path));
}

static const char *knock(struct fx *f, int type, const char *msg, const char *nat,
			 uint32_t timeout)
{
	char pkt[SPA_WIRE_CAP];
	struct spa_message m;
	size_t len = 0;

	assert_int_equal(spa_message_init(&m), 0);
	snprintf(m.username, sizeof(m.username), "alice");
	m.timestamp = (uint64_t)time(NULL);
	m.type = type;
	snprintf(m.message, sizeof(m.message), "%s", msg);
	snprintf(m.nat_access, sizeof(m.nat_access), "%s", nat);
	m.client_timeout = timeout;
	assert_int_equal(spa_packet_build(&m, f->keys, NULL, pkt, SPA_WIRE_CAP, &len), 0);
	return fx_send(f, pkt, len, false);
}

#define FWD_FORM " nat=forward+snat to=192.0.2.10,22 snat=203.0.113.1"
#define LOCAL_FORM " nat=local to=192.0.2.1,22 snat=-"

/* The forms reach the plugin, survive a kill -9 (the restart re-opens the
 * same form), and the closes (expiry, clean stop) carry them. */
static void test_forms_survive(void **state)
{
	struct fx *f = *state;
	const char *line;
	char *out;
	int status, forms;

	assert_true(fx_start(f));
	/* type 4: forwarded with SNAT_TRANSLATE_IP, only the first port */
	line = knock(f, SPA_MSG_CLIENT_TIMEOUT_NAT_ACCESS, "127.0.0.1,tcp/2222,tcp/80",
		     "192.0.2.10,22", 40);
	assert_non_null(strstr(line, "decision=grant"));
	assert_non_null(strstr(line, "nat=forward+snat to=192.0.2.10,22 snat=203.0.113.1"));
	assert_true(fx_wait_for(f->calls, "port=2222 timeout=40", 1, FX_WAIT_MS));
	assert_true(fx_wait_for(f->json, "\"nat\":{\"form\":\"forward+snat\",\"to\":"
				"\"192.0.2.10\",\"port\":22,\"snat\":\"203.0.113.1\"}", 1,
				FX_WAIT_MS));
	assert_int_equal(fx_count(f->calls, FWD_FORM), 1);
	assert_int_equal(fx_count(f->calls, "port=80 "), 0);
	/* type 5: local NAT, closed by its expiry (FW_ACCESS_TIMEOUT 2) */
	line = knock(f, SPA_MSG_LOCAL_NAT_ACCESS, "127.0.0.1,tcp/8443", "192.0.2.1,22", 0);
	assert_non_null(strstr(line, "decision=grant"));
	assert_true(fx_wait_for(f->calls, "open id=2", 1, FX_WAIT_MS));
	assert_int_equal(fx_count(f->calls, LOCAL_FORM), 1);
	assert_true(fx_wait_for(f->calls, LOCAL_FORM, 2, 2000 + FX_CLOSE_MARGIN_MS));
	assert_int_equal(fx_count(f->calls, "close id=2 "), 1);
	/* a re-knock of the same form refreshes it; another target is another grant */
	line = knock(f, SPA_MSG_CLIENT_TIMEOUT_NAT_ACCESS, "127.0.0.1,tcp/2222", "192.0.2.10,22",
		     40);
	assert_non_null(strstr(line, "refreshed"));
	line = knock(f, SPA_MSG_NAT_ACCESS, "127.0.0.1,tcp/2222", "192.0.2.11,22", 0);
	assert_non_null(strstr(line, "opened"));
	assert_true(fx_wait_for(f->calls, "to=192.0.2.11,22", 1, FX_WAIT_MS));
	/* ENABLE_NAT_DNS (default Y): the monitor resolves a name off its
	 * loop (localhost: /etc/hosts); one that does not resolve is refused */
	line = knock(f, SPA_MSG_NAT_ACCESS, "127.0.0.1,tcp/2222", "localhost,2200", 0);
	assert_non_null(strstr(line, "decision=grant"));
	assert_non_null(strstr(line, "to=127.0.0.1,2200"));
	assert_true(fx_wait_for(f->calls, "to=127.0.0.1,2200", 1, FX_WAIT_MS));
	line = knock(f, SPA_MSG_NAT_ACCESS, "127.0.0.1,tcp/2222", "no-such-host.invalid,22", 0);
	assert_non_null(strstr(line, "decision=reject"));
	assert_non_null(strstr(line, "NAT host 'no-such-host.invalid' not resolved"));

	/* kill -9: the journal keeps the form; --fw-list-all shows it */
	assert_int_equal(fx_stop(f, SIGKILL), 128 + SIGKILL);
	forms = fx_count(f->calls, FWD_FORM);
	out = fx_cli_out(f, "--fw-list-all", &status);
	assert_non_null(out);
	assert_non_null(strstr(out, "tcp/2222 expires"));
	assert_non_null(strstr(out, FWD_FORM));
	free(out);
	assert_true(fx_start(f));
	assert_true(fx_wait_for(f->calls, FWD_FORM, forms + 1, FX_WAIT_MS));
	assert_int_equal(fx_count(f->calls, "open id=1 "), 2);
	/* a clean stop closes it, with its form */
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	assert_int_equal(fx_count(f->calls, FWD_FORM), forms + 2);
	assert_int_equal(fx_count(f->calls, "close id=1 "), 1);
}

/* recorder2 has no SPA_PLUGIN_CAP_NAT. */
static void test_plugin_without_nat(void **state)
{
	struct fx *f = *state;
	const char *line;
	char *out;
	int status;
	char conf[4200];

	snprintf(conf, sizeof(conf), "FIREWALL_TYPE recorder2\nRECORDER2_FILE %s\n", f->calls);
	write_conf(f, plugin_dir, conf);
	fx_write_access(f, "FORCE_NAT 192.0.2.10 22\n");
	out = fx_cli_out(f, "--exit-parse-config", &status);
	assert_int_equal(status, 2);
	assert_non_null(strstr(out, "access.conf:2: the stanza sets NAT"));
	assert_non_null(strstr(out, "plugin recorder2 has no NAT"));
	free(out);
	fx_write_access(f, "");
	assert_true(fx_start(f));
	line = knock(f, SPA_MSG_NAT_ACCESS, "127.0.0.1,tcp/2222", "192.0.2.10,22", 0);
	assert_non_null(strstr(line, "decision=reject"));
	assert_non_null(strstr(line, "plugin recorder2 has no NAT"));
	/* plain access still works */
	line = knock(f, SPA_MSG_ACCESS, "127.0.0.1,tcp/22", "", 0);
	assert_non_null(strstr(line, "decision=grant"));
	assert_true(fx_wait_for(f->calls, "open id=", 1, FX_WAIT_MS));
	assert_int_equal(fx_count(f->calls, "nat="), 0);
	assert_int_equal(fx_count(f->calls, "port=2222"), 0);
}

/* A recording executable for IPFW_EXE / PFCTL_EXE: its argv, one line a
 * run, to <dir>/ran; pfctl's anchor listing names "fwknop". */
static void recording_exe(struct fx *f, char *exe, size_t cap, char *ran, size_t rcap)
{
	char body[8600];

	snprintf(ran, rcap, "%s/ran", f->dir);
	snprintf(body, sizeof(body),
		 "#!/bin/sh\necho \"$*\" >> %s\ncase \"$*\" in *'-s Anchor'*) echo fwknop;; esac\n"
		 "cat >/dev/null 2>&1 </dev/null\nexit 0\n", ran);
	th_write(f->dir, "fw-exe", body, exe, cap);
	assert_int_equal(chmod(exe, 0700), 0);
}

static void no_nat_backend(struct fx *f, const char *type, const char *exe_key)
{
	char conf[9000], exe[4200], ran[4200], *out;
	const char *line;
	int status, before;

	recording_exe(f, exe, sizeof(exe), ran, sizeof(ran));
	snprintf(conf, sizeof(conf), "FIREWALL_TYPE %s\n%s %s\n", type, exe_key, exe);
	write_conf(f, shipped_dir, conf);
	/* the stanza: refused at load, naming the plugin, nothing run */
	fx_write_access(f, "FORWARD_ALL Y\nDISABLE_DNAT Y\n");
	out = fx_cli_out(f, "--exit-parse-config", &status);
	assert_int_equal(status, 2);
	assert_non_null(strstr(out, "the stanza sets NAT"));
	assert_non_null(strstr(out, "has no NAT"));
	assert_non_null(strstr(out, type));
	free(out);
	assert_int_equal(fx_count(ran, ""), 0);
	/* the knock: rejected, and the executable runs nothing for it */
	fx_write_access(f, "");
	assert_true(fx_start(f));
	before = fx_count(ran, "\n");
	line = knock(f, SPA_MSG_NAT_ACCESS, "127.0.0.1,tcp/2222", "192.0.2.10,22", 0);
	assert_non_null(strstr(line, "decision=reject"));
	assert_non_null(strstr(line, "has no NAT"));
	line = knock(f, SPA_MSG_LOCAL_NAT_ACCESS, "127.0.0.1,tcp/2222", "192.0.2.10,22", 0);
	assert_non_null(strstr(line, "has no NAT"));
	/* a plain knock after them does run it: the count above can move */
	line = knock(f, SPA_MSG_ACCESS, "127.0.0.1,tcp/22", "", 0);
	assert_non_null(strstr(line, "decision=grant"));
	assert_true(fx_count(ran, "\n") > before);
	assert_int_equal(fx_count(ran, "2222"), 0);
	assert_int_equal(fx_count(ran, "192.0.2.10"), 0);
}

static void test_ipfw_refuses(void **state)
{
	no_nat_backend(*state, "ipfw", "IPFW_EXE");
}

static void test_pf_refuses(void **state)
{
	no_nat_backend(*state, "pf", "PFCTL_EXE");
}

/* Reconciliation tells NAT forms apart (the flaky plugin lists each
 * entry's form): a flushed NAT entry is re-opened with its form, and an
 * entry of the same source and port with another target, which no grant
 * covers, is closed. */
static void test_reconcile_forms(void **state)
{
	struct fx *f = *state;
	struct ff_backend b;
	char path[4400], stale[4400];
	const char *line;

	ff_prepare(f, "flaky", NAT_CONF, 60, &b);
	assert_true(fx_start(f));
	line = knock(f, SPA_MSG_NAT_ACCESS, "198.51.100.1,tcp/22", "192.0.2.10,22", 0);
	assert_non_null(strstr(line, "decision=grant"));
	snprintf(path, sizeof(path), "%s/198.51.100.1_tcp_22_nat17_192.0.2.10_22_203.0.113.1",
		 b.dir);
	assert_true(ff_wait_entries(b.dir, 1, FX_WAIT_MS));
	assert_int_equal(access(path, F_OK), 0);
	/* an admin's flush took it; a rule for another target was left over */
	assert_int_equal(unlink(path), 0);
	th_write(b.dir, "198.51.100.1_tcp_22_nat17_192.0.2.99_22_203.0.113.1",
		 "id=0 exp=0 nat=17 to=192.0.2.99 toport=22 snat=203.0.113.1\n", stale,
		 sizeof(stale));
	assert_int_equal(kill(f->pid, SIGUSR1), 0);
	assert_true(fx_wait_for(f->log, "missing from backend flaky (SIGUSR1); re-opened", 1,
				FX_WAIT_MS));
	assert_true(fx_wait_for(f->log, "no grant covers (SIGUSR1); closed", 1, FX_WAIT_MS));
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(access(stale, F_OK), -1);
	assert_int_equal(fx_stop(f, SIGTERM), 0);
	assert_int_equal(ff_entries(b.dir), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_forms_survive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugin_without_nat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipfw_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pf_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_forms, setup_flaky, teardown),
	};
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: %s SPAD RECORDER_DIR SHIPPED_PLUGIN_DIR FLAKY_DIR\n",
			argv[0]);
		return 2;
	}
	spad_bin = argv[1];
	plugin_dir = argv[2];
	shipped_dir = argv[3];
	flaky_dir = ff_link_plugins(argv[2], argv[4]);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	ff_unlink_plugins();
	return rc;
}
