/*
 * i18n.h - short phrases in the customer's language (status words), read
 * from templates/LANG/strings, a key file translators edit like any
 * template.
 */
#ifndef MD_I18N_H
#define MD_I18N_H

#include <glib.h>

/*
 * The phrase [group] key of templates_dir/lang/strings, else of
 * templates_dir/en/strings, else a copy of key.  Caller frees with g_free().
 */
char *i18n_text(const char *templates_dir, const char *lang, const char *group, const char *key);

#endif
