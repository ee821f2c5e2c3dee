/*
 * report.c - the figures of a report, from rows already read (report.h
 * says what each figure means).  Must never read the clock or the
 * database: the command hands both in.
 */
#include "config.h"

#include <string.h>

#include "report.h"
#include "sla.h"

#define DAY 86400

const char *const report_open_statuses[REPORT_OPEN_STATUSES] = { "new", "open", "pending",
	                                                             "on-hold" };

gint64
report_percentile(const gint64 *sorted, guint n, int p)
{
	guint rank;

	if (n == 0)
		return 0;
	p = CLAMP(p, 1, 100);
	/* ceil(p * n / 100) in integers: no rounding surprise at exact ranks */
	rank = (guint)(((guint64)p * n + 99) / 100);
	return sorted[MAX(rank, 1) - 1];
}

MdSlaOutcome
report_sla_outcome(gint64 target, gboolean done, gint64 elapsed)
{
	if (target <= 0)
		return REPORT_SLA_NONE;
	if (elapsed > target)
		return REPORT_SLA_MISSED;
	return done ? REPORT_SLA_MET : REPORT_SLA_RUNNING;
}

int
report_compliance_percent(const MdCompliance *c)
{
	guint judged = c->met + c->missed;

	return judged == 0 ? -1 : (int)((guint64)c->met * 100 / judged);
}

static void
compliance_add(MdCompliance *c, MdSlaOutcome o)
{
	switch (o) {
	case REPORT_SLA_NONE:
		break;
	case REPORT_SLA_RUNNING:
		c->running++;
		break;
	case REPORT_SLA_MET:
		c->met++;
		break;
	case REPORT_SLA_MISSED:
		c->missed++;
		break;
	}
}

static gboolean
is_done(const char *status)
{
	return g_strcmp0(status, "solved") == 0 || g_strcmp0(status, "closed") == 0;
}

/* Business minutes from a to b on the ticket's calendar; wall minutes
 * for a queue that is no longer configured. */
static gint64
minutes(const MdQueue *q, const char *priority, gint64 a, gint64 b)
{
	if (b <= a)
		return 0;
	return q != NULL ? sla_business_minutes(q, priority, a, b) : (b - a) / 60;
}

gint64
report_pending_minutes(const MdQueue *q, const char *priority, const MdStatusEvent *events,
                       guint n, gint64 from, gint64 to)
{
	gint64 total = 0, start = 0;
	gboolean pending = FALSE;

	for (guint i = 0; i <= n; i++) {
		gboolean last = i == n;
		gboolean now_pending = !last && g_strcmp0(events[i].new_status, "pending") == 0;

		if (pending && (last || !now_pending)) {
			gint64 end = last ? to : events[i].at;

			total += minutes(q, priority, MAX(start, from), MIN(end, to));
		}
		if (!last && now_pending && !pending)
			start = events[i].at;
		if (!last)
			pending = now_pending;
	}
	return total;
}

static void
backlog_free(gpointer p)
{
	MdReportBacklog *b = p;

	g_free(b->key);
	g_free(b->name);
	g_free(b);
}

static void
sla_free(gpointer p)
{
	MdReportSla *s = p;

	g_free(s->queue);
	g_free(s->priority);
	g_free(s);
}

void
report_free(MdReport *r)
{
	if (r == NULL)
		return;
	g_ptr_array_unref(r->queues);
	g_array_unref(r->days);
	g_ptr_array_unref(r->sla);
	g_ptr_array_unref(r->backlog_queues);
	g_ptr_array_unref(r->backlog_agents);
	g_free(r);
}

static int
queue_rank(const MdReport *r, const char *queue)
{
	for (guint i = 0; i < r->queues->len; i++)
		if (strcmp(r->queues->pdata[i], queue) == 0)
			return (int)i;
	return -1;
}

static MdReportBacklog *
backlog_get(GPtrArray *list, const char *key, const char *name)
{
	MdReportBacklog *b;

	for (guint i = 0; i < list->len; i++) {
		b = list->pdata[i];
		if (g_ascii_strcasecmp(b->key, key) == 0)
			return b;
	}
	b = g_new0(MdReportBacklog, 1);
	b->key = g_strdup(key);
	b->name = g_strdup(name);
	g_ptr_array_add(list, b);
	return b;
}

