/* Unit tests: business-time arithmetic over calendars. */
#include "config.h"

#include <string.h>

#include "calendar.h"

/* A NULL-terminated list of lines, as the config side hands them over. */
#define LINES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define HOURS LINES
#define HOLIDAYS LINES
#define NO_HOLIDAYS NULL

/* Instants are built from wall-clock times with GLib, so that no test
 * depends on an epoch number worked out by hand. */
static gint64
local(const char *tz, int y, int mo, int d, int h, int mi)
{
	g_autoptr(GTimeZone) z = g_time_zone_new_identifier(tz);
	g_autoptr(GDateTime) dt = NULL;

	g_assert_nonnull(z);
	dt = g_date_time_new(z, y, mo, d, h, mi, 0);
	g_assert_nonnull(dt);
	return g_date_time_to_unix(dt);
}

static gint64
riga(int y, int mo, int d, int h, int mi)
{
	return local("Europe/Riga", y, mo, d, h, mi);
}

static gint64
utc(int y, int mo, int d, int h, int mi)
{
	return local("UTC", y, mo, d, h, mi);
}

/* Guards the test's own dates: a wrong weekday would test nothing. */
static void
assert_weekday(int y, int mo, int d, GDateWeekday want)
{
	GDate date;

	g_date_clear(&date, 1);
	g_date_set_dmy(&date, d, mo, y);
	g_assert_cmpint(g_date_get_weekday(&date), ==, want);
}

static MdCalendar *
cal(const char *const *hours, const char *tz, const char *const *holidays)
{
	g_autofree char *err = NULL;
	MdCalendar *c = calendar_new(hours, tz, holidays, &err);

	if (c == NULL)
		g_error("calendar_new: %s", err);
	g_assert_null(err);
	return c;
}

/* Error text of a calendar that must be refused. */
static char *
refused(const char *const *hours, const char *tz, const char *const *holidays)
{
	char *err = NULL;
	MdCalendar *c = calendar_new(hours, tz, holidays, &err);

	g_assert_null(c);
	g_assert_nonnull(err);
	return err;
}

static void
assert_refused(const char *const *hours, const char *tz, const char *const *holidays,
               const char *mentions)
{
	g_autofree char *err = refused(hours, tz, holidays);

	if (strstr(err, mentions) == NULL)
		g_error("error \"%s\" does not mention \"%s\"", err, mentions);
}

static void
test_same_day(void)
{
	g_autoptr(MdCalendar) c = cal(HOURS("mon-fri 09:00-17:00"), "Europe/Riga", NO_HOLIDAYS);

	assert_weekday(2026, 11, 23, G_DATE_MONDAY);
	g_assert_false(calendar_is_24x7(c));
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 23, 10, 0), 90), ==,
	                riga(2026, 11, 23, 11, 30));
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 23, 10, 0), 0), ==,
	                riga(2026, 11, 23, 10, 0));
	/* a deadline that lands on closing time stays on it */
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 23, 16, 0), 60), ==,
	                riga(2026, 11, 23, 17, 0));
	/* seconds are kept, not rounded to a minute */
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 23, 10, 0) + 7, 1), ==,
	                riga(2026, 11, 23, 10, 1) + 7);
	g_assert_cmpint(calendar_minutes_between(c, riga(2026, 11, 23, 10, 0),
	                                         riga(2026, 11, 23, 11, 30)),
	                ==, 90);
	g_assert_cmpint(calendar_minutes_between(c, riga(2026, 11, 23, 10, 0),
	                                         riga(2026, 11, 23, 10, 0) + 119),
	                ==, 1);
	g_assert_cmpint(calendar_minutes_between(c, riga(2026, 11, 23, 11, 0),
	                                         riga(2026, 11, 23, 10, 0)),
	                ==, 0);
	g_assert_true(calendar_is_open(c, riga(2026, 11, 23, 9, 0)));
	g_assert_true(calendar_is_open(c, riga(2026, 11, 23, 17, 0) - 1));
	g_assert_false(calendar_is_open(c, riga(2026, 11, 23, 17, 0)));
	g_assert_false(calendar_is_open(c, riga(2026, 11, 23, 9, 0) - 1));
	/* negative minutes count as none */
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 23, 10, 0), -5), ==,
	                riga(2026, 11, 23, 10, 0));
}

