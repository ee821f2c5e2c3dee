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

/* The text with LF line ends and its last line's trailing whitespace and
 * the blank lines around it trimmed, as quote_strip() leaves what it keeps. */
static char *
trimmed(const char *text)
{
	g_autofree char *lf = NULL;
	g_auto(GStrv) lines = g_strsplit(text, "\r\n", -1);

	lf = g_strjoinv("\n", lines);
	g_strdelimit(lf, "\r", '\n');
	return g_strstrip(g_strdup(lf));
}

/* TRUE when quote_strip() finds nothing to cut in text: no quote, no
 * attribution, no forwarded or original message, no signature. */
static gboolean
nothing_quoted(const char *text)
{
	g_autofree char *kept = quote_strip(text);
	g_autofree char *all = trimmed(text);

	g_strstrip(kept);
	return strcmp(kept, all) == 0;
}

/*
 * The new words of body when it holds nothing else but a signature: its
 * lines above the first signature line ("-- "), unless anything of the
 * body, signature included, is a quote or the start of a forwarded or
 * original message.  NULL when it holds such a history.
 */
static char *
words_without_history(const char *body)
{
	g_auto(GStrv) lines = g_strsplit(body, "\n", -1);
	g_autofree char *head = NULL;
	g_autofree char *tail = NULL;
	guint cut = 0;

	while (lines[cut] != NULL) {
		g_autofree char *line = g_strchomp(g_strdup(lines[cut]));

		if (strcmp(line, "--") == 0)
			break;
		cut++;
	}
	if (lines[cut] != NULL) {
		char *sig = lines[cut];

		tail = g_strjoinv("\n", lines + cut + 1);
		/* the lines above it, without a copy of each */
		lines[cut] = NULL;
		head = g_strjoinv("\n", lines);
		lines[cut] = sig;
	} else {
		tail = g_strdup("");
		head = g_strjoinv("\n", lines);
	}
	if (!nothing_quoted(head) || !nothing_quoted(tail))
		return NULL;
	return trimmed(head);
}

/* TRUE when id (without brackets) is a Message-ID we wrote: ours end in
 * "@" and the site's host name (outmail.c). */
static gboolean
is_our_id(const char *id, const char *own_domain)
{
	const char *at = id != NULL ? strrchr(id, '@') : NULL;

	return at != NULL && own_domain != NULL && *own_domain != '\0' &&
	       g_ascii_strcasecmp(at + 1, own_domain) == 0;
}

/* TRUE when msg carries, names or forwards more than its own few words. */
static gboolean
carries_more(const MdMessage *msg, const char *tag_prefix, const char *own_domain)
{
	/* attachments of any kind, inline images and attached mail alike */
	if (msg->attachments->len > 0 || msg->is_report || msg->parse_failed)
		return TRUE;
	if (subject_is_forward(msg->subject, tag_prefix))
		return TRUE;
	/* a reply to our mail: threading's, and no question of a list */
	if (is_our_id(msg->in_reply_to, own_domain))
		return TRUE;
	for (guint i = 0; i < msg->references->len; i++)
		if (is_our_id(msg->references->pdata[i], own_domain))
			return TRUE;
	/* HTML beside a plain text the client wrote itself: a quote may be
	 * only there */
	if (msg->html != NULL && !msg->text_from_html) {
		g_autofree char *lower = NULL;

		if (strlen(msg->html) > REQUEST_MAX_TEXT)
			return TRUE;
		lower = g_ascii_strdown(msg->html, -1);
		if (strstr(lower, "<blockquote") != NULL)
			return TRUE;
	}
	return FALSE;
}

gboolean
request_is_status(const MdMessage *msg, const char *tag_prefix, const char *own_domain)
{
	g_autofree char *body = NULL;
	g_autofree char *subject = NULL;

	/* a word and a signature at most: never read a large text twice */
	if (strlen(msg->text) > REQUEST_MAX_TEXT)
		return FALSE;
	if (carries_more(msg, tag_prefix, own_domain))
		return FALSE;
	if ((body = words_without_history(msg->text)) == NULL)
		return FALSE;
	if (is_status_word(body))
		return TRUE;
	subject = subject_normalize(msg->subject, tag_prefix);
	return *body == '\0' && is_status_word(subject);
}
