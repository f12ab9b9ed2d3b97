/* SPDX-License-Identifier: MIT */
/*
 * The D-Bus transport (FIREWD_TRANSPORT dbus, and auto's choice when the
 * bus answers): firewalld's documented runtime API, interface
 * org.fedoraproject.FirewallD1.zone (addRichRule, removeRichRule,
 * getRichRules), over one sd-bus connection to the system bus opened at
 * init. A call costs a round trip to firewalld instead of starting
 * firewall-cmd, a Python program, every time.
 *
 * The bus is sd_bus_open_system's: DBUS_SYSTEM_BUS_ADDRESS when set, else
 * the standard socket. Every call carries the runner's deadline
 * (SPA_PU_RUN_TIMEOUT_MS), so a hung firewalld fails the op instead of
 * blocking spad, and NO_AUTO_START, so a stopped firewalld is reported as
 * such rather than started behind the administrator's back.
 */
#include "spa_fwd.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define FWD_BUS_NAME "org.fedoraproject.FirewallD1"
#define FWD_BUS_PATH "/org/fedoraproject/FirewallD1"
#define FWD_BUS_ZONE FWD_BUS_NAME ".zone"
#define FWD_CALL_USEC ((uint64_t)SPA_PU_RUN_TIMEOUT_MS * 1000u)

/* One method call's arguments: "s", "ss" or "ssi". */
struct fwd_call {
	const char *iface;
	const char *member;
	const char *s1;
	const char *s2;
	int has_i;
	int32_t i;
};

static void bus_drop(struct spa_fwd_state *st)
{
	st->bus = sd_bus_flush_close_unref(st->bus);
}

static int bus_connect(struct spa_fwd_state *st)
{
	sd_bus *bus = NULL;
	int rc;

	rc = sd_bus_open_system(&bus);
	if (rc < 0)
		goto out;
	/* the Hello and authentication are bounded too, not only our calls */
	rc = sd_bus_set_method_call_timeout(bus, FWD_CALL_USEC);
	if (rc < 0)
		goto out;
	st->bus = bus;
	bus = NULL;
out:
	sd_bus_flush_close_unref(bus);
	return rc;
}

static int call_once(struct spa_fwd_state *st, const struct fwd_call *c,
		     sd_bus_error *err, sd_bus_message **reply)
{
	sd_bus_message *m = NULL;
	int rc;

	rc = sd_bus_message_new_method_call(st->bus, &m, FWD_BUS_NAME, FWD_BUS_PATH,
					    c->iface, c->member);
	if (rc < 0)
		goto out;
	rc = sd_bus_message_set_auto_start(m, 0);
	if (rc >= 0)
		rc = c->s2 ? (c->has_i ? sd_bus_message_append(m, "ssi", c->s1, c->s2, c->i)
				       : sd_bus_message_append(m, "ss", c->s1, c->s2))
			   : sd_bus_message_append(m, "s", c->s1);
	if (rc >= 0)
		rc = sd_bus_call(st->bus, m, FWD_CALL_USEC, err, reply);
out:
	sd_bus_message_unref(m);
	return rc;
}

/*
 * A connection the bus dropped (dbus-daemon restarted) is opened again
 * and the call sent once more: it never reached firewalld. A reply error
 * or a timeout is final, since the call may have happened.
 */
static int call(struct spa_fwd_state *st, const struct fwd_call *c, sd_bus_error *err,
		sd_bus_message **reply)
{
	int rc = -ENOTCONN;

	if (st->bus && sd_bus_is_open(st->bus) > 0) {
		rc = call_once(st, c, err, reply);
		if (rc >= 0 || sd_bus_error_is_set(err) || rc == -ETIMEDOUT)
			return rc;
		sd_bus_error_free(err);
	}
	bus_drop(st);
	rc = bus_connect(st);
	if (rc < 0)
		return rc;
	return call_once(st, c, err, reply);
}

/* firewalld's exceptions read "CODE: detail" in the error's message. */
static int fwd_error_is(const sd_bus_error *err, const char *code)
{
	size_t n = strlen(code);

	return err->message && strncmp(err->message, code, n) == 0 &&
	       (err->message[n] == ':' || err->message[n] == '\0');
}

static int report(struct spa_fwd_state *st, const char *member, int rc,
		  const sd_bus_error *err, int quiet)
{
	if (!quiet)
		st->host->log(st->host->self, SPA_LOG_ERR, "firewalld %s: %s", member,
			      sd_bus_error_is_set(err) ? err->message : strerror(-rc));
	/* a refusal by firewalld is an I/O failure of the op; the transport's
	 * own errno (timeout, connection) says more as it is */
	return sd_bus_error_is_set(err) ? -EIO : rc;
}

