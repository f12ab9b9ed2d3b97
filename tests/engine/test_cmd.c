/* SPDX-License-Identifier: MIT */
/*
 * test_cmd.c - command messages in the engine: the stanza decision
 * (ENABLE_CMD_EXEC, the next stanza, REQUIRE_USERNAME, the allow IP), the
 * monitor's re-check of the privsep record, CMD_EXEC_USER/GROUP resolved
 * at load, and the runner's credentials (run as root: else skipped).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_helpers.h"
#include "spa_config.h"
#include "spa_pipeline.h"
#include "spa_privsep.h"
#include "spa_run.h"

#define NOW 1800000000LL

struct ctx {
	char dir[64];
	struct spa_config c;
	struct spa_replay *r;
	struct spa_keys *k1, *k2;
};

static struct spa_keys *keys(const char *key, const char *hmac)
{
	struct spa_key_spec s = { .enc_key = (const uint8_t *)key, .enc_key_len = strlen(key),
				  .hmac_key = (const uint8_t *)hmac,
				  .hmac_key_len = strlen(hmac) };
	struct spa_keys *k = NULL;

	assert_int_equal(spa_keys_new(&s, &k), 0);
	return k;
}

static int setup(void **state)
{
	struct ctx *x = calloc(1, sizeof(*x));
	char err[SPA_CONF_ERR_LEN], path[4096];

	th_tmpdir(x->dir, sizeof(x->dir));
	th_write(x->dir, "access.conf",
		 /* 1: no command messages */
		 "SOURCE ANY\nKEY key-one\nHMAC_KEY hmac-one\n"
		 /* 4: commands, but only for bob */
		 "SOURCE ANY\nKEY key-one\nHMAC_KEY hmac-one\nENABLE_CMD_EXEC Y\n"
		 "REQUIRE_USERNAME bob\n"
		 /* 9: commands as nobody, group daemon */
		 "SOURCE ANY\nKEY key-one\nHMAC_KEY hmac-one\nENABLE_CMD_EXEC Y\n"
		 "CMD_EXEC_USER nobody\nCMD_EXEC_GROUP daemon\n"
		 /* 15: key two: commands as nobody, its own group; sudo */
		 "SOURCE ANY\nKEY key-two\nHMAC_KEY hmac-two\nENABLE_CMD_EXEC Y\n"
		 "CMD_EXEC_USER nobody\nENABLE_CMD_SUDO_EXEC Y\nCMD_SUDO_EXEC_USER root\n"
		 "COMMAND_MODULE allowlist\n",
		 path, sizeof(path));
	spa_config_init(&x->c);
	if (spa_config_load_access(&x->c, path, false, err, sizeof(err)) < 0 ||
	    spa_config_finish(&x->c, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (spa_replay_open(NULL, NOW, 0, &x->r) < 0)
		return -1;
	x->k1 = keys("key-one", "hmac-one");
	x->k2 = keys("key-two", "hmac-two");
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *x = *state;

	spa_keys_free(x->k1);
	spa_keys_free(x->k2);
	spa_replay_close(x->r);
	spa_config_free(&x->c);
	th_rmrf(x->dir);
	free(x);
	return 0;
}

static size_t build(const struct spa_keys *k, const char *user, const char *msg, char *out)
{
	struct spa_message m;
	size_t len;

	assert_int_equal(spa_message_init(&m), 0);
	snprintf(m.username, sizeof(m.username), "%s", user);
	m.timestamp = (uint64_t)NOW;
	m.type = SPA_MSG_COMMAND;
	snprintf(m.message, sizeof(m.message), "%s", msg);
	assert_int_equal(spa_packet_build(&m, k, NULL, out, SPA_WIRE_CAP, &len), 0);
	return len;
}

static void mkpkt(struct spa_pkt *p, const char *data, size_t len, const char *src)
{
	memset(p, 0, sizeof(*p));
	p->data = data;
	p->len = len;
	p->family = AF_INET;
	inet_pton(AF_INET, src, p->src_bin);
	snprintf(p->src, sizeof(p->src), "%s", src);
	p->proto = 17;
	p->now = NOW;
}

static void decide(struct ctx *x, const struct spa_keys *k, const char *user, const char *msg,
		   struct spa_pkt *p, char *buf, struct spa_decision *d)
{
	struct spa_pipeline_opts o = { 0 };
	size_t len = build(k, user, msg, buf);

	mkpkt(p, buf, len, "198.51.100.7");
	spa_pipeline_run(&x->c, x->r, p, &o, d);
}

static void test_config_resolved(void **state)
{
	struct ctx *x = *state;
	const struct spa_stanza_cmd *c;
	struct passwd *pw = getpwnam("nobody");
	struct group *gr = getgrnam("daemon");

	if (!pw || !gr)
		skip();
	assert_false(spa_conf_cmd_enabled(&x->c.stanzas[0]));
	assert_true(spa_conf_cmd_enabled(&x->c.stanzas[1]));
	/* no user: spad's own credentials */
	assert_int_equal(x->c.stanzas[1].cmd->uid, (uid_t)-1);
	c = x->c.stanzas[2].cmd;
	assert_int_equal(c->uid, pw->pw_uid);
	assert_int_equal(c->gid, gr->gr_gid);
	/* no group: the user's primary group */
	c = x->c.stanzas[3].cmd;
	assert_int_equal(c->gid, pw->pw_gid);
	assert_true(c->sudo);
	assert_string_equal(spa_conf_cmd_module_of(&x->c, &x->c.stanzas[2]), "cmdexec");
	assert_string_equal(spa_conf_cmd_module_of(&x->c, &x->c.stanzas[3]), "allowlist");
	assert_int_equal(x->c.cmd.timeout, SPA_DEFAULT_CMD_EXEC_TIMEOUT);
	assert_string_equal(x->c.cmd.sudo_exe, "/usr/bin/sudo");
}

static void test_stanza_decision(void **state)
{
	struct ctx *x = *state;
	char buf[SPA_WIRE_CAP];
	struct spa_decision d;
	struct spa_pkt p;

	/* stanza 1 refuses (ENABLE_CMD_EXEC N), 2 wants bob: 3 runs it */
	decide(x, x->k1, "alice", "0.0.0.0,/usr/bin/touch /tmp/x", &p, buf, &d);
	assert_int_equal(d.verdict, SPA_COMMAND);
	assert_string_equal(d.stanza->label + strlen(d.stanza->label) - 2, ":9");
	assert_string_equal(d.allow, "198.51.100.7");
	assert_true(d.spent);
	/* bob: stanza 2 */
	decide(x, x->k1, "bob", "198.51.100.7,id", &p, buf, &d);
	assert_int_equal(d.verdict, SPA_COMMAND);
	assert_string_equal(d.stanza->label + strlen(d.stanza->label) - 2, ":4");
	/* the same packet again: a replay */
	spa_pipeline_run(&x->c, x->r, &p, &(struct spa_pipeline_opts){ 0 }, &d);
	assert_int_equal(d.verdict, SPA_REJECT);
	assert_true(d.replayed);
	/* a tab is not plain text: refused, whoever accepts commands */
	decide(x, x->k1, "alice", "0.0.0.0,echo\tx", &p, buf, &d);
	assert_int_equal(d.verdict, SPA_REJECT);
	assert_non_null(strstr(d.reason, "printable ASCII"));
	/* an allow IP that is never a sender */
	decide(x, x->k1, "alice", "255.255.255.255,id", &p, buf, &d);
	assert_int_equal(d.verdict, SPA_REJECT);
}

static void test_refused_without_enable(void **state)
{
	struct ctx *x = *state;
	char buf[SPA_WIRE_CAP], err[SPA_CONF_ERR_LEN], path[4096];
	struct spa_config c;
	struct spa_pipeline_opts o = { 0 };
	struct spa_decision d;
	struct spa_pkt p;
	size_t len;

	th_write(x->dir, "only.conf", "SOURCE ANY\nKEY key-one\nHMAC_KEY hmac-one\n"
		 "ENABLE_CMD_EXEC N\n", path, sizeof(path));
	spa_config_init(&c);
	assert_int_equal(spa_config_load_access(&c, path, false, err, sizeof(err)), 0);
	assert_int_equal(spa_config_finish(&c, err, sizeof(err)), 0);
	len = build(x->k1, "alice", "0.0.0.0,id", buf);
	mkpkt(&p, buf, len, "198.51.100.7");
	spa_pipeline_run(&c, NULL, &p, &o, &d);
	assert_int_equal(d.verdict, SPA_REJECT);
	assert_string_equal(d.reason, "command messages not enabled (ENABLE_CMD_EXEC N)");
	spa_config_free(&c);
}

/* The record the packet process sends, as the monitor reads it. */
static void test_privsep_recheck(void **state)
{
	struct ctx *x = *state;
	char buf[SPA_WIRE_CAP], why[128];
	struct spa_ps_decision rec;
	struct spa_decision d, m;
	struct spa_pkt p, mp;

	decide(x, x->k1, "alice", "0.0.0.0,/usr/bin/touch /tmp/x", &p, buf, &d);
	assert_int_equal(d.verdict, SPA_COMMAND);
	spa_privsep_pack_decision(&x->c, &p, &d, 0, &rec);
	assert_int_equal(spa_privsep_decode(&rec, sizeof(rec), why, sizeof(why)), SPA_PS_COMMAND);
	assert_int_equal(spa_privsep_recheck(&x->c, NULL, &rec, &mp, &m), 0);
	assert_int_equal(m.verdict, SPA_COMMAND);
	assert_ptr_equal(m.stanza, d.stanza);
	/* a packet process naming stanza 1 (no ENABLE_CMD_EXEC) is refused */
	rec.stanza = 0;
	assert_int_equal(spa_privsep_recheck(&x->c, NULL, &rec, &mp, &m), 0);
	assert_int_equal(m.verdict, SPA_REJECT);
	assert_non_null(strstr(m.reason, "refused by the monitor"));
	/* nor stanza 2 for alice (REQUIRE_USERNAME bob) */
	rec.stanza = 1;
	assert_int_equal(spa_privsep_recheck(&x->c, NULL, &rec, &mp, &m), 0);
	assert_int_equal(m.verdict, SPA_REJECT);
	/* an access request dressed as a command: refused by the decoder */
	rec.stanza = 2;
	snprintf(rec.msg.message, sizeof(rec.msg.message), "0.0.0.0,tcp/22");
	rec.msg.type = SPA_MSG_ACCESS;
	assert_int_equal(spa_privsep_decode(&rec, sizeof(rec), why, sizeof(why)), -EBADMSG);
	/* a command dressed as a grant, in either kind of record */
	rec.msg.type = SPA_MSG_COMMAND;
	snprintf(rec.msg.message, sizeof(rec.msg.message), "0.0.0.0,id");
	rec.verdict = SPA_GRANT;
	assert_int_equal(spa_privsep_decode(&rec, sizeof(rec), why, sizeof(why)), -EBADMSG);
	rec.h.type = SPA_PS_DECISION;
	assert_int_equal(spa_privsep_decode(&rec, sizeof(rec), why, sizeof(why)), -EBADMSG);
	/* a command verdict in a DECISION record */
	rec.verdict = SPA_COMMAND;
	assert_int_equal(spa_privsep_decode(&rec, sizeof(rec), why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "in a record of type"));
	rec.h.type = SPA_PS_COMMAND;
	assert_int_equal(spa_privsep_decode(&rec, sizeof(rec), why, sizeof(why)), SPA_PS_COMMAND);
	/* a command without authentication */
	rec.verdict = SPA_COMMAND;
	rec.authenticated = 0;
	rec.spent = 0;
	assert_int_equal(spa_privsep_decode(&rec, sizeof(rec), why, sizeof(why)), -EBADMSG);
}

/* The runner's credentials: setgroups {gid}, setgid, setuid, checked. */
static void test_run_as(void **state)
{
	struct ctx *x = *state;
	struct spa_run_buf buf = { 0 };
	struct spa_run_cred cred = { .uid = 65534, .gid = 1 };
	const char *const id[] = { "/usr/bin/id", NULL };
	const char *const pwd[] = { "/bin/pwd", NULL };
	const char *const slow[] = { "/bin/sleep", "30", NULL };
	const char *const missing[] = { "/nonexistent/prog", NULL };
	const char *const test_fd[] = { "/usr/bin/test", "-e", "/proc/self/fd/100", NULL };
	char path[4096];
	const char *const touch[] = { "/usr/bin/touch", path, NULL };
	struct stat st;
	int status, to;

	if (geteuid() != 0)
		skip();
	assert_int_equal(spa_run_as(id, &cred, NULL, 0, 5000, &buf, &status, &to), 0);
	assert_int_equal(status, 0);
	assert_non_null(strstr(buf.out, "uid=65534"));
	assert_non_null(strstr(buf.out, "gid=1("));
	/* groups= lists only gid */
	assert_null(strstr(buf.out, ","));
	assert_int_equal(spa_run_as(pwd, &cred, NULL, 0, 5000, &buf, &status, &to), 0);
	assert_string_equal(buf.out, "/\n");
	/* a file it creates has that owner and group */
	assert_int_equal(chmod(x->dir, 0777), 0);
	snprintf(path, sizeof(path), "%s/made", x->dir);
	assert_int_equal(spa_run_as(touch, &cred, NULL, 0, 5000, &buf, &status, &to), 0);
	assert_int_equal(status, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 1);
	assert_int_equal(chmod(x->dir, 0700), 0);
	/* killed at the deadline, as without credentials */
	assert_int_equal(spa_run_as(slow, &cred, NULL, 0, 300, &buf, &status, &to), 0);
	assert_true(to);
	assert_int_equal(status, -1);
	/* only descriptors 0-2 reach it, whatever the caller left open */
	assert_int_equal(dup2(0, 100), 100);
	assert_int_equal(spa_run_as(test_fd, &cred, NULL, 0, 5000, &buf, &status, &to), 0);
	assert_int_equal(status, 1);
	close(100);
	/* a program that cannot start: its errno, not a status */
	assert_int_equal(spa_run_as(missing, &cred, NULL, 0, 5000, &buf, &status, &to), -ENOENT);
	spa_run_buf_free(&buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_resolved),
		cmocka_unit_test(test_stanza_decision),
		cmocka_unit_test(test_refused_without_enable),
		cmocka_unit_test(test_privsep_recheck),
		cmocka_unit_test(test_run_as),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
