/*
 * slaclock.c - status changes with the pending pause.
 */
#include "config.h"

#include <string.h>

#include "notify.h"
#include "sla.h"
#include "slaclock.h"

MdStatus
slaclock_set_eta(const MdIntake *in, MdTicket *t, gint64 eta, gboolean manual, const char *actor,
                 gint64 now)
{
	g_autofree char *old_eta = NULL, *new_eta = NULL;
	MdStatus st;

	if (eta == t->eta && manual == t->eta_manual)
		return MD_OK;
	old_eta = t->eta > 0 ? g_strdup_printf("%" G_GINT64_FORMAT, t->eta) : NULL;
	new_eta = eta > 0 ? g_strdup_printf("%" G_GINT64_FORMAT, eta) : NULL;
	if ((st = store_event_add(in->store, t->id, now, actor, "eta", old_eta, new_eta)) != MD_OK ||
	    (st = store_ticket_set_eta(in->store, t->id, eta, manual, now)) != MD_OK)
		return st;
	t->eta = eta;
	t->eta_manual = manual;
	return MD_OK;
}

MdStatus
slaclock_set_status(const MdIntake *in, MdTicket *t, const char *status, const char *actor,
                    gint64 now)
{
	gboolean was_pending = strcmp(t->status, "pending") == 0;
	gboolean done = strcmp(status, "solved") == 0 || strcmp(status, "closed") == 0;
	MdStatus st;

	if (strcmp(status, t->status) == 0)
		return MD_OK;
	if ((st = store_event_add(in->store, t->id, now, actor, "status", t->status, status)) !=
	        MD_OK ||
	    (st = store_ticket_set_status(in->store, t->id, status, now)) != MD_OK)
		return st;
	g_free(t->status);
	t->status = g_strdup(status);
	if (strcmp(status, "pending") == 0) {
		if (t->pending_since == 0)
			t->pending_since = now;
		return MD_OK;
	}
	if (was_pending && t->pending_since > 0) {
		const MdQueue *q = notify_ticket_queue(in->cfg, t);
		gint64 minutes = sla_business_minutes(q, t->priority, t->pending_since, now);

		t->pending_since = 0;
		if (minutes > 0) {
			if ((st = store_ticket_add_paused(in->store, t->id, minutes)) != MD_OK)
				return st;
			t->paused += minutes;
		}
		/* the clock stood still for the customer: so does the promise */
		if (!t->eta_manual && !done) {
			gint64 eta = sla_ticket_resolution_due(in->cfg, q, t, now);

			if (eta > t->eta)
				return slaclock_set_eta(in, t, eta, FALSE, "maildesk", now);
		}
	}
	return MD_OK;
}

MdStatus
slaclock_responded(const MdIntake *in, MdTicket *t, gint64 now)
{
	if (t->first_response_at > 0)
		return MD_OK;
	t->first_response_at = now;
	return store_ticket_first_response(in->store, t->id, now);
}
