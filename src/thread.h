/*
 * thread.h - which ticket a message belongs to (DESIGN.md "Threading, in
 * this order").  Pure: intake gathers the facts from the store and the
 * message; these functions only decide.
 */
#ifndef MD_THREAD_H
#define MD_THREAD_H

#include <glib.h>

typedef struct {
	gint64 token_ticket;    /* ticket of a verified recipient token, 0 if none */
	gint64 ref_ticket;      /* ticket of a Message-ID named in In-Reply-To/References */
	gint64 tag_ticket;      /* ticket named by our subject tag, 0 if none */
	gboolean tag_sender_is_participant; /* sender already on tag_ticket */
} MdThreadFacts;

typedef enum {
	THREAD_NEW,        /* nothing matched: a new ticket */
	THREAD_BY_TOKEN,
	THREAD_BY_REFERENCES,
	THREAD_BY_TAG,
} MdThreadMatch;

typedef enum {
	THREAD_APPEND,     /* add to the ticket as it is */
	THREAD_REOPEN,     /* add and reopen (was solved, or closed recently) */
	THREAD_NEW_LINKED, /* closed too long ago: new ticket linking the old */
} MdThreadAction;

/* Picks the ticket by token, then references, then tag (participants only). */
MdThreadMatch thread_match(const MdThreadFacts *facts, gint64 *ticket_r);

/*
 * What a customer message does to an existing ticket in status (new, open,
 * pending, on-hold, solved, closed), closed at closed_at (UTC seconds),
 * at now, when closed tickets reopen only within reopen_days.
 */
MdThreadAction thread_action(const char *status, gint64 closed_at, gint64 now, int reopen_days);

/* The status a ticket takes after a customer message under action. */
const char *thread_status_after_customer(const char *status, MdThreadAction action);

const char *thread_match_name(MdThreadMatch m);

#endif
