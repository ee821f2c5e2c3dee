/*
 * lang.c - language guess from the Content-Language header or the letters
 * used.  Cyrillic text is taken as Russian; Latin text with the letters
 * only Latvian uses (ā ē ī ū ģ ķ ļ ņ) as Latvian; other Latin text as
 * English.  Good enough to pick a template, which is all it is for.
 */
#include "config.h"

#include <string.h>

#include "lang.h"

static const char *
lang_from_header(const char *content_language)
{
	static const char *const ours[] = { "en", "ru", "lv" };

	if (content_language == NULL)
		return NULL;
	while (*content_language == ' ' || *content_language == '\t')
		content_language++;
	for (unsigned i = 0; i < G_N_ELEMENTS(ours); i++)
		if (g_ascii_strncasecmp(content_language, ours[i], 2) == 0 &&
		    !g_ascii_isalpha(content_language[2]))
			return ours[i];
	return NULL;
}

static void
count_letters(const char *text, gsize max_chars, gsize *cyrillic, gsize *latvian, gsize *latin)
{
	gsize n = 0;

	if (text == NULL)
		return;
	for (const char *p = text; *p && n < max_chars; p = g_utf8_next_char(p), n++) {
		gunichar c = g_utf8_get_char_validated(p, -1);

		if (c == (gunichar)-1 || c == (gunichar)-2)
			return;
		if (c >= 0x0400 && c <= 0x04FF)
			(*cyrillic)++;
		else if (c == 0x0101 || c == 0x0113 || c == 0x012B || c == 0x016B ||
		         c == 0x0123 || c == 0x0137 || c == 0x013C || c == 0x0146 || c == 0x0100 ||
		         c == 0x0112 || c == 0x012A || c == 0x016A || c == 0x0122 || c == 0x0136 ||
		         c == 0x013B || c == 0x0145)
			(*latvian)++;
		else if (g_ascii_isalpha((int)(c < 0x80 ? c : 0)))
			(*latin)++;
	}
}

const char *
lang_detect(const char *content_language, const char *subject, const char *text)
{
	const char *header = lang_from_header(content_language);
	gsize cyrillic = 0, latvian = 0, latin = 0;

	if (header != NULL)
		return header;
	count_letters(subject, 1000, &cyrillic, &latvian, &latin);
	count_letters(text, 4000, &cyrillic, &latvian, &latin);
	if (cyrillic >= 3 && cyrillic * 2 >= latin)
		return "ru";
	if (latvian >= 2)
		return "lv";
	if (latin >= 3)
		return "en";
	return NULL;
}
