/*
 * i18n.c - phrase lookup in templates/LANG/strings.
 */
#include "config.h"

#include <string.h>

#include "filecache.h"
#include "i18n.h"

static char *
lookup(const char *dir, const char *lang, const char *group, const char *key)
{
	g_autofree char *path = NULL;
	char *value;

	if (strchr(lang, '/') != NULL || strchr(lang, '.') != NULL)
		return NULL;
	path = g_build_filename(dir, lang, "strings", NULL);
	value = filecache_keyfile_string(path, group, key);
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
