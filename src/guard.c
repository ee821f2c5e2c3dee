/*
 * guard.c - loop and noise guards (RFC 3834, and what autoresponders and
 * mailing lists really send).
 */
#include "config.h"

#include <string.h>

#include "guard.h"
#include "tnef.h"

/* Mailboxes no person reads: answering them only feeds loops. */
static gboolean
is_daemon_address(const char *addr)
{
	static const char *const robots[] = {
		"mailer-daemon", "postmaster", "no-reply", "noreply", "do-not-reply", "donotreply",
	};
	const char *at;
	gsize n;

	if (addr == NULL)
		return FALSE;
	at = strchr(addr, '@');
	n = at ? (gsize)(at - addr) : strlen(addr);
	for (unsigned i = 0; i < G_N_ELEMENTS(robots); i++)
		if (n == strlen(robots[i]) && g_ascii_strncasecmp(addr, robots[i], n) == 0)
			return TRUE;
	return FALSE;
}

/*
 * Autoresponders that set no RFC 3834 header still say what they are in
 * the subject (Exchange "Automatic reply:", Apple "Auto reply:", ...).
 */
static gboolean
autoreply_subject(const char *subject)
{
	static const char *const starts[] = {
		"automatic reply:", "auto reply:", "autoreply:", "auto-reply:", "out of office",
		"abwesenheitsnotiz", "automatische antwort", "автоответ", "автоматический ответ",
		"automātiskā atbilde", "automātiska atbilde",
	};
	g_autofree char *folded = NULL;

	if (subject == NULL)
		return FALSE;
	while (*subject == ' ' || *subject == '\t')
		subject++;
	folded = g_utf8_casefold(subject, -1);
	for (unsigned i = 0; i < G_N_ELEMENTS(starts); i++)
		if (g_str_has_prefix(folded, starts[i]))
			return TRUE;
	return FALSE;
}

static gboolean
is_null_sender(const char *addr)
{
	return addr != NULL && (*addr == '\0' || strcmp(addr, "<>") == 0);
}

/* Value up to the first ';' or space, compared case-insensitively. */
static gboolean
value_is(const char *value, const char *word)
{
	gsize n = strlen(word);

	return g_ascii_strncasecmp(value, word, n) == 0 &&
	       (value[n] == '\0' || value[n] == ';' || value[n] == ' ' || value[n] == '\t');
}

gboolean
guard_is_bounce(const MdMessage *msg, const char *env_sender)
{
	if (msg->is_report && msg->report_type != NULL &&
	    g_ascii_strcasecmp(msg->report_type, "delivery-status") == 0)
		return TRUE;
	if (is_null_sender(env_sender) && msg->from != NULL && is_daemon_address(msg->from->addr))
		return TRUE;
	return FALSE;
}

/*
 * A receipt written as a plain mail (Outlook and Exchange when they cannot
 * send TNEF or a report, Lotus Notes' "Return Receipt"): the subject
 * starts as receipts' do AND the text says what receipts say.  Either
 * alone is a person's words ("Read: chapter 2").
 */
static gboolean
receipt_in_words(const MdMessage *msg)
{
	static const char *const subjects[] = {
		"read:", "not read:", "return receipt", "read receipt", "прочитано:",
		"не прочитано:", "прочитано -", "gelesen:", "ungelesen:", "lu :", "lu:",
		"non lu :", "leído:", "no leído:", "letto:", "izlasīts:", "nav izlasīts:",
		"gelezen:", "läst:", "przeczytane:", "lido:",
	};
	static const char *const phrases[] = {
		"was read on", "was read at", "was deleted without being read", "was received by",
		"was displayed", "прочитано", "было прочитано", "был прочитан", "wurde am",
		"gelesen", "a été lu", "fue leído", "è stato letto", "tika izlasīts", "izlasīts",
		"is gelezen", "lästes", "zostala przeczytana", "została przeczytana",
	};
	g_autofree char *subject = NULL;
	g_autofree char *text = NULL;
	gboolean prefix = FALSE;

	if (msg->subject == NULL || msg->text == NULL)
		return FALSE;
	subject = g_utf8_casefold(msg->subject, -1);
	g_strchug(subject);
	for (unsigned i = 0; i < G_N_ELEMENTS(subjects) && !prefix; i++)
		prefix = g_str_has_prefix(subject, subjects[i]);
	if (!prefix)
		return FALSE;
	/* a receipt says it at once; a person's long mail is not one */
	if (strlen(msg->text) > 4096)
		return FALSE;
	text = g_utf8_casefold(msg->text, -1);
	for (unsigned i = 0; i < G_N_ELEMENTS(phrases); i++)
		if (strstr(text, phrases[i]) != NULL)
			return TRUE;
	return FALSE;
}

