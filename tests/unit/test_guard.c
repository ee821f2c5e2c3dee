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

/* Read receipts are machine mail, in each of their forms; a person's mail
 * that only looks like one in part is not. */
static void
test_receipts(void)
{
	static const char *const receipts[][2] = {
		{ "Read: Your printer", "Your message\n\n  To: Support\n  Subject: Your printer\n\n"
		                        "was read on Monday, 23 November 2026 10:00:00 (UTC+01:00)." },
		{ "Not read: Your printer", "Your message was deleted without being read on Monday." },
		{ "Прочитано: Ваш принтер", "Ваше сообщение было прочитано 23.11.2026 10:00." },
		{ "Izlasīts: printeris", "Jūsu ziņojums tika izlasīts 23.11.2026." },
		{ "Return Receipt", "Your document: Printer\nwas received by: Ann\nat: 10:00" },
	};
	static const char *const people[][2] = {
		{ "Read: chapter 2 first", "Then tell me what you think about the printer." },
		{ "Re: Read: Your printer", "It was read on Monday, but nothing happened." },
		{ "Printer", "Your message was read on Monday." },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(receipts); i++) {
		g_autoptr(MdMessage) m = person();

		m->subject = g_strdup(receipts[i][0]);
		g_free(m->text);
		m->text = g_strdup(receipts[i][1]);
		g_assert_true(guard_is_receipt(m));
		g_assert_cmpuint(guard_check(m, "ann@example.org", FALSE), &, GUARD_RECEIPT);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(people); i++) {
		g_autoptr(MdMessage) m = person();

		m->subject = g_strdup(people[i][0]);
		g_free(m->text);
		m->text = g_strdup(people[i][1]);
		g_assert_false(guard_is_receipt(m));
		g_assert_cmpuint(guard_check(m, "ann@example.org", FALSE), ==, 0);
	}
	{
		g_autoptr(MdMessage) m = person();

		m->tnef_class = g_strdup("REPORT.IPM.Note.IPNNRN");
		g_assert_cmpuint(guard_check(m, "ann@example.org", FALSE), ==, GUARD_RECEIPT);
		g_free(m->tnef_class);
		m->tnef_class = g_strdup("IPM.Note");
		g_assert_cmpuint(guard_check(m, "ann@example.org", FALSE), ==, 0);
	}
	{
		g_autoptr(MdMessage) m = person();

		m->has_mdn = TRUE;
		g_assert_cmpuint(guard_check(m, "ann@example.org", FALSE), &, GUARD_RECEIPT);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/guard/person", test_person_gets_answer);
	g_test_add_func("/guard/reasons", test_each_reason);
	g_test_add_func("/guard/reply-address", test_reply_address_and_describe);
	g_test_add_func("/guard/receipts", test_receipts);
	return g_test_run();
}