static void
test_lunch_break(void)
{
	g_autoptr(MdCalendar) c =
		cal(HOURS("mon-fri 09:00-12:00 13:00-18:00"), "Europe/Riga", NO_HOLIDAYS);

	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 23, 11, 0), 120), ==,
	                riga(2026, 11, 23, 14, 0));
	g_assert_cmpint(calendar_minutes_between(c, riga(2026, 11, 23, 11, 0),
	                                         riga(2026, 11, 23, 14, 0)),
	                ==, 120);
	/* the morning ends at 12:00 sharp: 60 minutes from 11:00 stay before lunch */
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 23, 11, 0), 60), ==,
	                riga(2026, 11, 23, 12, 0));
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 23, 12, 30), 0), ==,
	                riga(2026, 11, 23, 13, 0));
	g_assert_false(calendar_is_open(c, riga(2026, 11, 23, 12, 30)));
	g_assert_cmpint(calendar_minutes_between(c, riga(2026, 11, 23, 0, 0),
	                                         riga(2026, 11, 24, 0, 0)),
	                ==, 8 * 60);
}

static void
test_weekend(void)
{
	g_autoptr(MdCalendar) c = cal(HOURS("mon-fri 09:00-17:00"), "Europe/Riga", NO_HOLIDAYS);

	assert_weekday(2026, 11, 27, G_DATE_FRIDAY);
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 27, 16, 0), 120), ==,
	                riga(2026, 11, 30, 10, 0));
	g_assert_cmpint(calendar_minutes_between(c, riga(2026, 11, 27, 16, 0),
	                                         riga(2026, 11, 30, 10, 0)),
	                ==, 120);
	/* a week of five business days */
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 23, 9, 0), 5 * 8 * 60), ==,
	                riga(2026, 11, 27, 17, 0));
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 23, 9, 0), 5 * 8 * 60 + 1), ==,
	                riga(2026, 11, 30, 9, 1));
	g_assert_cmpint(calendar_minutes_between(c, riga(2026, 11, 23, 0, 0),
	                                         riga(2026, 11, 30, 0, 0)),
	                ==, 5 * 8 * 60);
}

static void
test_holiday(void)
{
	g_autoptr(MdCalendar) c = cal(HOURS("mon-fri 09:00-17:00"), "Europe/Riga",
	                              HOLIDAYS("2026-12-24", "2026-12-25", "2026-12-31"));

	assert_weekday(2026, 12, 24, G_DATE_THURSDAY);
	g_assert_false(calendar_is_24x7(c));
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 12, 23, 16, 0), 120), ==,
	                riga(2026, 12, 28, 10, 0));
	g_assert_false(calendar_is_open(c, riga(2026, 12, 24, 12, 0)));
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 12, 24, 12, 0), 0), ==,
	                riga(2026, 12, 28, 9, 0));
	g_assert_cmpint(calendar_minutes_between(c, riga(2026, 12, 21, 0, 0),
	                                         riga(2027, 1, 4, 0, 0)),
	                ==, 7 * 8 * 60);
	/* the day after a holiday is an ordinary one */
	g_assert_true(calendar_is_open(c, riga(2026, 12, 28, 9, 0)));
}

static void
test_outside_hours(void)
{
	g_autoptr(MdCalendar) c = cal(HOURS("mon-fri 09:00-17:00"), "Europe/Riga", NO_HOLIDAYS);

	/* before opening */
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 23, 7, 0), 0), ==,
	                riga(2026, 11, 23, 9, 0));
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 23, 7, 0), 30), ==,
	                riga(2026, 11, 23, 9, 30));
	/* after closing, and at closing time itself */
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 23, 18, 0), 0), ==,
	                riga(2026, 11, 24, 9, 0));
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 23, 17, 0), 0), ==,
	                riga(2026, 11, 24, 9, 0));
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 23, 23, 59), 15), ==,
	                riga(2026, 11, 24, 9, 15));
	/* on a weekend */
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 28, 11, 0), 0), ==,
	                riga(2026, 11, 30, 9, 0));
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 29, 23, 0), 60), ==,
	                riga(2026, 11, 30, 10, 0));
	g_assert_cmpint(calendar_minutes_between(c, riga(2026, 11, 28, 0, 0),
	                                         riga(2026, 11, 30, 9, 0)),
	                ==, 0);
}

