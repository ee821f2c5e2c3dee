/*
 * quote.h - the new words of a reply, without the quoted history.
 *
 * Pure: no I/O, no globals.  Used wherever a reply's text is passed on
 * (to an agent, or from an agent to a customer), because the quoted part
 * may hold internal notes or our agent-notification text.
 */
#ifndef MD_QUOTE_H
#define MD_QUOTE_H

#include <glib.h>

/*
 * The line our own notifications carry above their text, e.g.
 * "##- Please type your reply above this line -##": the first string,
 * then later on the same line the second.
 */
#define QUOTE_CUT_MARKER_START "##-"
#define QUOTE_CUT_MARKER_END "-##"

/*
 * TRUE when a line of text (len bytes, NULs allowed) holds our cut marker.
 * Each search is bounded by its line, so many lines cost no more than
 * one long one.
 */
gboolean quote_has_cut_line(const char *text, gsize len);

/*
 * The new text of a reply: everything before the first of
 *  - our cut marker, quoted or not (words before it on its line stay),
 *  - a quoted line ("> ...", or supercite "AB> ..."),
 *  - an attribution line ("On ... wrote:", "Am ... schrieb ...:",
 *    "... пишет:", "... rakstīja:" and other languages, wrapped over up
 *    to three lines),
 *  - an Outlook header block (From + Sent/Date, localized, bold or not),
 *  - an "-----Original Message-----" or "Forwarded message" line, or a
 *    separator line directly above a "From:" line,
 *  - a signature line "-- " (or "--"),
 * where an attribution, header block or separator line directly above the
 * cut point (blank lines between allowed) is cut as well.  Leading and
 * trailing blank lines and the trailing whitespace of the last line are
 * removed; the rest is kept verbatim.  Text written only below a quote
 * (bottom-posting) is lost: cutting at the first quote is the safe side.
 *
 * text is UTF-8 (invalid bytes are replaced); CRLF and CR count as LF and
 * the result has LF line ends.  NULL gives "".  Never returns NULL;
 * caller frees with g_free().
 */
char *quote_strip(const char *text);

/*
 * quote_strip(), and *below_r TRUE when unquoted non-blank lines follow
 * the first ">"-quoted line (before a signature): words written below or
 * between the quotes, which were cut with them.  Lets the caller tell the writer rather than
 * drop their answer in silence.
 */
char *quote_strip_below(const char *text, gboolean *below_r);

#endif
