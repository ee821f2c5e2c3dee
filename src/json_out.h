/*
 * json_out.h - the --json shapes of the admin commands (DESIGN.md "The
 * interface scripts rely on").  Keys named there never change.
 */
#ifndef MD_JSON_OUT_H
#define MD_JSON_OUT_H

#include <json-glib/json-glib.h>

#include "store.h"

/* One element of "ticket list --json". */
JsonNode *json_out_ticket_summary(const MdTicket *t);

/* "ticket show --json": the ticket with its messages (MdMessageRow*), oldest first. */
JsonNode *json_out_ticket_full(const MdTicket *t, GPtrArray *messages);

/*
 * Adds "held" to a ticket_full object: the mail the outbound guard kept
 * from its customer (MdHeldMail*), each with id (outbox row), kind, to,
 * created, reason and message (the id of its stored copy, or null).
 */
void json_out_add_held(JsonNode *ticket, GPtrArray *held);

/*
 * Pretty-printed text of node, valid JSON (RFC 8259) whatever its strings
 * hold: see json_out_clean().  Every JSON output of maildesk goes through
 * here.  Caller frees with g_free().
 */
char *json_out_to_string(JsonNode *node);

/*
 * json, text written by json-glib's generator (len bytes, or -1 up to the
 * first NUL), with what that generator lets through raw made safe: every
 * control character but the line feeds of pretty printing (json-glib 1.6
 * writes U+001F raw), DEL, the C1 controls, and U+2028/U+2029 (line ends
 * to JavaScript) become \uXXXX escapes; bytes that are not UTF-8, and NULs, become U+FFFD.
 * Caller frees with g_free().
 */
char *json_out_clean(const char *json, gssize len);

#endif
