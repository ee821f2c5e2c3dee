/* Unit tests: the figures of a report (percentiles, compliance, pending time). */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "conf.h"
#include "report.h"

#define MINUTE 60
#define HOUR 3600
#define DAY 86400

/* Monday 2 November 2026, 00:00 UTC: the start of the period */
static gint64 since;

static void
test_percentile(void)
{
	const gint64 ten[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	const gint64 two[] = { 10, 20 };
	const gint64 three[] = { 10, 20, 30 };
	const gint64 one[] = { 7 };
	gint64 twenty[20];

	for (int i = 0; i < 20; i++)
		twenty[i] = (i + 1) * 10;
	g_assert_cmpint(report_percentile(NULL, 0, 50), ==, 0);
	g_assert_cmpint(report_percentile(one, 1, 50), ==, 7);
	g_assert_cmpint(report_percentile(one, 1, 90), ==, 7);
	/* nearest rank: ceil(0.5 * 2) = 1, the lower middle */
	g_assert_cmpint(report_percentile(two, 2, 50), ==, 10);
	g_assert_cmpint(report_percentile(two, 2, 90), ==, 20);
	g_assert_cmpint(report_percentile(three, 3, 50), ==, 20);
	g_assert_cmpint(report_percentile(three, 3, 90), ==, 30);
	g_assert_cmpint(report_percentile(ten, 10, 50), ==, 5);
	/* ceil(0.9 * 10) = 9: exactly a rank, not the next one */
	g_assert_cmpint(report_percentile(ten, 10, 90), ==, 9);
	g_assert_cmpint(report_percentile(ten, 10, 100), ==, 10);
	g_assert_cmpint(report_percentile(ten, 10, 1), ==, 1);
	g_assert_cmpint(report_percentile(twenty, 20, 90), ==, 180);
	g_assert_cmpint(report_percentile(twenty, 20, 91), ==, 190);
}

static void
test_outcome(void)
{
	MdCompliance c = { 0 };

	g_assert_cmpint(report_sla_outcome(0, TRUE, 5), ==, REPORT_SLA_NONE);
	g_assert_cmpint(report_sla_outcome(60, TRUE, 60), ==, REPORT_SLA_MET);
	g_assert_cmpint(report_sla_outcome(60, TRUE, 61), ==, REPORT_SLA_MISSED);
	g_assert_cmpint(report_sla_outcome(60, FALSE, 59), ==, REPORT_SLA_RUNNING);
	g_assert_cmpint(report_sla_outcome(60, FALSE, 60), ==, REPORT_SLA_RUNNING);
	/* past its target and still waiting: missed already */
	g_assert_cmpint(report_sla_outcome(60, FALSE, 61), ==, REPORT_SLA_MISSED);

	g_assert_cmpint(report_compliance_percent(&c), ==, -1);
	c.running = 4;
	g_assert_cmpint(report_compliance_percent(&c), ==, -1);
	c.met = 2;
	c.missed = 1;
	g_assert_cmpint(report_compliance_percent(&c), ==, 66);
	c.missed = 0;
	g_assert_cmpint(report_compliance_percent(&c), ==, 100);
	c.met = 0;
	c.missed = 3;
	g_assert_cmpint(report_compliance_percent(&c), ==, 0);
}

static MdConfig *
load_config(const char *dir)
{
	g_autofree char *path = g_build_filename(dir, "maildesk.conf", NULL);
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	MdConfig *cfg;

	g_assert_true(g_file_set_contents(
		path,
		"[maildesk]\ndatabase = md.db\nsecret_file = secret\nhostname = h.example.com\n"
		"templates = .\n"
		"[calendar always]\ntimezone = UTC\nhours = 24/7\n"
		"[calendar office]\ntimezone = UTC\nhours = mon-fri 09:00-17:00\n"
		"[queue support]\naddress = support@example.com\ncalendar = always\n"
		"first_response = normal 1h\nresolution = normal 4h\n"
		"[queue office]\naddress = office@example.com\ncalendar = office\n"
		"resolution = normal 8h\n"
		"[agent alice]\naddress = alice@example.com\nname = Alice\nqueues = support\n",
		-1, NULL));
	cfg = conf_load(path, problems);
	for (guint i = 0; i < problems->len; i++)
		g_test_message("%s", (char *)problems->pdata[i]);
	g_assert_nonnull(cfg);
	g_unlink(path);
	return cfg;
}

static void
add_ticket(GArray *tickets, gint64 id, const char *queue, const char *status, gint64 created,
           gint64 first_response, gint64 solved, const char *assignee)
{
	MdTicket t = { 0 };

	t.id = id;
	t.queue = g_strdup(queue);
	t.status = g_strdup(status);
	t.priority = g_strdup("normal");
	t.created = created;
	t.first_response_at = first_response;
	t.solved_at = solved;
	t.assignee = g_strdup(assignee);
	g_array_append_val(tickets, t);
}

static void
add_event(GArray *events, gint64 ticket, gint64 at, const char *old_status, const char *new_status)
{
	MdStatusEvent e = { ticket, at, g_strdup(old_status), g_strdup(new_status) };

	g_array_append_val(events, e);
}

static void
add_vote(GArray *votes, gint64 ticket, const char *queue, int score, gint64 at)
{
	MdCsatRow v = { ticket, g_strdup(queue), score, at };

	g_array_append_val(votes, v);
}

static void
clear_rows(GArray *tickets, GArray *events, GArray *votes)
{
	for (guint i = 0; i < tickets->len; i++)
		md_ticket_clear(&g_array_index(tickets, MdTicket, i));
	for (guint i = 0; i < events->len; i++)
		md_status_event_clear(&g_array_index(events, MdStatusEvent, i));
	for (guint i = 0; i < votes->len; i++)
		md_csat_row_clear(&g_array_index(votes, MdCsatRow, i));
}

static void
test_pending(void)
{
	g_autofree char *dir = g_dir_make_tmp("maildesk-report-XXXXXX", NULL);
	g_autoptr(MdConfig) cfg = load_config(dir);
	const MdQueue *support = conf_queue_by_name(cfg, "support");
	const MdQueue *office = conf_queue_by_name(cfg, "office");
	g_autoptr(GArray) ev = g_array_new(FALSE, TRUE, sizeof(MdStatusEvent));
	g_autoptr(GArray) none = g_array_new(FALSE, TRUE, sizeof(MdTicket));
	const MdStatusEvent *e;

	g_rmdir(dir);
	add_event(ev, 1, since + 2 * HOUR, "open", "pending");
	add_event(ev, 1, since + 3 * HOUR, "pending", "pending");
	add_event(ev, 1, since + 4 * HOUR, "pending", "open");
	add_event(ev, 1, since + 10 * HOUR, "open", "pending");
	e = (const MdStatusEvent *)(void *)ev->data;
	/* two hours, then pending again until the end asked for */
	g_assert_cmpint(report_pending_minutes(support, "normal", e, 3, since, since + DAY), ==,
	                120);
	g_assert_cmpint(report_pending_minutes(support, "normal", e, 4, since, since + 12 * HOUR),
	                ==, 120 + 120);
	/* clipped to the window */
	g_assert_cmpint(report_pending_minutes(support, "normal", e, 4, since + 3 * HOUR,
	                                       since + 11 * HOUR),
	                ==, 60 + 60);
	/* on office hours (09-17 UTC) only 10:00-12:00 of the second pause counts */
	g_assert_cmpint(report_pending_minutes(office, "normal", e, 4, since, since + 12 * HOUR),
	                ==, 120);
	g_assert_cmpint(report_pending_minutes(support, "normal", NULL, 0, since, since + DAY), ==,
	                0);
	clear_rows(none, ev, none);
}

static void
test_compute(void)
{
	g_autofree char *dir = g_dir_make_tmp("maildesk-report-XXXXXX", NULL);
	g_autoptr(MdConfig) cfg = load_config(dir);
	g_autoptr(GArray) tickets = g_array_new(FALSE, TRUE, sizeof(MdTicket));
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(MdStatusEvent));
	g_autoptr(GArray) votes = g_array_new(FALSE, TRUE, sizeof(MdCsatRow));
	gint64 until = since + 7 * DAY, now = until;
	const char *only_office[] = { "office", NULL };
	g_autoptr(MdReport) r = NULL;
	g_autoptr(MdReport) o = NULL;
	const MdReportSla *s;
	const MdReportBacklog *b;

	g_rmdir(dir);
	/* 5: opened the day before, solved in the period after 25 hours */
	add_ticket(tickets, 5, "support", "solved", since - DAY, since - DAY + 10 * MINUTE,
	           since + HOUR, NULL);
	add_event(events, 5, since + HOUR, "open", "solved");
	/* 6: answered in 30 minutes, solved after 3 hours: both met */
	add_ticket(tickets, 6, "support", "closed", since + HOUR, since + HOUR + 30 * MINUTE,
	           since + 4 * HOUR, NULL);
	add_event(events, 6, since + 4 * HOUR, "open", "solved");
	add_event(events, 6, since + 5 * HOUR, "solved", "closed");
	/* 7: answered after 90 minutes (missed); 5 hours less 2 pending: met */
	add_ticket(tickets, 7, "support", "solved", since + DAY, since + DAY + 90 * MINUTE,
	           since + DAY + 5 * HOUR, NULL);
	add_event(events, 7, since + DAY + 2 * HOUR, "open", "pending");
	add_event(events, 7, since + DAY + 4 * HOUR, "pending", "open");
	add_event(events, 7, since + DAY + 5 * HOUR, "open", "solved");
	/* 8: never answered, long past both targets: missed twice */
	add_ticket(tickets, 8, "support", "new", since + 2 * DAY, 0, 0, "alice@example.com");
	/* 9: opened half an hour before now: both still running */
	add_ticket(tickets, 9, "support", "new", now - 30 * MINUTE, 0, 0, NULL);
	/* 10: another queue, pending now */
	add_ticket(tickets, 10, "office", "pending", since + 3 * DAY, 0, 0, NULL);
	add_event(events, 10, since + 3 * DAY + HOUR, "new", "pending");
	add_vote(votes, 5, "support", 5, since + 2 * HOUR);
	add_vote(votes, 6, "support", 3, since + 6 * HOUR);
	add_vote(votes, 7, "support", 1, until + HOUR);

	r = report_compute(cfg, NULL, tickets, events, votes, since, until, now);
	g_assert_cmpuint(r->queues->len, ==, 2);
	g_assert_cmpuint(r->opened, ==, 5);
	g_assert_cmpuint(r->solved, ==, 3);
	g_assert_cmpuint(r->days->len, ==, 7);
	g_assert_cmpuint(g_array_index(r->days, MdReportDay, 0).opened, ==, 1);
	g_assert_cmpuint(g_array_index(r->days, MdReportDay, 0).solved, ==, 2);
	g_assert_cmpuint(g_array_index(r->days, MdReportDay, 1).solved, ==, 1);
	g_assert_cmpuint(g_array_index(r->days, MdReportDay, 6).opened, ==, 1);

	/* first responses of the tickets opened in the period: 30 and 90 */
	g_assert_cmpuint(r->first_response.count, ==, 2);
	g_assert_cmpint(r->first_response.median, ==, 30);
	g_assert_cmpint(r->first_response.p90, ==, 90);
	/* resolutions in the period: 180 (6), 180 (7, less 120 pending), 1500 (5) */
	g_assert_cmpuint(r->resolution.count, ==, 3);
	g_assert_cmpint(r->resolution.median, ==, 180);
	g_assert_cmpint(r->resolution.p90, ==, 1500);

	g_assert_cmpuint(r->sla->len, ==, 2);
	s = r->sla->pdata[0];
	g_assert_cmpstr(s->queue, ==, "support");
	g_assert_cmpint(s->first_response.target, ==, 60);
	g_assert_cmpuint(s->first_response.met, ==, 1);
	g_assert_cmpuint(s->first_response.missed, ==, 2);
	g_assert_cmpuint(s->first_response.running, ==, 1);
	g_assert_cmpuint(s->resolution.met, ==, 2);
	g_assert_cmpuint(s->resolution.missed, ==, 1);
	g_assert_cmpuint(s->resolution.running, ==, 1);
	s = r->sla->pdata[1];
	g_assert_cmpstr(s->queue, ==, "office");
	g_assert_cmpint(s->first_response.target, ==, 0);
	/* 10: Thursday and Friday's 16 business hours before now were all
	 * spent pending on the customer (since 01:00 Thursday): running */
	g_assert_cmpuint(s->resolution.running, ==, 1);
	g_assert_cmpuint(s->resolution.missed, ==, 0);

	g_assert_cmpuint(r->backlog_queues->len, ==, 2);
	b = r->backlog_queues->pdata[0];
	g_assert_cmpstr(b->key, ==, "support");
	g_assert_cmpuint(b->total, ==, 2);
	g_assert_cmpuint(b->by_status[0], ==, 2);
	b = r->backlog_queues->pdata[1];
	g_assert_cmpuint(b->total, ==, 1);
	g_assert_cmpuint(b->by_status[2], ==, 1);
	g_assert_cmpuint(r->backlog_agents->len, ==, 1);
	b = r->backlog_agents->pdata[0];
	g_assert_cmpstr(b->key, ==, "alice@example.com");
	g_assert_cmpstr(b->name, ==, "Alice");
	g_assert_cmpuint(b->total, ==, 1);

	g_assert_cmpuint(r->csat_count, ==, 2);
	g_assert_cmpfloat(r->csat_average, ==, 4.0);

	/* a lead of office sees office alone */
	o = report_compute(cfg, only_office, tickets, events, votes, since, until, now);
	g_assert_cmpuint(o->opened, ==, 1);
	g_assert_cmpuint(o->solved, ==, 0);
	g_assert_cmpuint(o->sla->len, ==, 1);
	g_assert_cmpuint(o->backlog_queues->len, ==, 1);
	g_assert_cmpuint(o->backlog_agents->len, ==, 0);
	g_assert_cmpuint(o->csat_count, ==, 0);
	clear_rows(tickets, events, votes);
}

int
main(int argc, char **argv)
{
	g_autoptr(GDateTime) start = g_date_time_new_utc(2026, 11, 2, 0, 0, 0);

	g_test_init(&argc, &argv, NULL);
	since = g_date_time_to_unix(start);
	g_test_add_func("/report/percentile", test_percentile);
	g_test_add_func("/report/outcome", test_outcome);
	g_test_add_func("/report/pending", test_pending);
	g_test_add_func("/report/compute", test_compute);
	return g_test_run();
}
