/*
 * thread.c - the threading decision.  A subject tag alone is honoured only
 * for a sender who is already a participant, so guessing numbers cannot
 * put mail into somebody else's ticket.
 */
#include "config.h"

#include <string.h>

#include "thread.h"

MdThreadMatch
thread_match(const MdThreadFacts *facts, gint64 *ticket_r)
{
	*ticket_r = 0;
	if (facts->token_ticket > 0) {
		*ticket_r = facts->token_ticket;
		return THREAD_BY_TOKEN;
	}
	if (facts->ref_ticket > 0) {
		*ticket_r = facts->ref_ticket;
		return THREAD_BY_REFERENCES;
	}
	if (facts->tag_ticket > 0 && facts->tag_sender_is_participant) {
		*ticket_r = facts->tag_ticket;
		return THREAD_BY_TAG;
	}
	return THREAD_NEW;
}

MdThreadAction
thread_action(const char *status, gint64 closed_at, gint64 now, int reopen_days)
{
	if (strcmp(status, "solved") == 0)
		return THREAD_REOPEN;
	if (strcmp(status, "closed") == 0) {
		if (now - closed_at > (gint64)reopen_days * 86400)
			return THREAD_NEW_LINKED;
		return THREAD_REOPEN;
	}
	return THREAD_APPEND;
}

const char *
thread_status_after_customer(const char *status, MdThreadAction action)
{
	if (action == THREAD_REOPEN)
		return "open";
	if (action == THREAD_NEW_LINKED)
		return "new";
	/* the customer answered what we were waiting for */
	if (strcmp(status, "pending") == 0)
		return "open";
	return status;
}

const char *
thread_match_name(MdThreadMatch m)
{
	switch (m) {
	case THREAD_BY_TOKEN:
		return "token";
	case THREAD_BY_REFERENCES:
		return "references";
	case THREAD_BY_TAG:
		return "tag";
	case THREAD_NEW:
		break;
	}
	return "new";
}
