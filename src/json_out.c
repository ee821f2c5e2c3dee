/*
 * json_out.c - tickets as JSON with json-glib.
 */
#include "config.h"

#include "datefmt.h"
#include "json_out.h"

static void
set_string_or_null(JsonObject *o, const char *key, const char *value)
{
	if (value != NULL)
		json_object_set_string_member(o, key, value);
	else
		json_object_set_null_member(o, key);
}

static void
set_time_or_null(JsonObject *o, const char *key, gint64 utc)
{
	g_autofree char *iso = utc > 0 ? datefmt_iso8601(utc) : NULL;

	set_string_or_null(o, key, iso);
}

static JsonObject *
ticket_object(const MdTicket *t)
{
	JsonObject *o = json_object_new();

	json_object_set_int_member(o, "id", t->id);
	json_object_set_string_member(o, "status", t->status);
	json_object_set_string_member(o, "subject", t->subject ? t->subject : "");
	json_object_set_string_member(o, "customer", t->customer_addr);
	set_string_or_null(o, "assignee", t->assignee);
	json_object_set_string_member(o, "priority", t->priority);
	json_object_set_string_member(o, "queue", t->queue);
	set_time_or_null(o, "eta", t->eta);
	set_time_or_null(o, "updated", t->updated);
	return o;
}

JsonNode *
json_out_ticket_summary(const MdTicket *t)
{
	return json_node_init_object(json_node_alloc(), ticket_object(t));
}

JsonNode *
json_out_ticket_full(const MdTicket *t, GPtrArray *messages)
{
	JsonObject *o = ticket_object(t);
	JsonArray *msgs = json_array_new();

	set_string_or_null(o, "customer_name", t->customer_name);
	set_string_or_null(o, "language", t->language);
	set_time_or_null(o, "created", t->created);
	if (t->linked_ticket > 0)
		json_object_set_int_member(o, "linked_ticket", t->linked_ticket);
	else
		json_object_set_null_member(o, "linked_ticket");
	json_object_set_boolean_member(o, "needs_attention", t->needs_attention);

	for (guint i = 0; i < messages->len; i++) {
		const MdMessageRow *r = messages->pdata[i];
		JsonObject *m = json_object_new();

		json_object_set_int_member(m, "id", r->id);
		json_object_set_string_member(m, "direction", r->direction);
		json_object_set_string_member(m, "kind", r->kind);
		json_object_set_string_member(m, "audience", r->audience);
		set_string_or_null(m, "from", r->from_addr);
		set_string_or_null(m, "from_name", r->from_name);
		set_string_or_null(m, "to", r->to_addrs);
		set_string_or_null(m, "cc", r->cc_addrs);
		set_string_or_null(m, "subject", r->subject);
		set_string_or_null(m, "message_id", r->message_id);
		set_time_or_null(m, "date", r->date);
		set_time_or_null(m, "received", r->received);
		set_string_or_null(m, "text", r->text);
		set_string_or_null(m, "parse_error", r->parse_error);
		json_array_add_object_element(msgs, m);
	}
	json_object_set_array_member(o, "messages", msgs);
	return json_node_init_object(json_node_alloc(), o);
}

void
json_out_add_held(JsonNode *ticket, GPtrArray *held)
{
	JsonArray *list = json_array_new();

	for (guint i = 0; i < held->len; i++) {
		const MdHeldMail *h = held->pdata[i];
		JsonObject *o = json_object_new();

		json_object_set_int_member(o, "id", h->id);
		json_object_set_string_member(o, "kind", h->kind);
		json_object_set_string_member(o, "to", h->rcpts);
		set_time_or_null(o, "created", h->created);
		set_string_or_null(o, "reason", h->reason);
		if (h->message_row > 0)
			json_object_set_int_member(o, "message", h->message_row);
		else
			json_object_set_null_member(o, "message");
		json_array_add_object_element(list, o);
	}
	json_object_set_array_member(json_node_get_object(ticket), "held", list);
}

char *
json_out_to_string(JsonNode *node)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();

	json_generator_set_pretty(gen, TRUE);
	json_generator_set_root(gen, node);
	return json_generator_to_data(gen, NULL);
}
