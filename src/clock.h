/*
 * clock.h - the one clock every timer reads, overridable (tick --now,
 * tests) so that time-dependent behaviour is testable.
 */
#ifndef MD_CLOCK_H
#define MD_CLOCK_H

#include <glib.h>

/* Current time as UTC seconds: the override if set, else the real clock. */
gint64 clock_now(void);

/* Fixes the clock at utc (seconds); 0 returns to the real clock. */
void clock_set(gint64 utc);

/* Parses ISO 8601 ("2026-11-23T10:00:00Z" or with an offset); FALSE on error. */
gboolean clock_parse_iso8601(const char *text, gint64 *utc_r);

#endif
