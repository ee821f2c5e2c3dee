/*
 * test_datefmt.c - datefmt: long dates in en/ru/lv, RFC 5322, ISO 8601,
 * across day, month, year and leap-day boundaries and odd offsets.
 */
#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "datefmt.h"

#define T_2026_11_24_1500 G_GINT64_CONSTANT(1795532400) /* Tuesday */
#define T_2026_12_31_2330 G_GINT64_CONSTANT(1798759800) /* Thursday */
#define T_2027_01_01_0015 G_GINT64_CONSTANT(1798762500) /* Friday */
#define T_2026_02_28_2200 G_GINT64_CONSTANT(1772316000) /* Saturday */
#define T_2028_02_29_1200 G_GINT64_CONSTANT(1835438400) /* Tuesday, leap day */
#define T_2026_06_30_2000 G_GINT64_CONSTANT(1782849600) /* Tuesday */

typedef struct {
	gint64 utc;
	int tz;
	const char *lang;
	const char *want;
} LongCase;

static const LongCase long_cases[] = {
	/* The examples of datefmt.h. */
	{ T_2026_11_24_1500, 120, "en", "Tuesday, 24 November 2026, 17:00 (UTC+02:00)" },
	{ T_2026_11_24_1500, 180, "ru", "вторник, 24 ноября 2026 г., 18:00 (UTC+03:00)" },
	{ T_2026_11_24_1500, 120, "lv", "otrdiena, 2026. gada 24. novembris, 17:00 (UTC+02:00)" },
	/* New year east of UTC, old year west of it. */
	{ T_2026_12_31_2330, 60, "en", "Friday, 1 January 2027, 00:30 (UTC+01:00)" },
	{ T_2026_12_31_2330, 60, "ru", "пятница, 1 января 2027 г., 00:30 (UTC+01:00)" },
	{ T_2026_12_31_2330, 60, "lv", "piektdiena, 2027. gada 1. janvāris, 00:30 (UTC+01:00)" },
	{ T_2026_12_31_2330, -300, "en", "Thursday, 31 December 2026, 18:30 (UTC-05:00)" },
	{ T_2026_12_31_2330, -300, "ru", "четверг, 31 декабря 2026 г., 18:30 (UTC-05:00)" },
	{ T_2026_12_31_2330, -300, "lv", "ceturtdiena, 2026. gada 31. decembris, 18:30 (UTC-05:00)" },
	{ T_2027_01_01_0015, -60, "en", "Thursday, 31 December 2026, 23:15 (UTC-01:00)" },
	{ T_2027_01_01_0015, -210, "en", "Thursday, 31 December 2026, 20:45 (UTC-03:30)" },
	{ T_2027_01_01_0015, 0, "en", "Friday, 1 January 2027, 00:15 (UTC+00:00)" },
	/* Half-hour offsets across a month end. */
	{ T_2026_02_28_2200, 330, "en", "Sunday, 1 March 2026, 03:30 (UTC+05:30)" },
	{ T_2026_02_28_2200, 330, "ru", "воскресенье, 1 марта 2026 г., 03:30 (UTC+05:30)" },
	{ T_2026_02_28_2200, 330, "lv", "svētdiena, 2026. gada 1. marts, 03:30 (UTC+05:30)" },
	{ T_2026_02_28_2200, -30, "en", "Saturday, 28 February 2026, 21:30 (UTC-00:30)" },
	{ T_2026_02_28_2200, 345, "en", "Sunday, 1 March 2026, 03:45 (UTC+05:45)" },
	/* Leap day and the widest real offset. */
	{ T_2028_02_29_1200, 0, "ru", "вторник, 29 февраля 2028 г., 12:00 (UTC+00:00)" },
	{ T_2028_02_29_1200, 720, "en", "Wednesday, 1 March 2028, 00:00 (UTC+12:00)" },
	{ T_2028_02_29_1200, 840, "lv", "trešdiena, 2028. gada 1. marts, 02:00 (UTC+14:00)" },
	{ T_2028_02_29_1200, -720, "en", "Tuesday, 29 February 2028, 00:00 (UTC-12:00)" },
	{ T_2026_06_30_2000, 240, "lv", "trešdiena, 2026. gada 1. jūlijs, 00:00 (UTC+04:00)" },
	{ T_2026_06_30_2000, 240, "ru", "среда, 1 июля 2026 г., 00:00 (UTC+04:00)" },
	/* Language tags: region and case do not matter, unknown means en. */
	{ T_2026_11_24_1500, 0, "RU", "вторник, 24 ноября 2026 г., 15:00 (UTC+00:00)" },
	{ T_2026_11_24_1500, 0, "lv-LV", "otrdiena, 2026. gada 24. novembris, 15:00 (UTC+00:00)" },
	{ T_2026_11_24_1500, 0, "ru_RU.UTF-8", "вторник, 24 ноября 2026 г., 15:00 (UTC+00:00)" },
	{ T_2026_11_24_1500, 0, "de", "Tuesday, 24 November 2026, 15:00 (UTC+00:00)" },
	{ T_2026_11_24_1500, 0, "rus", "Tuesday, 24 November 2026, 15:00 (UTC+00:00)" },
	{ T_2026_11_24_1500, 0, NULL, "Tuesday, 24 November 2026, 15:00 (UTC+00:00)" },
	{ T_2026_11_24_1500, 0, "", "Tuesday, 24 November 2026, 15:00 (UTC+00:00)" },
	/* An offset no zone has (a broken Date header) is shown in UTC. */
	{ T_2026_11_24_1500, 6000, "en", "Tuesday, 24 November 2026, 15:00 (UTC+00:00)" },
	{ T_2026_11_24_1500, -1440, "en", "Tuesday, 24 November 2026, 15:00 (UTC+00:00)" },
	{ T_2026_11_24_1500, 1439, "en", "Wednesday, 25 November 2026, 14:59 (UTC+23:59)" },
};

