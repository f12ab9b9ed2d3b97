/* SPDX-License-Identifier: MIT */
/*
 * cloudsg: an example spad plugin in the spirit of a cloud security group.
 * Instead of calling a provider's API it keeps the group's ingress rules in
 * a text file, one rule per line:
 *
 *   <group> ingress <proto> <port> <cidr> expires=<epoch> id=<grant-id>
 *
 * so the whole plugin can be read, built and tested without an account.
 * Replace load_rules/save_rules with API calls to make it real; the shape
 * of open/close/list/flush stays the same.
 *
 * It is built out of tree and uses nothing but <spa/plugin.h>.
 */
#include <spa/plugin.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLOUDSG_MAX_RULES 4096
#define CLOUDSG_GROUP_LEN 64
#define CLOUDSG_LINE_LEN  256

struct cloudsg_rule {
	char group[CLOUDSG_GROUP_LEN];
	char addr[SPA_GRANT_ADDR_LEN];
	int family;
	uint8_t proto;
	uint16_t port;
	int64_t expires;
	uint64_t id;
};

struct cloudsg {
	const struct spa_host_api *host;
	char path[4096];
	char group[CLOUDSG_GROUP_LEN];
	struct cloudsg_rule *rules;
	size_t n;
};

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

/* A group name ends up in a file others parse: keep it to a safe set. */
static int valid_group(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CLOUDSG_GROUP_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

static int parse_line(const char *line, struct cloudsg_rule *r)
{
	char proto[8], cidr[SPA_GRANT_ADDR_LEN + 4], dir[16], *slash;
	unsigned port;
	long long expires;
	unsigned long long id;
	unsigned char bin[sizeof(struct in6_addr)];

	memset(r, 0, sizeof(*r));
	if (sscanf(line, "%63s %15s %7s %u %49s expires=%lld id=%llu", r->group, dir, proto,
		   &port, cidr, &expires, &id) != 7)
		return -EINVAL;
	if (strcmp(dir, "ingress") != 0 || port == 0 || port > 65535)
		return -EINVAL;
	if (strcmp(proto, "tcp") == 0)
		r->proto = IPPROTO_TCP;
	else if (strcmp(proto, "udp") == 0)
		r->proto = IPPROTO_UDP;
	else
		return -EINVAL;
	slash = strchr(cidr, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if (inet_pton(AF_INET, cidr, bin) == 1)
		r->family = AF_INET;
	else if (inet_pton(AF_INET6, cidr, bin) == 1)
		r->family = AF_INET6;
	else
		return -EINVAL;
	if (strlen(cidr) >= sizeof(r->addr))
		return -EINVAL;
	memcpy(r->addr, cidr, strlen(cidr) + 1);
	r->port = (uint16_t)port;
	r->expires = expires;
	r->id = id;
	return 0;
}

/* Every op starts from the file, not from memory: `spad --fw-list` runs in
 * another process and must see what the daemon wrote. */
static int load_rules(struct cloudsg *sg)
{
	char line[CLOUDSG_LINE_LEN];
	FILE *f;
	int rc = 0;

	sg->n = 0;
	f = fopen(sg->path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		struct cloudsg_rule r;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (parse_line(line, &r) < 0) {
			sg->host->log(sg->host->self, SPA_LOG_WARNING,
				      "%s: skipping a malformed line", sg->path);
			continue;
		}
		if (sg->n == CLOUDSG_MAX_RULES) {
			rc = -E2BIG;
			goto out;
		}
		sg->rules[sg->n++] = r;
	}
out:
	fclose(f);
	return rc;
}

/* Written to a temporary file and renamed, so a reader never sees half a
 * group and a crash never loses the previous state. */
static int save_rules(struct cloudsg *sg)
{
	char tmp[sizeof(sg->path) + 8];
	FILE *f = NULL;
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", sg->path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		goto out;
	}
	fprintf(f, "# security group rules managed by spad (cloudsg plugin)\n");
	for (size_t i = 0; i < sg->n; i++) {
		const struct cloudsg_rule *r = &sg->rules[i];
		fprintf(f, "%s ingress %s %u %s/%d expires=%lld id=%llu\n", r->group,
			proto_name(r->proto), r->port, r->addr, r->family == AF_INET6 ? 128 : 32,
			(long long)r->expires, (unsigned long long)r->id);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, sg->path) != 0)
		rc = -errno;
out:
	if (rc < 0)
		unlink(tmp);
	return rc;
}

static int same_rule(const struct cloudsg_rule *r, const struct cloudsg *sg,
		     const struct spa_grant *g)
{
	return strcmp(r->group, sg->group) == 0 && r->proto == g->proto && r->port == g->port &&
	       strcmp(r->addr, g->src.text) == 0;
}

/* The one parser of init and check: reads and validates the keys,
 * without touching the state file. */
static int load_config(const struct spa_host_api *host, const char **path, const char **group)
{
	*path = host->config_get(host->self, "CLOUDSG_STATE_FILE");
	*group = host->config_get(host->self, "CLOUDSG_GROUP");
	if (!*group)
		*group = "sg-spa";
	if (!*path || (*path)[0] != '/') {
		host->log(host->self, SPA_LOG_ERR, "CLOUDSG_STATE_FILE must be an absolute path, got '%s'",
			  *path ? *path : "(unset)");
		return -EINVAL;
	}
	if (strlen(*path) >= sizeof(((struct cloudsg *)0)->path)) {
		host->log(host->self, SPA_LOG_ERR, "CLOUDSG_STATE_FILE is too long: '%s'", *path);
		return -ENAMETOOLONG;
	}
	if (!valid_group(*group)) {
		host->log(host->self, SPA_LOG_ERR,
			  "CLOUDSG_GROUP: letters, digits, '-', '_' only, got '%s'", *group);
		return -EINVAL;
	}
	return 0;
}

