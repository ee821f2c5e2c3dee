/*
 * test_parse_bounds.c - parse_bounds.c: the shapes GMime cannot take
 * within bounds, measured on raw bytes; and parse_message() on them.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "charset_pin.h"
#include "fetch.h"
#include "parse.h"
#include "parse_bounds.h"

static const char *
check(const char *raw)
{
	return parse_bounds_check((const guint8 *)raw, strlen(raw));
}

/* "g:" n times, the address, ";" n times */
static char *
nested_groups(guint n)
{
	GString *s = g_string_new("");

	for (guint i = 0; i < n; i++)
		g_string_append(s, "g:");
	g_string_append(s, "support@example.com");
	for (guint i = 0; i < n; i++)
		g_string_append_c(s, ';');
	return g_string_free(s, FALSE);
}

static void
test_groups(void)
{
	g_autofree char *deep = nested_groups(PARSE_BOUNDS_MAX_COLONS + 1);
	g_autofree char *ok = nested_groups(PARSE_BOUNDS_MAX_COLONS);
	g_autofree char *to_deep = g_strconcat("From: a@example.org\nTo: ", deep, "\n\nhi\n", NULL);
	g_autofree char *to_ok = g_strconcat("From: a@example.org\nTo: ", ok, "\n\nhi\n", NULL);
	g_autofree char *resent = g_strconcat("Subject: x\nrESENT-cc \t: ", deep, "\n\nhi\n", NULL);
	/* folded over many lines */
	GString *folded = g_string_new("From: a@example.org\nTo: ");

	for (guint i = 0; i <= PARSE_BOUNDS_MAX_COLONS / 10; i++)
		g_string_append(folded, "g:g:g:g:g:g:g:g:g:g:\n ");
	g_string_append(folded, "a@example.org\nSubject: s\n\nhi\n");
	g_assert_cmpstr(check(folded->str), ==, "address groups nested too deep");
	g_string_free(folded, TRUE);
	g_assert_cmpstr(check(to_deep), ==, "address groups nested too deep");
	g_assert_null(check(to_ok));
	g_assert_cmpstr(check(resent), ==, "address groups nested too deep");
	g_assert_cmpstr(check("To: undisclosed-recipients:;\nCc: \"A: B\" <a@b>, [IPv6:::1]\n\nhi"), ==, NULL);
	/* a Subject is no address field, however many colons */
	{
		g_autofree char *subj = g_strconcat("Subject: ", deep, "\n\nhi\n", NULL);

		g_assert_null(check(subj));
	}
}

/* Quoting cannot hide colons: GMime resumes inside quotes after an error. */
static void
test_quoting_does_not_hide(void)
{
	g_autofree char *deep = nested_groups(PARSE_BOUNDS_MAX_COLONS + 1);
	g_autofree char *quoted = g_strconcat("To: [a \"z, ", deep, "\"\n\nhi\n", NULL);
	g_autofree char *commented = g_strconcat("To: a@b (", deep, ")\n\nhi\n", NULL);

	g_assert_cmpstr(check(quoted), ==, "address groups nested too deep");
	g_assert_cmpstr(check(commented), ==, "address groups nested too deep");
}

static void
test_comments(void)
{
	GString *s = g_string_new("To: a@example.org ");
	guint n = PARSE_BOUNDS_MAX_COMMENT_DEPTH + 1;

	for (guint i = 0; i < n; i++)
		g_string_append_c(s, '(');
	for (guint i = 0; i < n; i++)
		g_string_append_c(s, ')');
	g_string_append(s, "\n\nbody\n");
	g_assert_cmpstr(check(s->str), ==, "address comments nested too deep");
	/* many comments side by side are no nesting; escaped ')' closes nothing */
	g_assert_null(check("To: a@example.org (x) (y) (z) ((w))\n\nhi"));
	g_string_truncate(s, 0);
	g_string_append(s, "From: a@b ");
	for (guint i = 0; i < n; i++)
		g_string_append(s, "(\\)");
	g_string_append(s, "\n\n");
	g_assert_cmpstr(check(s->str), ==, "address comments nested too deep");
	g_string_free(s, TRUE);
}