static void
test_overnight(void)
{
	g_autoptr(MdCalendar) c = cal(HOURS("fri 22:00-06:00"), "Europe/Riga", NO_HOLIDAYS);
	g_autoptr(MdCalendar) sat_off =
		cal(HOURS("fri 22:00-06:00"), "Europe/Riga", HOLIDAYS("2026-11-28"));
	g_autoptr(MdCalendar) fri_off =
		cal(HOURS("fri 22:00-06:00"), "Europe/Riga", HOLIDAYS("2026-11-27"));
	g_autoptr(MdCalendar) mixed = cal(HOURS("mon-fri 09:00-17:00", "fri 22:00-06:00",
	                                        "sat 05:00-08:00"),
	                                  "Europe/Riga", NO_HOLIDAYS);

	assert_weekday(2026, 11, 28, G_DATE_SATURDAY);
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 27, 21, 0), 0), ==,
	                riga(2026, 11, 27, 22, 0));
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 27, 23, 0), 120), ==,
	                riga(2026, 11, 28, 1, 0));
	g_assert_true(calendar_is_open(c, riga(2026, 11, 28, 3, 0)));
	g_assert_false(calendar_is_open(c, riga(2026, 11, 28, 6, 0)));
	/* a Saturday start inside the shift finishes it, then waits a week */
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 28, 5, 0), 120), ==,
	                riga(2026, 12, 4, 23, 0));
	g_assert_cmpint(calendar_add_minutes(c, riga(2026, 11, 28, 7, 0), 0), ==,
	                riga(2026, 12, 4, 22, 0));
	g_assert_cmpint(calendar_minutes_between(c, riga(2026, 11, 28, 0, 0),
	                                         riga(2026, 11, 29, 0, 0)),
	                ==, 6 * 60);

	/* a holiday stops shifts from starting, not one already running */
	g_assert_true(calendar_is_open(sat_off, riga(2026, 11, 28, 3, 0)));
	g_assert_false(calendar_is_open(fri_off, riga(2026, 11, 28, 3, 0)));
	g_assert_cmpint(calendar_add_minutes(fri_off, riga(2026, 11, 27, 21, 0), 0), ==,
	                riga(2026, 12, 4, 22, 0));

	/* Friday's night shift runs into Saturday's early one: one stretch */
	g_assert_cmpint(calendar_add_minutes(mixed, riga(2026, 11, 28, 4, 0), 180), ==,
	                riga(2026, 11, 28, 7, 0));
	g_assert_cmpint(calendar_minutes_between(mixed, riga(2026, 11, 28, 0, 0),
	                                         riga(2026, 11, 28, 8, 0)),
	                ==, 8 * 60);
	g_assert_cmpint(calendar_minutes_between(mixed, riga(2026, 11, 27, 0, 0),
	                                         riga(2026, 11, 29, 0, 0)),
	                ==, 8 * 60 + 2 * 60 + 8 * 60);
}

static void
test_24x7(void)
{
	const char *const *all_day[] = {
		HOURS("24/7"),
		HOURS("mon-sun 00:00-24:00"),
		HOURS("mon-sun 12:00-12:30 12:30-12:00"),
		HOURS("mon-sat 00:00-24:00", "sun 00:00-24:00"),
	};
	/* a holiday decades away keeps the hours but turns off the shortcut,
	 * so the day-by-day walk is checked against plain minutes */
	g_autoptr(MdCalendar) walked = cal(HOURS("24/7"), "Europe/Riga", HOLIDAYS("1990-01-01"));
	gint64 t0 = riga(2026, 3, 27, 13, 17) + 29;

	for (guint i = 0; i < G_N_ELEMENTS(all_day); i++) {
		g_autoptr(MdCalendar) c = cal(all_day[i], "Europe/Riga", NO_HOLIDAYS);

		g_assert_true(calendar_is_24x7(c));
		g_assert_true(calendar_is_open(c, t0));
		g_assert_cmpint(calendar_add_minutes(c, t0, 100000), ==, t0 + 100000 * 60);
		g_assert_cmpint(calendar_minutes_between(c, t0, t0 + 100000 * 60 + 59), ==, 100000);
	}
	g_assert_false(calendar_is_24x7(walked));
	/* across the spring-forward night: real minutes, not wall-clock ones */
	for (gint64 m = 0; m < 5 * 24 * 60; m += 7 * 60 + 13) {
		g_assert_cmpint(calendar_add_minutes(walked, t0, m), ==, t0 + m * 60);
		g_assert_cmpint(calendar_minutes_between(walked, t0, t0 + m * 60), ==, m);
	}
	g_assert_cmpint(calendar_add_minutes(walked, t0, 100000), ==, t0 + 100000 * 60);
	g_assert_true(calendar_is_open(walked, t0));

	{
		g_autoptr(MdCalendar) with_off = cal(HOURS("24/7"), "UTC", HOLIDAYS("2026-11-24"));
		g_autoptr(MdCalendar) gap = cal(HOURS("mon-sun 00:00-23:59"), "UTC", NO_HOLIDAYS);

		g_assert_false(calendar_is_24x7(with_off));
		g_assert_false(calendar_is_open(with_off, utc(2026, 11, 24, 12, 0)));
		g_assert_cmpint(calendar_add_minutes(with_off, utc(2026, 11, 23, 23, 0), 120), ==,
		                utc(2026, 11, 25, 1, 0));
		g_assert_false(calendar_is_24x7(gap));
	}
}

