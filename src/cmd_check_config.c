/*
 * cmd_check_config.c - maildesk check-config: every problem of the
 * configuration, each with file, line and key; exit 0 only when none.
 */
#include "config.h"

#include <stdio.h>
#include <sysexits.h>

#include "commands.h"
#include "template.h"

int
cmd_check_config(const MdGlobal *g, int argc, char **argv)
{
	GOptionEntry entries[] = { { NULL } };
	g_autoptr(MdConfig) cfg = NULL;
	g_autofree char *error = NULL;
	GBytes *secret;
	int problems = 0;

	if (!commands_parse_options("- validate the configuration", entries, FALSE, &argc, &argv))
		return EX_USAGE;
	if ((cfg = commands_load_config(g, FALSE)) == NULL)
		return EX_CONFIG;
	secret = conf_read_secret(cfg, &error);
	if (secret == NULL) {
		fprintf(stderr, "maildesk: %s:0: [maildesk] secret_file: %s (maildesk init creates it)\n",
		        cfg->path, error);
		problems++;
	} else {
		g_bytes_unref(secret);
	}
	{
		static const char *const langs[] = { "en", "ru", "lv" };

		for (unsigned i = 0; i < G_N_ELEMENTS(langs); i++) {
			g_autofree char *ack = g_build_filename(cfg->templates, langs[i], "ack", NULL);
			g_autoptr(JsonObject) ctx = json_object_new();
			g_autoptr(MdRendered) r = NULL;
			g_autofree char *terror = NULL;

			if (!g_file_test(ack, G_FILE_TEST_IS_REGULAR)) {
				fprintf(stderr, "maildesk: %s:0: [maildesk] templates: %s is missing\n",
				        cfg->path, ack);
				problems++;
				continue;
			}
			/* a template that does not render would fail every delivery */
			r = template_render_file(cfg->templates, langs[i], langs[i], "ack", ctx, &terror);
			if (r == NULL) {
				fprintf(stderr, "maildesk: %s\n", terror);
				problems++;
			}
		}
	}
	if (problems > 0)
		return EX_CONFIG;
	printf("%s: configuration OK (%u queues, %u agents)\n", cfg->path, cfg->queues->len,
	       cfg->agents->len);
	return EX_OK;
}