/* A comment left open is repaired, not refused: GMime leaks on it. */
static void
test_open_comment(void)
{
	const char *raw = "From: a@example.org\nTo: a@[192.0.2.1] (x, \"Smith (Sales\" <s@example.org> (y)\n\nhi (\n";
	g_autofree char *copy = g_strdup(raw);
	g_autoptr(MdMessage) msg = NULL;

	g_assert_null(check(raw));
	g_assert_true(parse_bounds_needs_defuse((const guint8 *)raw, strlen(raw)));
	parse_bounds_defuse((guint8 *)copy, strlen(copy));
	g_assert_cmpstr(copy, ==, "From: a@example.org\nTo: a@[192.0.2.1]  x, \"Smith  Sales\" <s@example.org> (y)\n\nhi (\n");
	g_assert_false(parse_bounds_needs_defuse((const guint8 *)copy, strlen(copy)));
	g_assert_false(parse_bounds_needs_defuse((const guint8 *)"To: a@b (c (d) e)\n", 18));
	/* parsed as repaired, and nothing flagged for it */
	msg = parse_message((const guint8 *)raw, strlen(raw), NULL);
	g_assert_null(msg->parse_error);
	g_assert_cmpuint(msg->to->len, >=, 1);
}

/* GMime reads a header value up to a NUL: parentheses past it close nothing. */
static void
test_open_comment_before_nul(void)
{
	static const char raw[] = "To: a@[192.0.2.1] ((x\0 ))\n\nhi\n";
	guint8 copy[sizeof raw];

	memcpy(copy, raw, sizeof raw);
	g_assert_true(parse_bounds_needs_defuse((const guint8 *)raw, sizeof raw - 1));
	parse_bounds_defuse(copy, sizeof copy - 1);
	g_assert_cmpmem(copy, 22, "To: a@[192.0.2.1]   x\0", 22);
	g_assert_false(parse_bounds_needs_defuse(copy, sizeof copy - 1));
}

/* Attached messages' headers are anywhere in the bytes. */
static void
test_anywhere(void)
{
	g_autofree char *deep = nested_groups(PARSE_BOUNDS_MAX_COLONS * 2);
	g_autofree char *raw = g_strconcat("From: a@example.org\nTo: support@example.com\n"
					   "Content-Type: message/rfc822\n\nFrom: b@example.org\nTo: ",
					   deep, "\n\nhi\n", NULL);
	gsize len = strlen(raw);
	g_autofree char *copy = g_strdup(raw);

	g_assert_cmpstr(check(raw), ==, "address groups nested too deep");
	parse_bounds_defuse((guint8 *)copy, len);
	g_assert_cmpuint(strlen(copy), ==, len);
	g_assert_null(check(copy));
	/* only the offending value is blanked; the framing stays */
	g_assert_true(g_str_has_prefix(copy, "From: a@example.org\nTo: support@example.com\n"));
	g_assert_nonnull(strstr(copy, "\nTo: "));
	g_assert_true(g_str_has_suffix(copy, "\n\nhi\n"));
}

static void
test_header_bytes(void)
{
	const char *plain = "From: a@b\nSubject: s\n\nbody line\n--not a boundary but counted\nX: y\n\nbody\n";
	const char *inner = "From: a@b\nContent-Type: message/rfc822\n\nFrom: c@d\nSubject: in\n\nbody\n\nmore\n";
	const char *digest = "From: a@b\nContent-Type: multipart/digest; boundary=d\n\n--d\n\nFrom: x@y\n\nb\n--d--\n";
	/* a file named message.pdf makes its content no header */
	const char *named = "From: a@b\nContent-Type: multipart/mixed; boundary=d\n\n--d\n"
			    "Content-Type: application/pdf; name=message.pdf\n\nJVBERi0xLjQK\n--d--\n";

	g_assert_cmpuint(parse_bounds_header_bytes((const guint8 *)plain, strlen(plain)), ==,
			 strlen("From: a@b\nSubject: s\n\n") + strlen("X: y\n\n"));
	g_assert_cmpuint(parse_bounds_header_bytes((const guint8 *)inner, strlen(inner)), ==,
			 strlen("From: a@b\nContent-Type: message/rfc822\n\nFrom: c@d\nSubject: in\n\n"));
	/* the digest's part without a Content-Type is a message: its header counts */
	g_assert_cmpuint(parse_bounds_header_bytes((const guint8 *)digest, strlen(digest)), ==,
			 strlen("From: a@b\nContent-Type: multipart/digest; boundary=d\n\n") + 1 +
				 strlen("From: x@y\n\n"));
	g_assert_cmpuint(parse_bounds_header_bytes((const guint8 *)named, strlen(named)), ==,
			 strlen("From: a@b\nContent-Type: multipart/mixed; boundary=d\n\n") +
				 strlen("Content-Type: application/pdf; name=message.pdf\n\n"));
	/* the next message of an mbox */
	{
		const char *mbox = "From a@b Mon\nTo: x@y\n\nbody\nFrom c@d Tue\nTo: z@y\n\nbody\n";

		g_assert_cmpuint(parse_bounds_header_bytes((const guint8 *)mbox, strlen(mbox)), ==,
				 strlen("From a@b Mon\nTo: x@y\n\n") + strlen("To: z@y\n\n"));
	}
	/* a comment before the type does not hide it */
	{
		const char *commented = "Content-Type: (x) Message/rfc822\n\nA: b\n\nc\n";

		g_assert_cmpuint(parse_bounds_header_bytes((const guint8 *)commented, strlen(commented)), ==,
				 strlen("Content-Type: (x) Message/rfc822\n\nA: b\n\n"));
	}
}