static void
test_dst_riga(void)
{
	g_autoptr(MdCalendar) all_day = cal(HOURS("mon-sun 00:00-24:00"), "Europe/Riga",
	                                    HOLIDAYS("1990-01-01"));
	g_autoptr(MdCalendar) office = cal(HOURS("mon-sun 09:00-17:00"), "Europe/Riga",
	                                   NO_HOLIDAYS);
	g_autoptr(MdCalendar) night = cal(HOURS("mon-sun 02:00-05:00"), "Europe/Riga",
	                                  NO_HOLIDAYS);
	g_autoptr(MdCalendar) in_gap = cal(HOURS("mon-sun 03:30-09:00"), "Europe/Riga",
	                                   NO_HOLIDAYS);
	g_autoptr(MdCalendar) lost = cal(HOURS("mon-sun 03:10-03:40"), "Europe/Riga",
	                                 NO_HOLIDAYS);

	/* last Sundays of March and October: 03:00 -> 04:00, and 04:00 -> 03:00 */
	assert_weekday(2026, 3, 29, G_DATE_SUNDAY);
	assert_weekday(2026, 10, 25, G_DATE_SUNDAY);

	/* a calendar day is 23 and 25 real hours */
	g_assert_cmpint(calendar_minutes_between(all_day, riga(2026, 3, 29, 0, 0),
	                                         riga(2026, 3, 30, 0, 0)),
	                ==, 23 * 60);
	g_assert_cmpint(calendar_minutes_between(all_day, riga(2026, 10, 25, 0, 0),
	                                         riga(2026, 10, 26, 0, 0)),
	                ==, 25 * 60);
	g_assert_cmpint(calendar_add_minutes(all_day, riga(2026, 3, 28, 23, 0), 24 * 60), ==,
	                riga(2026, 3, 30, 0, 0));
	g_assert_cmpint(calendar_add_minutes(all_day, riga(2026, 10, 24, 23, 0), 24 * 60), ==,
	                riga(2026, 10, 25, 22, 0));
	g_assert_true(calendar_is_open(all_day, utc(2026, 3, 29, 1, 0)));
	g_assert_true(calendar_is_open(all_day, utc(2026, 10, 25, 0, 30)));

	/* office hours are eight real hours whatever the night was */
	g_assert_cmpint(calendar_minutes_between(office, riga(2026, 3, 29, 0, 0),
	                                         riga(2026, 3, 30, 0, 0)),
	                ==, 8 * 60);
	g_assert_cmpint(calendar_minutes_between(office, riga(2026, 10, 25, 0, 0),
	                                         riga(2026, 10, 26, 0, 0)),
	                ==, 8 * 60);
	g_assert_cmpint(calendar_add_minutes(office, riga(2026, 3, 28, 16, 0), 120), ==,
	                riga(2026, 3, 29, 10, 0));
	g_assert_cmpint(calendar_add_minutes(office, riga(2026, 10, 24, 16, 0), 120), ==,
	                riga(2026, 10, 25, 10, 0));
	g_assert_cmpint(calendar_add_minutes(office, riga(2026, 3, 29, 9, 0), 8 * 60), ==,
	                riga(2026, 3, 29, 17, 0));

	/* 02:00-05:00 across the change: two and four real hours */
	g_assert_cmpint(calendar_minutes_between(night, riga(2026, 3, 29, 0, 0),
	                                         riga(2026, 3, 29, 12, 0)),
	                ==, 2 * 60);
	g_assert_cmpint(calendar_minutes_between(night, riga(2026, 10, 25, 0, 0),
	                                         riga(2026, 10, 25, 12, 0)),
	                ==, 4 * 60);
	g_assert_cmpint(calendar_add_minutes(night, riga(2026, 10, 25, 2, 0), 3 * 60), ==,
	                utc(2026, 10, 25, 2, 0));
	g_assert_true(calendar_is_open(night, utc(2026, 10, 25, 0, 30)));

	/* a boundary in the gap moves to its end, 04:00 summer time */
	g_assert_cmpint(calendar_add_minutes(in_gap, riga(2026, 3, 29, 0, 0), 0), ==,
	                riga(2026, 3, 29, 4, 0));
	g_assert_cmpint(calendar_minutes_between(in_gap, riga(2026, 3, 29, 0, 0),
	                                         riga(2026, 3, 29, 12, 0)),
	                ==, 5 * 60);
	/* an interval wholly inside the gap does not happen that day */
	g_assert_cmpint(calendar_minutes_between(lost, riga(2026, 3, 29, 0, 0),
	                                         riga(2026, 3, 30, 0, 0)),
	                ==, 0);
	g_assert_cmpint(calendar_add_minutes(lost, riga(2026, 3, 28, 3, 40), 10), ==,
	                riga(2026, 3, 30, 3, 20));
	/* a boundary in the repeated hour is its second, winter-time instance */
	g_assert_cmpint(calendar_minutes_between(lost, riga(2026, 10, 25, 0, 0),
	                                         riga(2026, 10, 26, 0, 0)),
	                ==, 30);
	g_assert_cmpint(calendar_add_minutes(lost, riga(2026, 10, 25, 0, 0), 0), ==,
	                utc(2026, 10, 25, 1, 10));
}