static void
test_long(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(long_cases); i++) {
		const LongCase *c = &long_cases[i];
		g_autofree char *got = datefmt_long(c->utc, c->tz, c->lang);

		g_test_message("case %u: %s", i, c->want);
		g_assert_cmpstr(got, ==, c->want);
		g_assert_true(g_utf8_validate(got, -1, NULL));
	}
}

/* Every weekday and month name of every language appears once a year. */
static void
test_long_all_names(void)
{
	static const char *const langs[] = { "en", "ru", "lv" };
	static const char *const want_ru_months[] = {
		"января", "февраля", "марта", "апреля", "мая", "июня",
		"июля", "августа", "сентября", "октября", "ноября", "декабря",
	};
	static const char *const want_lv_days[] = {
		"pirmdiena", "otrdiena", "trešdiena", "ceturtdiena",
		"piektdiena", "sestdiena", "svētdiena",
	};
	gint64 jan1 = G_GINT64_CONSTANT(1767225600); /* 2026-01-01, a Thursday */

	for (int m = 0; m < 12; m++) {
		g_autoptr(GDateTime) d = g_date_time_new_utc(2026, m + 1, 15, 12, 0, 0);
		g_autofree char *ru = datefmt_long(g_date_time_to_unix(d), 0, "ru");
		g_autofree char *expect = g_strdup_printf(" 15 %s 2026 г.", want_ru_months[m]);

		g_assert_nonnull(strstr(ru, expect));
	}
	for (int k = 0; k < 7; k++) {
		/* 2026-01-05 is a Monday. */
		gint64 t = jan1 + (4 + k) * 86400 + 43200;
		g_autofree char *lv = datefmt_long(t, 0, "lv");

		g_assert_true(g_str_has_prefix(lv, want_lv_days[k]));
		g_assert_true(lv[strlen(want_lv_days[k])] == ',');
	}
	for (guint l = 0; l < G_N_ELEMENTS(langs); l++) {
		for (int k = 0; k < 366; k++) {
			g_autofree char *s = datefmt_long(jan1 + k * 86400, 0, langs[l]);

			g_assert_true(g_utf8_validate(s, -1, NULL));
			/* Weekday capitalised in English only. */
			if (strcmp(langs[l], "en") == 0)
				g_assert_true(g_ascii_isupper(s[0]));
			else
				g_assert_true(g_unichar_islower(g_utf8_get_char(s)));
		}
	}
}

