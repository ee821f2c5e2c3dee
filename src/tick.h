/*
 * tick.h - the SLA clock (DESIGN.md "Status, SLA and ETA"), run each
 * minute by `maildesk tick`:
 *
 *   - at [sla] warn_at per cent of a first-response or resolution target,
 *     a warning to the assignee (the queue's agents while unassigned);
 *   - at the target, an escalation to the queue's leads and an event;
 *   - when the ETA passes with the ticket unresolved, an honest notice to
 *     the customer with a new ETA ([sla] slip_extension of business time
 *     later), once per slip;
 *   - pending on the customer for [sla] pending_reminder, a reminder; for
 *     pending_close, the ticket closes with a closing letter;
 *   - once a ticket is solved, one satisfaction question (csat.h).
 *
 * What tick did is recorded with the instant it was due (sla_marks), in
 * the same transaction as its mail, so a second run at the same instant,
 * or a run after a crash, does nothing twice.  Each ticket is its own
 * transaction: one ticket's trouble does not hold back the others.
 */
#ifndef MD_TICK_H
#define MD_TICK_H

#include "intake.h"

typedef struct {
	guint tickets;     /* looked at */
	guint warnings, escalations, slips, reminders, closed, surveys;
	guint failed;      /* tickets left for the next run (transient trouble) */
} MdTickCounts;

/*
 * Runs the clock at now over every ticket not closed.  MD_OK when every
 * ticket was done; MD_TEMPFAIL when some were left for the next run,
 * MD_CONFIG for a broken template (*error_r says why; caller frees).
 */
MdStatus tick_run(MdIntake *in, gint64 now, MdTickCounts *counts, char **error_r);

/*
 * For `maildesk import`: the first-response and resolution targets of t
 * that fell due at or before upto passed before maildesk had the ticket.
 * They are marked as escalated already (at now, in the caller's
 * transaction), so tick never reports a breach from before its time;
 * targets still ahead run as usual.
 */
MdStatus tick_settle_before(MdIntake *in, MdTicket *t, gint64 upto, gint64 now);

#endif
