/* Unit tests: JSON text is valid for any string json-glib is given. */
#include "config.h"

#include <string.h>

#include "json_out.h"

/* json_out_to_string() of {"s": value}, value len bytes (embedded NULs allowed
 * only through json_out_clean, which the first test calls directly). */
static char *
object_with(const char *value)
{
	JsonObject *o = json_object_new();
	g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), o);

	json_object_unref(o);
	json_object_set_string_member(o, "s", value);
	return json_out_to_string(root);
}

/* Parses text strictly with json-glib and returns member "s"; fails the test
 * when text is not JSON.  Caller frees with g_free(). */
static char *
parsed_member(const char *text)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	JsonObject *o;

	g_assert_true(json_parser_load_from_data(parser, text, -1, &error));
	g_assert_no_error(error);
	o = json_node_get_object(json_parser_get_root(parser));
	return g_strdup(json_object_get_string_member(o, "s"));
}

/* No byte of text is a raw control character (but the line feeds of
 * pretty printing, between members), DEL or a raw U+2028/U+2029. */
static void
assert_no_raw_controls(const char *text)
{
	g_assert_true(g_utf8_validate(text, -1, NULL));
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\n')
			continue;
		g_assert_cmpint((guchar)*p, >=, 0x20);
		g_assert_cmpint((guchar)*p, !=, 0x7f);
	}
	g_assert_null(strstr(text, "\xe2\x80\xa8"));
	g_assert_null(strstr(text, "\xe2\x80\xa9"));
}

static void
test_every_control(void)
{
	for (int c = 1; c < 0x20; c++) {
		char value[] = { 'a', (char)c, 'b', '\0' };
		g_autofree char *text = object_with(value);
		g_autofree char *back = parsed_member(text);

		assert_no_raw_controls(text);
		/* escaped, not dropped: the text reads back as it was */
		g_assert_cmpstr(back, ==, value);
	}
}

static void
test_unit_separator(void)
{
	/* json-glib 1.6 writes U+001F raw: the instance of issue 12 */
	g_autofree char *text = object_with("x\x1fy");

	g_assert_nonnull(strstr(text, "\\u001f"));
	assert_no_raw_controls(text);
}

static void
test_del_and_line_separators(void)
{
	g_autofree char *text = object_with("a\x7f" "b\xe2\x80\xa8" "c\xe2\x80\xa9" "d");
	g_autofree char *back = parsed_member(text);

	assert_no_raw_controls(text);
	g_assert_nonnull(strstr(text, "\\u007f"));
	g_assert_nonnull(strstr(text, "\\u2028"));
	g_assert_nonnull(strstr(text, "\\u2029"));
	g_assert_cmpstr(back, ==, "a\x7f" "b\xe2\x80\xa8" "c\xe2\x80\xa9" "d");
}

static void
test_c1_controls(void)
{
	/* U+0085 (NEL) ends a line for some readers */
	g_autofree char *text = object_with("a\xc2\x85" "b\xc2\x80" "c\xc2\x9f" "d\xc2\xa0" "e");
	g_autofree char *back = parsed_member(text);

	g_assert_nonnull(strstr(text, "a\\u0085b\\u0080c\\u009fd\xc2\xa0" "e"));
	g_assert_cmpstr(back, ==, "a\xc2\x85" "b\xc2\x80" "c\xc2\x9f" "d\xc2\xa0" "e");
}

static void
test_invalid_utf8(void)
{
	/* a cut sequence right before the closing quote must not eat it */
	const char *const values[] = { "\xff", "ab\xe2\x80", "\xc3", "\xed\xa0\x80 surrogate",
		                       "\xf8\x88\x80\x80\x80", "ok\xc0\xaf\"\\", NULL };

	for (guint i = 0; values[i] != NULL; i++) {
		g_autofree char *text = object_with(values[i]);
		g_autofree char *back = parsed_member(text);

		assert_no_raw_controls(text);
		g_assert_nonnull(strstr(back, "\xef\xbf\xbd"));
	}
}

static void
test_nul_and_plain_text(void)
{
	static const char json[] = "{\"s\" : \"a\0b\x1f\"}";
	g_autofree char *clean = json_out_clean(json, sizeof json - 1);
	g_autofree char *back = parsed_member(clean);
	g_autofree char *plain = object_with("Grüße, привет, \"quoted\" \\ and\ttab");
	g_autofree char *plain_back = parsed_member(plain);

	g_assert_cmpstr(back, ==, "a\xef\xbf\xbd" "b\x1f");
	g_assert_cmpstr(plain_back, ==, "Grüße, привет, \"quoted\" \\ and\ttab");
	/* what needs no escape is left as json-glib wrote it */
	g_assert_nonnull(strstr(plain, "Grüße, привет, \\\"quoted\\\" \\\\ and\\ttab"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/json_out/every-control", test_every_control);
	g_test_add_func("/json_out/unit-separator", test_unit_separator);
	g_test_add_func("/json_out/del-line-separators", test_del_and_line_separators);
	g_test_add_func("/json_out/c1-controls", test_c1_controls);
	g_test_add_func("/json_out/invalid-utf8", test_invalid_utf8);
	g_test_add_func("/json_out/nul-and-plain", test_nul_and_plain_text);
	return g_test_run();
}
