/*
 * token.h - signed ticket addresses: support+<ticket>-<mac>@domain.
 *
 * The mac is HMAC-SHA256 (GLib's GHmac) over the ticket number and a
 * purpose ("reply" when absent from the address, else e.g. "bounce",
 * "csat5", "note-1f0c9a2e": letters and digits, inner dashes allowed)
 * with the site secret, truncated to 16 hex digits.
 * A guessed or altered address never verifies, so it never threads mail
 * into a ticket by itself.  Pure.
 */
#ifndef MD_TOKEN_H
#define MD_TOKEN_H

#include <glib.h>

#define TOKEN_MAC_HEX 16

/*
 * The signed address for ticket and purpose (NULL or "reply" for the
 * plain reply address) built on base_addr (e.g. support@example.com).
 * Caller frees with g_free().
 */
char *token_address(GBytes *secret, const char *base_addr, gint64 ticket, const char *purpose);

/*
 * Checks addr.  Returns TRUE only when it carries a token whose mac is
 * right for the ticket and purpose it names; then *ticket_r is the ticket
 * and *purpose_r the purpose ("reply" when none is written; caller frees
 * with g_free()).  Comparison is constant-time and case-insensitive.
 */
gboolean token_verify(GBytes *secret, const char *addr, gint64 *ticket_r, char **purpose_r);

/* TRUE when addr has a +extension that looks like a token at all. */
gboolean token_present(const char *addr);

/*
 * Agent mail carries two addresses of its ticket: the agent address (its
 * Reply-To) and the note address.  Each is issued to one person: its
 * purpose is the kind followed by that person's id, e.g. "agent-1f0c9a2e"
 * ("support+42-agent-1f0c9a2e-<mac>@example.com"), the id being the first
 * TOKEN_PERSON_ID_HEX hex digits of an HMAC with the site secret over
 * the lower-cased address the mail went to.  The mac covers the id, so a
 * leaked address vouches for that one person's From and nobody else's.
 * The plain kinds ("agent", "note": the form before ids existed) name
 * nobody: mail to them is never an agent's command.
 */
#define TOKEN_AGENT "agent"
#define TOKEN_NOTE "note"
#define TOKEN_PERSON_ID_HEX 8

/* The purpose of kind (TOKEN_AGENT or TOKEN_NOTE) issued to addr.  Caller frees. */
char *token_person_purpose(GBytes *secret, const char *kind, const char *addr);

/*
 * TOKEN_AGENT or TOKEN_NOTE when purpose (as token_verify() gives it) is
 * of that kind, naming a person or not; NULL for any other purpose.
 */
const char *token_agent_kind(const char *purpose);

/* TRUE only when purpose is of an agent kind and was issued to addr (any case). */
gboolean token_purpose_names(GBytes *secret, const char *purpose, const char *addr);

#endif
