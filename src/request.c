/*
 * request.c - recognises a "status" question, and every mail that only
 * looks like one: whatever carries more than the word (an attachment,
 * quoted or forwarded history, a reply to our mail) is a ticket's.  A
 * doubtful mail opens a ticket, since a list answering it loses it.
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

/* The text with LF line ends and without whitespace at either end, to
 * compare with what quote_strip() keeps of it. */
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

/* TRUE when msg carries, names or forwards more than its own few words
 * (its text and HTML aside). */
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
	return FALSE;
}

/* TRUE when an HTML part beside a plain text the client wrote itself may
 * hold a quote that the plain text does not show. */
static gboolean
html_quotes(const MdMessage *msg)
{
	g_autofree char *lower = NULL;

	if (msg->html == NULL || msg->text_from_html)
		return FALSE;
	if (strlen(msg->html) > REQUEST_MAX_TEXT)
		return TRUE;
	lower = g_ascii_strdown(msg->html, -1);
	return strstr(lower, "<blockquote") != NULL;
}

/* The first line of text that is not blank, or "". */
static char *
first_words(const char *text)
{
	const char *p = text;

	for (;;) {
		const char *end = strchr(p, '\n');
		g_autofree char *line = end != NULL ? g_strndup(p, end - p) : g_strdup(p);

		if (*g_strstrip(line) != '\0' || end == NULL)
			return g_steal_pointer(&line);
		p = end + 1;
	}
}

gboolean
request_is_status(const MdMessage *msg, const char *tag_prefix, const char *own_domain)
{
	g_autofree char *first = NULL;
	g_autofree char *body = NULL;
	g_autofree char *subject = NULL;

	/* a word and a signature at most: never read a large text twice */
	if (strlen(msg->text) > REQUEST_MAX_TEXT)
		return FALSE;
	/* the word opens the text, or the text is empty and the subject is
	 * the word: most mail is told apart here, before any quote is looked for */
	first = first_words(msg->text);
	subject = subject_normalize(msg->subject, tag_prefix);
	if (!is_status_word(first) && !(*first == '\0' || is_status_word(subject)))
		return FALSE;
	if (carries_more(msg, tag_prefix, own_domain))
		return FALSE;
	if ((body = words_without_history(msg->text)) == NULL)
		return FALSE;
	if (!is_status_word(body) && !(*body == '\0' && is_status_word(subject)))
		return FALSE;
	return !html_quotes(msg);
}