/* ABI 1.2: spad --exit-parse-config and every start call this before
 * init. Stateless, and the backend (here the file) is not touched. This
 * plugin has no per-stanza keys, so a stanza probe has nothing to check. */
static int cloudsg_check(const struct spa_host_api *host, const struct spa_grant *probe)
{
	const char *path, *group;

	if (!host || host->struct_size < sizeof(*host))
		return -EINVAL;
	if (probe)
		return 0;
	return load_config(host, &path, &group);
}

static int cloudsg_init(const struct spa_host_api *host, void **state)
{
	struct cloudsg *sg;
	const char *path, *group;
	int rc;

	/* Fields appended by a newer engine are fine; missing ones are not. */
	if (!host || host->struct_size < sizeof(*host))
		return -EINVAL;
	rc = load_config(host, &path, &group);
	if (rc < 0)
		return rc;
	sg = calloc(1, sizeof(*sg));
	if (!sg)
		return -ENOMEM;
	sg->rules = calloc(CLOUDSG_MAX_RULES, sizeof(*sg->rules));
	if (!sg->rules) {
		free(sg);
		return -ENOMEM;
	}
	sg->host = host;
	snprintf(sg->path, sizeof(sg->path), "%s", path);
	snprintf(sg->group, sizeof(sg->group), "%s", group);
	host->log(host->self, SPA_LOG_INFO, "group %s, state in %s", sg->group, sg->path);
	*state = sg;
	return 0;
}

/* Upsert: opening what is already there only moves its expiry, which is
 * also exactly what a refresh is. */
static int cloudsg_open(void *state, const struct spa_grant *g)
{
	struct cloudsg *sg = state;
	struct cloudsg_rule *r = NULL;
	int rc;

	if (g->family != AF_INET && g->family != AF_INET6)
		return -EAFNOSUPPORT;
	rc = load_rules(sg);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < sg->n && !r; i++)
		if (same_rule(&sg->rules[i], sg, g))
			r = &sg->rules[i];
	if (!r) {
		if (sg->n == CLOUDSG_MAX_RULES)
			return -ENOSPC;
		r = &sg->rules[sg->n++];
		memset(r, 0, sizeof(*r));
		snprintf(r->group, sizeof(r->group), "%s", sg->group);
		snprintf(r->addr, sizeof(r->addr), "%s", g->src.text);
		r->family = g->family;
		r->proto = g->proto;
		r->port = g->port;
	}
	r->expires = g->expires;
	r->id = g->id;
	rc = save_rules(sg);
	if (rc == 0)
		sg->host->log(sg->host->self, SPA_LOG_INFO, "%s: allow %s %s/%u", sg->group,
			      g->src.text, proto_name(g->proto), g->port);
	return rc;
}

static int cloudsg_close(void *state, const struct spa_grant *g)
{
	struct cloudsg *sg = state;
	size_t kept = 0;
	int rc;

	rc = load_rules(sg);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < sg->n; i++)
		if (!same_rule(&sg->rules[i], sg, g))
			sg->rules[kept++] = sg->rules[i];
	/* Closing what is already gone is success: the engine may retry. */
	if (kept == sg->n)
		return 0;
	sg->n = kept;
	return save_rules(sg);
}

static int cloudsg_list(void *state, spa_plugin_list_cb cb, void *ctx)
{
	struct cloudsg *sg = state;
	int rc = load_rules(sg);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < sg->n; i++) {
		const struct cloudsg_rule *r = &sg->rules[i];
		struct spa_grant g;

		if (strcmp(r->group, sg->group) != 0)
			continue;
		memset(&g, 0, sizeof(g));
		g.struct_size = sizeof(g);
		g.id = r->id;
		g.family = r->family;
		g.src.family = r->family;
		snprintf(g.src.text, sizeof(g.src.text), "%s", r->addr);
		inet_pton(r->family, r->addr, &g.src.bin);
		g.proto = r->proto;
		g.port = r->port;
		g.expires = r->expires;
		cb(ctx, &g);
	}
	return 0;
}

/* Only our group's rules go: the file may hold other groups' rules. */
static int cloudsg_flush(void *state)
{
	struct cloudsg *sg = state;
	size_t kept = 0;
	int rc = load_rules(sg);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < sg->n; i++)
		if (strcmp(sg->rules[i].group, sg->group) != 0)
			sg->rules[kept++] = sg->rules[i];
	sg->n = kept;
	return save_rules(sg);
}

static void cloudsg_fini(void *state)
{
	struct cloudsg *sg = state;

	if (!sg)
		return;
	free(sg->rules);
	free(sg);
}

__attribute__((visibility("default")))
const struct spa_plugin_descriptor spa_plugin_descriptor = {
	SPA_PLUGIN_DESCRIPTOR_INIT,
	.name = "cloudsg",
	.version = "1.0",
	.capabilities = SPA_PLUGIN_CAP_IPV6,
	.key_prefix = "CLOUDSG_",
	.ops = {
		.init = cloudsg_init,
		.open = cloudsg_open,
		.close = cloudsg_close,
		.refresh = cloudsg_open,
		.list = cloudsg_list,
		.flush = cloudsg_flush,
		.fini = cloudsg_fini,
		.check = cloudsg_check,
	},
};
