/*
 * cmd_common.c - start-up steps shared by the commands.
 */
#include "config.h"

#include <stdio.h>

#include "commands.h"
#include "log.h"

MdConfig *
commands_load_config(const MdGlobal *g, gboolean quiet)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	MdConfig *cfg = conf_load(g->config_path, problems);

	for (guint i = 0; i < problems->len; i++) {
		if (quiet)
			log_error("%s", (char *)problems->pdata[i]);
		else
			fprintf(stderr, "maildesk: %s\n", (char *)problems->pdata[i]);
	}
	if (problems->len > 0) {
		conf_free(cfg);
		return NULL;
	}
	return cfg;
}

MdStore *
commands_open_store(const MdConfig *cfg, gboolean quiet, MdStatus *status_r)
{
	g_autofree char *error = NULL;
	MdStore *store = store_open(cfg->database, cfg->busy_timeout_ms, FALSE, status_r, &error);

	if (store == NULL) {
		if (quiet)
			log_error("%s", error);
		else
			fprintf(stderr, "maildesk: %s\n", error);
		return NULL;
	}
	*status_r = store_check_schema(store);
	if (*status_r != MD_OK) {
		if (quiet)
			log_error("database %s: %s", cfg->database, store_error(store));
		else
			fprintf(stderr, "maildesk: database %s: %s\n", cfg->database, store_error(store));
		store_close(store);
		return NULL;
	}
	return store;
}

gboolean
commands_parse_options(const char *usage, GOptionEntry *entries, gboolean quiet, int *argc,
                       char ***argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new(usage);
	g_autoptr(GError) error = NULL;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, argc, argv, &error)) {
		if (quiet)
			log_error("%s", error->message);
		else
			fprintf(stderr, "maildesk: %s\n", error->message);
		return FALSE;
	}
	return TRUE;
}
