/*
 * report_out.c - a report as text, CSV, JSON and template context.
 *
 * Times are business minutes in CSV and JSON (what scripts want) and
 * hours:minutes for people.  Must never compute a figure: report.c does.
 */
#include "config.h"

#include <string.h>

#include "datefmt.h"
#include "report_out.h"

static char *
day_text(gint64 day)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(day);

	return g_date_time_format(dt, "%Y-%m-%d");
}

/* Business minutes as hours:minutes, "-" when there is nothing to show. */
static char *
hm(gint64 minutes, gboolean any)
{
	if (!any)
		return g_strdup("-");
	return g_strdup_printf("%" G_GINT64_FORMAT ":%02d", minutes / 60, (int)(minutes % 60));
}

static char *
percent_text(const MdCompliance *c)
{
	int p = report_compliance_percent(c);

	if (c->target == 0)
		return g_strdup("no target");
	if (p < 0)
		return g_strdup("-");
	return g_strdup_printf("%d%%", p);
}

char *
report_out_period(const MdReport *r)
{
	g_autofree char *a = datefmt_iso8601(r->since);
	g_autofree char *b = datefmt_iso8601(r->until);

	return g_strdup_printf("%s/%s", a, b);
}

/* ---- text ---- */

static void
text_backlog(GString *out, const char *title, GPtrArray *list)
{
	g_string_append_printf(out, "\n%-32s %5s", title, "TOTAL");
	for (int k = 0; k < REPORT_OPEN_STATUSES; k++)
		g_string_append_printf(out, " %7s", report_open_statuses[k]);
	g_string_append_c(out, '\n');
	if (list->len == 0)
		g_string_append(out, "(none)\n");
	for (guint i = 0; i < list->len; i++) {
		const MdReportBacklog *b = list->pdata[i];
		g_autofree char *label =
			b->name != NULL ? g_strdup_printf("%s <%s>", b->name, b->key) : g_strdup(b->key);

		g_string_append_printf(out, "%-32s %5u", label, b->total);
		for (int k = 0; k < REPORT_OPEN_STATUSES; k++)
			g_string_append_printf(out, " %7u", b->by_status[k]);
		g_string_append_c(out, '\n');
	}
}

char *
report_out_text(const MdReport *r)
{
	GString *out = g_string_new(NULL);
	g_autofree char *since = datefmt_iso8601(r->since);
	g_autofree char *until = datefmt_iso8601(r->until);
	g_autofree char *fr_med = hm(r->first_response.median, r->first_response.count > 0);
	g_autofree char *fr_p90 = hm(r->first_response.p90, r->first_response.count > 0);
	g_autofree char *res_med = hm(r->resolution.median, r->resolution.count > 0);
	g_autofree char *res_p90 = hm(r->resolution.p90, r->resolution.count > 0);

	g_string_append_printf(out, "Report from %s until %s\n\n", since, until);
	g_string_append_printf(out, "Tickets opened: %u\nTickets solved: %u\n", r->opened, r->solved);
	if (r->days->len > 0) {
		g_string_append_printf(out, "\n%-10s  %6s  %6s\n", "DAY", "OPENED", "SOLVED");
		for (guint i = 0; i < r->days->len; i++) {
			const MdReportDay *d = &g_array_index(r->days, MdReportDay, i);
			g_autofree char *day = day_text(d->day);

			g_string_append_printf(out, "%-10s  %6u  %6u\n", day, d->opened, d->solved);
		}
	} else {
		g_string_append_printf(out, "\n(no daily counts for periods over %d days)\n",
		                       REPORT_MAX_DAYS);
	}
	g_string_append_printf(out,
	                       "\nBusiness time (hours:minutes; percentiles nearest-rank)\n"
	                       "%-16s  %7s  %7s  %7s\n"
	                       "%-16s  %7u  %7s  %7s\n"
	                       "%-16s  %7u  %7s  %7s\n",
	                       "", "TICKETS", "MEDIAN", "90%", "first response",
	                       r->first_response.count, fr_med, fr_p90, "resolution",
	                       r->resolution.count, res_med, res_p90);

	g_string_append_printf(out, "\nSLA compliance (tickets opened in the period)\n"
	                            "%-16s %-8s %-20s %s\n",
	                       "QUEUE", "PRIORITY", "FIRST RESPONSE", "RESOLUTION");
	if (r->sla->len == 0)
		g_string_append(out, "(no tickets)\n");
	for (guint i = 0; i < r->sla->len; i++) {
		const MdReportSla *s = r->sla->pdata[i];
		g_autofree char *fp = percent_text(&s->first_response);
		g_autofree char *rp = percent_text(&s->resolution);
		g_autofree char *f = g_strdup_printf("%s %u/%u", fp, s->first_response.met,
		                                     s->first_response.met + s->first_response.missed);
		g_autofree char *rs = g_strdup_printf("%s %u/%u", rp, s->resolution.met,
		                                      s->resolution.met + s->resolution.missed);

		/* counts only where there is something judged */
		g_string_append_printf(out, "%-16s %-8s %-20s %s\n", s->queue, s->priority,
		                       report_compliance_percent(&s->first_response) >= 0 ? f : fp,
		                       report_compliance_percent(&s->resolution) >= 0 ? rs : rp);
	}
	text_backlog(out, "BACKLOG BY QUEUE", r->backlog_queues);
	text_backlog(out, "BACKLOG BY AGENT", r->backlog_agents);
	if (r->csat_count > 0) {
		char buf[G_ASCII_DTOSTR_BUF_SIZE];

		g_string_append_printf(out, "\nSatisfaction: %s average of %u votes\n",
		                       g_ascii_formatd(buf, sizeof buf, "%.2f", r->csat_average),
		                       r->csat_count);
	}
	else
		g_string_append(out, "\nSatisfaction: no votes\n");
	return g_string_free(out, FALSE);
}

