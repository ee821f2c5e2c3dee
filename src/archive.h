/*
 * archive.h - past mail on disk, for `maildesk import`: an mbox file or a
 * Maildir (its cur/ and new/).  Finds the messages and their dates, and
 * reads each one back as the bytes it was, without the mbox From_ line.
 *
 * Never writes, never touches the database: cmd_import.c hands each
 * message to the intake pipeline.  An mbox is streamed with GMime's
 * parser (GMIME_FORMAT_MBOX), never read into memory whole; what is kept
 * per message is an offset, a length and a date.
 */
#ifndef MD_ARCHIVE_H
#define MD_ARCHIVE_H

#include <glib.h>

#include "status.h"

typedef enum { ARCHIVE_MBOX, ARCHIVE_MAILDIR } MdArchiveKind;

typedef struct {
	guint source;  /* which archive (index of the caller's list) */
	char *file;    /* Maildir: the message's file; NULL in an mbox */
	gint64 offset; /* mbox: where the message starts, after its From_ line */
	gint64 length; /* its bytes; an mbox's separating blank line not counted */
	gint64 when;   /* UTC seconds: Date header, else From_ line, else mtime */
	guint seq;     /* order found: ties of when keep it */
} MdArchiveItem;

/*
 * What path is.  MD_NOTFOUND when it cannot be read, MD_DATAERR when it
 * is neither an mbox (a file starting "From ", or empty) nor a Maildir (a
 * directory with cur/ and new/); *error_r (caller frees) says why.
 */
MdStatus archive_probe(const char *path, MdArchiveKind *kind_r, char **error_r);

/*
 * Appends the messages of path to items (GArray of MdArchiveItem; clear
 * them with archive_item_clear), tagged with source.  MD_NOTFOUND or
 * MD_DATAERR with *error_r as archive_probe.
 */
MdStatus archive_scan(const char *path, MdArchiveKind kind, guint source, GArray *items,
                      char **error_r);

void archive_item_clear(MdArchiveItem *item);

/* Oldest first (so replies follow what they answer), ties in archive order. */
void archive_sort(GArray *items);

/*
 * Reads one message of path (an mbox) or item->file.  MD_OK with *raw_r
 * (caller unrefs) and *too_big_r FALSE; MD_OK with *too_big_r when it is
 * over limit bytes (nothing read); MD_TEMPFAIL when it cannot be read now
 * (a Maildir file moved by a mail client, an I/O error), with *error_r.
 */
MdStatus archive_read(const char *path, const MdArchiveItem *item, gint64 limit,
                      GByteArray **raw_r, gboolean *too_big_r, char **error_r);

#endif
