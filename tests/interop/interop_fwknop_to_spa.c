/* SPDX-License-Identifier: MIT */
/*
 * interop_fwknop_to_spa - fwknop -> us.
 *
 * For every (mode x digest x HMAC x message type) combination the real
 * fwknop client builds a packet (-T -v -B file). Its verbose field dump is
 * the expected result; spa_packet_open() must give exactly those fields,
 * re-encoding them must give fwknop's "Encoded Data:SPA Data Digest", and
 * copies with one character changed must be refused.
 * --edges runs odd-but-accepted client inputs and a command-length sweep up
 * to the size limit instead of the matrix.
 *
 * Usage: interop_fwknop_to_spa [--seed N] [--limit N] [--stride N] [--edges]
 *        [--fwknop PATH]
 * Exit: 0 all passed, 1 failures, 77 skipped (no fwknop).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "interop_proc.h"
#include "interop_util.h"
#include "spa_wire.h"

#define IO_SKIP 77
#define IO_RANDOM_MUTATIONS 8

/* The first "SPA Field Values" block of fwknop -v output. */
struct fw_dump {
	char rand[64];
	char user[96];
	char timestamp[32];
	char version[32];
	char msg_type[64];
	char message[300];
	char nat[300];
	char auth[300];
	char timeout[32];
	char digest_type[32];
	char hmac_type[32];
	char enc_mode[32];
	char encoded[1100];
	char digest[160];
	char hmac[160];
	char final[1600];
	unsigned found;
};

static const struct {
	const char *label;
	size_t off;
	size_t cap;
} fw_fields[] = {
#define FW_F(l, m) { l, offsetof(struct fw_dump, m), sizeof(((struct fw_dump *)0)->m) }
	FW_F("Random Value", rand),       FW_F("Username", user),
	FW_F("Timestamp", timestamp),     FW_F("FKO Version", version),
	FW_F("Message Type", msg_type),   FW_F("Message String", message),
	FW_F("Nat Access", nat),          FW_F("Server Auth", auth),
	FW_F("Client Timeout", timeout),  FW_F("Digest Type", digest_type),
	FW_F("HMAC Type", hmac_type),     FW_F("Encryption Mode", enc_mode),
	FW_F("Encoded Data", encoded),    FW_F("SPA Data Digest", digest),
	FW_F("HMAC", hmac),               FW_F("Final SPA Data", final),
#undef FW_F
};
#define FW_N_FIELDS (sizeof(fw_fields) / sizeof(fw_fields[0]))

/* Parses "<pad>Label: value" lines of the first block; 0 when complete. */
static int fw_parse(const char *out, struct fw_dump *d)
{
	const char *p = strstr(out, "SPA Field Values:");

	memset(d, 0, sizeof(*d));
	if (!p)
		return -1;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t linelen = eol ? (size_t)(eol - p) : strlen(p);
		const char *s = p;

		while (s < p + linelen && *s == ' ')
			s++;
		for (size_t i = 0; i < FW_N_FIELDS; i++) {
			size_t ll = strlen(fw_fields[i].label);
			const char *v = s + ll + 2;

			if ((size_t)(p + linelen - s) < ll + 2 ||
			    strncmp(s, fw_fields[i].label, ll) != 0 ||
			    s[ll] != ':' || s[ll + 1] != ' ')
				continue;
			if ((size_t)(p + linelen - v) >= fw_fields[i].cap)
				return -1;
			memcpy((char *)d + fw_fields[i].off, v,
			       (size_t)(p + linelen - v));
			d->found |= 1u << i;
			break;
		}
		if (strncmp(s, "Final SPA Data:", 15) == 0)
			break;
		if (!eol)
			break;
		p = eol + 1;
	}
	return d->found == (1u << FW_N_FIELDS) - 1 ? 0 : -1;
}

static const char *fw_null(const char *v)
{
	return strcmp(v, "<NULL>") == 0 ? "" : v;
}

