/*
 * sla.h - the SLA targets of a ticket (DESIGN.md "Status, SLA and ETA"):
 * which calendar its clock runs on and when its first response and its
 * resolution are due.  Pure: calendar.c does the business-time sums.
 */
#ifndef MD_SLA_H
#define MD_SLA_H

#include "conf.h"
#include "store.h"

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

/*
 * When t must be resolved: its queue's resolution target counted from its
 * creation, moved by the business minutes it spent pending on the customer
 * (t->paused, and the pause still running at now when it is pending).
 * 0 when no honest instant exists.
 */
gint64 sla_ticket_resolution_due(const MdConfig *cfg, const MdQueue *q, const MdTicket *t,
                                 gint64 now);

/* Business minutes from a to b on the ticket's calendar (wall minutes when it has none). */
gint64 sla_business_minutes(const MdQueue *q, const char *priority, gint64 a, gint64 b);

#endif
