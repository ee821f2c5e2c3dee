/*
 * assign.c - fair assignment: least loaded under the cap, then longest
 * waiting.  Never touches the store.
 */
#include "config.h"

#include "assign.h"

int
assign_pick(const MdAgentLoad *loads, guint n)
{
	int best = -1;

	for (guint i = 0; i < n; i++) {
		const MdAgentLoad *a = &loads[i];

		if (a->open >= a->max_open)
			continue;
		if (best < 0 || a->open < loads[best].open ||
		    (a->open == loads[best].open && a->last_assigned < loads[best].last_assigned))
			best = (int)i;
	}
	return best;
}
