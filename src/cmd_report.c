/*
 * cmd_report.c - maildesk report [--since 30d] [--until T] [--queue Q]
 *                                [--format text|csv|json] [--now T]
 *                maildesk report --mail-leads [--since 7d] [--force]
 *
 * Reads the rows a report needs (store.c), has report.c work out the
 * figures and report_out.c write them; with --mail-leads queues one
 * digest per queue lead into the outbox, all in one transaction, so that
 * "maildesk send" delivers them.  A digest already recorded for a lead
 * and period is not queued again without --force.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "clock.h"
#include "commands.h"
#include "i18n.h"
#include "json_out.h"
#include "notify.h"
#include "outmail.h"
#include "report.h"
#include "report_out.h"

#define DAY 86400

typedef struct {
	GArray *tickets; /* MdTicket */
	GArray *events;  /* MdStatusEvent */
	GArray *votes;   /* MdCsatRow */
} ReportRows;

static void
rows_clear(ReportRows *rows)
{
	if (rows->tickets != NULL) {
		for (guint i = 0; i < rows->tickets->len; i++)
			md_ticket_clear(&g_array_index(rows->tickets, MdTicket, i));
		g_array_unref(rows->tickets);
	}
	if (rows->events != NULL) {
		for (guint i = 0; i < rows->events->len; i++)
			md_status_event_clear(&g_array_index(rows->events, MdStatusEvent, i));
		g_array_unref(rows->events);
	}
	if (rows->votes != NULL) {
		for (guint i = 0; i < rows->votes->len; i++)
			md_csat_row_clear(&g_array_index(rows->votes, MdCsatRow, i));
		g_array_unref(rows->votes);
	}
}

static MdStatus
rows_read(MdStore *store, gint64 since, gint64 until, ReportRows *rows)
{
	MdStatus st;

	rows->tickets = g_array_new(FALSE, TRUE, sizeof(MdTicket));
	rows->events = g_array_new(FALSE, TRUE, sizeof(MdStatusEvent));
	rows->votes = g_array_new(FALSE, TRUE, sizeof(MdCsatRow));
	if ((st = store_report_tickets(store, since, rows->tickets)) != MD_OK ||
	    (st = store_report_status_events(store, since, rows->events)) != MD_OK)
		return st;
	return store_report_csat(store, since, until, rows->votes);
}

/* "30d" before until, or an ISO 8601 instant. */
static gboolean
parse_since(const char *text, gint64 until, gint64 *since_r)
{
	gint64 seconds;

	if (conf_parse_duration(text, &seconds)) {
		*since_r = until - seconds;
		return TRUE;
	}
	return clock_parse_iso8601(text, since_r);
}

typedef struct {
	char *address;
	const MdAgent *agent; /* NULL for a queue's lead address that is no agent */
	GPtrArray *queues;    /* char*, borrowed from the config */
} Lead;

static void
lead_free(gpointer p)
{
	Lead *l = p;

	g_free(l->address);
	g_ptr_array_unref(l->queues);
	g_free(l);
}

static void
lead_add(GPtrArray *leads, const MdConfig *cfg, const char *address, const MdQueue *q)
{
	Lead *l = NULL;

	for (guint i = 0; i < leads->len && l == NULL; i++)
		if (g_ascii_strcasecmp(((Lead *)leads->pdata[i])->address, address) == 0)
			l = leads->pdata[i];
	if (l == NULL) {
		l = g_new0(Lead, 1);
		l->address = g_strdup(address);
		l->agent = conf_agent_by_address(cfg, address);
		l->queues = g_ptr_array_new();
		g_ptr_array_add(leads, l);
	}
	for (guint i = 0; i < l->queues->len; i++)
		if (strcmp(l->queues->pdata[i], q->name) == 0)
			return;
	g_ptr_array_add(l->queues, q->name);
}

/* Every queue's leads: agents with lead = yes who serve it, and its lead address. */
static GPtrArray *
leads_of(const MdConfig *cfg)
{
	GPtrArray *leads = g_ptr_array_new_with_free_func(lead_free);

	for (guint i = 0; i < cfg->queues->len; i++) {
		const MdQueue *q = cfg->queues->pdata[i];

		for (guint k = 0; k < cfg->agents->len; k++) {
			const MdAgent *a = cfg->agents->pdata[k];

			if (a->lead && conf_agent_serves(a, q->name))
				lead_add(leads, cfg, a->address, q);
		}
		if (q->lead != NULL)
			lead_add(leads, cfg, q->lead, q);
	}
	return leads;
}

