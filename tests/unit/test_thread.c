/* Unit tests: the threading decision. */
#include "config.h"

#include "thread.h"

static void
test_order(void)
{
	MdThreadFacts f = { 0 };
	gint64 t;

	g_assert_cmpint(thread_match(&f, &t), ==, THREAD_NEW);
	g_assert_cmpint(t, ==, 0);

	f.tag_ticket = 7;
	g_assert_cmpint(thread_match(&f, &t), ==, THREAD_NEW); /* not a participant */
	f.tag_sender_is_participant = TRUE;
	g_assert_cmpint(thread_match(&f, &t), ==, THREAD_BY_TAG);
	g_assert_cmpint(t, ==, 7);

	f.ref_ticket = 5;
	g_assert_cmpint(thread_match(&f, &t), ==, THREAD_BY_REFERENCES);
	g_assert_cmpint(t, ==, 5);

	f.token_ticket = 3;
	g_assert_cmpint(thread_match(&f, &t), ==, THREAD_BY_TOKEN);
	g_assert_cmpint(t, ==, 3);
}

static void
test_actions(void)
{
	gint64 day = 86400, now = 1000 * day;

	g_assert_cmpint(thread_action("new", 0, now, 30), ==, THREAD_APPEND);
	g_assert_cmpint(thread_action("open", 0, now, 30), ==, THREAD_APPEND);
	g_assert_cmpint(thread_action("pending", 0, now, 30), ==, THREAD_APPEND);
	g_assert_cmpint(thread_action("on-hold", 0, now, 30), ==, THREAD_APPEND);
	g_assert_cmpint(thread_action("solved", 0, now, 30), ==, THREAD_REOPEN);
	g_assert_cmpint(thread_action("closed", now - 29 * day, now, 30), ==, THREAD_REOPEN);
	g_assert_cmpint(thread_action("closed", now - 30 * day, now, 30), ==, THREAD_REOPEN);
	g_assert_cmpint(thread_action("closed", now - 30 * day - 1, now, 30), ==, THREAD_NEW_LINKED);
	g_assert_cmpint(thread_action("closed", now - 1, now, 0), ==, THREAD_NEW_LINKED);

	g_assert_cmpstr(thread_status_after_customer("pending", THREAD_APPEND), ==, "open");
	g_assert_cmpstr(thread_status_after_customer("on-hold", THREAD_APPEND), ==, "on-hold");
	g_assert_cmpstr(thread_status_after_customer("new", THREAD_APPEND), ==, "new");
	g_assert_cmpstr(thread_status_after_customer("solved", THREAD_REOPEN), ==, "open");
	g_assert_cmpstr(thread_status_after_customer("closed", THREAD_NEW_LINKED), ==, "new");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/thread/order", test_order);
	g_test_add_func("/thread/actions", test_actions);
	return g_test_run();
}
