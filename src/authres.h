/*
 * authres.h - reads an Authentication-Results header (RFC 8601) that our
 * own MTA added, for the optional DKIM requirement on agent mail.  Pure.
 */
#ifndef MD_AUTHRES_H
#define MD_AUTHRES_H

#include <glib.h>

/*
 * TRUE only when value (one header's value) names authserv_id as its
 * authserv-id (case-insensitive) and holds a "dkim=pass" result whose
 * header.d (or the domain of header.i) is domain (case-insensitive).
 * Comments in parentheses are ignored; anything unreadable is FALSE.
 */
gboolean authres_dkim_pass(const char *value, const char *authserv_id, const char *domain);

#endif
