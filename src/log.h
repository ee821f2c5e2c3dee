/*
 * log.h - one line per event to syslog (facility mail), Postfix style:
 *   maildesk[1234]: ticket=57 msgid=<...> from=<a@b> action=new
 * and to stderr as well when verbose.  Never log bodies or secrets; text
 * that came from a message is made printable and capped by log_safe().
 */
#ifndef MD_LOG_H
#define MD_LOG_H

#include <glib.h>

void log_open(const char *ident, gboolean verbose);
gboolean log_verbose(void);

void log_info(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void log_warning(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void log_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Only with -v: details for the admin's terminal, not syslog. */
void log_debug(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/*
 * Untrusted text made safe for a log line: non-printable bytes become '?',
 * at most 200 bytes kept.  NULL becomes "".  Caller frees with g_free().
 */
char *log_safe(const char *text);

#endif
