/*
 * privs.h - maildesk never works as root.
 *
 * Postfix's pipe(8) never runs a command as root, but an admin at a
 * shell, a cron job or a unit file may.  Started as root, maildesk
 * becomes the [maildesk] user before it opens the database or the
 * secret, so every file it creates belongs to that user and a flaw in
 * the handling of a hostile message cannot act as root.  Called once at
 * start-up, right after the configuration is read.
 */
#ifndef MD_PRIVS_H
#define MD_PRIVS_H

#include <glib.h>

#include "status.h"

/* The environment variable that lets maildesk keep root (tests, containers). */
#define PRIVS_ALLOW_ROOT_ENV "MAILDESK_ALLOW_ROOT"

/*
 * When the effective user is root: with user set, becomes that user
 * (initgroups, setgid, setuid) and checks that root cannot be regained;
 * without it, refuses (MD_CONFIG), unless MAILDESK_ALLOW_ROOT=1 is in the
 * environment, when *warning_r (caller frees) says that root was kept.
 * Not root: changes nothing, whatever user says.  On failure *error_r
 * (caller frees) says why; the caller must not go on.
 */
MdStatus privs_leave_root(const char *user, char **error_r, char **warning_r);

#endif
