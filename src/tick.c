/*
 * tick.c - warnings, escalations, slips, reminders, closing and surveys.
 */
#include "config.h"

#include <string.h>

#include "csat.h"
#include "datefmt.h"
#include "dispatch.h"
#include "log.h"
#include "notify.h"
#include "sla.h"
#include "slaclock.h"
#include "tick.h"

typedef struct {
	MdIntake *in;
	MdTicket *t;
	const MdQueue *q;
	gint64 now;
	MdTickCounts *counts;
	char **error_r;
} Tick;

/* Marks what as done for due; *first_r FALSE when it was done before. */
static MdStatus
mark(const Tick *k, const char *what, gint64 due, gboolean *first_r)
{
	return store_sla_mark(k->in->store, k->t->id, what, due, k->now, first_r);
}

/*
 * The instant [sla] warn_at per cent of a target of minutes on the
 * ticket's calendar, counted from start (plus extra business minutes
 * paused), falls due.
 */
static gint64
share_instant(const Tick *k, gint64 start, gint64 minutes, gint64 extra, gint64 due)
{
	gint64 at = calendar_add_minutes(sla_calendar(k->q, k->t->priority), start,
	                                 minutes * k->in->cfg->warn_at / 100 + extra);

	return at == CALENDAR_NEVER ? due : at;
}

/* Mails template to each of addrs, with the target's name and due time. */
static MdStatus
tell(const Tick *k, GPtrArray *addrs, const char *template, const char *target, gint64 due)
{
	MdStatus st;

	for (guint i = 0; i < addrs->len; i++) {
		MdAgent spare;
		const MdAgent *a = notify_person(k->in->cfg, addrs->pdata[i], &spare);
		g_autoptr(JsonObject) extra = json_object_new();
		JsonObject *sla = json_object_new();
		const char *lang = notify_agent_language(k->in->cfg, a, k->q);
		g_autofree char *when = datefmt_long(due, notify_agent_offset(a, due), lang);

		/* a section per target, so each language words it its own way */
		json_object_set_boolean_member(sla, strcmp(target, "first-response") == 0 ?
		                                            "first_response" : "resolution", TRUE);
		json_object_set_string_member(sla, "due", when);
		json_object_set_object_member(extra, "sla", sla);
		if ((st = notify_agent_with(k->in, k->t, a, template, NULL, NULL, extra, k->now,
		                            k->error_r)) != MD_OK)
			return st;
	}
	return MD_OK;
}

/* Warning before a target, escalation at it: each once per due instant. */
static MdStatus
watch_target(const Tick *k, const char *target, gint64 start, gint64 minutes, gint64 extra,
             gint64 due)
{
	g_autofree char *warning = g_strconcat("warning-", target, NULL);
	g_autofree char *breach = g_strconcat("breach-", target, NULL);
	g_autoptr(GPtrArray) to = g_ptr_array_new();
	gboolean first = FALSE;
	MdStatus st;

	if (due <= 0)
		return MD_OK;
	if (k->now >= due) {
		if ((st = mark(k, breach, due, &first)) != MD_OK || !first)
			return st;
		if ((st = store_event_add(k->in->store, k->t->id, k->now, "maildesk", "sla-breach",
		                          NULL, target)) != MD_OK)
			return st;
		notify_queue_leads(k->in->cfg, k->q, to);
		if (to->len == 0)
			log_warning("ticket %" G_GINT64_FORMAT ": %s target missed, and queue %s has no "
			            "lead to tell", k->t->id, target, k->q->name);
		k->counts->escalations++;
		return tell(k, to, "agent-escalation", target, due);
	}
	if (k->in->cfg->warn_at == 0 || k->now < share_instant(k, start, minutes, extra, due))
		return MD_OK;
	if ((st = mark(k, warning, due, &first)) != MD_OK || !first)
		return st;
	if ((st = store_event_add(k->in->store, k->t->id, k->now, "maildesk", "sla-warning", NULL,
	                          target)) != MD_OK)
		return st;
	/* the assignee, else every agent of the queue */
	if (conf_agent_by_address(k->in->cfg, k->t->assignee) != NULL)
		g_ptr_array_add(to, k->t->assignee);
	else
		notify_queue_agents(k->in->cfg, k->q, to);
	k->counts->warnings++;
	return tell(k, to, "agent-sla-warning", target, due);
}

