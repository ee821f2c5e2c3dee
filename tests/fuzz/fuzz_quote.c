/*
 * fuzz_quote.c - cutting the quoted history off a reply:
 * quote_strip_below() on hostile text.
 *
 * What passes this function goes to customers and agents, so what it
 * promises (quote.h) is checked on every input: the result is UTF-8 with
 * LF line ends, never longer than the input once made valid and its line
 * ends made LF, a piece of that text (the rest is "kept verbatim"), with
 * no line carrying our cut marker, no leading blank line and no trailing
 * blanks; quote_strip() agrees with it.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "quote.h"

/* The input as quote.h reads it: invalid bytes replaced, CRLF and CR made LF. */
static char *
normalized(const char *text)
{
	g_autofree char *valid = g_utf8_make_valid(text, -1);
	GString *out = g_string_sized_new(strlen(valid));

	for (const char *p = valid; *p != '\0'; p++) {
		if (p[0] == '\r' && p[1] == '\n')
			continue;
		g_string_append_c(out, *p == '\r' ? '\n' : *p);
	}
	return g_string_free(out, FALSE);
}

/* Our marker as quote.c finds it: the start, then later on the line the end. */
static gboolean
line_has_marker(const char *line, gsize len)
{
	g_autofree char *l = g_strndup(line, len);
	const char *start = strstr(l, QUOTE_CUT_MARKER_START);

	return start != NULL && strstr(start + strlen(QUOTE_CUT_MARKER_START), QUOTE_CUT_MARKER_END);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *text = fuzz_string(data, size);
	g_autofree char *norm = NULL;
	g_autofree char *out = NULL;
	g_autofree char *plain = NULL;
	g_autofree char *empty = NULL;
	gboolean below = 2;
	gsize n;

	fuzz_init();
	out = quote_strip_below(text, &below);
	norm = normalized(text);
	n = strlen(out);

	FUZZ_CHECK(below == TRUE || below == FALSE, "below not set");
	FUZZ_CHECK(g_utf8_validate(out, -1, NULL), "the result is not UTF-8");
	FUZZ_CHECK(strchr(out, '\r') == NULL, "the result holds a CR");
	FUZZ_CHECK(n <= strlen(norm), "the result (%zu bytes) is longer than the input (%zu)", n,
	           strlen(norm));
	FUZZ_CHECK(strstr(norm, out) != NULL, "the result is not a piece of the input");
	FUZZ_CHECK(n == 0 || out[0] != '\n', "the result starts with a blank line");
	FUZZ_CHECK(n == 0 || (out[n - 1] != ' ' && out[n - 1] != '\t' && out[n - 1] != '\n'),
	           "the result ends in blanks");
	for (const char *line = out; line != NULL;) {
		const char *nl = strchr(line, '\n');
		gsize len = nl != NULL ? (gsize)(nl - line) : strlen(line);

		FUZZ_CHECK(!line_has_marker(line, len), "a line of the result carries our marker: %.*s",
		           (int)len, line);
		line = nl != NULL ? nl + 1 : NULL;
	}

	plain = quote_strip(text);
	FUZZ_CHECK(strcmp(plain, out) == 0, "quote_strip() and quote_strip_below() differ");
	empty = quote_strip_below(NULL, &below);
	FUZZ_CHECK(*empty == '\0' && !below, "NULL does not give \"\"");
	return 0;
}