struct run_ctx {
	const char *fwknop;
	char tmpdir[256];
	char rc_path[300];
	char pkt_path[300];
	char home_env[300];
	struct io_tally t;
	unsigned produced, refused_expected, refused_other, opened;
	unsigned too_long_written, too_long_client;
	unsigned long mutations, equivalents, equivalents_refused;
	uint64_t seed;
};

/* argv for one case; strings live in bufs. */
static int build_argv(struct run_ctx *rc, const struct io_case *c,
		      char *argv[48], char bufs[3][400])
{
	int n = 0;

	argv[n++] = (char *)rc->fwknop;
	argv[n++] = "-T";
	argv[n++] = "-v";
	argv[n++] = "-B";
	argv[n++] = rc->pkt_path;
	argv[n++] = "--no-save-args";
	argv[n++] = "--rc-file";
	argv[n++] = rc->rc_path;
	argv[n++] = "-D";
	argv[n++] = "127.0.0.1";
	if (c->source_ip) {
		argv[n++] = "-s";
	} else {
		argv[n++] = "-a";
		argv[n++] = (char *)c->allow_ip;
	}
	argv[n++] = "-M";
	argv[n++] = (char *)c->mode_arg;
	argv[n++] = "-m";
	argv[n++] = (char *)spa_digest_name(c->digest);
	if (c->key_b64) {
		io_b64_encode(c->key, c->key_len, bufs[0]);
		argv[n++] = "--key-base64-rijndael";
	} else {
		snprintf(bufs[0], 400, "%.*s", (int)c->key_len, (const char *)c->key);
		argv[n++] = "--key-rijndael";
	}
	argv[n++] = bufs[0];
	if (c->hmac) {
		if (c->hmac_key_b64) {
			io_b64_encode(c->hmac_key, c->hmac_key_len, bufs[1]);
			argv[n++] = "--key-base64-hmac";
		} else {
			snprintf(bufs[1], 400, "%.*s", (int)c->hmac_key_len,
				 (const char *)c->hmac_key);
			argv[n++] = "--key-hmac";
		}
		argv[n++] = bufs[1];
		argv[n++] = "--hmac-digest-type";
		argv[n++] = (char *)spa_digest_name(c->hmac);
	}
	if (!c->user_via_env) {
		argv[n++] = "-U";
		argv[n++] = (char *)c->user;
	}
	if (c->type == SPA_MSG_COMMAND) {
		argv[n++] = "-C";
		argv[n++] = (char *)c->command;
	} else {
		argv[n++] = "-A";
		argv[n++] = (char *)c->access;
	}
	if (c->nat_local)
		argv[n++] = "--nat-local";
	if (c->nat_arg[0]) {
		argv[n++] = "-N";
		argv[n++] = (char *)c->nat_arg;
	}
	if (c->timeout) {
		snprintf(bufs[2], 400, "%u", (unsigned)c->timeout);
		argv[n++] = "-f";
		argv[n++] = bufs[2];
	}
	argv[n] = NULL;
	return n;
}

static void keys_for(const struct io_case *c, const uint8_t *key,
		     struct spa_key_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->enc_key = key;
	s->enc_key_len = c->key_len;
	s->enc_mode = c->mode;
	if (c->hmac) {
		s->hmac_key = c->hmac_key;
		s->hmac_key_len = c->hmac_key_len;
		s->hmac_type = c->hmac;
	}
}

/* fwknop's own dump must match what we asked for, else the harness (or
 * fwknop) is off and the comparison below would prove nothing. */
static void check_dump_vs_case(struct run_ctx *rc, const struct io_case *c,
			       const struct fw_dump *d, const char *desc)
{
	struct io_tally *t = &rc->t;

	io_check(t, atoi(d->msg_type) == c->type,
		 "%s: fwknop made message type '%s', wanted %d", desc, d->msg_type,
		 c->type);
	io_check(t, strcmp(d->message, c->exp_message) == 0,
		 "%s: fwknop message '%s', wanted '%s'", desc, d->message,
		 c->exp_message);
	io_check(t, strcmp(fw_null(d->nat), c->exp_nat) == 0,
		 "%s: fwknop NAT '%s', wanted '%s'", desc, d->nat, c->exp_nat);
	io_check(t, strcmp(d->user, c->user) == 0,
		 "%s: fwknop username '%s', wanted '%s'", desc, d->user, c->user);
	io_check(t, strtoul(d->timeout, NULL, 10) == c->timeout,
		 "%s: fwknop timeout '%s', wanted %u", desc, d->timeout,
		 (unsigned)c->timeout);
	io_check(t, atoi(d->digest_type) == c->digest && atoi(d->hmac_type) == c->hmac &&
			 atoi(d->enc_mode) == c->mode,
		 "%s: fwknop digest/hmac/mode '%s'/'%s'/'%s'", desc, d->digest_type,
		 d->hmac_type, d->enc_mode);
}

