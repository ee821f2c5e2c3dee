/*
 * privs.c - leaving root for the [maildesk] user at start-up.
 *
 * Must never: go on as root without MAILDESK_ALLOW_ROOT=1, or go on
 * after a switch it could not verify (a setuid() that failed half-way,
 * say under RLIMIT_NPROC, would leave root's powers behind).
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "privs.h"

static gboolean
root_allowed(void)
{
	const char *v = g_getenv(PRIVS_ALLOW_ROOT_ENV);

	return v != NULL && strcmp(v, "1") == 0;
}

MdStatus
privs_leave_root(const char *user, char **error_r, char **warning_r)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	*error_r = NULL;
	*warning_r = NULL;
	if (geteuid() != 0)
		return MD_OK;
	if (user == NULL || *user == '\0') {
		if (root_allowed()) {
			*warning_r = g_strdup("running as root because " PRIVS_ALLOW_ROOT_ENV
			                      "=1; set [maildesk] user for anything but tests");
			return MD_OK;
		}
		*error_r = g_strdup("refusing to run as root: set [maildesk] user, or run as the "
		                    "maildesk user");
		return MD_CONFIG;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		*error_r = g_strdup_printf("[maildesk] user %s: %s", user,
		                           errno != 0 ? g_strerror(errno) : "no such user");
		return MD_CONFIG;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0 || gid == 0) {
		*error_r = g_strdup_printf("refusing to run as root: [maildesk] user %s is root's "
		                           "user or group", user);
		return MD_CONFIG;
	}
	/* groups first: once the uid is gone, they cannot be changed */
	if (initgroups(pw->pw_name, gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		*error_r = g_strdup_printf("cannot become [maildesk] user %s: %s", user,
		                           g_strerror(errno));
		return MD_CONFIG;
	}
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid ||
	    setuid(0) == 0 || seteuid(0) == 0) {
		*error_r = g_strdup_printf("switching to [maildesk] user %s did not take: root "
		                           "could be regained", user);
		return MD_CONFIG;
	}
	return MD_OK;
}
