/*
 * charset_pin.h - keeps glibc's converter for each charset a message
 * names loaded, so that GMime's per-word iconv_open() stays cheap.
 *
 * GMime 3.2 opens and closes an iconv converter for every encoded word
 * and every RFC 2231 value it decodes.  glibc unloads a converter module
 * (dlclose) shortly after its last user closes it, so words that switch
 * charset one by one cost a dlopen() and a dlclose() each: about 13 s per
 * MB of header.  A converter held open here keeps its module loaded for
 * the life of the process, and GMime's own open is then a lookup.
 * Nothing is ever converted with the pinned converters.
 *
 * Thread-safe (lmtpd parses in several threads).  Bounded: every name
 * iconv knows is kept (glibc knows some 1,200), names it does not know
 * are remembered up to CHARSET_PIN_MAX entries in all.
 */
#ifndef MD_CHARSET_PIN_H
#define MD_CHARSET_PIN_H

#include <glib.h>

#define CHARSET_PIN_MAX 4096

/* Pins the converter from name to UTF-8; TRUE when iconv knows name.
 * Needs GMime initialised (parse_init()).  A parse_bounds_charsets()
 * keep function. */
gboolean charset_pin_one(const char *name);

/* The same for each of a NULL-terminated list. */
void charset_pin_list(const char *const *names);

#endif