static void
test_flatten(void)
{
	const char *raw = "From a@b Mon\nTo: x@y\nX-A: 1\nX-B: 2\n\nbody\nline\n"
			  "From c@d Tue\nTo: z@y\nX-C: 3\nFrom e@f Wed\nX-D: 4\n\nb\n";
	g_autofree char *copy = g_strdup(raw);

	/* within the bound nothing changes */
	parse_bounds_flatten((guint8 *)copy, strlen(copy), 1000);
	g_assert_cmpstr(copy, ==, raw);
	/* past 20 bytes a message: line breaks in its header blocks become
	 * blanks, but the block's end and a From_ line stay; each message of
	 * the mbox counts afresh */
	parse_bounds_flatten((guint8 *)copy, strlen(copy), 5);
	g_assert_cmpstr(copy, ==, "From a@b Mon\nTo: x@y X-A: 1 X-B: 2\n\nbody\nline\n"
				  "From c@d Tue\nTo: z@y X-C: 3\nFrom e@f Wed\nX-D: 4\n\nb\n");
}

static void
test_charsets(void)
{
	const char *raw = "Subject: =?KOI8-R?Q?a?= =?utf-8*en?B?YQ==?= =?koi8-r?q?b?=\n"
			  "Content-Type: text/plain; charset=\"Windows-1251\"\n"
			  "Content-Disposition: attachment; filename*0*=iso-8859-2''%E9; x*=big5'en'a\n"
			  "X: =?this-name-is-far-too-long-to-be-any-charset-whatever-iconv-thinks-of-it?Q?a?=\n"
			  "Y: =?no-end\n\nbody charset = cp866 and =?bad name?=\n";
	g_autoptr(GPtrArray) got = parse_bounds_charsets((const guint8 *)raw, strlen(raw), NULL);
	/* not cp866: a body's charset is converted once, never word by word */
	const char *want[] = { "koi8-r", "utf-8", "windows-1251", "iso-8859-2", "big5" };

	g_assert_cmpuint(got->len, ==, G_N_ELEMENTS(want));
	for (guint i = 0; i < G_N_ELEMENTS(want); i++)
		g_assert_cmpstr(g_ptr_array_index(got, i), ==, want[i]);
}

static gboolean
known(const char *name)
{
	return g_str_has_prefix(name, "good-");
}

/* Names keep refuses do not count against the cap. */
static void
test_charsets_junk(void)
{
	GString *s = g_string_new("Subject:");
	g_autoptr(GPtrArray) got = NULL;

	for (guint i = 0; i < PARSE_BOUNDS_MAX_CHARSETS * 2; i++)
		g_string_append_printf(s, " =?junk-%u?Q?a?=", i);
	g_string_append(s, " =?good-1?Q?a?= =?junk-1?Q?a?= =?GOOD-2?Q?a?= =?good-1?Q?a?=");
	got = parse_bounds_charsets((const guint8 *)s->str, s->len, known);
	g_assert_cmpuint(got->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(got, 0), ==, "good-1");
	g_assert_cmpstr(g_ptr_array_index(got, 1), ==, "good-2");
	g_string_free(s, TRUE);
}

/* The converters of the charsets named are pinned: iconv knows them. */
static void
test_pin(void)
{
	g_assert_true(charset_pin_one("koi8-r"));
	g_assert_true(charset_pin_one("koi8-r"));
	g_assert_false(charset_pin_one("no-such-charset-at-all"));
	g_assert_false(charset_pin_one(""));
}

