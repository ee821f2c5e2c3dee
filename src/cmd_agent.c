/*
 * cmd_agent.c - maildesk agent list [--json]: every agent of the config
 * with their open tickets and the room left under their max_open.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"
#include "json_out.h"

static JsonObject *
agent_json(const MdAgent *a, GArray *ids)
{
	JsonObject *o = json_object_new();
	JsonArray *queues = json_array_new();
	JsonArray *tickets = json_array_new();

	json_object_set_string_member(o, "name", a->name);
	json_object_set_string_member(o, "address", a->address);
	json_object_set_string_member(o, "display_name", a->display_name);
	for (guint i = 0; i < a->queues->len; i++)
		json_array_add_string_element(queues, a->queues->pdata[i]);
	json_object_set_array_member(o, "queues", queues);
	json_object_set_boolean_member(o, "lead", a->lead);
	json_object_set_int_member(o, "max_open", a->max_open);
	json_object_set_int_member(o, "open", ids->len);
	json_object_set_int_member(o, "capacity", MAX(a->max_open - (int)ids->len, 0));
	for (guint i = 0; i < ids->len; i++)
		json_array_add_int_element(tickets, g_array_index(ids, gint64, i));
	json_object_set_array_member(o, "tickets", tickets);
	return o;
}

static char *
ids_text(GArray *ids)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < ids->len; i++)
		g_string_append_printf(out, "%s%" G_GINT64_FORMAT, i ? "," : "",
		                       g_array_index(ids, gint64, i));
	return g_string_free(out, FALSE);
}

static int
agent_list(const MdConfig *cfg, MdStore *store, gboolean json)
{
	JsonArray *arr = json_array_new();
	g_autoptr(JsonNode) root = json_node_init_array(json_node_alloc(), arr);

	json_array_unref(arr);
	if (!json)
		printf("%-12s  %-30s  %-16s  %4s  %4s  %4s  %s\n", "AGENT", "ADDRESS", "QUEUES", "OPEN",
		       "MAX", "ROOM", "TICKETS");
	for (guint i = 0; i < cfg->agents->len; i++) {
		const MdAgent *a = cfg->agents->pdata[i];
		g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
		MdStatus st = store_agent_open_tickets(store, a->address, ids);

		if (st != MD_OK) {
			fprintf(stderr, "maildesk: %s\n", store_error(store));
			return status_exit_code(st);
		}
		if (json) {
			json_array_add_object_element(arr, agent_json(a, ids));
		} else {
			g_autofree char *queues = NULL;
			g_autofree char *list = ids_text(ids);

			g_ptr_array_add(a->queues, NULL);
			queues = g_strjoinv(",", (char **)a->queues->pdata);
			g_ptr_array_remove_index(a->queues, a->queues->len - 1);
			printf("%-12s  %-30s  %-16s  %4u  %4d  %4d  %s%s\n", a->name, a->address, queues,
			       ids->len, a->max_open, MAX(a->max_open - (int)ids->len, 0),
			       *list ? list : "-", a->lead ? "  (lead)" : "");
		}
	}
	if (json) {
		g_autofree char *text = json_out_to_string(root);

		printf("%s\n", text);
	}
	return EX_OK;
}

int
cmd_agent(const MdGlobal *g, int argc, char **argv)
{
	gboolean json = FALSE;
	GOptionEntry entries[] = {
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL },
		{ NULL },
	};
	g_autoptr(MdConfig) cfg = NULL;
	MdStore *store;
	MdStatus st;
	int code;

	if (!commands_parse_options("list - agents, their open tickets and room", entries, FALSE,
	                            &argc, &argv))
		return EX_USAGE;
	if (argc != 2 || strcmp(argv[1], "list") != 0) {
		fprintf(stderr, "usage: maildesk agent list [--json]\n");
		return EX_USAGE;
	}
	if ((cfg = commands_load_config(g, FALSE)) == NULL)
		return EX_CONFIG;
	if ((store = commands_open_store(cfg, FALSE, &st)) == NULL)
		return status_exit_code(st);
	code = agent_list(cfg, store, json);
	store_close(store);
	return code;
}
