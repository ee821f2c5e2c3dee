/*
 * sla.c - targets to instants.
 */
#include "config.h"

#include "sla.h"

const MdCalendar *
sla_calendar(const MdQueue *q, const char *priority)
{
	if (q->urgent_calendar != NULL && conf_priority_index(priority) == PRIORITY_URGENT)
		return q->urgent_calendar;
	return q->calendar;
}

static gint64
due(const MdQueue *q, const char *priority, const gint64 *targets, gint64 since)
{
	int p = conf_priority_index(priority);
	const MdCalendar *cal = sla_calendar(q, priority);
	gint64 at;

	if (p < 0 || targets[p] == 0 || cal == NULL)
		return -1;
	at = calendar_add_minutes(cal, since, targets[p]);
	return at == CALENDAR_NEVER ? 0 : at;
}

gint64
sla_resolution_due(const MdConfig *cfg, const MdQueue *q, const char *priority, gint64 since)
{
	gint64 at = due(q, priority, q->resolution, since);

	return at >= 0 ? at : since + cfg->default_resolution;
}

gint64
sla_first_response_due(const MdQueue *q, const char *priority, gint64 since)
{
	gint64 at = due(q, priority, q->first_response, since);

	return at >= 0 ? at : 0;
}