static void check_fields(struct run_ctx *rc, const struct fw_dump *d,
			 const struct spa_message *m, const char *desc)
{
	struct io_tally *t = &rc->t;
	char ts[32], to[32];

	snprintf(ts, sizeof(ts), "%llu", (unsigned long long)m->timestamp);
	snprintf(to, sizeof(to), "%u", (unsigned)m->client_timeout);
	io_check(t, strcmp(m->rand_val, d->rand) == 0,
		 "%s: rand: fwknop '%s' got '%s'", desc, d->rand, m->rand_val);
	io_check(t, strcmp(m->username, d->user) == 0,
		 "%s: username: fwknop '%s' got '%s'", desc, d->user, m->username);
	io_check(t, strcmp(ts, d->timestamp) == 0,
		 "%s: timestamp: fwknop '%s' got '%s'", desc, d->timestamp, ts);
	io_check(t, strcmp(m->version, d->version) == 0,
		 "%s: version: fwknop '%s' got '%s'", desc, d->version, m->version);
	io_check(t, m->type == atoi(d->msg_type),
		 "%s: type: fwknop '%s' got %d", desc, d->msg_type, m->type);
	io_check(t, strcmp(m->message, d->message) == 0,
		 "%s: message: fwknop '%s' got '%s'", desc, d->message, m->message);
	io_check(t, strcmp(m->nat_access, fw_null(d->nat)) == 0,
		 "%s: nat: fwknop '%s' got '%s'", desc, d->nat, m->nat_access);
	io_check(t, strcmp(m->server_auth, fw_null(d->auth)) == 0,
		 "%s: server auth: fwknop '%s' got '%s'", desc, d->auth,
		 m->server_auth);
	io_check(t, strcmp(to, d->timeout) == 0,
		 "%s: client timeout: fwknop '%s' got '%s'", desc, d->timeout, to);
	io_check(t, m->digest_type == atoi(d->digest_type),
		 "%s: digest type: fwknop '%s' got %d", desc, d->digest_type,
		 m->digest_type);
}

/* Our encoder fed with the decoded fields must reproduce fwknop's E:D. */
static void check_reencode(struct run_ctx *rc, const struct fw_dump *d,
			   const struct spa_message *m, const char *desc)
{
	struct spa_message copy = *m;
	char out[1200], want[1300];
	size_t len = 0;
	int err;

	snprintf(want, sizeof(want), "%s:%s", d->encoded, d->digest);
	err = spa_message_encode(&copy, out, sizeof(out), &len);
	if (!io_check(&rc->t, err == 0, "%s: spa_message_encode of decoded fields: %s",
		      desc, spa_strerror(err)))
		return;
	io_check(&rc->t, len == strlen(out) && strcmp(out, want) == 0,
		 "%s: re-encoded plaintext differs:\n  fwknop '%s'\n  ours   '%s'", desc,
		 want, out);
}

