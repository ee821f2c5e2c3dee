/*
 * authres.c - the few parts of Authentication-Results we trust.
 *
 * Only the first header is ever passed in: our MTA adds its own on top
 * and should remove forged ones of its name, but a sender can always add
 * more below it.  A pass for another domain than the From domain proves
 * nothing about the agent, so the domain must match too.
 */
#include "config.h"

#include <string.h>

#include "authres.h"

/* value without (comments), which may nest; quoted strings kept */
static char *
strip_comments(const char *value)
{
	GString *out = g_string_new(NULL);
	int depth = 0;
	gboolean quoted = FALSE;

	for (const char *p = value; *p != '\0'; p++) {
		if (quoted) {
			if (*p == '\\' && p[1] != '\0')
				g_string_append_c(out, *p++);
			else if (*p == '"')
				quoted = FALSE;
			g_string_append_c(out, *p);
		} else if (depth > 0) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
		} else if (*p == '(') {
			depth++;
			g_string_append_c(out, ' ');
		} else {
			if (*p == '"')
				quoted = TRUE;
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

static char *
unquote(const char *v)
{
	gsize n = strlen(v);

	if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
		return g_strndup(v + 1, n - 2);
	return g_strdup(v);
}

static gboolean
resinfo_passes(const char *resinfo, const char *domain)
{
	g_auto(GStrv) words = g_strsplit_set(resinfo, " \t\r\n", -1);
	gboolean dkim_pass = FALSE, domain_ok = FALSE;
	guint seen = 0;

	for (guint i = 0; words[i] != NULL; i++) {
		const char *w = words[i];
		const char *eq = strchr(w, '=');
		g_autofree char *val = NULL;

		if (*w == '\0')
			continue;
		if (seen++ == 0) {
			dkim_pass = g_ascii_strcasecmp(w, "dkim=pass") == 0;
			if (!dkim_pass)
				return FALSE;
			continue;
		}
		if (eq == NULL)
			continue;
		val = unquote(eq + 1);
		if (g_ascii_strncasecmp(w, "header.d=", 9) == 0) {
			domain_ok = g_ascii_strcasecmp(val, domain) == 0;
		} else if (g_ascii_strncasecmp(w, "header.i=", 9) == 0) {
			const char *at = strrchr(val, '@');

			domain_ok = at != NULL && g_ascii_strcasecmp(at + 1, domain) == 0;
		}
		if (domain_ok)
			return TRUE;
	}
	return FALSE;
}

gboolean
authres_dkim_pass(const char *value, const char *authserv_id, const char *domain)
{
	g_autofree char *clean = NULL;
	g_auto(GStrv) parts = NULL;
	g_auto(GStrv) id = NULL;

	if (value == NULL || authserv_id == NULL || domain == NULL || *domain == '\0')
		return FALSE;
	clean = strip_comments(value);
	parts = g_strsplit(clean, ";", -1);
	if (parts[0] == NULL)
		return FALSE;
	/* authserv-id [version] */
	id = g_strsplit_set(g_strstrip(parts[0]), " \t", 2);
	if (id[0] == NULL || g_ascii_strcasecmp(id[0], authserv_id) != 0)
		return FALSE;
	for (guint i = 1; parts[i] != NULL; i++)
		if (resinfo_passes(g_strstrip(parts[i]), domain))
			return TRUE;
	return FALSE;
}