static int dbus_add(struct spa_fwd_state *st, const char *zone, const char *rule,
		    long timeout)
{
	struct fwd_call c = { FWD_BUS_ZONE, "addRichRule", zone, rule, 1,
			      (int32_t)(timeout > INT32_MAX ? INT32_MAX : timeout) };
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int rc;

	rc = call(st, &c, &err, &reply);
	if (rc < 0 && fwd_error_is(&err, "ALREADY_ENABLED"))
		rc = 0;
	else if (rc < 0)
		rc = report(st, c.member, rc, &err, 0);
	else
		rc = 0;
	sd_bus_message_unref(reply);
	sd_bus_error_free(&err);
	return rc;
}

static int dbus_remove(struct spa_fwd_state *st, const char *zone, const char *rule, int quiet)
{
	struct fwd_call c = { FWD_BUS_ZONE, "removeRichRule", zone, rule, 0, 0 };
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int rc;

	rc = call(st, &c, &err, &reply);
	if (rc < 0 && fwd_error_is(&err, "NOT_ENABLED"))
		rc = 0;
	else if (rc < 0)
		rc = report(st, c.member, rc, &err, quiet);
	else
		rc = 0;
	sd_bus_message_unref(reply);
	sd_bus_error_free(&err);
	return rc;
}

static int dbus_list(struct spa_fwd_state *st, const char *zone, char **text)
{
	struct fwd_call c = { FWD_BUS_ZONE, "getRichRules", zone, NULL, 0, 0 };
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	char **rules = NULL;
	size_t len = 1;
	char *out = NULL;
	int rc;

	*text = NULL;
	rc = call(st, &c, &err, &reply);
	if (rc < 0) {
		rc = report(st, c.member, rc, &err, 0);
		goto out;
	}
	rc = sd_bus_message_read_strv(reply, &rules);
	if (rc < 0)
		goto out;
	/* the exec transport's --list-rich-rules text: one rule a line */
	for (size_t k = 0; rules && rules[k]; k++)
		len += strlen(rules[k]) + 1;
	out = malloc(len);
	if (!out) {
		rc = -ENOMEM;
		goto out;
	}
	out[0] = '\0';
	for (size_t k = 0, at = 0; rules && rules[k]; k++) {
		size_t n = strlen(rules[k]);

		memcpy(out + at, rules[k], n);
		at += n;
		out[at++] = '\n';
		out[at] = '\0';
	}
	*text = out;
	out = NULL;
	rc = 0;
out:
	for (size_t k = 0; rules && rules[k]; k++)
		free(rules[k]);
	free(rules);
	free(out);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&err);
	return rc;
}

static int dbus_start(struct spa_fwd_state *st)
{
	struct fwd_call c = { "org.freedesktop.DBus.Properties", "Get", FWD_BUS_NAME, "state",
			      0, 0 };
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *state = NULL;
	int rc;

	rc = bus_connect(st);
	if (rc < 0) {
		st->host->log(st->host->self, SPA_LOG_INFO, "firewalld: no system bus: %s",
			      strerror(-rc));
		rc = -EHOSTUNREACH;
		goto out;
	}
	rc = call_once(st, &c, &err, &reply);
	if (rc < 0) {
		st->host->log(st->host->self, SPA_LOG_INFO, "firewalld: not on the bus: %s",
			      sd_bus_error_is_set(&err) ? err.message : strerror(-rc));
		/* no firewalld on a bus that answers: exec could only find it
		 * on another bus (a FIREWD_EXE wrapper), so auto may try */
		if (!sd_bus_error_is_set(&err) ||
		    sd_bus_error_has_names(&err, SD_BUS_ERROR_SERVICE_UNKNOWN,
					   SD_BUS_ERROR_NAME_HAS_NO_OWNER))
			rc = -EHOSTUNREACH;
		goto out;
	}
	rc = sd_bus_message_read(reply, "v", "s", &state);
	if (rc < 0)
		goto out;
	if (strcmp(state, "RUNNING") != 0) {
		st->host->log(st->host->self, SPA_LOG_ERR, "firewalld is in state %s, not RUNNING",
			      state);
		rc = -EAGAIN;
		goto out;
	}
	rc = 0;
out:
	sd_bus_message_unref(reply);
	sd_bus_error_free(&err);
	if (rc < 0)
		bus_drop(st);
	return rc;
}

static void dbus_stop(struct spa_fwd_state *st)
{
	bus_drop(st);
}

const struct spa_fwd_xport spa_fwd_xport_dbus = {
	.name = "dbus",
	.start = dbus_start,
	.stop = dbus_stop,
	.add = dbus_add,
	.remove = dbus_remove,
	.list = dbus_list,
};
