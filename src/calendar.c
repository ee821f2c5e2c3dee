/*
 * calendar.c - business time: opening hours, a time zone and holidays.
 *
 * Used by the SLA clocks and the ETA: "N business minutes after the ticket
 * arrived" and "business minutes the ticket has waited".  Pure; it must
 * never read the clock or the process's time zone.
 *
 * Hours are kept per weekday as minutes after local midnight.  Arithmetic
 * walks forward one local date at a time and turns each interval starting
 * on that date into a UTC span with g_date_time_new(), so DST, leap years
 * and odd zones are GLib's business, never ours; GDate steps the dates.
 * A week costs a few GDateTimes, whatever the number of minutes, and every
 * walk stops after a bounded number of dates.
 */
#include "config.h"

#include <string.h>

#include "calendar.h"

#define MINUTES_PER_DAY 1440
#define SECONDS_PER_DAY G_GINT64_CONSTANT(86400)

/* Twenty years of dates and a few weeks: far beyond any SLA target, yet a
 * walk over all of them stays in the milliseconds. */
#define CALENDAR_HORIZON_DAYS 7340

/* GDateTime covers 0001-01-01 to 9999-12-31 UTC; walks start a day back
 * and may run the whole horizon forward, and must stay inside. */
#define CALENDAR_MIN_UTC (G_GINT64_CONSTANT(-62135596800) + 3 * SECONDS_PER_DAY)
#define CALENDAR_MAX_UTC \
	(G_GINT64_CONSTANT(253402300799) - (CALENDAR_HORIZON_DAYS + 3) * SECONDS_PER_DAY)

typedef struct {
	guint start; /* minutes after local midnight, below MINUTES_PER_DAY */
	guint end;   /* start < end <= start + MINUTES_PER_DAY: past a day is tomorrow */
} Interval;

struct MdCalendar {
	GTimeZone *tz;
	GArray *week[7];    /* Interval, sorted by start, disjoint; [0] is Monday */
	GArray *holidays;   /* guint32 Julian day numbers, sorted */
	gboolean always;    /* every instant is business time */
};

/* GDateWeekday order, less one. */
static const char *const day_names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

/* ---- parsing ---- */

