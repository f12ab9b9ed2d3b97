/* SPDX-License-Identifier: MIT */
/*
 * allowlist.c - an example command module for spad (SDK ABI 1.5): a
 * command message names an action, and only the actions of
 * ALLOWLIST_FILE run, each as the fixed argv written there. The client
 * chooses which action, never what runs. README.md says how to use it.
 *
 * Out of tree: it includes nothing but <spa/plugin.h> and libc.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spa/plugin.h>

#define MAX_ACTIONS 32
#define MAX_ARGS 16
#define NAME_MAX_LEN 32
#define LINE_MAX_LEN 512
#define RUN_TIMEOUT_MS 30000

struct action {
	char name[NAME_MAX_LEN];
	char line[LINE_MAX_LEN];           /* the argv's words, NUL-separated */
	const char *argv[MAX_ARGS + 1];
};

struct al_state {
	const struct spa_host_api *host;
	struct action actions[MAX_ACTIONS];
	size_t n;
};

static const struct spa_plugin_key al_keys[] = {
	{ "ALLOWLIST_FILE", SPA_KEY_PATH, SPA_KEY_REQUIRED, NULL, NULL,
	  "actions, one a line: NAME /absolute/program [argument...]" },
};

static int name_ok(const char *s)
{
	if (!*s || strlen(s) >= NAME_MAX_LEN)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(s);
}

/* One line "NAME /prog arg..." into a; 1 for a blank or comment line. */
static int parse_line(char *text, struct action *a, char *why, size_t cap)
{
	char *save = NULL, *w;
	size_t n = 0;

	text[strcspn(text, "\r\n")] = '\0';
	w = strtok_r(text, " \t", &save);
	if (!w || *w == '#')
		return 1;
	if (!name_ok(w)) {
		snprintf(why, cap, "action name '%.40s' is not [a-z0-9_-], 1..31 characters", w);
		return -EINVAL;
	}
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", w);
	/* the rest of the line is copied once; argv points into the copy */
	for (size_t used = 0; (w = strtok_r(NULL, " \t", &save)) != NULL;) {
		size_t len = strlen(w) + 1;
		if (n == MAX_ARGS || used + len > sizeof(a->line)) {
			snprintf(why, cap, "action %s: too long", a->name);
			return -E2BIG;
		}
		memcpy(a->line + used, w, len);
		a->argv[n++] = a->line + used;
		used += len;
	}
	if (n == 0 || a->argv[0][0] != '/') {
		snprintf(why, cap, "action %s: the program must be an absolute path", a->name);
		return -EINVAL;
	}
	a->argv[n] = NULL;
	return 0;
}

/* Reads ALLOWLIST_FILE into st; logs what is wrong (file:line). */
static int load(const struct spa_host_api *h, struct al_state *st)
{
	const char *path = h->config_get(h->self, "ALLOWLIST_FILE");
	char line[LINE_MAX_LEN], why[160];
	unsigned lineno = 0;
	int rc = 0;
	FILE *f;

	if (!path)
		return -EINVAL;
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		h->log(h->self, SPA_LOG_ERR, "ALLOWLIST_FILE %s: %s", path, strerror(-rc));
		return rc;
	}
	while (rc >= 0 && fgets(line, sizeof(line), f)) {
		struct action a;
		lineno++;
		rc = parse_line(line, &a, why, sizeof(why));
		if (rc == 1) {
			rc = 0;
			continue;
		}
		if (rc == 0 && st->n == MAX_ACTIONS) {
			snprintf(why, sizeof(why), "more than %d actions", MAX_ACTIONS);
			rc = -E2BIG;
		}
		for (size_t i = 0; rc == 0 && i < st->n; i++)
			if (strcmp(st->actions[i].name, a.name) == 0) {
				snprintf(why, sizeof(why), "action %s given twice", a.name);
				rc = -EINVAL;
			}
		if (rc < 0) {
			h->log(h->self, SPA_LOG_ERR, "%s:%u: %s", path, lineno, why);
			break;
		}
		/* argv pointed into a's copy of the line: rebase onto the slot */
		st->actions[st->n] = a;
		for (size_t k = 0; a.argv[k]; k++)
			st->actions[st->n].argv[k] =
				st->actions[st->n].line + (a.argv[k] - a.line);
		st->n++;
	}
	fclose(f);
	return rc;
}

static int al_init(const struct spa_host_api *host, void **state)
{
	struct al_state *st;
	int rc;

	if (!SPA_HOST_HAS(host, run_as)) {
		host->log(host->self, SPA_LOG_ERR, "engine lacks run_as (ABI 1.5 needed)");
		return -ENOTSUP;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->host = host;
	rc = load(host, st);
	if (rc < 0) {
		free(st);
		return rc;
	}
	host->log(host->self, SPA_LOG_INFO, "%zu action%s", st->n, st->n == 1 ? "" : "s");
	*state = st;
	return 0;
}

/* --exit-parse-config and every start: the file must parse. */
static int al_check(const struct spa_host_api *host, const struct spa_grant *probe)
{
	struct al_state *st;
	int rc;

	if (probe)
		return 0;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->host = host;
	rc = load(host, st);
	free(st);
	return rc;
}

static int al_command(void *state, const struct spa_command *cmd)
{
	struct al_state *st = state;
	const struct spa_host_api *h = st->host;
	struct spa_run_result res;
	const struct action *a = NULL;
	int rc;

	for (size_t i = 0; i < st->n && !a; i++)
		if (strcmp(st->actions[i].name, cmd->text) == 0)
			a = &st->actions[i];
	if (!a) {
		/* the text is the client's: quote only what is safe to print */
		h->log(h->self, SPA_LOG_WARNING, "command %llu (%s, user %s): no action named "
		       "'%.40s'; refused", (unsigned long long)cmd->id, cmd->stanza, cmd->username,
		       name_ok(cmd->text) ? cmd->text : "(not an action name)");
		return -EPERM;
	}
	rc = h->run_as(h->self, a->argv, cmd->uid, cmd->gid,
		       cmd->timeout_ms ? (int)cmd->timeout_ms : RUN_TIMEOUT_MS, &res);
	if (rc < 0) {
		h->log(h->self, SPA_LOG_ERR, "action %s: %s could not start: %s", a->name,
		       a->argv[0], strerror(-rc));
		return rc;
	}
	h->log(h->self, res.exit_status == 0 ? SPA_LOG_NOTICE : SPA_LOG_WARNING,
	       "command %llu (%s, user %s): action %s %s %d", (unsigned long long)cmd->id,
	       cmd->stanza, cmd->username, a->name,
	       res.timed_out ? "timed out after (ms)" : "exited with status",
	       res.timed_out ? (int)cmd->timeout_ms : res.exit_status);
	return 0;
}

/* A command module opens no access. */
static int al_grant_op(void *state, const struct spa_grant *g)
{
	(void)state;
	(void)g;
	return SPA_ERR_PERMANENT;
}

static int al_flush(void *state)
{
	(void)state;
	return 0;
}

static void al_fini(void *state)
{
	free(state);
}

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.name = "allowlist",
	.version = "1.0",
	.capabilities = SPA_PLUGIN_CAP_COMMAND,
	.key_prefix = "ALLOWLIST_",
	.ops = {
		.init = al_init,
		.open = al_grant_op,
		.close = al_grant_op,
		.flush = al_flush,
		.fini = al_fini,
		.check = al_check,
	},
	.keys = al_keys,
	.n_keys = sizeof(al_keys) / sizeof(al_keys[0]),
	.command = al_command,
};
