/*
 * template.h - renders templates/LANG/NAME files with a JSON context.
 *
 * A template file is: header lines ("Name: value"), a blank line, the text
 * body, and optionally a line "%%html" followed by an HTML body.
 * Variables: {{a.b}} looks up a dotted path in the context; sections
 * {{#a.b}}...{{/a.b}} repeat for each element of an array (the element
 * becomes the innermost context, "." names it) or render once when the
 * value is truthy; {{^a.b}}...{{/a.b}} renders when it is falsy/missing.
 * Escaping depends on where a value lands: in a header, CR, LF and other
 * control characters become spaces and the result is one line (so header
 * injection is impossible; RFC 2047 encoding happens in compose.c); in the
 * text body control characters other than LF and TAB are dropped; in the
 * HTML body & < > " ' are entity-escaped.  {{{x}}} is never supported:
 * there is no way to bypass escaping.  Pure apart from reading the file.
 *
 * Details: the file is split into headers / text / HTML before anything is
 * expanded, so no value can start a header or the HTML part, and values
 * are never expanded again.  A blank line may hold spaces; CRLF files are
 * read as LF.  Falsy: missing, null, false, "", 0, [].  A truthy scalar or
 * object section renders once with the value pushed as context.  A name's
 * first part is looked up from the innermost context outwards.  A section
 * or {{! comment }} tag alone on its line removes that line.  Sections
 * cannot span parts (each header line, text, HTML parse on their own).
 * Header values are trimmed.  Missing variables render as nothing.
 */
#ifndef MD_TEMPLATE_H
#define MD_TEMPLATE_H

#include <glib.h>
#include <json-glib/json-glib.h>

typedef struct {
	char *name;  /* header name as written in the template */
	char *value; /* rendered, single line, UTF-8 */
} MdHeader;

typedef struct {
	GPtrArray *headers; /* MdHeader*, in template order */
	char *text;         /* rendered text body, never NULL */
	char *html;         /* rendered HTML body, or NULL when none */
	char *language;     /* language of the file actually used; NULL from
	                     * template_render_string */
} MdRendered;

void md_rendered_free(MdRendered *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MdRendered, md_rendered_free)

/* Value of header name (case-insensitive) or NULL; owned by r. */
const char *md_rendered_header(const MdRendered *r, const char *name);

/*
 * Renders DIR/LANG/NAME, falling back to DIR/FALLBACK_LANG/NAME and then
 * DIR/en/NAME when the file is missing.  lang must be a plain language tag
 * ([a-z]{2,3}); anything else is treated as missing.  Returns NULL and sets
 * *error_r (caller frees with g_free) on a missing file or a syntax error
 * (unclosed section, unknown section end) naming the file and line.
 */
MdRendered *template_render_file(const char *dir, const char *lang, const char *fallback_lang,
                                 const char *name, JsonObject *context, char **error_r);

/* Renders template text already in memory; origin names it in errors.
 * context may be NULL (empty).  NULL and *error_r set on a syntax error. */
MdRendered *template_render_string(const char *text, const char *origin, JsonObject *context,
                                   char **error_r);

/* The header-context escaping alone: one line, no control characters
 * (each run of C0/C1 controls, DEL, U+2028/9 becomes one space), invalid
 * UTF-8 replaced.  NULL gives "".  Caller frees with g_free(). */
char *template_header_escape(const char *value);

/* RFC 5322 field name: 1 to 76 printable ASCII characters, no colon. */
gboolean template_header_name_valid(const char *name);

#endif
