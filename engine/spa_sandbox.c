/* SPDX-License-Identifier: MIT */
/* spa_sandbox.c - being written (see spa_sandbox.h). */
#include "spa_sandbox.h"

#include <errno.h>
#include <stdio.h>

int spa_sandbox_resolve_user(const char *name, uid_t *uid, gid_t *gid, char *err,
			     size_t errlen)
{
	(void)name; (void)uid; (void)gid;
	snprintf(err, errlen, "not implemented");
	return -ENOSYS;
}

int spa_sandbox_prepare_dir(const char *dir, char *err, size_t errlen)
{
	(void)dir;
	snprintf(err, errlen, "not implemented");
	return -ENOSYS;
}

int spa_sandbox_enter(const struct spa_sandbox_opts *o, struct spa_sandbox_report *r, char *err,
		      size_t errlen)
{
	(void)o; (void)r;
	snprintf(err, errlen, "not implemented");
	return -ENOSYS;
}
