/*
 * request.h - mail that asks something without being a question for a
 * ticket.  Today one kind: a customer writing just "status" to a support
 * address gets the list of their open tickets instead of a new ticket.
 * Pure.
 */
#ifndef MD_REQUEST_H
#define MD_REQUEST_H

#include <glib.h>

#include "message.h"

/*
 * TRUE when msg asks for the status of the sender's tickets: its body text
 * is only the word "status" (or the Russian or Latvian word, any case, a
 * trailing "?" or "." allowed), a signature below it allowed, or the body
 * is empty (a signature allowed) and the subject is only that word (Re:
 * and our tag removed).  A subject "Status" over a real question is a
 * question: it must open a ticket, never be answered with a list.  So is
 * anything that carries more than the word: an attachment of any kind
 * (attached mail, files, inline images), a quote, attribution, forwarded
 * or original message anywhere in the text, a forward's subject prefix
 * (Fwd:, WG:, Пересл:…), HTML with a blockquote, a delivery report, mail
 * that could not be parsed, and a reply to one of our messages (an
 * In-Reply-To or References id ending in "@" own_domain, the site's
 * host name).
 */
gboolean request_is_status(const MdMessage *msg, const char *tag_prefix, const char *own_domain);

#endif