static void
test_moscow_vs_riga(void)
{
	g_autoptr(MdCalendar) msk = cal(HOURS("mon-fri 09:00-17:00"), "Europe/Moscow",
	                                NO_HOLIDAYS);
	g_autoptr(MdCalendar) rix = cal(HOURS("mon-fri 09:00-17:00"), "Europe/Riga", NO_HOLIDAYS);

	assert_weekday(2026, 1, 5, G_DATE_MONDAY);
	assert_weekday(2026, 7, 6, G_DATE_MONDAY);
	/* winter: Moscow UTC+3, Riga UTC+2 — Moscow opens an hour earlier */
	g_assert_cmpint(calendar_add_minutes(msk, utc(2026, 1, 5, 0, 0), 0), ==,
	                utc(2026, 1, 5, 6, 0));
	g_assert_cmpint(calendar_add_minutes(rix, utc(2026, 1, 5, 0, 0), 0), ==,
	                utc(2026, 1, 5, 7, 0));
	g_assert_true(calendar_is_open(msk, utc(2026, 1, 5, 6, 30)));
	g_assert_false(calendar_is_open(rix, utc(2026, 1, 5, 6, 30)));
	g_assert_cmpint(calendar_minutes_between(msk, utc(2026, 1, 5, 6, 0),
	                                         utc(2026, 1, 5, 14, 0)),
	                ==, 8 * 60);
	g_assert_cmpint(calendar_minutes_between(rix, utc(2026, 1, 5, 6, 0),
	                                         utc(2026, 1, 5, 14, 0)),
	                ==, 8 * 60 - 60);
	/* summer: Riga is on UTC+3 too, the same instants */
	g_assert_cmpint(calendar_add_minutes(msk, utc(2026, 7, 6, 0, 0), 0), ==,
	                utc(2026, 7, 6, 6, 0));
	g_assert_cmpint(calendar_add_minutes(rix, utc(2026, 7, 6, 0, 0), 0), ==,
	                utc(2026, 7, 6, 6, 0));
	/* Moscow has no DST night: its Sunday in March is 24 hours, no shift */
	g_assert_cmpint(calendar_add_minutes(msk, local("Europe/Moscow", 2026, 3, 27, 16, 0), 120),
	                ==, local("Europe/Moscow", 2026, 3, 30, 10, 0));
	{
		gint64 msk_from = local("Europe/Moscow", 2026, 3, 27, 16, 0);
		gint64 rix_from = riga(2026, 3, 27, 16, 0);

		/* the same business answer, but Riga's weekend was an hour shorter */
		g_assert_cmpint(calendar_add_minutes(rix, rix_from, 120), ==, riga(2026, 3, 30, 10, 0));
		g_assert_cmpint(calendar_add_minutes(rix, rix_from, 120) - rix_from, ==,
		                calendar_add_minutes(msk, msk_from, 120) - msk_from - 3600);
	}
}

/* Deterministic sequence, so a failure names the same pair every run. */
static guint64
next_rand(guint64 *state)
{
	*state = *state * G_GUINT64_CONSTANT(6364136223846793005) + 1442695040888963407;
	return *state >> 33;
}