static MdStatus
queue_digest(const MdIntake *in, const Lead *l, const ReportRows *rows, gint64 since,
             gint64 until, gint64 now, gboolean *queued_r, char **error_r)
{
	const MdConfig *cfg = in->cfg;
	const MdQueue *q = conf_queue_by_name(cfg, l->queues->pdata[0]);
	const char *lang = notify_agent_language(cfg, l->agent, q);
	g_autoptr(MdReport) r = NULL;
	g_autoptr(JsonObject) ctx = NULL;
	JsonObject *lead = json_object_new();
	JsonObject *report_ctx;
	JsonArray *sla;
	g_autofree char *withheld = NULL;
	g_autofree char *period = NULL;
	MdOutMail m = { 0 };
	MdStatus st;

	*queued_r = FALSE;
	g_ptr_array_add(l->queues, NULL);
	r = report_compute(cfg, (const char *const *)l->queues->pdata, rows->tickets, rows->events,
	                   rows->votes, since, until, now);
	g_ptr_array_remove_index(l->queues, l->queues->len - 1);
	period = report_out_period(r);
	ctx = outmail_context(in, NULL, q, lang, 0, TRUE);
	if (l->agent != NULL && l->agent->display_name != NULL)
		json_object_set_string_member(lead, "name", l->agent->display_name);
	json_object_set_string_member(lead, "address", l->address);
	json_object_set_object_member(ctx, "lead", lead);
	report_ctx = report_out_context(r);
	/* priorities in the lead's words */
	sla = json_object_get_array_member(report_ctx, "sla");
	for (guint i = 0; i < json_array_get_length(sla); i++) {
		JsonObject *row = json_array_get_object_element(sla, i);
		g_autofree char *word = i18n_text(cfg->templates, lang, "priority",
		                                  json_object_get_string_member(row, "priority"));

		json_object_set_string_member(row, "priority_text", word);
	}
	json_object_set_object_member(ctx, "report", report_ctx);

	m.template = "agent-report";
	m.outbox_kind = "agent-report";
	m.to_agents = TRUE;
	m.queue = q;
	m.language = lang;
	m.to_name = l->agent != NULL ? l->agent->display_name : NULL;
	m.to_addr = l->address;
	m.auto_submitted = "auto-generated";
	if ((st = outmail_queue(in, NULL, ctx, &m, now, &withheld, error_r)) != MD_OK)
		return st;
	if (withheld != NULL) {
		fprintf(stderr, "maildesk: digest for %s not queued: %s\n", l->address, withheld);
		return MD_OK;
	}
	if ((st = store_event_add(in->store, 0, now, "maildesk", "digest", l->address, period)) !=
	    MD_OK) {
		*error_r = g_strdup(store_error(in->store));
		return st;
	}
	*queued_r = TRUE;
	return MD_OK;
}

static int
mail_leads(const MdConfig *cfg, MdStore *store, const ReportRows *rows, gint64 since, gint64 until,
           gint64 now, gboolean force)
{
	g_autoptr(GPtrArray) leads = leads_of(cfg);
	guint queued = 0, skipped = 0;
	MdIntake in = { .cfg = cfg, .store = store, .secret = NULL, .queued = NULL };
	g_autofree char *period = NULL;
	MdStatus st;

	{
		MdReport probe = { .since = since, .until = until };

		period = report_out_period(&probe);
	}
	if (leads->len == 0) {
		printf("no queue has a lead: no digest queued\n");
		return EX_OK;
	}
	if ((st = store_begin(store)) != MD_OK) {
		fprintf(stderr, "maildesk: %s\n", store_error(store));
		return status_exit_code(st);
	}
	for (guint i = 0; i < leads->len; i++) {
		const Lead *l = leads->pdata[i];
		g_autofree char *error = NULL;
		gboolean sent = FALSE, done = FALSE;

		if ((st = store_digest_sent(store, l->address, period, &sent)) != MD_OK) {
			error = g_strdup(store_error(store));
		} else if (sent && !force) {
			printf("%s: the digest for %s was queued before (--force sends it again)\n",
			       l->address, period);
			skipped++;
			continue;
		} else {
			st = queue_digest(&in, l, rows, since, until, now, &done, &error);
		}
		if (st != MD_OK) {
			store_rollback(store);
			fprintf(stderr, "maildesk: digest for %s: %s\n", l->address, error);
			return status_exit_code(st);
		}
		if (done) {
			g_ptr_array_add(l->queues, NULL);
			{
				g_autofree char *names = g_strjoinv(", ", (char **)l->queues->pdata);

				printf("%s: digest for %s queued (queues: %s)\n", l->address, period, names);
			}
			g_ptr_array_remove_index(l->queues, l->queues->len - 1);
			queued++;
		}
	}
	if ((st = store_commit(store)) != MD_OK) {
		fprintf(stderr, "maildesk: %s\n", store_error(store));
		return status_exit_code(st);
	}
	printf("%u digests queued, %u already sent\n", queued, skipped);
	return EX_OK;
}

