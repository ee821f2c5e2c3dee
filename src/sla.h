/*
 * sla.h - the SLA targets of a ticket (DESIGN.md "Status, SLA and ETA"):
 * which calendar its clock runs on and when its first response and its
 * resolution are due.  Pure: calendar.c does the business-time sums.
 */
#ifndef MD_SLA_H
#define MD_SLA_H

#include "conf.h"

/* The calendar for a ticket of priority in q: urgent_calendar for urgent
 * tickets when set, else the queue's calendar; NULL when it has none. */
const MdCalendar *sla_calendar(const MdQueue *q, const char *priority);

/*
 * When a ticket of priority in q, counted from since (UTC seconds), must
 * be resolved: the queue's resolution target in business time on its
 * calendar, else since + [sla] default_resolution.  0 when the calendar
 * has no business time within its horizon (no honest ETA).
 */
gint64 sla_resolution_due(const MdConfig *cfg, const MdQueue *q, const char *priority,
                          gint64 since);

/* The same for the first response; 0 when the queue sets no target. */
gint64 sla_first_response_due(const MdQueue *q, const char *priority, gint64 since);

#endif
