/*
 * test_template.c - template: lookup, sections, escaping per destination,
 * hostile values, syntax errors with file:line, language fallback, and
 * the shipped acknowledgement templates in every language.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include "datefmt.h"
#include "template.h"

/* Parses a JSON object literal; the test owns the result. */
static JsonObject *
ctx_new(const char *json)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(JsonNode) node = json_from_string(json, &err);

	g_assert_no_error(err);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return json_object_ref(json_node_get_object(node));
}

/* Renders text that must parse; the test owns the result. */
static MdRendered *
render_ok(const char *text, JsonObject *ctx)
{
	char *error = NULL;
	MdRendered *r = template_render_string(text, "t", ctx, &error);

	g_assert_null(error);
	g_assert_nonnull(r);
	return r;
}

/* Renders a body-only template and returns its text; caller frees. */
static char *
body(const char *text, JsonObject *ctx)
{
	g_autofree char *full = g_strconcat("\n", text, NULL);
	g_autoptr(MdRendered) r = render_ok(full, ctx);

	return g_strdup(r->text);
}

/* Renders text that must fail; returns the error. */
static char *
render_error(const char *text)
{
	char *error = NULL;
	g_autoptr(JsonObject) ctx = json_object_new();
	MdRendered *r = template_render_string(text, "dir/en/x", ctx, &error);

	g_assert_null(r);
	g_assert_nonnull(error);
	return error;
}

static void
test_variables(void)
{
	g_autoptr(JsonObject) ctx = ctx_new(
	    "{\"ticket\": {\"id\": 123, \"subject\": \"Printer\", \"score\": 2.5,"
	    " \"urgent\": true, \"none\": null, \"deep\": {\"er\": {\"x\": \"y\"}}}}");
	g_autofree char *a = body("#{{ticket.id}} {{ ticket.subject }}.", ctx);
	g_autofree char *b = body("{{ticket.score}}/{{ticket.urgent}}/{{ticket.none}}/", ctx);
	g_autofree char *c = body("[{{missing}}][{{ticket.missing}}][{{ticket.id.x}}]", ctx);
	g_autofree char *d = body("{{ticket.deep.er.x}}[{{ticket.deep}}]{{! a comment }}", ctx);

	g_assert_cmpstr(a, ==, "#123 Printer.");
	g_assert_cmpstr(b, ==, "2.5/true//");
	g_assert_cmpstr(c, ==, "[][][]");
	g_assert_cmpstr(d, ==, "y[]");
}

static void
test_sections(void)
{
	g_autoptr(JsonObject) ctx = ctx_new(
	    "{\"list\": [\"a\", \"b\", \"c\"], \"people\": [{\"name\": \"Ann\"}, {\"name\": \"Bo\"}],"
	    " \"site\": {\"name\": \"Desk\"}, \"yes\": true, \"no\": false, \"empty\": \"\","
	    " \"zero\": 0, \"none\": [], \"obj\": {\"k\": \"v\"}, \"eta\": \"Monday\"}");
	g_autofree char *a = body("{{#list}}<{{.}}>{{/list}}", ctx);
	g_autofree char *b = body("{{#people}}{{name}}@{{site.name}};{{/people}}", ctx);
	g_autofree char *c = body("{{#yes}}Y{{/yes}}{{#no}}N{{/no}}{{^no}}n{{/no}}"
	                          "{{#empty}}E{{/empty}}{{^empty}}e{{/empty}}"
	                          "{{#zero}}Z{{/zero}}{{^zero}}z{{/zero}}"
	                          "{{#none}}L{{/none}}{{^none}}l{{/none}}"
	                          "{{#missing}}M{{/missing}}{{^missing}}m{{/missing}}",
	                          ctx);
	g_autofree char *d = body("{{#obj}}{{k}}{{/obj}}|{{#eta}}by {{.}} ({{eta}}){{/eta}}", ctx);
	g_autofree char *e = body("{{#list}}{{#people}}{{.}}{{name}}{{/people}}{{/list}}", ctx);

	g_assert_cmpstr(a, ==, "<a><b><c>");
	g_assert_cmpstr(b, ==, "Ann@Desk;Bo@Desk;");
	g_assert_cmpstr(c, ==, "Ynezlm");
	g_assert_cmpstr(d, ==, "v|by Monday (Monday)");
	/* "." in the inner section is the person object: renders nothing. */
	g_assert_cmpstr(e, ==, "AnnBoAnnBoAnnBo");
}

