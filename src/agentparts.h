/*
 * agentparts.h - which parts of an agent's mail are the agent's own words
 * and files, and so may reach the customer (stage "agent commands" of the
 * pipeline, read by agentmail.c).
 *
 * An agent's mail client puts more into a reply than the agent wrote: the
 * quoted agent mail (which may hold internal notes and the ticket's note
 * and agent addresses) as a trailing text part (Apple Mail), as an
 * attached message/rfc822 (Outlook "attach original"), inside a TNEF
 * winmail.dat (Outlook rich text), or as an HTML twin.  Every part is
 * decided on its own:
 *  - text: every inline text part of the body, in order (an alternative
 *    gives one of its versions: the plain one, else the HTML one as text),
 *    joined; the caller cuts the quote off the whole, so a quote in a
 *    later part goes too;
 *  - passed on: files (a part with a file name) and images, unchanged,
 *    and the files inside a TNEF stream as ordinary MIME parts;
 *  - withheld, with the reason: attached mail of any kind (every message type,
 *    text/rfc822-headers, a saved mail as a file: .eml, Outlook's .msg, or
 *    bytes that are a mail's header), HTML parts, text attachments that hold a quote,
 *    unnamed parts that are not images, encrypted parts and opaque S/MIME
 *    mail, TNEF bodies and
 *    the TNEF attachments that are messages or objects, a TNEF stream that
 *    cannot be read, and any part holding our agent-mail marker or a
 *    ticket's note or agent address (in 8-bit or UTF-16 text).
 * It never writes or logs.
 */
#ifndef MD_AGENTPARTS_H
#define MD_AGENTPARTS_H

#include <glib.h>

#include "message.h"

typedef struct {
	char *text;            /* UTF-8, LF line ends, quotes still in; never NULL */
	GPtrArray *attachments; /* GBytes*: MIME entities for the customer */
	GPtrArray *withheld;    /* char*: "name (type): reason", for the ticket's events */
} MdAgentParts;

/*
 * Reads raw/len, the agent's message that parsed into msg.  A message the
 * parse stage could not read whole (parse_failed or parse_error) passes
 * nothing on and keeps msg->text as its text.  max_depth and max_parts
 * bound the walk (0: parse.c's defaults).  Caller frees with
 * agentparts_free().
 */
MdAgentParts *agentparts_read(const guint8 *raw, gsize len, const MdMessage *msg, guint max_depth,
                              guint max_parts);
void agentparts_free(MdAgentParts *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MdAgentParts, agentparts_free)

/*
 * TRUE when text holds our agent-mail marker (the "##- ... -##" line of
 * agent mail) or a signed note or agent address ("+N-note-MAC@",
 * "+N-agent-MAC@"): text taken from our mail to agents.
 */
gboolean agentparts_has_agent_mark(const char *text, gsize len);

#endif
