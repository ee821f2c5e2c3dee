/*
 * outmail.h - every mail maildesk writes, customer or agent: a template
 * rendered with the ticket's context, composed, stored as an outgoing
 * message of its ticket and queued in the outbox, all inside the caller's
 * transaction (stage "outbox" of the pipeline; nothing is sent here).
 *
 * Who may read a mail is fixed by its audience.  Agent mail (notifications,
 * notes, refusals) is stored with audience "agents", is threaded under the
 * ticket's own agent thread, and may only use templates named "agent-*";
 * customer mail may use no such template.  So no text written for agents
 * can be rendered into a mail to a customer by mistake.
 */
#ifndef MD_OUTMAIL_H
#define MD_OUTMAIL_H

#include <json-glib/json-glib.h>

#include "conf.h"
#include "intake.h"
#include "store.h"
#include "token.h"

typedef struct {
	const char *template;     /* templates/LANG/NAME */
	const char *outbox_kind;  /* ack, reply, notice, status-list, agent-... */
	const char *message_kind; /* messages.kind: system (NULL) or reply */
	gboolean to_agents;       /* audience agents, see above */
	const MdQueue *queue;     /* whose address the mail comes from */
	const char *language;
	const char *to_name, *to_addr;
	const char *const *cc;    /* more customer-side recipients, or NULL */
	const char *from_name;    /* NULL: the site name */
	const char *auto_submitted; /* "auto-replied", "auto-generated" or NULL
	                             * (a person's words, e.g. an agent's reply) */
	gboolean count_autoreply; /* counts against the hourly limit of to_addr */
	GPtrArray *attachments;   /* GBytes* MIME entities, or NULL */
	/* customer mail: threading taken from the ticket's stored messages
	 * unless given here (without brackets; references NULL-terminated) */
	const char *in_reply_to;
	const char *const *references;
} MdOutMail;

/*
 * The context every template gets: ticket.*, customer.*, support.*,
 * reply.address, site.name; agent mail gets reply.address and
 * note.address from outmail_queue(), issued to its recipient.  ETA and
 * status words in language; the ETA in the UTC offset tz_minutes.
 * t may be NULL (mail about no single ticket).  Caller unrefs.
 */
JsonObject *outmail_context(const MdIntake *in, const MdTicket *t, const MdQueue *q,
                            const char *language, int tz_minutes, gboolean for_agents);

/*
 * Renders, composes, stores (when t is not NULL) and queues one mail.
 * Returns MD_OK with *withheld_r set (caller frees) when the mail cannot
 * be written (an address GMime cannot write): nothing is queued and the
 * ticket is flagged for an agent.  A mail to a non-agent that the
 * outbound guard refuses (outguard.h) is kept but never sent: stored for
 * agents only, its outbox row 'held' with the reason, the ticket flagged,
 * an event "mail-held" (old value the outbox kind, new the reason), and
 * *withheld_r "held: REASON"; telling an agent is the caller's part
 * (notify.c).  MD_CONFIG for a missing or broken template, MD_TEMPFAIL
 * for the store; *error_r says why.
 */
MdStatus outmail_queue(const MdIntake *in, const MdTicket *t, JsonObject *ctx,
                       const MdOutMail *m, gint64 now, char **withheld_r, char **error_r);

/*
 * The token kind of the Reply-To of agent mail (support+N-agent-ID-MAC@,
 * issued to the agent it goes to, see token.h): with the note address,
 * the only addresses through which mail counts as an agent's, and only
 * from the agent named.  Customers' mail carries the plain reply address.
 */
#define OUTMAIL_AGENT_PURPOSE TOKEN_AGENT

/*
 * Whether a ticket's ETA is stated in mail: never once it is solved or
 * closed, and to the customer not while it waits for them (pending).
 */
gboolean outmail_eta_shown(const char *status, gboolean for_agents);

/* The start of *withheld_r for mail the outbound guard held, before ": REASON". */
#define OUTMAIL_HELD "held"

/* Every template maildesk renders (NULL-terminated); check-config tries them all. */
extern const char *const outmail_templates[];

/* The Message-ID all agent mail of a ticket refers to (without brackets). */
char *outmail_agent_thread_id(const MdConfig *cfg, gint64 ticket);

#endif
