/*
 * test_html2text.c - html2text.c: readable text from HTML.
 *
 * One unit per rule, hostile input (unclosed tags, deep nesting, bad
 * UTF-8, NUL bytes), then the HTML-only messages of the shared corpus
 * ($MAILDESK_CORPUS, default ../shared/corpus) and the EXPECTED.tsv rows
 * that state the text of an HTML part (body_html_as_text).
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "html2text.h"
#include "parse.h"

static void
assert_text(const char *html, const char *expected)
{
	g_autofree char *text = html_to_text(html, strlen(html));

	g_assert_nonnull(text);
	g_assert_true(g_utf8_validate(text, -1, NULL));
	g_assert_cmpstr(text, ==, expected);
}

/* libxml2 is loaded on demand (dlopen), and loads from threads at once */
static gpointer
load_in_thread(gpointer data)
{
	g_autofree char *error = NULL;
	g_autofree char *text = NULL;

	if (!html2text_load(&error))
		return g_strdup(error);
	text = html_to_text("<p>a</p><p>b</p>", 16);
	return g_strcmp0(text, "a\n\nb") == 0 ? NULL : g_strdup(text);
}

static void
test_load(void)
{
	GThread *threads[4];

	for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
		threads[i] = g_thread_new("load", load_in_thread, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(threads); i++) {
		g_autofree char *failure = g_thread_join(threads[i]);

		g_assert_null(failure);
	}
}

static void
test_empty(void)
{
	g_autofree char *null = html_to_text(NULL, 0);
	g_autofree char *empty = html_to_text("", 0);

	g_assert_cmpstr(null, ==, "");
	g_assert_cmpstr(empty, ==, "");
	assert_text("   \n\t ", "");
	assert_text("<html><head></head><body></body></html>", "");
	assert_text("<p>&nbsp;</p><p> </p>", "");
}

static void
test_whitespace(void)
{
	assert_text("hello   <b>big</b>\n\n  world", "hello big world");
	assert_text("  <p>  leading and trailing  </p>  ", "leading and trailing");
	assert_text("a&nbsp;&nbsp;b", "a b");
	assert_text("<span>one</span><span>two</span>", "onetwo");
}

static void
test_blocks(void)
{
	assert_text("<p>first</p><p>second</p>", "first\n\nsecond");
	assert_text("<div>one</div><div>two</div>", "one\ntwo");
	assert_text("<h1>Title</h1>text", "Title\n\ntext");
	assert_text("line1<br>line2<br/>line3", "line1\nline2\nline3");
	assert_text("<div>a<div>b</div></div>c", "a\nb\nc");
	assert_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>after",
		    "a b\nc d\n\nafter");
}

static void
test_newline_collapse(void)
{
	assert_text("a<br><br><br><br><br>b", "a\n\nb");
	assert_text("<p>a</p><p></p><p></p><br><br><p>b</p>", "a\n\nb");
	assert_text("a<br>   <br>b", "a\n\nb");
	assert_text("<pre>a\n   \n \t \n  \nb</pre>", "a\n\nb");
}

static void
test_lists(void)
{
	assert_text("<ul><li>one</li><li>two</li></ul>", "- one\n- two");
	assert_text("<p>Steps:</p><ol><li>open</li><li>close<ul><li>gently</li></ul></li></ol>done",
		    "Steps:\n\n- open\n- close\n  - gently\n\ndone");
	assert_text("<ul><li><p>para in item</p></li></ul>", "- para in item");
}

static void
test_links(void)
{
	assert_text("see <a href=\"https://example.com/a?b=1\">the page</a>.",
		    "see the page <https://example.com/a?b=1>.");
	assert_text("<a href=\"http://example.com/\">http://example.com/</a>", "http://example.com/");
	assert_text("<a href=\"http://example.com/\">example.com</a>", "example.com");
	assert_text("<a href=\"mailto:help@example.com\">help@example.com</a>", "help@example.com");
	assert_text("<a href=\"mailto:help@example.com\">write us</a>", "write us <mailto:help@example.com>");
	/* relative, anchors and scripts are not shown */
	assert_text("<a href=\"/local\">local</a> <a href=\"#top\">top</a> <a href=\"javascript:x()\">js</a>",
		    "local top js");
	assert_text("<a href=\"https://example.com/x\"><img src=\"logo.png\"></a>", "<https://example.com/x>");
	assert_text("<ul><li><a href=\"http://z.example\">http://z.example</a></li></ul>", "- http://z.example");
}

static void
test_dropped(void)
{
	assert_text("<html><head><title>The title</title><style>p { color: red }</style>"
		    "<script>alert(1)</script></head><body>visible<script>var x = '<p>no</p>';</script>"
		    "<style>.a{}</style>!</body></html>",
		    "visible!");
	assert_text("before<!-- a comment -->after", "beforeafter");
	assert_text("<title>stray title</title>text", "text");
}

