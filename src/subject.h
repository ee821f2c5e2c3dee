/*
 * subject.h - subject lines: reply/forward prefixes and our ticket tag.
 *
 * Pure helpers for threading (stage "thread") and for templates.
 */
#ifndef MD_SUBJECT_H
#define MD_SUBJECT_H

#include <glib.h>

/*
 * The subject with every leading reply/forward prefix removed (Re, Fwd, Fw,
 * AW, WG, SV, VS, VB, Antw, R, I, TR, Ответ, Отв, Пересл, Atb, Pārs and
 * counted forms such as "Re[2]:" or "Re^3:"), every tag "[PREFIX123]" of
 * ours removed, whitespace collapsed and trimmed.  NULL gives "".
 * Caller frees with g_free().
 */
char *subject_normalize(const char *subject, const char *tag_prefix);

/*
 * TRUE when the leading prefixes of subject (those subject_normalize()
 * removes) include a forward's: Fwd, Fw, WG, TR, I, VB, Пересл, Pārs…
 */
gboolean subject_is_forward(const char *subject, const char *tag_prefix);

/*
 * Finds our tag "[PREFIX123]" in subject; TRUE with the ticket number in
 * *ticket_r when there is one (the first, if several).
 */
gboolean subject_find_tag(const char *subject, const char *tag_prefix, gint64 *ticket_r);

/* "[PREFIX123]"; caller frees with g_free(). */
char *subject_tag(const char *tag_prefix, gint64 ticket);

#endif
