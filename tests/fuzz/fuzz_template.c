/*
 * fuzz_template.c - the template renderer on hostile template text, with
 * a fixed context whose values are hostile too (CR/LF, markup, control
 * characters, tags that look like template syntax, arrays, nesting).
 *
 * Checked, from template.h: the result or an error, never both; invalid
 * UTF-8 is an error; header names are valid field names and header
 * values one trimmed line of UTF-8 without CR or LF; the bodies are
 * UTF-8.  And what escaping promises about values: the context carries
 * markers (control characters, U+2028, a raw tag) that only a value can
 * put into the output when the template text itself lacks them, so
 * finding one there means a value escaped unescaped.
 * template_header_escape() gets the input as a value as well.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "template.h"

/* JSON escapes keep the control characters out of this source file. */
static const char context_json[] =
	"{"
	"\"ticket\": {\"id\": 42, \"subject\": \"Printer\\r\\nBcc: victim@example.com\","
	"  \"status\": \"open\", \"eta\": \"1 December 2026, 17:00\", \"zero\": 0, \"no\": false,"
	"  \"yes\": true, \"none\": null, \"empty\": \"\", \"nothing\": [],"
	"  \"tags\": [\"a\", \"<b>bold</b>\", \"c&d\", \"\\u0001\\u007f\"]},"
	"\"customer\": {\"name\": \"Jane <jane@example.com> & Co\\n\", \"lang\": \"en\"},"
	"\"messages\": ["
	"  {\"from\": \"Jane\", \"text\": \"line 1\\nline 2\\r\\n<x-raw>alert(1)</x-raw>\"},"
	"  {\"from\": \"Bob\\u0001\\u0085\", \"text\": \"\\u2028sep\\u2029\\u0085&amp;\\\"'\"},"
	"  \"a string element\", 7, [\"nested\", [\"deeper\"]], {\"from\": {\"name\": \"obj\"}}],"
	"\"html\": \"<x-raw>&amp;\\\"'\\r\\n\","
	"\"ctrl\": \"a\\u0001b\\u007fc\\u0085d\\u2028e\\u2029f\\tg\\rh\\ni\\u001bj\","
	"\"syntax\": \"{{ticket.id}} {{#ticket.tags}}x{{/ticket.tags}} %%html {{! c }}\","
	"\"nested\": {\"a\": {\"b\": {\"c\": \"deep\", \"d\": [{\"e\": \"in array\"}]}}},"
	"\"num\": 3.5, \"big\": 9007199254740993, \"neg\": -1,"
	"\"list\": [1, 2, 3], \"bools\": [true, false, null],"
	"\".\": \"a key named dot\", \"\": \"an empty key\""
	"}";

/* Byte strings the context holds and a value must not carry into the
 * output unescaped (each also absent from the template text). */
static const char *const value_markers[] = {
	"\001", "\177", "\033", "\r", "\xc2\x85", "\xe2\x80\xa8", "\xe2\x80\xa9", NULL,
};

static JsonObject *
context(void)
{
	static JsonObject *ctx;

	if (ctx == NULL) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) root = json_from_string(context_json, &error);

		FUZZ_CHECK(root != NULL && JSON_NODE_HOLDS_OBJECT(root), "context JSON: %s",
		           error ? error->message : "not an object");
		ctx = json_object_ref(json_node_get_object(root));
	}
	return ctx;
}

static gboolean
has_control(const char *s)
{
	for (const char *p = s; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029)
			return TRUE;
	}
	return FALSE;
}

/* Markers no value may bring: those not in the template text itself. */
static void
check_markers(const char *input, const char *part, const char *what)
{
	for (int i = 0; value_markers[i] != NULL; i++)
		FUZZ_CHECK(strstr(input, value_markers[i]) != NULL ||
		               strstr(part, value_markers[i]) == NULL,
		           "%s holds control character %s that only a value has", what,
		           g_strescape(value_markers[i], NULL));
	/* a value's markup reaches HTML only escaped */
	if (g_str_has_prefix(what, "html"))
		FUZZ_CHECK(strstr(input, "<x-raw") != NULL || strstr(part, "<x-raw") == NULL,
		           "the HTML body holds a value's \"<x-raw>\" unescaped");
}

static void
check_rendered(const char *input, const MdRendered *r)
{
	FUZZ_CHECK(r->headers != NULL && r->text != NULL, "headers or text NULL");
	for (guint i = 0; i < r->headers->len; i++) {
		const MdHeader *h = r->headers->pdata[i];
		gsize n = strlen(h->value);

		FUZZ_CHECK(template_header_name_valid(h->name), "header name \"%s\" is not valid",
		           h->name);
		FUZZ_CHECK(g_utf8_validate(h->value, -1, NULL), "header %s: not UTF-8", h->name);
		FUZZ_CHECK(strpbrk(h->value, "\r\n") == NULL, "header %s: \"%s\" holds CR or LF",
		           h->name, g_strescape(h->value, NULL));
		FUZZ_CHECK(n == 0 || (!g_ascii_isspace(h->value[0]) && !g_ascii_isspace(h->value[n - 1])),
		           "header %s: \"%s\" is not trimmed", h->name, h->value);
		FUZZ_CHECK(md_rendered_header(r, h->name) != NULL, "header %s not found by name",
		           h->name);
		check_markers(input, h->value, "a header");
	}
	FUZZ_CHECK(g_utf8_validate(r->text, -1, NULL), "text body: not UTF-8");
	check_markers(input, r->text, "the text body");
	if (r->html != NULL) {
		FUZZ_CHECK(g_utf8_validate(r->html, -1, NULL), "HTML body: not UTF-8");
		check_markers(input, r->html, "html body");
	}
	FUZZ_CHECK(r->language == NULL, "template_render_string() set a language");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *input = fuzz_string(data, size);
	g_autofree char *error = NULL;
	g_autofree char *escaped = NULL;
	g_autoptr(MdRendered) r = NULL;
	gboolean utf8 = g_utf8_validate(input, -1, NULL);

	fuzz_init();
	r = template_render_string(input, "fuzz", context(), &error);
	FUZZ_CHECK((r == NULL) != (error == NULL), "result and error: both or neither");
	FUZZ_CHECK(utf8 || r == NULL, "invalid UTF-8 rendered without an error");
	if (error != NULL)
		FUZZ_CHECK(g_utf8_validate(error, -1, NULL) || !utf8, "error text not UTF-8: %s",
		           error);
	if (r != NULL)
		check_rendered(input, r);

	/* the same text with no context at all: every name is missing */
	g_clear_pointer(&r, md_rendered_free);
	g_clear_pointer(&error, g_free);
	r = template_render_string(input, NULL, NULL, &error);
	FUZZ_CHECK((r == NULL) != (error == NULL), "result and error (no context): both or neither");

	escaped = template_header_escape(input);
	FUZZ_CHECK(g_utf8_validate(escaped, -1, NULL) && !has_control(escaped),
	           "template_header_escape() left a control character or invalid UTF-8");
	return 0;
}