static int
print_report(const MdConfig *cfg, const ReportRows *rows, char **queues, gint64 since,
             gint64 until, gint64 now, const char *format)
{
	g_autoptr(MdReport) r = report_compute(cfg, (const char *const *)queues, rows->tickets,
	                                       rows->events, rows->votes, since, until, now);
	g_autofree char *text = NULL;

	if (strcmp(format, "json") == 0) {
		g_autoptr(JsonNode) root = report_out_json(r);

		text = json_out_to_string(root);
		printf("%s\n", text);
	} else if (strcmp(format, "csv") == 0) {
		text = report_out_csv(r);
		fputs(text, stdout);
	} else {
		text = report_out_text(r);
		fputs(text, stdout);
	}
	return EX_OK;
}

int
cmd_report(const MdGlobal *g, int argc, char **argv)
{
	g_autofree char *since_text = NULL;
	g_autofree char *until_text = NULL;
	g_autofree char *now_text = NULL;
	g_autofree char *format = NULL;
	g_auto(GStrv) queues = NULL;
	gboolean mail = FALSE, force = FALSE;
	GOptionEntry entries[] = {
		{ "since", 0, 0, G_OPTION_ARG_STRING, &since_text,
		  "start: a duration before the end (30d, 7d, 12h) or ISO 8601; default 30d, 7d with --mail-leads",
		  "WHEN" },
		{ "until", 0, 0, G_OPTION_ARG_STRING, &until_text,
		  "end (excluded), ISO 8601; default now, today 00:00 UTC with --mail-leads", "T" },
		{ "queue", 0, 0, G_OPTION_ARG_STRING_ARRAY, &queues, "only this queue (repeatable)",
		  "Q" },
		{ "format", 0, 0, G_OPTION_ARG_STRING, &format, "text (default), csv or json", "F" },
		{ "mail-leads", 0, 0, G_OPTION_ARG_NONE, &mail, "queue the digest to every queue lead",
		  NULL },
		{ "force", 0, 0, G_OPTION_ARG_NONE, &force,
		  "with --mail-leads: queue it again for a period already sent", NULL },
		{ "now", 0, 0, G_OPTION_ARG_STRING, &now_text, "the current time (tests)", "ISO8601" },
		{ NULL },
	};
	g_autoptr(MdConfig) cfg = NULL;
	ReportRows rows = { 0 };
	MdStore *store;
	MdStatus st;
	gint64 now, since, until;
	int code;

	if (!commands_parse_options("- tickets, response times, SLA compliance, backlog, CSAT",
	                            entries, FALSE, &argc, &argv))
		return EX_USAGE;
	if (argc != 1) {
		fprintf(stderr, "maildesk: report takes no arguments\n");
		return EX_USAGE;
	}
	if (format == NULL)
		format = g_strdup("text");
	if (strcmp(format, "text") != 0 && strcmp(format, "csv") != 0 &&
	    strcmp(format, "json") != 0) {
		fprintf(stderr, "maildesk: unknown format \"%s\" (text, csv or json)\n", format);
		return EX_USAGE;
	}
	if (mail && queues != NULL) {
		fprintf(stderr, "maildesk: --mail-leads gives each lead their own queues; no --queue\n");
		return EX_USAGE;
	}
	if (!commands_set_now(now_text, FALSE))
		return EX_USAGE;
	now = clock_now();
	/* a digest covers whole UTC days, so a second run the same day is the
	 * same period and is recognised as sent */
	until = mail ? now - now % DAY : now;
	if (until_text != NULL && !clock_parse_iso8601(until_text, &until)) {
		fprintf(stderr, "maildesk: --until: \"%s\" is not an ISO 8601 time\n", until_text);
		return EX_USAGE;
	}
	if (!parse_since(since_text != NULL ? since_text : mail ? "7d" : "30d", until, &since)) {
		fprintf(stderr, "maildesk: --since: \"%s\" is neither a duration nor an ISO 8601 time\n",
		        since_text);
		return EX_USAGE;
	}
	if (since >= until) {
		fprintf(stderr, "maildesk: the period is empty (--since is not before --until)\n");
		return EX_USAGE;
	}
	if ((cfg = commands_load_config(g, FALSE)) == NULL)
		return EX_CONFIG;
	for (guint i = 0; queues != NULL && queues[i] != NULL; i++)
		if (conf_queue_by_name(cfg, queues[i]) == NULL) {
			fprintf(stderr, "maildesk: there is no queue \"%s\"\n", queues[i]);
			return EX_USAGE;
		}
	if ((store = commands_open_store(cfg, FALSE, &st)) == NULL)
		return status_exit_code(st);
	if ((st = rows_read(store, since, until, &rows)) != MD_OK) {
		fprintf(stderr, "maildesk: %s\n", store_error(store));
		code = status_exit_code(st);
	} else if (mail) {
		code = mail_leads(cfg, store, &rows, since, until, now, force);
	} else {
		code = print_report(cfg, &rows, queues, since, until, now, format);
	}
	rows_clear(&rows);
	store_close(store);
	return code;
}
