/*
 * clock.c - overridable wall clock.
 */
#include "config.h"

#include "clock.h"

static gint64 fixed_now;

gint64
clock_now(void)
{
	if (fixed_now != 0)
		return fixed_now;
	return g_get_real_time() / G_USEC_PER_SEC;
}

void
clock_set(gint64 utc)
{
	fixed_now = utc;
}

gboolean
clock_parse_iso8601(const char *text, gint64 *utc_r)
{
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(text, utc);

	if (dt == NULL)
		return FALSE;
	*utc_r = g_date_time_to_unix(dt);
	return TRUE;
}