/* The ETA passed with the ticket unresolved: a new one, and say so. */
static MdStatus
slip(const Tick *k)
{
	MdTicket *t = k->t;
	const MdCalendar *cal = sla_calendar(k->q, t->priority);
	gint64 minutes = k->in->cfg->slip_extension / 60;
	gint64 eta = cal != NULL ? calendar_add_minutes(cal, k->now, minutes) : CALENDAR_NEVER;
	g_autofree char *withheld = NULL;
	gboolean first = FALSE;
	MdStatus st;

	if (eta == CALENDAR_NEVER)
		eta = k->now + minutes * 60;
	if ((st = mark(k, "slip", t->eta, &first)) != MD_OK || !first)
		return st;
	if ((st = slaclock_set_eta(k->in, t, eta, FALSE, "maildesk", k->now)) != MD_OK)
		return st;
	k->counts->slips++;
	return notify_customer(k->in, t, "status-slipped", NULL, NULL, NULL, k->now, &withheld,
	                       k->error_r);
}

static MdStatus
pending(const Tick *k)
{
	const MdConfig *cfg = k->in->cfg;
	MdTicket *t = k->t;
	g_autoptr(JsonObject) extra = json_object_new();
	g_autofree char *withheld = NULL;
	const MdAgent *had;
	gboolean first = FALSE;
	gint64 since = t->pending_since;
	MdStatus st;

	if (since == 0)
		return MD_OK;
	json_object_set_int_member(extra, "reopen_days", cfg->reopen_days);
	if (cfg->pending_close > 0 && k->now >= since + cfg->pending_close) {
		if ((st = mark(k, "auto-close", since, &first)) != MD_OK || !first)
			return st;
		had = conf_agent_by_address(cfg, t->assignee);
		if ((st = slaclock_set_status(k->in, t, "closed", "maildesk", k->now)) != MD_OK ||
		    (st = notify_customer_with(k->in, t, "status-autoclosed", NULL, NULL, NULL, extra,
		                               k->now, &withheld, k->error_r)) != MD_OK)
			return st;
		k->counts->closed++;
		return had != NULL ? dispatch_freed(k->in, had, k->now, k->error_r) : MD_OK;
	}
	if (cfg->pending_reminder > 0 && k->now >= since + cfg->pending_reminder) {
		gint64 close = cfg->pending_close > 0 ? since + cfg->pending_close : 0;

		if ((st = mark(k, "reminder", since, &first)) != MD_OK || !first)
			return st;
		if (close > 0) {
			g_autofree char *when = datefmt_long(close, t->tz_minutes,
			                                     t->language ? t->language :
			                                                   cfg->default_language);

			json_object_set_string_member(extra, "close_at", when);
		}
		if ((st = store_event_add(k->in->store, t->id, k->now, "maildesk", "pending-reminder",
		                          NULL, NULL)) != MD_OK)
			return st;
		k->counts->reminders++;
		return notify_customer_with(k->in, t, "status-reminder", NULL, NULL, NULL, extra,
		                            k->now, &withheld, k->error_r);
	}
	return MD_OK;
}

/* One satisfaction question per ticket, the first time it is solved. */
static MdStatus
survey(const Tick *k)
{
	MdTicket *t = k->t;
	g_autoptr(JsonObject) extra = json_object_new();
	g_autofree char *withheld = NULL;
	gboolean first = FALSE;
	MdStatus st;

	if (!k->in->cfg->csat || k->q->addresses->len == 0)
		return MD_OK;
	/* due 0 for every ticket: asked once ever, whenever it was solved */
	if ((st = mark(k, "csat", 0, &first)) != MD_OK || !first)
		return st;
	json_object_set_object_member(extra, "csat",
	                              csat_links(k->in->secret, k->q->addresses->pdata[0], t->id));
	if ((st = notify_customer_with(k->in, t, "csat-question", NULL, NULL, NULL, extra, k->now,
	                               &withheld, k->error_r)) != MD_OK)
		return st;
	if (withheld == NULL)
		k->counts->surveys++;
	return store_event_add(k->in->store, t->id, k->now, "maildesk", "csat-asked", NULL,
	                       withheld);
}

