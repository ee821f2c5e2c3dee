/* Unit tests: the outbox retry policy, and who hears of a mail that failed. */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "notify.h"
#include "outbox.h"

static void
test_backoff(void)
{
	g_assert_cmpint(outbox_retry_delay(1, 60, 3600), ==, 60);
	g_assert_cmpint(outbox_retry_delay(2, 60, 3600), ==, 120);
	g_assert_cmpint(outbox_retry_delay(3, 60, 3600), ==, 240);
	g_assert_cmpint(outbox_retry_delay(6, 60, 3600), ==, 1920);
	g_assert_cmpint(outbox_retry_delay(7, 60, 3600), ==, 3600);
	g_assert_cmpint(outbox_retry_delay(1000, 60, 3600), ==, 3600);
	g_assert_cmpint(outbox_retry_delay(0, 60, 3600), ==, 60);
}

static void
test_give_up(void)
{
	gint64 next = 0;

	g_assert_true(outbox_schedule_retry(1, 1000, 1000, 86400, 60, 3600, &next));
	g_assert_cmpint(next, ==, 1060);
	g_assert_true(outbox_schedule_retry(3, 1000, 5000, 86400, 60, 3600, &next));
	g_assert_cmpint(next, ==, 5240);
	g_assert_false(outbox_schedule_retry(3, 1000, 1000 + 86400, 86400, 60, 3600, &next));
}

static MdConfig *
load_site(void)
{
	g_autofree char *dir = g_dir_make_tmp("maildesk-outbox-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "maildesk.conf", NULL);
	g_autofree char *text = g_strdup_printf(
		"[maildesk]\ntemplates = %s/templates\n"
		"[queue support]\naddress = support@example.com\nlead = boss@example.com\n"
		"[queue sales]\naddress = sales@example.com\n"
		"[queue billing]\naddress = billing@example.com\n"
		"[queue empty]\naddress = empty@example.com\n"
		"[agent alice]\naddress = alice@example.com\nqueues = support, sales\n"
		"[agent bob]\naddress = bob@example.com\nqueues = support, sales\n"
		"[agent carol]\naddress = carol@example.com\nqueues = support\nlead = yes\n"
		"[agent dave]\naddress = Boss@example.com\nqueues = billing\n",
		g_getenv("G_TEST_SRCDIR") != NULL ? g_getenv("G_TEST_SRCDIR") : ".");
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	MdConfig *cfg;

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	cfg = conf_load(path, problems);
	for (guint i = 0; i < problems->len; i++)
		g_test_message("%s", (char *)problems->pdata[i]);
	g_assert_cmpuint(problems->len, ==, 0);
	g_unlink(path);
	g_rmdir(dir);
	return cfg;
}

static char *
joined(GPtrArray *addrs)
{
	g_ptr_array_add(addrs, NULL);
	return g_strjoinv(",", (char **)addrs->pdata);
}

/* Assignee first; else the queue's lead and lead agents; else its agents. */
static void
test_notice_recipients(void)
{
	g_autoptr(MdConfig) cfg = load_site();
	MdTicket t = { 0 };
	g_autoptr(GPtrArray) a = NULL, b = NULL, c = NULL, d = NULL, e = NULL, f = NULL;
	g_autofree char *ja = NULL, *jb = NULL, *jc = NULL, *jd = NULL, *je = NULL;

	t.queue = "support";
	t.assignee = "ALICE@example.com";
	a = notify_failure_recipients(cfg, &t);
	g_assert_cmpstr((ja = joined(a)), ==, "alice@example.com");
	/* unassigned: the lead address, then lead agents, each once */
	t.assignee = NULL;
	b = notify_failure_recipients(cfg, &t);
	g_assert_cmpstr((jb = joined(b)), ==, "carol@example.com,boss@example.com");
	/* an assignee who is no agent any more counts as none */
	t.assignee = "gone@example.com";
	c = notify_failure_recipients(cfg, &t);
	g_assert_cmpstr((jc = joined(c)), ==, "carol@example.com,boss@example.com");
	/* no lead at all: every agent of the queue */
	t.queue = "sales";
	d = notify_failure_recipients(cfg, &t);
	g_assert_cmpstr((jd = joined(d)), ==, "alice@example.com,bob@example.com");
	t.queue = "billing";
	e = notify_failure_recipients(cfg, &t);
	g_assert_cmpstr((je = joined(e)), ==, "Boss@example.com");
	/* a queue nobody works and nobody leads: nobody; the event remains */
	t.queue = "empty";
	f = notify_failure_recipients(cfg, &t);
	g_assert_cmpuint(f->len, ==, 0);
}

/* No notice about mail to our own people: a failing notice ends there. */
static void
test_notice_wanted(void)
{
	g_autoptr(MdConfig) cfg = load_site();
	g_autoptr(GPtrArray) failed = g_ptr_array_new();
	MdFailedRcpt customer = { "ann@example.org", "550 5.1.1 no such user" };
	MdFailedRcpt agent = { "Bob@example.com", "550 5.2.2 mailbox full" };
	MdFailedRcpt lead = { "boss@example.com", "550 5.1.1 no such user" };
	MdFailedRcpt ours = { "support+12-abc@example.com", "550 5.1.1 no such user" };

	g_assert_false(notify_failure_wanted(cfg, "ack", failed));
	g_ptr_array_add(failed, &customer);
	g_assert_true(notify_failure_wanted(cfg, "ack", failed));
	g_assert_true(notify_failure_wanted(cfg, "reply", failed));
	g_assert_true(notify_failure_wanted(cfg, "notice", failed));
	g_assert_false(notify_failure_wanted(cfg, "agent-delivery-failed", failed));
	g_assert_false(notify_failure_wanted(cfg, "agent-assigned", failed));
	g_ptr_array_add(failed, &agent);
	g_assert_false(notify_failure_wanted(cfg, "reply", failed));
	g_ptr_array_set_size(failed, 0);
	g_ptr_array_add(failed, &lead);
	g_assert_false(notify_failure_wanted(cfg, "notice", failed));
	g_ptr_array_set_size(failed, 0);
	g_ptr_array_add(failed, &ours);
	g_assert_false(notify_failure_wanted(cfg, "reply", failed));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/outbox/backoff", test_backoff);
	g_test_add_func("/outbox/give-up", test_give_up);
	g_test_add_func("/outbox/notice-recipients", test_notice_recipients);
	g_test_add_func("/outbox/notice-wanted", test_notice_wanted);
	return g_test_run();
}
