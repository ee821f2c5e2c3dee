/*
 * agentmail.h - mail from an agent to a ticket's signed address (stage
 * "agent commands" and "ticket state change" of the pipeline).
 *
 * intake.c decides that a message is an agent's (From is an agent AND the
 * recipient token verifies for this ticket, AND optionally DKIM); this
 * module reads its commands and new text, checks every command against
 * the config and the agents' loads, and then either refuses the whole
 * mail (the agent is told why, nothing changes, nothing reaches the
 * customer) or applies all of it: each change an event, the reply
 * relayed to the customer, a note passed to the other agents, status
 * notices to the customer, and freed agents handed waiting tickets.
 */
#ifndef MD_AGENTMAIL_H
#define MD_AGENTMAIL_H

#include "conf.h"
#include "intake.h"
#include "message.h"
#include "store.h"

typedef struct MdAgentMail MdAgentMail;

/*
 * Reads msg (parsed from raw/len), sent by author to ticket t through an
 * address of purpose ("reply" or "note"), and checks its commands.  Its
 * text and the files that may reach the customer are chosen part by part
 * (agentparts.h).  MD_OK with *am_r set, or a store failure.
 */
MdStatus agentmail_prepare(const MdIntake *in, const MdMessage *msg, const guint8 *raw, gsize len,
                           const MdTicket *t, const MdAgent *author, const char *purpose,
                           gint64 now, MdAgentMail **am_r);
void agentmail_free(MdAgentMail *am);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MdAgentMail, agentmail_free)

/* messages.kind to store the agent's mail under: reply (text for the
 * customer) or note (a note, a refused mail, or commands alone). */
const char *agentmail_kind(const MdAgentMail *am);

/*
 * Does what the mail says (see above).  raw/len is not read again (the
 * attachments were chosen by agentmail_prepare); kept for the callers.
 * *action_r: agent-reply, agent-note, agent-commands, agent-refused or
 * agent-empty.
 */
MdStatus agentmail_apply(const MdIntake *in, MdAgentMail *am, MdTicket *t, const guint8 *raw,
                         gsize len, gint64 now, const char **action_r, char **error_r);

#endif