/* Section tags alone on their line take the line with them. */
static void
test_standalone(void)
{
	g_autoptr(JsonObject) ctx = ctx_new("{\"eta\": \"Monday\"}");
	g_autofree char *a = body("Hello\n{{#eta}}\nBy {{eta}}.\n{{/eta}}\n"
	                          "  {{^eta}}  \nNo ETA.\n{{/eta}}\nBye\n",
	                          ctx);
	g_autofree char *b = body("A {{#eta}}x{{/eta}}\nB\n{{! note }}\nC", ctx);
	g_autofree char *c = body("{{#eta}}\n{{eta}}\n{{/eta}}", ctx);

	g_assert_cmpstr(a, ==, "Hello\nBy Monday.\nBye\n");
	g_assert_cmpstr(b, ==, "A x\nB\nC");
	g_assert_cmpstr(c, ==, "Monday\n");
}

static void
test_structure(void)
{
	g_autoptr(JsonObject) ctx = ctx_new("{\"s\": \"Hello\", \"x\": \"1\"}");
	g_autoptr(MdRendered) r = render_ok("Subject: [#1] {{s}}  \nX-Priority:3\n"
	                                    "subject: second\n\nText {{x}}\n%%html\n<p>{{x}}</p>\n",
	                                    ctx);
	g_autoptr(MdRendered) nohtml = render_ok("Subject: a\n\nbody\n", ctx);
	g_autoptr(MdRendered) noheaders = render_ok("\nonly body", ctx);
	g_autoptr(MdRendered) onlyheaders = render_ok("Subject: a", ctx);
	g_autoptr(MdRendered) crlf = render_ok("Subject: {{s}}\r\n \t\r\nLine 1\r\nLine 2\r\n", ctx);

	g_assert_cmpuint(r->headers->len, ==, 3);
	g_assert_cmpstr(md_rendered_header(r, "SUBJECT"), ==, "[#1] Hello");
	g_assert_cmpstr(md_rendered_header(r, "x-priority"), ==, "3");
	g_assert_null(md_rendered_header(r, "Bcc"));
	g_assert_cmpstr(r->text, ==, "Text 1\n");
	g_assert_cmpstr(r->html, ==, "<p>1</p>\n");
	g_assert_null(r->language);
	g_assert_null(nohtml->html);
	g_assert_cmpstr(nohtml->text, ==, "body\n");
	g_assert_cmpuint(noheaders->headers->len, ==, 0);
	g_assert_cmpstr(noheaders->text, ==, "only body");
	g_assert_cmpstr(onlyheaders->text, ==, "");
	g_assert_cmpstr(md_rendered_header(crlf, "Subject"), ==, "Hello");
	g_assert_cmpstr(crlf->text, ==, "Line 1\nLine 2\n");
}

static void
test_header_escape(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "plain", "plain" },
		{ "Hi\r\nBcc: evil@x", "Hi Bcc: evil@x" },
		{ "a\nb\rc\td", "a b c d" },
		{ "\r\n\r\nX-Evil: 1", " X-Evil: 1" },
		{ "bell\x07" "esc\x1b[31mdel\x7f.", "bell esc [31mdel ." },
		{ "c1\xc2\x85nel\xe2\x80\xa8ls\xe2\x80\xa9ps", "c1 nel ls ps" },
		{ "Привет, мир — ā ē ī", "Привет, мир — ā ē ī" },
		{ "bad\xff\xfeutf8", "bad\xef\xbf\xbd\xef\xbf\xbdutf8" },
		{ "", "" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *got = template_header_escape(cases[i].in);

		g_assert_cmpstr(got, ==, cases[i].want);
	}
	g_autofree char *null = template_header_escape(NULL);
	g_assert_cmpstr(null, ==, "");
}