static void
test_charsets_capped(void)
{
	GString *s = g_string_new("Subject:");
	g_autoptr(GPtrArray) got = NULL;

	for (guint i = 0; i < PARSE_BOUNDS_MAX_CHARSETS * 2; i++)
		g_string_append_printf(s, " =?x-%u?Q?a?=", i);
	got = parse_bounds_charsets((const guint8 *)s->str, s->len, NULL);
	g_assert_cmpuint(got->len, ==, PARSE_BOUNDS_MAX_CHARSETS);
	g_string_free(s, TRUE);
}

/* parse_message() on the shapes: no crash, flagged, the rest parsed. */
static void
test_parse_message(void)
{
	g_autofree char *deep = nested_groups(200000);
	g_autofree char *raw = g_strconcat("From: Jane <jane@example.org>\nTo: ", deep,
					   "\nCc: bob@example.org\nSubject: deep\n\nthe text\n", NULL);
	g_autoptr(MdMessage) msg = parse_message((const guint8 *)raw, strlen(raw), NULL);
	g_autofree char *before = g_strdup(raw);

	g_assert_cmpstr(msg->parse_error, ==, "address groups nested too deep");
	g_assert_cmpstr(msg->from->addr, ==, "jane@example.org");
	g_assert_cmpuint(msg->to->len, ==, 0);
	g_assert_cmpuint(msg->cc->len, ==, 1);
	g_assert_cmpstr(msg->subject, ==, "deep");
	g_assert_cmpstr(msg->text, ==, "the text\n");
	/* the caller's bytes are untouched */
	g_assert_cmpstr(raw, ==, before);
}

/* Nesting through attached messages counts against max_depth. */
static void
test_message_nesting(void)
{
	GString *s = g_string_new("From: a@example.org\nSubject: s\nContent-Type: message/rfc822\n\n");
	MdParseOptions opts = { .max_depth = 8 };
	MdMessage *msg;

	for (guint i = 0; i < 8; i++)
		g_string_append(s, "Subject: in\nContent-Type: message/rfc822\n\n");
	g_string_append(s, "Subject: last\n\nhi\n");
	msg = parse_message((const guint8 *)s->str, s->len, &opts);
	g_assert_cmpstr(msg->parse_error, ==, "MIME nesting too deep");
	md_message_free(msg);
	opts.max_depth = 16;
	msg = parse_message((const guint8 *)s->str, s->len, &opts);
	g_assert_null(msg->parse_error);
	md_message_free(msg);
	g_string_free(s, TRUE);
}

/* fetch's own GMime parse of the header (the envelope recipient) too */
static void
test_fetch_envelope(void)
{
	g_autofree char *deep = nested_groups(200000);
	g_autofree char *raw = g_strconcat("Delivered-To: support+x@example.com\nTo: ", deep,
					   "\nCc: ", deep, "\n\nhi\n", NULL);
	g_autofree char *got = fetch_envelope_recipient((const guint8 *)raw, strlen(raw), "support@example.com",
							 4 << 20);

	g_assert_cmpstr(got, ==, "support+x@example.com");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	parse_init();

	g_test_add_func("/parse-bounds/groups", test_groups);
	g_test_add_func("/parse-bounds/quoting-does-not-hide", test_quoting_does_not_hide);
	g_test_add_func("/parse-bounds/comments", test_comments);
	g_test_add_func("/parse-bounds/open-comment", test_open_comment);
	g_test_add_func("/parse-bounds/open-comment-before-nul", test_open_comment_before_nul);
	g_test_add_func("/parse-bounds/anywhere", test_anywhere);
	g_test_add_func("/parse-bounds/header-bytes", test_header_bytes);
	g_test_add_func("/parse-bounds/flatten", test_flatten);
	g_test_add_func("/parse-bounds/charsets", test_charsets);
	g_test_add_func("/parse-bounds/charsets-capped", test_charsets_capped);
	g_test_add_func("/parse-bounds/charsets-junk", test_charsets_junk);
	g_test_add_func("/parse-bounds/pin", test_pin);
	g_test_add_func("/parse-bounds/parse-message", test_parse_message);
	g_test_add_func("/parse-bounds/message-nesting", test_message_nesting);
	g_test_add_func("/parse-bounds/fetch-envelope", test_fetch_envelope);
	return g_test_run();
}
