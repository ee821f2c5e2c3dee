/*
 * filecache.h - small files a long-running process reads for every
 * message (templates, phrase files), read again only when they change.
 *
 * lmtpd renders an acknowledgement for most messages it takes; opening,
 * reading and parsing the same three files each time was a tenth of its
 * writer's time.  A file counts as changed when its inode, size, mtime or
 * ctime differ, so an edited template still applies to the next mail
 * without a reload, as it does for deliver.  Safe from any thread.
 */
#ifndef MD_FILECACHE_H
#define MD_FILECACHE_H

#include <glib.h>

/*
 * Makes a value from a file's contents (a parsed template, say); NULL
 * with *error set when the contents are not acceptable.
 */
typedef gpointer (*MdFileMake)(const char *path, GBytes *contents, GError **error);
/* Takes another reference to a value (g_atomic_rc_box_acquire, say). */
typedef gpointer (*MdFileRef)(gpointer value);

/*
 * The value make made of path's current contents, made again only when
 * the file changed.  NULL with *error set: G_FILE_ERROR as
 * g_file_get_contents() sets it (G_FILE_ERROR_NOENT for a missing file,
 * G_FILE_ERROR_FAILED for one larger than max_bytes), or make's error
 * (never kept).  The value is shared between threads: the cache keeps
 * what make returned (and unrefs it when the file changes), and the
 * caller gets a reference of its own (ref), which it drops with unref.
 */
gpointer filecache_derived(const char *path, gsize max_bytes, MdFileMake make,
                           MdFileRef ref, GDestroyNotify unref, GError **error);

#endif
