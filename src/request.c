/*
 * request.c - recognises a "status" question.
 */
#include "config.h"

#include <string.h>

#include "quote.h"
#include "request.h"
#include "subject.h"

#define REQUEST_MAX_TEXT (64 * 1024)

static const char *const status_words[] = { "status", "статус", "statuss", "stāvoklis", NULL };

/* longer than any status word even after case folding (bytes) */
#define STATUS_WORD_MAX_BYTES 64

static gboolean
is_status_word(const char *text)
{
	g_autofree char *s = g_strdup(text != NULL ? text : "");
	g_autofree char *folded = NULL;
	gsize n;

	g_strstrip(s);
	n = strlen(s);
	while (n > 0 && (s[n - 1] == '?' || s[n - 1] == '.' || s[n - 1] == '!' ||
	                 g_ascii_isspace(s[n - 1])))
		s[--n] = '\0';
	/* most mail is a question, not a word: no need to fold all of it */
	if (n > STATUS_WORD_MAX_BYTES)
		return FALSE;
	folded = g_utf8_casefold(s, -1);
	for (guint i = 0; status_words[i] != NULL; i++) {
		g_autofree char *w = g_utf8_casefold(status_words[i], -1);

		if (strcmp(folded, w) == 0)
			return TRUE;
	}
	return FALSE;
}

gboolean
request_is_status(const MdMessage *msg, const char *tag_prefix)
{
	g_autofree char *body = NULL;
	g_autofree char *subject = NULL;

	/* a word and a short quote at most: never read a large text twice */
	if (strlen(msg->text) > REQUEST_MAX_TEXT)
		return FALSE;
	body = quote_strip(msg->text);
	subject = subject_normalize(msg->subject, tag_prefix);
	g_strstrip(body);
	if (is_status_word(body))
		return TRUE;
	return *body == '\0' && is_status_word(subject);
}