static void
test_inverse(void)
{
	const char *const *hours[] = {
		HOURS("mon-fri 09:00-12:00 13:00-18:00", "sat 10:00-14:00"),
		HOURS("fri 22:00-06:00", "mon,wed 08:00-12:00 13:00-17:00"),
		HOURS("mon-sun 02:00-05:00 23:30-01:00"),
		HOURS("24/7"),
	};
	const char *const *holidays = HOLIDAYS("2026-01-01", "2026-03-30", "2026-05-01",
	                                    "2026-10-26", "2026-12-24", "2026-12-25");
	gint64 year_start = utc(2026, 1, 1, 0, 0);
	guint64 state = 42;

	for (guint h = 0; h < G_N_ELEMENTS(hours); h++) {
		g_autoptr(MdCalendar) c = cal(hours[h], "Europe/Riga", holidays);

		for (guint i = 0; i < 300; i++) {
			gint64 a = year_start + (gint64)(next_rand(&state) % (366 * 86400));
			gint64 m = (gint64)(next_rand(&state) % (i % 10 == 0 ? 100000 : 3000));
			gint64 b = a + (gint64)(next_rand(&state) % (30 * 86400));
			gint64 end = calendar_add_minutes(c, a, m);
			gint64 between = calendar_minutes_between(c, a, b);

			gint64 mid = a + (end - a) / 2;
			gint64 legs;

			g_assert_cmpint(end, !=, CALENDAR_NEVER);
			g_assert_cmpint(end, >=, a + m * 60);
			g_assert_cmpint(calendar_minutes_between(c, a, end), ==, m);
			/* the other way round: b is reached by between minutes, not by one
			 * more (none at all may lead to an opening after b) */
			if (between > 0)
				g_assert_cmpint(calendar_add_minutes(c, a, between), <=, b);
			g_assert_cmpint(calendar_add_minutes(c, a, between + 1), >, b);
			/* a clock stopped and restarted loses at most the split minute */
			legs = calendar_minutes_between(c, a, mid) + calendar_minutes_between(c, mid, end);
			g_assert_cmpint(legs, <=, m);
			g_assert_cmpint(legs, >=, m - 1);
		}
	}
}

/* is_open minute by minute over a week must agree with minutes_between:
 * two different paths through the walk, compared at DST. */
static void
test_open_agrees(void)
{
	const char *const *hours[] = {
		HOURS("mon-fri 09:00-12:00 13:00-18:00"),
		HOURS("sat 22:00-06:00", "sun 03:30-04:30"),
		HOURS("mon-sun 02:00-05:00"),
	};

	for (guint h = 0; h < G_N_ELEMENTS(hours); h++) {
		g_autoptr(MdCalendar) c = cal(hours[h], "Europe/Riga", HOLIDAYS("2026-10-26"));
		const gint64 weeks[] = { riga(2026, 3, 25, 0, 0), riga(2026, 10, 21, 0, 0) };

		for (guint w = 0; w < G_N_ELEMENTS(weeks); w++) {
			gint64 open = 0;

			for (gint64 t = weeks[w]; t < weeks[w] + 7 * 86400; t += 60)
				open += calendar_is_open(c, t) ? 1 : 0;
			g_assert_cmpint(calendar_minutes_between(c, weeks[w], weeks[w] + 7 * 86400), ==,
			                open);
		}
	}
}

static void
test_large_spans(void)
{
	g_autoptr(MdCalendar) c = cal(HOURS("mon-fri 09:00-17:00"), "Europe/Riga", NO_HOLIDAYS);
	g_autoptr(MdCalendar) sparse = cal(HOURS("mon 09:00-10:00"), "UTC", NO_HOLIDAYS);
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier("Europe/Riga");
	g_autoptr(GDateTime) monday = g_date_time_new(tz, 2026, 1, 5, 9, 0, 0);
	/* 100000 minutes are 208 days of 480 and 160 minutes: 41 weeks, then
	 * Monday to Wednesday, then Thursday 09:00 + 2:40 */
	g_autoptr(GDateTime) want_day = g_date_time_add_weeks(monday, 41);
	g_autoptr(GDateTime) want = g_date_time_add_full(want_day, 0, 0, 3, 2, 40, 0);
	gint64 t0 = g_date_time_to_unix(monday);
	gint64 t1 = calendar_add_minutes(c, t0, 100000);

	g_assert_cmpint(g_date_time_get_day_of_week(want), ==, G_DATE_THURSDAY);
	g_assert_cmpint(t1, ==, g_date_time_to_unix(want));
	g_assert_cmpint(calendar_minutes_between(c, t0, t1), ==, 100000);

	/* beyond the horizon: an answer that means "never", quickly */
	g_assert_cmpint(calendar_add_minutes(sparse, utc(2026, 1, 1, 0, 0), 60 * 52 * 30), ==,
	                CALENDAR_NEVER);
	g_assert_cmpint(calendar_add_minutes(sparse, utc(2026, 1, 1, 0, 0), G_MAXINT64), ==,
	                CALENDAR_NEVER);
	g_assert_cmpint(calendar_add_minutes(sparse, G_MAXINT64, 1), ==, CALENDAR_NEVER);
	g_assert_cmpint(calendar_add_minutes(sparse, G_MININT64, 1), ==, CALENDAR_NEVER);
	g_assert_cmpint(calendar_minutes_between(sparse, utc(2026, 1, 1, 0, 0), G_MAXINT64), >,
	                60 * 52 * 19);
	g_assert_cmpint(calendar_minutes_between(sparse, G_MININT64, G_MAXINT64), >=, 0);
	g_assert_false(calendar_is_open(sparse, G_MAXINT64));
	g_assert_false(calendar_is_open(sparse, G_MININT64));
	/* weekly hours still work near the years GDateTime ends at */
	g_assert_cmpint(calendar_add_minutes(sparse, utc(9900, 1, 1, 0, 0), 60), !=,
	                CALENDAR_NEVER);
	{
		g_autoptr(MdCalendar) always = cal(HOURS("24/7"), "UTC", NO_HOLIDAYS);

		g_assert_cmpint(calendar_add_minutes(always, G_MAXINT64 - 59, 1), ==, CALENDAR_NEVER);
		g_assert_cmpint(calendar_add_minutes(always, 0, G_MAXINT64), ==, CALENDAR_NEVER);
		g_assert_cmpint(calendar_minutes_between(always, G_MININT64, G_MAXINT64), ==,
		                (gint64)(G_MAXUINT64 / 60));
	}
}

