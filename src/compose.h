/*
 * compose.h - builds an outgoing RFC 5322 message with GMime.
 *
 * Stage "outbox": takes a rendered template and the threading headers and
 * produces the exact bytes the outbox stores and send.c submits.  Every
 * header value built from customer input is RFC 2047 encoded by GMime and
 * stripped of CR/LF first, so no input can add a header.  Pure: no I/O.
 */
#ifndef MD_COMPOSE_H
#define MD_COMPOSE_H

#include "template.h"

typedef struct {
	const char *from_name;   /* display name, e.g. "Support" */
	const char *from_addr;   /* e.g. support@example.com */
	const char *to_name;     /* may be NULL */
	const char *to_addr;
	const char *reply_to;    /* signed ticket address, or NULL */
	const char *message_id;  /* without brackets */
	const char *in_reply_to; /* without brackets, or NULL */
	const char *const *references; /* without brackets, NULL-terminated, or NULL */
	gint64 date;             /* UTC seconds */
	int tz_minutes;          /* offset for the Date header */
	gboolean auto_replied;   /* Auto-Submitted: auto-replied + suppress */
	gboolean auto_generated; /* Auto-Submitted: auto-generated + suppress */
	const char *const *cc;   /* Cc addresses, NULL-terminated, or NULL */
	GPtrArray *attachments;  /* GBytes*: MIME entities to attach, or NULL */
	const char *language;    /* Content-Language, or NULL */
	const char *ticket_tag;  /* value for X-Maildesk-Ticket, or NULL */
	gboolean to_agents;      /* agent mail: COMPOSE_AGENT_MARKER is set */
} MdComposeHeaders;

/*
 * The header every mail to agents carries ("X-Maildesk-Audience: agents"):
 * a customer mail holding it (an agent's client attached or forwarded our
 * agent mail) is refused by the outbound guard (outguard.h).
 */
#define COMPOSE_AGENT_MARKER "X-Maildesk-Audience"
#define COMPOSE_AGENT_MARKER_VALUE "agents"

/*
 * Builds the message: headers from h, then every header of the rendered
 * template (Subject and any others, e.g. X-Priority) except ones that would
 * override From, To, Cc, Bcc, Reply-To, Message-ID, In-Reply-To,
 * References, Date, MIME-Version, Sender, Return-Path, Received,
 * Auto-Submitted, X-Auto-Response-Suppress, Content-*, Resent-* or
 * X-Maildesk-* (dropped silently); Subject is the template's first, or
 * empty.  Body text/plain UTF-8 (quoted-printable when not plain ASCII or
 * a line is over 998 octets, else 7bit), or multipart/alternative when r
 * has HTML.  Lines end in CRLF; the bytes are 7-bit clean.
 *
 * Attachments (MIME entities as the sender wrote them, re-parsed by GMime)
 * make the message multipart/mixed after the body; an entity GMime cannot
 * read is left out.  A Cc address that is not a plain addr-spec is left
 * out as well.
 *
 * Invalid In-Reply-To/References ids (customer input) are left out;
 * References keeps the first id and the latest 19.  Returns NULL when
 * from_addr, to_addr, reply_to (if given) are not plain addr-specs
 * (local@domain, ASCII local part, no quoting, no display name) or
 * message_id is not a valid id: the caller logs and sends nothing.
 * GMime must be initialised (parse_init() or g_mime_init()).
 * Returns the bytes (caller frees with g_byte_array_unref).
 */
GByteArray *compose_message(const MdRendered *r, const MdComposeHeaders *h);

/*
 * The envelope recipients of a composed message, read back from its own
 * header by GMime: every mailbox of its To and Cc headers that passes
 * address_valid(), in IDNA (ASCII) form, each once (case-insensitive),
 * in header order.  Nothing else can be an envelope recipient: an
 * address that is not shown in To or Cc is never one, and one that the
 * header shows in a form another parser could split differently is
 * none.  Reads the header block only.  NULL-terminated, possibly empty;
 * caller frees with g_strfreev().  GMime must be initialised.
 */
char **compose_recipients(const guint8 *raw, gsize len);

#endif
