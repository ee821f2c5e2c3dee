/*
 * parse_stream.h - a GMime stream over a mail file for GMime's own
 * parsers (archive.c splits an mbox and reads dates with GMime), with
 * what parse_bounds.h objects to defused first.
 *
 * GMime parses every address field of every message it constructs, so a
 * file holding 100,000 nested address groups overflows the stack of
 * `maildesk import` before parse_message() ever sees the message.  The
 * file is mapped privately (copy on write): the fields parse_bounds
 * objects to are blanked in the mapping only, offsets stay those of the
 * file, and the file is never written.  A message with more header than
 * parse.c parses has the rest flattened to long lines
 * (parse_bounds_flatten()), and the charsets the file names are pinned
 * (charset_pin.h), so that GMime's memory and time stay in proportion.
 */
#ifndef MD_PARSE_STREAM_H
#define MD_PARSE_STREAM_H

#include <gmime/gmime.h>

/* A stream over the whole file fd (read from its start), owning fd as
 * g_mime_stream_fs_new() does.  Caller unrefs. */
GMimeStream *parse_stream_for_fd(int fd);

#endif