static void
test_pre(void)
{
	assert_text("<p>code:</p><pre>  indented\n    more   spaces\n\nend</pre>after",
		    "code:\n\n  indented\n    more   spaces\n\nend\n\nafter");
	assert_text("<pre>a\r\nb</pre>", "a\nb");
}

static void
test_blockquote(void)
{
	assert_text("<p>My answer.</p><blockquote>Your question<br>on two lines</blockquote>",
		    "My answer.\n\n> Your question\n> on two lines");
	assert_text("<blockquote>outer<blockquote>inner</blockquote></blockquote>reply",
		    "> outer\n\n> > inner\n\nreply");
}

static void
test_entities(void)
{
	assert_text("caf&eacute; &amp; cr&egrave;me &lt;tag&gt; &#8364; &#x263A; &quot;q&quot;",
		    "café & crème <tag> € ☺ \"q\"");
	assert_text("Grüße, Привет, 日本語", "Grüße, Привет, 日本語");
}

static void
test_meta_charset_ignored(void)
{
	/* the input is UTF-8 whatever the document claims */
	assert_text("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\">"
		    "</head><body>Grüße</body></html>",
		    "Grüße");
	assert_text("<meta charset=\"windows-1251\"><p>Привет</p>", "Привет");
}

static void
test_hostile(void)
{
	static const char with_nul[] = "<p>before\0after</p>";
	g_autofree char *nul = html_to_text(with_nul, sizeof with_nul - 1);
	static const char bad_utf8[] = "<p>caf\xe9 \xff ok</p>";
	static const char open_tags[] = "<table><tr><td><a href=\"http://x.example\">x<ul><li>y";
	g_autofree char *bad = html_to_text(bad_utf8, strlen(bad_utf8));
	GString *deep = g_string_new(NULL);
	g_autofree char *deep_text = NULL;
	g_autofree char *unclosed = NULL;

	g_assert_true(g_utf8_validate(nul, -1, NULL));
	g_assert_true(g_str_has_prefix(nul, "before"));
	g_assert_true(g_utf8_validate(bad, -1, NULL));
	g_assert_true(g_str_has_suffix(bad, "ok"));

	/* nesting within reason keeps its text... */
	for (int i = 0; i < 100; i++)
		g_string_append(deep, "<div><span>");
	g_string_append(deep, "deep");
	deep_text = html_to_text(deep->str, deep->len);
	g_assert_cmpstr(deep_text, ==, "deep");
	g_clear_pointer(&deep_text, g_free);
	/* ...absurd nesting is cut by libxml2's depth limit, without harm */
	g_string_truncate(deep, 0);
	g_string_append(deep, "top");
	for (int i = 0; i < 20000; i++)
		g_string_append(deep, "<div><span>");
	g_string_append(deep, "deep");
	deep_text = html_to_text(deep->str, deep->len);
	g_string_free(deep, TRUE);
	g_assert_true(g_utf8_validate(deep_text, -1, NULL));
	g_assert_true(g_str_has_prefix(deep_text, "top"));

	unclosed = html_to_text(open_tags, strlen(open_tags));
	g_assert_true(g_utf8_validate(unclosed, -1, NULL));
	g_assert_nonnull(strstr(unclosed, "y"));
	{
		g_autofree char *junk = html_to_text("<<<>>>&&&;;<p", 13);

		g_assert_true(g_utf8_validate(junk, -1, NULL));
		g_assert_true(g_str_has_suffix(junk, "&&&;;"));
	}
}

/* ---- the corpus ---- */

static char *
corpus_dir(void)
{
	const char *env = g_getenv("MAILDESK_CORPUS");
	const char *srcdir = g_getenv("G_TEST_SRCDIR");

	if (env != NULL && env[0] != '\0')
		return g_strdup(env);
	if (srcdir != NULL)
		return g_build_filename(srcdir, "..", "shared", "corpus", NULL);
	return g_strdup("../shared/corpus");
}

static MdMessage *
parse_file(const char *corpus, const char *rel)
{
	g_autofree char *path = g_build_filename(corpus, rel, NULL);
	g_autofree char *data = NULL;
	gsize len = 0;
	g_autoptr(GError) error = NULL;

	if (!g_file_get_contents(path, &data, &len, &error))
		g_error("%s: %s", path, error->message);
	return parse_message((const guint8 *)data, len, NULL);
}

/* HTML bodies of the corpus: the text made from the HTML holds their words;
 * for HTML-only messages that text is the message's text. */
