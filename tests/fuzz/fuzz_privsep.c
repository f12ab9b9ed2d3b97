/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the monitor's side of privilege separation
 * (engine/spa_privsep.c): the input is a record as a compromised packet
 * process could send it. It is decoded and, if it decodes as a decision,
 * decided again against a fixed configuration. Whatever the bytes, a
 * record the monitor grants must be within the policy of the stanza it
 * names: that stanza's SOURCE holds the source, its OPEN_PORTS every port,
 * the timeout is at most its MAX_FW_TIMEOUT, and the allow IP is the
 * source or a remote unicast address.
 *
 * SPA_FUZZ_WRITE_SEEDS=<dir>: writes the seed records (a real knock's
 * grant, a reject, a log line, the control records) there and exits; the
 * committed corpus/privsep/ was made that way.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_fixture.h"
#include "fuzz_tmp.h"
#include "spa_addr.h"
#include "spa_config.h"
#include "spa_log.h"
#include "spa_privsep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1800000000LL

static struct spa_config cfg;
static struct spa_hostaddrs host;

static void load_config(void)
{
	static const char access[] =
		"SOURCE 198.51.100.0/24\nKEY key-one\nHMAC_KEY hmac-one\nOPEN_PORTS tcp/22\n"
		"REQUIRE_USERNAME alice\nMAX_FW_TIMEOUT 100\n"
		"SOURCE 203.0.113.0/24, 2001:db8::/32\nKEY key-two\nHMAC_KEY hmac-two\n"
		"OPEN_PORTS tcp/443, udp/53\nREQUIRE_ALLOW_IP_IS_SOURCE Y\n";
	char err[SPA_CONF_ERR_LEN];
	const char *path = fuzz_tmp_write("access.conf", (const uint8_t *)access,
					  sizeof(access) - 1);

	spa_config_init(&cfg);
	if (spa_config_load_access(&cfg, path, false, err, sizeof(err)) < 0 ||
	    spa_config_finish(&cfg, err, sizeof(err)) < 0)
		fuzz_fail("harness config", err);
}

static void write_seed(const char *dir, const char *name, const void *rec, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(rec, 1, len, f) != len || fclose(f) != 0)
		fuzz_fail("cannot write seed", path);
}

/* A real knock through the real pipeline, and what else crosses. */
static void write_seeds(const char *dir)
{
	struct spa_key_spec ks = { .enc_key = (const uint8_t *)"key-one", .enc_key_len = 7,
				   .hmac_key = (const uint8_t *)"hmac-one", .hmac_key_len = 8 };
	struct spa_pipeline_opts o = { 0 };
	struct spa_ps_header ctl = { SPA_PS_MAGIC, SPA_PS_DONE, 0 };
	struct spa_replay *r = NULL;
	struct spa_keys *k = NULL;
	struct spa_ps_decision rec;
	struct spa_ps_log lg;
	struct spa_decision d;
	struct spa_message m;
	struct spa_pkt p;
	char w[SPA_WIRE_CAP];
	size_t len;

	if (spa_keys_new(&ks, &k) < 0 || spa_replay_open(NULL, NOW, 0, &r) < 0 ||
	    spa_message_init(&m) < 0)
		fuzz_fail("seed setup", NULL);
	snprintf(m.username, sizeof(m.username), "alice");
	m.timestamp = (uint64_t)NOW;
	snprintf(m.message, sizeof(m.message), "198.51.100.7,tcp/22");
	m.client_timeout = 30;
	if (spa_packet_build(&m, k, NULL, w, sizeof(w), &len) < 0)
		fuzz_fail("seed packet", NULL);
	memset(&p, 0, sizeof(p));
	p.data = w;
	p.len = len;
	p.family = AF_INET;
	inet_pton(AF_INET, "198.51.100.7", p.src_bin);
	snprintf(p.src, sizeof(p.src), "198.51.100.7");
	p.proto = 17;
	p.now = NOW;
	spa_pipeline_run(&cfg, r, &p, &o, &d);
	if (d.verdict != SPA_GRANT)
		fuzz_fail("seed knock not granted", d.reason);
	spa_privsep_pack_decision(&cfg, &p, &d, 0, &rec);
	write_seed(dir, "grant", &rec, sizeof(rec));
	/* the same packet again: a replay, rejected */
	spa_pipeline_run(&cfg, r, &p, &o, &d);
	spa_privsep_pack_decision(&cfg, &p, &d, 3, &rec);
	write_seed(dir, "reject_replay", &rec, sizeof(rec));
	memset(&lg, 0, sizeof(lg));
	lg.h.magic = SPA_PS_MAGIC;
	lg.h.type = SPA_PS_LOG;
	lg.level = 4;
	snprintf(lg.text, sizeof(lg.text), "eth0: frame of 64 bytes ignored: not an IP frame");
	write_seed(dir, "log", &lg, sizeof(lg));
	write_seed(dir, "done", &ctl, sizeof(ctl));
	ctl.type = SPA_PS_STOP;
	write_seed(dir, "stop", &ctl, sizeof(ctl));
	spa_replay_close(r);
	spa_keys_free(k);
}

