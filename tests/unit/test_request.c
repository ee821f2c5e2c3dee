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
	return request_is_status(m, "#", "help.example.com");
}

static MdMessage *
status_mail(void)
{
	MdMessage *m = md_message_new();

	m->subject = g_strdup("status");
	g_free(m->text);
	m->text = g_strdup("status");
	return m;
}

static gboolean
status_with_attachment(const char *content_type, const char *disposition, const char *filename)
{
	g_autoptr(MdMessage) m = status_mail();
	MdAttachment *a = md_attachment_new();

	a->content_type = g_strdup(content_type);
	a->disposition = g_strdup(disposition);
	a->filename = g_strdup(filename);
	a->size = 10;
	g_ptr_array_add(m->attachments, a);
	return request_is_status(m, "#", "help.example.com");
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
	g_assert_true(is_status("status", "\r\n\r\n-- \r\nJane\r\n"));
	g_assert_true(is_status("Re: status", ""));
	g_assert_true(is_status("AW: [#4] Статус", ""));
}

static void
test_quoted(void)
{
	/* any quoted or forwarded history, wherever it is, makes a ticket */
	g_assert_false(is_status("", "status\n\nOn Mon, Example Support wrote:\n> Your request [#4]\n"));
	g_assert_false(is_status("", "status\n> quoted line\n"));
	g_assert_false(is_status("status", "> only a quote\n"));
	g_assert_false(is_status("status", "\n\n-----Original Message-----\nFrom: a@b\nSent: today\n\nhi"));
	g_assert_false(is_status("статус", "---------- Forwarded message ---------\nFrom: Boss <b@x>\n"
	                                    "Date: Mon\nSubject: contract\n\nPlease see attached"));
	g_assert_false(is_status("status", "From: Boss <b@x>\nSent: Monday\nTo: me\nSubject: x\n\ntext"));
	g_assert_false(is_status("", "status\n-- \nJane\n\nOn Mon, Bob wrote:\n> hi\n"));
	g_assert_false(is_status("", "status\n-- \nJane\n> hi\n"));
	g_assert_false(is_status("status", "Am Montag schrieb Max Muster <m@x>:\n> Hallo"));
	g_assert_false(is_status("status", "Пётр пишет:\n> привет"));
	g_assert_false(is_status("status", "##- Please type your reply above this line -##\nold"));
}

static void
test_forwarded_subject(void)
{
	const char *const subjects[] = { "Fwd: status", "FW: status", "WG: Status", "TR: statut status",
		                         "I: status", "VB: status", "Пересл: статус", "Pārs: statuss",
		                         "Re: Fwd: status", "[#4] Fwd: status", "Fw[2]: status", NULL };

	for (guint i = 0; subjects[i] != NULL; i++)
		g_assert_false(is_status(subjects[i], ""));
	g_assert_false(is_status("Fwd: hello", "status"));
}

static void
test_attachments(void)
{
	/* the instance of issue 12: a forward as attached mail, nothing written */
	g_assert_false(status_with_attachment("message/rfc822", "attachment", "contract.eml"));
	g_assert_false(status_with_attachment("application/vnd.openxmlformats-officedocument."
	                                      "wordprocessingml.document", "attachment", "a.docx"));
	g_assert_false(status_with_attachment("image/png", "inline", NULL));
	g_assert_false(status_with_attachment("application/octet-stream", NULL, NULL));
	g_assert_false(status_with_attachment("text/plain", "attachment", "notes.txt"));
}

static void
test_reply_to_us(void)
{
	g_autoptr(MdMessage) irt = status_mail();
	g_autoptr(MdMessage) refs = status_mail();
	g_autoptr(MdMessage) other = status_mail();
	g_autoptr(MdMessage) report = status_mail();
	g_autoptr(MdMessage) broken = status_mail();
	g_autoptr(MdMessage) html = status_mail();
	g_autoptr(MdMessage) from_html = status_mail();

	irt->in_reply_to = g_strdup("r.abcdef123456.1700000000@Help.Example.COM");
	g_assert_false(request_is_status(irt, "#", "help.example.com"));
	g_ptr_array_add(refs->references, g_strdup("x@customer.example"));
	g_ptr_array_add(refs->references, g_strdup("t4.abcdefgh.1700000000@help.example.com"));
	g_assert_false(request_is_status(refs, "#", "help.example.com"));
	/* a reply to someone else's mail is still a word to us */
	other->in_reply_to = g_strdup("x@customer.example");
	g_assert_true(request_is_status(other, "#", "help.example.com"));
	report->is_report = TRUE;
	g_assert_false(request_is_status(report, "#", "help.example.com"));
	broken->parse_failed = TRUE;
	g_assert_false(request_is_status(broken, "#", "help.example.com"));
	html->html = g_strdup("<div>status</div><BLOCKQUOTE type=cite>old</BLOCKQUOTE>");
	g_assert_false(request_is_status(html, "#", "help.example.com"));
	from_html->html = g_strdup("<p>status</p>");
	from_html->text_from_html = TRUE;
	g_assert_true(request_is_status(from_html, "#", "help.example.com"));
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
	g_test_add_func("/request/quoted", test_quoted);
	g_test_add_func("/request/forwarded-subject", test_forwarded_subject);
	g_test_add_func("/request/attachments", test_attachments);
	g_test_add_func("/request/reply-to-us", test_reply_to_us);
	return g_test_run();
}