static void
test_corpus_html_only(void)
{
	static const struct {
		const char *file;
		const char *contains[3];
	} cases[] = {
		/* despite its name, Outlook sent a text/plain alternative too */
		{ "inbound/redmine-outlook_2010_html_only.eml",
		  { "Simple, unadorned test email generated by Outlook 2010.", "Redmine 3.0.2.", NULL } },
		{ "inbound/redmine-outlook_web_access_2010_html_only.eml", { "A mess.", "--Geoff Maciolek", NULL } },
		{ "inbound/redmine-ticket_html_only.eml",
		  { "This is a html-only email.\n\nWith a title\n\nand a paragraph.", NULL } },
		{ "inbound/rt-text-html-with-umlaut.eml", { "Mit freundlichen Grüßen", "causes Error", NULL } },
		{ "inbound/otrs-test-email-4-html.box",
		  { "This is a html email!", "Just a little bit HTML coding.", "mailto:html@example.com" } },
		{ "charsets/otrs-PostMaster-Test4.box", { NULL } },
		{ "inbound/mimekit-multipart-related-mhtml.eml", { NULL } },
	};
	g_autofree char *corpus = corpus_dir();

	if (!g_file_test(corpus, G_FILE_TEST_IS_DIR)) {
		g_test_skip("corpus not found; set MAILDESK_CORPUS");
		return;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(MdMessage) m = parse_file(corpus, cases[i].file);
		g_autofree char *text = NULL;

		g_test_message("checking %s", cases[i].file);
		g_assert_nonnull(m->html);
		text = html_to_text(m->html, strlen(m->html));
		if (m->text_from_html)
			g_assert_cmpstr(m->text, ==, text);
		else
			g_assert_cmpstr(cases[i].file, ==, "inbound/redmine-outlook_2010_html_only.eml");
		g_assert_true(g_utf8_validate(text, -1, NULL));
		g_assert_cmpstr(text, !=, "");
		/* no markup, script or style survives */
		g_assert_null(strstr(text, "<html"));
		g_assert_null(strstr(text, "<p>"));
		g_assert_null(strstr(text, "{"));
		for (gsize j = 0; j < G_N_ELEMENTS(cases[i].contains) && cases[i].contains[j] != NULL; j++) {
			if (strstr(text, cases[i].contains[j]) == NULL)
				g_error("%s: text lacks [%s]:\n%s", cases[i].file, cases[i].contains[j], text);
		}
	}
}

static char *
tsv_unescape(const char *s)
{
	GString *out = g_string_new(NULL);

	for (; *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0') {
			s++;
			g_string_append_c(out, *s == 'n' ? '\n' : *s == 't' ? '\t' : *s == 'r' ? '\r' : *s);
		} else {
			g_string_append_c(out, *s);
		}
	}
	return g_string_free(out, FALSE);
}

static void
test_corpus_expected(void)
{
	g_autofree char *corpus = corpus_dir();
	g_autofree char *tsv_path = g_build_filename(corpus, "EXPECTED.tsv", NULL);
	g_autofree char *tsv = NULL;
	g_auto(GStrv) lines = NULL;
	guint checked = 0;

	if (!g_file_get_contents(tsv_path, &tsv, NULL, NULL)) {
		g_test_skip("corpus EXPECTED.tsv not found; set MAILDESK_CORPUS");
		return;
	}
	lines = g_strsplit(tsv, "\n", -1);
	for (guint i = 1; lines[i] != NULL; i++) {
		g_auto(GStrv) row = g_strsplit(lines[i], "\t", 3);
		g_autoptr(MdMessage) m = NULL;
		g_autofree char *want = NULL;
		g_autofree char *got = NULL;

		if (g_strv_length(row) != 3 || strcmp(row[1], "body_html_as_text") != 0)
			continue;
		m = parse_file(corpus, row[0]);
		g_assert_nonnull(m->html);
		want = g_strstrip(tsv_unescape(row[2]));
		got = g_strstrip(html_to_text(m->html, strlen(m->html)));
		g_test_message("checked %s body_html_as_text", row[0]);
		g_assert_cmpstr(got, ==, want);
		checked++;
	}
	g_test_message("checked %u body_html_as_text rows", checked);
	g_assert_cmpuint(checked, >=, 2);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	parse_init();

	g_test_add_func("/html2text/load", test_load);
	g_test_add_func("/html2text/empty", test_empty);
	g_test_add_func("/html2text/whitespace", test_whitespace);
	g_test_add_func("/html2text/blocks", test_blocks);
	g_test_add_func("/html2text/newline-collapse", test_newline_collapse);
	g_test_add_func("/html2text/lists", test_lists);
	g_test_add_func("/html2text/links", test_links);
	g_test_add_func("/html2text/dropped", test_dropped);
	g_test_add_func("/html2text/pre", test_pre);
	g_test_add_func("/html2text/blockquote", test_blockquote);
	g_test_add_func("/html2text/entities", test_entities);
	g_test_add_func("/html2text/meta-charset", test_meta_charset_ignored);
	g_test_add_func("/html2text/hostile", test_hostile);
	g_test_add_func("/html2text/corpus/html-only", test_corpus_html_only);
	g_test_add_func("/html2text/corpus/expected", test_corpus_expected);

	return g_test_run();
}
