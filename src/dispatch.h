/*
 * dispatch.h - hands tickets to agents (DESIGN.md "Agents by email").
 *
 * A new ticket goes at once to the least-loaded agent of its queue who is
 * under their max_open (assign.c chooses); when all are at their cap it
 * waits, and the queue's agents are told once.  When an agent's load drops
 * (a ticket solved, closed, reassigned or moved), they get the waiting
 * ticket of the highest priority, oldest first, in their queues.  No call
 * here ever gives an agent a ticket beyond their cap.
 */
#ifndef MD_DISPATCH_H
#define MD_DISPATCH_H

#include "conf.h"
#include "intake.h"
#include "notify.h"
#include "store.h"

/* Tickets assigned to agent and not solved or closed. */
MdStatus dispatch_agent_open(const MdIntake *in, const MdAgent *agent, int *open_r);

/*
 * Assigns t to agent (the caller checked the cap), records who did it,
 * and mails agent-assigned unless the agent did it themselves.
 */
MdStatus dispatch_assign(const MdIntake *in, MdTicket *t, const MdAgent *agent,
                         const char *actor, const MdPassedOn *what, gint64 now, char **error_r);

/* A new (or newly queued) unassigned ticket: assign it or let it wait. */
MdStatus dispatch_ticket(const MdIntake *in, MdTicket *t, const MdPassedOn *what, gint64 now,
                         char **error_r);

/* agent may have room again: hand them waiting tickets while they do. */
MdStatus dispatch_freed(const MdIntake *in, const MdAgent *agent, gint64 now, char **error_r);

#endif
