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
 * TRUE when msg asks for the status of the sender's tickets: the new body
 * text (quotes and signature cut) is only the word "status" (or the
 * Russian or Latvian word, any case, a trailing "?" or "." allowed), or
 * the subject is only that word (Re: and our tag removed) and the body
 * has nothing else.  A subject "Status" over a real question is a
 * question: it must open a ticket, never be answered with a list.
 */
gboolean request_is_status(const MdMessage *msg, const char *tag_prefix);

#endif
