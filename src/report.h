/*
 * report.h - the figures of "maildesk report" and of the leads' digest:
 * tickets opened and solved, first-response and resolution times, SLA
 * compliance, backlog and satisfaction, over a period.
 *
 * Pure: tickets, their status events and the votes come in as plain
 * rows (store.c reads them), the calendars from the configuration, and
 * the instant of the report as an argument; nothing here reads a clock
 * or a database, so every figure is unit-testable.
 *
 * Definitions (doc/maildesk.8, REPORT, says the same to admins):
 * - opened: tickets created in [since, until); solved: tickets that went
 *   from an unfinished status to solved or closed in the period (a
 *   'status' event), each ticket once a day and once in the total;
 * - times are business minutes on each ticket's calendar (its queue's,
 *   the urgent one for urgent tickets; wall minutes without one), for
 *   its current queue and priority; the first-response time is taken
 *   for tickets opened in the period, the resolution time (less the
 *   time spent pending on the customer, from the status events) for
 *   tickets solved or closed now whose last solve is in the period;
 * - compliance covers the tickets opened in the period whose queue sets
 *   a target for their priority: met, missed, or still running (neither
 *   answered/resolved nor past the target at the report's instant, and
 *   left out of the share); an unanswered or unresolved ticket past its
 *   target is missed, a ticket finished without any reply has no first
 *   response to judge;
 * - percentiles are nearest-rank: the value of rank ceil(p/100 * n) in
 *   ascending order, so the median of an even count is the lower middle.
 */
#ifndef MD_REPORT_H
#define MD_REPORT_H

#include <glib.h>

#include "conf.h"
#include "store.h"

/* The open statuses, in the order reports show them. */
#define REPORT_OPEN_STATUSES 4
extern const char *const report_open_statuses[REPORT_OPEN_STATUSES];

/* Periods longer than this get no per-day rows. */
#define REPORT_MAX_DAYS 92

/* Nearest-rank percentile (1..100) of n values sorted ascending; 0 when n is 0. */
gint64 report_percentile(const gint64 *sorted, guint n, int p);

typedef enum {
	REPORT_SLA_NONE,    /* no target to judge by */
	REPORT_SLA_RUNNING, /* not done, target not yet passed */
	REPORT_SLA_MET,
	REPORT_SLA_MISSED,
} MdSlaOutcome;

/*
 * The outcome against target (business minutes, 0: none) of something
 * that took elapsed business minutes (done) or has been running that
 * long (not done).  Exactly on the target is met.
 */
MdSlaOutcome report_sla_outcome(gint64 target, gboolean done, gint64 elapsed);

typedef struct {
	gint64 target; /* business minutes, 0: none */
	guint met, missed, running;
} MdCompliance;

/* Per cent of met among met and missed, rounded down; -1 when both are 0. */
int report_compliance_percent(const MdCompliance *c);

typedef struct {
	gint64 day; /* UTC seconds of its 00:00 UTC */
	guint opened, solved;
} MdReportDay;

typedef struct {
	guint count;
	gint64 median, p90; /* business minutes; 0 when count is 0 */
} MdReportTimes;

typedef struct {
	char *queue;
	char *priority;
	MdCompliance first_response, resolution;
} MdReportSla;

typedef struct {
	char *key;  /* queue name, or agent address */
	char *name; /* agent's display name from the config, or NULL */
	guint total;
	guint by_status[REPORT_OPEN_STATUSES];
} MdReportBacklog;

typedef struct {
	gint64 since, until, now;
	GPtrArray *queues; /* char*: the queues covered */
	guint opened, solved;
	GArray *days;      /* MdReportDay, oldest first; empty past REPORT_MAX_DAYS */
	MdReportTimes first_response, resolution;
	GPtrArray *sla;    /* MdReportSla*, by queue (config order) and priority */
	GPtrArray *backlog_queues; /* MdReportBacklog*, every queue covered */
	GPtrArray *backlog_agents; /* MdReportBacklog*, agents with open tickets, by address */
	guint csat_count;
	double csat_average; /* 0 when csat_count is 0 */
} MdReport;

void report_free(MdReport *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MdReport, report_free)

/*
 * The report over [since, until) as known at now.  queues (names,
 * NULL-terminated) limits it to those queues; NULL covers every queue
 * of cfg and any other queue a ticket names.  tickets (MdTicket) and
 * events (MdStatusEvent, by ticket and then time) as store_report_*
 * give them; votes (MdCsatRow) cast in the period.  Caller frees.
 */
MdReport *report_compute(const MdConfig *cfg, const char *const *queues, GArray *tickets,
                         GArray *events, GArray *votes, gint64 since, gint64 until, gint64 now);

/*
 * Business minutes a ticket spent pending on the customer within
 * [from, to), from its status events (n of them, oldest first) on its
 * calendar.  Pure helper of report_compute, exported for the tests.
 */
gint64 report_pending_minutes(const MdQueue *q, const char *priority, const MdStatusEvent *events,
                              guint n, gint64 from, gint64 to);

#endif