static MdStatus
tick_ticket(Tick *k)
{
	MdTicket *t = k->t;
	const char *s = t->status;
	int p = conf_priority_index(t->priority);

	if (strcmp(s, "pending") == 0)
		return pending(k);
	if (strcmp(s, "solved") == 0)
		return survey(k);
	if (strcmp(s, "new") != 0 && strcmp(s, "open") != 0 && strcmp(s, "on-hold") != 0)
		return MD_OK;
	if (t->first_response_at == 0) {
		gint64 due = sla_first_response_due(k->q, t->priority, t->created);
		MdStatus st;

		if (due > 0 &&
		    (st = watch_target(k, "first-response", t->created, k->q->first_response[p], 0,
		                       due)) != MD_OK)
			return st;
	}
	/* warnings and escalations keep to the queue's SLA policy; a slip is
	 * told of whatever the ETA came from */
	if (p >= 0 && k->q->resolution[p] > 0 && sla_calendar(k->q, t->priority) != NULL) {
		MdStatus st = watch_target(k, "resolution", t->created, k->q->resolution[p], t->paused,
		                           sla_ticket_resolution_due(k->in->cfg, k->q, t, k->now));

		if (st != MD_OK)
			return st;
	}
	if (t->eta > 0 && k->now >= t->eta)
		return slip(k);
	return MD_OK;
}

MdStatus
tick_settle_before(MdIntake *in, MdTicket *t, gint64 upto, gint64 now)
{
	const MdQueue *q = notify_ticket_queue(in->cfg, t);
	Tick k = { in, t, q, now, NULL, NULL };
	int p = conf_priority_index(t->priority);
	gboolean first = FALSE;
	gint64 due;
	MdStatus st;

	/* the targets, names and instants tick_ticket() and watch_target() use */
	if (t->first_response_at == 0) {
		due = sla_first_response_due(q, t->priority, t->created);
		if (due > 0 && due <= upto &&
		    (st = mark(&k, "breach-first-response", due, &first)) != MD_OK)
			return st;
	}
	if (p >= 0 && q->resolution[p] > 0 && sla_calendar(q, t->priority) != NULL) {
		due = sla_ticket_resolution_due(in->cfg, q, t, upto);
		if (due > 0 && due <= upto &&
		    (st = mark(&k, "breach-resolution", due, &first)) != MD_OK)
			return st;
	}
	return MD_OK;
}

MdStatus
tick_run(MdIntake *in, gint64 now, MdTickCounts *counts, char **error_r)
{
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	MdStatus st, worst = MD_OK;

	memset(counts, 0, sizeof *counts);
	/* solved tickets wait only for the satisfaction question */
	if ((st = store_tickets_to_tick(in->store, in->cfg->csat, ids)) != MD_OK) {
		*error_r = g_strdup(store_error(in->store));
		return st;
	}
	for (guint i = 0; i < ids->len; i++) {
		MdTicket t = { 0 };
		gboolean found = FALSE;
		Tick k = { in, &t, NULL, now, counts, error_r };

		if ((st = store_begin(in->store)) != MD_OK) {
			*error_r = g_strdup(store_error(in->store));
			return st;
		}
		st = store_ticket_get(in->store, g_array_index(ids, gint64, i), &t, &found);
		if (st == MD_OK && found) {
			k.q = notify_ticket_queue(in->cfg, &t);
			counts->tickets++;
			st = tick_ticket(&k);
		}
		if (st == MD_OK)
			st = store_commit(in->store);
		else
			store_rollback(in->store);
		if (st != MD_OK) {
			if (*error_r == NULL)
				*error_r = g_strdup(store_error(in->store));
			log_warning("tick: ticket %" G_GINT64_FORMAT ": %s", t.id, *error_r);
			counts->failed++;
			if (st == MD_CONFIG) {
				md_ticket_clear(&t);
				return st;
			}
			g_clear_pointer(error_r, g_free);
			worst = MD_TEMPFAIL;
		}
		md_ticket_clear(&t);
	}
	return worst;
}
