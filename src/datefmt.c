/*
 * datefmt.c - instants written for people, in their language and offset.
 *
 * Used when a template context is built (the ETA and other dates in
 * customer mail) and by compose.c for the Date header.  Pure: GDateTime
 * does the calendar arithmetic; names come from the tables below, never
 * from the process locale, so a server without ru/lv locales writes the
 * same text as one with them.
 */
#include "config.h"

#include <string.h>

#include "datefmt.h"

/* Offsets beyond this are not real zones; such input is shown in UTC. */
#define DATEFMT_MAX_OFFSET_MINUTES (23 * 60 + 59)

/* GDateTime covers years 1..9999; keep a day of margin for the offset. */
#define DATEFMT_MIN_UTC (G_GINT64_CONSTANT(-62135596800) + 86400)
#define DATEFMT_MAX_UTC (G_GINT64_CONSTANT(253402300799) - 86400)

typedef enum {
	LANG_EN,
	LANG_RU,
	LANG_LV,
} Lang;

/* Indexed by GDateTime's day of week - 1 (Monday first). */
static const char *const weekdays[][7] = {
	[LANG_EN] = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
	              "Sunday" },
	[LANG_RU] = { "понедельник", "вторник", "среда", "четверг", "пятница", "суббота",
	              "воскресенье" },
	[LANG_LV] = { "pirmdiena", "otrdiena", "trešdiena", "ceturtdiena", "piektdiena",
	              "sestdiena", "svētdiena" },
};

/* Russian in the genitive ("24 ноября"), Latvian in the nominative
 * ("2026. gada 24. novembris"), as each language writes a full date. */
static const char *const months[][12] = {
	[LANG_EN] = { "January", "February", "March", "April", "May", "June", "July",
	              "August", "September", "October", "November", "December" },
	[LANG_RU] = { "января", "февраля", "марта", "апреля", "мая", "июня", "июля",
	              "августа", "сентября", "октября", "ноября", "декабря" },
	[LANG_LV] = { "janvāris", "februāris", "marts", "aprīlis", "maijs", "jūnijs",
	              "jūlijs", "augusts", "septembris", "oktobris", "novembris",
	              "decembris" },
};

/* RFC 5322 names: English whatever the locale. */
static const char *const rfc_days[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const rfc_months[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static Lang
lang_from_tag(const char *lang)
{
	/* "ru", "RU", "ru-RU", "ru_RU.UTF-8" all mean Russian. */
	if (lang == NULL)
		return LANG_EN;
	if (g_ascii_strncasecmp(lang, "ru", 2) == 0 && !g_ascii_isalpha(lang[2]))
		return LANG_RU;
	if (g_ascii_strncasecmp(lang, "lv", 2) == 0 && !g_ascii_isalpha(lang[2]))
		return LANG_LV;
	return LANG_EN;
}

/* utc shown at tz_minutes east; never NULL.  Caller unrefs. */
static GDateTime *
local_time(gint64 utc, int *tz_minutes)
{
	g_autoptr(GDateTime) u = NULL;
	g_autoptr(GTimeZone) tz = NULL;

	if (*tz_minutes > DATEFMT_MAX_OFFSET_MINUTES || *tz_minutes < -DATEFMT_MAX_OFFSET_MINUTES)
		*tz_minutes = 0;
	utc = CLAMP(utc, DATEFMT_MIN_UTC, DATEFMT_MAX_UTC);
	u = g_date_time_new_from_unix_utc(utc);
	g_assert(u != NULL);
	tz = g_time_zone_new_offset(*tz_minutes * 60);
	return g_date_time_to_timezone(u, tz);
}

/* "+02:00" (colon) or "+0200" (no colon). */
static void
append_offset(GString *out, int tz_minutes, gboolean colon)
{
	int a = ABS(tz_minutes);

	g_string_append_printf(out, "%c%02d%s%02d", tz_minutes < 0 ? '-' : '+', a / 60,
	                       colon ? ":" : "", a % 60);
}

char *
datefmt_long(gint64 utc, int tz_minutes, const char *lang)
{
	Lang l = lang_from_tag(lang);
	g_autoptr(GDateTime) t = local_time(utc, &tz_minutes);
	GString *out = g_string_new(NULL);
	const char *wday = weekdays[l][g_date_time_get_day_of_week(t) - 1];
	const char *month = months[l][g_date_time_get_month(t) - 1];
	int day = g_date_time_get_day_of_month(t);
	int year = g_date_time_get_year(t);

	switch (l) {
	case LANG_EN:
		g_string_append_printf(out, "%s, %d %s %d", wday, day, month, year);
		break;
	case LANG_RU:
		g_string_append_printf(out, "%s, %d %s %d г.", wday, day, month, year);
		break;
	case LANG_LV:
		g_string_append_printf(out, "%s, %d. gada %d. %s", wday, year, day, month);
		break;
	}
	g_string_append_printf(out, ", %02d:%02d (UTC", g_date_time_get_hour(t),
	                       g_date_time_get_minute(t));
	append_offset(out, tz_minutes, TRUE);
	g_string_append_c(out, ')');
	return g_string_free(out, FALSE);
}

char *
datefmt_rfc5322(gint64 utc, int tz_minutes)
{
	g_autoptr(GDateTime) t = local_time(utc, &tz_minutes);
	GString *out = g_string_new(NULL);

	g_string_append_printf(out, "%s, %d %s %04d %02d:%02d:%02d ",
	                       rfc_days[g_date_time_get_day_of_week(t) - 1],
	                       g_date_time_get_day_of_month(t),
	                       rfc_months[g_date_time_get_month(t) - 1], g_date_time_get_year(t),
	                       g_date_time_get_hour(t), g_date_time_get_minute(t),
	                       g_date_time_get_second(t));
	append_offset(out, tz_minutes, FALSE);
	return g_string_free(out, FALSE);
}

char *
datefmt_iso8601(gint64 utc)
{
	int tz_minutes = 0;
	g_autoptr(GDateTime) t = local_time(utc, &tz_minutes);

	return g_strdup_printf("%04d-%02d-%02dT%02d:%02d:%02dZ", g_date_time_get_year(t),
	                       g_date_time_get_month(t), g_date_time_get_day_of_month(t),
	                       g_date_time_get_hour(t), g_date_time_get_minute(t),
	                       g_date_time_get_second(t));
}
