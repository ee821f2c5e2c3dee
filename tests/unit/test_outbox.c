/* Unit tests: the outbox retry policy. */
#include "config.h"

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

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/outbox/backoff", test_backoff);
	g_test_add_func("/outbox/give-up", test_give_up);
	return g_test_run();
}
