/*
 * html2text.h - readable plain text from an HTML body, with libxml2's
 * HTML parser (never regexes).  Pure: no I/O.
 */
#ifndef MD_HTML2TEXT_H
#define MD_HTML2TEXT_H

#include <glib.h>

/*
 * Converts len bytes of UTF-8 HTML to text: block elements become line
 * breaks, <br> a newline, list items "- ", links "text <href>" when the
 * href differs from the text, script/style/head dropped, entities decoded,
 * runs of blank lines collapsed, surrounding whitespace trimmed.
 * Never returns NULL; caller frees with g_free().
 */
char *html_to_text(const char *html, gsize len);

/*
 * Loads libxml2, which html_to_text() does itself on first use (it is
 * not linked: see html2text.c).  For a process that would rather fail at
 * start than on its first HTML-only message.  Thread-safe; FALSE with
 * *error_r set (caller frees with g_free()) when it cannot be loaded.
 */
gboolean html2text_load(char **error_r);

#endif