/* Each hostile value through each of the three destinations. */
static void
test_hostile_values(void)
{
	g_autoptr(JsonObject) ctx = json_object_new();
	g_autoptr(GString) big = g_string_new(NULL);
	g_autoptr(MdRendered) r = NULL;
	const char *tmpl = "Subject: {{v.inject}}\nX-Big: {{v.big}}\nX-Meta: {{v.meta}}\n\n"
	                   "T[{{v.inject}}]\nT[{{v.ctrl}}]\nT[{{v.meta}}]\nT[{{v.html}}]\n"
	                   "T[{{v.marker}}]\nT[{{v.big}}]\n%%html\n"
	                   "<p title=\"{{v.html}}\">{{v.html}}</p>{{v.meta}}{{v.ctrl}}{{v.marker}}\n";
	JsonObject *v = json_object_new();

	for (int i = 0; i < 10000; i++)
		g_string_append_c(big, "abcdefghij"[i % 10]);
	json_object_set_string_member(v, "inject", "Hi\r\nBcc: evil@x\r\n\r\nbody");
	json_object_set_string_member(v, "ctrl", "a\x01\x02\x1b[0m\x7f\tb\r\nc\xc2\x9b");
	json_object_set_string_member(v, "meta", "{{ticket.id}} {{#v}}x{{/v}} {{{v.big}}} }}{{");
	json_object_set_string_member(v, "html", "<script>alert('x')</script>&amp;\"");
	json_object_set_string_member(v, "marker", "\n%%html\n<b>");
	json_object_set_string_member(v, "big", big->str);
	json_object_set_object_member(ctx, "v", v);
	json_object_set_int_member(ctx, "ticket", 99);

	r = render_ok(tmpl, ctx);
	/* Headers: one line each, the injected Bcc stays inside Subject. */
	g_assert_cmpuint(r->headers->len, ==, 3);
	g_assert_cmpstr(md_rendered_header(r, "Subject"), ==, "Hi Bcc: evil@x body");
	g_assert_null(md_rendered_header(r, "Bcc"));
	g_assert_cmpstr(md_rendered_header(r, "X-Big"), ==, big->str);
	g_assert_cmpstr(md_rendered_header(r, "X-Meta"), ==,
	                "{{ticket.id}} {{#v}}x{{/v}} {{{v.big}}} }}{{");
	for (guint i = 0; i < r->headers->len; i++) {
		const MdHeader *h = g_ptr_array_index(r->headers, i);

		for (const char *p = h->value; *p != '\0'; p++)
			g_assert_true((guchar)*p >= 0x20 && *p != 0x7f);
	}

	/* Text: only LF and TAB survive among controls; nothing re-expanded. */
	g_autofree char *want_text = g_strdup_printf(
	    "T[Hi\nBcc: evil@x\n\nbody]\nT[a[0m\tb\nc]\n"
	    "T[{{ticket.id}} {{#v}}x{{/v}} {{{v.big}}} }}{{]\n"
	    "T[<script>alert('x')</script>&amp;\"]\nT[\n%%%%html\n<b>]\nT[%s]\n",
	    big->str);
	g_assert_cmpstr(r->text, ==, want_text);

	/* HTML: entities, the marker value did not start a new part. */
	g_assert_cmpstr(r->html, ==,
	                "<p title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;amp;&quot;\">"
	                "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;amp;&quot;</p>"
	                "{{ticket.id}} {{#v}}x{{/v}} {{{v.big}}} }}{{a[0m\tb\nc\n%%html\n&lt;b&gt;\n");
}

static void
test_invalid_utf8_value(void)
{
	g_autoptr(JsonObject) ctx = json_object_new();
	g_autofree char *t = NULL;

	json_object_set_string_member(ctx, "x", "ok\xc3(\xff");
	t = body("{{x}}", ctx);
	g_assert_true(g_utf8_validate(t, -1, NULL));
	g_assert_true(g_str_has_prefix(t, "ok"));
}