static int
day_index(const char *s, gsize len)
{
	for (int i = 0; i < 7; i++)
		if (len == 3 && g_ascii_strncasecmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

/* "mon-fri,sun" into days[]; on error *bad_r is the item at fault. */
static gboolean
parse_days(const char *spec, gboolean days[7], char **bad_r)
{
	g_auto(GStrv) items = g_strsplit(spec, ",", -1);

	for (guint i = 0; items[i] != NULL; i++) {
		const char *item = items[i];
		const char *dash = strchr(item, '-');
		int from, to;

		if (dash == NULL) {
			from = to = day_index(item, strlen(item));
		} else {
			from = day_index(item, dash - item);
			to = day_index(dash + 1, strlen(dash + 1));
		}
		if (from < 0 || to < 0) {
			*bad_r = g_strdup(item);
			return FALSE;
		}
		/* a range may wrap past Sunday: "fri-mon" is the long weekend */
		for (int d = from;; d = (d + 1) % 7) {
			days[d] = TRUE;
			if (d == to)
				break;
		}
	}
	return TRUE;
}

/* "H:MM" or "HH:MM", up to "24:00", as minutes after midnight. */
static gboolean
parse_clock(const char *s, gsize len, guint *minutes_r)
{
	guint h, m;

	if (len == 4 && g_ascii_isdigit(s[0]) && s[1] == ':') {
		h = s[0] - '0';
		s += 2;
	} else if (len == 5 && g_ascii_isdigit(s[0]) && g_ascii_isdigit(s[1]) && s[2] == ':') {
		h = (s[0] - '0') * 10 + (s[1] - '0');
		s += 3;
	} else {
		return FALSE;
	}
	if (!g_ascii_isdigit(s[0]) || !g_ascii_isdigit(s[1]))
		return FALSE;
	m = (s[0] - '0') * 10 + (s[1] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return FALSE;
	*minutes_r = h * 60 + m;
	return TRUE;
}

/* "HH:MM-HH:MM"; FALSE with *why_r set when it cannot be an interval. */
static gboolean
parse_interval(const char *tok, Interval *iv, const char **why_r)
{
	const char *dash = strchr(tok, '-');
	guint start, end;

	*why_r = "want HH:MM-HH:MM";
	if (dash == NULL || !parse_clock(tok, dash - tok, &start) ||
	    !parse_clock(dash + 1, strlen(dash + 1), &end))
		return FALSE;
	if (start == MINUTES_PER_DAY) {
		*why_r = "it cannot start at 24:00";
		return FALSE;
	}
	if (end == start) {
		*why_r = "it is empty; for a whole day write 00:00-24:00";
		return FALSE;
	}
	/* an end before the start is tomorrow's: "22:00-06:00" */
	if (end < start)
		end += MINUTES_PER_DAY;
	iv->start = start;
	iv->end = end;
	return TRUE;
}

/* One hours line into week[]; NULL on success, else what is wrong. */
static char *
parse_hours_line(const char *line, GArray *week[7])
{
	g_auto(GStrv) toks = g_strsplit_set(line, " \t", -1);
	g_autofree char *bad = NULL;
	gboolean days[7] = { FALSE };
	guint n = 0;
	const char *daytok = NULL;

	for (guint i = 0; toks[i] != NULL; i++) {
		Interval iv;
		const char *why;

		if (toks[i][0] == '\0')
			continue;
		if (daytok == NULL) {
			daytok = toks[i];
			if (!parse_days(daytok, days, &bad))
				return g_strdup_printf("hours line \"%s\": unknown day \"%s\" "
				                       "(want mon, tue, wed, thu, fri, sat or sun, "
				                       "or a range such as mon-fri)",
				                       line, bad);
			continue;
		}
		if (!parse_interval(toks[i], &iv, &why))
			return g_strdup_printf("hours line \"%s\": bad interval \"%s\": %s", line,
			                       toks[i], why);
		for (int d = 0; d < 7; d++)
			if (days[d])
				g_array_append_val(week[d], iv);
		n++;
	}
	if (n == 0)
		return g_strdup_printf("hours line \"%s\": no HH:MM-HH:MM interval after the days",
		                       line);
	return NULL;
}

static int
interval_cmp(gconstpointer a, gconstpointer b)
{
	const Interval *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* A walk needs each day's intervals in order of start; merging overlaps
 * as well spares it GDateTimes for minutes it would trim anyway. */
static void
merge_day(GArray *ivs)
{
	guint out = 0;

	g_array_sort(ivs, interval_cmp);
	for (guint i = 0; i < ivs->len; i++) {
		Interval *cur = &g_array_index(ivs, Interval, i);
		Interval *last = out > 0 ? &g_array_index(ivs, Interval, out - 1) : NULL;

		if (last != NULL && cur->start <= last->end)
			last->end = MAX(last->end, cur->end);
		else
			g_array_index(ivs, Interval, out++) = *cur;
	}
	g_array_set_size(ivs, out);
}

/* Every minute of the week covered, counting overnight intervals into the
 * next day, Sunday's into Monday. */
static gboolean
covers_week(GArray *const week[7])
{
	g_autofree guint8 *minute = g_malloc0(7 * MINUTES_PER_DAY);

	for (guint d = 0; d < 7; d++)
		for (guint i = 0; i < week[d]->len; i++) {
			const Interval *iv = &g_array_index(week[d], Interval, i);

			for (guint m = iv->start; m < iv->end; m++)
				minute[(d * MINUTES_PER_DAY + m) % (7 * MINUTES_PER_DAY)] = 1;
		}
	for (guint m = 0; m < 7 * MINUTES_PER_DAY; m++)
		if (!minute[m])
			return FALSE;
	return TRUE;
}

/* Strictly "YYYY-MM-DD", a real date. */
static gboolean
parse_date(const char *s, GDate *date_r)
{
	guint y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return FALSE;
	for (guint i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !g_ascii_isdigit(s[i]))
			return FALSE;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (!g_date_valid_dmy(d, m, y))
		return FALSE;
	g_date_clear(date_r, 1);
	g_date_set_dmy(date_r, d, m, y);
	return TRUE;
}

static int
julian_cmp(gconstpointer a, gconstpointer b)
{
	guint32 x = *(const guint32 *)a, y = *(const guint32 *)b;

	return x < y ? -1 : x > y;
}

static char *
parse_hours(const char *const *hours, GArray *week[7])
{
	guint lines = 0;
	gboolean always = FALSE;

	for (guint i = 0; hours != NULL && hours[i] != NULL; i++) {
		g_autofree char *line = g_strstrip(g_strdup(hours[i]));
		char *err;

		if (line[0] == '\0')
			continue;
		lines++;
		if (strcmp(line, "24/7") == 0) {
			always = TRUE;
			continue;
		}
		err = parse_hours_line(line, week);
		if (err != NULL)
			return err;
	}
	if (lines == 0)
		return g_strdup("hours: none given (write lines such as \"mon-fri 09:00-17:00\", "
		                "or \"24/7\")");
	if (always && lines > 1)
		return g_strdup("hours: \"24/7\" must be the only line");
	if (always)
		for (int d = 0; d < 7; d++) {
			Interval all = { 0, MINUTES_PER_DAY };

			g_array_append_val(week[d], all);
		}
	for (int d = 0; d < 7; d++)
		merge_day(week[d]);
	return NULL;
}

MdCalendar *
calendar_new(const char *const *hours, const char *tz, const char *const *holidays,
             char **error_r)
{
	g_autoptr(MdCalendar) c = g_new0(MdCalendar, 1);
	char *err;

	*error_r = NULL;
	for (int d = 0; d < 7; d++)
		c->week[d] = g_array_new(FALSE, FALSE, sizeof(Interval));
	c->holidays = g_array_new(FALSE, FALSE, sizeof(guint32));

	err = parse_hours(hours, c->week);
	if (err != NULL) {
		*error_r = err;
		return NULL;
	}

	/* NULL or "" would silently mean the server's own zone */
	if (tz == NULL || tz[0] == '\0') {
		*error_r = g_strdup("time zone missing (want an IANA name such as Europe/Riga)");
		return NULL;
	}
	c->tz = g_time_zone_new_identifier(tz);
	if (c->tz == NULL) {
		*error_r = g_strdup_printf("unknown time zone \"%s\" (want an IANA name such as "
		                           "Europe/Riga)",
		                           tz);
		return NULL;
	}

	for (guint i = 0; holidays != NULL && holidays[i] != NULL; i++) {
		g_autofree char *text = g_strstrip(g_strdup(holidays[i]));
		GDate date;
		guint32 julian;

		if (text[0] == '\0')
			continue;
		if (!parse_date(text, &date)) {
			*error_r = g_strdup_printf("holiday \"%s\": not a date (want YYYY-MM-DD)",
			                           text);
			return NULL;
		}
		julian = g_date_get_julian(&date);
		g_array_append_val(c->holidays, julian);
	}
	g_array_sort(c->holidays, julian_cmp);

	c->always = c->holidays->len == 0 && covers_week(c->week);
	return g_steal_pointer(&c);
}

void
calendar_free(MdCalendar *c)
{
	if (c == NULL)
		return;
	if (c->tz != NULL)
		g_time_zone_unref(c->tz);
	for (int d = 0; d < 7; d++)
		if (c->week[d] != NULL)
			g_array_unref(c->week[d]);
	if (c->holidays != NULL)
		g_array_unref(c->holidays);
	g_free(c);
}

gboolean
calendar_is_24x7(const MdCalendar *c)
{
	return c->always;
}

/* ---- walking business time ---- */

static gboolean
is_holiday(const MdCalendar *c, const GDate *day)
{
	guint32 j = g_date_get_julian(day);
	guint lo = 0, hi = c->holidays->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		guint32 h = g_array_index(c->holidays, guint32, mid);

		if (h == j)
			return TRUE;
		if (h < j)
			lo = mid + 1;
		else
			hi = mid;
	}
	return FALSE;
}

/* The local date t falls on in the calendar's zone. */
static gboolean
local_date(const MdCalendar *c, gint64 t, GDate *day_r)
{
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(t);
	g_autoptr(GDateTime) local = NULL;

	if (utc == NULL)
		return FALSE;
	local = g_date_time_to_timezone(utc, c->tz);
	if (local == NULL)
		return FALSE;
	g_date_clear(day_r, 1);
	g_date_set_dmy(day_r, g_date_time_get_day_of_month(local), g_date_time_get_month(local),
	               g_date_time_get_year(local));
	return TRUE;
}

/* The instant of wall-clock time `minute` after the start of local date
 * day (minute may run into the next day).  Gaps and repeated hours are
 * resolved by g_date_time_new(): see calendar.h. */
static gboolean
local_to_utc(const MdCalendar *c, const GDate *day, guint minute, gint64 *utc_r)
{
	GDate d = *day;
	g_autoptr(GDateTime) dt = NULL;

	if (minute >= MINUTES_PER_DAY) {
		g_date_add_days(&d, minute / MINUTES_PER_DAY);
		minute %= MINUTES_PER_DAY;
	}
	dt = g_date_time_new(c->tz, g_date_get_year(&d), g_date_get_month(&d), g_date_get_day(&d),
	                     minute / 60, minute % 60, 0);
	if (dt == NULL)
		return FALSE;
	*utc_r = g_date_time_to_unix(dt);
	return TRUE;
}

/*
 * Business time from an instant on, as disjoint UTC spans in order.  Each
 * local date contributes the intervals that start on it; `covered` trims
 * whatever an earlier span (yesterday's overnight shift) already counted.
 */
typedef struct {
	const MdCalendar *cal;
	GDate day;          /* the date whose intervals are being read */
	const GArray *ivs;  /* its intervals; NULL on a holiday */
	guint next;         /* the next of them to read */
	guint days_left;    /* dates still to read after day */
	gint64 covered;     /* business time before this instant is spent */
} Walk;

static void
walk_load_day(Walk *w)
{
	w->ivs = is_holiday(w->cal, &w->day)
	                 ? NULL
	                 : w->cal->week[g_date_get_weekday(&w->day) - G_DATE_MONDAY];
	w->next = 0;
}

/* Starts at from, reading at most `days` dates.  The date before from's
 * own is read first: its overnight interval may still be running. */
static gboolean
walk_init(Walk *w, const MdCalendar *c, gint64 from, guint days)
{
	w->cal = c;
	if (!local_date(c, from, &w->day))
		return FALSE;
	g_date_subtract_days(&w->day, 1);
	walk_load_day(w);
	w->days_left = days > 0 ? days - 1 : 0;
	w->covered = from;
	return TRUE;
}

static gboolean
walk_next(Walk *w, gint64 *start_r, gint64 *end_r)
{
	for (;;) {
		const Interval *iv;
		gint64 s, e;

		if (w->ivs == NULL || w->next >= w->ivs->len) {
			if (w->days_left == 0)
				return FALSE;
			w->days_left--;
			g_date_add_days(&w->day, 1);
			walk_load_day(w);
			continue;
		}
		iv = &g_array_index(w->ivs, Interval, w->next);
		w->next++;
		if (!local_to_utc(w->cal, &w->day, iv->start, &s) ||
		    !local_to_utc(w->cal, &w->day, iv->end, &e))
			continue;
		if (s < w->covered)
			s = w->covered;
		/* already counted, or swallowed whole by a spring-forward gap */
		if (e <= s)
			continue;
		w->covered = e;
		*start_r = s;
		*end_r = e;
		return TRUE;
	}
}

gint64
calendar_add_minutes(const MdCalendar *c, gint64 start, gint64 minutes)
{
	gint64 need, s, e;
	Walk w;

	if (minutes < 0)
		minutes = 0;
	if (minutes > G_MAXINT64 / 60)
		return CALENDAR_NEVER;
	need = minutes * 60;
	if (c->always)
		return start > G_MAXINT64 - need ? CALENDAR_NEVER : start + need;
	if (start < CALENDAR_MIN_UTC || start > CALENDAR_MAX_UTC)
		return CALENDAR_NEVER;
	if (!walk_init(&w, c, start, CALENDAR_HORIZON_DAYS))
		return CALENDAR_NEVER;
	while (walk_next(&w, &s, &e)) {
		if (need <= e - s)
			return s + need;
		need -= e - s;
	}
	return CALENDAR_NEVER;
}

gint64
calendar_minutes_between(const MdCalendar *c, gint64 a, gint64 b)
{
	gint64 total = 0, s, e;
	guint days;
	Walk w;

	if (b <= a)
		return 0;
	if (c->always)
		return (gint64)(((guint64)b - (guint64)a) / 60);
	a = CLAMP(a, CALENDAR_MIN_UTC, CALENDAR_MAX_UTC);
	b = CLAMP(b, CALENDAR_MIN_UTC, CALENDAR_MAX_UTC);
	if (b <= a)
		return 0;
	/* b's local date is at most (b - a) / day + 1 dates after a's; with the
	 * date before a's and a spare one for a changed UTC offset: + 4 */
	days = (guint)MIN((b - a) / SECONDS_PER_DAY + 4, (gint64)CALENDAR_HORIZON_DAYS);
	if (!walk_init(&w, c, a, days))
		return 0;
	while (walk_next(&w, &s, &e) && s < b)
		total += MIN(e, b) - s;
	return total / 60;
}

gboolean
calendar_is_open(const MdCalendar *c, gint64 t)
{
	gint64 s, e;
	Walk w;

	if (c->always)
		return TRUE;
	if (t < CALENDAR_MIN_UTC || t > CALENDAR_MAX_UTC)
		return FALSE;
	/* an interval running at t started on t's local date or the one before */
	if (!walk_init(&w, c, t, 2))
		return FALSE;
	return walk_next(&w, &s, &e) && s == t;
}
