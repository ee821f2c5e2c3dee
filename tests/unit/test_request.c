/* Unit tests: which mail is a "status" question rather than a ticket. */
#include "config.h"

#include "request.h"

static gboolean
is_status(const char *subject, const char *text)
{
	g_autoptr(MdMessage) m = md_message_new();

	m->subject = g_strdup(subject);
	g_free(m->text);
	m->text = g_strdup(text);
	return request_is_status(m, "#");
}

static void
test_status(void)
{
	g_assert_true(is_status("status", ""));
	g_assert_true(is_status("Status?", "\n\n"));
	g_assert_true(is_status("Re: STATUS", ""));
	g_assert_true(is_status(NULL, "status"));
	g_assert_true(is_status("Hello", "Status.\n"));
	g_assert_true(is_status("", "статус"));
	g_assert_true(is_status("Statuss", ""));
	g_assert_true(is_status("", "status\n\n-- \nJane Customer\nACME Ltd"));
	g_assert_true(is_status("status", "\n-- \nsent from my phone"));
	g_assert_true(is_status("", "status\n\nOn Mon, Example Support wrote:\n> Your request [#4]\n"));
}

static void
test_not_status(void)
{
	/* a question under a Status subject is a question */
	g_assert_false(is_status("Status", "Where is my order 4711?"));
	g_assert_false(is_status("Status of my order", ""));
	g_assert_false(is_status("", "status of order 4711 please"));
	g_assert_false(is_status("", "What is the status?"));
	g_assert_false(is_status("", ""));
	g_assert_false(is_status(NULL, "statusstatus"));
	g_assert_false(is_status("[#12] status", "The printer still does not work"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/request/status", test_status);
	g_test_add_func("/request/not-status", test_not_status);
	return g_test_run();
}
