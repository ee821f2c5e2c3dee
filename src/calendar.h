/*
 * calendar.h - business time: opening hours, a time zone and holidays.
 *
 * The arithmetic behind SLA clocks and the ETA (stage "status, SLA and
 * ETA" in DESIGN.md).  Pure: no clock, no database; instants in and out
 * are UTC seconds, hours are local wall-clock time in the calendar's zone.
 *
 * Hours are read as local wall-clock time, so "09:00-17:00" is eight real
 * hours on a day whose night had 23 or 25 hours.  A boundary that names a
 * wall-clock time that does not exist (the spring-forward gap) is moved to
 * the end of the gap, as GLib's g_date_time_new() does; one that names a
 * wall-clock time that happens twice (the autumn repeated hour) is the
 * later of the two.  Between its two boundaries an interval counts real
 * elapsed time, so "00:00-24:00" is 23 or 25 hours on those days.
 *
 * A holiday is a whole local date on which no business interval starts.
 * An overnight interval that started the day before still runs until its
 * end: the shift is already at work when the holiday begins.
 */
#ifndef MD_CALENDAR_H
#define MD_CALENDAR_H

#include <glib.h>

typedef struct MdCalendar MdCalendar;

/* No answer: the business time asked for lies beyond the calendar's
 * horizon (about twenty years of days), or the instant is outside the
 * years GLib's GDateTime can represent. */
#define CALENDAR_NEVER G_MAXINT64

/*
 * Builds a calendar from its configuration text.
 *
 * hours: NULL-terminated lines "DAYS INTERVAL [INTERVAL...]".  DAYS is a
 * comma-separated list of days and day ranges, three-letter English names,
 * any case: "mon-fri", "mon,wed", "sat", "fri-mon" (a range may wrap past
 * Sunday).  INTERVAL is "HH:MM-HH:MM" (hour in one or two digits, the end
 * may be "24:00"); an end earlier than the start crosses midnight
 * ("fri 22:00-06:00" runs until Saturday 06:00); equal ends are an error.
 * Lines naming the same day add to it; overlaps merge.  Blank lines are
 * skipped.  The single line "24/7" means every day 00:00-24:00.
 * tz: a time zone identifier for g_time_zone_new_identifier(), normally an
 * IANA name such as "Europe/Riga"; NULL or "" is an error, never the
 * process's local zone.
 * holidays: NULL-terminated "YYYY-MM-DD" strings, or NULL for none.
 *
 * Returns NULL with *error_r set (English, naming the offending line or
 * value; caller frees with g_free()) when anything is wrong, including no
 * hours at all.  Otherwise caller frees with calendar_free().
 */
MdCalendar *calendar_new(const char *const *hours, const char *tz, const char *const *holidays,
                         char **error_r);

void calendar_free(MdCalendar *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MdCalendar, calendar_free)

/* TRUE when business time never stops: every minute of the week is
 * covered ("24/7" or equivalent hours) and there are no holidays. */
gboolean calendar_is_24x7(const MdCalendar *c);

/*
 * The instant that is `minutes` business minutes after start.  0 minutes
 * gives start itself when business time is running then, else the next
 * opening.  A result that lands exactly on a closing time stays there
 * (a deadline at 17:00, not at the next morning's 09:00).  Negative
 * minutes count as 0.  CALENDAR_NEVER when there is no answer.
 */
gint64 calendar_add_minutes(const MdCalendar *c, gint64 start, gint64 minutes);

/*
 * Business minutes from a to b, rounded down; 0 when b <= a.  The inverse
 * of calendar_add_minutes(): minutes_between(s, add_minutes(s, m)) == m.
 * Only the first twenty years or so after a are counted.
 */
gint64 calendar_minutes_between(const MdCalendar *c, gint64 a, gint64 b);

/* Is business time running at t?  Intervals include their start and
 * exclude their end. */
gboolean calendar_is_open(const MdCalendar *c, gint64 t);

#endif