gboolean
guard_is_receipt(const MdMessage *msg)
{
	return msg->has_mdn || tnef_class_is_report(msg->tnef_class) ||
	       (msg->is_report && msg->report_type != NULL &&
	        g_ascii_strcasecmp(msg->report_type, "disposition-notification") == 0) ||
	       receipt_in_words(msg);
}

const MdAddress *
guard_reply_address(const MdMessage *msg)
{
	if (msg->reply_to != NULL && msg->reply_to->addr != NULL && strchr(msg->reply_to->addr, '@'))
		return msg->reply_to;
	if (msg->from != NULL && msg->from->addr != NULL && strchr(msg->from->addr, '@'))
		return msg->from;
	return NULL;
}

guint
guard_check(const MdMessage *msg, const char *env_sender, gboolean own_mail)
{
	guint r = 0;
	const MdAddress *to = guard_reply_address(msg);

	/* without an envelope (a manual deliver) the Return-Path header tells */
	if (is_null_sender(env_sender) || (env_sender == NULL && is_null_sender(msg->return_path)))
		r |= GUARD_NULL_SENDER;
	if (is_daemon_address(env_sender) || (msg->from && is_daemon_address(msg->from->addr)) ||
	    (to && is_daemon_address(to->addr)))
		r |= GUARD_DAEMON;
	if (msg->auto_submitted != NULL && !value_is(msg->auto_submitted, "no"))
		r |= GUARD_AUTO_SUBMITTED;
	if (msg->precedence != NULL &&
	    (value_is(msg->precedence, "bulk") || value_is(msg->precedence, "junk") ||
	     value_is(msg->precedence, "list")))
		r |= GUARD_PRECEDENCE;
	if (msg->list_id != NULL)
		r |= GUARD_LIST;
	if (msg->x_autoreply || autoreply_subject(msg->subject))
		r |= GUARD_AUTOREPLY;
	if (own_mail)
		r |= GUARD_OWN_MAIL;
	/* delivery, disposition and feedback reports are all machine mail */
	if (guard_is_bounce(msg, env_sender) || msg->is_report)
		r |= GUARD_BOUNCE;
	if (guard_is_receipt(msg))
		r |= GUARD_RECEIPT;
	if (to == NULL)
		r |= GUARD_NO_ADDRESS;
	if (msg->auto_response_suppress != NULL &&
	    (strstr(msg->auto_response_suppress, "All") != NULL ||
	     strstr(msg->auto_response_suppress, "AutoReply") != NULL))
		r |= GUARD_SUPPRESS;
	return r;
}

char *
guard_describe(guint reasons)
{
	static const struct {
		guint bit;
		const char *name;
	} names[] = {
		{ GUARD_NULL_SENDER, "null-sender" }, { GUARD_DAEMON, "mailer-daemon" },
		{ GUARD_AUTO_SUBMITTED, "auto-submitted" }, { GUARD_PRECEDENCE, "precedence" },
		{ GUARD_LIST, "list" }, { GUARD_AUTOREPLY, "autoreply" },
		{ GUARD_OWN_MAIL, "own-mail" }, { GUARD_BOUNCE, "bounce" },
		{ GUARD_NO_ADDRESS, "no-address" }, { GUARD_SUPPRESS, "suppress" },
		{ GUARD_RATE, "rate-limit" }, { GUARD_RECEIPT, "receipt" },
	};
	GString *out = g_string_new(NULL);

	for (unsigned i = 0; i < G_N_ELEMENTS(names); i++)
		if (reasons & names[i].bit)
			g_string_append_printf(out, "%s%s", out->len ? "," : "", names[i].name);
	return g_string_free(out, FALSE);
}
