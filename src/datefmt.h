/*
 * datefmt.h - instants written for people, in their language and offset.
 *
 * Used for the ETA and dates in customer mail.  Arithmetic with GLib's
 * GDateTime; month and weekday names come from our own tables for en, ru
 * and lv, so output does not depend on which locales a server installed.
 */
#ifndef MD_DATEFMT_H
#define MD_DATEFMT_H

#include <glib.h>

/*
 * Formats utc (seconds since the epoch) in a fixed UTC offset of
 * tz_minutes (east positive) for language lang (en, ru, lv; anything else
 * is en), e.g. en "Tuesday, 24 November 2026, 17:00 (UTC+02:00)",
 * ru "вторник, 24 ноября 2026 г., 17:00 (UTC+03:00)",
 * lv "otrdiena, 2026. gada 24. novembris, 17:00 (UTC+02:00)".
 * Language tags match on their first two letters ("RU", "lv-LV").  An
 * offset beyond +-23:59 (a broken Date header) is shown as UTC+00:00;
 * instants outside years 1..9999 are clamped.  Never NULL.
 * Caller frees with g_free().
 */
char *datefmt_long(gint64 utc, int tz_minutes, const char *lang);

/* RFC 5322 date in the given offset, e.g. "Tue, 24 Nov 2026 17:00:00 +0200"
 * (English names whatever the locale).  Caller frees with g_free(). */
char *datefmt_rfc5322(gint64 utc, int tz_minutes);

/* ISO 8601 in UTC, e.g. "2026-11-24T15:00:00Z".  Caller frees with g_free(). */
char *datefmt_iso8601(gint64 utc);

#endif
