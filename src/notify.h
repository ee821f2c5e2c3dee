/*
 * notify.h - the mail maildesk writes about a ticket to its people:
 * agents (assigned, waiting, customer replied, note, refused, unverified,
 * a mail the relay refused for good) and customers (an agent's reply,
 * status notices).  Each call queues through outmail.c in the caller's
 * transaction.
 */
#ifndef MD_NOTIFY_H
#define MD_NOTIFY_H

#include <json-glib/json-glib.h>

#include "conf.h"
#include "intake.h"
#include "store.h"

typedef struct {
	const char *name;    /* who wrote the text passed on, or NULL */
	const char *address;
	const char *text;    /* the new text, quotes removed, or NULL */
} MdPassedOn;

/*
 * Queues agent-TEMPLATE to agent about t.  reasons (strings, may be NULL)
 * fills the "reasons" list of agent-refused.
 */
MdStatus notify_agent(const MdIntake *in, const MdTicket *t, const MdAgent *agent,
                      const char *template, const MdPassedOn *what, GPtrArray *reasons,
                      gint64 now, char **error_r);

/* The same with more template context: extra's members (copied) are added. */
MdStatus notify_agent_with(const MdIntake *in, const MdTicket *t, const MdAgent *agent,
                           const char *template, const MdPassedOn *what, GPtrArray *reasons,
                           JsonObject *extra, gint64 now, char **error_r);

/* The agent's UTC offset in minutes at the instant at (0: UTC). */
int notify_agent_offset(const MdAgent *agent, gint64 at);

/*
 * Queues a customer mail about t (template "reply" or "status-*"): to the
 * ticket's customer, and for a reply also in Cc to the other people on
 * the ticket's customer side (never an agent or one of our addresses).
 * from_agent (may be NULL) signs a reply "Name via Site".
 */
MdStatus notify_customer(const MdIntake *in, const MdTicket *t, const char *template,
                         const MdAgent *from_agent, const char *text, GPtrArray *attachments,
                         gint64 now, char **withheld_r, char **error_r);

/* The same with more template context: extra's members (copied) are added. */
MdStatus notify_customer_with(const MdIntake *in, const MdTicket *t, const char *template,
                              const MdAgent *from_agent, const char *text,
                              GPtrArray *attachments, JsonObject *extra, gint64 now,
                              char **withheld_r, char **error_r);

/*
 * What to pass on when a ticket reaches an agent later on: its customer
 * and their latest words (quotes cut).  what->text points into *text_r,
 * which the caller frees.
 */
MdStatus notify_customer_news(const MdIntake *in, const MdTicket *t, MdPassedOn *what,
                              char **text_r);

/*
 * The new words of a customer's text for an agent's mail: quotes cut,
 * and bounded (the first 256 KiB are read, 64 KiB passed on) so that a
 * huge message costs no more than a small one; the whole text stays on
 * the ticket.  Caller frees.
 */
char *notify_excerpt(const char *text);

/*
 * Whether one more mail of outbox kind may go out about t within the
 * hour ([limits] ticket_mails_per_hour): two autoresponders that ignore
 * RFC 3834, one an agent's, would otherwise bounce mail through the
 * ticket for ever.  When not, the ticket is flagged and an event
 * "mail-limit" names the kind.
 */
MdStatus notify_within_limit(const MdIntake *in, const MdTicket *t, const char *kind, gint64 now,
                             gboolean *ok_r);

/* One recipient the relay refused for good. */
typedef struct {
	const char *to;
	const char *answer; /* the relay's answer (or why we gave up), printable */
} MdFailedRcpt;

/* A mail of ours that failed for good, as an agent is told of it. */
typedef struct {
	const char *kind;     /* its outbox kind: ack, reply, notice, ... */
	const char *subject;  /* decoded, or NULL */
	gint64 queued;        /* when it was written */
	int attempts;
	gboolean gave_up;     /* refused for now until give_up_after, not 5xx */
	GPtrArray *failed;    /* MdFailedRcpt*, at least one */
} MdFailedMail;

/*
 * Whether a failed mail of outbox kind to these recipients calls for an
 * agent notice: never when it was itself mail to an agent or a lead
 * (kind "agent-*", or a recipient who is one of our people or
 * addresses), so a refused notice never begets another.
 */
gboolean notify_failure_wanted(const MdConfig *cfg, const char *kind, const GPtrArray *failed);

/* Adds to addrs (const char*, once each, any case) the addresses of q's
 * leads: its agents with lead = yes, then its lead address. */
void notify_queue_leads(const MdConfig *cfg, const MdQueue *q, GPtrArray *addrs);

/* Adds to addrs (the same way) every agent serving q. */
void notify_queue_agents(const MdConfig *cfg, const MdQueue *q, GPtrArray *addrs);

/*
 * The agent at addr; else spare, filled in as a stand-in for a queue's
 * lead address that is no agent's (written to all the same, in the
 * site's language and UTC).  Points into addr and spare.
 */
const MdAgent *notify_person(const MdConfig *cfg, const char *addr, MdAgent *spare);

/*
 * Who is told of a failed mail about t: its assignee when that is an
 * agent; else the queue's lead address and its lead agents; else every
 * agent of the queue.  Addresses (owned by cfg), each once; may be empty.
 * Caller unrefs.
 */
GPtrArray *notify_failure_recipients(const MdConfig *cfg, const MdTicket *t);

/*
 * Queues agent-delivery-failed about f to each of
 * notify_failure_recipients(), in the caller's transaction.  A broken
 * template is logged and skipped (MD_OK): the failure itself stays
 * recorded.  MD_TEMPFAIL for the store.
 */
MdStatus notify_delivery_failed(const MdIntake *in, const MdTicket *t, const MdFailedMail *f,
                                gint64 now, char **error_r);

/* The language of mail to agent: theirs, else the queue's, else the site's. */
const char *notify_agent_language(const MdConfig *cfg, const MdAgent *agent, const MdQueue *q);

/* The queue of t from the config; the first queue when it has gone. */
const MdQueue *notify_ticket_queue(const MdConfig *cfg, const MdTicket *t);

#endif