static void check_mutations(struct run_ctx *rc, const struct io_case *c,
			    const char *wire, size_t len,
			    const struct spa_keys *k, const char *desc)
{
	bool sweep = (c->type == SPA_MSG_ACCESS && c->digest == SPA_DIGEST_SHA256 &&
		      (c->hmac == 0 || c->hmac == SPA_DIGEST_SHA256)) ||
		     (c->type == SPA_MSG_CLIENT_TIMEOUT_NAT_ACCESS &&
		      c->digest == SPA_DIGEST_SHA3_512 &&
		      (c->hmac == 0 || c->hmac == SPA_DIGEST_SHA3_512));
	size_t npos = sweep ? len * 2 : IO_RANDOM_MUTATIONS + 2;
	struct io_rng r;
	char mut[SPA_WIRE_CAP];
	struct spa_message m;

	io_rng_seed(&r, rc->seed ^ (0xa0761d6478bd642fULL * (c->index + 7)));
	for (size_t i = 0; i < npos; i++) {
		size_t pos;
		bool low;
		int err;

		if (sweep) {
			pos = i / 2;
			low = (i % 2) == 0;
		} else if (i == 0) {
			pos = 0;
			low = false;
		} else if (i == 1) {
			pos = len - 1;
			low = true;
		} else {
			pos = io_rng_below(&r, (uint32_t)len);
			low = io_rng_below(&r, 2) == 0;
		}
		memcpy(mut, wire, len + 1);
		mut[pos] = io_mutant_char(wire[pos], low, &r);
		if (!c->hmac && io_mutation_is_equivalent(wire, mut, len)) {
			/* Nobody can be required to notice; just record what we do. */
			rc->equivalents++;
			if (spa_packet_open(mut, len, k, &m) != 0)
				rc->equivalents_refused++;
			continue;
		}
		rc->mutations++;
		err = spa_packet_open(mut, len, k, &m);
		if (c->hmac)
			io_check(&rc->t, err == -SPA_E_HMAC,
				 "%s: mutated at %zu ('%c'->'%c'): want HMAC error, got %d (%s)",
				 desc, pos, wire[pos], mut[pos], err, spa_strerror(err));
		else
			io_check(&rc->t, err < 0,
				 "%s: mutated at %zu ('%c'->'%c') was accepted\n  orig %s\n  mut  %s",
				 desc, pos, wire[pos], mut[pos], wire, mut);
	}
}

static void check_wrong_key(struct run_ctx *rc, const struct io_case *c,
			    const char *wire, size_t len, const char *desc)
{
	uint8_t bad[32];
	struct spa_key_spec s;
	struct spa_keys *k = NULL;
	struct spa_message m;
	int err;

	memcpy(bad, c->key, c->key_len);
	bad[0] ^= 0x01;
	keys_for(c, bad, &s);
	/* A refused flipped key (say, now equal to the HMAC key) proves nothing. */
	if (spa_keys_new(&s, &k) != 0)
		goto out;
	err = spa_packet_open(wire, len, k, &m);
	io_check(&rc->t, err < 0 && err != -SPA_E_HMAC,
		 "%s: opening with a wrong encryption key (right HMAC key) gave %d (%s)",
		 desc, err, spa_strerror(err));
out:
	spa_keys_free(k);
	spa_wipe(bad, sizeof(bad));
}

