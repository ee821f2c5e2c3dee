/* Unit tests: which parts of an agent's mail may reach the customer. */
#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "agentparts.h"
#include "parse.h"
#include "quote.h"

#define NOTE "NOTE-SECRET: the customer is on our blacklist"
#define NOTE_ADDR "support+5-note-0123456789abcdef@example.com"
#define AGENT_ADDR "support+5-agent-fedcba9876543210@example.com"
/* our agent mail as the agent's client quotes or attaches it */
#define OUR_MAIL                                                                   \
	"##- Please type your reply above this line -##\n\n"                       \
	"Ann added an internal note to ticket [#5].\n\n" NOTE "\n\n"              \
	"For an internal note write to " NOTE_ADDR "\n"
#define HEAD                                                                        \
	"From: Agent A <agent@example.com>\nTo: " AGENT_ADDR "\nSubject: Re: [#5] Printer\n" \
	"MIME-Version: 1.0\n"

static MdAgentParts *
read_mail(const char *raw, MdMessage **msg_r)
{
	MdMessage *m = parse_message((const guint8 *)raw, strlen(raw), NULL);
	MdAgentParts *p = agentparts_read((const guint8 *)raw, strlen(raw), m, 0, 0);

	if (msg_r != NULL)
		*msg_r = m;
	else
		md_message_free(m);
	return p;
}

/* The filename and decoded content of a passed-on entity. */
static void
entity(GBytes *b, char **name_r, char **type_r, GBytes **content_r)
{
	gsize n = 0;
	const char *data = g_bytes_get_data(b, &n);
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(data, n);
	GMimeParser *parser = g_mime_parser_new_with_stream(s);
	GMimeObject *o = g_mime_parser_construct_part(parser, NULL);
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *bytes;

	g_assert_true(GMIME_IS_PART(o));
	*name_r = g_strdup(g_mime_part_get_filename(GMIME_PART(o)));
	*type_r = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(o));
	g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(o)), mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	*content_r = g_bytes_new(bytes->data, bytes->len);
	g_object_unref(mem);
	g_object_unref(o);
	g_object_unref(parser);
	g_object_unref(s);
}

static gboolean
leaks(const MdAgentParts *p)
{
	g_autofree char *fresh = quote_strip(p->text);

	if (strstr(fresh, "NOTE-SECRET") || strstr(fresh, "-note-") || strstr(fresh, "-agent-"))
		return TRUE;
	for (guint i = 0; i < p->attachments->len; i++) {
		gsize n = 0;
		const char *d = g_bytes_get_data(p->attachments->pdata[i], &n);

		if (g_strstr_len(d, (gssize)n, "NOTE-SECRET") || g_strstr_len(d, (gssize)n, "-note-"))
			return TRUE;
	}
	return FALSE;
}

/* Apple Mail: text, image, text; the last text part goes on with the reply
 * and then quotes our mail. */
static void
test_apple_trailing_text(void)
{
	const char *raw = HEAD "Content-Type: multipart/mixed; boundary=b\n\n"
	                       "--b\nContent-Type: text/plain; charset=us-ascii\n\n"
	                       "Here is the screenshot you asked for:\n"
	                       "--b\nContent-Type: image/png; name=shot.png\n"
	                       "Content-Disposition: inline; filename=shot.png\n"
	                       "Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n"
	                       "--b\nContent-Type: text/plain; charset=us-ascii\n\n"
	                       "Restart the printer after that.\n\n"
	                       "On 23 Nov 2026, at 10:00, Support <support@example.com> wrote:\n\n"
	                       "> ##- Please type your reply above this line -##\n> " NOTE "\n> "
	                       NOTE_ADDR "\n--b--\n";
	g_autoptr(MdAgentParts) p = read_mail(raw, NULL);
	g_autofree char *fresh = quote_strip(p->text);

	g_assert_nonnull(strstr(fresh, "Here is the screenshot"));
	g_assert_nonnull(strstr(fresh, "Restart the printer"));
	g_assert_false(leaks(p));
	g_assert_cmpuint(p->attachments->len, ==, 1);
	g_assert_cmpuint(p->withheld->len, ==, 0);
}

/* Outlook "attach original": our agent mail as message/rfc822; also the
 * other kinds of attached mail. */