static void
test_syntax_errors(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "Subject: x\n\nline\n{{#a}}\nno end\n", "dir/en/x:4: section \"a\" is never closed" },
		{ "\n{{#a}}{{#b}}\n{{/a}}{{/b}}", "dir/en/x:3: \"{{/a}}\" does not match \"{{#b}}\" opened at line 2" },
		{ "\n\n\n{{/a}}", "dir/en/x:4: \"{{/a}}\" closes no open section" },
		{ "\nok\n{{{raw}}}", "dir/en/x:3: \"{{{\" is not supported: values are always escaped" },
		{ "\n{{ bad name }}", "dir/en/x:2: bad name \"bad name\" in \"{{...}}\"" },
		{ "\n{{&raw}}", "dir/en/x:2: bad name \"&raw\" in \"{{...}}\"" },
		{ "\n{{}}", "dir/en/x:2: bad name \"\" in \"{{...}}\"" },
		{ "\n{{a..b}}", "dir/en/x:2: bad name \"a..b\" in \"{{...}}\"" },
		{ "\n\n{{unterminated\n}}", "dir/en/x:3: \"{{\" without \"}}\" on the same line" },
		{ "Subject: {{#a}}x\n\nbody", "dir/en/x:1: section \"a\" is never closed" },
		{ "Subject: ok\nno colon here\n\nbody", "dir/en/x:2: expected a \"Name: value\" header line (or a blank line before the body)" },
		{ "Sub ject: x\n\n", "dir/en/x:1: expected a \"Name: value\" header line (or a blank line before the body)" },
		{ ": x\n\n", "dir/en/x:1: expected a \"Name: value\" header line (or a blank line before the body)" },
		{ "\ntext\n%%html\n<p>\n{{/p}}", "dir/en/x:5: \"{{/p}}\" closes no open section" },
		/* A section cannot span from the text into the HTML part. */
		{ "\n{{#a}}\n%%html\n{{/a}}", "dir/en/x:2: section \"a\" is never closed" },
		{ "\xff\n", "dir/en/x: not valid UTF-8" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *err = render_error(cases[i].text);

		g_test_message("case %u", i);
		g_assert_cmpstr(err, ==, cases[i].want);
	}
}

/* ---- files and language fallback ---- */

static char *
tmpdir_with(const char *const *files)
{
	g_autoptr(GError) err = NULL;
	char *dir = g_dir_make_tmp("maildesk-template-XXXXXX", &err);

	g_assert_no_error(err);
	for (guint i = 0; files[i] != NULL; i += 2) {
		g_autofree char *path = g_build_filename(dir, files[i], NULL);
		g_autofree char *parent = g_path_get_dirname(path);

		g_assert_cmpint(g_mkdir_with_parents(parent, 0700), ==, 0);
		g_assert_true(g_file_set_contents(path, files[i + 1], -1, &err));
	}
	return dir;
}

