/*
 * json_out.c - tickets as JSON with json-glib, and the one exit every JSON
 * text of maildesk takes (json_out_to_string), which makes it valid for
 * any stored text.
 */
#include "config.h"

#include <string.h>

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
json_out_clean(const char *json, gssize len)
{
	g_autofree char *valid = NULL;
	GString *out;

	if (len < 0)
		len = (gssize)strlen(json);
	/* json-glib copies bytes it does not know as they are; every byte it
	 * writes itself is ASCII, so a replacement never eats a quote */
	valid = g_utf8_make_valid(json, len);
	out = g_string_sized_new(strlen(valid) + 16);
	for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		/* outside strings the generator writes no control character but
		 * the line feed of pretty printing, and inside them it escapes
		 * every line feed: so what is left raw lies inside a string.  C1
		 * controls (NEL among them) are valid JSON but line ends or
		 * terminal commands to some readers: escaped too */
		if ((c < 0x20 && c != '\n') || (c >= 0x7f && c <= 0x9f) || c == 0x2028 ||
		    c == 0x2029)
			g_string_append_printf(out, "\\u%04x", c);
		else
			g_string_append_len(out, p, g_utf8_next_char(p) - p);
	}
	return g_string_free(out, FALSE);
}

char *
json_out_to_string(JsonNode *node)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autofree char *text = NULL;
	gsize len = 0;

	json_generator_set_pretty(gen, TRUE);
	json_generator_set_root(gen, node);
	text = json_generator_to_data(gen, &len);
	return json_out_clean(text, (gssize)len);
}
