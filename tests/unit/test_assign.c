/* Unit tests: fair assignment. */
#include "config.h"

#include "assign.h"

static void
test_least_loaded(void)
{
	MdAgentLoad l[] = {
		{ "alice@example.com", 2, 3, 100 },
		{ "bob@example.com", 1, 3, 500 },
		{ "carol@example.com", 1, 3, 200 },
	};

	/* bob and carol carry one each; carol waited longer */
	g_assert_cmpint(assign_pick(l, 3), ==, 2);
	l[2].open = 2;
	g_assert_cmpint(assign_pick(l, 3), ==, 1);
}

static void
test_caps(void)
{
	MdAgentLoad l[] = {
		{ "alice@example.com", 3, 3, 100 },
		{ "bob@example.com", 0, 0, 0 },
		{ "carol@example.com", 5, 3, 0 },
	};

	g_assert_cmpint(assign_pick(l, 3), ==, -1);
	l[0].open = 2;
	g_assert_cmpint(assign_pick(l, 3), ==, 0);
	g_assert_cmpint(assign_pick(l, 0), ==, -1);
}

static void
test_never_assigned_first(void)
{
	MdAgentLoad l[] = {
		{ "alice@example.com", 0, 3, 100 },
		{ "dave@example.com", 0, 3, 0 },
		{ "erin@example.com", 0, 3, 0 },
	};

	/* a newcomer who never had a ticket waits longest; equal: stable order */
	g_assert_cmpint(assign_pick(l, 3), ==, 1);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/assign/least-loaded", test_least_loaded);
	g_test_add_func("/assign/caps", test_caps);
	g_test_add_func("/assign/never-assigned", test_never_assigned_first);
	return g_test_run();
}
