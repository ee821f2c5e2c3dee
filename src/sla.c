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

gint64
sla_business_minutes(const MdQueue *q, const char *priority, gint64 a, gint64 b)
{
	const MdCalendar *cal = sla_calendar(q, priority);

	if (b <= a)
		return 0;
	return cal != NULL ? calendar_minutes_between(cal, a, b) : (b - a) / 60;
}

gint64
sla_ticket_resolution_due(const MdConfig *cfg, const MdQueue *q, const MdTicket *t, gint64 now)
{
	int p = conf_priority_index(t->priority);
	const MdCalendar *cal = sla_calendar(q, t->priority);
	gint64 paused = t->paused, at;

	if (t->pending_since > 0)
		paused += sla_business_minutes(q, t->priority, t->pending_since, now);
	if (p < 0 || q->resolution[p] == 0 || cal == NULL)
		return t->created + cfg->default_resolution + paused * 60;
	at = calendar_add_minutes(cal, t->created, q->resolution[p] + paused);
	return at == CALENDAR_NEVER ? 0 : at;
}