static void
test_rfc5322(void)
{
	static const struct {
		gint64 utc;
		int tz;
		const char *want;
	} cases[] = {
		{ T_2026_11_24_1500, 120, "Tue, 24 Nov 2026 17:00:00 +0200" },
		{ T_2026_11_24_1500, 0, "Tue, 24 Nov 2026 15:00:00 +0000" },
		{ T_2026_11_24_1500, -330, "Tue, 24 Nov 2026 09:30:00 -0530" },
		{ T_2027_01_01_0015, 60, "Fri, 1 Jan 2027 01:15:00 +0100" },
		{ T_2027_01_01_0015, -60, "Thu, 31 Dec 2026 23:15:00 -0100" },
		{ T_2026_02_28_2200, 330, "Sun, 1 Mar 2026 03:30:00 +0530" },
		{ T_2026_02_28_2200, -30, "Sat, 28 Feb 2026 21:30:00 -0030" },
		{ T_2028_02_29_1200, 0, "Tue, 29 Feb 2028 12:00:00 +0000" },
		{ G_GINT64_CONSTANT(0), 0, "Thu, 1 Jan 1970 00:00:00 +0000" },
		{ G_GINT64_CONSTANT(59), 0, "Thu, 1 Jan 1970 00:00:59 +0000" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *got = datefmt_rfc5322(cases[i].utc, cases[i].tz);
		g_autoptr(GDateTime) back = g_mime_utils_header_decode_date(got);

		g_assert_cmpstr(got, ==, cases[i].want);
		/* GMime reads back the same instant and offset. */
		g_assert_nonnull(back);
		g_assert_cmpint(g_date_time_to_unix(back), ==, cases[i].utc);
		g_assert_cmpint(g_date_time_get_utc_offset(back), ==,
		                (GTimeSpan)cases[i].tz * 60 * G_TIME_SPAN_SECOND);
	}
}

static void
test_iso8601(void)
{
	g_autofree char *a = datefmt_iso8601(T_2026_11_24_1500);
	g_autofree char *b = datefmt_iso8601(0);
	g_autofree char *c = datefmt_iso8601(-1);
	g_autofree char *d = datefmt_iso8601(T_2026_12_31_2330 + 1800);

	g_assert_cmpstr(a, ==, "2026-11-24T15:00:00Z");
	g_assert_cmpstr(b, ==, "1970-01-01T00:00:00Z");
	g_assert_cmpstr(c, ==, "1969-12-31T23:59:59Z");
	g_assert_cmpstr(d, ==, "2027-01-01T00:00:00Z");
}

/* Instants GDateTime cannot hold are clamped, never a crash or NULL. */
static void
test_extremes(void)
{
	g_autofree char *hi = datefmt_long(G_MAXINT64, 840, "ru");
	g_autofree char *lo = datefmt_long(G_MININT64, -720, "lv");
	g_autofree char *r = datefmt_rfc5322(G_MAXINT64, G_MININT);
	g_autofree char *iso = datefmt_iso8601(G_MININT64);

	g_assert_nonnull(strstr(hi, "9999 г."));
	g_assert_nonnull(strstr(lo, "1. gada"));
	g_assert_true(g_str_has_suffix(r, "+0000"));
	g_assert_true(g_str_has_prefix(iso, "0001-01-0"));
}

int
main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	g_mime_init();
	g_test_add_func("/datefmt/long", test_long);
	g_test_add_func("/datefmt/long-all-names", test_long_all_names);
	g_test_add_func("/datefmt/rfc5322", test_rfc5322);
	g_test_add_func("/datefmt/iso8601", test_iso8601);
	g_test_add_func("/datefmt/extremes", test_extremes);
	rc = g_test_run();
	g_mime_shutdown();
	return rc;
}
