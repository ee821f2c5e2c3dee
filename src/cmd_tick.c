/*
 * cmd_tick.c - maildesk tick [--now ISO8601]: runs the SLA clock once
 * (tick.h), then kicks the sender when it queued mail.  Meant for a
 * timer each minute; running it twice at one instant sends nothing twice.
 */
#include "config.h"

#include <stdio.h>
#include <sysexits.h>

#include "clock.h"
#include "commands.h"
#include "log.h"
#include "status.h"
#include "tick.h"

int
cmd_tick(const MdGlobal *g, int argc, char **argv)
{
	g_autofree char *now_text = NULL;
	gboolean quiet = FALSE;
	GOptionEntry entries[] = {
		{ "now", 0, 0, G_OPTION_ARG_STRING, &now_text,
		  "run the clock as at this instant (tests, catching up)", "ISO8601" },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "print nothing when all went well", NULL },
		{ NULL },
	};
	g_autoptr(MdConfig) cfg = NULL;
	g_autofree char *secret_error = NULL, *error = NULL;
	MdTickCounts counts;
	guint queued = 0;
	MdStore *store;
	GBytes *secret;
	MdStatus st;
	gint64 now;

	if (!commands_parse_options("- run the SLA clock once", entries, FALSE, &argc, &argv))
		return EX_USAGE;
	if (!commands_set_now(now_text, FALSE))
		return EX_USAGE;
	now = clock_now();
	if ((cfg = commands_load_config(g, FALSE)) == NULL)
		return EX_CONFIG;
	if ((secret = conf_read_secret(cfg, &secret_error)) == NULL) {
		fprintf(stderr, "maildesk tick: %s\n", secret_error);
		return EX_CONFIG;
	}
	if ((store = commands_open_store(cfg, FALSE, &st)) == NULL) {
		g_bytes_unref(secret);
		return status_exit_code(st);
	}
	{
		MdIntake in = { .cfg = cfg, .store = store, .secret = secret, .queued = &queued };

		st = tick_run(&in, now, &counts, &error);
	}
	store_close(store);
	g_bytes_unref(secret);
	if (st != MD_OK)
		fprintf(stderr, "maildesk tick: %s\n", error ? error : "some tickets were left");
	if (st != MD_OK || !quiet)
		printf("tickets %u, warnings %u, escalations %u, slips %u, reminders %u, closed %u, "
		       "surveys %u, left for the next run %u\n",
		       counts.tickets, counts.warnings, counts.escalations, counts.slips,
		       counts.reminders, counts.closed, counts.surveys, counts.failed);
	if (st == MD_OK && queued > 0 && cfg->send_after_deliver)
		commands_kick_sender(g);
	return status_exit_code(st);
}