static void check_grant(const struct spa_ps_decision *m, const struct spa_pkt *pkt,
			const struct spa_decision *d)
{
	const struct spa_stanza *s = d->stanza;

	if (!s || s != &cfg.stanzas[m->stanza])
		fuzz_fail("granted under another stanza than the record names", NULL);
	if (!spa_addr_list_match(&s->source, pkt->family, pkt->src_bin))
		fuzz_fail("granted for a source outside SOURCE", pkt->src);
	if (d->n_ports == 0 || d->n_ports > SPA_MAX_PORTS)
		fuzz_fail("granted without ports", NULL);
	for (size_t i = 0; i < d->n_ports; i++)
		if (!spa_port_list_has(&s->open_ports, &d->ports[i]))
			fuzz_fail("granted a port outside OPEN_PORTS", s->label);
	if (d->timeout == 0 || d->timeout > s->max_fw_timeout)
		fuzz_fail("granted a timeout beyond MAX_FW_TIMEOUT", s->label);
	if (spa_addr_never_grantable(d->allow_family, d->allow_bin))
		fuzz_fail("granted for an address that is never grantable", d->allow);
	if (s->require_allow_is_source &&
	    !spa_addr_same(d->allow_family, d->allow_bin, pkt->family, pkt->src_bin))
		fuzz_fail("granted for another address under REQUIRE_ALLOW_IP_IS_SOURCE", d->allow);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct spa_ps_decision m;
	struct spa_decision d;
	struct spa_pkt pkt;
	char why[128];
	int type;

	if (!ready) {
		const char *seeds = getenv("SPA_FUZZ_WRITE_SEEDS");
		spa_log_setup("fuzz", getenv("SPA_FUZZ_DEBUG") != NULL, false, 0);
		load_config();
		if (seeds) {
			write_seeds(seeds);
			exit(0);
		}
		ready = 1;
	}
	type = spa_privsep_decode(data, size, why, sizeof(why));
	if (type < 0) {
		if (memchr(why, '\0', sizeof(why)) == NULL || !why[0])
			fuzz_fail("refusal without a reason", NULL);
		return 0;
	}
	if (type != SPA_PS_DECISION && type != SPA_PS_COMMAND)
		return 0;
	memcpy(&m, data, sizeof(m));
	/* the generation a fresh config has here: records name it to count */
	m.h.generation = cfg.generation;
	if (spa_privsep_recheck(&cfg, &host, &m, &pkt, &d) < 0)
		return 0;
	/* a command runs only as a command record, for a stanza that takes them */
	if (d.verdict == SPA_COMMAND &&
	    (m.verdict != SPA_COMMAND || !spa_conf_cmd_enabled(d.stanza)))
		fuzz_fail("a command the stanza does not accept", d.reason);
	if (d.verdict == SPA_GRANT)
		check_grant(&m, &pkt, &d);
	else if (m.verdict == SPA_GRANT && strncmp(d.reason, "refused by the monitor", 22) != 0)
		fuzz_fail("a grant refused without the monitor's reason", d.reason);
	return 0;
}