static void run_case(struct run_ctx *rc, const struct io_case *c)
{
	char *argv[48], bufs[3][400], desc[1024], logname[64];
	char *envp[] = { rc->home_env, "PATH=/usr/bin:/bin", "LC_ALL=C", logname,
			 NULL };
	struct io_proc_result pr;
	struct fw_dump d;
	struct spa_key_spec s;
	struct spa_keys *k = NULL;
	struct spa_message m;
	char *pkt = NULL;
	size_t plen = 0;
	int err;

	io_case_describe(c, desc, sizeof(desc));
	snprintf(logname, sizeof(logname), "LOGNAME=%s",
		 c->user_via_env ? c->user : "nobody-should-see-this");
	build_argv(rc, c, argv, bufs);
	unlink(rc->pkt_path);
	if (!io_check(&rc->t, io_proc_run(argv, envp, rc->tmpdir, 10000, &pr) == 0,
		      "%s: could not run %s", desc, rc->fwknop))
		return;
	if (pr.exit_code != 0) {
		if (c->mode == SPA_MODE_CBC_LEGACY_IV && c->hmac) {
			rc->refused_expected++;
		} else if (strstr(pr.err, "ENCRYPT_TYPE_UNKNOWN") &&
			   (pkt = io_read_file(rc->pkt_path, &plen)) != NULL &&
			   plen > 1) {
			/* fwknop wrote the packet, then its own libfko could
			 * not read it back (too long for Rijndael): nobody
			 * speaking fwknop may accept it. */
			rc->too_long_written++;
			pkt[--plen] = '\0';
			keys_for(c, c->key, &s);
			if (spa_keys_new(&s, &k) == 0) {
				err = spa_packet_open(pkt, plen, k, &m);
				io_check(&rc->t, err < 0,
					 "%s: fwknop's libfko cannot read this %zu-char packet "
					 "but spa_packet_open accepted it", desc, plen);
			}
		} else if (strstr(pr.err, "Error 94")) {
			rc->too_long_client++;   /* refused before building */
		} else {
			rc->refused_other++;
			printf("NOTE: fwknop refused (exit %d) %s: %.200s\n", pr.exit_code,
			       desc, pr.err);
		}
		goto out;
	}
	if (c->mode == SPA_MODE_CBC_LEGACY_IV && c->hmac)
		printf("NOTE: fwknop produced legacy+HMAC: %s\n", desc);
	rc->produced++;
	pkt = io_read_file(rc->pkt_path, &plen);
	if (!io_check(&rc->t, pkt && plen > 1 && pkt[plen - 1] == '\n',
		      "%s: -B file missing or without trailing newline", desc))
		goto out;
	pkt[--plen] = '\0';
	if (!io_check(&rc->t, fw_parse(pr.out, &d) == 0,
		      "%s: cannot parse fwknop -v output:\n%.2000s", desc, pr.out))
		goto out;
	io_check(&rc->t, strcmp(d.final, pkt) == 0,
		 "%s: -B file differs from 'Final SPA Data'", desc);
	check_dump_vs_case(rc, c, &d, desc);
	if (c->hmac)
		io_check(&rc->t, plen > strlen(d.hmac) &&
				 strcmp(pkt + plen - strlen(d.hmac), d.hmac) == 0,
			 "%s: packet does not end with fwknop's HMAC '%s'", desc, d.hmac);
	err = spa_packet_prefilter(pkt, plen);
	io_check(&rc->t, err == 0, "%s: prefilter refused fwknop's packet: %s\n  %s",
		 desc, spa_strerror(err), pkt);

	keys_for(c, c->key, &s);
	err = spa_keys_new(&s, &k);
	if (!io_check(&rc->t, err == 0, "%s: spa_keys_new: %s", desc, spa_strerror(err)))
		goto out;
	memset(&m, 0, sizeof(m));
	err = spa_packet_open(pkt, plen, k, &m);
	if (!io_check(&rc->t, err == 0, "%s: spa_packet_open failed: %d (%s)\n  packet %s\n  E:D %s:%s",
		      desc, err, spa_strerror(err), pkt, d.encoded, d.digest))
		goto out;
	rc->opened++;
	check_fields(rc, &d, &m, desc);
	check_reencode(rc, &d, &m, desc);
	check_mutations(rc, c, pkt, plen, k, desc);
	check_wrong_key(rc, c, pkt, plen, desc);
out:
	spa_keys_free(k);
	free(pkt);
	io_proc_result_free(&pr);
}

/*
 * Command messages of growing length for a few configurations: whatever
 * fwknop builds and reads back we must open; what it writes but cannot read
 * back we must refuse (the boundary is the Rijndael/GnuPG size split).
 */