static void
rm_tree(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		if (g_file_test(path, G_FILE_TEST_IS_DIR))
			rm_tree(path);
		else
			g_assert_cmpint(g_unlink(path), ==, 0);
	}
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void
test_file_fallback(void)
{
	static const char *const files[] = {
		"en/ack", "Subject: en\n\nEnglish {{x}}\n",
		"ru/ack", "Subject: ru\n\nРусский {{x}}\n",
		"ru/broken", "Subject: ru\n\n{{#x}}\n",
		"en/broken", "Subject: en\n\nfine\n",
		"lv/onlylv", "Subject: lv\n\nLatviski\n",
		NULL,
	};
	g_autofree char *dir = tmpdir_with(files);
	g_autoptr(JsonObject) ctx = ctx_new("{\"x\": \"1\"}");
	static const struct {
		const char *lang, *fallback, *name, *want_lang;
	} ok[] = {
		{ "ru", "lv", "ack", "ru" },
		{ "lv", "ru", "ack", "ru" },  /* lv missing: fallback */
		{ "lv", "de", "ack", "en" },  /* both missing: en */
		{ "lv", NULL, "ack", "en" },
		{ "../ru", "x/y", "ack", "en" }, /* not language tags: missing */
		{ "RU", "ru-RU", "ack", "en" },
		{ "", "", "ack", "en" },
		{ NULL, NULL, "ack", "en" },
		{ "lv", "ru", "onlylv", "lv" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
		char *error = NULL;
		g_autoptr(MdRendered) r =
		    template_render_file(dir, ok[i].lang, ok[i].fallback, ok[i].name, ctx, &error);

		g_test_message("case %u", i);
		g_assert_null(error);
		g_assert_nonnull(r);
		g_assert_cmpstr(r->language, ==, ok[i].want_lang);
		g_assert_cmpstr(md_rendered_header(r, "Subject"), ==, ok[i].want_lang);
	}

	/* A syntax error is reported, never hidden by falling back. */
	{
		char *error = NULL;
		g_autofree char *want = g_strdup_printf("%s/ru/broken:3: section \"x\" is never closed",
		                                        dir);
		MdRendered *r = template_render_file(dir, "ru", "en", "broken", ctx, &error);

		g_assert_null(r);
		g_assert_cmpstr(error, ==, want);
		g_free(error);
	}
	/* Missing everywhere, and names that are paths. */
	{
		static const char *const bad_names[] = { "nope", "../en/ack", "en/ack", ".hidden",
			                                 "", "a b" };

		for (guint i = 0; i < G_N_ELEMENTS(bad_names); i++) {
			char *error = NULL;
			MdRendered *r =
			    template_render_file(dir, "ru", "lv", bad_names[i], ctx, &error);

			g_assert_null(r);
			g_assert_nonnull(error);
			g_free(error);
		}
	}
	rm_tree(dir);
}

/*
 * A long-running process keeps templates parsed (filecache.c): an edited
 * file applies to the very next mail, a broken edit is reported, a
 * removed translation falls back, all without a restart.
 */
static void
test_file_edited(void)
{
	static const char *const files[] = {
		"en/ack", "Subject: en\n\nEnglish {{x}}\n",
		"lv/ack", "Subject: lv\n\nfirst {{x}}\n",
		NULL,
	};
	g_autofree char *dir = tmpdir_with(files);
	g_autofree char *lv = g_build_filename(dir, "lv", "ack", NULL);
	g_autoptr(JsonObject) ctx = ctx_new("{\"x\": \"1\"}");
	static const struct {
		const char *contents; /* NULL: the file is removed */
		const char *want_text;  /* NULL: an error */
	} steps[] = {
		{ "Subject: lv\n\nfirst {{x}}\n", "first 1\n" },
		{ "Subject: lv\n\nfifth {{x}}\n", "fifth 1\n" },  /* the same size */
		{ "Subject: lv\n\nthe third, longer {{x}}\n", "the third, longer 1\n" },
		{ "Subject: lv\n\n{{#x}}\n", NULL },
		{ "Subject: lv\n\nmended {{x}}\n", "mended 1\n" },
		{ NULL, "English 1\n" },
		{ "Subject: lv\n\nback {{x}}\n", "back 1\n" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
		char *error = NULL;
		g_autoptr(MdRendered) r = NULL;

		g_test_message("step %u", i);
		if (steps[i].contents == NULL)
			g_assert_cmpint(g_unlink(lv), ==, 0);
		else if (i > 0)
			g_assert_true(g_file_set_contents(lv, steps[i].contents, -1, NULL));
		r = template_render_file(dir, "lv", "en", "ack", ctx, &error);
		if (steps[i].want_text == NULL) {
			g_assert_null(r);
			g_assert_nonnull(error);
			g_free(error);
			continue;
		}
		g_assert_null(error);
		g_assert_nonnull(r);
		g_assert_cmpstr(r->text, ==, steps[i].want_text);
		/* rendering twice from what is kept gives the same */
		{
			g_autoptr(MdRendered) again = template_render_file(dir, "lv", "en", "ack", ctx,
			                                                   &error);

			g_assert_nonnull(again);
			g_assert_cmpstr(again->text, ==, steps[i].want_text);
		}
	}
	rm_tree(dir);
}

/* ---- the shipped acknowledgement ---- */

typedef struct {
	const char *lang;
	const char *status_text;
	const char *no_subject;  /* localised subject fallback */
	const char *reply_hint;  /* the "just reply" instruction */
	const char *keep_number; /* keep the tag in the subject */
	const char *no_eta;      /* said when there is no ETA */
	const char *no_rewrite;  /* no need to write again */
	const char *greeting_named; /* NULL when the language greets without names */
	const char *greeting;
} AckLang;

static const AckLang ack_langs[] = {
	{ "en", "new — waiting for an agent", "[#4711] Your request", "just reply to this message",
	  "keep [#4711] in the subject line", "We will let you know as soon as we can say",
	  "no need to write to us again", "Hello Anna Bērziņa & <Co>,", "Hello," },
	{ "ru", "новое — ожидает специалиста", "[#4711] Ваше обращение",
	  "просто ответьте на это письмо", "сохраните в теме письма номер [#4711]",
	  "Как только мы сможем назвать срок решения", "Писать нам повторно не нужно",
	  "Здравствуйте, Anna Bērziņa & <Co>!", "Здравствуйте!" },
	{ "lv", "jauns — gaida speciālistu", "[#4711] Jūsu pieteikums",
	  "vienkārši atbildiet uz šo vēstuli", "saglabājiet vēstules tematā numuru [#4711]",
	  "Tiklīdz varēsim pateikt", "Atkārtoti rakstīt nav nepieciešams", NULL, "Labdien!" },
};

static JsonObject *
ack_context(const AckLang *l, gboolean full, const char *subject)
{
	JsonObject *ctx = json_object_new();
	JsonObject *ticket = json_object_new();
	JsonObject *customer = json_object_new();
	JsonObject *support = json_object_new();
	JsonObject *reply = json_object_new();
	JsonObject *site = json_object_new();

	json_object_set_int_member(ticket, "id", 4711);
	json_object_set_string_member(ticket, "tag", "[#4711]");
	json_object_set_string_member(ticket, "subject", subject);
	json_object_set_string_member(ticket, "status", "new");
	json_object_set_string_member(ticket, "status_text", l->status_text);
	if (full) {
		g_autofree char *eta = datefmt_long(G_GINT64_CONSTANT(1795532400), 120, l->lang);

		json_object_set_string_member(ticket, "eta", eta);
		json_object_set_string_member(customer, "name", "Anna Bērziņa & <Co>");
	}
	json_object_set_string_member(customer, "address", "anna@example.org");
	json_object_set_string_member(support, "address", "support@example.com");
	json_object_set_string_member(support, "name", "Example Support");
	json_object_set_string_member(reply, "address", "support+4711-k3j9x2@example.com");
	json_object_set_string_member(site, "name", "Example");
	json_object_set_object_member(ctx, "ticket", ticket);
	json_object_set_object_member(ctx, "customer", customer);
	json_object_set_object_member(ctx, "support", support);
	json_object_set_object_member(ctx, "reply", reply);
	json_object_set_object_member(ctx, "site", site);
	return ctx;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		g_error("expected \"%s\" in:\n%s", needle, hay);
}

static void
assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle) != NULL)
		g_error("did not expect \"%s\" in:\n%s", needle, hay);
}

