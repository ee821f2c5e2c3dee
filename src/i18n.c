/*
 * i18n.c - phrase lookup in templates/LANG/strings.
 */
#include "config.h"

#include <string.h>

#include "filecache.h"
#include "i18n.h"

/* filecache's MdFileMake: a phrase file, parsed */
static gpointer
parse_strings(const char *path, GBytes *contents, GError **error)
{
	gsize len;
	const char *data = g_bytes_get_data(contents, &len);
	GKeyFile *kf = g_key_file_new();

	(void)path;
	if (!g_key_file_load_from_data(kf, data != NULL ? data : "", len, G_KEY_FILE_NONE, error)) {
		g_key_file_unref(kf);
		return NULL;
	}
	return kf;
}

static gpointer
keyfile_ref(gpointer kf)
{
	return g_key_file_ref(kf);
}

static void
keyfile_unref(gpointer kf)
{
	g_key_file_unref(kf);
}

static char *
lookup(const char *dir, const char *lang, const char *group, const char *key)
{
	g_autofree char *path = NULL;
	g_autoptr(GKeyFile) kf = NULL;
	char *value;

	if (strchr(lang, '/') != NULL || strchr(lang, '.') != NULL)
		return NULL;
	path = g_build_filename(dir, lang, "strings", NULL);
	/* read once per change: lmtpd looks up phrases for every message */
	kf = filecache_derived(path, G_MAXSIZE, parse_strings, keyfile_ref, keyfile_unref, NULL);
	if (kf == NULL)
		return NULL;
	value = g_key_file_get_string(kf, group, key, NULL);
	return value ? g_strstrip(value) : NULL;
}

char *
i18n_text(const char *templates_dir, const char *lang, const char *group, const char *key)
{
	char *text = lang ? lookup(templates_dir, lang, group, key) : NULL;

	if (text == NULL)
		text = lookup(templates_dir, "en", group, key);
	return text ? text : g_strdup(key);
}
