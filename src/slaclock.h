/*
 * slaclock.h - a ticket's status changes as the SLA clock sees them
 * (DESIGN.md "Status, SLA and ETA").
 *
 * Pending on the customer pauses the resolution clock: the business
 * minutes a ticket spends pending move its resolution target, and with it
 * a computed ETA, when the customer answers.  Every status change goes
 * through here so that no path forgets the pause.
 */
#ifndef MD_SLACLOCK_H
#define MD_SLACLOCK_H

#include "intake.h"
#include "store.h"

/*
 * Sets t's status at now as actor did, with its "status" event; leaving
 * pending adds the paused business minutes to t and moves a computed ETA
 * by them (an "eta" event).  t is updated to match the store.
 */
MdStatus slaclock_set_status(const MdIntake *in, MdTicket *t, const char *status,
                             const char *actor, gint64 now);

/* Records the first agent reply to the customer (first-response target met). */
MdStatus slaclock_responded(const MdIntake *in, MdTicket *t, gint64 now);

/*
 * Sets a computed ETA as actor did, with its "eta" event; nothing when it
 * is unchanged.
 */
MdStatus slaclock_set_eta(const MdIntake *in, MdTicket *t, gint64 eta, gboolean manual,
                          const char *actor, gint64 now);

#endif
