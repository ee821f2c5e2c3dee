/*
 * subject.c - reply prefixes in the languages our customers write, and
 * our "[#123]" ticket tag.
 */
#include "config.h"

#include <string.h>

#include "subject.h"

/* Case-folded; each must be followed by an optional counter and a colon. */
static const char *const reply_prefixes[] = {
	"re", "fwd", "fw", "aw", "wg", "sv", "vs", "vb", "antw", "r", "i", "tr", "rif",
	"ответ", "отв", "пересл", "переслать", "atb", "pārs", "pars", NULL,
};

/* Those of reply_prefixes that forward a message rather than answer it. */
static const char *const forward_prefixes[] = {
	"fwd", "fw", "wg", "tr", "i", "vb", "пересл", "переслать", "pārs", "pars", NULL,
};

static const char *
skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* If p starts with a reply prefix and its colon, returns what follows;
 * *forward_r (unless NULL) tells whether the prefix was a forward's. */
static const char *
strip_one_prefix(const char *p, gboolean *forward_r)
{
	const char *colon = NULL;
	const char *q;
	g_autofree char *word = NULL;
	g_autofree char *folded = NULL;

	/* the word is the run of letters before [n], (n), ^n or the colon */
	for (q = p; *q != '\0'; q = g_utf8_next_char(q)) {
		gunichar c = g_utf8_get_char(q);

		if (!g_unichar_isalpha(c))
			break;
	}
	if (q == p || q - p > 40)
		return NULL;
	word = g_strndup(p, q - p);
	folded = g_utf8_casefold(word, -1);
	if (!g_strv_contains(reply_prefixes, folded))
		return NULL;
	if (*q == '[' || *q == '(') {
		char close = *q == '[' ? ']' : ')';
		const char *r = q + 1;

		while (g_ascii_isdigit(*r))
			r++;
		if (r == q + 1 || *r != close)
			return NULL;
		q = r + 1;
	} else if (*q == '^') {
		const char *r = q + 1;

		while (g_ascii_isdigit(*r))
			r++;
		if (r == q + 1)
			return NULL;
		q = r;
	}
	q = skip_space(q);
	if (*q == ':')
		colon = q + 1;
	else if (strncmp(q, "\xef\xbc\x9a", 3) == 0) /* full-width colon */
		colon = q + 3;
	if (colon != NULL && forward_r != NULL)
		*forward_r = g_strv_contains(forward_prefixes, folded);
	return colon;
}

/* Length of our tag at p ("[PREFIX123]"), 0 if none; the number in *n_r. */
static gsize
tag_at(const char *p, const char *prefix, gint64 *n_r)
{
	gsize plen = strlen(prefix);
	const char *q;
	gint64 n = 0;

	if (*p != '[' || g_ascii_strncasecmp(p + 1, prefix, plen) != 0)
		return 0;
	q = p + 1 + plen;
	if (!g_ascii_isdigit(*q))
		return 0;
	for (; g_ascii_isdigit(*q); q++) {
		if (n > G_MAXINT64 / 10 - 10)
			return 0;
		n = n * 10 + (*q - '0');
	}
	if (*q != ']')
		return 0;
	*n_r = n;
	return q + 1 - p;
}

gboolean
subject_find_tag(const char *subject, const char *tag_prefix, gint64 *ticket_r)
{
	if (subject == NULL)
		return FALSE;
	for (const char *p = strchr(subject, '['); p != NULL; p = strchr(p + 1, '['))
		if (tag_at(p, tag_prefix, ticket_r) > 0)
			return TRUE;
	return FALSE;
}

char *
subject_tag(const char *tag_prefix, gint64 ticket)
{
	return g_strdup_printf("[%s%" G_GINT64_FORMAT "]", tag_prefix, ticket);
}

gboolean
subject_is_forward(const char *subject, const char *tag_prefix)
{
	const char *p;

	if (subject == NULL)
		return FALSE;
	/* the leading run of prefixes and tags, as subject_normalize() reads it */
	p = skip_space(subject);
	for (;;) {
		gboolean forward = FALSE;
		const char *next = strip_one_prefix(p, &forward);
		gint64 n;
		gsize tlen;

		if (forward)
			return TRUE;
		if (next != NULL) {
			p = skip_space(next);
			continue;
		}
		tlen = tag_at(p, tag_prefix, &n);
		if (tlen == 0)
			return FALSE;
		p = skip_space(p + tlen);
	}
}

char *
subject_normalize(const char *subject, const char *tag_prefix)
{
	GString *out = g_string_new(NULL);
	const char *p;
	gboolean space = FALSE;

	if (subject == NULL)
		return g_string_free(out, FALSE);
	/* prefixes and tags may alternate: "Re: [#12] AW: Re: question" */
	p = skip_space(subject);
	for (;;) {
		const char *next = strip_one_prefix(p, NULL);
		gint64 n;
		gsize tlen;

		if (next != NULL) {
			p = skip_space(next);
			continue;
		}
		tlen = tag_at(p, tag_prefix, &n);
		if (tlen > 0) {
			p = skip_space(p + tlen);
			continue;
		}
		break;
	}
	while (*p != '\0') {
		gint64 n;
		gsize tlen = *p == '[' ? tag_at(p, tag_prefix, &n) : 0;

		if (tlen > 0) {
			p += tlen;
			space = TRUE;
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			space = TRUE;
			p++;
			continue;
		}
		if (space && out->len > 0)
			g_string_append_c(out, ' ');
		space = FALSE;
		g_string_append_c(out, *p);
		p++;
	}
	return g_string_free(out, FALSE);
}
