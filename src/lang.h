/*
 * lang.h - which of our languages a customer writes in.
 *
 * Used once per ticket, on the customer's first message, to pick the
 * template language.  Pure.
 */
#ifndef MD_LANG_H
#define MD_LANG_H

#include <glib.h>

/*
 * Returns "ru", "lv" or "en" when the Content-Language header (may be NULL)
 * or the text (subject and body, UTF-8) clearly shows one of them, else
 * NULL (the caller then uses the site default).  Static string.
 */
const char *lang_detect(const char *content_language, const char *subject, const char *text);

#endif