static MdReportSla *
sla_get(MdReport *r, const MdQueue *q, const char *queue, const char *priority)
{
	int p = conf_priority_index(priority);
	MdReportSla *s;

	for (guint i = 0; i < r->sla->len; i++) {
		s = r->sla->pdata[i];
		if (strcmp(s->queue, queue) == 0 && strcmp(s->priority, priority) == 0)
			return s;
	}
	s = g_new0(MdReportSla, 1);
	s->queue = g_strdup(queue);
	s->priority = g_strdup(priority);
	if (q != NULL && p >= 0) {
		s->first_response.target = q->first_response[p];
		s->resolution.target = q->resolution[p];
	}
	g_ptr_array_add(r->sla, s);
	return s;
}

static MdReportDay *
day_of(MdReport *r, gint64 at)
{
	for (guint i = 0; i < r->days->len; i++) {
		MdReportDay *d = &g_array_index(r->days, MdReportDay, i);

		if (at >= d->day && at < d->day + DAY)
			return d;
	}
	return NULL;
}

static gboolean
in_period(const MdReport *r, gint64 at)
{
	return at >= r->since && at < r->until;
}

static int
cmp_gint64(gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

	return x < y ? -1 : x > y;
}

static void
times_of(GArray *values, MdReportTimes *t)
{
	g_array_sort(values, cmp_gint64);
	t->count = values->len;
	t->median = report_percentile((const gint64 *)(void *)values->data, values->len, 50);
	t->p90 = report_percentile((const gint64 *)(void *)values->data, values->len, 90);
}

static int
cmp_sla(gconstpointer a, gconstpointer b, gpointer data)
{
	const MdReportSla *x = *(MdReportSla *const *)a, *y = *(MdReportSla *const *)b;
	int qx = queue_rank(data, x->queue), qy = queue_rank(data, y->queue);

	if (qx != qy)
		return qx - qy;
	return conf_priority_index(x->priority) - conf_priority_index(y->priority);
}

static int
cmp_backlog(gconstpointer a, gconstpointer b)
{
	const MdReportBacklog *x = *(MdReportBacklog *const *)a, *y = *(MdReportBacklog *const *)b;

	return g_ascii_strcasecmp(x->key, y->key);
}

/* Counts the solves of one ticket in the period: each day once, the total once. */
static gboolean
count_solves(MdReport *r, const MdStatusEvent *ev, guint n)
{
	gboolean any = FALSE;
	MdReportDay *counted = NULL;

	for (guint i = 0; i < n; i++) {
		MdReportDay *d;

		if (!is_done(ev[i].new_status) || is_done(ev[i].old_status) ||
		    !in_period(r, ev[i].at))
			continue;
		any = TRUE;
		d = day_of(r, ev[i].at);
		if (d != NULL && d != counted) {
			d->solved++;
			counted = d;
		}
	}
	return any;
}

