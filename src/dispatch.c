/*
 * dispatch.c - assignment with the store: gathers each agent's load,
 * lets assign_pick() choose, writes the assignment, event and mail.
 *
 * Must never: assign a ticket to an agent at their cap.
 */
#include "config.h"

#include <string.h>

#include "assign.h"
#include "dispatch.h"

static MdStatus
store_failed(const MdIntake *in, MdStatus st, char **error_r)
{
	if (st != MD_OK && *error_r == NULL)
		*error_r = g_strdup(store_error(in->store));
	return st;
}

MdStatus
dispatch_agent_open(const MdIntake *in, const MdAgent *agent, int *open_r)
{
	gint64 last;

	return store_agent_load(in->store, agent->address, open_r, &last);
}

MdStatus
dispatch_assign(const MdIntake *in, MdTicket *t, const MdAgent *agent, const char *actor,
                const MdPassedOn *what, gint64 now, char **error_r)
{
	MdStatus st;

	if ((st = store_ticket_set_assignee(in->store, t->id, agent->address, now)) != MD_OK ||
	    (st = store_agent_assigned(in->store, agent->address, now)) != MD_OK ||
	    (st = store_event_add(in->store, t->id, now, actor, "assignee", t->assignee,
	                          agent->address)) != MD_OK)
		return store_failed(in, st, error_r);
	g_free(t->assignee);
	t->assignee = g_strdup(agent->address);
	if (g_ascii_strcasecmp(actor, agent->address) == 0)
		return MD_OK;
	return notify_agent(in, t, agent, "agent-assigned", what, NULL, now, error_r);
}

MdStatus
dispatch_ticket(const MdIntake *in, MdTicket *t, const MdPassedOn *what, gint64 now,
                char **error_r)
{
	const MdConfig *cfg = in->cfg;
	g_autoptr(GPtrArray) agents = g_ptr_array_new();
	g_autoptr(GArray) loads = g_array_new(FALSE, TRUE, sizeof(MdAgentLoad));
	gboolean told = FALSE;
	MdStatus st;
	int pick;

	for (guint i = 0; i < cfg->agents->len; i++) {
		const MdAgent *a = cfg->agents->pdata[i];
		MdAgentLoad load = { a->address, 0, a->max_open, 0 };

		if (!conf_agent_serves(a, t->queue))
			continue;
		if ((st = store_agent_load(in->store, a->address, &load.open, &load.last_assigned)) !=
		    MD_OK)
			return store_failed(in, st, error_r);
		g_ptr_array_add(agents, (gpointer)a);
		g_array_append_val(loads, load);
	}
	if (agents->len == 0)
		return MD_OK; /* a queue nobody works: the ticket waits for an admin */
	pick = assign_pick((const MdAgentLoad *)loads->data, loads->len);
	if (pick >= 0)
		return dispatch_assign(in, t, agents->pdata[pick], "maildesk", what, now, error_r);

	/* everyone is at their cap: tell the queue once per ticket and queue */
	if ((st = store_event_exists(in->store, t->id, "waiting", t->queue, &told)) != MD_OK)
		return store_failed(in, st, error_r);
	if (told)
		return MD_OK;
	if ((st = store_event_add(in->store, t->id, now, "maildesk", "waiting", NULL, t->queue)) !=
	    MD_OK)
		return store_failed(in, st, error_r);
	for (guint i = 0; i < agents->len; i++)
		if ((st = notify_agent(in, t, agents->pdata[i], "agent-waiting", what, NULL, now,
		                       error_r)) != MD_OK)
			return st;
	return MD_OK;
}

MdStatus
dispatch_freed(const MdIntake *in, const MdAgent *agent, gint64 now, char **error_r)
{
	MdStatus st;

	/* at most max_open rounds: each one assigns a ticket or stops */
	for (int round = 0; round < agent->max_open; round++) {
		gint64 best = 0, best_created = 0;
		int best_rank = -1, open = 0;
		g_autofree char *text = NULL;
		MdTicket t = { 0 };
		MdPassedOn what;
		gboolean found = FALSE;

		if ((st = dispatch_agent_open(in, agent, &open)) != MD_OK)
			return store_failed(in, st, error_r);
		if (open >= agent->max_open)
			return MD_OK;
		for (guint i = 0; i < agent->queues->len; i++) {
			gint64 id, created;
			int rank;

			if ((st = store_next_waiting(in->store, agent->queues->pdata[i], &id, &rank,
			                             &created)) != MD_OK)
				return store_failed(in, st, error_r);
			if (id > 0 && (rank > best_rank || (rank == best_rank && created < best_created) ||
			               (rank == best_rank && created == best_created && id < best))) {
				best = id;
				best_rank = rank;
				best_created = created;
			}
		}
		if (best == 0)
			return MD_OK;
		if ((st = store_ticket_get(in->store, best, &t, &found)) != MD_OK ||
		    (st = notify_customer_news(in, &t, &what, &text)) != MD_OK) {
			md_ticket_clear(&t);
			return store_failed(in, st, error_r);
		}
		st = dispatch_assign(in, &t, agent, "maildesk", &what, now, error_r);
		md_ticket_clear(&t);
		if (st != MD_OK)
			return st;
	}
	return MD_OK;
}
