/*
 * filecache.c - small files read again only when they change (see
 * filecache.h).
 */
#include "config.h"

#include <errno.h>
#include <sys/stat.h>

#include "filecache.h"

/* a bound on what a cache of templates should ever hold */
#define FILECACHE_MAX_ENTRIES 1024

typedef struct {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct timespec ctime;
	GBytes *contents;
	gpointer derived;  /* made by derived_make on first use */
	MdFileMake derived_make;
	GDestroyNotify derived_unref;
} Entry;

static GMutex lock;
static GHashTable *entries; /* path -> Entry* */

static void
entry_free(gpointer p)
{
	Entry *e = p;

	g_bytes_unref(e->contents);
	if (e->derived != NULL)
		e->derived_unref(e->derived);
	g_free(e);
}

static gboolean
same_file(const Entry *e, const struct stat *st)
{
	return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
	       e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       e->ctime.tv_sec == st->st_ctim.tv_sec && e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* The entry for path, current as of now; called with the lock held. */
static Entry *
lookup(const char *path, gsize max_bytes, GError **error)
{
	struct stat st;
	Entry *e;
	char *text = NULL;
	gsize len = 0;

	if (stat(path, &st) != 0) {
		int err = errno;

		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "%s", g_strerror(err));
		if (entries != NULL)
			g_hash_table_remove(entries, path);
		return NULL;
	}
	if (entries == NULL)
		entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, entry_free);
	e = g_hash_table_lookup(entries, path);
	if (e != NULL && same_file(e, &st))
		return e;
	if (S_ISREG(st.st_mode) && (gsize)st.st_size > max_bytes) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "larger than %" G_GSIZE_FORMAT " bytes",
		            max_bytes);
		return NULL;
	}
	if (!g_file_get_contents(path, &text, &len, error))
		return NULL;
	if (len > max_bytes) {
		/* it grew between stat and read */
		g_free(text);
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "larger than %" G_GSIZE_FORMAT " bytes",
		            max_bytes);
		return NULL;
	}
	if (g_hash_table_size(entries) >= FILECACHE_MAX_ENTRIES)
		g_hash_table_remove_all(entries);
	e = g_new0(Entry, 1);
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->size = st.st_size;
	e->mtime = st.st_mtim;
	e->ctime = st.st_ctim;
	e->contents = g_bytes_new_take(text, len);
	g_hash_table_replace(entries, g_strdup(path), e);
	return e;
}

gpointer
filecache_derived(const char *path, gsize max_bytes, MdFileMake make, MdFileRef ref,
                  GDestroyNotify unref, GError **error)
{
	gpointer value = NULL;
	Entry *e;

	g_mutex_lock(&lock);
	e = lookup(path, max_bytes, error);
	if (e != NULL && (e->derived == NULL || e->derived_make != make)) {
		gpointer made = make(path, e->contents, error);

		if (made != NULL) {
			if (e->derived != NULL)
				e->derived_unref(e->derived);
			e->derived = made;
			e->derived_make = make;
			e->derived_unref = unref;
		}
	}
	if (e != NULL && e->derived != NULL && e->derived_make == make)
		value = ref(e->derived);
	g_mutex_unlock(&lock);
	return value;
}
