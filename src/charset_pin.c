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

static void
pin_locked(const char *name)
{
	iconv_t cd;

	if (name == NULL || name[0] == '\0' || g_hash_table_size(pinned) >= CHARSET_PIN_MAX ||
	    g_hash_table_contains(pinned, name))
		return;
	/* the same name mapping (g_mime_charset_iconv_name) as GMime's own
	 * opens, so the same module */
	cd = g_mime_iconv_open("UTF-8", name);
	g_hash_table_insert(pinned, g_strdup(name), cd != (iconv_t)-1 ? cd : NULL);
}

static void
pin_begin(void)
{
	g_mutex_lock(&lock);
	if (pinned == NULL)
		pinned = g_hash_table_new(g_str_hash, g_str_equal);
}

void
charset_pin(const GPtrArray *names)
{
	if (names == NULL || names->len == 0)
		return;
	pin_begin();
	for (guint i = 0; i < names->len; i++)
		pin_locked(g_ptr_array_index(names, i));
	g_mutex_unlock(&lock);
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
