/* Unit tests: reading TNEF streams (real ones, tests/data/tnef/SOURCES). */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"
#include "parse.h"
#include "tnef.h"

static GBytes *
fixture(const char *name)
{
	g_autofree char *path = g_test_build_filename(G_TEST_DIST, "tests", "data", "tnef", name, NULL);
	char *data = NULL;
	gsize len = 0;
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_get_contents(path, &data, &len, &error));
	g_assert_no_error(error);
	return g_bytes_new_take(data, len);
}

static MdTnef *
read_fixture(const char *name)
{
	g_autoptr(GBytes) b = fixture(name);
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(b, &len);

	return tnef_read(data, len);
}

static void
test_one_file(void)
{
	g_autoptr(MdTnef) t = read_fixture("one-file.tnef");
	const MdTnefFile *f;
	gsize n = 0;
	const char *data;

	g_assert_nonnull(t);
	/* the down-level class, as Outlook maps it */
	g_assert_cmpstr(t->message_class, ==, "IPM.Note");
	g_assert_false(tnef_class_is_report(t->message_class));
	g_assert_cmpuint(t->files->len, ==, 1);
	f = t->files->pdata[0];
	g_assert_cmpstr(f->filename, ==, "AUTHORS");
	g_assert_nonnull(f->content_type);
	g_assert_nonnull(strchr(f->content_type, '/'));
	data = g_bytes_get_data(f->data, &n);
	g_assert_cmpuint(n, ==, 244);
	g_assert_nonnull(g_strstr_len(data, (gssize)n, "Mark Simpson"));
	g_assert_cmpuint(t->skipped->len, ==, 0);
}

static void
test_two_files(void)
{
	g_autoptr(MdTnef) t = read_fixture("two-files.tnef");

	g_assert_nonnull(t);
	g_assert_cmpuint(t->files->len, ==, 2);
	g_assert_cmpstr(((MdTnefFile *)t->files->pdata[0])->filename, ==, "AUTHORS");
	g_assert_cmpstr(((MdTnefFile *)t->files->pdata[1])->filename, ==, "README");
	g_assert_cmpuint(g_bytes_get_size(((MdTnefFile *)t->files->pdata[1])->data), ==, 893);
}

static void
test_rtf_body(void)
{
	g_autoptr(MdTnef) t = read_fixture("rtf.tnef");

	g_assert_nonnull(t);
	g_assert_true(t->has_rtf);
	g_assert_cmpuint(t->files->len, ==, 0);
}

static void
test_unicode_class(void)
{
	/* PR_MESSAGE_CLASS written in UTF-16 */
	g_autoptr(MdTnef) t = read_fixture("body.tnef");

	g_assert_nonnull(t);
	g_assert_cmpstr(t->message_class, ==, "IPM.Note");
}

static void
test_read_receipt(void)
{
	/* a real Outlook read receipt: attMessageClass "IPM.Microsoft Mail.Read Receipt" */
	g_autoptr(MdTnef) t = read_fixture("garbage-at-end.tnef");

	g_assert_nonnull(t);
	g_assert_cmpstr(t->message_class, ==, "Report.IPM.Note.IPNRN");
	g_assert_true(tnef_class_is_report(t->message_class));
}

static void
test_report_classes(void)
{
	const char *const reports[] = {
		"REPORT.IPM.Note.IPNRN", "REPORT.IPM.Note.IPNNRN", "Report.IPM.Note.DR",
		"REPORT.IPM.Note.NDR", "report.ipm.schedule.meeting.request.ndr", NULL,
	};
	const char *const others[] = {
		"IPM.Note", "IPM.Note.Rules.OofTemplate.Microsoft", "IPM.Schedule.Meeting.Request",
		"", "REPORT", "XREPORT.IPM.Note.IPNRN", NULL,
	};

	for (guint i = 0; reports[i] != NULL; i++)
		g_assert_true(tnef_class_is_report(reports[i]));
	for (guint i = 0; others[i] != NULL; i++)
		g_assert_false(tnef_class_is_report(others[i]));
	g_assert_false(tnef_class_is_report(NULL));
}

/* Not TNEF, corrupt or cut short: NULL or a partial read, never a crash,
 * and libytnef's complaints never reach stdout (the MTA's channel). */