static void
test_attached_mail(void)
{
	const char *const types[] = { "message/rfc822", "message/global", "text/rfc822-headers",
		                      "message/partial; id=\"x\"; number=1; total=2",
		                      "message/external-body; access-type=anon-ftp", NULL };

	for (guint i = 0; types[i] != NULL; i++) {
		g_autofree char *raw = g_strdup_printf(
		        HEAD "Content-Type: multipart/mixed; boundary=b\n\n"
		             "--b\nContent-Type: text/plain\n\nPlease try the new driver.\n"
		             "--b\nContent-Type: %s\nContent-Disposition: attachment\n\n"
		             "From: Support <support@example.com>\nTo: agent@example.com\n"
		             "Reply-To: " AGENT_ADDR "\nSubject: [#5] Printer\n\n" OUR_MAIL
		             "\n--b--\n",
		        types[i]);
		g_autoptr(MdAgentParts) p = read_mail(raw, NULL);

		g_assert_cmpstr(g_strstrip(p->text), ==, "Please try the new driver.");
		g_assert_cmpuint(p->attachments->len, ==, 0);
		g_assert_cmpuint(p->withheld->len, ==, 1);
		g_assert_false(leaks(p));
	}
}

static GBytes *
fixture(const char *name)
{
	g_autofree char *path = g_test_build_filename(G_TEST_DIST, "tests", "data", "tnef", name, NULL);
	char *data = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	return g_bytes_new_take(data, len);
}

static char *
outlook_rich_text(const char *tnef_name, const char *type)
{
	g_autoptr(GBytes) b = fixture(tnef_name);
	g_autofree char *b64 = g_base64_encode(g_bytes_get_data(b, NULL), g_bytes_get_size(b));

	return g_strdup_printf(
	        HEAD "Content-Type: multipart/mixed; boundary=b\n\n"
	             "--b\nContent-Type: text/plain; charset=\"us-ascii\"\n\n"
	             "The files are attached.\n\n"
	             "-----Original Message-----\nFrom: Support <support@example.com>\n"
	             "Sent: Monday, November 23, 2026 10:00 AM\n\n" OUR_MAIL "\n"
	             "--b\nContent-Type: %s; name=\"winmail.dat\"\n"
	             "Content-Transfer-Encoding: base64\n"
	             "Content-Disposition: attachment; filename=\"winmail.dat\"\n\n%s\n--b--\n",
	        type, b64);
}

/* Outlook rich text: the files come out of winmail.dat as MIME parts of
 * their own; the stream itself and its RTF body never pass. */
static void
test_tnef_files(void)
{
	const char *const types[] = { "application/ms-tnef", "application/vnd.ms-tnef",
		                      "application/octet-stream", NULL };

	for (guint i = 0; types[i] != NULL; i++) {
		g_autofree char *raw = outlook_rich_text("two-files.tnef", types[i]);
		g_autoptr(MdAgentParts) p = read_mail(raw, NULL);
		g_autofree char *fresh = quote_strip(p->text);

		g_assert_cmpstr(fresh, ==, "The files are attached.");
		g_assert_cmpuint(p->attachments->len, ==, 2);
		for (guint k = 0; k < 2; k++) {
			g_autofree char *name = NULL, *type = NULL;
			g_autoptr(GBytes) content = NULL;

			entity(p->attachments->pdata[k], &name, &type, &content);
			g_assert_cmpstr(name, ==, k == 0 ? "AUTHORS" : "README");
			g_assert_cmpuint(g_bytes_get_size(content), ==, k == 0 ? 244 : 893);
			g_assert_null(strstr(type, "tnef"));
		}
		g_assert_false(leaks(p));
	}
	{
		g_autofree char *raw = outlook_rich_text("rtf.tnef", "application/ms-tnef");
		g_autoptr(MdAgentParts) p = read_mail(raw, NULL);

		/* the RTF body is the text's twin: neither passed nor worth a word */
		g_assert_cmpuint(p->attachments->len, ==, 0);
		g_assert_cmpuint(p->withheld->len, ==, 0);
	}
	{
		/* not readable as TNEF: withheld whole, never passed undecoded */
		g_autofree char *raw = outlook_rich_text("ytnef-oob-TNEFVersion-SwapWord.tnef",
		                                         "application/ms-tnef");
		g_autoptr(MdAgentParts) p = read_mail(raw, NULL);

		g_assert_cmpuint(p->attachments->len, ==, 0);
		g_assert_cmpuint(p->withheld->len, ==, 1);
		g_assert_nonnull(strstr(p->withheld->pdata[0], "winmail.dat"));
	}
}

/* Files and images pass; HTML, quoting texts, unnamed parts and anything
 * holding our marks do not. */
