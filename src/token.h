/*
 * token.h - signed ticket addresses: support+<ticket>-<mac>@domain.
 *
 * The mac is HMAC-SHA256 (GLib's GHmac) over the ticket number and a
 * purpose ("reply" when absent from the address, else e.g. "note",
 * "bounce", "csat5") with the site secret, truncated to 16 hex digits.
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

#endif