/* ---- CSV ---- */

static void
csv_field(GString *out, const char *v)
{
	if (v == NULL)
		return;
	if (strpbrk(v, ",\"\r\n") == NULL) {
		g_string_append(out, v);
		return;
	}
	g_string_append_c(out, '"');
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, *p);
	}
	g_string_append_c(out, '"');
}

static void
csv_row(GString *out, const char *section, const char *queue, const char *priority,
        const char *agent, const char *date, const char *metric, const char *value)
{
	const char *f[] = { section, queue, priority, agent, date, metric, value };

	for (guint i = 0; i < G_N_ELEMENTS(f); i++) {
		if (i > 0)
			g_string_append_c(out, ',');
		csv_field(out, f[i]);
	}
	g_string_append(out, "\r\n");
}

static void
csv_int(GString *out, const char *section, const char *queue, const char *priority,
        const char *agent, const char *date, const char *metric, gint64 value)
{
	char buf[32];

	g_snprintf(buf, sizeof buf, "%" G_GINT64_FORMAT, value);
	csv_row(out, section, queue, priority, agent, date, metric, buf);
}

static void
csv_times(GString *out, const char *section, const MdReportTimes *t)
{
	csv_int(out, section, NULL, NULL, NULL, NULL, "count", t->count);
	if (t->count > 0) {
		csv_int(out, section, NULL, NULL, NULL, NULL, "median_minutes", t->median);
		csv_int(out, section, NULL, NULL, NULL, NULL, "p90_minutes", t->p90);
	}
}

static void
csv_compliance(GString *out, const MdReportSla *s, const char *what, const MdCompliance *c)
{
	g_autofree char *target = g_strdup_printf("%s_target_minutes", what);
	g_autofree char *met = g_strdup_printf("%s_met", what);
	g_autofree char *missed = g_strdup_printf("%s_missed", what);
	g_autofree char *running = g_strdup_printf("%s_running", what);
	g_autofree char *percent = g_strdup_printf("%s_percent", what);
	int p = report_compliance_percent(c);

	if (c->target == 0)
		return;
	csv_int(out, "sla", s->queue, s->priority, NULL, NULL, target, c->target);
	csv_int(out, "sla", s->queue, s->priority, NULL, NULL, met, c->met);
	csv_int(out, "sla", s->queue, s->priority, NULL, NULL, missed, c->missed);
	csv_int(out, "sla", s->queue, s->priority, NULL, NULL, running, c->running);
	if (p >= 0)
		csv_int(out, "sla", s->queue, s->priority, NULL, NULL, percent, p);
}

