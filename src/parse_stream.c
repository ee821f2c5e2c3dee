/*
 * parse_stream.c - a GMime stream over a mail file, defused as
 * parse_bounds.h says (see the header for why).
 */
#include "config.h"

#include <sys/mman.h>

#include "charset_pin.h"
#include "parse.h"
#include "parse_bounds.h"
#include "parse_stream.h"

/* parse.c's bound of the header bytes of one message */
#define PARSE_STREAM_HEADER_BYTES (4 * 1024 * 1024)

GMimeStream *
parse_stream_for_fd(int fd)
{
	GMimeStream *s;
	GMimeStreamMmap *mm;
	g_autoptr(GPtrArray) charsets = NULL;

	parse_init();
	s = g_mime_stream_mmap_new_with_bounds(fd, PROT_READ | PROT_WRITE, MAP_PRIVATE, 0, -1);
	if (s == NULL) /* empty, or not a file that maps: nothing GMime could recurse on */
		return g_mime_stream_fs_new(fd);
	mm = GMIME_STREAM_MMAP(s);
	/* only the offending bytes are written: every other page stays the
	 * file's own.  GMime builds the whole of each message here, so a
	 * message of more header than parse_message() would parse (it stops
	 * there, see too_costly()) is flattened past that: GMime holds some
	 * 45 bytes of objects for each byte of header it parses */
	if (parse_bounds_header_bytes((const guint8 *)mm->map, mm->maplen) > PARSE_STREAM_HEADER_BYTES)
		parse_bounds_flatten((guint8 *)mm->map, mm->maplen, PARSE_STREAM_HEADER_BYTES);
	if (parse_bounds_needs_defuse((const guint8 *)mm->map, mm->maplen))
		parse_bounds_defuse((guint8 *)mm->map, mm->maplen);
	charsets = parse_bounds_charsets((const guint8 *)mm->map, mm->maplen, charset_pin_one);
	return s;
}