static void
test_broken(void)
{
	const char *const names[] = { "one-file.tnef", "two-files.tnef", "rtf.tnef",
		                      "garbage-at-end.tnef", "body.tnef", NULL };
	g_autofree char *out_path = g_build_filename(g_get_tmp_dir(), "test_tnef_stdout_XXXXXX", NULL);
	int out_fd = g_mkstemp(out_path), saved;
	struct stat st;

	g_assert_cmpint(out_fd, >=, 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(out_fd, STDOUT_FILENO);

	g_assert_null(tnef_read((const guint8 *)"hello", 5));
	g_assert_null(tnef_read(NULL, 0));
	g_assert_null(tnef_message_class((const guint8 *)"\x78\x9f\x3e", 3));
	{
		g_autoptr(MdTnef) t = read_fixture("ytnef-oob-TNEFVersion-SwapWord.tnef");

		g_assert_null(t);
	}
	for (guint i = 0; names[i] != NULL; i++) {
		g_autoptr(GBytes) b = fixture(names[i]);
		gsize len = 0;
		const guint8 *data = g_bytes_get_data(b, &len);

		for (gsize cut = 0; cut < len; cut += cut < 64 ? 1 : 37) {
			/* a copy of exactly cut bytes, so a read past it is caught */
			g_autofree guint8 *copy = g_memdup2(data, cut);
			g_autoptr(MdTnef) t = tnef_read(copy, cut);

			if (t != NULL)
				g_assert_nonnull(t->files);
		}
		/* flipped bytes all over */
		for (gsize at = 0; at < len; at += 7) {
			g_autofree guint8 *copy = g_memdup2(data, len);
			g_autoptr(MdTnef) t = NULL;

			copy[at] ^= 0xff;
			t = tnef_read(copy, len);
		}
	}
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	g_assert_cmpint(fstat(out_fd, &st), ==, 0);
	g_assert_cmpint(st.st_size, ==, 0);
	close(out_fd);
	unlink(out_path);
}

/* The parse stage exposes the class of a winmail.dat part, and the guards
 * take a TNEF read receipt ("Read: ...", no report type) for machine mail. */
static void
test_parse_and_guard(void)
{
	g_autoptr(GBytes) b = fixture("garbage-at-end.tnef");
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(b, &len);
	g_autofree char *b64 = g_base64_encode(data, len);
	g_autoptr(GBytes) note = fixture("one-file.tnef");
	g_autofree char *note_b64 = g_base64_encode(g_bytes_get_data(note, NULL), g_bytes_get_size(note));
	g_autofree char *raw = g_strdup_printf(
	        "From: Boss <boss@customer.example>\n"
	        "To: support+7-0123456789abcdef@example.com\n"
	        "Subject: Read: Your printer\n"
	        "MIME-Version: 1.0\n"
	        "Content-Type: multipart/mixed; boundary=b\n\n"
	        "--b\nContent-Type: text/plain\n\nYour message was read.\n"
	        "--b\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\n"
	        "Content-Transfer-Encoding: base64\n\n%s\n--b--\n",
	        b64);
	g_autofree char *plain_raw = g_strdup_printf(
	        "From: Boss <boss@customer.example>\nTo: support@example.com\nSubject: Hello\n"
	        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
	        "--b\nContent-Type: text/plain\n\nHello\n"
	        "--b\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\n"
	        "Content-Transfer-Encoding: base64\n\n%s\n--b--\n",
	        note_b64);
	g_autoptr(MdMessage) m = parse_message((const guint8 *)raw, strlen(raw), NULL);
	g_autoptr(MdMessage) p = parse_message((const guint8 *)plain_raw, strlen(plain_raw), NULL);

	g_assert_cmpstr(m->tnef_class, ==, "Report.IPM.Note.IPNRN");
	g_assert_true(guard_is_receipt(m));
	g_assert_cmpuint(guard_check(m, "boss@customer.example", FALSE), &, GUARD_RECEIPT);
	g_assert_cmpuint(GUARD_AUTOMATIC & GUARD_RECEIPT, !=, 0);
	/* an ordinary Outlook mail is a person's */
	g_assert_cmpstr(p->tnef_class, ==, "IPM.Note");
	g_assert_false(guard_is_receipt(p));
	g_assert_cmpuint(guard_check(p, "boss@customer.example", FALSE), ==, 0);
}

static void
test_mdn(void)
{
	const char *report = "From: a@customer.example\nTo: support@example.com\nSubject: Read: x\n"
	                     "MIME-Version: 1.0\nContent-Type: multipart/report; "
	                     "report-type=disposition-notification; boundary=b\n\n"
	                     "--b\nContent-Type: text/plain\n\nThe message was displayed.\n"
	                     "--b\nContent-Type: message/disposition-notification\n\n"
	                     "Final-Recipient: rfc822; a@customer.example\n"
	                     "Disposition: manual-action/MDN-sent-manually; displayed\n--b--\n";
	/* a receipt some clients send without the report wrapper */
	const char *bare = "From: a@customer.example\nTo: support@example.com\nSubject: Gelesen: x\n"
	                   "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
	                   "--b\nContent-Type: text/plain\n\nDisplayed.\n"
	                   "--b\nContent-Type: message/disposition-notification\n\n"
	                   "Disposition: automatic-action/MDN-sent-automatically; displayed\n--b--\n";
	g_autoptr(MdMessage) r = parse_message((const guint8 *)report, strlen(report), NULL);
	g_autoptr(MdMessage) m = parse_message((const guint8 *)bare, strlen(bare), NULL);
	g_autofree char *why = guard_describe(GUARD_RECEIPT);

	g_assert_true(guard_is_receipt(r));
	g_assert_true(guard_is_receipt(m));
	g_assert_cmpuint(guard_check(m, "a@customer.example", FALSE), &, GUARD_RECEIPT);
	g_assert_cmpstr(why, ==, "receipt");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	parse_init();
	g_test_add_func("/tnef/one-file", test_one_file);
	g_test_add_func("/tnef/two-files", test_two_files);
	g_test_add_func("/tnef/rtf-body", test_rtf_body);
	g_test_add_func("/tnef/unicode-class", test_unicode_class);
	g_test_add_func("/tnef/read-receipt", test_read_receipt);
	g_test_add_func("/tnef/report-classes", test_report_classes);
	g_test_add_func("/tnef/broken", test_broken);
	g_test_add_func("/tnef/parse-and-guard", test_parse_and_guard);
	g_test_add_func("/tnef/mdn", test_mdn);
	return g_test_run();
}