static void
csv_backlog(GString *out, GPtrArray *list, gboolean agents)
{
	for (guint i = 0; i < list->len; i++) {
		const MdReportBacklog *b = list->pdata[i];
		const char *section = agents ? "backlog_agent" : "backlog_queue";
		const char *queue = agents ? NULL : b->key;
		const char *agent = agents ? b->key : NULL;

		csv_int(out, section, queue, NULL, agent, NULL, "total", b->total);
		for (int k = 0; k < REPORT_OPEN_STATUSES; k++)
			csv_int(out, section, queue, NULL, agent, NULL, report_open_statuses[k],
			        b->by_status[k]);
	}
}

char *
report_out_csv(const MdReport *r)
{
	GString *out = g_string_new(NULL);
	g_autofree char *since = datefmt_iso8601(r->since);
	g_autofree char *until = datefmt_iso8601(r->until);

	csv_row(out, "section", "queue", "priority", "agent", "date", "metric", "value");
	csv_row(out, "period", NULL, NULL, NULL, NULL, "since", since);
	csv_row(out, "period", NULL, NULL, NULL, NULL, "until", until);
	csv_int(out, "tickets", NULL, NULL, NULL, NULL, "opened", r->opened);
	csv_int(out, "tickets", NULL, NULL, NULL, NULL, "solved", r->solved);
	for (guint i = 0; i < r->days->len; i++) {
		const MdReportDay *d = &g_array_index(r->days, MdReportDay, i);
		g_autofree char *day = day_text(d->day);

		csv_int(out, "daily", NULL, NULL, NULL, day, "opened", d->opened);
		csv_int(out, "daily", NULL, NULL, NULL, day, "solved", d->solved);
	}
	csv_times(out, "first_response", &r->first_response);
	csv_times(out, "resolution", &r->resolution);
	for (guint i = 0; i < r->sla->len; i++) {
		const MdReportSla *s = r->sla->pdata[i];

		csv_compliance(out, s, "first_response", &s->first_response);
		csv_compliance(out, s, "resolution", &s->resolution);
	}
	csv_backlog(out, r->backlog_queues, FALSE);
	csv_backlog(out, r->backlog_agents, TRUE);
	csv_int(out, "csat", NULL, NULL, NULL, NULL, "count", r->csat_count);
	if (r->csat_count > 0) {
		char buf[G_ASCII_DTOSTR_BUF_SIZE];

		csv_row(out, "csat", NULL, NULL, NULL, NULL, "average",
		        g_ascii_formatd(buf, sizeof buf, "%.2f", r->csat_average));
	}
	return g_string_free(out, FALSE);
}

/* ---- JSON ---- */

static JsonObject *
times_json(const MdReportTimes *t)
{
	JsonObject *o = json_object_new();

	json_object_set_int_member(o, "count", t->count);
	if (t->count > 0) {
		json_object_set_int_member(o, "median", t->median);
		json_object_set_int_member(o, "p90", t->p90);
	} else {
		json_object_set_null_member(o, "median");
		json_object_set_null_member(o, "p90");
	}
	return o;
}

static JsonObject *
compliance_json(const MdCompliance *c)
{
	JsonObject *o = json_object_new();
	int p = report_compliance_percent(c);

	if (c->target > 0)
		json_object_set_int_member(o, "target_minutes", c->target);
	else
		json_object_set_null_member(o, "target_minutes");
	json_object_set_int_member(o, "met", c->met);
	json_object_set_int_member(o, "missed", c->missed);
	json_object_set_int_member(o, "running", c->running);
	if (p >= 0)
		json_object_set_int_member(o, "percent", p);
	else
		json_object_set_null_member(o, "percent");
	return o;
}

static JsonArray *
backlog_json(GPtrArray *list, const char *key)
{
	JsonArray *a = json_array_new();

	for (guint i = 0; i < list->len; i++) {
		const MdReportBacklog *b = list->pdata[i];
		JsonObject *o = json_object_new();

		json_object_set_string_member(o, key, b->key);
		if (strcmp(key, "agent") == 0) {
			if (b->name != NULL)
				json_object_set_string_member(o, "name", b->name);
			else
				json_object_set_null_member(o, "name");
		}
		json_object_set_int_member(o, "total", b->total);
		for (int k = 0; k < REPORT_OPEN_STATUSES; k++)
			json_object_set_int_member(o, report_open_statuses[k], b->by_status[k]);
		json_array_add_object_element(a, o);
	}
	return a;
}