MdReport *
report_compute(const MdConfig *cfg, const char *const *queues, GArray *tickets, GArray *events,
               GArray *votes, gint64 since, gint64 until, gint64 now)
{
	MdReport *r = g_new0(MdReport, 1);
	g_autoptr(GArray) fr_times = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GArray) res_times = g_array_new(FALSE, FALSE, sizeof(gint64));
	guint ev = 0;
	gint64 score_sum = 0;

	r->since = since;
	r->until = until;
	r->now = now;
	r->queues = g_ptr_array_new_with_free_func(g_free);
	r->days = g_array_new(FALSE, TRUE, sizeof(MdReportDay));
	r->sla = g_ptr_array_new_with_free_func(sla_free);
	r->backlog_queues = g_ptr_array_new_with_free_func(backlog_free);
	r->backlog_agents = g_ptr_array_new_with_free_func(backlog_free);

	if (queues != NULL) {
		for (guint i = 0; queues[i] != NULL; i++)
			g_ptr_array_add(r->queues, g_strdup(queues[i]));
	} else {
		for (guint i = 0; i < cfg->queues->len; i++)
			g_ptr_array_add(r->queues, g_strdup(((MdQueue *)cfg->queues->pdata[i])->name));
		/* tickets of a queue since removed from the config still count */
		for (guint i = 0; i < tickets->len; i++) {
			const MdTicket *t = &g_array_index(tickets, MdTicket, i);

			if (queue_rank(r, t->queue) < 0)
				g_ptr_array_add(r->queues, g_strdup(t->queue));
		}
	}
	for (guint i = 0; i < r->queues->len; i++)
		backlog_get(r->backlog_queues, r->queues->pdata[i], NULL);
	if (until > since && until - since <= (gint64)REPORT_MAX_DAYS * DAY)
		for (gint64 d = since - since % DAY; d < until; d += DAY) {
			MdReportDay day = { d, 0, 0 };

			g_array_append_val(r->days, day);
		}

	for (guint i = 0; i < tickets->len; i++) {
		const MdTicket *t = &g_array_index(tickets, MdTicket, i);
		const MdQueue *q = conf_queue_by_name(cfg, t->queue);
		const MdStatusEvent *tev;
		guint nev = 0;
		gboolean done = is_done(t->status);
		gint64 resolved = t->solved_at > 0 ? t->solved_at : t->closed_at;

		/* both lists are sorted by ticket */
		while (ev < events->len && g_array_index(events, MdStatusEvent, ev).ticket < t->id)
			ev++;
		tev = ev < events->len ? &g_array_index(events, MdStatusEvent, ev) : NULL;
		while (ev + nev < events->len &&
		       g_array_index(events, MdStatusEvent, ev + nev).ticket == t->id)
			nev++;
		if (queue_rank(r, t->queue) < 0)
			continue;

		if (in_period(r, t->created)) {
			MdReportDay *d = day_of(r, t->created);
			MdReportSla *s = sla_get(r, q, t->queue, t->priority);
			gint64 took;

			r->opened++;
			if (d != NULL)
				d->opened++;
			if (t->first_response_at > 0) {
				took = minutes(q, t->priority, t->created, t->first_response_at);
				g_array_append_val(fr_times, took);
				compliance_add(&s->first_response,
				               report_sla_outcome(s->first_response.target, TRUE, took));
			} else if (!done) {
				took = minutes(q, t->priority, t->created, now);
				compliance_add(&s->first_response,
				               report_sla_outcome(s->first_response.target, FALSE, took));
			}
			if (!done || resolved > 0) {
				gint64 end = done ? resolved : now;

				took = minutes(q, t->priority, t->created, end) -
				       report_pending_minutes(q, t->priority, tev, nev, t->created, end);
				compliance_add(&s->resolution,
				               report_sla_outcome(s->resolution.target, done, MAX(took, 0)));
			}
		}
		if (count_solves(r, tev, nev))
			r->solved++;
		if (done && resolved > 0 && in_period(r, resolved)) {
			gint64 took = minutes(q, t->priority, t->created, resolved) -
			              report_pending_minutes(q, t->priority, tev, nev, t->created, resolved);

			took = MAX(took, 0);
			g_array_append_val(res_times, took);
		}
		if (!done) {
			int k;

			for (k = 0; k < REPORT_OPEN_STATUSES; k++)
				if (strcmp(t->status, report_open_statuses[k]) == 0)
					break;
			if (k < REPORT_OPEN_STATUSES) {
				MdReportBacklog *b = backlog_get(r->backlog_queues, t->queue, NULL);

				b->total++;
				b->by_status[k]++;
				if (t->assignee != NULL) {
					const MdAgent *a = conf_agent_by_address(cfg, t->assignee);

					b = backlog_get(r->backlog_agents, t->assignee,
					                a != NULL ? a->display_name : NULL);
					b->total++;
					b->by_status[k]++;
				}
			}
		}
	}
	times_of(fr_times, &r->first_response);
	times_of(res_times, &r->resolution);
	g_ptr_array_sort_with_data(r->sla, cmp_sla, r);
	g_ptr_array_sort(r->backlog_agents, cmp_backlog);

	for (guint i = 0; votes != NULL && i < votes->len; i++) {
		const MdCsatRow *v = &g_array_index(votes, MdCsatRow, i);

		if (queue_rank(r, v->queue) < 0 || !in_period(r, v->at))
			continue;
		r->csat_count++;
		score_sum += v->score;
	}
	if (r->csat_count > 0)
		r->csat_average = (double)score_sum / r->csat_count;
	return r;
}
