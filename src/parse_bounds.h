/*
 * parse_bounds.h - shapes of raw mail that GMime cannot take within
 * bounds, found and defused before GMime sees the bytes.
 *
 * GMime 3.2 parses an address group by recursion (RFC 5322 forbids
 * nested groups; GMime's loose mode nests them anyway), so a To of
 * "g:g:g:...;;;" 100,000 levels deep overflows the stack of whichever
 * process parses it.  Every message/rfc822 part is a message GMime
 * parses the same way, so the headers of attached messages count as
 * much as the top-level ones.  The measures here are deliberately crude
 * upper bounds (every ':' of an address field may open a group, every
 * '(' a comment), because GMime's error recovery resumes inside quoted
 * strings and brackets: a measure that trusted quoting could be led to
 * undercount.  Real fields stay far below the limits.
 *
 * Pure: bytes in, verdicts and bytes out; no GMime, no I/O, no globals.
 */
#ifndef MD_PARSE_BOUNDS_H
#define MD_PARSE_BOUNDS_H

#include <glib.h>

/* ':' in one address field beyond which it may nest groups too deep:
 * GMime needs under 300 bytes of stack per level. */
#define PARSE_BOUNDS_MAX_COLONS 1000
/* '(' nesting in one address field (GMime skips comments iteratively
 * today; the bound keeps any parser that recurses on them safe). */
#define PARSE_BOUNDS_MAX_COMMENT_DEPTH 100
/* Distinct charset names kept from one message at most. */
#define PARSE_BOUNDS_MAX_CHARSETS 512

/*
 * The reason len bytes at data cannot be handed to GMime as they are
 * (a static string for parse_error), or NULL when they can.  Every line
 * that starts an address field ("To:", "Resent-Cc:", ...) in a header
 * block (those parse_bounds_header_bytes() counts, so that attached
 * messages are covered) is measured together with its continuation lines.
 */
const char *parse_bounds_check(const guint8 *data, gsize len);

/*
 * TRUE when parse_bounds_defuse() would change anything: a field
 * parse_bounds_check() objects to, or one with a comment left open, which
 * is no bound but makes GMime 3.2.13 leak ("a@[x] (").
 */
gboolean parse_bounds_needs_defuse(const guint8 *data, gsize len);

/*
 * Defuses in place every field parse_bounds_check() objects to: its
 * value becomes blanks (line ends kept, so the length and the framing do
 * not change), which GMime reads as a field without addresses.  In the
 * other address fields, each '(' left open becomes a blank.  Only the
 * bytes changed are written.
 */
void parse_bounds_defuse(guint8 *data, gsize len);

/*
 * An upper bound of the bytes GMime holds as header fields: those of the
 * top-level header, of every part (a header block follows each line
 * that starts with "--", as a boundary line does) and of every attached
 * message (the block after a header block that says "message", or after
 * any part header once some header block says "digest", where parts are
 * messages by default), and after each line that starts with "From "
 * (the next message of an mbox).  GMime keeps a header of n bytes as objects of
 * about 45 n bytes (parameters, addresses, header lines), and parse.c
 * bounds the top-level header alone; this bounds them all.
 */
gsize parse_bounds_header_bytes(const guint8 *data, gsize len);

/*
 * For GMime parses that only split an mbox and read dates (archive.c):
 * past limit header bytes in one message (counted as
 * parse_bounds_header_bytes() does, afresh for each message of an mbox),
 * every line break inside a header block becomes a blank, but those
 * before the blank line that ends the block and before a "From " line.
 * GMime then holds the rest as a few long lines, not as objects for each
 * field.  In place; call it before parse_bounds_defuse(), which must see
 * the long lines this makes.
 */
void parse_bounds_flatten(guint8 *data, gsize len, gsize limit);

/*
 * The charset names the message's header blocks name (those that
 * parse_bounds_header_bytes() counts; a body is converted once per part,
 * not word by word): in encoded words
 * ("=?NAME?"), RFC 2231 values ("*=NAME'") and charset parameters
 * ("charset=NAME"), lower-cased, each once, in order of appearance, and
 * only those keep (when not NULL) returns TRUE for, at most
 * PARSE_BOUNDS_MAX_CHARSETS of them: names keep refuses do not count, so
 * junk cannot crowd out the names that matter.  Caller frees with
 * g_ptr_array_unref().
 */
GPtrArray *parse_bounds_charsets(const guint8 *data, gsize len, gboolean (*keep)(const char *name));

#endif