JsonNode *
report_out_json(const MdReport *r)
{
	JsonObject *o = json_object_new();
	JsonArray *days = json_array_new();
	JsonArray *sla = json_array_new();
	JsonArray *queues = json_array_new();
	JsonObject *backlog = json_object_new();
	JsonObject *csat = json_object_new();
	g_autofree char *since = datefmt_iso8601(r->since);
	g_autofree char *until = datefmt_iso8601(r->until);
	g_autofree char *now = datefmt_iso8601(r->now);

	json_object_set_string_member(o, "since", since);
	json_object_set_string_member(o, "until", until);
	json_object_set_string_member(o, "now", now);
	for (guint i = 0; i < r->queues->len; i++)
		json_array_add_string_element(queues, r->queues->pdata[i]);
	json_object_set_array_member(o, "queues", queues);
	json_object_set_string_member(o, "unit", "business minutes");
	json_object_set_string_member(o, "percentile_method", "nearest-rank");
	json_object_set_int_member(o, "opened", r->opened);
	json_object_set_int_member(o, "solved", r->solved);
	for (guint i = 0; i < r->days->len; i++) {
		const MdReportDay *d = &g_array_index(r->days, MdReportDay, i);
		JsonObject *dj = json_object_new();
		g_autofree char *day = day_text(d->day);

		json_object_set_string_member(dj, "date", day);
		json_object_set_int_member(dj, "opened", d->opened);
		json_object_set_int_member(dj, "solved", d->solved);
		json_array_add_object_element(days, dj);
	}
	json_object_set_array_member(o, "daily", days);
	json_object_set_object_member(o, "first_response", times_json(&r->first_response));
	json_object_set_object_member(o, "resolution", times_json(&r->resolution));
	for (guint i = 0; i < r->sla->len; i++) {
		const MdReportSla *s = r->sla->pdata[i];
		JsonObject *sj = json_object_new();

		json_object_set_string_member(sj, "queue", s->queue);
		json_object_set_string_member(sj, "priority", s->priority);
		json_object_set_object_member(sj, "first_response",
		                              compliance_json(&s->first_response));
		json_object_set_object_member(sj, "resolution", compliance_json(&s->resolution));
		json_array_add_object_element(sla, sj);
	}
	json_object_set_array_member(o, "sla", sla);
	json_object_set_array_member(backlog, "queues", backlog_json(r->backlog_queues, "queue"));
	json_object_set_array_member(backlog, "agents", backlog_json(r->backlog_agents, "agent"));
	json_object_set_object_member(o, "backlog", backlog);
	json_object_set_int_member(csat, "count", r->csat_count);
	if (r->csat_count > 0)
		json_object_set_double_member(csat, "average", r->csat_average);
	else
		json_object_set_null_member(csat, "average");
	json_object_set_object_member(o, "csat", csat);
	return json_node_init_object(json_node_alloc(), o);
}

/* ---- template context ---- */

/* The width in per cent of a bar for value out of max: a value above 0
 * always shows (at least 1), an empty one leaves its cell out. */
static gint64
bar_width(guint value, guint max)
{
	if (value == 0 || max == 0)
		return 0;
	return MAX((gint64)value * 100 / max, 1);
}

static JsonObject *
compliance_context(const MdCompliance *c)
{
	JsonObject *o = json_object_new();
	int p = report_compliance_percent(c);

	json_object_set_int_member(o, "met", c->met);
	json_object_set_int_member(o, "judged", c->met + c->missed);
	json_object_set_int_member(o, "running", c->running);
	json_object_set_boolean_member(o, "has_target", c->target > 0);
	if (c->target > 0) {
		g_autofree char *target = hm(c->target, TRUE);

		json_object_set_string_member(o, "target", target);
	}
	if (p >= 0) {
		json_object_set_boolean_member(o, "judged_any", TRUE);
		json_object_set_int_member(o, "percent", p);
		json_object_set_int_member(o, "met_width", p);
		json_object_set_int_member(o, "missed_width", 100 - p);
	}
	return o;
}

