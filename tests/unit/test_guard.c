/* Unit tests: when no automatic answer may be sent. */
#include "config.h"

#include "guard.h"

static MdMessage *
person(void)
{
	MdMessage *m = md_message_new();

	m->from = md_address_new("Ann", "ann@example.org");
	return m;
}

static void
test_person_gets_answer(void)
{
	g_autoptr(MdMessage) m = person();

	g_assert_cmpuint(guard_check(m, "ann@example.org", FALSE), ==, 0);
	g_assert_cmpuint(guard_check(m, NULL, FALSE), ==, 0);
	m->auto_submitted = g_strdup("no");
	g_assert_cmpuint(guard_check(m, "ann@example.org", FALSE), ==, 0);
	m->precedence = g_strdup("first-class");
	g_assert_cmpuint(guard_check(m, "ann@example.org", FALSE), ==, 0);
}

static void
test_each_reason(void)
{
	{
		g_autoptr(MdMessage) m = person();
		g_assert_cmpuint(guard_check(m, "", FALSE), &, GUARD_NULL_SENDER);
		g_assert_cmpuint(guard_check(m, "<>", FALSE), &, GUARD_NULL_SENDER);
	}
	{
		g_autoptr(MdMessage) m = person();
		g_assert_cmpuint(guard_check(m, "MAILER-DAEMON@mx.example.org", FALSE), &, GUARD_DAEMON);
		g_assert_cmpuint(guard_check(m, "postmaster@example.org", FALSE), &, GUARD_DAEMON);
	}
	{
		g_autoptr(MdMessage) m = person();
		m->auto_submitted = g_strdup("auto-replied");
		g_assert_cmpuint(guard_check(m, NULL, FALSE), &, GUARD_AUTO_SUBMITTED);
		g_free(m->auto_submitted);
		m->auto_submitted = g_strdup("auto-generated; owner-email=x@y");
		g_assert_cmpuint(guard_check(m, NULL, FALSE), &, GUARD_AUTO_SUBMITTED);
	}
	for (int i = 0; i < 3; i++) {
		static const char *const p[] = { "bulk", "JUNK", "list" };
		g_autoptr(MdMessage) m = person();
		m->precedence = g_strdup(p[i]);
		g_assert_cmpuint(guard_check(m, NULL, FALSE), &, GUARD_PRECEDENCE);
	}
	{
		g_autoptr(MdMessage) m = person();
		m->list_id = g_strdup("<users.lists.example.org>");
		g_assert_cmpuint(guard_check(m, NULL, FALSE), &, GUARD_LIST);
	}
	{
		g_autoptr(MdMessage) m = person();
		m->x_autoreply = TRUE;
		g_assert_cmpuint(guard_check(m, NULL, FALSE), &, GUARD_AUTOREPLY);
	}
	{
		g_autoptr(MdMessage) m = person();
		g_assert_cmpuint(guard_check(m, NULL, TRUE), &, GUARD_OWN_MAIL);
	}
	{
		g_autoptr(MdMessage) m = person();
		m->is_report = TRUE;
		m->report_type = g_strdup("delivery-status");
		g_assert_cmpuint(guard_check(m, "", FALSE), &, GUARD_BOUNCE);
		g_assert_true(guard_is_bounce(m, ""));
	}
	{
		g_autoptr(MdMessage) m = md_message_new();
		g_assert_cmpuint(guard_check(m, NULL, FALSE), &, GUARD_NO_ADDRESS);
		g_assert_null(guard_reply_address(m));
	}
	{
		g_autoptr(MdMessage) m = person();
		m->auto_response_suppress = g_strdup("OOF, AutoReply");
		g_assert_cmpuint(guard_check(m, NULL, FALSE), &, GUARD_SUPPRESS);
	}
}

static void
test_reply_address_and_describe(void)
{
	g_autoptr(MdMessage) m = person();
	g_autofree char *d = guard_describe(GUARD_LIST | GUARD_RATE);

	m->reply_to = md_address_new(NULL, "team@example.org");
	g_assert_cmpstr(guard_reply_address(m)->addr, ==, "team@example.org");
	g_assert_cmpstr(d, ==, "list,rate-limit");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/guard/person", test_person_gets_answer);
	g_test_add_func("/guard/reasons", test_each_reason);
	g_test_add_func("/guard/reply-address", test_reply_address_and_describe);
	return g_test_run();
}