static void
test_parse_errors(void)
{
	const char *tz = "Europe/Riga";

	assert_refused(HOURS("mon-fri 9-17"), tz, NO_HOLIDAYS, "\"9-17\"");
	assert_refused(HOURS("xyz 09:00-10:00"), tz, NO_HOLIDAYS, "\"xyz\"");
	assert_refused(HOURS("mon 09:00-09:00"), tz, NO_HOLIDAYS, "empty");
	assert_refused(HOURS("mon 00:00-00:00"), tz, NO_HOLIDAYS, "00:00-24:00");
	assert_refused(HOURS("mon 24:00-10:00"), tz, NO_HOLIDAYS, "24:00");
	assert_refused(HOURS("mon 09:60-10:00"), tz, NO_HOLIDAYS, "09:60-10:00");
	assert_refused(HOURS("mon 25:00-26:00"), tz, NO_HOLIDAYS, "25:00-26:00");
	assert_refused(HOURS("mon 24:30-10:00"), tz, NO_HOLIDAYS, "24:30-10:00");
	assert_refused(HOURS("mon 09:00-12:00-13:00"), tz, NO_HOLIDAYS, "09:00-12:00-13:00");
	assert_refused(HOURS("mon 09:00 - 17:00"), tz, NO_HOLIDAYS, "\"09:00\"");
	assert_refused(HOURS("mon,,tue 09:00-10:00"), tz, NO_HOLIDAYS, "unknown day");
	assert_refused(HOURS("monday 09:00-10:00"), tz, NO_HOLIDAYS, "\"monday\"");
	assert_refused(HOURS("mon-"), tz, NO_HOLIDAYS, "\"mon-\"");
	assert_refused(HOURS("mon-fri"), tz, NO_HOLIDAYS, "no HH:MM-HH:MM interval");
	assert_refused(HOURS("mon-fri 09:00-17:00", "sat 10:00"), tz, NO_HOLIDAYS, "\"10:00\"");
	assert_refused(HOURS("24/7", "mon 09:00-10:00"), tz, NO_HOLIDAYS, "only line");
	assert_refused(NULL, tz, NO_HOLIDAYS, "none given");
	assert_refused((const char *const[]){ NULL }, tz, NO_HOLIDAYS, "none given");
	assert_refused(HOURS("", "  \t"), tz, NO_HOLIDAYS, "none given");

	assert_refused(HOURS("mon-fri 09:00-17:00"), "Europe/Nowhere", NO_HOLIDAYS,
	               "\"Europe/Nowhere\"");
	assert_refused(HOURS("mon-fri 09:00-17:00"), "Riga", NO_HOLIDAYS, "\"Riga\"");
	assert_refused(HOURS("mon-fri 09:00-17:00"), NULL, NO_HOLIDAYS, "time zone missing");
	assert_refused(HOURS("mon-fri 09:00-17:00"), "", NO_HOLIDAYS, "time zone missing");

	assert_refused(HOURS("mon-fri 09:00-17:00"), tz, HOLIDAYS("2026-02-30"), "\"2026-02-30\"");
	assert_refused(HOURS("mon-fri 09:00-17:00"), tz, HOLIDAYS("2026-12-24", "2026-2-3"),
	               "\"2026-2-3\"");
	assert_refused(HOURS("mon-fri 09:00-17:00"), tz, HOLIDAYS("26-12-24"), "YYYY-MM-DD");
	assert_refused(HOURS("mon-fri 09:00-17:00"), tz, HOLIDAYS("2026/12/24"), "YYYY-MM-DD");
	assert_refused(HOURS("mon-fri 09:00-17:00"), tz, HOLIDAYS("0000-01-01"), "0000-01-01");
	assert_refused(HOURS("mon-fri 09:00-17:00"), tz, HOLIDAYS("tomorrow"), "\"tomorrow\"");
}

