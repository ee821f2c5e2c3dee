/*
 * charset_pin.c - keeps glibc's converter for each charset a message
 * names loaded (see the header for why).
 */
#include "config.h"

#include <gmime/gmime.h>

#include "charset_pin.h"

static GMutex lock;
/* lower-cased name -> its open converter, or NULL when iconv knows none;
 * never freed: the point is to keep them */
static GHashTable *pinned;

/* TRUE when name is (now) pinned. */
static gboolean
pin_locked(const char *name)
{
	gpointer cd = NULL;
	iconv_t opened;

	if (name == NULL || name[0] == '\0')
		return FALSE;
	if (g_hash_table_lookup_extended(pinned, name, NULL, &cd))
		return cd != NULL;
	/* the same name mapping (g_mime_charset_iconv_name) as GMime's own
	 * opens, so the same module */
	opened = g_mime_iconv_open("UTF-8", name);
	if (opened != (iconv_t)-1) {
		g_hash_table_insert(pinned, g_strdup(name), opened);
		return TRUE;
	}
	/* unknown names only while few: they must not crowd out known ones */
	if (g_hash_table_size(pinned) < CHARSET_PIN_MAX)
		g_hash_table_insert(pinned, g_strdup(name), NULL);
	return FALSE;
}

static void
pin_begin(void)
{
	g_mutex_lock(&lock);
	if (pinned == NULL)
		pinned = g_hash_table_new(g_str_hash, g_str_equal);
}

gboolean
charset_pin_one(const char *name)
{
	gboolean known;

	pin_begin();
	known = pin_locked(name);
	g_mutex_unlock(&lock);
	return known;
}

void
charset_pin_list(const char *const *names)
{
	if (names == NULL)
		return;
	pin_begin();
	for (guint i = 0; names[i] != NULL; i++) {
		g_autofree char *lower = g_ascii_strdown(names[i], -1);

		pin_locked(lower);
	}
	g_mutex_unlock(&lock);
}
