/*
 * i18n.c - phrase lookup in templates/LANG/strings.
 */
#include "config.h"

#include <string.h>

#include "i18n.h"

static char *
lookup(const char *dir, const char *lang, const char *group, const char *key)
{
	g_autofree char *path = g_build_filename(dir, lang, "strings", NULL);
	g_autoptr(GKeyFile) kf = g_key_file_new();
	char *value;

	if (strchr(lang, '/') != NULL || strchr(lang, '.') != NULL)
		return NULL;
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
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