static void
test_kinds(void)
{
	g_autofree char *pdf_b64 = g_base64_encode((const guchar *)"%PDF-1.4 invoice", 16);
	g_autofree char *marked_b64 = g_base64_encode((const guchar *)"%PDF-1.4 " NOTE_ADDR, 9 + strlen(NOTE_ADDR));
	g_autofree char *raw = g_strdup_printf(
	        HEAD "Content-Type: multipart/mixed; boundary=b\n\n"
	             "--b\nContent-Type: text/plain\n\nSee the invoice.\n"
	             "--b\nContent-Type: application/pdf; name=invoice.pdf\n"
	             "Content-Transfer-Encoding: base64\n\n%s\n"
	             "--b\nContent-Type: application/pdf; name=notes.pdf\n"
	             "Content-Transfer-Encoding: base64\n\n%s\n"
	             "--b\nContent-Type: image/jpeg\nContent-Transfer-Encoding: base64\n\n/9j/4AAQ\n"
	             "--b\nContent-Type: text/html; name=history.html\n\n<p>" NOTE "</p>\n"
	             "--b\nContent-Type: text/plain; name=history.txt\n"
	             "Content-Disposition: attachment; filename=history.txt\n\n"
	             "On Mon, 23 Nov 2026 Support <support@example.com> wrote:\n> " NOTE "\n"
	             "--b\nContent-Type: text/plain; name=log.txt\n"
	             "Content-Disposition: attachment; filename=log.txt\n\nline 1\nline 2\n"
	             "--b\nContent-Type: application/octet-stream\n\nbytes\n"
	             "--b\nContent-Type: text/csv; name=list.csv\n\na,b\n" NOTE_ADDR ",x\n"
	             "--b--\n",
	        pdf_b64, marked_b64);
	g_autoptr(MdAgentParts) p = read_mail(raw, NULL);
	GString *names = g_string_new(NULL);

	g_assert_cmpstr(g_strstrip(p->text), ==, "See the invoice.");
	for (guint i = 0; i < p->attachments->len; i++) {
		g_autofree char *name = NULL, *type = NULL;
		g_autoptr(GBytes) content = NULL;

		entity(p->attachments->pdata[i], &name, &type, &content);
		g_string_append_printf(names, "%s%s", i ? "," : "", name ? name : type);
	}
	g_assert_cmpstr(names->str, ==, "invoice.pdf,image/jpeg,log.txt");
	g_string_free(names, TRUE);
	g_assert_cmpuint(p->withheld->len, ==, 5);
	g_assert_false(leaks(p));
}

/* Saved mail sent as a file: by type, by name, by content; our marks in
 * UTF-16 (Outlook's .msg) too. */
static void
test_mail_files(void)
{
	static const guint8 utf16_note[] = { 0xd0, 0xcf, 0x11, 0xe0, 's', 0, 'u', 0, 'p', 0, '+', 0,
		                             '5', 0, '-', 0, 'n', 0, 'o', 0, 't', 0, 'e', 0, '-', 0,
		                             '0', 0, '1', 0, '2', 0, '3', 0, '4', 0, '5', 0, '6', 0,
		                             '7', 0, '8', 0, '9', 0, 'a', 0, 'b', 0, 'c', 0, 'd', 0,
		                             'e', 0, 'f', 0, '@', 0, 'x', 0 };
	g_autofree char *msg_b64 = g_base64_encode(utf16_note, sizeof utf16_note);
	g_autofree char *eml_b64 = g_base64_encode(
	        (const guchar *)"From: Support <support@example.com>\nSubject: [#5] x\n\nhello\n", 59);
	g_autofree char *raw = g_strdup_printf(
	        HEAD "Content-Type: multipart/mixed; boundary=b\n\n"
	             "--b\nContent-Type: text/plain\n\nSee below.\n"
	             "--b\nContent-Type: application/octet-stream; name=\"Re [#5].EML\"\n\nhello\n"
	             "--b\nContent-Type: application/vnd.ms-outlook; name=a.bin\n\nhello\n"
	             "--b\nContent-Type: application/octet-stream; name=note.msg2\n"
	             "Content-Transfer-Encoding: base64\n\n%s\n"
	             "--b\nContent-Type: application/octet-stream; name=forwarded\n"
	             "Content-Transfer-Encoding: base64\n\n%s\n"
	             "--b\nContent-Type: application/octet-stream; name=data.bin\n\nFrom here on: data\n"
	             "--b\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; "
	             "name=smime.p7m\nContent-Transfer-Encoding: base64\n\nMIAGCSqGSIb3\n"
	             "--b--\n",
	        msg_b64, eml_b64);
	g_autoptr(MdAgentParts) p = read_mail(raw, NULL);

	g_assert_cmpuint(p->withheld->len, ==, 5);
	g_assert_cmpuint(p->attachments->len, ==, 1);
	g_assert_nonnull(strstr(p->withheld->pdata[0], "EML"));
}

