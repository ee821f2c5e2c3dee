/*
 * cmd_ticket.c - maildesk ticket list [--json] [--status S]
 *                maildesk ticket show ID [--json]
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"
#include "datefmt.h"
#include "json_out.h"

static const char *const statuses[] = { "new", "open", "pending", "on-hold", "solved", "closed", NULL };

static void
ticket_array_free(GArray *a)
{
	for (guint i = 0; i < a->len; i++)
		md_ticket_clear(&g_array_index(a, MdTicket, i));
	g_array_unref(a);
}

static int
ticket_list(MdStore *store, const char *status, gboolean json)
{
	GArray *tickets = g_array_new(FALSE, TRUE, sizeof(MdTicket));
	MdStatus st = store_ticket_list(store, status, tickets);

	if (st != MD_OK) {
		fprintf(stderr, "maildesk: %s\n", store_error(store));
		ticket_array_free(tickets);
		return status_exit_code(st);
	}
	if (json) {
		JsonArray *arr = json_array_new();
		g_autoptr(JsonNode) root = json_node_init_array(json_node_alloc(), arr);
		g_autofree char *text = NULL;

		for (guint i = 0; i < tickets->len; i++)
			json_array_add_element(arr, json_out_ticket_summary(&g_array_index(tickets, MdTicket, i)));
		json_array_unref(arr);
		text = json_out_to_string(root);
		printf("%s\n", text);
	} else {
		printf("%6s  %-8s  %-8s  %-30s  %s\n", "ID", "STATUS", "QUEUE", "CUSTOMER", "SUBJECT");
		for (guint i = 0; i < tickets->len; i++) {
			const MdTicket *t = &g_array_index(tickets, MdTicket, i);

			printf("%6" G_GINT64_FORMAT "  %-8s  %-8s  %-30s  %s%s\n", t->id, t->status, t->queue,
			       t->customer_addr, t->subject, t->needs_attention ? "  [needs attention]" : "");
		}
	}
	ticket_array_free(tickets);
	return EX_OK;
}

static int
ticket_show(MdStore *store, const char *id_text, gboolean json)
{
	g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func((GDestroyNotify)md_message_row_free);
	g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func((GDestroyNotify)md_held_mail_free);
	MdTicket t = { 0 };
	gboolean found = FALSE;
	gint64 id;
	char *end;
	MdStatus st;

	id = g_ascii_strtoll(id_text, &end, 10);
	if (*end != '\0' || id <= 0) {
		fprintf(stderr, "maildesk: \"%s\" is not a ticket number\n", id_text);
		return EX_USAGE;
	}
	if ((st = store_ticket_get(store, id, &t, &found)) != MD_OK ||
	    (found && (st = store_ticket_messages(store, id, msgs)) != MD_OK) ||
	    (found && (st = store_outbox_held(store, id, held)) != MD_OK)) {
		fprintf(stderr, "maildesk: %s\n", store_error(store));
		md_ticket_clear(&t);
		return status_exit_code(st);
	}
	if (!found) {
		fprintf(stderr, "maildesk: no ticket %" G_GINT64_FORMAT "\n", id);
		return status_exit_code(MD_NOTFOUND);
	}
	if (json) {
		g_autoptr(JsonNode) root = json_out_ticket_full(&t, msgs);
		g_autofree char *text = NULL;

		json_out_add_held(root, held);
		text = json_out_to_string(root);

		printf("%s\n", text);
	} else {
		g_autofree char *eta = t.eta ? datefmt_iso8601(t.eta) : g_strdup("-");

		printf("Ticket %" G_GINT64_FORMAT ": %s\nStatus: %s  Priority: %s  Queue: %s\n"
		       "Customer: %s\nAssignee: %s\nETA: %s\n",
		       t.id, t.subject, t.status, t.priority, t.queue, t.customer_addr,
		       t.assignee ? t.assignee : "-", eta);
		if (t.linked_ticket)
			printf("Follows ticket: %" G_GINT64_FORMAT "\n", t.linked_ticket);
		for (guint i = 0; i < held->len; i++) {
			const MdHeldMail *h = held->pdata[i];
			g_autofree char *when = datefmt_iso8601(h->created);

			printf("Held: mail %" G_GINT64_FORMAT " (%s to %s, %s), not sent: %s\n", h->id,
			       h->kind, h->rcpts, when, h->reason ? h->reason : "?");
		}
		for (guint i = 0; i < msgs->len; i++) {
			const MdMessageRow *r = msgs->pdata[i];
			g_autofree char *when = datefmt_iso8601(r->received);

			printf("\n--- %s %s, %s, from %s\nSubject: %s\n\n%s\n", r->direction, r->kind, when,
			       r->from_addr ? r->from_addr : "?", r->subject ? r->subject : "",
			       r->text ? r->text : "");
		}
	}
	md_ticket_clear(&t);
	return EX_OK;
}

int
cmd_ticket(const MdGlobal *g, int argc, char **argv)
{
	gboolean json = FALSE;
	char *status = NULL;
	GOptionEntry entries[] = {
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL },
		{ "status", 0, 0, G_OPTION_ARG_STRING, &status, "only tickets in status S", "S" },
		{ NULL },
	};
	g_autoptr(MdConfig) cfg = NULL;
	MdStore *store;
	MdStatus st;
	int code;

	if (!commands_parse_options("list | show ID - list or show tickets", entries, FALSE, &argc, &argv))
		return EX_USAGE;
	if (argc < 2 || (strcmp(argv[1], "list") == 0 && argc != 2) ||
	    (strcmp(argv[1], "show") == 0 && argc != 3) ||
	    (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "show") != 0)) {
		fprintf(stderr, "usage: maildesk ticket list [--json] [--status S]\n"
		                "       maildesk ticket show ID [--json]\n");
		g_free(status);
		return EX_USAGE;
	}
	if (status != NULL && !g_strv_contains(statuses, status)) {
		fprintf(stderr, "maildesk: unknown status \"%s\"\n", status);
		g_free(status);
		return EX_USAGE;
	}
	if ((cfg = commands_load_config(g, FALSE)) == NULL) {
		g_free(status);
		return EX_CONFIG;
	}
	if ((store = commands_open_store(cfg, FALSE, &st)) == NULL) {
		g_free(status);
		return status_exit_code(st);
	}
	if (strcmp(argv[1], "list") == 0)
		code = ticket_list(store, status, json);
	else
		code = ticket_show(store, argv[2], json);
	store_close(store);
	g_free(status);
	return code;
}
