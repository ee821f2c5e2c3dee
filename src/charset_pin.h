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
 * Thread-safe (lmtpd parses in several threads).  Bounded: at most
 * CHARSET_PIN_MAX names are ever tried per process, known or not.
 */
#ifndef MD_CHARSET_PIN_H
#define MD_CHARSET_PIN_H

#include <glib.h>

#define CHARSET_PIN_MAX 4096

/* Pins the converter from each of names (char *) to UTF-8 that iconv
 * knows.  Needs GMime initialised (parse_init()). */
void charset_pin(const GPtrArray *names);

/* The same for a NULL-terminated list. */
void charset_pin_list(const char *const *names);

#endif
