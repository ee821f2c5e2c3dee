/*
 * address.h - which addresses maildesk writes mail to, and which are its own.
 *
 * Pure (the config is read, never changed; no store, no I/O).  Every
 * place that chooses a customer, a participant or a recipient asks these
 * two questions, and compose.c writes, and reads back, only addresses that
 * pass address_valid(): so the header a person sees and the envelope the
 * relay gets are decided by one rule (docs/decisions/0014-people-and-addresses.md).
 */
#ifndef MD_ADDRESS_H
#define MD_ADDRESS_H

#include <glib.h>

#include "conf.h"
#include "message.h"

/* An addr-spec longer than this (RFC 5321 4.5.3.1.3 path less brackets) is refused. */
#define ADDRESS_MAX_LEN 254
#define ADDRESS_MAX_LOCAL 64

/*
 * TRUE when addr is a plain addr-spec maildesk will put in a header and an
 * envelope: a dot-atom local part of printable ASCII (no quoted string,
 * so no comma, space, '@', quote or control can hide in it), one '@', and
 * a domain of dot-separated labels of letters, digits and hyphens, at
 * least two labels, the last not all digits, no address literal
 * ([192.0.2.1], nor 192.0.2.1 without brackets).  A non-ASCII
 * domain is allowed when it has an IDNA form (it travels as xn--...); a
 * non-ASCII local part is not (it would need SMTPUTF8, which we do not
 * use).  No display name, no angle brackets, no comment.
 */
gboolean address_valid(const char *addr);

/*
 * TRUE when addr (case-insensitive, any Unicode form of the domain that
 * IDNA maps to the same name, a trailing dot ignored) is one of
 * maildesk's own mailboxes, which must never be a customer, a participant
 * or the recipient of a mail to the customer's side:
 *  - a queue address, or a queue address with a subaddress: the local
 *    part followed by any [maildesk] recipient_delimiter character and
 *    anything (support+12-note-MAC@, support+x@, and every signed form);
 *  - any address at the [maildesk] hostname (our Message-ID domain);
 *  - the [smtp] username and any [mailbox] username that is an address
 *    (the relay's and the fetched mailboxes' own accounts).
 * Agents' addresses are people's, not ours: conf_agent_by_address().
 * A quoted local part is compared unquoted ("support"@ is support@).
 */
gboolean address_is_ours(const MdConfig *cfg, const char *addr);

/*
 * Whom an incoming message is from, for answering: the first of Reply-To,
 * From and the envelope sender that is address_valid() and not
 * address_is_ours() (a web form or shop writes From or Reply-To
 * support@).  The envelope sender is used through *spare (its name
 * NULL), which must live as long as the result.  NULL when none is
 * usable: the mail is stored and flagged, nobody is written to.
 */
const MdAddress *address_customer(const MdConfig *cfg, const MdMessage *msg,
                                  const char *env_sender, MdAddress *spare);

#endif