static void
test_ack(gconstpointer data)
{
	const AckLang *l = data;
	g_autofree char *dir = g_test_build_filename(G_TEST_DIST, "templates", NULL);
	g_autofree char *eta = datefmt_long(G_GINT64_CONSTANT(1795532400), 120, l->lang);

	for (int full = 1; full >= 0; full--) {
		g_autoptr(JsonObject) ctx = ack_context(l, full, full ? "Printer is offline" : "");
		char *error = NULL;
		g_autoptr(MdRendered) r =
		    template_render_file(dir, l->lang, "en", "ack", ctx, &error);
		if (r == NULL)
			g_error("%s", error);
		g_assert_cmpstr(r->language, ==, l->lang);
		g_assert_cmpstr(md_rendered_header(r, "Subject"), ==,
		                full ? "[#4711] Printer is offline" : l->no_subject);
		g_assert_nonnull(r->html);

		for (int part = 0; part < 2; part++) {
			const char *s = part == 0 ? r->text : r->html;

			assert_lacks(s, "{{");
			assert_lacks(s, "}}");
			assert_contains(s, "4711");
			assert_contains(s, l->status_text);
			assert_contains(s, l->reply_hint);
			assert_contains(s, "Example Support");
			assert_contains(s, l->no_rewrite);
			if (full) {
				assert_contains(s, eta);
				assert_lacks(s, l->no_eta);
			} else {
				assert_lacks(s, "2026");
				assert_contains(s, l->no_eta);
			}
		}
		/* Text: the keep-the-number hint; the greeting; no blank-line runs. */
		assert_contains(r->text, l->keep_number);
		assert_lacks(r->text, "\n\n\n");
		assert_lacks(r->text, "<strong>");
		if (full && l->greeting_named != NULL)
			assert_contains(r->text, l->greeting_named);
		else
			assert_contains(r->text, l->greeting);
		g_assert_true(g_str_has_suffix(r->text, "Example Support\n"));
		/* HTML: values escaped, no active content. */
		if (full && l->greeting_named != NULL)
			assert_contains(r->html, "Anna Bērziņa &amp; &lt;Co&gt;");
		assert_lacks(r->html, "<Co>");
		assert_lacks(r->html, "<script");
		assert_lacks(r->html, "<img");
		assert_contains(r->html, "<strong>[#4711]</strong>");
	}
}