static void
test_parse_forms(void)
{
	g_autoptr(MdCalendar) overnight = cal(HOURS("mon 17:00-09:00"), "Europe/Riga",
	                                      NO_HOLIDAYS);
	g_autoptr(MdCalendar) loose = cal(HOURS("  MON-Fri\t9:00-17:00  ", "", "Sat 10:00-24:00"),
	                                  "Europe/Riga", HOLIDAYS(" 2026-12-24 ", ""));
	g_autoptr(MdCalendar) wrap = cal(HOURS("fri-mon 10:00-12:00"), "UTC", NO_HOLIDAYS);
	g_autoptr(MdCalendar) listed = cal(HOURS("mon,wed 08:00-12:00 13:00-17:00"), "UTC",
	                                   NO_HOLIDAYS);
	g_autoptr(MdCalendar) offset = cal(HOURS("mon-fri 09:00-17:00"), "+03:00", NO_HOLIDAYS);
	g_autoptr(MdCalendar) overlap = cal(HOURS("fri 13:00-17:00 09:00-12:00", "mon-fri 11:00-14:00",
	                                          "fri 16:00-20:00"),
	                                    "UTC", NO_HOLIDAYS);

	/* an end before the start is the next morning's */
	g_assert_true(calendar_is_open(overnight, riga(2026, 11, 23, 23, 0)));
	g_assert_true(calendar_is_open(overnight, riga(2026, 11, 24, 8, 59)));
	g_assert_false(calendar_is_open(overnight, riga(2026, 11, 24, 9, 0)));
	g_assert_false(calendar_is_open(overnight, riga(2026, 11, 23, 16, 59)));

	g_assert_true(calendar_is_open(loose, riga(2026, 11, 23, 9, 0)));
	g_assert_true(calendar_is_open(loose, riga(2026, 11, 28, 23, 59)));
	g_assert_false(calendar_is_open(loose, riga(2026, 11, 29, 0, 0)));
	g_assert_false(calendar_is_open(loose, riga(2026, 12, 24, 12, 0)));

	/* fri-mon wraps past Sunday; tuesday to thursday stay closed */
	for (int d = 23; d <= 29; d++) {
		gboolean want = d == 23 || d >= 27;

		g_assert_cmpint(calendar_is_open(wrap, utc(2026, 11, d, 11, 0)), ==, want);
	}
	g_assert_cmpint(calendar_minutes_between(listed, utc(2026, 11, 23, 0, 0),
	                                         utc(2026, 11, 30, 0, 0)),
	                ==, 2 * 8 * 60);
	g_assert_cmpint(calendar_add_minutes(offset, utc(2026, 11, 23, 0, 0), 0), ==,
	                utc(2026, 11, 23, 6, 0));

	/* lines for the same day add up; overlaps count once, in any order */
	g_assert_cmpint(calendar_minutes_between(overlap, utc(2026, 11, 27, 0, 0),
	                                         utc(2026, 11, 28, 0, 0)),
	                ==, 11 * 60);
	g_assert_cmpint(calendar_add_minutes(overlap, utc(2026, 11, 27, 8, 0), 5 * 60), ==,
	                utc(2026, 11, 27, 14, 0));
	g_assert_cmpint(calendar_add_minutes(overlap, utc(2026, 11, 23, 8, 0), 0), ==,
	                utc(2026, 11, 23, 11, 0));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/calendar/same-day", test_same_day);
	g_test_add_func("/calendar/lunch-break", test_lunch_break);
	g_test_add_func("/calendar/weekend", test_weekend);
	g_test_add_func("/calendar/holiday", test_holiday);
	g_test_add_func("/calendar/outside-hours", test_outside_hours);
	g_test_add_func("/calendar/overnight", test_overnight);
	g_test_add_func("/calendar/24x7", test_24x7);
	g_test_add_func("/calendar/dst-riga", test_dst_riga);
	g_test_add_func("/calendar/moscow-vs-riga", test_moscow_vs_riga);
	g_test_add_func("/calendar/inverse", test_inverse);
	g_test_add_func("/calendar/open-agrees", test_open_agrees);
	g_test_add_func("/calendar/large-spans", test_large_spans);
	g_test_add_func("/calendar/parse-errors", test_parse_errors);
	g_test_add_func("/calendar/parse-forms", test_parse_forms);
	return g_test_run();
}
