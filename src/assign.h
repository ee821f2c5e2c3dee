/*
 * assign.h - who gets a new ticket (DESIGN.md "Agents by email").
 *
 * Pure: the caller gathers each agent's load from the store; this only
 * chooses.  The least-loaded agent of the queue who is under their cap
 * wins; ties go to whoever waited longest since their last assignment.
 */
#ifndef MD_ASSIGN_H
#define MD_ASSIGN_H

#include <glib.h>

typedef struct {
	const char *address;  /* the agent */
	int open;             /* tickets assigned and not yet solved or closed */
	int max_open;         /* their cap */
	gint64 last_assigned; /* UTC seconds of their last assignment, 0 never */
} MdAgentLoad;

/*
 * Index of the agent in loads[0..n) who gets the next ticket, or -1 when
 * every agent is at their cap (the ticket then waits in its queue).
 * Equal load and equal wait: the earlier entry, so the result is stable.
 */
int assign_pick(const MdAgentLoad *loads, guint n);

#endif
