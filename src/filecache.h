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
 * The contents of path, or NULL and *error set as g_file_get_contents
 * sets it (G_FILE_ERROR_NOENT for a missing file).  Files larger than
 * max_bytes fail with G_FILE_ERROR_FAILED.  Caller unrefs.
 */
GBytes *filecache_contents(const char *path, gsize max_bytes, GError **error);

/*
 * The value of [group] key in the key file at path, or NULL when the file
 * or the key is missing or the file is not a key file.  Caller frees.
 */
char *filecache_keyfile_string(const char *path, const char *group, const char *key);

/*
 * Makes a value from a file's contents (a parsed template, say); NULL
 * with *error set when the contents are not acceptable.
 */
typedef gpointer (*MdFileMake)(const char *path, GBytes *contents, GError **error);
/* Takes another reference to a value (g_atomic_rc_box_acquire, say). */
typedef gpointer (*MdFileRef)(gpointer value);

/*
 * The value make made of path's current contents, made again only when
 * the file changed; errors as filecache_contents(), or make's (never
 * kept).  The value is shared between threads: the cache holds one
 * reference (taken with ref, dropped with unref) and the caller gets one
 * of its own, which it drops with unref.
 */
gpointer filecache_derived(const char *path, gsize max_bytes, MdFileMake make,
                           MdFileRef ref, GDestroyNotify unref, GError **error);

/* Forgets everything (tests, and lmtpd's reload). */
void filecache_clear(void);

#endif
