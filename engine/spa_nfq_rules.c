/* SPDX-License-Identifier: MIT */
/*
 * spa_nfq_rules.c - the rule that sends the SPA port to spad's queue.
 * fwknopd installs it itself (a chain in NFQ_TABLE, jumped to from the top
 * of INPUT); so does spad, with two differences: the chain and its jump
 * go in as one iptables-restore batch (no moment with a jump to a chain
 * not filled yet), and a leftover of a run that was killed is replaced
 * rather than doubled. IPv6 gets the same rule through ip6tables. The
 * commands go through the one runner (spa_run.h): argv only, no shell.
 */
#include "spa_nfq.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "spa_log.h"
#include "spa_run.h"

#define RULE_TIMEOUT_MS 10000
/* more jumps than this to our chain are not ours to chase */
#define MAX_LEFTOVER_JUMPS 16

struct family {
	const char *name;      /* for the log */
	const char *tables;    /* iptables / ip6tables */
	const char *restore;   /* iptables-restore / ip6tables-restore */
	bool required;
};

static const struct family families[] = {
	{ "IPv4", "iptables", "iptables-restore", true },
	{ "IPv6", "ip6tables", "ip6tables-restore", false },
};

static int find_exe(const char *name, char *out, size_t cap)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		int n = snprintf(out, cap, "%s/%s", dirs[i], name);
		if (n > 0 && (size_t)n < cap && access(out, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* 0 when the command ran and exited 0; otherwise a negative code with its
 * stderr's first line in why. */
static int run(const char *const argv[], const char *input, char *why, size_t cap)
{
	struct spa_run_buf buf = { 0 };
	int status = -1, timed_out = 0, rc;

	rc = input ? spa_run_input(argv, input, strlen(input), RULE_TIMEOUT_MS, &buf, &status,
				   &timed_out)
		   : spa_run(argv, RULE_TIMEOUT_MS, &buf, &status, &timed_out);
	if (rc == 0 && status != 0) {
		rc = -EIO;
		snprintf(why, cap, "%s: %.*s", timed_out ? "timed out" : "failed",
			 (int)strcspn(buf.err, "\n"), buf.err);
	} else if (rc < 0) {
		snprintf(why, cap, "%s", strerror(-rc));
	}
	spa_run_buf_free(&buf);
	return rc;
}

int spa_nfq_rules_text(const struct spa_nfq_conf *n, char *out, size_t cap)
{
	char intf[32] = "";
	int len;

	if (n->intf[0])
		snprintf(intf, sizeof(intf), "-i %s ", n->intf);
	/* Declaring the chain creates it or, with --noflush, empties it. */
	len = snprintf(out, cap,
		       "*%s\n"
		       ":%s - [0:0]\n"
		       "-A %s %s-p udp -m udp --dport %u -j NFQUEUE --queue-num %u\n"
		       "-I INPUT 1 -j %s\n"
		       "COMMIT\n",
		       n->table, n->chain, n->chain, intf, n->port, n->queue, n->chain);
	return len < 0 || (size_t)len >= cap ? -ENOSPC : len;
}

/* Takes every jump from INPUT to our chain out (there is one unless a
 * run was killed before it could remove its own). */
static void remove_jumps(const char *exe, const struct spa_nfq_conf *n)
{
	const char *argv[] = { exe, "-w", "-t", n->table, "-D", "INPUT", "-j", n->chain, NULL };
	char why[256];

	for (int i = 0; i < MAX_LEFTOVER_JUMPS; i++)
		if (run(argv, NULL, why, sizeof(why)) < 0)
			break;
}

static int add_family(const struct family *f, const struct spa_nfq_conf *n)
{
	char exe[64], restore[64], text[512], why[256] = "";
	const char *argv[] = { restore, "-w", "--noflush", NULL };
	int rc;

	if (find_exe(f->tables, exe, sizeof(exe)) < 0 ||
	    find_exe(f->restore, restore, sizeof(restore)) < 0) {
		snprintf(why, sizeof(why), "%s or %s not found", f->tables, f->restore);
		rc = -ENOENT;
		goto out;
	}
	rc = spa_nfq_rules_text(n, text, sizeof(text));
	if (rc < 0)
		goto out;
	remove_jumps(exe, n);
	rc = run(argv, text, why, sizeof(why));
out:
	if (rc < 0)
		spa_log(f->required ? SPA_L_ERR : SPA_L_WARNING,
			"NFQUEUE rule (%s, table %s, chain %s): %s%s", f->name, n->table, n->chain,
			why, f->required ? "" : "; IPv6 knocks are not queued");
	return rc;
}

int spa_nfq_rules_add(const struct spa_nfq_conf *n)
{
	int rc = add_family(&families[0], n);

	if (rc < 0)
		return rc;
	(void)add_family(&families[1], n);
	return 0;
}

void spa_nfq_rules_remove(const struct spa_nfq_conf *n)
{
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		const struct family *f = &families[i];
		char exe[64], why[256] = "";
		const char *flush[] = { exe, "-w", "-t", n->table, "-F", n->chain, NULL };
		const char *del[] = { exe, "-w", "-t", n->table, "-X", n->chain, NULL };

		if (find_exe(f->tables, exe, sizeof(exe)) < 0)
			continue;
		remove_jumps(exe, n);
		if (run(flush, NULL, why, sizeof(why)) < 0 || run(del, NULL, why, sizeof(why)) < 0) {
			/* an IPv6 chain that was never made is no news */
			if (f->required)
				spa_log(SPA_L_WARNING, "NFQUEUE chain %s (%s, table %s): %s",
					n->chain, f->name, n->table, why);
		}
	}
}