static void size_sweep(struct run_ctx *rc)
{
	static const struct {
		int mode, digest, hmac;
	} cfg[] = {
		{ SPA_MODE_CBC, SPA_DIGEST_SHA512, SPA_DIGEST_SHA512 },
		{ SPA_MODE_CTR, SPA_DIGEST_SHA3_512, 0 },
		{ SPA_MODE_CFB, SPA_DIGEST_MD5, SPA_DIGEST_MD5 },
		{ SPA_MODE_CBC_LEGACY_IV, SPA_DIGEST_SHA256, 0 },
	};
	unsigned before = rc->produced;

	for (size_t i = 0; i < sizeof(cfg) / sizeof(cfg[0]); i++) {
		unsigned opened0 = rc->opened, longest = 0;

		for (int len = 60; len <= 250; len += 3) {
			struct io_case c;

			if (io_matrix_find(cfg[i].mode, cfg[i].digest, cfg[i].hmac,
					   SPA_MSG_COMMAND, rc->seed, &c) != 0)
				continue;
			memcpy(c.command, "echo ", 5);
			memset(c.command + 5, 'y', (size_t)len);
			c.command[5 + len] = '\0';
			snprintf(c.exp_message, sizeof(c.exp_message), "%s,%.*s",
				 c.allow_ip, 280, c.command);
			opened0 = rc->opened;
			run_case(rc, &c);
			if (rc->opened > opened0)
				longest = (unsigned)strlen(c.exp_message);
		}
		printf("size sweep mode=%s digest=%s hmac=%s: longest command message "
		       "fwknop built and we opened: %u bytes\n",
		       spa_mode_name(cfg[i].mode), spa_digest_name(cfg[i].digest),
		       cfg[i].hmac ? spa_digest_name(cfg[i].hmac) : "none", longest);
	}
	printf("size sweep: %u packets from fwknop\n", rc->produced - before);
}

/*
 * Values the fwknop client accepts and sends although they look odd: the
 * receiver has to take them as fwknopd does. (The values we refuse on
 * purpose are covered, as refusals, by interop_libfko_fields.)
 */
static void edge_cases(struct run_ctx *rc)
{
	static const struct {
		int type;
		const char *allow_ip, *command, *nat_arg, *exp_nat, *user;
	} e[] = {
		{ SPA_MSG_ACCESS, "255.255.255.255", NULL, NULL, NULL, NULL },
		{ SPA_MSG_COMMAND, NULL, "echo\tx", NULL, NULL, NULL },
		{ SPA_MSG_COMMAND, NULL, "echo caf\xc3\xa9", NULL, NULL, NULL },
		{ SPA_MSG_COMMAND, NULL, "echo a:b;c|d&e $(x) `y`", NULL, NULL, NULL },
		{ SPA_MSG_COMMAND, NULL, " ", NULL, NULL, NULL },
		{ SPA_MSG_NAT_ACCESS, NULL, NULL, "a,1", "a,1", NULL },
		{ SPA_MSG_NAT_ACCESS, NULL, NULL, "198.51.100.7:65535", "198.51.100.7,65535", NULL },
		{ SPA_MSG_ACCESS, NULL, NULL, NULL, NULL, "abcdefghijklmnopqrstuvwxyz012" },
		{ SPA_MSG_ACCESS, NULL, NULL, NULL, NULL, "a b.c-d_e@f!g#h$i%j&k'l(m)n" },
	};
	unsigned before = rc->produced;

	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		for (int hmac = 0; hmac <= SPA_DIGEST_SHA256; hmac += SPA_DIGEST_SHA256) {
			struct io_case c;

			if (io_matrix_find(SPA_MODE_CBC, SPA_DIGEST_SHA256, hmac, e[i].type,
					   rc->seed, &c) != 0)
				continue;
			c.source_ip = false;
			if (e[i].allow_ip)
				snprintf(c.allow_ip, sizeof(c.allow_ip), "%s", e[i].allow_ip);
			if (e[i].command)
				snprintf(c.command, sizeof(c.command), "%s", e[i].command);
			if (e[i].nat_arg) {
				snprintf(c.nat_arg, sizeof(c.nat_arg), "%s", e[i].nat_arg);
				snprintf(c.exp_nat, sizeof(c.exp_nat), "%s", e[i].exp_nat);
			}
			if (e[i].user) {
				snprintf(c.user, sizeof(c.user), "%s", e[i].user);
				c.user_via_env = false;
			}
			snprintf(c.exp_message, sizeof(c.exp_message), "%s,%s", c.allow_ip,
				 c.type == SPA_MSG_COMMAND ? c.command : c.access);
			run_case(rc, &c);
		}
	}
	printf("edge cases: %u packets from fwknop\n", rc->produced - before);
}