/* A rich reply: the plain version gives the text; the images of the HTML
 * version pass, its HTML parts (Apple's trailing one too) do not. */
static void
test_alternative(void)
{
	const char *raw = HEAD "Content-Type: multipart/alternative; boundary=a\n\n"
	                       "--a\nContent-Type: text/plain\n\nFirst part.\n\nSecond part.\n\n"
	                       "On Mon, Support wrote:\n> " NOTE "\n"
	                       "--a\nContent-Type: multipart/mixed; boundary=m\n\n"
	                       "--m\nContent-Type: text/html\n\n<p>First part.</p>\n"
	                       "--m\nContent-Type: image/png; name=a.png\n"
	                       "Content-Disposition: inline; filename=a.png\n\nPNG\n"
	                       "--m\nContent-Type: text/html\n\n<p>Second part.</p><blockquote>" NOTE
	                       "</blockquote>\n"
	                       "--m--\n--a--\n";
	const char *html_only = HEAD "Content-Type: text/html\n\n"
	                             "<p>Only HTML.</p><blockquote>" NOTE "</blockquote>\n";
	g_autoptr(MdAgentParts) p = read_mail(raw, NULL);
	g_autoptr(MdAgentParts) h = read_mail(html_only, NULL);
	g_autofree char *fresh = quote_strip(p->text);
	g_autofree char *hfresh = quote_strip(h->text);

	g_assert_cmpstr(fresh, ==, "First part.\n\nSecond part.");
	g_assert_cmpuint(p->attachments->len, ==, 1);
	g_assert_false(leaks(p));
	g_assert_nonnull(strstr(hfresh, "Only HTML."));
	g_assert_null(strstr(hfresh, "NOTE-SECRET"));
	g_assert_cmpuint(h->attachments->len, ==, 0);
}

/* A mail parse.c could not read whole keeps its text and passes nothing. */
static void
test_unreadable(void)
{
	MdMessage *m = NULL;
	const char *raw = HEAD "Content-Type: multipart/mixed; boundary=b\n\n"
	                       "--b\nContent-Type: text/plain\n\nHi\n"
	                       "--b\nContent-Type: image/png; name=a.png\n\nPNG\n--b--\n";
	g_autoptr(MdAgentParts) ok = read_mail(raw, &m);
	g_autoptr(MdAgentParts) p = NULL;

	g_assert_cmpuint(ok->attachments->len, ==, 1);
	m->parse_error = g_strdup("MIME nesting too deep");
	p = agentparts_read((const guint8 *)raw, strlen(raw), m, 0, 0);
	g_assert_cmpstr(p->text, ==, m->text);
	g_assert_cmpuint(p->attachments->len, ==, 0);
	g_assert_cmpuint(p->withheld->len, ==, 1);
	md_message_free(m);
}

static void
test_agent_mark(void)
{
	const char *const marked[] = {
		"##- Please type your reply above this line -##",
		"x\n> ##- Пожалуйста, пишите ответ выше этой строки -##\n",
		"write to support+12-note-0123456789ABCDEF@example.com",
		"<support+1-agent-0123456789abcdef@help.example.com>",
		"support+7-note-1f0c9a2e-0123456789abcdef@example.com",
		"<support+7-AGENT-1F0C9A2E-0123456789ABCDEF@help.example.com>",
		NULL,
	};
	const char *const clean[] = {
		"## heading", "##- not closed", "-## ##-", "support+12-0123456789abcdef@example.com",
		"support+12-note-0123456789abcde@example.com", "x-note-0123456789abcdef@example.com",
		"support+12-csat5-0123456789abcdef@example.com", "", NULL,
	};

	for (guint i = 0; marked[i] != NULL; i++)
		g_assert_true(agentparts_has_agent_mark(marked[i], strlen(marked[i])));
	for (guint i = 0; clean[i] != NULL; i++)
		g_assert_false(agentparts_has_agent_mark(clean[i], strlen(clean[i])));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	parse_init();
	g_test_add_func("/agentparts/apple-trailing-text", test_apple_trailing_text);
	g_test_add_func("/agentparts/attached-mail", test_attached_mail);
	g_test_add_func("/agentparts/tnef-files", test_tnef_files);
	g_test_add_func("/agentparts/kinds", test_kinds);
	g_test_add_func("/agentparts/alternative", test_alternative);
	g_test_add_func("/agentparts/mail-files", test_mail_files);
	g_test_add_func("/agentparts/unreadable", test_unreadable);
	g_test_add_func("/agentparts/agent-mark", test_agent_mark);
	return g_test_run();
}