/* A hostile subject and name in the shipped ack stay in their places. */
static void
test_ack_hostile(void)
{
	g_autofree char *dir = g_test_build_filename(G_TEST_DIST, "templates", NULL);
	g_autoptr(JsonObject) ctx = ack_context(&ack_langs[0], TRUE, "Hi\r\nBcc: evil@x {{ticket.id}}");
	JsonObject *customer = json_object_get_object_member(ctx, "customer");
	char *error = NULL;
	g_autoptr(MdRendered) r = NULL;

	json_object_set_string_member(customer, "name", "</p><script>x()</script>\r\n\r\nX: y");
	r = template_render_file(dir, "en", "en", "ack", ctx, &error);
	g_assert_null(error);
	g_assert_cmpuint(r->headers->len, ==, 1);
	g_assert_cmpstr(md_rendered_header(r, "Subject"), ==, "[#4711] Hi Bcc: evil@x {{ticket.id}}");
	assert_lacks(r->html, "<script>");
	assert_contains(r->html, "&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/template/variables", test_variables);
	g_test_add_func("/template/sections", test_sections);
	g_test_add_func("/template/standalone", test_standalone);
	g_test_add_func("/template/structure", test_structure);
	g_test_add_func("/template/header-escape", test_header_escape);
	g_test_add_func("/template/hostile-values", test_hostile_values);
	g_test_add_func("/template/invalid-utf8-value", test_invalid_utf8_value);
	g_test_add_func("/template/syntax-errors", test_syntax_errors);
	g_test_add_func("/template/file-fallback", test_file_fallback);
	g_test_add_func("/template/file-edited", test_file_edited);
	for (guint i = 0; i < G_N_ELEMENTS(ack_langs); i++) {
		g_autofree char *path = g_strdup_printf("/template/ack/%s", ack_langs[i].lang);

		g_test_add_data_func(path, &ack_langs[i], test_ack);
	}
	g_test_add_func("/template/ack-hostile", test_ack_hostile);
	return g_test_run();
}