int main(int argc, char **argv)
{
	struct run_ctx rc;
	unsigned limit = io_matrix_size(), stride = 1, n_run = 0;
	bool edges = false;
	FILE *f;
	int ret = 1;

	memset(&rc, 0, sizeof(rc));
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc.fwknop = getenv("SPA_FWKNOP") ? getenv("SPA_FWKNOP") : "/usr/bin/fwknop";
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--edges") == 0)
			edges = true;
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--limit") == 0)
			limit = (unsigned)strtoul(argv[i + 1], NULL, 10);
		if (strcmp(argv[i], "--stride") == 0)
			stride = (unsigned)strtoul(argv[i + 1], NULL, 10);
		if (strcmp(argv[i], "--fwknop") == 0)
			rc.fwknop = argv[i + 1];
	}
	if (stride == 0)
		stride = 1;
	if (access(rc.fwknop, X_OK) != 0) {
		printf("SKIP: fwknop not installed (%s)\n", rc.fwknop);
		return IO_SKIP;
	}
	rc.seed = io_pick_seed(argc, argv);
	if (io_tmpdir_create(rc.tmpdir, sizeof(rc.tmpdir)) != 0) {
		printf("FAIL: cannot create a temp dir: %s\n", strerror(errno));
		return 1;
	}
	snprintf(rc.rc_path, sizeof(rc.rc_path), "%s/fwknoprc", rc.tmpdir);
	snprintf(rc.pkt_path, sizeof(rc.pkt_path), "%s/spa.pkt", rc.tmpdir);
	snprintf(rc.home_env, sizeof(rc.home_env), "HOME=%s", rc.tmpdir);
	f = fopen(rc.rc_path, "w");
	if (!f) {
		printf("FAIL: cannot write %s\n", rc.rc_path);
		goto out;
	}
	fclose(f);
	chmod(rc.rc_path, 0600);

	printf("fwknop -> spa interop: seed %llu (rerun with --seed %llu)\n",
	       (unsigned long long)rc.seed, (unsigned long long)rc.seed);
	if (!edges)
		printf("matrix: %u modes (cbc ecb cfb ofb ctr legacy) x %u digests x "
		       "%u HMAC (none + 7) x %u message types = %u combinations%s\n",
		       IO_N_MODES, IO_N_DIGESTS, IO_N_HMACS, IO_N_TYPES,
		       io_matrix_size(), limit < io_matrix_size() || stride > 1 ?
		       " (sampled: --limit/--stride)" : "");
	for (unsigned i = 0; !edges && i < io_matrix_size() && n_run < limit;
	     i += stride, n_run++) {
		struct io_case c;

		io_matrix_case(i, rc.seed, &c);
		run_case(&rc, &c);
	}
	if (edges) {
		edge_cases(&rc);
		size_sweep(&rc);
	}
	printf("fwknop produced %u packets; refused %u (legacy+HMAC, expected) + %u other\n",
	       rc.produced, rc.refused_expected, rc.refused_other);
	printf("too long: %u written but unreadable by fwknop itself (must be refused "
	       "by us too), %u refused by the client up front\n",
	       rc.too_long_written, rc.too_long_client);
	printf("opened %u packets; %lu mutated copies tested, %lu equivalent "
	       "(undetectable, no-HMAC base64 slack / salt magic) skipped "
	       "(%lu of them refused by us anyway)\n",
	       rc.opened, rc.mutations, rc.equivalents, rc.equivalents_refused);
	/* A few refusals are fwknop's business; many mean a broken harness. */
	io_check(&rc.t, rc.refused_other * 20 <= rc.produced + rc.refused_other,
		 "fwknop refused %u combinations it should produce", rc.refused_other);
	io_check(&rc.t, rc.produced > 0, "fwknop produced nothing");
	printf("%lu passed, %lu failed\n", rc.t.passed, rc.t.failed);
	ret = rc.t.failed ? 1 : 0;
out:
	io_tmpdir_remove(rc.tmpdir);
	return ret;
}