JsonObject *
report_out_context(const MdReport *r)
{
	JsonObject *o = json_object_new();
	JsonArray *days = json_array_new();
	JsonArray *sla = json_array_new();
	JsonArray *queues = json_array_new();
	JsonArray *agents = json_array_new();
	g_autofree char *since = day_text(r->since);
	g_autofree char *fr_med = hm(r->first_response.median, r->first_response.count > 0);
	g_autofree char *fr_p90 = hm(r->first_response.p90, r->first_response.count > 0);
	g_autofree char *res_med = hm(r->resolution.median, r->resolution.count > 0);
	g_autofree char *res_p90 = hm(r->resolution.p90, r->resolution.count > 0);
	g_autofree char *queue_names = NULL;
	guint max = 0;

	/* the period's last day is the one before until's midnight */
	{
		g_autofree char *last = day_text(r->until - 1);

		json_object_set_string_member(o, "since", since);
		json_object_set_string_member(o, "until", last);
	}
	g_ptr_array_add(r->queues, NULL);
	queue_names = g_strjoinv(", ", (char **)r->queues->pdata);
	g_ptr_array_remove_index(r->queues, r->queues->len - 1);
	json_object_set_string_member(o, "queues", queue_names);
	json_object_set_int_member(o, "opened", r->opened);
	json_object_set_int_member(o, "solved", r->solved);
	for (guint i = 0; i < r->days->len; i++) {
		const MdReportDay *d = &g_array_index(r->days, MdReportDay, i);

		max = MAX(max, MAX(d->opened, d->solved));
	}
	for (guint i = 0; i < r->days->len; i++) {
		const MdReportDay *d = &g_array_index(r->days, MdReportDay, i);
		JsonObject *dj = json_object_new();
		g_autofree char *day = day_text(d->day);

		json_object_set_string_member(dj, "date", day);
		json_object_set_int_member(dj, "opened", d->opened);
		json_object_set_int_member(dj, "solved", d->solved);
		json_object_set_int_member(dj, "opened_width", bar_width(d->opened, max));
		json_object_set_int_member(dj, "solved_width", bar_width(d->solved, max));
		json_array_add_object_element(days, dj);
	}
	json_object_set_array_member(o, "daily", days);
	json_object_set_int_member(o, "first_response_count", r->first_response.count);
	json_object_set_string_member(o, "first_response_median", fr_med);
	json_object_set_string_member(o, "first_response_p90", fr_p90);
	json_object_set_int_member(o, "resolution_count", r->resolution.count);
	json_object_set_string_member(o, "resolution_median", res_med);
	json_object_set_string_member(o, "resolution_p90", res_p90);
	for (guint i = 0; i < r->sla->len; i++) {
		const MdReportSla *s = r->sla->pdata[i];
		JsonObject *sj = json_object_new();

		json_object_set_string_member(sj, "queue", s->queue);
		json_object_set_string_member(sj, "priority", s->priority);
		json_object_set_object_member(sj, "first_response",
		                              compliance_context(&s->first_response));
		json_object_set_object_member(sj, "resolution", compliance_context(&s->resolution));
		json_array_add_object_element(sla, sj);
	}
	json_object_set_array_member(o, "sla", sla);
	for (int pass = 0; pass < 2; pass++) {
		GPtrArray *list = pass == 0 ? r->backlog_queues : r->backlog_agents;
		JsonArray *to = pass == 0 ? queues : agents;

		for (guint i = 0; i < list->len; i++) {
			const MdReportBacklog *b = list->pdata[i];
			JsonObject *bj = json_object_new();

			json_object_set_string_member(bj, "key", b->key);
			json_object_set_string_member(bj, "name", b->name != NULL ? b->name : b->key);
			json_object_set_int_member(bj, "total", b->total);
			for (int k = 0; k < REPORT_OPEN_STATUSES; k++) {
				/* "on-hold" is no name a template can look up */
				g_autofree char *key = g_strdelimit(g_strdup(report_open_statuses[k]), "-", '_');

				json_object_set_int_member(bj, key, b->by_status[k]);
			}
			json_array_add_object_element(to, bj);
		}
	}
	json_object_set_array_member(o, "backlog_queues", queues);
	json_object_set_array_member(o, "backlog_agents", agents);
	json_object_set_int_member(o, "csat_count", r->csat_count);
	if (r->csat_count > 0) {
		char buf[G_ASCII_DTOSTR_BUF_SIZE];

		json_object_set_string_member(o, "csat_average",
		                              g_ascii_formatd(buf, sizeof buf, "%.1f", r->csat_average));
	}
	return o;
}
