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

/* Pretty-printed text of node; caller frees with g_free(). */
char *json_out_to_string(JsonNode *node);

#endif
